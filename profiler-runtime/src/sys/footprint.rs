//! What the system allocator itself holds (its footprint), for the heap-fragmentation samples:
//! glibc's `mallinfo2` where the C library has it (looked up at run time, so the binary still
//! runs on a C library without it).
//!
//! `mallinfo2` walks the allocator's arenas under their locks: the monitor calls it once per
//! sample, never a profiled call.

/// Bytes the allocator holds from the system: its arenas plus its mmapped chunks. `None` where
/// unknown (not glibc, or a glibc older than 2.33).
pub fn allocator_footprint_bytes() -> Option<u64> {
    imp::footprint()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::sync::OnceLock;

    type Mallinfo2 = unsafe extern "C" fn() -> libc::mallinfo2;

    fn mallinfo2() -> Option<Mallinfo2> {
        static F: OnceLock<Option<Mallinfo2>> = OnceLock::new();
        *F.get_or_init(|| {
            // SAFETY: a symbol lookup in the already loaded C library; the name is
            // NUL-terminated.
            let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"mallinfo2".as_ptr()) };
            // SAFETY: glibc's `mallinfo2` has exactly this signature (glibc >= 2.33).
            (!p.is_null())
                .then(|| unsafe { std::mem::transmute::<*mut libc::c_void, Mallinfo2>(p) })
        })
    }

    pub(super) fn footprint() -> Option<u64> {
        let f = mallinfo2()?;
        // SAFETY: `mallinfo2` takes no arguments and only reads the allocator's state.
        let m = unsafe { f() };
        (m.arena as u64).checked_add(m.hblkhd as u64)
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn footprint() -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_reports_a_footprint_that_grows_with_a_large_allocation() {
        let Some(before) = super::allocator_footprint_bytes() else {
            eprintln!("skipped: this glibc has no mallinfo2");
            return;
        };
        let v = vec![1u8; 64 << 20];
        let during = super::allocator_footprint_bytes().unwrap_or(0);
        // Other tests of this binary allocate and free at the same time, so the footprint
        // around the block may shrink meanwhile; the block itself is always in it.
        assert!(during >= 64 << 20, "{before} -> {during}");
        drop(v);
    }
}

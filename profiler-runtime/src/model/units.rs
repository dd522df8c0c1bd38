//! Human-readable units for durations, sizes and energies, shared by every renderer.

/// Formats ns as a short human duration (`812 ns`, `3.40 µs`, `12.1 ms`, `2.05 s`).
pub fn fmt_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Formats bytes as a short human size.
pub fn fmt_bytes(b: f64) -> String {
    const K: f64 = 1024.0;
    if b.abs() < K {
        format!("{b:.0} B")
    } else if b.abs() < K * K {
        format!("{:.1} KiB", b / K)
    } else if b.abs() < K * K * K {
        format!("{:.1} MiB", b / (K * K))
    } else {
        format!("{:.2} GiB", b / (K * K * K))
    }
}

/// Formats picojoules with a readable unit.
pub fn fmt_pj(pj: f64) -> String {
    // A sum of nothing can be -0.0: print it as 0.
    let pj = if pj == 0.0 { 0.0 } else { pj };
    let a = pj.abs();
    if a < 1e3 {
        format!("{pj:.1} pJ")
    } else if a < 1e6 {
        format!("{:.2} nJ", pj / 1e3)
    } else if a < 1e9 {
        format!("{:.2} µJ", pj / 1e6)
    } else {
        format!("{:.2} mJ", pj / 1e9)
    }
}

//! Write-verify of many devices in lockstep.
//!
//! The model of one device is [`DeviceParams::program_device`]: a first pulse with error
//! `prog_sigma(target) z`, then corrective pulses `e <- sqrt((e s)^2 + f^2) z` while the error
//! exceeds the tolerance and pulses remain. Each device is a chain of dependent draws (a hash,
//! a table look-up, a square root), so programming devices one after another waits on that
//! chain's latency. Here a block of devices advances pulse by pulse together: every round
//! updates each device still outside tolerance and compacts the list of those left, so the
//! chains of different devices overlap on the CPU. Each device still draws from its own
//! generator in the same order, so every (conductance, pulses) is exactly `program_device`'s.
//!
//! On x86-64 CPUs with AVX2 the rounds run four devices per instruction ([`avx2`]); the
//! portable kernel here is the reference it is tested against.

#[cfg(target_arch = "x86_64")]
mod avx2;

use crate::device::DeviceParams;
use crate::rng::DeviceRng;
use crate::ziggurat::standard_normal;

/// Devices advanced together. Large enough that the last rounds, when few devices remain,
/// still overlap several chains; small enough that a block's state stays in L1.
const BLOCK: usize = 256;

/// Write-verify programming of a batch of devices of one type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteVerify<'a> {
    device: &'a DeviceParams,
    /// Variance of a corrective pulse's noise floor, uS^2.
    floor2: f64,
}

impl<'a> WriteVerify<'a> {
    /// Write-verify with `device`'s parameters.
    pub(crate) fn new(device: &'a DeviceParams) -> Self {
        Self {
            device,
            floor2: device.verify_floor_sigma_us * device.verify_floor_sigma_us,
        }
    }

    /// Programs device `first + k` of the stream `key` (generator `DeviceRng::new(key, first +
    /// k)`) to `targets[k]` uS, writing its conductance to `g[k]` and its pulse count to
    /// `pulses[k]`: exactly what [`DeviceParams::program_device`] returns for that device.
    ///
    /// Programs as many devices as the shortest of the three slices holds; the other entries
    /// are left alone.
    pub(crate) fn program(
        &self,
        key: u64,
        first: u64,
        targets: &[f64],
        g: &mut [f64],
        pulses: &mut [u32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: the CPU supports AVX2 and POPCNT, checked just above.
            unsafe { avx2::program(self, key, first, targets, g, pulses) };
            return;
        }
        self.program_portable(key, first, targets, g, pulses);
    }

    /// [`Self::program`] without special CPU features.
    fn program_portable(
        &self,
        key: u64,
        first: u64,
        targets: &[f64],
        g: &mut [f64],
        pulses: &mut [u32],
    ) {
        let blocks = targets
            .chunks(BLOCK)
            .zip(g.chunks_mut(BLOCK))
            .zip(pulses.chunks_mut(BLOCK));
        for (b, ((t, g), p)) in blocks.enumerate() {
            self.program_block(key, first.wrapping_add((b * BLOCK) as u64), t, g, p);
        }
    }

    /// [`Self::program_portable`] for at most [`BLOCK`] devices.
    fn program_block(
        &self,
        key: u64,
        first: u64,
        targets: &[f64],
        g: &mut [f64],
        pulses: &mut [u32],
    ) {
        let d = self.device;
        let n = targets.len().min(g.len()).min(pulses.len()).min(BLOCK);
        let (targets, g, pulses) = (&targets[..n], &mut g[..n], &mut pulses[..n]);
        let (tol, max_pulses, step) = (
            d.write_verify_tol_us,
            d.max_write_pulses,
            d.verify_step_sigma,
        );
        let mut rngs: [DeviceRng; BLOCK] =
            std::array::from_fn(|k| DeviceRng::new(key, first.wrapping_add(k as u64)));
        let mut e = [0.0f64; BLOCK];
        // Indices (into the block) of the devices still outside tolerance, compacted each round.
        let mut live = [0u16; BLOCK];
        let mut n_live = 0usize;
        // Pulse 1: the coarse write.
        for (k, &target) in targets.iter().enumerate() {
            let sigma = d.prog_sigma_us(target);
            let ek = if sigma > 0.0 {
                sigma * standard_normal(&mut rngs[k])
            } else {
                0.0
            };
            e[k] = ek;
            live[n_live] = k as u16;
            n_live += usize::from(ek.abs() > tol && 1 < max_pulses);
        }
        pulses.fill(1);
        // Corrective pulses, one round per pulse number.
        let mut pulse = 1u32;
        while n_live > 0 {
            pulse += 1;
            let mut kept = 0usize;
            for a in 0..n_live {
                let k = usize::from(live[a]);
                // e s z1 + f z2 with independent standard normals is N(0, (e s)^2 + f^2).
                let s = e[k] * step;
                let z = standard_normal(&mut rngs[k]);
                let ek = (s * s + self.floor2).sqrt() * z;
                e[k] = ek;
                pulses[k] = pulse;
                live[kept] = k as u16;
                kept += usize::from(ek.abs() > tol && pulse < max_pulses);
            }
            n_live = kept;
        }
        for ((gk, &target), &ek) in g.iter_mut().zip(targets).zip(&e) {
            *gk = (target + ek).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (conductance, pulses) of each device, batched.
    fn batched(p: &DeviceParams, key: u64, first: u64, targets: &[f64]) -> Vec<(f64, u32)> {
        let mut g = vec![f64::NAN; targets.len()];
        let mut pulses = vec![0; targets.len()];
        WriteVerify::new(p).program(key, first, targets, &mut g, &mut pulses);
        g.into_iter().zip(pulses).collect()
    }

    /// Targets on every level, both devices of pairs, and a few off-grid and zero targets.
    fn mixed_targets(p: &DeviceParams, n: usize) -> Vec<f64> {
        (0..n)
            .map(|k| match k % 11 {
                10 => 0.0,
                9 => 17.3 + k as f64 * 1e-3,
                l if l % 2 == 1 => p.g_min_us,
                l => p.g_min_us + (l as f64 / 2.0 + (k % 4) as f64) * p.level_step_us(),
            })
            .collect()
    }

    fn assert_matches_single_devices(p: &DeviceParams, key: u64, first: u64, n: usize) {
        let targets = mixed_targets(p, n);
        let got = batched(p, key, first, &targets);
        for (k, (&t, &(g, pulses))) in targets.iter().zip(&got).enumerate() {
            let want = p.program_device(t, &mut DeviceRng::new(key, first + k as u64));
            assert_eq!(
                (g.to_bits(), pulses),
                (want.0.to_bits(), want.1),
                "device {k}, target {t}"
            );
        }
    }

    #[test]
    fn batched_programming_matches_single_devices() {
        let p = DeviceParams::taox_3bit();
        // Several blocks and a partial one; a start that is not block-aligned.
        assert_matches_single_devices(&p, 9, 0, 3 * BLOCK + 37);
        assert_matches_single_devices(&p, 0xDEAD_BEEF, 12_345, 700);
    }

    #[test]
    fn batched_programming_matches_at_the_edges() {
        // The ideal device: sigma 0, no draw, one pulse, exact.
        let ideal = DeviceParams::ideal();
        assert_matches_single_devices(&ideal, 4, 0, 300);
        assert!(batched(&ideal, 4, 0, &[10.35, 0.5])
            .iter()
            .zip([10.35, 0.5])
            .all(|(&(g, n), t)| g == t && n == 1));
        // One pulse allowed: no corrective pulses at all.
        let one = DeviceParams {
            max_write_pulses: 1,
            ..DeviceParams::taox_3bit()
        };
        assert_matches_single_devices(&one, 5, 7, 300);
        // A tolerance no device reaches: every device stops at the pulse limit.
        let capped = DeviceParams {
            max_write_pulses: 3,
            write_verify_tol_us: 0.0,
            verify_floor_sigma_us: 1.0,
            ..DeviceParams::taox_3bit()
        };
        assert_matches_single_devices(&capped, 6, 0, 300);
        assert!(batched(&capped, 6, 0, &[20.0; 50])
            .iter()
            .all(|&(_, n)| n == 3));
        // Slow convergence: many devices run to the default limit of 20 pulses.
        let slow = DeviceParams {
            verify_step_sigma: 0.99,
            write_verify_tol_us: 0.02,
            ..DeviceParams::taox_3bit()
        };
        assert_matches_single_devices(&slow, 8, 3, 400);
        let hit_limit = batched(&slow, 8, 3, &[20.0; 400])
            .iter()
            .filter(|&&(_, n)| n == slow.max_write_pulses)
            .count();
        assert!(hit_limit > 10, "{hit_limit} devices at the limit");
    }
}

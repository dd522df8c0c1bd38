//! Zero-forcing MIMO detection with HP-INV, the application of Zuo et al. 2025: the bit error
//! rate after each refinement iteration beside FP32 digital ZF.
//!
//! A channel H (`receive x transmit`, entries CN(0, 1), Rayleigh) carries Gray-mapped QPSK or
//! 16-QAM symbols of unit average energy; y = H s + n with n ~ CN(0, 1 / SNR). ZF solves the
//! normal equations (H^H H) s = H^H y in their real form: G = Hr^T Hr, Hr = [Re H, -Im H;
//! Im H, Re H], of order 2 `transmit`. HP-INV solves it on the simulated arrays; the FP32
//! baseline solves the same equations in f32 by LU.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use crate::error::SimError;
use crate::solver::{hp_inv_observed, HpInvConfig};

/// The symbol alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modulation {
    /// 2 bits per symbol, Gray.
    Qpsk,
    /// 4 bits per symbol, Gray per axis.
    Qam16,
}

impl Modulation {
    /// Bits per complex symbol.
    pub fn bits_per_symbol(self) -> usize {
        match self {
            Modulation::Qpsk => 2,
            Modulation::Qam16 => 4,
        }
    }

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Modulation::Qpsk => "QPSK",
            Modulation::Qam16 => "16-QAM",
        }
    }

    /// Bits per axis.
    fn axis_bits(self) -> usize {
        self.bits_per_symbol() / 2
    }

    /// The level of one axis for its Gray bits, at unit average symbol energy.
    fn level(self, bits: &[bool]) -> f64 {
        match self {
            Modulation::Qpsk => {
                if bits[0] {
                    -1.0 / 2f64.sqrt()
                } else {
                    1.0 / 2f64.sqrt()
                }
            }
            Modulation::Qam16 => {
                // Gray: 00 -> -3, 01 -> -1, 11 -> 1, 10 -> 3; average energy 10.
                let v = match (bits[0], bits[1]) {
                    (false, false) => -3.0,
                    (false, true) => -1.0,
                    (true, true) => 1.0,
                    (true, false) => 3.0,
                };
                v / 10f64.sqrt()
            }
        }
    }

    /// The Gray bits of the level nearest `v` on one axis.
    fn decide(self, v: f64, out: &mut Vec<bool>) {
        match self {
            Modulation::Qpsk => out.push(v < 0.0),
            Modulation::Qam16 => {
                let u = v * 10f64.sqrt();
                let (b0, b1) = if u < -2.0 {
                    (false, false)
                } else if u < 0.0 {
                    (false, true)
                } else if u < 2.0 {
                    (true, true)
                } else {
                    (true, false)
                };
                out.push(b0);
                out.push(b1);
            }
        }
    }
}

/// Bit errors out of bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BerCount {
    /// Bits in error.
    pub errors: u64,
    /// Bits sent.
    pub bits: u64,
}

impl BerCount {
    /// errors / bits (0 for no bits).
    pub fn rate(&self) -> f64 {
        if self.bits == 0 {
            0.0
        } else {
            self.errors as f64 / self.bits as f64
        }
    }

    /// The Wilson score interval at `z` standard deviations (1.96 for 95%).
    pub fn wilson(&self, z: f64) -> (f64, f64) {
        wilson_interval(self.errors, self.bits, z)
    }
}

/// Wilson score interval of a binomial proportion `k / n` at `z` (1.96 for 95%).
///
/// ```
/// let (lo, hi) = rram_sim::mimo::wilson_interval(0, 100, 1.96);
/// assert_eq!(lo, 0.0);
/// assert!((hi - 0.037).abs() < 1e-3);
/// ```
pub fn wilson_interval(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let den = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / den;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / den;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// One point of a BER sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct MimoConfig {
    /// Receive antennas.
    pub receive: usize,
    /// Transmit antennas (streams).
    pub transmit: usize,
    /// Symbol alphabet.
    pub modulation: Modulation,
    /// Es / N0 per receive antenna, dB.
    pub snr_db: f64,
    /// Channel realisations.
    pub channels: usize,
    /// Transmit vectors per channel.
    pub vectors_per_channel: usize,
    /// BER is reported after iterations 1..=this.
    pub iterations: usize,
    /// HP-INV settings (its seed is varied per solve).
    pub hp: HpInvConfig,
    /// Seed of channels, symbols and noise.
    pub seed: u64,
}

impl Default for MimoConfig {
    fn default() -> Self {
        Self {
            receive: 16,
            transmit: 4,
            modulation: Modulation::Qpsk,
            snr_db: 0.0,
            channels: 100,
            vectors_per_channel: 4,
            iterations: 6,
            hp: HpInvConfig::default(),
            seed: 1,
        }
    }
}

/// The result of one point.
#[derive(Debug, Clone, PartialEq)]
pub struct MimoPoint {
    /// BER of HP-INV after iteration k (index k - 1); after convergence the final iterate.
    pub hp_by_iteration: Vec<BerCount>,
    /// BER of FP32 digital ZF.
    pub fp32: BerCount,
    /// HP-INV solves that reached the tolerance: their iterations, summed.
    pub converged_iterations: u64,
    /// HP-INV solves that reached the tolerance.
    pub converged: u64,
    /// Bits gained per iteration (-log2 of the final residual over iterations), summed over
    /// converged solves.
    pub bits_per_iteration_sum: f64,
    /// Solves HP-INV refused (errors), whose bits are not counted for either detector.
    pub failed: u64,
    /// The first error, if any.
    pub first_error: Option<String>,
}

impl MimoPoint {
    /// Mean iterations to the tolerance over converged solves.
    pub fn mean_iterations(&self) -> f64 {
        self.converged_iterations as f64 / self.converged.max(1) as f64
    }

    /// Mean bits gained per iteration over converged solves.
    pub fn mean_bits_per_iteration(&self) -> f64 {
        self.bits_per_iteration_sum / self.converged.max(1) as f64
    }

    /// The first iteration whose 95% Wilson interval overlaps FP32's (HP-INV matches FP32
    /// within the confidence intervals), if any.
    pub fn matched_at(&self) -> Option<usize> {
        let (lo, hi) = self.fp32.wilson(1.96);
        self.hp_by_iteration
            .iter()
            .position(|c| {
                let (l, h) = c.wilson(1.96);
                l <= hi && lo <= h
            })
            .map(|k| k + 1)
    }
}

/// The real form of a complex matrix given as (re, im): [re, -im; im, re].
fn real_form(re: &DMatrix<f64>, im: &DMatrix<f64>) -> DMatrix<f64> {
    let (r, c) = re.shape();
    let mut out = DMatrix::zeros(2 * r, 2 * c);
    out.view_mut((0, 0), (r, c)).copy_from(re);
    out.view_mut((0, c), (r, c)).copy_from(&(-im));
    out.view_mut((r, 0), (r, c)).copy_from(im);
    out.view_mut((r, c), (r, c)).copy_from(re);
    out
}

/// Bits decided from a real-form estimate s = [Re; Im] of `t` streams.
fn decide(m: Modulation, s: &[f64], t: usize, out: &mut Vec<bool>) {
    out.clear();
    for k in 0..t {
        m.decide(s[k], out);
        m.decide(s[t + k], out);
    }
}

fn count(sent: &[bool], got: &[bool]) -> BerCount {
    BerCount {
        errors: sent.iter().zip(got).filter(|(a, b)| a != b).count() as u64,
        bits: sent.len() as u64,
    }
}

fn add(a: &mut BerCount, b: BerCount) {
    a.errors = a.errors.saturating_add(b.errors);
    a.bits = a.bits.saturating_add(b.bits);
}

/// Runs one point: `channels x vectors_per_channel` ZF detections by HP-INV (BER after each
/// iteration) and by FP32.
///
/// ```
/// use rram_sim::mimo::{run_point, MimoConfig};
/// let p = run_point(&MimoConfig { channels: 3, vectors_per_channel: 1, snr_db: 10.0, ..Default::default() }).unwrap();
/// assert_eq!(p.fp32.bits, 3 * 8);
/// ```
pub fn run_point(cfg: &MimoConfig) -> Result<MimoPoint, SimError> {
    if cfg.receive < cfg.transmit || cfg.transmit == 0 {
        return Err(SimError::InvalidParameter {
            name: "MimoConfig::transmit",
            value: cfg.transmit.to_string(),
            why: "zero-forcing needs 1 <= transmit <= receive",
        });
    }
    if cfg.iterations == 0 || cfg.iterations > crate::solver::MAX_ITER_LIMIT {
        return Err(SimError::InvalidParameter {
            name: "MimoConfig::iterations",
            value: cfg.iterations.to_string(),
            why: "must lie in 1..=1000",
        });
    }
    crate::error::check_range(
        "MimoConfig::snr_db",
        cfg.snr_db,
        -100.0,
        100.0,
        "must lie in [-100, 100] dB",
    )?;
    let (r, t, m) = (cfg.receive, cfg.transmit, cfg.modulation);
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let noise_sigma = (10f64.powf(-cfg.snr_db / 10.0) / 2.0).sqrt();
    let mut point = MimoPoint {
        hp_by_iteration: vec![BerCount::default(); cfg.iterations],
        fp32: BerCount::default(),
        converged_iterations: 0,
        converged: 0,
        bits_per_iteration_sum: 0.0,
        failed: 0,
        first_error: None,
    };
    let bits_per_vector = t * m.bits_per_symbol();
    let (mut sent, mut got) = (Vec::new(), Vec::new());
    let mut solve = 0u64;
    for _ in 0..cfg.channels {
        let h_sigma = 0.5f64.sqrt();
        let mut normal = |s: f64| s * rng.sample::<f64, _>(StandardNormal);
        let re = DMatrix::from_fn(r, t, |_, _| normal(h_sigma));
        let im = DMatrix::from_fn(r, t, |_, _| normal(h_sigma));
        let hr = real_form(&re, &im);
        let gram = hr.transpose() * &hr;
        let gram32 = gram.map(|v| v as f32);
        for _ in 0..cfg.vectors_per_channel {
            sent.clear();
            sent.extend((0..bits_per_vector).map(|_| rng.random::<bool>()));
            let ab = m.axis_bits();
            let mut s = DVector::zeros(2 * t);
            for k in 0..t {
                let sym = &sent[k * 2 * ab..(k + 1) * 2 * ab];
                s[k] = m.level(&sym[..ab]);
                s[t + k] = m.level(&sym[ab..]);
            }
            let noise = DVector::from_fn(2 * r, |_, _| {
                noise_sigma * rng.sample::<f64, _>(StandardNormal)
            });
            let y = &hr * &s + noise;
            let rhs = hr.transpose() * &y;
            // FP32 digital ZF.
            let x32 = gram32
                .clone()
                .lu()
                .solve(&rhs.map(|v| v as f32))
                .map(|x| x.map(f64::from));
            let Some(x32) = x32 else {
                point.failed += 1;
                continue;
            };
            // HP-INV, the iterate after each iteration.
            solve += 1;
            let hp = HpInvConfig {
                seed: cfg.hp.seed ^ cfg.seed.wrapping_mul(0x9E37_79B9) ^ solve,
                ..cfg.hp.clone()
            };
            let mut iterates: Vec<DVector<f64>> = Vec::new();
            let out = hp_inv_observed(&gram, &rhs, &hp, &mut |_, x| iterates.push(x.clone()));
            match out {
                Ok(o) => {
                    if o.info.converged {
                        point.converged += 1;
                        point.converged_iterations += o.iterations as u64;
                        point.bits_per_iteration_sum +=
                            -o.info.final_residual.log2() / o.iterations as f64;
                    }
                    for (k, c) in point.hp_by_iteration.iter_mut().enumerate() {
                        let x = iterates.get(k).unwrap_or(&o.x);
                        decide(m, x.as_slice(), t, &mut got);
                        add(c, count(&sent, &got));
                    }
                }
                Err(e) => {
                    point.failed += 1;
                    point.first_error.get_or_insert_with(|| e.to_string());
                    continue;
                }
            }
            decide(m, x32.as_slice(), t, &mut got);
            add(&mut point.fp32, count(&sent, &got));
        }
    }
    Ok(point)
}

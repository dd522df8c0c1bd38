//! [`ScalingStudy`]: run a workload over problem sizes (and thread counts), measure time,
//! memory and energy per size, fit power laws, find where the trend breaks, and report parallel
//! efficiency.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::ProfileError;
use crate::profiler::{MemorySource, PerformanceProfiler};
use crate::record::heap;
use crate::sys::rss::current_rss_bytes;

use crate::analysis::{find_trend_break, TrendBreak, BREAK_TOLERANCE};
use crate::analysis::{fit_power_law, median, PowerLawFit};
use crate::sys::cputime::{thread_cpu_ns, ScalingClock};

/// What the study passes to the workload for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudyRun {
    /// Problem size.
    pub n: usize,
    /// Thread count to use. The study does not spawn threads: the workload uses this many
    /// (a rayon pool, `std::thread::scope`, ...).
    pub threads: usize,
    /// Repeat index (0-based); warm-up runs are not passed a repeat of their own.
    pub repeat: usize,
}

/// What a workload may return: its energy, if it knows it.
///
/// `()` reports nothing (the study then reads `energy_pj` from its profiler, if given one);
/// an `f64` is energy in pJ; `Option<f64>` either.
pub trait ScalingOutcome {
    /// Energy of the run, pJ, if the workload reports it.
    fn energy_pj(&self) -> Option<f64>;
}

impl ScalingOutcome for () {
    fn energy_pj(&self) -> Option<f64> {
        None
    }
}

impl ScalingOutcome for f64 {
    fn energy_pj(&self) -> Option<f64> {
        Some(*self)
    }
}

impl ScalingOutcome for Option<f64> {
    fn energy_pj(&self) -> Option<f64> {
        *self
    }
}

/// Measurements at one (size, thread count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingMeasurement {
    /// Problem size.
    pub n: usize,
    /// Threads.
    pub threads: usize,
    /// Fastest run, ns, by the study's clock: the least-disturbed measurement, which the time
    /// fit uses.
    pub time_ns: u64,
    /// Median run, ns, by the study's clock.
    pub median_time_ns: u64,
    /// Every run, ns, by the study's clock.
    pub times_ns: Vec<u64>,
    /// Fastest run by wall time, ns (parallel efficiency uses it whatever the clock).
    #[serde(default)]
    pub wall_time_ns: u64,
    /// Bytes allocated during a run by every thread of the process (the workload's own worker
    /// threads and thread pools included), with a `CountingAllocator`: the fewest of any repeat,
    /// as time is the fastest, so a one-time allocation (a thread pool's per-thread scratch on
    /// its first use, a cache filled once) that falls in one repeat does not bend the fit.
    pub allocated_bytes: Option<u64>,
    /// Median net heap growth of the process during a run.
    pub net_bytes: Option<i64>,
    /// Median RSS growth during a run, where no counting allocator is installed.
    pub rss_delta_bytes: Option<i64>,
    /// Median energy, pJ: returned by the workload, or else `energy_pj` recorded by the
    /// study's profiler during the run.
    pub energy_pj: Option<f64>,
}

/// A fitted power law with its label and trend break.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesFit {
    /// The fit.
    pub fit: PowerLawFit,
    /// E.g. `time ~ n^2.9`.
    pub label: String,
    /// Where the series leaves the power law, if it does.
    pub trend_break: Option<TrendBreak>,
}

fn series_fit(what: &str, pts: &[(f64, f64)], tol: f64) -> Option<SeriesFit> {
    let fit = fit_power_law(pts)?;
    Some(SeriesFit {
        label: format!("{what} ~ n^{:.1}", fit.exponent),
        trend_break: find_trend_break(pts, tol),
        fit,
    })
}

/// Speed-up and parallel efficiency at one (size, thread count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadScaling {
    /// Problem size.
    pub n: usize,
    /// Threads.
    pub threads: usize,
    /// Fastest run, wall time, ns.
    pub time_ns: u64,
    /// Wall time at the smallest thread count over this time.
    pub speedup: f64,
    /// `speedup x base threads / threads`: 1 is perfect scaling.
    pub efficiency: f64,
}

/// What a study found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingResults {
    /// The study's name.
    pub name: String,
    /// Every (size, thread count), sizes increasing.
    pub measurements: Vec<ScalingMeasurement>,
    /// Time against size at the smallest thread count.
    pub time: Option<SeriesFit>,
    /// Memory (allocated bytes, or RSS growth) against size.
    pub memory: Option<SeriesFit>,
    /// Energy against size.
    pub energy: Option<SeriesFit>,
    /// Where memory figures came from.
    pub memory_source: MemorySource,
    /// The clock the runs were timed with (after any fallback: a study that asked for
    /// [`ScalingClock::ThreadCpu`] where it is unavailable says [`ScalingClock::Wall`]).
    #[serde(default)]
    pub clock: ScalingClock,
    /// Speed-up and efficiency per size and thread count (empty with one thread count).
    pub parallel: Vec<ThreadScaling>,
}

impl ScalingResults {
    /// The time exponent, if fitted.
    pub fn time_exponent(&self) -> Option<f64> {
        self.time.as_ref().map(|f| f.fit.exponent)
    }

    /// A few lines a person reads: `time ~ n^2.9 (R^2 0.99)`, memory, energy, breaks, efficiency.
    pub fn summary(&self) -> String {
        let mut lines = vec![format!(
            "scaling study `{}` ({} time):",
            self.name,
            self.clock.label()
        )];
        for f in [&self.time, &self.memory, &self.energy]
            .into_iter()
            .flatten()
        {
            let mut l = format!(
                "  {} (R^2 {:.3}, {} sizes)",
                f.label, f.fit.r_squared, f.fit.points
            );
            if let Some(b) = f.trend_break {
                l.push_str(&format!(
                    "; trend breaks after n = {} (local slope {:.2} against {:.2})",
                    b.at_n, b.local_slope_after, b.exponent_before
                ));
            }
            lines.push(l);
        }
        if self.memory.is_some() {
            lines.push(format!("  memory measured by {:?}", self.memory_source));
        }
        for t in &self.parallel {
            lines.push(format!(
                "  n = {}, {} threads: speed-up {:.2}, efficiency {:.0}%",
                t.n,
                t.threads,
                t.speedup,
                t.efficiency * 100.0
            ));
        }
        lines.join("\n")
    }
}

/// Runs a workload over problem sizes and thread counts.
///
/// Each (size, threads) pair runs `repeats` times (default 3) after one untimed warm-up run at
/// the first size. Time is the fastest repeat (the least disturbed; the median is kept too),
/// by wall time or, with [`clock`](Self::clock), the calling thread's CPU time;
/// memory is the bytes allocated by every thread of the process during the run (so work on
/// `std::thread::scope` workers, rayon or faer's pool counts; the fewest of any repeat) from
/// the `CountingAllocator` where installed, else RSS growth; energy is what the workload
/// returns ([`ScalingOutcome`]), or else the
/// `energy_pj` recorded by the profiler given with [`profiler`](Self::profiler) during the run.
/// Power laws are fitted in log-log space; a trend break is reported per
/// [`find_trend_break`](crate::analysis::find_trend_break) with tolerance
/// [`break_tolerance`](Self::break_tolerance).
///
/// ```
/// use profiler_runtime::ScalingStudy;
/// let results = ScalingStudy::new("quadratic")
///     .sizes([100, 200, 400, 800])
///     .repeats(2)
///     .run(|r| {
///         let mut s = 0u64;
///         for i in 0..r.n { for j in 0..r.n { s = s.wrapping_add(std::hint::black_box((i ^ j) as u64)); } }
///         std::hint::black_box(s);
///     })
///     .unwrap();
/// assert_eq!(results.measurements.len(), 4);
/// assert!(results.time_exponent().is_some());
/// println!("{}", results.summary());
/// ```
#[derive(Debug, Clone)]
pub struct ScalingStudy<'p> {
    name: String,
    sizes: Vec<usize>,
    threads: Vec<usize>,
    repeats: usize,
    warmup: bool,
    break_tolerance: f64,
    clock: ScalingClock,
    profiler: Option<&'p PerformanceProfiler>,
}

impl<'p> ScalingStudy<'p> {
    /// A study named `name` (sizes must be set before running).
    pub fn new(name: impl Into<String>) -> Self {
        ScalingStudy {
            name: name.into(),
            sizes: Vec::new(),
            threads: vec![1],
            repeats: 3,
            warmup: true,
            break_tolerance: BREAK_TOLERANCE,
            clock: ScalingClock::Wall,
            profiler: None,
        }
    }

    /// Problem sizes (at least two distinct, all positive).
    pub fn sizes(mut self, sizes: impl IntoIterator<Item = usize>) -> Self {
        self.sizes = sizes.into_iter().collect();
        self
    }

    /// Thread counts (default `[1]`; all positive).
    pub fn threads(mut self, threads: impl IntoIterator<Item = usize>) -> Self {
        self.threads = threads.into_iter().collect();
        self
    }

    /// Timed runs per (size, threads) (default 3; at least 1).
    pub fn repeats(mut self, repeats: usize) -> Self {
        self.repeats = repeats;
        self
    }

    /// Whether to run once untimed first (default true).
    pub fn warmup(mut self, on: bool) -> Self {
        self.warmup = on;
        self
    }

    /// Tolerance on the local log-log slope for trend breaks (default
    /// [`BREAK_TOLERANCE`]).
    pub fn break_tolerance(mut self, tol: f64) -> Self {
        self.break_tolerance = tol;
        self
    }

    /// The clock runs are timed with (default [`ScalingClock::Wall`]). Use
    /// [`ScalingClock::ThreadCpu`] for a single-threaded workload on a busy machine.
    pub fn clock(mut self, clock: ScalingClock) -> Self {
        self.clock = clock;
        self
    }

    /// Reads each run's energy from `energy_pj` recorded by this profiler (through a session
    /// around the run) when the workload returns none. The workload's spans must reach this
    /// profiler's layer (e.g. run the study inside `profiler.in_scope`).
    pub fn profiler(mut self, p: &'p PerformanceProfiler) -> Self {
        self.profiler = Some(p);
        self
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let mut s = self.sizes.clone();
        s.sort_unstable();
        s.dedup();
        if s.len() < 2 || s[0] == 0 {
            return Err(ProfileError::InvalidInput(format!(
                "ScalingStudy `{}` needs at least two distinct positive sizes, got {:?}",
                self.name, self.sizes
            )));
        }
        if self.threads.is_empty() || self.threads.contains(&0) {
            return Err(ProfileError::InvalidInput(format!(
                "ScalingStudy `{}` needs positive thread counts, got {:?}",
                self.name, self.threads
            )));
        }
        if self.repeats == 0 {
            return Err(ProfileError::InvalidInput(format!(
                "ScalingStudy `{}` needs at least one repeat",
                self.name
            )));
        }
        Ok(())
    }

    /// Runs the study.
    ///
    /// Repeats run in rounds: every (size, threads) pair once per round, so a burst of load
    /// from elsewhere on the machine slows one round of every size rather than every repeat of
    /// one size, and the fastest repeat of each size stays comparable.
    pub fn run<R: ScalingOutcome>(
        &self,
        mut workload: impl FnMut(&StudyRun) -> R,
    ) -> Result<ScalingResults, ProfileError> {
        self.validate()?;
        let mut sizes = self.sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        let mut threads = self.threads.clone();
        threads.sort_unstable();
        threads.dedup();
        if self.warmup {
            workload(&StudyRun {
                n: sizes[0],
                threads: threads[0],
                repeat: 0,
            });
        }
        let clock = match self.clock {
            ScalingClock::ThreadCpu if thread_cpu_ns().is_some() => ScalingClock::ThreadCpu,
            _ => ScalingClock::Wall,
        };
        let session = format!("scaling:{}", self.name);
        let mut memory_source = MemorySource::Unknown;
        let pairs: Vec<(usize, usize)> = sizes
            .iter()
            .flat_map(|&n| threads.iter().map(move |&t| (n, t)))
            .collect();
        let mut acc: Vec<RunSamples> = pairs
            .iter()
            .map(|_| RunSamples::with_capacity(self.repeats))
            .collect();
        for repeat in 0..self.repeats {
            for (&(n, t), acc) in pairs.iter().zip(&mut acc) {
                let run = StudyRun {
                    n,
                    threads: t,
                    repeat,
                };
                let a0 = heap::totals();
                let rss0 = if a0.is_none() {
                    current_rss_bytes()
                } else {
                    None
                };
                if let Some(p) = self.profiler {
                    p.start_profiling(session.clone());
                }
                let cpu0 = if clock == ScalingClock::ThreadCpu {
                    thread_cpu_ns()
                } else {
                    None
                };
                let t0 = Instant::now();
                let out = workload(&run);
                let wall_ns = t0.elapsed().as_nanos() as u64;
                let ns = match (cpu0, cpu0.and_then(|_| thread_cpu_ns())) {
                    (Some(a), Some(b)) => b.saturating_sub(a),
                    _ => wall_ns,
                };
                // Before the session's results exist: they are not the workload's memory.
                let a1 = heap::totals();
                let recorded = self
                    .profiler
                    .and_then(|p| p.stop_profiling(&session).ok())
                    .map(|s| s.metrics_summary.total_energy_pj)
                    .filter(|e| *e != 0.0);
                acc.times.push(ns);
                acc.wall.push(wall_ns);
                if let Some(e) = out.energy_pj().or(recorded) {
                    acc.energy.push(e);
                }
                match (a0, a1) {
                    (Some(a), Some(b)) => {
                        let (d, _) = b.since(&a);
                        acc.alloc.push(d.allocated_bytes as f64);
                        acc.net.push(d.net_bytes() as f64);
                        memory_source = MemorySource::Allocator;
                    }
                    _ => {
                        if let (Some(r0), Some(r1)) = (rss0, current_rss_bytes()) {
                            acc.rss.push(r1 as f64 - r0 as f64);
                            memory_source = MemorySource::Rss;
                        }
                    }
                }
            }
        }
        let measurements = pairs
            .into_iter()
            .zip(acc)
            .map(|((n, t), a)| a.measurement(n, t))
            .collect();
        let mut results = self.results(measurements, threads[0], memory_source);
        results.clock = clock;
        Ok(results)
    }

    fn results(
        &self,
        measurements: Vec<ScalingMeasurement>,
        base_threads: usize,
        memory_source: MemorySource,
    ) -> ScalingResults {
        let base: Vec<&ScalingMeasurement> = measurements
            .iter()
            .filter(|m| m.threads == base_threads)
            .collect();
        let tol = self.break_tolerance;
        let time_pts: Vec<(f64, f64)> = base
            .iter()
            .map(|m| (m.n as f64, m.time_ns as f64))
            .collect();
        let mem_pts: Vec<(f64, f64)> = base
            .iter()
            .filter_map(|m| {
                m.allocated_bytes
                    .map(|b| b as f64)
                    .or(m.rss_delta_bytes.map(|b| b as f64))
                    .map(|b| (m.n as f64, b))
            })
            .collect();
        let energy_pts: Vec<(f64, f64)> = base
            .iter()
            .filter_map(|m| m.energy_pj.map(|e| (m.n as f64, e)))
            .collect();
        let parallel = measurements
            .iter()
            .filter(|m| m.threads != base_threads)
            .filter_map(|m| {
                let b = base.iter().find(|b| b.n == m.n)?;
                let speedup = b.wall_time_ns as f64 / m.wall_time_ns.max(1) as f64;
                Some(ThreadScaling {
                    n: m.n,
                    threads: m.threads,
                    time_ns: m.wall_time_ns,
                    speedup,
                    efficiency: speedup * base_threads as f64 / m.threads as f64,
                })
            })
            .collect();
        ScalingResults {
            name: self.name.clone(),
            time: series_fit("time", &time_pts, tol),
            memory: series_fit("memory", &mem_pts, tol),
            energy: series_fit("energy", &energy_pts, tol),
            memory_source,
            clock: self.clock,
            parallel,
            measurements,
        }
    }
}

/// The runs of one (size, threads) pair, collected over the rounds.
struct RunSamples {
    times: Vec<u64>,
    wall: Vec<u64>,
    alloc: Vec<f64>,
    net: Vec<f64>,
    rss: Vec<f64>,
    energy: Vec<f64>,
}

impl RunSamples {
    fn with_capacity(n: usize) -> Self {
        RunSamples {
            times: Vec::with_capacity(n),
            wall: Vec::with_capacity(n),
            alloc: Vec::new(),
            net: Vec::new(),
            rss: Vec::new(),
            energy: Vec::new(),
        }
    }

    fn measurement(mut self, n: usize, threads: usize) -> ScalingMeasurement {
        let mut sorted = self.times.clone();
        sorted.sort_unstable();
        ScalingMeasurement {
            n,
            threads,
            time_ns: sorted.first().copied().unwrap_or(0),
            median_time_ns: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
            times_ns: self.times,
            wall_time_ns: self.wall.iter().copied().min().unwrap_or(0),
            allocated_bytes: self
                .alloc
                .iter()
                .copied()
                .reduce(f64::min)
                .map(|x| x as u64),
            net_bytes: median(&mut self.net).map(|x| x as i64),
            rss_delta_bytes: median(&mut self.rss).map(|x| x as i64),
            energy_pj: median(&mut self.energy),
        }
    }
}

//! [`ProfilerBuilder`]: every setting of a [`PerformanceProfiler`], checked at `build`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::ProfileError;
use crate::record::collector::Collector;
#[cfg(feature = "monitor")]
use crate::sys::monitor::Monitor;

use super::{DataBook, Inner, PerformanceProfiler, SessionBook};

/// Default capacity of the raw event buffer.
pub const DEFAULT_RAW_CAPACITY: usize = 262_144;
/// Default cap on distinct operations (see [`ProfilerBuilder::max_operations`]).
pub const DEFAULT_MAX_OPERATIONS: usize = 100_000;
/// Default interval of the background monitor.
pub const DEFAULT_MONITOR_INTERVAL: Duration = Duration::from_millis(100);

/// Configures a [`PerformanceProfiler`].
///
/// ```
/// use std::time::Duration;
/// let profiler = profiler_runtime::PerformanceProfiler::builder()
///     .raw_capacity(1_000_000)
///     .monitor_interval(Duration::from_millis(50))
///     .build()
///     .unwrap();
/// # drop(profiler);
/// ```
#[derive(Debug, Clone)]
pub struct ProfilerBuilder {
    raw_capacity: usize,
    max_operations: usize,
    monitor_interval: Option<Duration>,
    journal: Option<std::path::PathBuf>,
    journal_interval: Duration,
    otlp: Option<String>,
    #[cfg(feature = "otlp")]
    pub(crate) otlp_options: crate::output::otlp::OtlpOptions,
    backtrace_slower_than: Option<Duration>,
    cpu_watts: Option<f64>,
}

impl Default for ProfilerBuilder {
    fn default() -> Self {
        ProfilerBuilder {
            raw_capacity: DEFAULT_RAW_CAPACITY,
            max_operations: DEFAULT_MAX_OPERATIONS,
            monitor_interval: Some(DEFAULT_MONITOR_INTERVAL),
            journal: None,
            journal_interval: Duration::from_secs(1),
            otlp: None,
            #[cfg(feature = "otlp")]
            otlp_options: crate::output::otlp::OtlpOptions::default(),
            backtrace_slower_than: None,
            cpu_watts: None,
        }
    }
}

impl ProfilerBuilder {
    /// How many raw events to keep for timelines (the newest are kept; the rest are counted as
    /// dropped). Aggregates never drop anything. 0 keeps none.
    pub fn raw_capacity(mut self, events: usize) -> Self {
        self.raw_capacity = events;
        self
    }

    /// The most distinct operations (name and kind) kept under their own names (default
    /// [`DEFAULT_MAX_OPERATIONS`]). Beyond it, calls of new names are counted, exactly, in one
    /// operation named [`OTHER_OPERATION`](crate::model::stats::OTHER_OPERATION) per kind,
    /// whose [`folded_names`](crate::OperationStats::folded_names) says how many names went
    /// there; the report says so too. Each operation costs a few hundred bytes, so the cap
    /// bounds the profiler's memory when names are made per item (`format!("solve {i}")`).
    ///
    /// ```
    /// use profiler_runtime::{EventKind, PerformanceProfiler};
    /// let p = PerformanceProfiler::builder().max_operations(2).without_monitor().build().unwrap();
    /// for i in 0..5 {
    ///     p.record_event(&format!("item {i}"), EventKind::FunctionCall, [("n", 1.0)]);
    /// }
    /// let other = p.snapshot().operation("<other>").unwrap();
    /// assert_eq!((other.count, other.folded_names), (3, 3));
    /// ```
    pub fn max_operations(mut self, operations: usize) -> Self {
        self.max_operations = operations;
        self
    }

    /// How often the monitor samples RSS and CPU% (default 100 ms; at least 1 ms). Without the
    /// `monitor` feature no monitor thread exists and the profile has no samples.
    pub fn monitor_interval(mut self, every: Duration) -> Self {
        self.monitor_interval = Some(every);
        self
    }

    /// No background monitor thread (no RSS/CPU samples).
    pub fn without_monitor(mut self) -> Self {
        self.monitor_interval = None;
        self
    }

    /// Captures a backtrace (as [`ProfileEvent::backtrace`](crate::ProfileEvent::backtrace))
    /// of every event that takes at least `threshold`, at its close. Only slow events pay for
    /// it (tens of microseconds each, plus symbol lookup when a snapshot first reads them);
    /// the fast path of the others gains one comparison.
    ///
    /// ```
    /// use std::time::Duration;
    /// use profiler_runtime::{profile, PerformanceProfiler};
    ///
    /// #[profile]
    /// fn slow() { std::thread::sleep(Duration::from_millis(20)); }
    /// #[profile]
    /// fn fast() {}
    ///
    /// let p = PerformanceProfiler::builder()
    ///     .backtrace_slower_than(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// p.in_scope(|| { slow(); fast(); });
    /// let snap = p.snapshot();
    /// assert!(snap.events_named("slow").all(|e| e.backtrace.is_some()));
    /// assert!(snap.events_named("fast").all(|e| e.backtrace.is_none()));
    /// ```
    pub fn backtrace_slower_than(mut self, threshold: Duration) -> Self {
        self.backtrace_slower_than = Some(threshold);
        self
    }

    /// Power of one busy core, W, for the modelled CPU energy where RAPL cannot be read
    /// (default [`DEFAULT_WATTS_PER_CORE`](crate::model::energy::DEFAULT_WATTS_PER_CORE)).
    /// Kept in the profile ([`Profile::cpu_watts_per_core`](crate::Profile::cpu_watts_per_core)),
    /// so reports of a saved profile model it the same way; the CLI's `--cpu-watts` overrides
    /// it. Must be positive and finite (at most 1000 W).
    pub fn cpu_watts(mut self, watts_per_core: f64) -> Self {
        self.cpu_watts = Some(watts_per_core);
        self
    }

    /// Journals everything recorded to `path` as the program runs (see
    /// [`output::journal`](crate::output::journal)), so a crash loses at most one
    /// [`journal_interval`](Self::journal_interval); [`Profile::recover`](crate::Profile::recover)
    /// reads it back. `path` must not exist. Needs the `persist` feature (without it, `build`
    /// refuses).
    pub fn journal(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.journal = Some(path.as_ref().to_owned());
        self
    }

    /// How often the journal flushes (default 1 s; at least 1 ms).
    pub fn journal_interval(mut self, every: Duration) -> Self {
        self.journal_interval = every;
        self
    }

    /// Streams everything the profiler records to an OpenTelemetry collector at `endpoint`
    /// (`http://host:port`, OTLP/HTTP with protobuf; a collector's usual address is
    /// `http://127.0.0.1:4318`) from two background threads: every kept event as a span when
    /// it closes, the changed aggregates as metrics, each interval (see the `output::otlp`
    /// module). A collector that is down, refuses or stalls
    /// costs a bounded queue, retries with backoff and drops counted in
    /// [`Profile::otlp`](crate::Profile::otlp) and the report, never a profiled thread's
    /// time; dropping the profiler waits at most the shutdown timeout for the last requests.
    /// Needs the `otlp` feature (without it, `build` refuses); `build` refuses a bad URL.
    ///
    /// ```no_run
    /// let profiler = profiler_runtime::PerformanceProfiler::builder()
    ///     .otlp("http://127.0.0.1:4318")
    ///     .build()?;
    /// profiler.install()?;
    /// # Ok::<(), profiler_runtime::ProfileError>(())
    /// ```
    pub fn otlp(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp = Some(endpoint.into());
        self
    }

    /// Builds the profiler and starts its monitor (and its journal).
    pub fn build(self) -> Result<PerformanceProfiler, ProfileError> {
        if let Some(i) = self.monitor_interval {
            if i < Duration::from_millis(1) {
                return Err(ProfileError::InvalidConfig(format!(
                    "monitor_interval must be at least 1 ms, got {i:?}"
                )));
            }
        }
        if let Some(w) = self.cpu_watts {
            if !(w.is_finite() && w > 0.0 && w <= 1000.0) {
                return Err(ProfileError::InvalidConfig(format!(
                    "cpu_watts must be a power per busy core in (0, 1000] W, got {w}"
                )));
            }
        }
        if self.journal_interval < Duration::from_millis(1) {
            return Err(ProfileError::InvalidConfig(format!(
                "journal_interval must be at least 1 ms, got {:?}",
                self.journal_interval
            )));
        }
        let collector = Collector::new(self.raw_capacity, self.max_operations);
        let sessions = Arc::new(Mutex::new(SessionBook::default()));
        #[cfg(feature = "persist")]
        let journal = match &self.journal {
            Some(path) => {
                let book = sessions.clone();
                Some(crate::output::journal::JournalHandle::start(
                    path,
                    self.journal_interval,
                    collector.clone(),
                    Box::new(move || crate::record::collector::lock(&book).records()),
                    self.raw_capacity,
                )?)
            }
            None => None,
        };
        #[cfg(not(feature = "persist"))]
        if let Some(path) = &self.journal {
            return Err(ProfileError::InvalidConfig(format!(
                "journal `{}` needs the `persist` feature of profiler-runtime",
                path.display()
            )));
        }
        #[cfg(feature = "otlp")]
        let otlp = match &self.otlp {
            Some(url) => Some(crate::output::otlp::OtlpStream::start(
                url,
                &self.otlp_options,
                collector.clone(),
            )?),
            None => None,
        };
        #[cfg(not(feature = "otlp"))]
        if let Some(url) = &self.otlp {
            return Err(ProfileError::InvalidConfig(format!(
                "OTLP endpoint `{url}` needs the `otlp` feature of profiler-runtime"
            )));
        }
        if let Some(t) = self.backtrace_slower_than {
            collector.set_backtrace_threshold(t);
        }
        #[cfg(feature = "monitor")]
        let monitor = match self.monitor_interval {
            Some(i) => Some(Monitor::start(collector.clone(), i)?),
            None => None,
        };
        Ok(PerformanceProfiler {
            inner: Arc::new(Inner {
                #[cfg(feature = "persist")]
                journal,
                #[cfg(feature = "otlp")]
                otlp,
                collector,
                raw_capacity: self.raw_capacity,
                sessions,
                system: OnceLock::new(),
                data: Mutex::new(DataBook {
                    heap_start: crate::record::heap::user_net(),
                    ..DataBook::default()
                }),
                cpu_watts: self.cpu_watts,
                #[cfg(feature = "monitor")]
                _monitor: monitor,
            }),
        })
    }
}

//! The `interleaved` rows: every mode in a child process of its own (this bench re-executed with
//! `OVERHEAD_MODE=<row>`), one child per mode per round, the rounds alternating between the
//! modes (each round in a rotated order), the floor in every round. A peer's process-global
//! state (puffin's frames, tracy's queue, hotpath's guard and worker, the profiler's journal
//! thread) lives and dies with its own child, so it cannot tax another row, and each child's RSS
//! growth is its mode's own.

mod modes;

use std::process::Command;

use modes::{Measured, Mode};

/// The environment variable that makes this bench a child running one mode.
const MODE_ENV: &str = "OVERHEAD_MODE";
const ROUNDS: usize = 15;

/// When this process is a child (`OVERHEAD_MODE` is set), runs its mode, prints its result line
/// and returns true.
pub fn run_child_if_asked() -> bool {
    let Ok(name) = std::env::var(MODE_ENV) else {
        return false;
    };
    let mode = Mode::from_name(&name)
        .unwrap_or_else(|| panic!("{MODE_ENV}={name} names no interleaved row"));
    modes::run_child(mode);
    true
}

/// Runs `mode` in a child process of this bench.
fn spawn(mode: Mode) -> Measured {
    let exe = std::env::current_exe().expect("this bench's path");
    let out = Command::new(exe)
        .env(MODE_ENV, mode.name())
        // No HTTP server in hotpath's child (it would bind a port on every interface).
        .env("HOTPATH_METRICS_SERVER_OFF", "1")
        .output()
        .expect("run a child of this bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    match Measured::from_output(&stdout) {
        Some(m) if out.status.success() => m,
        _ => panic!(
            "the child for {} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
            mode.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Every mode's measurements, one per round.
struct Rows(Vec<Vec<Measured>>);

impl Rows {
    fn of(&self, mode: Mode) -> &[Measured] {
        let i = Mode::ALL.iter().position(|m| *m == mode).expect("a row");
        &self.0[i]
    }

    fn median_ns(&self, mode: Mode) -> f64 {
        median(self.of(mode).iter().map(|m| m.ns_per_call).collect())
    }

    /// The median over the rounds of `row`'s ns per call divided by `base`'s in that round.
    fn ratio(&self, row: Mode, base: Mode) -> f64 {
        let r = self.of(row).iter().zip(self.of(base));
        median(r.map(|(t, b)| t.ns_per_call / b.ns_per_call).collect())
    }

    /// The median RSS growth over the timed window, in MB (10^6 bytes).
    fn rss_growth_mb(&self, mode: Mode) -> f64 {
        median(
            self.of(mode)
                .iter()
                .map(|m| m.rss_growth_kib as f64 * 1024.0 / 1e6)
                .collect(),
        )
    }

    /// The median number of calls in the timed window.
    fn calls(&self, mode: Mode) -> f64 {
        median(self.of(mode).iter().map(|m| m.calls as f64).collect())
    }
}

/// The `interleaved` group: `ROUNDS` rounds of one child per mode.
pub fn run() {
    let mut rows = Rows(vec![Vec::with_capacity(ROUNDS); Mode::ALL.len()]);
    for round in 0..ROUNDS {
        for k in 0..Mode::ALL.len() {
            let i = (round + k) % Mode::ALL.len();
            rows.0[i].push(spawn(Mode::ALL[i]));
        }
    }
    let dispatch = if std::env::var_os(modes::SCOPED_ENV).is_some_and(|v| v == "1") {
        "scoped dispatchers (with_default, in_scope)"
    } else {
        "global dispatchers (set_global_default, install())"
    };
    println!(
        "interleaved: {ROUNDS} rounds, each mode in its own process per round, {} calls a \
         timed run (alloc_process rows {}; the journal row whole runs until 1.5 s), {dispatch}",
        modes::N,
        modes::N / 10
    );
    for mode in Mode::ALL {
        let mut line = format!(
            "interleaved/{}: median {:.1} ns/call, median ratio to the floor {:.3}",
            mode.name(),
            rows.median_ns(mode),
            rows.ratio(mode, Mode::Floor),
        );
        if let Some(base) = mode.empty_row() {
            line.push_str(&format!(
                ", to {} {:.3}",
                base.name(),
                rows.ratio(mode, base)
            ));
        }
        // Measured over the window's own calls: not scaled to 1M where it made more or fewer.
        line.push_str(&format!(
            ", RSS growth {:.1} MB over {:.0} calls",
            rows.rss_growth_mb(mode),
            rows.calls(mode)
        ));
        println!("{line}");
    }
    for (row, base) in [
        (Mode::LayerOneArg, Mode::FloorOneArg),
        (Mode::Installed, Mode::Layer),
        (Mode::InstalledOneArg, Mode::LayerOneArg),
        (Mode::InstalledTwoArgs, Mode::LayerTwoArgs),
        (Mode::Installed, Mode::Puffin),
        (Mode::Installed, Mode::Hotpath),
        (Mode::Installed, Mode::Tracy),
    ] {
        println!(
            "interleaved/{} vs {}: median ratio {:.3}",
            row.name(),
            base.name(),
            rows.ratio(row, base)
        );
    }
    let journal_bytes = median(
        rows.of(Mode::LayerJournal)
            .iter()
            .map(|m| m.journal_bytes.unwrap_or(0) as f64)
            .collect(),
    );
    println!(
        "interleaved/journal_cost: median ratio of the journaled profiler to the profiler without \
         a journal {:.3} (median {journal_bytes:.0} journal bytes after a timed window)",
        rows.ratio(Mode::LayerJournal, Mode::Layer),
    );
}

//! kill -9 of a profiled process at random times: each journal recovers into a profile that
//! loads, whose counts are exact for the events it holds, and that holds at least everything
//! recorded one journal interval (plus one flush) before the kill.
//!
//! This binary is its own child: run with `RRAM_JOURNAL_CHILD=<path>` it profiles in a loop,
//! journaling to `<path>` and printing its event count to stdout as it goes, until killed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use profiler_runtime::output::journal::recover;
use profiler_runtime::{metrics, profile, PerformanceProfiler, Profile};

const TRIALS: usize = 24;
const INTERVAL: Duration = Duration::from_millis(100);
/// What a flush may take on top of the interval on a loaded 2-core machine (debug build):
/// a journal that loses more than `INTERVAL + FLUSH_ALLOWANCE` fails the test.
const FLUSH_ALLOWANCE: Duration = Duration::from_millis(900);

#[profile(kind = "computation")]
fn step(i: u64) {
    metrics!(seq = i);
    std::hint::black_box(i);
}

fn child(path: &Path) -> ! {
    let profiler = PerformanceProfiler::builder()
        .raw_capacity(20_000)
        .monitor_interval(Duration::from_millis(50))
        .journal(path)
        .journal_interval(INTERVAL)
        .build()
        .expect("journal");
    profiler.in_scope(|| {
        let mut out = std::io::stdout().lock();
        let mut i: u64 = 0;
        loop {
            step(i);
            i += 1;
            if i % 64 == 0 {
                // `i` events are recorded (closed) now.
                let _ = writeln!(out, "{i}");
                let _ = out.flush();
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    })
}

/// A small xorshift, seeded from the clock (no dev-dependency for one random number).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn main() {
    if let Some(path) = std::env::var_os("RRAM_JOURNAL_CHILD") {
        child(Path::new(&path));
    }
    // `cargo test -- --list` and filters: this binary has one test.
    const NAME: &str = "kill_9_at_random_times_loses_at_most_one_interval";
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| NAME.contains(f.as_str())) {
        println!("test result: ok. 0 passed; 0 failed; 1 filtered out");
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().expect("own path");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut worst_lost = Duration::ZERO;
    let mut worst_events_lost = 0u64;
    for trial in 0..TRIALS {
        let path = dir.path().join(format!("t{trial}.journal"));
        let mut c = Command::new(&exe)
            .env("RRAM_JOURNAL_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("child starts");
        // Progress lines with the time each arrived here (later than when it was printed).
        let log: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
        let stdout = c.stdout.take().expect("piped");
        let log2 = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(n) = line.trim().parse::<u64>() {
                    log2.lock().unwrap().push((Instant::now(), n));
                }
            }
        });
        // Wait for the child to start recording, then kill it at a random time.
        let started = Instant::now();
        while log.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(150 + rng.below(1200)));
        let killed_at = Instant::now();
        c.kill().expect("kill -9"); // SIGKILL
        let _ = c.wait();
        let _ = reader.join();
        let log = log.lock().unwrap().clone();

        let r = recover(&path).unwrap_or_else(|e| panic!("trial {trial}: recover: {e}"));
        // The recovered profile saves and loads (strict checks) ...
        let saved = dir.path().join(format!("t{trial}.json"));
        r.profile.save(&saved).expect("save");
        let p = Profile::load(&saved).unwrap_or_else(|e| panic!("trial {trial}: load: {e}"));
        // ... its counts are exact for the events it holds: the newest events are
        // 0..count in order, the last being number count - 1 ...
        let count = p.operation("step").map_or(0, |o| o.count);
        let mut is: Vec<u64> = p
            .events_named("step")
            .map(|e| e.metric("seq").expect("metric seq") as u64)
            .collect();
        is.sort_unstable();
        if count > 0 {
            assert_eq!(
                is.last().copied(),
                Some(count - 1),
                "trial {trial}: newest event"
            );
            let first = is[0];
            assert_eq!(
                is,
                (first..count).collect::<Vec<_>>(),
                "trial {trial}: events held are the newest, each once"
            );
            assert_eq!(
                p.dropped_events, first,
                "trial {trial}: dropped = older events"
            );
        }
        // ... and it holds everything recorded one interval (plus a flush) before the kill.
        let due = killed_at
            .checked_sub(INTERVAL + FLUSH_ALLOWANCE)
            .unwrap_or(killed_at);
        let required = log
            .iter()
            .filter(|(t, _)| *t <= due)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0);
        assert!(
            count >= required,
            "trial {trial}: recovered {count} events, but {required} were recorded {:?} before the kill",
            INTERVAL + FLUSH_ALLOWANCE
        );
        // What the kill cost: from the moment the first unrecovered event was known recorded.
        let lost = log
            .iter()
            .find(|(_, n)| *n > count)
            .map_or(Duration::ZERO, |(t, _)| {
                killed_at.saturating_duration_since(*t)
            });
        let at_kill = log.last().map_or(0, |l| l.1);
        worst_lost = worst_lost.max(lost);
        worst_events_lost = worst_events_lost.max(at_kill.saturating_sub(count));
        println!(
            "trial {trial:2}: {} flushes, {count} events recovered of at least {at_kill} recorded; \
             lost the last {:.0} ms ({})",
            r.flushes,
            lost.as_secs_f64() * 1e3,
            r.tail.as_deref().unwrap_or("no torn record")
        );
    }
    println!(
        "kill -9 over {TRIALS} trials, journal interval {} ms: worst case lost {:.0} ms of recording ({worst_events_lost} events)",
        INTERVAL.as_millis(),
        worst_lost.as_secs_f64() * 1e3
    );
    println!("test {NAME} ... ok");
}

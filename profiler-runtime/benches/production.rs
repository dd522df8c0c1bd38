//! The costs of running in production (features `prometheus` and `otlp`), each part runnable
//! alone by name:
//!
//! - `scrape`: `/metrics` of a profiler with 10,000 operations, fetched over loopback
//!   (connect, request, whole answer) 50 times; prints the median, and the median of
//!   `metrics_text()` alone (encoding without the network) and the body's size.
//! - `overhead`: `#[profile]` calls in alternating rounds of 1M calls (15 rounds each), one
//!   with a thread scraping `/metrics` every 100 ms and one without, in the same run; prints
//!   each one's median ns per call and the median per-round ratio (scraped / not scraped).
//! - `otlp`: a profile of 1M kept events (100k calls with 9 children each) sent with
//!   `Profile::export_otlp` to a receiver on loopback that reads and discards each request;
//!   prints the time and the bytes sent. Measure its peak RSS with
//!   `/usr/bin/time -v target/release/deps/production-* otlp`, against
//!   `... otlp_profile_only` (the same profile built, not sent) for the export's own share.
//!
//! Run: `cargo bench -p profiler-runtime --features prometheus,otlp --bench production [-- PART]`.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use profiler_runtime::output::otlp::OtlpOptions;
use profiler_runtime::{profile, EventKind, PerformanceProfiler};

#[profile]
#[inline(never)]
fn empty() {}

#[profile(kind = "hardware_access")]
#[inline(never)]
fn child(k: usize) -> usize {
    black_box(k)
}

#[profile(kind = "algorithm_step")]
#[inline(never)]
fn parent(n: usize) -> usize {
    (0..n).map(child).sum()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One scrape: connect, `GET /metrics`, read to the end into `reply` (reused across scrapes,
/// as Prometheus reuses its buffers, so the client's own regrowth is not timed); the reply's
/// length.
fn scrape_into(addr: SocketAddr, reply: &mut Vec<u8>) -> usize {
    let mut c = TcpStream::connect(addr).expect("connects");
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
        .expect("sends");
    reply.clear();
    c.read_to_end(reply).expect("reads");
    assert!(reply.starts_with(b"HTTP/1.1 200"), "scrape failed");
    assert!(reply.ends_with(b"\r\n0\r\n\r\n"), "a complete chunked body");
    reply.len()
}

fn scrape(addr: SocketAddr) -> usize {
    scrape_into(addr, &mut Vec::new())
}

fn bench_scrape() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .raw_capacity(0)
        .build()
        .expect("profiler");
    let names: Vec<String> = (0..10_000).map(|i| format!("crossbar.op{i:05}")).collect();
    for (i, name) in names.iter().enumerate() {
        for _ in 0..3 {
            p.record_event(
                name,
                EventKind::HardwareAccess,
                [("energy_pj", i as f64), ("energy.adc_pj", 0.5)],
            );
        }
    }
    let server = p.serve_metrics("127.0.0.1:0").expect("serves");
    let mut reply = Vec::new();
    let mut bytes = scrape_into(server.local_addr(), &mut reply);
    let mut over_http: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            bytes = scrape_into(server.local_addr(), &mut reply);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let mut encode_only: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            black_box(p.metrics_text().expect("encodes"));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    // The copy of the aggregates a scrape makes (as a snapshot does, with no raw events).
    let mut copy_only: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            black_box(p.snapshot());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!(
        "scrape/10k_operations: median {:.2} ms over HTTP ({} scrapes, {:.1} MiB each); metrics_text() alone median {:.2} ms; a snapshot's copy of the aggregates median {:.2} ms",
        median(&mut over_http),
        over_http.len(),
        bytes as f64 / (1024.0 * 1024.0),
        median(&mut encode_only),
        median(&mut copy_only)
    );
}

/// ns per call of one round of `calls` calls of `empty`.
fn round(calls: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..calls {
        empty();
    }
    t.elapsed().as_nanos() as f64 / calls as f64
}

fn bench_overhead() {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .expect("profiler");
    let server = p.serve_metrics("127.0.0.1:0").expect("serves");
    let addr = server.local_addr();
    let scraping = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let scrapes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let scraper = {
        let (scraping, stop, scrapes) = (scraping.clone(), stop.clone(), scrapes.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if scraping.load(Ordering::Relaxed) {
                    scrape(addr);
                    scrapes.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    const CALLS: u64 = 1_000_000;
    let (mut quiet, mut scraped, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    p.in_scope(|| {
        round(CALLS); // warm-up
        for _ in 0..15 {
            scraping.store(false, Ordering::Relaxed);
            let q = round(CALLS);
            scraping.store(true, Ordering::Relaxed);
            let s = round(CALLS);
            quiet.push(q);
            scraped.push(s);
            ratios.push(s / q);
        }
    });
    stop.store(true, Ordering::Relaxed);
    let _ = scraper.join();
    println!(
        "overhead/scraped_every_100ms: not scraped median {:.1} ns/call, scraped median {:.1} ns/call, median per-round ratio {:.3} ({} scrapes during the scraped rounds)",
        median(&mut quiet),
        median(&mut scraped),
        median(&mut ratios),
        scrapes.load(Ordering::Relaxed)
    );
}

/// A receiver that reads each request whole and answers `200` with an empty body.
fn discard_receiver() -> (SocketAddr, Arc<std::sync::atomic::AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = l.local_addr().expect("addr");
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let r = received.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && c.read_exact(&mut byte).is_ok() {
                head.push(byte[0]);
            }
            let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let len: u64 = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let got = std::io::copy(&mut (&mut c).take(len), &mut std::io::sink()).unwrap_or(0);
            r.fetch_add(got, Ordering::Relaxed);
            let _ = c.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (addr, received)
}

/// With `send` false, only builds the 1M-event profile: the peak RSS of that run is the
/// baseline the export's own memory adds to.
fn bench_otlp(send: bool) {
    let p = PerformanceProfiler::builder()
        .without_monitor()
        .raw_capacity(1_000_000)
        .build()
        .expect("profiler");
    p.in_scope(|| {
        for _ in 0..100_000 {
            black_box(parent(9));
        }
    });
    let profile = p.snapshot();
    drop(p);
    assert_eq!(profile.events.len(), 1_000_000);
    if !send {
        println!("otlp_profile_only/1M_events: built, not sent");
        return;
    }
    let (addr, received) = discard_receiver();
    let t = Instant::now();
    let sent = profile
        .export_otlp(&format!("http://{addr}"), &OtlpOptions::default())
        .expect("exported");
    let took = t.elapsed();
    println!(
        "otlp/1M_events: {:.2} s to send {sent}; the receiver read {:.1} MiB",
        took.as_secs_f64(),
        received.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
    );
}

fn main() {
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| parts.is_empty() || parts.iter().any(|p| p == name);
    if wants("scrape") {
        bench_scrape();
    }
    if wants("overhead") {
        bench_overhead();
    }
    if wants("otlp") {
        bench_otlp(true);
    }
    if parts.iter().any(|p| p == "otlp_profile_only") {
        bench_otlp(false);
    }
}

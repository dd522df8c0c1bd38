//! The `/metrics` endpoint over real TCP: exact counts while recording goes on, the fixed
//! metric names, a bounded and well-behaved responder, and a clean stop on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use profiler_runtime::{metrics, profile, EventKind, PerformanceProfiler};

#[profile(kind = "hardware_access", name = "crossbar.mvm")]
fn mvm(k: usize) -> usize {
    metrics!(energy_pj = 3.0, energy.adc_pj = 2.0);
    k * 2
}

/// Sends raw bytes, returns the whole answer.
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = c.write_all(request);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes a chunked body, checking its framing; `None` when it is cut short or malformed
/// (no closing zero-size chunk, a size that overruns the data, a chunk not ended by CRLF).
fn dechunk(mut rest: &str) -> Option<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size, 16).ok()?;
        if size == 0 {
            return (after == "\r\n").then_some(body);
        }
        body.push_str(after.get(..size)?);
        rest = after.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// `GET /metrics` over HTTP/1.1: checks the head and returns the decoded body.
fn scrape(addr: SocketAddr) -> String {
    let a = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 200 OK\r\n"), "{a}");
    assert!(a.contains("Content-Type: text/plain; version=0.0.4"), "{a}");
    assert!(a.contains("Transfer-Encoding: chunked\r\n"), "{a}");
    let (_, body) = a.split_once("\r\n\r\n").expect("a head");
    dechunk(body).unwrap_or_else(|| panic!("a complete chunked body: {body}"))
}

/// The value of the sample line that starts with `series` (name and labels).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_scrape_shows_exact_counts_while_recording_goes_on() {
    let profiler = PerformanceProfiler::builder().build().unwrap();
    let server = profiler.serve_metrics("127.0.0.1:0").expect("a free port");
    let addr = server.local_addr();
    let stop = AtomicBool::new(false);
    let series = r#"rram_profiler_calls_total{operation="crossbar.mvm",kind="hardware_access"}"#;
    std::thread::scope(|s| {
        for _ in 0..2 {
            let sub = profiler.subscriber();
            let stop = &stop;
            s.spawn(move || {
                tracing::subscriber::with_default(sub, || {
                    let mut k = 0;
                    while !stop.load(Ordering::Relaxed) {
                        mvm(k);
                        k += 1;
                    }
                })
            });
        }
        // Scrapes while two threads record: counts only grow.
        let mut last = 0.0;
        for _ in 0..10 {
            let now = value(&scrape(addr), series).unwrap_or(0.0);
            assert!(now >= last, "{now} after {last}");
            last = now;
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
    });
    // Quiet now: the scrape equals the profile's exact count.
    let text = scrape(addr);
    let exact = profiler.snapshot().operation("crossbar.mvm").unwrap().count;
    assert_eq!(value(&text, series), Some(exact as f64));
    let count = value(
        &text,
        r#"rram_profiler_span_seconds_count{operation="crossbar.mvm",kind="hardware_access"}"#,
    );
    assert_eq!(count, Some(exact as f64));
    let inf = value(
        &text,
        r#"rram_profiler_span_seconds_bucket{le="+Inf",operation="crossbar.mvm",kind="hardware_access"}"#,
    )
    .or_else(|| {
        value(
            &text,
            r#"rram_profiler_span_seconds_bucket{operation="crossbar.mvm",kind="hardware_access",le="+Inf"}"#,
        )
    });
    assert_eq!(inf, Some(exact as f64), "{text}");
    assert_eq!(
        value(
            &text,
            r#"rram_profiler_energy_picojoules_total{operation="crossbar.mvm",component="adc"}"#
        ),
        Some(2.0 * exact as f64)
    );
    assert_eq!(
        value(
            &text,
            r#"rram_profiler_energy_picojoules_total{operation="crossbar.mvm",component="unattributed"}"#
        ),
        Some(exact as f64)
    );
    for name in [
        "rram_profiler_self_seconds_total{",
        "rram_profiler_resident_bytes ",
        "rram_profiler_events_dropped_total ",
        "# TYPE rram_profiler_span_seconds histogram",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
    assert!(server.scrapes() >= 11);
}

#[test]
fn bad_requests_get_errors_and_the_server_keeps_serving() {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    profiler.record_event("x", EventKind::Computation, [("n", 1.0)]);
    let server = profiler.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let status = |req: &[u8]| {
        let a = exchange(addr, req);
        a.split(' ').nth(1).unwrap_or("").to_owned()
    };
    assert_eq!(status(b"POST /metrics HTTP/1.1\r\n\r\n"), "405");
    assert_eq!(status(b"GET /nope HTTP/1.1\r\n\r\n"), "404");
    assert_eq!(status(b"\x00\xff garbage \x01\r\n\r\n"), "400");
    let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    assert_eq!(status(&huge), "431");
    // A client that sends half a request and waits gets 408 (within the read deadline).
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /metr").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut a = String::new();
    let _ = slow.read_to_string(&mut a);
    assert!(a.starts_with("HTTP/1.1 408"), "{a}");
    // A client that connects and leaves costs nothing.
    drop(TcpStream::connect(addr).unwrap());
    // HEAD has no body; the server still serves scrapes.
    let head = exchange(addr, b"HEAD /metrics HTTP/1.0\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
    assert!(scrape(addr).contains("rram_profiler_calls_total{operation=\"x\""));
    assert!(server.rejected() >= 5);
}

#[test]
fn dropping_the_server_closes_its_port_and_a_taken_port_is_an_error() {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    let server = profiler.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let err = profiler.serve_metrics(addr).expect_err("the port is taken");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    drop(server);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "nothing listens after drop"
    );
    // The profiler goes on without it.
    profiler.record_event("after", EventKind::Computation, [("n", 1.0)]);
    assert_eq!(profiler.snapshot().total_events(), 1);
}

#[test]
fn a_large_scrape_streams_in_chunks_and_equals_the_text_an_http10_client_gets_whole() {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    for i in 0..2_000 {
        profiler.record_event(
            &format!("crossbar.op{i:04}"),
            EventKind::HardwareAccess,
            [("energy_pj", i as f64)],
        );
    }
    let server = profiler.serve_metrics("127.0.0.1:0").unwrap();
    let streamed = scrape(server.local_addr());
    assert!(streamed.len() > 1 << 20, "{} bytes", streamed.len());
    let old = exchange(server.local_addr(), b"GET /metrics HTTP/1.0\r\n\r\n");
    let (head, whole) = old.split_once("\r\n\r\n").expect("a head");
    assert!(
        head.contains(&format!("Content-Length: {}", whole.len())),
        "{head}"
    );
    // Nothing is recorded meanwhile: the same text both ways and as metrics_text(), but for
    // the RSS gauge, read at each scrape.
    let no_rss = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("rram_profiler_resident_bytes "))
            .map(str::to_owned)
            .collect()
    };
    let text = profiler.metrics_text().unwrap();
    for (what, other) in [("HTTP/1.0", whole), ("metrics_text()", &text)] {
        let (a, b) = (no_rss(&streamed), no_rss(other));
        let first = a.iter().zip(&b).position(|(x, y)| x != y);
        assert!(
            a.len() == b.len() && first.is_none(),
            "{what}: {} vs {} lines, first difference at {first:?}",
            a.len(),
            b.len()
        );
    }
    assert_eq!(
        value(
            &streamed,
            r#"rram_profiler_calls_total{operation="crossbar.op1999",kind="hardware_access"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn a_client_that_stops_reading_cannot_hold_the_endpoint() {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .build()
        .unwrap();
    // ~18 MiB of text: more than loopback's socket buffers hold (4 + 6 MiB at most).
    for i in 0..10_000 {
        profiler.record_event(&format!("op{i:05}"), EventKind::Computation, [("n", 1.0)]);
    }
    let server = profiler.serve_metrics("127.0.0.1:0").unwrap();
    let mut stalled = TcpStream::connect(server.local_addr()).unwrap();
    stalled
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // It never reads. The next scrape is served once the stalled one's write times out
    // (without the timeout the server would wait on it forever and this scrape would get
    // nothing within its 30 s read timeout).
    let body = scrape(server.local_addr());
    assert!(body.contains(r#"rram_profiler_calls_total{operation="op09999",kind="computation"} 1"#));
    // The stalled client's body was cut: no closing chunk.
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut cut = Vec::new();
    let _ = stalled.read_to_end(&mut cut);
    assert!(
        !cut.ends_with(b"\r\n0\r\n\r\n"),
        "{} bytes, complete",
        cut.len()
    );
    drop(stalled);
}

#[test]
fn label_cardinality_is_bounded_by_the_operation_cap() {
    let profiler = PerformanceProfiler::builder()
        .without_monitor()
        .max_operations(50)
        .build()
        .unwrap();
    for i in 0..5_000 {
        profiler.record_event(&format!("item {i}"), EventKind::Computation, [("n", 1.0)]);
    }
    let text = profiler.metrics_text().unwrap();
    let series = text
        .lines()
        .filter(|l| l.starts_with("rram_profiler_calls_total{"))
        .count();
    assert_eq!(series, 51, "50 names and one <other>");
    assert_eq!(
        value(
            &text,
            r#"rram_profiler_calls_total{operation="<other>",kind="computation"}"#
        ),
        Some(4_950.0)
    );
}

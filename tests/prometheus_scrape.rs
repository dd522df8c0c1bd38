//! A real Prometheus server scrapes `rram-prof demo --serve`, and its query API agrees with the
//! profile the demo saved: the live endpoint serves the exact aggregates.
//!
//! Needs the `prometheus` binary (Debian package `prometheus`, which `.ci/run` installs). Without
//! it the test prints why and passes, except under `CI=true`, where a missing binary fails it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rram_profiler::profiler_runtime::{EventKind, Profile};

/// Kills (and reaps) a child process this test started when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `prometheus` binary on `PATH`, if any.
fn find_prometheus() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Percent-encodes a query parameter's value.
fn encode_query(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET http://addr{path}` over HTTP/1.0: the body, or `None` when nobody answers yet.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .ok()?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply).ok()?;
    reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}

/// Prometheus's answer to an instant query, as the single sample's value, if it has one.
fn query_value(prom: SocketAddr, q: &str) -> (Option<f64>, String) {
    let Some(body) = http_get(prom, &format!("/api/v1/query?query={}", encode_query(q))) else {
        return (None, "no answer yet".to_owned());
    };
    let v: serde_json::Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(_) => return (None, body),
    };
    let value = v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok());
    (value, body)
}

/// Waits until `ready` says yes, or panics after `limit` with `what` and `context()`.
fn wait_for<T>(
    limit: Duration,
    what: &str,
    mut ready: impl FnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(
            t0.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[test]
fn prometheus_scrapes_the_demo_and_its_counts_equal_the_saved_profile() {
    let Some(prometheus) = find_prometheus() else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true but the `prometheus` binary is missing (.ci/run installs the Debian package `prometheus`)"
        );
        eprintln!(
            "skipped: no `prometheus` binary on PATH (`apt-get install prometheus` to run this test)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");

    // The demo serves on a port of its choosing and prints the URL on stderr.
    let mut demo = Reaped(
        Command::new(env!("CARGO_BIN_EXE_rram-prof"))
            .args(["demo", "--sizes", "8,16", "--block-sizes", "16"])
            .args(["--tiles", "8", "--quiet", "--serve", "127.0.0.1:0"])
            .args(["--linger", "300", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rram-prof runs"),
    );
    let stderr = demo.0.stderr.take().expect("piped stderr");
    let said = Arc::new(Mutex::new(String::new()));
    let (url_tx, url_rx) = mpsc::channel();
    {
        let said = said.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("serving metrics at ") {
                    let _ = url_tx.send(url.split_whitespace().next().unwrap_or("").to_owned());
                }
                if let Ok(mut s) = said.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
    }
    let url = url_rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the demo printed no metrics URL: {}", said.lock().unwrap()));
    let target = url
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/metrics"))
        .expect("http://ADDR/metrics")
        .to_owned();

    // Prometheus on loopback, scraping the demo every second.
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: rram\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("config written");
    let prom_addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let log = dir.path().join("prometheus.log");
    let log_file = std::fs::File::create(&log).expect("log file");
    let _prometheus = Reaped(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("prometheus starts"),
    );

    // The sweep ends with profile.json: from then on the counts are final.
    let saved = out.join("profile.json");
    wait_for(
        Duration::from_secs(600),
        "the demo's profile.json",
        || saved.is_file().then_some(()),
        || said.lock().map(|s| s.clone()).unwrap_or_default(),
    );
    let profile = Profile::load(&saved).expect("the demo's profile loads");
    let expected = profile
        .operations
        .iter()
        .find(|o| o.name.to_string() == "hp_inv" && o.kind == EventKind::Computation)
        .expect("the demo profiles hp_inv")
        .count;
    assert!(expected > 0);

    // Prometheus scrapes the endpoint, and its query API gives the profile's exact count of
    // hp_inv. Counters only grow, so once the sum over every series is the profile's total,
    // the scrape Prometheus holds is one taken after the sweep.
    let total: u64 = profile.operations.iter().map(|o| o.count).sum();
    let sum = r#"sum(rram_profiler_calls_total{job="rram"})"#;
    wait_for(
        Duration::from_secs(120),
        "Prometheus to scrape the final counts",
        || query_value(prom_addr, sum).0.filter(|&v| v == total as f64),
        || {
            format!(
                "expected {total}; last answer: {}\nprometheus log:\n{}",
                query_value(prom_addr, sum).1,
                tail(&log)
            )
        },
    );
    let query = r#"rram_profiler_calls_total{job="rram",operation="hp_inv",kind="computation"}"#;
    let (got, body) = query_value(prom_addr, query);
    assert_eq!(got, Some(expected as f64), "{body}");

    // Every operation of the profile is a series with its exact count.
    for op in profile.operations.iter().take(20) {
        let q = format!(
            r#"rram_profiler_calls_total{{job="rram",operation="{}",kind="{}"}}"#,
            op.name,
            op.kind.as_str()
        );
        let (v, body) = query_value(prom_addr, &q);
        assert_eq!(v, Some(op.count as f64), "{q}: {body}");
    }
}

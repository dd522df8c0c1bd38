//! An OTLP/HTTP receiver for tests, built only from the OpenTelemetry project's protobuf
//! definitions (`opentelemetry-proto`'s prost types): it decodes every request the exporter
//! sends and keeps it, or refuses, or stalls, as a test asks.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Decodes and keeps every request, answers 200.
    Accept,
    /// Reads each request and answers with this status (e.g. 503).
    Refuse(u16),
    /// Reads each request and never answers (until the receiver stops).
    Stall,
}

/// What the receiver got.
#[derive(Default)]
pub struct Received {
    pub traces: Vec<ExportTraceServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
    pub requests: u64,
    /// Requests it could not decode (path and why).
    pub bad: Vec<String>,
}

pub struct Receiver {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    pub data: Arc<Mutex<Received>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    pub fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let data = Arc::new(Mutex::new(Received::default()));
        let (s, d) = (stop.clone(), data.clone());
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (s, d) = (s.clone(), d.clone());
                        workers.push(std::thread::spawn(move || serve(conn, mode, &s, &d)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        Receiver {
            addr,
            stop,
            data,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received, with its resource.
    pub fn spans(&self) -> Vec<(Resource, Span)> {
        let d = self.data.lock().expect("receiver data");
        d.traces
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|rs| {
                let res = rs.resource.clone().unwrap_or_default();
                rs.scope_spans.iter().flat_map(move |ss| {
                    ss.spans.iter().map({
                        let res = res.clone();
                        move |s| (res.clone(), s.clone())
                    })
                })
            })
            .collect()
    }

    pub fn requests(&self) -> u64 {
        self.data.lock().expect("receiver data").requests
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request: its path and body (by Content-Length).
fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split(' ').nth(1)?.to_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((path, buf[head_end..head_end + len].to_vec()))
}

fn answer(conn: &mut TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn serve(mut conn: TcpStream, mode: Mode, stop: &AtomicBool, data: &Mutex<Received>) {
    let _ = conn.set_nonblocking(false);
    let Some((path, body)) = read_request(&mut conn) else {
        return;
    };
    data.lock().expect("receiver data").requests += 1;
    match mode {
        Mode::Stall => {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Mode::Refuse(status) => answer(&mut conn, status, b"busy"),
        Mode::Accept => {
            let mut d = data.lock().expect("receiver data");
            let reply = match path.as_str() {
                "/v1/traces" => match ExportTraceServiceRequest::decode(body.as_slice()) {
                    Ok(r) => {
                        d.traces.push(r);
                        ExportTraceServiceResponse::default().encode_to_vec()
                    }
                    Err(e) => {
                        d.bad.push(format!("{path}: {e}"));
                        Vec::new()
                    }
                },
                "/v1/metrics" => match ExportMetricsServiceRequest::decode(body.as_slice()) {
                    Ok(r) => {
                        d.metrics.push(r);
                        ExportMetricsServiceResponse::default().encode_to_vec()
                    }
                    Err(e) => {
                        d.bad.push(format!("{path}: {e}"));
                        Vec::new()
                    }
                },
                other => {
                    d.bad.push(format!("unexpected path {other}"));
                    Vec::new()
                }
            };
            drop(d);
            answer(&mut conn, 200, &reply);
        }
    }
}

/// The value of attribute `key`.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

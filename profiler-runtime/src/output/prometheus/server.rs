//! [`MetricsServer`]: a minimal HTTP/1.1 responder for `/metrics`, on one thread of its own.
//!
//! Why not an HTTP server crate: a scrape endpoint answers one kind of request, and a small
//! responder can bound everything a client can make it do. The small synchronous servers
//! do not: `tiny_http` 0.12, the usual choice, reads a request line or header until CRLF into
//! a growing buffer with no limit (a client that never sends CRLF grows it without end), sets
//! no read timeout (a client that sends nothing holds its connection forever), and starts
//! a thread for every connection beyond four (a connection flood is a thread flood); the
//! async servers (hyper, axum) bring a runtime of their own. Here one connection is served
//! at a time (Prometheus scrapes one target serially); its request head is read up to
//! [`MAX_HEAD_BYTES`] within [`READ_DEADLINE`] (a client that sends more, or trickles, gets
//! `431` or `408` and is closed); the response is streamed in chunks as it is encoded, each
//! write within [`WRITE_TIMEOUT`] and the whole within [`SEND_DEADLINE`] (a client that stops
//! reading, or reads a byte at a time, cannot hold the endpoint); every connection is closed after one response;
//! nothing a client sends can panic the thread (the request line is parsed as bytes, never
//! indexed blindly). The accept loop waits in `poll(2)` with a short timeout, so dropping the
//! server stops it within [`STOP_LATENCY`] even when nobody connects.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::ProfileError;

/// The media type of the Prometheus text format the endpoint serves.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The most bytes of a request head (request line and headers) read.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a client has to send its whole request head.
pub const READ_DEADLINE: Duration = Duration::from_secs(2);
/// How long one write of the response may block.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest one response may take to send, however slowly the client reads: a scrape
/// still unsent by then is cut (the client sees no closing chunk) and the next connection
/// is served.
pub const SEND_DEADLINE: Duration = Duration::from_secs(30);
/// The longest the accept loop waits before it looks whether it should stop.
pub const STOP_LATENCY: Duration = Duration::from_millis(100);

/// What writes a scrape's body (the profiler's metrics text) to a sink, a piece at a time;
/// it stops at the sink's first error and returns it.
pub(crate) type Render =
    Box<dyn Fn(&mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> + Send>;

/// Counters of a server, shared with its thread.
#[derive(Default)]
struct Counters {
    scrapes: AtomicU64,
    rejected: AtomicU64,
}

/// A running `/metrics` endpoint (see [`PerformanceProfiler::serve_metrics`]). Dropping it
/// stops the server and closes its socket before `drop` returns.
///
/// [`PerformanceProfiler::serve_metrics`]: crate::PerformanceProfiler::serve_metrics
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MetricsServer {
    /// Binds `addr` and starts serving.
    pub(crate) fn start(addr: impl ToSocketAddrs, render: Render) -> Result<Self, ProfileError> {
        let shown = || {
            addr.to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map_or_else(|| "the given address".to_owned(), |a| a.to_string())
        };
        let listener = TcpListener::bind(&addr).map_err(|source| ProfileError::Net {
            action: "binding the metrics endpoint",
            addr: shown(),
            source,
        })?;
        let local = listener.local_addr().map_err(|source| ProfileError::Net {
            action: "reading the metrics endpoint's address",
            addr: shown(),
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ProfileError::Net {
                action: "setting up the metrics endpoint",
                addr: local.to_string(),
                source,
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (stop2, counters2) = (stop.clone(), counters.clone());
        let thread = std::thread::Builder::new()
            .name("rram-prof-metrics".into())
            .spawn(move || serve(&listener, &render, &stop2, &counters2))
            .map_err(|e| {
                ProfileError::InvalidConfig(format!("cannot start the metrics thread: {e}"))
            })?;
        Ok(MetricsServer {
            addr: local,
            stop,
            counters,
            thread: Some(thread),
        })
    }

    /// The address it listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The scrape URL, `http://<addr>/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// Scrapes of `/metrics` answered so far.
    pub fn scrapes(&self) -> u64 {
        self.counters.scrapes.load(Ordering::Relaxed)
    }

    /// Requests answered with an error status (bad, too large, too slow, wrong path or
    /// method) so far.
    pub fn rejected(&self) -> u64 {
        self.counters.rejected.load(Ordering::Relaxed)
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: &TcpListener, render: &Render, stop: &AtomicBool, counters: &Counters) {
    while !stop.load(Ordering::Relaxed) {
        if !wait_readable(listener, STOP_LATENCY) {
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => match answer(stream, render) {
                Served::Scrape => {
                    counters.scrapes.fetch_add(1, Ordering::Relaxed);
                }
                Served::Rejected => {
                    counters.rejected.fetch_add(1, Ordering::Relaxed);
                }
                Served::Other => {}
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => {
                // Out of file descriptors or the like: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Waits until the listener has a connection to accept, or `timeout` passes.
#[cfg(unix)]
fn wait_readable(listener: &TcpListener, timeout: Duration) -> bool {
    use std::os::unix::io::AsRawFd;
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, for the duration of the call.
    unsafe { libc::poll(&mut fd, 1, ms) > 0 }
}

#[cfg(not(unix))]
fn wait_readable(_listener: &TcpListener, timeout: Duration) -> bool {
    std::thread::sleep(timeout.min(Duration::from_millis(20)));
    true
}

/// What a request head asked for.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    /// `/metrics`; `chunked` when the client speaks HTTP/1.1 (the body is streamed in chunks
    /// as it is encoded), else the whole body is sent with its length.
    Metrics {
        head_only: bool,
        chunked: bool,
    },
    Index {
        head_only: bool,
    },
    NotFound,
    BadMethod,
    Bad,
}

/// Parses a request line (`GET /metrics HTTP/1.1`); headers are not needed.
fn parse(head: &[u8]) -> Asked {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Asked::Bad;
    };
    if !version.starts_with(b"HTTP/1.") {
        return Asked::Bad;
    }
    let head_only = match method {
        b"GET" => false,
        b"HEAD" => true,
        _ => return Asked::BadMethod,
    };
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    match path {
        b"/metrics" => Asked::Metrics {
            head_only,
            chunked: version != b"HTTP/1.0",
        },
        b"/" => Asked::Index { head_only },
        _ => Asked::NotFound,
    }
}

/// Reads the request head (up to the blank line): `Err(status)` when it is too large or too
/// slow, `Ok(None)` when the client closed first.
fn read_head(stream: &mut TcpStream) -> Result<Option<Vec<u8>>, u16> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(408);
        }
        if stream.set_read_timeout(Some(left)).is_err() {
            return Ok(None);
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                let from = head.len().saturating_sub(3);
                head.extend_from_slice(&buf[..n]);
                if head[from..].windows(4).any(|w| w == b"\r\n\r\n")
                    || head[from..].windows(2).any(|w| w == b"\n\n")
                {
                    return Ok(Some(head));
                }
                if head.len() > MAX_HEAD_BYTES {
                    return Err(431);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(408)
            }
            Err(_) => return Ok(None),
        }
    }
}

/// How one connection went.
enum Served {
    /// `/metrics` answered.
    Scrape,
    /// An error status (or a connection that broke before its response).
    Rejected,
    /// Anything else (the index page, a client that closed without asking).
    Other,
}

/// Serves one connection.
fn answer(mut stream: TcpStream, render: &Render) -> Served {
    if stream.set_nonblocking(false).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return Served::Rejected;
    }
    let _ = stream.set_nodelay(true);
    let head = match read_head(&mut stream) {
        Ok(Some(h)) => h,
        Ok(None) => return Served::Other,
        Err(status) => {
            let _ = respond(&mut stream, status, "text/plain", b"", false);
            return Served::Rejected;
        }
    };
    let status = |ok: bool| if ok { Served::Scrape } else { Served::Rejected };
    match parse(&head) {
        Asked::Metrics {
            head_only,
            chunked: true,
        } => status(stream_metrics(&mut stream, render, head_only).is_ok()),
        Asked::Metrics {
            head_only,
            chunked: false,
        } => {
            let mut body = String::new();
            let mut keep = |s: &str| {
                body.push_str(s);
                Ok(())
            };
            match render(&mut keep) {
                Ok(()) => status(
                    respond(&mut stream, 200, CONTENT_TYPE, body.as_bytes(), head_only).is_ok(),
                ),
                Err(e) => {
                    let reason = format!("encoding the metrics: {e}\n");
                    let _ = respond(&mut stream, 500, "text/plain", reason.as_bytes(), head_only);
                    Served::Rejected
                }
            }
        }
        Asked::Index { head_only } => {
            let _ = respond(
                &mut stream,
                200,
                "text/plain; charset=utf-8",
                b"rram-profiler: metrics at /metrics\n",
                head_only,
            );
            Served::Other
        }
        Asked::NotFound => {
            let _ = respond(
                &mut stream,
                404,
                "text/plain",
                b"not found: try /metrics\n",
                false,
            );
            Served::Rejected
        }
        Asked::BadMethod => {
            let _ = respond(&mut stream, 405, "text/plain", b"GET or HEAD only\n", false);
            Served::Rejected
        }
        Asked::Bad => {
            let _ = respond(&mut stream, 400, "text/plain", b"bad request\n", false);
            Served::Rejected
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    }
}

/// Sends `/metrics` with chunked transfer coding while it is encoded: the body is never held
/// whole (a 10,000-operation scrape is ~20 MiB), encoding overlaps the transfer, and a body
/// cut short is seen as such by the client (no closing chunk), never taken as complete.
fn stream_metrics(stream: &mut TcpStream, render: &Render, head_only: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        let deadline = Instant::now() + SEND_DEADLINE;
        let mut frame: Vec<u8> = Vec::with_capacity(super::encode::CHUNK_BYTES + 8 * 1024);
        let mut send = |piece: &str| -> io::Result<()> {
            if piece.is_empty() {
                return Ok(()); // an empty chunk would end the body
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client read too slowly",
                ));
            }
            stream.set_write_timeout(Some(left.min(WRITE_TIMEOUT)))?;
            frame.clear();
            write!(frame, "{:x}\r\n", piece.len())?;
            frame.extend_from_slice(piece.as_bytes());
            frame.extend_from_slice(b"\r\n");
            stream.write_all(&frame)
        };
        render(&mut send)?;
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Asked::Metrics {
                head_only: false,
                chunked: true
            }
        );
        assert_eq!(
            parse(b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Asked::Metrics {
                head_only: true,
                chunked: false
            }
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\r\n"),
            Asked::Index { head_only: false }
        );
        assert_eq!(parse(b"GET /other HTTP/1.1\r\n\r\n"), Asked::NotFound);
        assert_eq!(parse(b"POST /metrics HTTP/1.1\r\n\r\n"), Asked::BadMethod);
        for garbage in [
            &b""[..],
            b"\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET /metrics\r\n\r\n",
            b"GET /metrics SPDY/3 extra\r\n\r\n",
            b"\xff\xfe\x00 \x01 \x02\r\n\r\n",
            b"GET /metrics FTP/1.1\r\n\r\n",
        ] {
            assert_eq!(parse(garbage), Asked::Bad, "{garbage:?}");
        }
    }
}

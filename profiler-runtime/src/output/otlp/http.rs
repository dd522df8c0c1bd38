//! A minimal OTLP/HTTP client: `POST` of one protobuf body to a plain `http://` collector,
//! over `std::net`, with a connect timeout, a deadline for the whole exchange, and a bounded
//! read of the answer. Collectors here are on loopback or a local network; TLS (`https://`)
//! is refused with an error that says so (put a local collector or proxy in front).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::error::ProfileError;

/// The most bytes of a collector's answer read (its status, headers and a short body).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A collector's base URL, parsed: `http://host[:port][/prefix]`. The signal paths
/// (`/v1/traces`, `/v1/metrics`) go after the prefix, as OTLP/HTTP specifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL as given.
    pub url: String,
    /// `host:port` (the port defaults to 80, as for any `http://` URL).
    pub authority: String,
    /// The host alone, for the `Host` header.
    pub host: String,
    /// Path prefix without a trailing `/` (empty for none).
    pub prefix: String,
}

impl Endpoint {
    /// Parses a collector's base URL. A URL that already ends in `/v1/traces` or
    /// `/v1/metrics` is taken as the base before it.
    ///
    /// ```
    /// use profiler_runtime::output::otlp::Endpoint;
    /// let e = Endpoint::parse("http://127.0.0.1:4318").unwrap();
    /// assert_eq!(e.authority, "127.0.0.1:4318");
    /// assert_eq!(e.path("/v1/traces"), "/v1/traces");
    /// assert!(Endpoint::parse("https://collector:4318").is_err());
    /// assert!(Endpoint::parse("127.0.0.1:4318").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Endpoint, ProfileError> {
        let bad = |why: &str| ProfileError::InvalidInput(format!("OTLP endpoint `{url}`: {why}"));
        let rest = if let Some(r) = url.strip_prefix("http://") {
            r
        } else if url.starts_with("https://") {
            return Err(bad(
                "https is not supported: send to a collector on this machine or network \
                 over http (e.g. http://127.0.0.1:4318), and let it forward over TLS",
            ));
        } else {
            return Err(bad("expected a URL such as http://127.0.0.1:4318"));
        };
        if url.len() > 2048 || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("spaces, control characters or over 2048 bytes"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("expected host[:port] after http://"));
        }
        let (host, port) = split_port(authority).ok_or_else(|| bad("a bad port"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut prefix = path.trim_end_matches('/');
        for signal in ["/v1/traces", "/v1/metrics"] {
            if let Some(p) = prefix.strip_suffix(signal) {
                prefix = p;
            }
        }
        Ok(Endpoint {
            url: url.to_owned(),
            authority: format!("{host}:{port}"),
            host: host.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The request path of a signal (`/v1/traces`, `/v1/metrics`).
    pub fn path(&self, signal: &str) -> String {
        format!("{}{signal}", self.prefix)
    }
}

/// `host` and port of `host[:port]` (`[v6]:port` too); the port defaults to 80.
fn split_port(authority: &str) -> Option<(&str, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        return match &rest[end + 1..] {
            "" => Some((host, 80)),
            p => Some((host, p.strip_prefix(':')?.parse().ok()?)),
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h, p.parse().ok()?)),
        None => Some((authority, 80)),
    }
}

/// A collector's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub status: u16,
    /// `Retry-After` in seconds, where given.
    pub retry_after: Option<Duration>,
    /// The start of the body (for error messages).
    pub body: Vec<u8>,
}

/// Why a request did not get an answer.
#[derive(Debug)]
pub(crate) struct Failure(pub String);

/// The longest one blocking read or write waits before it looks at `cancel` again.
const SLICE: Duration = Duration::from_millis(100);

/// POSTs `body` (protobuf) to `path` of `endpoint`, within `timeout` for the whole exchange;
/// gives up early once `cancel()` says so (checked at least every 100 ms while waiting).
pub(crate) fn post(
    endpoint: &Endpoint,
    path: &str,
    body: &[u8],
    timeout: Duration,
    cancel: &dyn Fn() -> bool,
) -> Result<Answer, Failure> {
    let deadline = Instant::now() + timeout;
    let fail = |what: &str, e: io::Error| Failure(format!("{what} {}: {e}", endpoint.url));
    let addrs: Vec<SocketAddr> = endpoint
        .authority
        .to_socket_addrs()
        .map_err(|e| fail("resolving", e))?
        .collect();
    let mut last = None;
    let mut stream = None;
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || cancel() {
            break;
        }
        // A connection is made in one blocking call: at most a second of it past a cancel.
        match TcpStream::connect_timeout(&a, left.min(Duration::from_secs(1))) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut stream = stream.ok_or_else(|| {
        fail(
            "connecting to",
            last.unwrap_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        )
    })?;
    let _ = stream.set_nodelay(true);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-protobuf\r\n\
         Content-Length: {}\r\nUser-Agent: rram-profiler/{}\r\nConnection: close\r\n\r\n",
        endpoint.host,
        body.len(),
        env!("CARGO_PKG_VERSION")
    );
    write_all_by(&mut stream, head.as_bytes(), deadline, cancel)
        .map_err(|e| fail("sending to", e))?;
    write_all_by(&mut stream, body, deadline, cancel).map_err(|e| fail("sending to", e))?;
    let answer =
        read_answer(&mut stream, deadline, cancel).map_err(|e| fail("reading the answer of", e))?;
    parse_answer(&answer).ok_or_else(|| {
        Failure(format!(
            "{} answered something that is not HTTP/1.x",
            endpoint.url
        ))
    })
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the collector did not answer in time",
    )
}

fn cancelled() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "given up (shutting down)")
}

/// How long the next blocking call may wait: until the deadline, at most [`SLICE`]; an error
/// once the deadline passed or `cancel()` says so.
fn next_wait(deadline: Instant, cancel: &dyn Fn() -> bool) -> io::Result<Duration> {
    if cancel() {
        return Err(cancelled());
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(timed_out());
    }
    Ok(left.min(SLICE))
}

/// Writes `bytes` before `deadline` (see [`next_wait`]).
fn write_all_by(
    stream: &mut TcpStream,
    mut bytes: &[u8],
    deadline: Instant,
    cancel: &dyn Fn() -> bool,
) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.set_write_timeout(Some(next_wait(deadline, cancel)?))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if retry_after(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether an I/O error only means "not yet": interrupted, or a timeout set to the next check
/// of the deadline and the cancel flag.
fn retry_after(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads the answer until the server closes, the head and a `Content-Length` body are in,
/// [`MAX_ANSWER_BYTES`], or `deadline`.
fn read_answer(
    stream: &mut TcpStream,
    deadline: Instant,
    cancel: &dyn Fn() -> bool,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    let mut buf = [0u8; 4096];
    loop {
        if let Some(len) = complete_len(&out) {
            out.truncate(len);
            return Ok(out);
        }
        if out.len() >= MAX_ANSWER_BYTES {
            return Ok(out);
        }
        stream.set_read_timeout(Some(next_wait(deadline, cancel)?))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n.min(MAX_ANSWER_BYTES - out.len())]),
            Err(e) if retry_after(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Where the head ends (after its blank line).
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The length of a complete answer (head and `Content-Length` body), if it is all in.
fn complete_len(bytes: &[u8]) -> Option<usize> {
    let end = head_end(bytes)?;
    let len = header(&bytes[..end], "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let total = end.checked_add(len)?;
    (bytes.len() >= total).then_some(total)
}

/// The value of header `name` (lower case) in a head.
fn header<'a>(head: &'a [u8], name: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(head).ok()?;
    text.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Status, `Retry-After` and the start of the body of an answer.
fn parse_answer(bytes: &[u8]) -> Option<Answer> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&bytes[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let end = head_end(bytes).unwrap_or(bytes.len());
    let retry_after = header(&bytes[..end], "retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = bytes.get(end..).unwrap_or_default();
    Some(Answer {
        status,
        retry_after,
        body: body[..body.len().min(512)].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://collector.local/otlp/v1/traces/").expect("valid");
        assert_eq!(e.authority, "collector.local:80");
        assert_eq!(e.path("/v1/metrics"), "/otlp/v1/metrics");
        let v6 = Endpoint::parse("http://[::1]:4318").expect("valid");
        assert_eq!(v6.authority, "[::1]:4318");
        for bad in [
            "",
            "http://",
            "http://:4318",
            "http://host:99999",
            "http://host:port",
            "http://user@host:1",
            "ftp://host",
            "http://ho st:1",
            "http://[::1",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn answers() {
        let a = parse_answer(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nbusy",
        )
        .expect("parses");
        assert_eq!(a.status, 503);
        assert_eq!(a.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(a.body, b"busy");
        assert!(parse_answer(b"garbage\r\n\r\n").is_none());
        assert!(parse_answer(b"HTTP/1.1 abc\r\n\r\n").is_none());
        assert!(parse_answer(b"").is_none());
        assert_eq!(
            complete_len(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"),
            Some(40)
        );
        assert_eq!(
            complete_len(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"),
            None
        );
        let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n";
        assert_eq!(
            complete_len(huge),
            Some(huge.len()),
            "an unparsable length reads as no body"
        );
    }
}

//! The two halves of http-get that never touch a socket, so that they can be
//! tested (and fuzzed) on bytes alone:
//!
//! - [`Url`]: what `http://host:port/path?query` (or `https://`) names.
//! - [`ResponseReader`]: reads an HTTP/1.1 response (RFC 9112) from bytes
//!   fed to it in pieces of any size, and hands back the head and the body
//!   as they complete. It keeps at most one response head (64 KiB by
//!   default) in memory; the body passes straight through.
//! - [`tls`] (lesson 11): the trust, the checks and the words for what
//!   fails, and [`x509`]: just enough of a certificate to show it.

use std::fmt;

pub mod tls;
pub mod x509;

/// What went wrong reading a URL or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError(pub String);

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

fn error<T>(message: impl Into<String>) -> Result<T, HttpError> {
    Err(HttpError(message.into()))
}

// ANCHOR: url
/// `http` (lesson 09) or `https`: HTTP inside TLS (lesson 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    /// The port a URL means when it names none: 80 for http, 443 for https.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// An `http://` or `https://` URL, split into what a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: Scheme,
    /// The host as written, without brackets for IPv6: `example.com`, `::1`.
    pub host: String,
    pub port: u16,
    /// The path and query: `/index.html?x=1`. Never empty.
    pub target: String,
}

impl Url {
    /// Parses `http://host[:port][/path][?query]`, or the same with
    /// `https://`. A fragment (`#...`) is dropped: it never goes to the server.
    pub fn parse(text: &str) -> Result<Url, HttpError> {
        let (scheme, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "http://")
        {
            (Scheme::Http, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (Scheme::Https, rest)
        } else {
            return error(format!("{text:?} is not an http:// or https:// URL"));
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, target) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        // "http://h?q" has an empty path, which means "/"; "/a/../b" means
        // "/b" (curl does the same).
        let (path, query) = split_query(target);
        let path = if path.is_empty() { "/" } else { path };
        let target = format!("{}{}", remove_dot_segments(path), query);
        if authority.contains('@') {
            return error("user names and passwords in URLs are not supported");
        }
        let (host, port) = split_host_port(authority, scheme.default_port())?;
        if target.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return error("the path contains a space or a control character");
        }
        Ok(Url {
            scheme,
            host,
            port,
            target,
        })
    }

    /// The value of the Host header: the port only when it isn't the
    /// scheme's own (80 or 443), an IPv6 address in brackets.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Splits `host[:port]` or `[v6][:port]`; the port is `default` when absent.
fn split_host_port(authority: &str, default: u16) -> Result<(String, u16), HttpError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return error("an IPv6 address must end with ']'");
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return error(format!("{host:?} is not an IPv6 address"));
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return error("unexpected text after the IPv6 address"),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return error("the URL has no host");
    }
    if host.contains(|c: char| c.is_whitespace() || c.is_control() || c == '/') {
        return error("the host contains a space or a control character");
    }
    if host.contains(':') && !authority.starts_with('[') {
        return error("an IPv6 address in a URL needs brackets: http://[::1]:8080/");
    }
    let port = match port {
        // "http://host:/" has an empty port, which means the default.
        None | Some("") => default,
        Some(port) => port.parse().map_err(|_| {
            HttpError(format!("{port:?} is not a port number (0 to 65535)"))
        })?,
    };
    Ok((host.to_string(), port))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}
// ANCHOR_END: url

// ANCHOR: resolve
impl Url {
    /// The URL that a `Location` header points to, from this one: RFC 3986
    /// §5.2.2, "transform references", for a base that is always an
    /// `http://` or `https://` URL with a path.
    pub fn join(&self, reference: &str) -> Result<Url, HttpError> {
        // The fragment never goes to a server (§5.2.2 would keep it).
        let reference = reference.split('#').next().unwrap_or_default();
        // "https://other/x": a URL of its own (http and https may point to
        // each other); `parse` removes its dot segments.
        if has_scheme(reference) {
            return Url::parse(reference);
        }
        // "//other/x": another host, with our scheme.
        let scheme = self.scheme.as_str();
        if let Some(rest) = reference.strip_prefix("//") {
            return Url::parse(&format!("{scheme}://{rest}"));
        }
        let (base_path, base_query) = split_query(&self.target);
        let (path, query) = split_query(reference);
        let target = if path.is_empty() {
            // "" or "?q": the same path, with the reference's query if it
            // has one, else the base's.
            let query = if query.is_empty() { base_query } else { query };
            format!("{base_path}{query}")
        } else if path.starts_with('/') {
            // "/x/../y": from the root.
            format!("{}{query}", remove_dot_segments(path))
        } else {
            // "../y", "./y", "y": from the base path's directory.
            format!("{}{query}", remove_dot_segments(&merge(base_path, path)))
        };
        Url::parse(&format!("{scheme}://{}{}", self.host_header(), target))
    }
}

/// RFC 3986 §5.2.3: a relative path goes after the last `/` of the base
/// path, in place of its last segment (`/a/b` and `c` give `/a/c`).
fn merge(base_path: &str, path: &str) -> String {
    let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
    format!("{dir}{path}")
}

/// RFC 3986 §5.2.4: removes the `.` and `..` segments of a path, as a
/// browser does: `/a/b/../c/./d` is `/a/c/d`. A `..` at the root stays at
/// the root, so `/../../x` is `/x`.
pub fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    // The segments kept, each with the "/" in front of it.
    let mut output: Vec<&str> = Vec::new();
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or(input.strip_prefix("./")) {
            // A: a leading "../" or "./" (only in a relative path) goes.
            input = rest;
        } else if input.starts_with("/./") || input == "/." {
            // B: "/./" is "/".
            input = if input == "/." { "/" } else { &input[2..] };
        } else if input.starts_with("/../") || input == "/.." {
            // C: "/../" is "/", and the segment before it goes too.
            input = if input == "/.." { "/" } else { &input[3..] };
            output.pop();
        } else if input == "." || input == ".." {
            // D: a path that is only dots.
            input = "";
        } else {
            // E: the first segment, with its "/" if any, moves to the output.
            let skip = usize::from(input.starts_with('/'));
            let end = input[skip..].find('/').map_or(input.len(), |i| i + skip);
            output.push(&input[..end]);
            input = &input[end..];
        }
    }
    output.concat()
}

/// Splits `/path?query` into `/path` and `?query` (empty when absent).
fn split_query(target: &str) -> (&str, &str) {
    target.split_at(target.find('?').unwrap_or(target.len()))
}

/// Whether a reference starts with a scheme (RFC 3986 §3.1): a letter,
/// then letters, digits, `+`, `-` or `.`, then a colon.
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else {
        return false;
    };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}
// ANCHOR_END: resolve

/// The status line and header fields of a response: its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    pub status: u16,
    /// The reason phrase, as sent. Like a field value, it may hold bytes
    /// that are not UTF-8 (RFC 9112 §4: obs-text).
    pub reason: Vec<u8>,
    /// In the order received: each name as sent (a token, so ASCII) and
    /// its value as bytes, without the spaces around it.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// The value of the first header field called `name`, compared
    /// without case.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The values of every header field called `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The status line and the header lines, to show to a person: bytes
    /// that are not UTF-8 become U+FFFD, control characters are escaped.
    pub fn lines(&self) -> Vec<String> {
        let shown = |bytes: &[u8]| course::printable(&String::from_utf8_lossy(bytes));
        let status_line =
            format!("{} {} {}", self.version, self.status, shown(&self.reason));
        let fields = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", shown(value)));
        std::iter::once(status_line).chain(fields).collect()
    }
}

/// What the reader found in the bytes fed to it.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The head of an interim response (`100 Continue`, `103 Early Hints`):
    /// it has no body, and another head follows.
    Interim(Head),
    /// The head of the final response.
    Head(Head),
    /// Body bytes, in order, straight from the input.
    Body(&'a [u8]),
    /// The response is complete.
    End,
}

/// Limits on what a server can make the reader hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes of a response head (status line and headers), or of a
    /// chunked body's trailers.
    pub max_head: usize,
    /// The most header lines.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_headers: 100,
        }
    }
}

// ANCHOR: framing
/// How the end of the body is found (RFC 9112 §6.3, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// `Transfer-Encoding: chunked`: pieces, each with its size in hex.
    Chunked,
    /// `Content-Length: n`: exactly n bytes; this many are still to come.
    Length(u64),
    /// Neither: the body ends when the server closes the connection.
    UntilClose,
}
// ANCHOR_END: framing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the status line and headers.
    Head,
    Body(Body),
    /// Reading a chunk-size line.
    ChunkSize,
    /// Inside a chunk: this many bytes to go.
    ChunkData(u64),
    /// After a chunk's data: its CRLF (true once the CR has come).
    ChunkEnd(bool),
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
    Done,
}

/// Reads one HTTP/1.1 response from bytes fed in any pieces.
pub struct ResponseReader {
    state: State,
    /// The lines of a response head read so far.
    pending: Vec<u8>,
    /// A line (of the head, a chunk size or a trailer) not yet complete.
    line_buf: Vec<u8>,
    /// Body bytes passed on so far, for a precise error at a premature end.
    body_seen: u64,
    /// The size of the last chunk, for a precise error when it is wrong.
    chunk_size: u64,
    limits: Limits,
}

impl ResponseReader {
    pub fn new(limits: Limits) -> Self {
        ResponseReader {
            state: State::Head,
            pending: Vec::new(),
            line_buf: Vec::new(),
            body_seen: 0,
            chunk_size: 0,
            limits,
        }
    }

    /// How many bytes the reader holds: never more than `max_head` (body
    /// bytes are never held).
    pub fn buffered(&self) -> usize {
        self.pending.len() + self.line_buf.len()
    }

    /// Whether the whole response has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// How many body bytes have been passed on so far.
    pub fn body_bytes(&self) -> u64 {
        self.body_seen
    }

    /// Whether the body is being read and only the end of the connection
    /// can end it (no Content-Length, not chunked). Over TLS that end must
    /// be a `close_notify`, or nothing shows the body is whole (lesson 11).
    pub fn runs_until_close(&self) -> bool {
        self.state == State::Body(Body::UntilClose)
    }

    /// Takes the bytes of one read and returns what they complete. Bytes
    /// after the end of the response are ignored.
    pub fn feed<'a>(&mut self, mut input: &'a [u8]) -> Result<Vec<Event<'a>>, HttpError> {
        let mut events = Vec::new();
        while !input.is_empty() {
            match self.state {
                State::Done => break,
                State::Head => {
                    let Some(line_block) = self.take_block(&mut input)? else {
                        break;
                    };
                    let head = parse_head(&line_block, self.limits)?;
                    // 1xx responses are interim: the real one follows.
                    if (100..200).contains(&head.status) {
                        if head.status == 101 {
                            return error("the server switched protocols (101), which http-get cannot follow");
                        }
                        events.push(Event::Interim(head));
                        continue;
                    }
                    let body = body_framing(&head)?;
                    events.push(Event::Head(head));
                    self.state = match body {
                        Some(Body::Chunked) => State::ChunkSize,
                        Some(Body::Length(0)) | None => {
                            events.push(Event::End);
                            State::Done
                        }
                        Some(body) => State::Body(body),
                    };
                }
                State::Body(Body::UntilClose) => {
                    events.push(Event::Body(input));
                    self.body_seen += input.len() as u64;
                    input = &[];
                }
                State::Body(Body::Length(left)) | State::ChunkData(left) => {
                    let take =
                        usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    events.push(Event::Body(&input[..take]));
                    self.body_seen += take as u64;
                    input = &input[take..];
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::ChunkData(_), 0) => State::ChunkEnd(false),
                        (State::ChunkData(_), left) => State::ChunkData(left),
                        (_, 0) => {
                            events.push(Event::End);
                            State::Done
                        }
                        (_, left) => State::Body(Body::Length(left)),
                    };
                }
                State::Body(Body::Chunked) => self.state = State::ChunkSize,
                State::ChunkSize => {
                    let Some(line) =
                        self.take_line(&mut input, 4096, "a chunk-size line")?
                    else {
                        break;
                    };
                    let size = parse_chunk_size(&line)?;
                    self.chunk_size = size;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                // The CRLF after a chunk's data, a byte at a time: anything
                // else means the size line did not tell the truth.
                State::ChunkEnd(cr) => {
                    match (cr, input[0]) {
                        (false, b'\r') => self.state = State::ChunkEnd(true),
                        (_, b'\n') => self.state = State::ChunkSize,
                        _ => return error(chunk_size_wrong(self.chunk_size)),
                    }
                    input = &input[1..];
                }
                State::Trailers => {
                    let max = self.limits.max_head;
                    let Some(line) = self.take_line(&mut input, max, "a trailer line")?
                    else {
                        break;
                    };
                    // Trailer fields are read and dropped; an empty line ends them.
                    if line.is_empty() {
                        events.push(Event::End);
                        self.state = State::Done;
                    }
                }
            }
        }
        Ok(events)
    }

    /// Call when the server has closed the connection: fine only if the
    /// response was complete, or its body runs until the close.
    pub fn finish(&mut self) -> Result<Vec<Event<'static>>, HttpError> {
        match self.state {
            State::Done => Ok(Vec::new()),
            State::Body(Body::UntilClose) => {
                self.state = State::Done;
                Ok(vec![Event::End])
            }
            State::Head if self.pending.is_empty() && self.line_buf.is_empty() => {
                error("the server closed the connection without answering")
            }
            State::Head => error("the server closed the connection in the middle of the response head"),
            State::Body(Body::Length(left)) => error(format!(
                "the server closed the connection after {} of {} body bytes",
                self.body_seen,
                self.body_seen + left
            )),
            _ => error(format!(
                "the server closed the connection in the middle of a chunked body, after {} bytes",
                self.body_seen
            )),
        }
    }

    /// Collects a head: lines up to an empty line. Returns the block when
    /// complete, or `None` if more bytes are needed.
    fn take_block(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
        loop {
            if self.pending.is_empty() {
                check_status_line_start(&self.line_buf, input)?;
            }
            let max = self.limits.max_head;
            let Some(line) = self.take_line(input, max, "a line of the response head")?
            else {
                return Ok(None);
            };
            // Empty lines before the status line are allowed (RFC 9112 §2.2).
            if line.is_empty() && self.pending.is_empty() {
                continue;
            }
            if self.pending.len() + line.len() + 1 > self.limits.max_head {
                return error(format!(
                    "the response head is larger than {} bytes",
                    self.limits.max_head
                ));
            }
            if line.is_empty() {
                return Ok(Some(std::mem::take(&mut self.pending)));
            }
            self.pending.extend_from_slice(&line);
            self.pending.push(b'\n');
        }
    }

    /// Takes one line (ended by LF; a CR before it is dropped) from `input`,
    /// keeping a partial line in `line_buf` between calls.
    fn take_line(
        &mut self,
        input: &mut &[u8],
        max: usize,
        what: &str,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        let newline = input.iter().position(|&b| b == b'\n');
        let end = newline.unwrap_or(input.len());
        if self.line_buf.len() + end > max {
            return error(format!("{what} is longer than {max} bytes"));
        }
        self.line_buf.extend_from_slice(&input[..end]);
        let Some(at) = newline else {
            *input = &[];
            return Ok(None);
        };
        *input = &input[at + 1..];
        let mut line = std::mem::take(&mut self.line_buf);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }
}

// ANCHOR: head
/// Parses a status line and header lines (without the empty line).
fn parse_head(block: &[u8], limits: Limits) -> Result<Head, HttpError> {
    let block = block.strip_suffix(b"\n").unwrap_or(block);
    let mut lines = block.split(|&b| b == b'\n');
    let status_line = lines.next().unwrap_or_default();
    // HTTP/1.1 200 OK
    let mut parts = status_line.splitn(3, |&b| b == b' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next());
    let version = version.filter(|v| *v == b"HTTP/1.1" || *v == b"HTTP/1.0");
    let status = code
        .filter(|c| c.len() == 3)
        .and_then(|c| number(c, 10))
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s));
    let (Some(version), Some(status)) = (version, status) else {
        return error(format!(
            "malformed status line {}: expected one like \"HTTP/1.1 200 OK\"",
            shown(status_line)
        ));
    };
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == limits.max_headers {
            return error(format!(
                "the response has more than {} header fields",
                limits.max_headers
            ));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return error(format!("malformed header line {}", shown(line)));
        };
        // A name is a token: no spaces, so no folded (indented) lines.
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
            return error(format!("malformed header name {}", shown(name)));
        }
        // The value is bytes: RFC 9110 §5.5 allows any byte from 0x80 up,
        // and old servers send GBK or Latin-1 file names.
        let value = value.trim_ascii_start().trim_ascii_end();
        headers.push((String::from_utf8_lossy(name).into_owned(), value.to_vec()));
    }
    Ok(Head {
        version: String::from_utf8_lossy(version).into_owned(),
        status,
        reason: reason.unwrap_or_default().to_vec(),
        headers,
    })
}

/// Decides how the body ends; `None` for a response that has no body.
fn body_framing(head: &Head) -> Result<Option<Body>, HttpError> {
    if head.status == 204 || head.status == 304 {
        return Ok(None);
    }
    // Transfer-Encoding wins over Content-Length.
    let codings = list(head, "transfer-encoding");
    if !codings.is_empty() {
        // http-get decodes chunked and nothing else; it must come last, once.
        if let Some(other) = codings.iter().find(|c| !c.eq_ignore_ascii_case("chunked")) {
            return error(format!(
                "the response uses the transfer coding {other:?}, which http-get does not \
                 decode (it decodes chunked only)"
            ));
        }
        if codings.len() > 1 {
            return error(
                "malformed Transfer-Encoding: chunked is applied more than once",
            );
        }
        return Ok(Some(Body::Chunked));
    }
    // Content-Length: digits only. The same value repeated (2, 2) is one
    // length (RFC 9110 §8.6); two different ones have no right answer.
    let lengths = list(head, "content-length");
    if lengths.is_empty() && head.header("content-length").is_some() {
        return error("malformed Content-Length \"\": expected digits only");
    }
    let mut length = None;
    for value in lengths {
        let Some(n) = number(value.as_bytes(), 10) else {
            return error(format!(
                "malformed Content-Length {value:?}: expected digits only"
            ));
        };
        if let Some(first) = length.filter(|&l| l != n) {
            return error(format!(
                "the response gives two different lengths, Content-Length {first} and {n}"
            ));
        }
        length = Some(n);
    }
    Ok(Some(length.map_or(Body::UntilClose, Body::Length)))
}

/// The elements of every field called `name`, a comma-separated list
/// (RFC 9110 §5.6.1), trimmed, empty ones left out.
fn list(head: &Head, name: &str) -> Vec<String> {
    let mut elements = Vec::new();
    for value in head.values(name) {
        let value = String::from_utf8_lossy(value);
        let parts = value.split(',').map(str::trim).filter(|e| !e.is_empty());
        elements.extend(parts.map(String::from));
    }
    elements
}
// ANCHOR_END: head

/// One rule for every number in a response: digits only (RFC 9110 and
/// 9112 allow no sign and no spaces), and no more than a `u64` holds.
fn number(digits: &[u8], radix: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = char::from(b).to_digit(radix)?;
        n.checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))
    })
}

/// Bytes from the server in an error message: quoted, cut short, control
/// characters escaped.
fn shown(bytes: &[u8]) -> String {
    course::preview(&String::from_utf8_lossy(bytes))
}

/// Whether a byte may be in a token, such as a field name (RFC 9110 §5.6.2).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The error for a chunk whose data is not followed by CRLF.
fn chunk_size_wrong(size: u64) -> String {
    format!(
        "malformed chunked body: a chunk of {size} bytes (size {size:x} in hex) is \
         not followed by CRLF; its size is wrong"
    )
}

/// Fails as soon as the first bytes of a response show that it has no
/// status line: an HTTP/0.9 server sends the body alone, and a server of
/// another protocol (SSH, SMTP) greets in its own way. `line` is the part of
/// the line read so far, `input` what follows.
fn check_status_line_start(line: &[u8], input: &[u8]) -> Result<(), HttpError> {
    // The first `n` bytes of the line.
    let first = |n: usize| -> Vec<u8> {
        let line = line.iter().chain(input).take_while(|&&b| b != b'\n');
        line.take(n).copied().collect()
    };
    // An empty line, or the start of "HTTP/", so far.
    let start = first(5);
    if start == b"\r" || b"HTTP/".starts_with(&start) {
        return Ok(());
    }
    // 0x15 is a TLS alert, 0x16 a TLS handshake record: an https server
    // that received plain HTTP (the seed's mistake, the other way round).
    if matches!(start.first(), Some(0x15 | 0x16)) {
        return error(
            "the server answered in TLS, not in plain HTTP: it is an https server, \
             so use an https:// URL",
        );
    }
    error(format!(
        "the server did not answer with a status line such as \"HTTP/1.1 200 OK\": it \
         sent {} (an HTTP/0.9 server, or not an HTTP server at all)",
        shown(first(80).trim_ascii_end())
    ))
}

/// Parses a chunk-size line: hex digits, by the same rule as a
/// Content-Length, then optional `;extensions`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let size = line.split(|&b| b == b';').next().unwrap_or_default();
    // Spaces may come before the ';' (RFC 9112 §7.1.1: BWS), not before the size.
    let size = size.trim_ascii_end();
    number(size, 16).ok_or_else(|| {
        HttpError(format!(
            "malformed chunk size {}: expected hex digits only",
            shown(line)
        ))
    })
}

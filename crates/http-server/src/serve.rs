//! What http-server does with one connection once it is accepted: read each
//! request head, find what it asks for, write the response, until the
//! connection ends. `main.rs` binds, listens and accepts, and gives each
//! connection a thread that runs [`serve_connection`].
//!
//! It lives in the library so that the answers to lesson 10's exercises
//! (`examples/answer-10-2.rs`, `answer-10-3.rs`) are the same server with
//! one change each: a [`Hook`] that sees every response before it is sent.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use course::cli::{parse_addr, Arg, Args};
use course::{printable, say, UsageError};

use crate::head::{self, Request, MAX_HEAD};
use crate::{content_type, http_date, listing, parse_http_date, parse_range};
use crate::{reason, target, Range, Refusal};

/// Python's `http.server` listens on 8000 too.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8000";

/// How much of a file is read and written at a time: the memory a download
/// costs, whatever the file's size. 256 KiB moves a large file in few
/// system calls (lesson 09's http-get reads as much at a time).
const CHUNK: usize = 256 * 1024;

/// The buffer that gathers a response head and a small body into one
/// write. Larger writes pass it by.
const GATHER: usize = 16 * 1024;

/// The largest request body read (and thrown away): a GET has no use for
/// one, but it must be read to find the next request on the connection.
const MAX_BODY: u64 = 64 * 1024;

/// A client that stops reading a response is given up after this long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What every connection needs to know.
pub struct Config {
    /// The served folder, canonical: every file served is under it.
    pub root: PathBuf,
    pub head_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub verbose: bool,
    /// Sees each response to a request before it is sent, and may change it.
    pub hook: Hook,
}

/// A change to every response, given the request it answers: the plain
/// server's is [`no_change`]; exercise 2 adds a header, exercise 3
/// compresses the body.
pub type Hook = fn(&Request, &mut Response);

/// The plain server's [`Hook`]: every response as [`respond`] made it.
pub fn no_change(_: &Request, _: &mut Response) {}

// ANCHOR: folder
/// The folder to serve, made canonical once: absolute, every symbolic link
/// followed. A path is inside it when its canonical form starts with it.
pub fn canonical_folder(dir: &Path) -> anyhow::Result<PathBuf> {
    let root = fs::canonicalize(dir)
        .with_context(|| format!("cannot serve {}", dir.display()))?;
    if !root.is_dir() {
        bail!("cannot serve {}: not a folder", dir.display());
    }
    Ok(root)
}
// ANCHOR_END: folder

// ANCHOR: slot
/// A place among `--max-connections`, given back when dropped (when the
/// connection's thread ends, however it ends).
pub struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// A place, if fewer than `max` are taken in `open`.
    pub fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        if open.fetch_add(1, Ordering::SeqCst) >= max {
            open.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Slot(Arc::clone(open)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: slot

// ANCHOR: connection
/// Serves the requests of one connection, one after another, until the
/// client closes it, asks to close it, sends nothing for `--idle-timeout`,
/// or sends something that cannot be answered.
pub fn serve_connection(stream: TcpStream, peer: SocketAddr, config: &Config) {
    // A response leaves in few writes; send each at once rather than wait
    // for the client's acknowledgement of the last (Nagle, lesson 08).
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    // The request head is read into this, and never more than this.
    let mut buf = vec![0; MAX_HEAD];
    let mut filled = 0;
    loop {
        let (end, started) = match read_head(&stream, &mut buf, &mut filled, config) {
            Ok(Some(found)) => found,
            // The client closed, or kept the connection idle too long.
            Ok(None) => return,
            Err(refusal) => return refuse(&stream, peer, refusal, Instant::now()),
        };
        if config.verbose {
            // The head as received, its control characters escaped: a
            // client's bytes must not drive the terminal that shows the log.
            let head = String::from_utf8_lossy(&buf[..end]);
            let lines: Vec<_> = head
                .trim_end()
                .lines()
                .map(|line| format!("> {}", printable(line)))
                .collect();
            say!("{}", lines.join("\n"));
        }
        let parsed = head::parse(&buf[..end]);
        // What follows the head stays: a body, or the next request.
        buf.copy_within(end..filled, 0);
        filled -= end;
        let request = match parsed {
            Ok(request) => request,
            Err(refusal) => return refuse(&stream, peer, refusal, started),
        };
        if request.content_length > MAX_BODY {
            let refusal = Refusal::new(413, "a GET or HEAD needs no body this large");
            return refuse(&stream, peer, refusal, started);
        }
        let left = request.content_length;
        if discard_body(&stream, &mut buf, &mut filled, left, config).is_err() {
            return; // the body never came whole: nothing more to read here
        }

        let mut response = respond(&request, config);
        // http-server's hook changes nothing; the exercises' answers add a
        // header here, or compress the body.
        (config.hook)(&request, &mut response);
        // HTTP/1.0 or `Connection: close`: this is the last response.
        let keep_alive = request.keep_alive() && response.status != 501;
        let status = response.status;
        let head_only = request.method == "HEAD";
        let sent = send(&stream, response, head_only, !keep_alive);
        log(
            peer,
            &request.method,
            &request.target,
            status,
            &sent,
            started,
        );
        if sent.is_err() || !keep_alive {
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
    }
}
// ANCHOR_END: connection

// ANCHOR: read_head
/// Reads until `buf[..*filled]` holds a whole request head, and returns
/// where it ends and when it began; `None` when the client closed or sent
/// nothing for `--idle-timeout`.
///
/// Two clocks: between requests, the idle timeout for the first byte; once
/// a request has begun, its whole head must come within `--head-timeout`,
/// however slowly it trickles (the slowloris attack), or it is answered
/// 408. A head that fills the buffer without ending is answered 431.
fn read_head(
    mut stream: &TcpStream,
    buf: &mut [u8],
    filled: &mut usize,
    config: &Config,
) -> Result<Option<(usize, Instant)>, Refusal> {
    while *filled == 0 {
        if stream.set_read_timeout(Some(config.idle_timeout)).is_err() {
            return Ok(None);
        }
        match stream.read(buf) {
            // 0 bytes: the client closed, the normal end of keep-alive.
            Ok(0) => return Ok(None),
            Ok(n) => *filled = n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // Idle too long (a timeout), or reset: close without a word.
            Err(_) => return Ok(None),
        }
    }
    let started = Instant::now();
    let deadline = started + config.head_timeout;
    loop {
        if let Some(end) = head::head_end(&buf[..*filled]) {
            return Ok(Some((end, started)));
        }
        if *filled == buf.len() {
            return Err(Refusal::new(431, "the request head is over 16 KiB"));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let too_slow = Refusal::new(408, "the request head did not arrive in time");
        // A read timeout of zero would mean "none": check the clock first.
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(too_slow);
        }
        match stream.read(&mut buf[*filled..]) {
            // Closed in the middle of a head: nobody is left to answer.
            Ok(0) => return Ok(None),
            Ok(n) => *filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if is_timeout(&err) => return Err(too_slow),
            Err(_) => return Ok(None),
        }
    }
}
// ANCHOR_END: read_head

/// A read that gave up after the read timeout (WouldBlock on Unix).
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads `left` body bytes and throws them away: some already in `buf`, the
/// rest from the stream, with the head's deadline for each read.
fn discard_body(
    mut stream: &TcpStream,
    buf: &mut [u8],
    filled: &mut usize,
    mut left: u64,
    config: &Config,
) -> io::Result<()> {
    let here = usize::try_from(left).unwrap_or(usize::MAX).min(*filled);
    buf.copy_within(here..*filled, 0);
    *filled -= here;
    left -= here as u64;
    stream.set_read_timeout(Some(config.head_timeout))?;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        match stream.read(&mut buf[..want]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => left -= n as u64,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// A response about to be sent.
pub struct Response {
    pub status: u16,
    /// Every header but Date, Server, Content-Length and Connection, which
    /// [`send`] writes itself.
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl Response {
    /// The value of the header called `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        head::find_header(&self.headers, name)
    }
}

/// What follows a response head.
pub enum Body {
    /// Bytes made here: an error message, a listing, a redirect.
    Bytes(Vec<u8>),
    /// `len` bytes of a file from `start`.
    File { file: File, start: u64, len: u64 },
    /// Nothing, not even a Content-Length: a 304 has no body.
    Nothing,
}

// ANCHOR: respond
/// The answer to one request: a file, a folder, a redirect, or an error.
fn respond(request: &Request, config: &Config) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        let mut response = error(Refusal::new(501, "only GET and HEAD are served"));
        response.headers.push(("Allow", "GET, HEAD".into()));
        return response;
    }
    let target = match target::parse(&request.target) {
        Ok(target) => target,
        Err(refusal) => return error(refusal),
    };
    let mut path = config.root.clone();
    // Each segment is one plain name (target::parse made sure): pushing it
    // can never replace the path, as pushing "/etc" would.
    path.extend(&target.segments);
    let real = match inside(&config.root, &path) {
        Ok(real) => real,
        Err(refusal) => return error(refusal),
    };
    if real.is_dir() {
        // `/docs` names a folder: its links (`a.html`) must resolve under
        // `/docs/`, so the browser is sent there first.
        if !target.slash {
            return redirect(&target);
        }
        let index = real.join("index.html");
        if index.is_file() {
            return match inside(&config.root, &index) {
                Ok(real) => serve_file(request, &index, &real),
                Err(refusal) => error(refusal),
            };
        }
        let url_path = format!("/{}", target.segments.join("/"));
        let url_path = if url_path == "/" {
            url_path
        } else {
            url_path + "/"
        };
        return match listing(&real, &url_path) {
            Ok(page) => html(200, page),
            Err(_) => error(Refusal::new(403, "the folder cannot be read")),
        };
    }
    if target.slash {
        return error(Refusal::new(404, "a file is not a folder"));
    }
    serve_file(request, &path, &real)
}
// ANCHOR_END: respond

// ANCHOR: inside
/// The canonical form of `path` (absolute, `..` and every symbolic link
/// resolved by the file system itself), if it is inside `root`.
fn inside(root: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let real = fs::canonicalize(path).map_err(|err| match err.kind() {
        io::ErrorKind::PermissionDenied => Refusal::new(403, "permission denied"),
        _ => Refusal::new(404, "no such file"),
    })?;
    // starts_with compares whole components: /srv/www2 is not in /srv/www.
    if !real.starts_with(root) {
        return Err(Refusal::new(403, "a symbolic link leads out of the folder"));
    }
    Ok(real)
}
// ANCHOR_END: inside

// ANCHOR: serve_file
/// A file, whole (200), in part (206 for a `Range`), or not at all (304
/// when the client's copy is current, 416 for a range past its end).
/// `name` is the path asked for (its extension gives the type), `real` the
/// file it leads to.
fn serve_file(request: &Request, name: &Path, real: &Path) -> Response {
    // Only a regular file: opening a named pipe would block this thread.
    let meta = match fs::metadata(real) {
        Ok(meta) if meta.is_file() => meta,
        _ => return error(Refusal::new(403, "not a regular file")),
    };
    let Ok(file) = File::open(real) else {
        return error(Refusal::new(403, "the file cannot be opened"));
    };
    let len = meta.len();
    let modified = meta.modified().ok().map(whole_seconds);
    let last_modified = modified.map(http_date);
    let mut headers = vec![("Content-Type", content_type(name).to_string())];
    if let Some(date) = &last_modified {
        headers.push(("Last-Modified", date.clone()));
    }
    headers.push(("Accept-Ranges", "bytes".into()));

    let since = request
        .header("if-modified-since")
        .and_then(parse_http_date);
    if let (Some(modified), Some(since)) = (modified, since) {
        if modified <= since {
            return Response {
                status: 304,
                headers,
                body: Body::Nothing,
            };
        }
    }
    // If-Range: the range is for the copy the client has; if the file has
    // changed since, send it whole.
    let same_copy = request
        .header("if-range")
        .is_none_or(|date| Some(date) == last_modified.as_deref());
    let range = match request.header("range") {
        Some(value) if same_copy => parse_range(value, len),
        _ => Range::Whole,
    };
    let (status, start, end) = match range {
        Range::Whole => (200, 0, len),
        Range::Part { start, end } => {
            headers.push(("Content-Range", format!("bytes {start}-{end}/{len}")));
            (206, start, end + 1)
        }
        Range::Unsatisfiable => {
            let mut response = error(Refusal::new(416, "the range starts past the end"));
            response
                .headers
                .push(("Content-Range", format!("bytes */{len}")));
            return response;
        }
    };
    Response {
        status,
        headers,
        body: Body::File {
            file,
            start,
            len: end - start,
        },
    }
}
// ANCHOR_END: serve_file

/// HTTP dates have whole seconds: a file modified at 12:00:00.7 must
/// compare equal to the `Last-Modified: ... 12:00:00` it was sent with.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// 301 to the same path with a final `/` (and the same query).
fn redirect(target: &target::Target) -> Response {
    let mut location = format!("{}/", target.path);
    if let Some(query) = &target.query {
        location = format!("{location}?{query}");
    }
    let mut response = text(301, format!("moved to {location}\n"));
    response.headers.push(("Location", location));
    response
}

/// A small HTML page made here.
fn html(status: u16, page: String) -> Response {
    Response {
        status,
        headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
        body: Body::Bytes(page.into_bytes()),
    }
}

/// A short plain-text response.
fn text(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
        body: Body::Bytes(body.into_bytes()),
    }
}

/// An error response: its body says what went wrong, in one line.
pub fn error(refusal: Refusal) -> Response {
    text(refusal.status, format!("{refusal}\n"))
}

// ANCHOR: send
/// Writes a response: the status line, the headers, the empty line, then
/// the body (not for HEAD, which gets the same head and no body). Returns
/// how many body bytes were sent.
fn send(
    stream: &TcpStream,
    response: Response,
    head_only: bool,
    close: bool,
) -> io::Result<u64> {
    // The head and a small body leave in one write; a large body's chunks
    // are written straight through (BufWriter passes them on).
    let mut out = BufWriter::with_capacity(GATHER, stream);
    let status = response.status;
    write!(out, "HTTP/1.1 {status} {}\r\n", reason(status))?;
    write!(out, "Date: {}\r\n", http_date(SystemTime::now()))?;
    out.write_all(b"Server: http-server (a socket course)\r\n")?;
    for (name, value) in &response.headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    // The framing: the client knows where this body ends, and where the
    // next response on the connection begins.
    let length = match &response.body {
        Body::Bytes(bytes) => Some(bytes.len() as u64),
        Body::File { len, .. } => Some(*len),
        Body::Nothing => None,
    };
    if let Some(length) = length {
        write!(out, "Content-Length: {length}\r\n")?;
    }
    if close {
        out.write_all(b"Connection: close\r\n")?;
    }
    out.write_all(b"\r\n")?;
    let sent = match response.body {
        _ if head_only => 0,
        Body::Bytes(bytes) => {
            out.write_all(&bytes)?;
            bytes.len() as u64
        }
        Body::File { file, start, len } => copy_file(file, start, len, &mut out)?,
        Body::Nothing => 0,
    };
    out.flush()?;
    Ok(sent)
}
// ANCHOR_END: send

// ANCHOR: copy_file
/// Copies `len` bytes of `file` from `start` to `out`, one chunk at a
/// time: a 1 GiB file costs the same memory as a small one.
fn copy_file(
    mut file: File,
    start: u64,
    len: u64,
    out: &mut impl Write,
) -> io::Result<u64> {
    file.seek(SeekFrom::Start(start))?;
    // A small file needs no more than its own size.
    let mut chunk = vec![0; usize::try_from(len).unwrap_or(CHUNK).min(CHUNK)];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(CHUNK).min(chunk.len());
        let n = file.read(&mut chunk[..want])?;
        if n == 0 {
            // The file shrank after its length was sent: the response can
            // only be cut short, and the connection must close.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(len)
}
// ANCHOR_END: copy_file

// ANCHOR: refuse
/// Answers a request that cannot be served (400, 408, 413, 431, ...) and
/// closes the connection: after a broken head, nobody knows where the next
/// request would begin.
fn refuse(stream: &TcpStream, peer: SocketAddr, refusal: Refusal, started: Instant) {
    let sent = send(stream, error(refusal), false, true);
    log(peer, "-", "-", refusal.status, &sent, started);
    // Closing with unread bytes would send a reset, which can destroy the
    // answer before the client reads it. So: say we are done writing, then
    // read and drop what the client still sends (half a second at most,
    // 256 KiB at most), then close.
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut sink = [0; 4096];
    let mut stream = stream;
    for _ in 0..64 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        // 0 bytes: the client has closed too. An error: a timeout or a reset.
        if !matches!(stream.read(&mut sink), Ok(n) if n > 0) {
            break;
        }
    }
}
// ANCHOR_END: refuse

/// Answers 503 to a connection beyond `--max-connections`, from the
/// accepting thread, so it must not wait: a short write timeout, then
/// close.
pub fn turn_away(stream: TcpStream, peer: SocketAddr) {
    let started = Instant::now();
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let mut response = error(Refusal::new(503, "too many connections; try again"));
    response.headers.push(("Retry-After", "1".into()));
    let sent = send(&stream, response, false, true);
    log(peer, "-", "-", 503, &sent, started);
}

/// One line per request: who, what, the status, the body bytes sent and
/// the time taken from the first byte of the request.
fn log(
    peer: SocketAddr,
    method: &str,
    target: &str,
    status: u16,
    sent: &io::Result<u64>,
    started: Instant,
) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match sent {
        Ok(bytes) => say!("{peer} {method} {target} {status} {bytes} {ms:.1}ms"),
        Err(err) => say!("{peer} {method} {target} {status} cut short ({err}) {ms:.1}ms"),
    }
}

/// Reads the command line: ADDR, the folder and the [`Config`] (whose root
/// is filled in once the folder is found). `help` is the program's help;
/// `extra` is given the name of each `--flag` this function does not know,
/// and says whether the program does (an exercise's `--cors`).
pub fn parse_args(
    help: &'static str,
    mut extra: impl FnMut(&str) -> bool,
) -> Result<(String, PathBuf, Config), UsageError> {
    let mut args = Args::from_env(help);
    let mut addr = None;
    let mut dir = PathBuf::from(".");
    let mut config = Config {
        root: PathBuf::new(),
        head_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(5),
        max_connections: 1000,
        verbose: false,
        hook: no_change,
    };
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("dir") => dir = args.value("--dir")?,
            Arg::Long("head-timeout") => {
                config.head_timeout = secs(&mut args, "--head-timeout")?;
            }
            Arg::Long("idle-timeout") => {
                config.idle_timeout = secs(&mut args, "--idle-timeout")?;
            }
            Arg::Long("max-connections") => {
                let n: usize = args.value("--max-connections")?;
                if n == 0 {
                    return Err(UsageError(
                        "invalid value \"0\" for --max-connections: expected at least 1"
                            .into(),
                    ));
                }
                config.max_connections = n;
            }
            Arg::Short('v') | Arg::Long("verbose") => config.verbose = true,
            Arg::Long(name) if extra(name) => {}
            Arg::Value(value) if addr.is_none() => addr = Some(parse_addr(value)?),
            other => return Err(other.unexpected().into()),
        }
    }
    let addr = addr.unwrap_or_else(|| DEFAULT_ADDR.to_string());
    Ok((addr, dir, config))
}

/// The value of a time option: seconds, more than 0 and at most an hour.
fn secs(args: &mut Args, name: &str) -> Result<Duration, UsageError> {
    let value: f64 = args.value(name)?;
    if value > 0.0 && value <= 3600.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(UsageError(format!(
            "invalid value \"{value}\" for {name}: expected seconds, more than 0 and at most 3600"
        )))
    }
}

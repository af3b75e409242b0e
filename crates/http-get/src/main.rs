//! Lesson 09: HTTP by hand. An HTTP/1.1 GET written on a plain TcpStream,
//! and the response read as RFC 9112 says: status line, headers, then a body
//! whose end is found by `Transfer-Encoding: chunked`, `Content-Length`, or
//! the server closing the connection.
//!
//! Lesson 11: https. The same request on the same TcpStream, wrapped in TLS
//! (rustls): a handshake, the server's certificate checked against the CAs
//! this machine trusts, then the same bytes, encrypted.
//!
//! From seed 001 §5, which writes `GET / HTTP/1.1` on a raw socket and reads
//! until the end (and sends it in clear to port 80 for an https:// URL).
//! This one streams: the body goes to stdout as it arrives, so memory stays
//! flat whatever its size. Try it on a local server:
//!
//! ```text
//! python3 -m http.server 8000 --bind 127.0.0.1
//! cargo run -p http-get -- http://127.0.0.1:8000/
//! cargo run -p http-get -- -v http://127.0.0.1:8000/ > /dev/null
//! ```
//!
//! and for https, a test server with a CA of its own (lesson 11):
//!
//! ```text
//! cargo run -p http-get --example https-server -- --dir /tmp/tls
//! cargo run -p http-get -- -v --cacert /tmp/tls/ca.pem https://localhost:8443/
//! ```

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::UsageError;
use http_get::tls::{self, Problem, Trust};
use http_get::{Event, Head, Limits, ResponseReader, Scheme, Url};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

/// The most redirects `-L` follows.
const MAX_REDIRECTS: usize = 5;

/// The most one read takes in. 256 KiB reads move a large body in few
/// system calls (measured: as fast as curl); the seed's 1,024-byte reads
/// need 256 times as many. Memory stays flat: this buffer is reused.
const BUF_SIZE: usize = 256 * 1024;

const HELP: &str = "\
http-get: fetch an http:// or https:// URL with a hand-written HTTP/1.1
request (lessons 09 and 11)

Usage: http-get [OPTIONS] URL

Prints the body to stdout, as curl does. For https, the server's certificate
must chain up to a CA this machine trusts (its system store, as curl's).
Unlike curl, a body that ends with the connection must end with TLS
close_notify, or http-get refuses it as possibly cut short.

Options:
  -i, --include              also print every head received (status line and
                             headers), interim ones and redirects' too
  -v, --verbose              print each request sent and each head received on stderr,
                             and for https the TLS version, cipher suite and certificate
  -f, --fail                 exit 1 on a status of 400 or more, printing no body
  -L, --location             follow redirects (at most 5)
  -o, --output FILE          write the body (and with -i the heads) to FILE instead
                             of stdout; FILE is made when the first byte arrives,
                             so --fail leaves none behind
  -m, --max-time SECS        the longest the whole transfer may take, from the first
                             connection to the last byte, redirects included
                             [default: no limit]
      --connect-timeout SECS the longest to wait for each connection [default: 10]
      --timeout SECS         the longest any one read may wait for a byte [default: 30];
                             a server that sends a byte now and then is never caught
                             by it: use --max-time for that
      --cacert FILE          trust the CA certificates in FILE (PEM) instead of the
                             system's
  -k, --insecure             do not check the server's certificate (a warning each
                             time: anyone on the path could be answering)
  -h, --help                 print this help

Example:
  http-get http://127.0.0.1:8000/
  http-get -i -L 'http://[::1]:8000/docs?page=2'
  http-get -v --cacert ca.pem https://localhost:8443/
";

/// What the command line asked for.
struct Options {
    url: Url,
    include: bool,
    verbose: bool,
    fail: bool,
    follow: bool,
    trust: Trust,
    connect_timeout: Duration,
    timeout: Duration,
    max_time: Option<Duration>,
    /// -o FILE: where the body goes instead of stdout.
    output: Option<PathBuf>,
}

// ANCHOR: deadline
/// `--max-time` as a moment: when the whole transfer must be over.
#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    max_time: Duration,
}

/// How long one wait may last: `wait`, or less if `--max-time` comes first.
/// An error once the deadline has passed.
fn within(deadline: Option<Deadline>, wait: Duration) -> anyhow::Result<Duration> {
    let Some(deadline) = deadline else {
        return Ok(wait);
    };
    let left = deadline.at.saturating_duration_since(Instant::now());
    if left.is_zero() {
        bail!(
            "the transfer did not finish within --max-time {:?}",
            deadline.max_time
        );
    }
    Ok(wait.min(left))
}

/// An error once `--max-time` has passed.
fn check(deadline: Option<Deadline>) -> anyhow::Result<()> {
    within(deadline, Duration::MAX).map(drop)
}
// ANCHOR_END: deadline

fn main() -> ExitCode {
    // A TLS problem has a hint of its own (course's hints go by I/O error
    // kinds): it follows the error line.
    let mut hint = None;
    let code = course::main(|| {
        run().inspect_err(|err| {
            hint = err.downcast_ref::<Problem>().map(|p| p.hint.clone())
        })
    });
    if let Some(hint) = hint {
        eprintln!("http-get: hint: {hint}");
    }
    code
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let mut url = options.url.clone();
    let mut out: Box<dyn Write> = match &options.output {
        Some(path) => Box::new(Output::new(path.clone())),
        None => Box::new(io::stdout().lock()),
    };
    // One deadline for every request, as curl's --max-time.
    let deadline = options.max_time.map(|max_time| Deadline {
        at: Instant::now() + max_time,
        max_time,
    });
    for _ in 0..=MAX_REDIRECTS {
        match get(&url, &options, deadline, &mut out)? {
            Outcome::Done => return Ok(()),
            Outcome::Redirect(location) => {
                url = url.join(&location)?;
                if options.verbose {
                    eprintln!("* following the redirect to {location}");
                }
            }
        }
    }
    bail!(
        "more than {MAX_REDIRECTS} redirects; the last pointed to {}",
        url.target
    )
}

/// The file of `-o FILE`, made (or emptied) when the first byte is written,
/// as curl does: a failure before any body leaves no file behind.
struct Output {
    path: PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl Output {
    fn new(path: PathBuf) -> Output {
        Output { path, file: None }
    }

    /// The error `err` from FILE, saying which file.
    fn named(&self, what: &str, err: io::Error) -> io::Error {
        io::Error::new(
            err.kind(),
            format!("cannot {what} {}: {err}", self.path.display()),
        )
    }
}

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.file.is_none() {
            let file =
                File::create(&self.path).map_err(|err| self.named("create", err))?;
            self.file = Some(io::BufWriter::new(file));
        }
        match self.file.as_mut() {
            Some(file) => file.write(bytes),
            None => Ok(0),
        }
        .map_err(|err| self.named("write to", err))
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.flush().map_err(|err| self.named("write to", err)),
            None => Ok(()),
        }
    }
}

/// How one request ended.
enum Outcome {
    Done,
    /// A redirect to follow (only with `-L`), to this Location.
    Redirect(String),
}

// ANCHOR: get
/// Sends one GET request for `url` and streams the response.
fn get(
    url: &Url,
    options: &Options,
    deadline: Option<Deadline>,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let tcp = connect(url, options.connect_timeout, deadline)?;
    // ANCHOR: wrap
    // https: the same TcpStream, wrapped. Everything below reads and writes
    // `stream` the same way; for https, rustls encrypts on the way out and
    // decrypts on the way in.
    let mut stream = match url.scheme {
        Scheme::Http => Connection::Plain(tcp),
        Scheme::Https => {
            Connection::Tls(Box::new(handshake(tcp, url, options, deadline)?))
        }
    };
    // ANCHOR_END: wrap

    // The whole request is text, each line ended by CRLF, then an empty line.
    // Connection: close asks the server to close after this one response.
    let request = format!(
        "GET {} HTTP/1.1\r\n\
         Host: {}\r\n\
         User-Agent: http-get/0.1 (a socket course)\r\n\
         Accept: */*\r\n\
         Connection: close\r\n\
         \r\n",
        url.target,
        url.host_header()
    );
    if options.verbose {
        for line in request.lines() {
            eprintln!("> {line}");
        }
    }
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
        .context("cannot send the request")?;

    let mut reader = ResponseReader::new(Limits::default());
    let mut buf = vec![0; BUF_SIZE];
    let mut last_wait = None;
    loop {
        // Each read waits at most --timeout, and never past --max-time.
        let wait = within(deadline, options.timeout)?;
        // One system call less per read when the wait is the same.
        if last_wait != Some(wait) {
            stream.tcp().set_read_timeout(Some(wait))?;
            last_wait = Some(wait);
        }
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // ANCHOR: close_notify
            // TLS only: the TCP connection ended without close_notify, the
            // TLS message that says "I am done". A body framed by a length,
            // or chunked, shows by itself whether it is whole (`finish`
            // says what is missing); one that only the end delimits does
            // not, and a cut made by anyone on the path looks the same.
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                if reader.runs_until_close() {
                    return Err(tls::truncated(reader.body_bytes()).into());
                }
                0
            }
            // ANCHOR_END: close_notify
            // A wait cut short by --max-time: `within` says so.
            Err(err) if is_timeout(&err) && wait < options.timeout => {
                check(deadline)?;
                continue;
            }
            Err(err) if is_timeout(&err) => {
                bail!("the server sent nothing for {:?}", options.timeout)
            }
            Err(err) => return Err(err).context("cannot read the response"),
        };
        // 0 bytes: the server closed the connection. That ends a body
        // without a length, and is an error anywhere else.
        let events = if n == 0 {
            reader.finish()?
        } else {
            reader.feed(&buf[..n])?
        };
        for event in events {
            match event {
                Event::Head(head) => {
                    if let Some(outcome) = on_head(&head, options, out)? {
                        return Ok(outcome);
                    }
                    // --fail: an error status ends the program, no body shown.
                    if options.fail && head.status >= 400 {
                        let reason = String::from_utf8_lossy(&head.reason);
                        bail!("the server answered {} {reason}", head.status);
                    }
                }
                // 100 Continue, 103 Early Hints: the final head follows.
                Event::Interim(head) => {
                    show_head(&head, options.verbose, options.include, out)?;
                }
                Event::Body(bytes) => out.write_all(bytes)?,
                Event::End => {
                    out.flush()?;
                    return Ok(Outcome::Done);
                }
            }
        }
        if n == 0 {
            bail!("the response ended early");
        }
    }
}
// ANCHOR_END: get

// ANCHOR: connection
/// The connection a request goes over: lesson 09's TcpStream, or the same
/// TcpStream inside TLS. Both read and write bytes; `get` needs no more.
enum Connection {
    Plain(TcpStream),
    /// rustls's `StreamOwned`: the TLS state (`ClientConnection`) and the
    /// socket, as one stream. A write encrypts and sends; a read receives
    /// and decrypts.
    Tls(Box<StreamOwned<ClientConnection, BufferedTcp>>),
}

impl Connection {
    /// The socket underneath, for its timeouts.
    fn tcp(&self) -> &TcpStream {
        match self {
            Connection::Plain(tcp) => tcp,
            Connection::Tls(tls) => tls.get_ref().0.get_ref(),
        }
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(tcp) => tcp.read(buf),
            Connection::Tls(tls) => {
                let mut n = tls.read(buf)?;
                // Each read above gives one TLS record, at most 16 KiB. More
                // may be in BufferedTcp's buffer already: take them too, so
                // that one write to stdout carries many records. An error
                // here ends the loop and comes back at the next read.
                while n > 0 && n < buf.len() && !tls.get_ref().0.buffer().is_empty() {
                    match tls.read(&mut buf[n..]) {
                        Ok(0) | Err(_) => break,
                        Ok(more) => n += more,
                    }
                }
                Ok(n)
            }
        }
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(tcp) => tcp.write(buf),
            Connection::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Connection::Plain(tcp) => tcp.flush(),
            Connection::Tls(tls) => tls.flush(),
        }
    }
}
// ANCHOR_END: connection

/// The TcpStream under TLS, its reads through a buffer: rustls asks the
/// socket for a few KiB at a time, and this makes that one system call per
/// `BUF_SIZE` (measured: a third faster over TLS).
struct BufferedTcp(io::BufReader<TcpStream>);

impl Read for BufferedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for BufferedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.get_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.get_mut().flush()
    }
}

// ANCHOR: handshake
/// Runs the TLS handshake on `tcp` and returns the TLS stream: rustls
/// sends a ClientHello naming the host (SNI), the server answers with its
/// certificate, rustls checks it, and both sides agree on keys.
fn handshake(
    tcp: TcpStream,
    url: &Url,
    options: &Options,
    deadline: Option<Deadline>,
) -> anyhow::Result<StreamOwned<ClientConnection, BufferedTcp>> {
    if options.trust == Trust::Insecure {
        eprintln!(
            "http-get: warning: -k: the certificate of {} is not checked; anyone on \
             the path could be answering",
            url.host
        );
    }
    let (config, verifier) = tls::client_config(&options.trust)?;
    // The name the certificate must be for, sent in clear as SNI so that a
    // server with many sites knows which certificate to show. (An IP address
    // is checked too, but never sent as SNI.)
    let name = ServerName::try_from(url.host.clone())
        .with_context(|| format!("{:?} is not a host name TLS can check", url.host))?;
    if options.verbose {
        let sni = match &name {
            ServerName::IpAddress(_) => "none (an IP address)".to_string(),
            _ => name.to_str().into_owned(),
        };
        eprintln!(
            "* TLS handshake with {}: SNI {sni}, ALPN offered http/1.1",
            url.host
        );
    }
    let mut tls = ClientConnection::new(Arc::clone(&config), name)?;
    let mut tcp = tcp;
    // The handshake's messages go back and forth until both sides are done:
    // each wait bounded by --timeout, as every read of the response is.
    while tls.is_handshaking() {
        tcp.set_read_timeout(Some(within(deadline, options.timeout)?))?;
        if let Err(err) = tls.complete_io(&mut tcp) {
            check(deadline)?;
            // A certificate or protocol failure comes as an io::Error that
            // holds rustls's own error: say it in a beginner's words.
            let rustls_err = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>());
            return Err(match rustls_err {
                Some(why) => {
                    let cert = verifier.seen();
                    tls::explain(why, &url.host, cert.as_ref(), &options.trust).into()
                }
                None if is_timeout(&err) => anyhow::anyhow!(
                    "the TLS handshake with {} got no answer for {:?}",
                    url.host,
                    options.timeout
                ),
                None => anyhow::Error::new(err)
                    .context(format!("the TLS handshake with {} failed", url.host)),
            });
        }
    }
    if options.verbose {
        show_tls(&tls, &verifier, url, options);
    }
    Ok(StreamOwned::new(
        tls,
        BufferedTcp(io::BufReader::with_capacity(BUF_SIZE, tcp)),
    ))
}
// ANCHOR_END: handshake

// ANCHOR: show_tls
/// `-v` for TLS, in curl's words: what was agreed, and the certificate.
fn show_tls(
    tls: &ClientConnection,
    verifier: &tls::Verifier,
    url: &Url,
    options: &Options,
) {
    let version = match tls.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    };
    let suite = tls
        .negotiated_cipher_suite()
        .map_or("?".into(), |s| format!("{:?}", s.suite()));
    eprintln!("* SSL connection using {version} / {suite}");
    let alpn = tls.alpn_protocol().map(String::from_utf8_lossy);
    eprintln!(
        "* ALPN: server accepted {}",
        alpn.as_deref().unwrap_or("nothing")
    );
    if let Some(cert) = verifier.seen() {
        eprintln!("* Server certificate:");
        eprintln!("*  subject: {}", cert.subject);
        eprintln!("*  start date: {}", cert.not_before);
        eprintln!("*  expire date: {}", cert.not_after);
        eprintln!("*  subjectAltName: {}", cert.names.join(", "));
        eprintln!("*  issuer: {}", cert.issuer);
    }
    match options.trust {
        Trust::Insecure => {
            eprintln!("*  SSL certificate verify result: not checked (-k)")
        }
        _ => eprintln!(
            "*  SSL certificate verify ok: {} trusts it for {}",
            trust_name(&options.trust),
            url.host
        ),
    }
}
// ANCHOR_END: show_tls

/// Where the trusted CAs came from, for `-v`.
fn trust_name(trust: &Trust) -> String {
    match trust {
        Trust::CaFile(path) => format!("--cacert {}", path.display()),
        _ => "the system's CA store".into(),
    }
}

/// Shows the head as asked, and decides about redirects: `Some` ends this
/// request.
fn on_head(
    head: &Head,
    options: &Options,
    out: &mut impl Write,
) -> anyhow::Result<Option<Outcome>> {
    // --fail shows nothing of an error response on stdout: the caller ends
    // the program.
    let hidden = options.fail && head.status >= 400;
    show_head(head, options.verbose, options.include && !hidden, out)?;
    let location = head.header("location").map(percent_encode_non_ascii);
    let redirect = matches!(head.status, 301 | 302 | 303 | 307 | 308);
    if let (true, Some(location)) = (redirect, location) {
        if options.follow {
            return Ok(Some(Outcome::Redirect(location)));
        }
        eprintln!(
            "http-get: {} redirects to {location} (use -L to follow it)",
            head.status
        );
    }
    Ok(None)
}

/// Shows a head as it came: on stderr with `-v`, on stdout with `-i`. Every
/// head received is shown, in order, as curl does: interim ones (100
/// Continue, 103 Early Hints) and, with `-L`, each redirect's.
fn show_head(
    head: &Head,
    verbose: bool,
    include: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    let lines = head.lines();
    if verbose {
        for line in &lines {
            eprintln!("< {line}");
        }
    }
    if include {
        for line in &lines {
            write!(out, "{line}\r\n")?;
        }
        write!(out, "\r\n")?;
    }
    Ok(())
}

/// A `Location` value as URL text: a byte that is not ASCII (a UTF-8 or GBK
/// file name, say) is percent-encoded, as browsers do.
fn percent_encode_non_ascii(value: &[u8]) -> String {
    value
        .iter()
        .map(|&b| match b {
            0x80.. => format!("%{b:02X}"),
            _ => char::from(b).to_string(),
        })
        .collect()
}

// ANCHOR: connect
/// Connects to the URL's host, trying each of its addresses in turn (a name
/// can have several, IPv6 and IPv4), each for at most `timeout`.
fn connect(
    url: &Url,
    timeout: Duration,
    deadline: Option<Deadline>,
) -> anyhow::Result<TcpStream> {
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", url.host))?
        .collect();
    let mut last_error = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, within(deadline, timeout)?) {
            Ok(stream) => return Ok(stream),
            Err(err) => last_error = Some((addr, err)),
        }
    }
    // The last address may have run out of time: say so, rather than
    // "timed out" on its own.
    check(deadline)?;
    match last_error {
        Some((addr, err)) => Err(err).context(format!("cannot connect to {addr}")),
        None => bail!("{} has no address", url.host),
    }
}
// ANCHOR_END: connect

/// A read that gave up after the read timeout (WouldBlock on Unix).
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut url = None;
    let mut insecure = false;
    let mut options = Options {
        url: Url {
            scheme: Scheme::Http,
            host: String::new(),
            port: 80,
            target: "/".into(),
        },
        include: false,
        verbose: false,
        fail: false,
        follow: false,
        trust: Trust::System,
        connect_timeout: Duration::from_secs(10),
        timeout: Duration::from_secs(30),
        max_time: None,
        output: None,
    };
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Short('i') | Arg::Long("include") => options.include = true,
            Arg::Short('v') | Arg::Long("verbose") => options.verbose = true,
            Arg::Short('f') | Arg::Long("fail") => options.fail = true,
            Arg::Short('L') | Arg::Long("location") => options.follow = true,
            Arg::Short('o') | Arg::Long("output") => {
                options.output = Some(args.value::<PathBuf>("--output")?);
            }
            // -k wins over --cacert, whatever their order, as in curl.
            Arg::Short('k') | Arg::Long("insecure") => insecure = true,
            Arg::Long("cacert") => options.trust = Trust::CaFile(args.value("--cacert")?),
            Arg::Long("connect-timeout") => {
                options.connect_timeout =
                    seconds(args.value("--connect-timeout")?, "--connect-timeout")?;
            }
            Arg::Short('m') | Arg::Long("max-time") => {
                options.max_time =
                    Some(seconds(args.value("--max-time")?, "--max-time")?);
            }
            Arg::Long("timeout") => {
                options.timeout = seconds(args.value("--timeout")?, "--timeout")?;
            }
            Arg::Value(value) if url.is_none() => {
                let text = value.to_string_lossy();
                url =
                    Some(Url::parse(&text).map_err(|err| {
                        UsageError(format!("invalid URL {text:?}: {err}"))
                    })?);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    options.url = url.ok_or_else(|| UsageError("no URL given".into()))?;
    if insecure {
        options.trust = Trust::Insecure;
    }
    Ok(options)
}

/// A positive number of seconds, at most an hour.
fn seconds(value: f64, name: &str) -> Result<Duration, UsageError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(3600))
        .ok_or_else(|| {
            UsageError(format!(
                "invalid value \"{value}\" for {name}: expected more than 0 and at most 3600"
            ))
        })
}

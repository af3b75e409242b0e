//! What lesson 09's three exercise answers share, and http-get's main.rs
//! does for itself: the command line (URLs, nothing else), the connection,
//! the request and showing a head. Each answer's own part is in its file.

// Each answer compiles this module and uses what it needs of it.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::UsageError;
use http_get::{Event, Head, ResponseReader, Scheme, Url};

/// The longest to wait for a connection, and for any one read: http-get's
/// defaults for `--connect-timeout` and `--timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a command line of one or more `http://` URLs (`at_most` of them):
/// https is lesson 11's, and these answers are lesson 09's.
pub fn urls(help: &'static str, at_most: usize) -> Result<Vec<Url>, UsageError> {
    let mut args = Args::from_env(help);
    let mut urls = Vec::new();
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Value(value) if urls.len() < at_most => {
                let text = value.to_string_lossy();
                let url = Url::parse(&text)
                    .ok()
                    .filter(|url| url.scheme == Scheme::Http)
                    .ok_or_else(|| {
                        UsageError(format!("invalid URL {text:?}: expected http://"))
                    })?;
                urls.push(url);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    if urls.is_empty() {
        return Err(UsageError("no URL given".into()));
    }
    Ok(urls)
}

/// Connects to the URL's host, trying each of its addresses in turn, and
/// gives every read a timeout.
pub fn connect(url: &Url) -> anyhow::Result<TcpStream> {
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", url.host))?
        .collect();
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                stream.set_read_timeout(Some(READ_TIMEOUT))?;
                return Ok(stream);
            }
            Err(err) => last_error = Some((addr, err)),
        }
    }
    match last_error {
        Some((addr, err)) => Err(err).context(format!("cannot connect to {addr}")),
        None => bail!("{} has no address", url.host),
    }
}

/// The request http-get sends, with `method`, `extra` header lines (each
/// ending in CRLF) and, if `close`, `Connection: close`.
pub fn request(method: &str, url: &Url, extra: &str, close: bool) -> String {
    let close = if close { "Connection: close\r\n" } else { "" };
    format!(
        "{method} {} HTTP/1.1\r\n\
         Host: {}\r\n\
         User-Agent: http-get/0.1 (a socket course)\r\n\
         Accept: */*\r\n\
         {extra}{close}\r\n",
        url.target,
        url.host_header()
    )
}

/// Sends a whole request.
pub fn send(stream: &mut TcpStream, request: &str) -> anyhow::Result<()> {
    stream
        .write_all(request.as_bytes())
        .context("cannot send the request")
}

/// One read from the server fed to `reader`, as in http-get's `get`:
/// what it completes, and whether the server has closed the connection
/// (which ends a body without a length, and is an error anywhere else).
pub fn next_events<'a>(
    stream: &mut TcpStream,
    reader: &mut ResponseReader,
    buf: &'a mut [u8],
) -> anyhow::Result<(Vec<Event<'a>>, bool)> {
    let n = read(stream, buf)?;
    if n == 0 {
        Ok((reader.finish()?, true))
    } else {
        Ok((reader.feed(&buf[..n])?, false))
    }
}

/// One read from the server: 0 bytes when it has closed the connection.
fn read(stream: &mut TcpStream, buf: &mut [u8]) -> anyhow::Result<usize> {
    loop {
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            // A read timeout is WouldBlock on Unix, TimedOut on Windows.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                bail!("the server sent nothing for {READ_TIMEOUT:?}")
            }
            Err(err) => return Err(err).context("cannot read the response"),
        }
    }
}

/// Writes a head as `http-get -i` does: its lines, each ended by CRLF, then
/// an empty line.
pub fn show_head(head: &Head, out: &mut impl Write) -> io::Result<()> {
    for line in head.lines() {
        write!(out, "{line}\r\n")?;
    }
    write!(out, "\r\n")
}

//! Lesson 09, exercise 2: two requests (or more) on one connection. It sends
//! a GET for the first URL without `Connection: close`, reads the response to
//! its end, then sends the next on the same TcpStream; only the last request
//! says `Connection: close`. The bodies go to stdout, one after another, and
//! a line for each response to stderr.
//!
//! Built on http-get's library (the `Url` and the `ResponseReader` of lesson
//! 09). The server must keep the connection open: Python's does with
//! `-p HTTP/1.1` (Python 3.11 and later). Start it, then ask for two paths:
//!
//! ```text
//! python3 -m http.server 8000 --bind 127.0.0.1 -p HTTP/1.1
//! cargo run -p http-get --example answer-09-2 -- http://127.0.0.1:8000/ http://127.0.0.1:8000/README.md
//! ```

use std::io::{self, Write};
use std::net::TcpStream;
use std::process::ExitCode;

use anyhow::{bail, Context};
use http_get::{Event, Head, Limits, ResponseReader};

mod lesson09;

/// The most requests on one connection this answer sends.
const MAX_URLS: usize = 10;

const HELP: &str = "\
answer-09-2: fetch several URLs of one server over one connection (lesson 09, exercise 2)

Usage: answer-09-2 URL URL...     (at most 10, all on the same host and port)

The bodies go to stdout in order; a line per response goes to stderr. The
server must keep the connection open between responses (HTTP/1.1).

Example:
  answer-09-2 http://127.0.0.1:8000/ http://127.0.0.1:8000/README.md
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let urls = lesson09::urls(HELP, MAX_URLS)?;
    let first = &urls[0];
    if let Some(other) = urls
        .iter()
        .find(|url| url.host_header() != first.host_header())
    {
        bail!(
            "{} is not on {}: one connection goes to one server",
            other.host_header(),
            first.host_header()
        );
    }
    // ANCHOR: requests
    let mut stream = lesson09::connect(first)?;
    let mut out = io::stdout().lock();
    for (i, url) in urls.iter().enumerate() {
        // The last request asks the server to close after its response.
        let last = i + 1 == urls.len();
        let request = lesson09::request("GET", url, "", last);
        stream
            .write_all(request.as_bytes())
            .with_context(|| format!("cannot send request {}", i + 1))?;
        // A fresh reader for each response. The next request goes only
        // after this response's end, so no byte of the next response can
        // come in the same read as the end of this one: `feed` would drop
        // it, since it ignores whatever follows the end of a response.
        let head = response(&mut stream, &mut out, last)?;
        let reason = String::from_utf8_lossy(&head.reason);
        eprintln!(
            "* {} {}: {} {} {reason}",
            i + 1,
            url.target,
            head.version,
            head.status
        );
    }
    // ANCHOR_END: requests
    eprintln!("* {} requests on one connection", urls.len());
    Ok(())
}

/// Reads one response from `stream` to its end and writes its body to
/// `out`; returns its head. Unless it is the `last`, the connection must
/// stay open after it, so its end must be marked by Content-Length or
/// chunked, never by the close.
fn response(
    stream: &mut TcpStream,
    out: &mut impl Write,
    last: bool,
) -> anyhow::Result<Head> {
    let mut reader = ResponseReader::new(Limits::default());
    let mut buf = vec![0; 64 * 1024];
    let mut final_head = None;
    loop {
        let (events, closed) = lesson09::next_events(stream, &mut reader, &mut buf)?;
        for event in events {
            match event {
                Event::Interim(_) => {}
                Event::Head(head) => {
                    if !last {
                        keeps_open(&head, &reader)?;
                    }
                    final_head = Some(head);
                }
                Event::Body(bytes) => out.write_all(bytes)?,
                Event::End => {
                    out.flush()?;
                    return final_head.context("a response without a head");
                }
            }
        }
        if closed {
            bail!("the response ended early");
        }
    }
}

// ANCHOR: keeps_open
/// Fails, saying why, if the server will close the connection after this
/// response: a second request would have nowhere to go.
fn keeps_open(head: &Head, reader: &ResponseReader) -> anyhow::Result<()> {
    let connection = head.header("connection").map(String::from_utf8_lossy);
    let says = |word: &str| {
        connection.as_ref().is_some_and(|value| {
            value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case(word))
        })
    };
    // HTTP/1.0 closes unless it says keep-alive; HTTP/1.1 stays open unless
    // it says close (RFC 9112 §9.3).
    if says("close") {
        bail!("the server closes the connection after this response (Connection: close)");
    }
    if head.version == "HTTP/1.0" && !says("keep-alive") {
        bail!(
            "the server answered HTTP/1.0, so it closes the connection after each \
             response: start Python's with -p HTTP/1.1 (Python 3.11 and later)"
        );
    }
    if reader.runs_until_close() {
        bail!(
            "the response has neither Content-Length nor chunked: only the close can \
             end it, so the connection cannot carry another request"
        );
    }
    Ok(())
}
// ANCHOR_END: keeps_open

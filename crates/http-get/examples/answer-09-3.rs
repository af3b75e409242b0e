//! Lesson 09, exercise 3: a GET that accepts a gzip body
//! (`Accept-Encoding: gzip`) and, when the answer says
//! `Content-Encoding: gzip`, decompresses the body as it streams to stdout.
//! On stderr it says how many bytes came and how many they became.
//!
//! Built on http-get's library (the `Url` and the `ResponseReader` of lesson
//! 09), with the `flate2` crate for gzip itself. Lesson 10's third answer
//! is a server that sends gzip; so is `nc` with a file made by `gzip`:
//!
//! ```text
//! cargo run -p http-server --example answer-10-3 -- --dir notes
//! cargo run -p http-get --example answer-09-3 -- http://127.0.0.1:8000/README.md
//! ```

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use flate2::write::GzDecoder;
use http_get::{Event, Head, Limits, ResponseReader};

mod lesson09;

const HELP: &str = "\
answer-09-3: fetch a URL, accepting and decompressing a gzip body (lesson 09, exercise 3)

Usage: answer-09-3 URL

Example:
  answer-09-3 http://127.0.0.1:8000/README.md
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let url = lesson09::urls(HELP, 1)?.remove(0);
    let mut stream = lesson09::connect(&url)?;
    // ANCHOR: request
    // "gzip, or the body as it is": a server may send either.
    let request = lesson09::request("GET", &url, "Accept-Encoding: gzip\r\n", true);
    // ANCHOR_END: request
    lesson09::send(&mut stream, &request)?;

    // ANCHOR: gunzip
    let mut reader = ResponseReader::new(Limits::default());
    let mut buf = vec![0; 64 * 1024];
    // Where the body goes: stdout itself, or a decoder that writes to it.
    let mut body: Option<Body> = None;
    loop {
        let (events, closed) = lesson09::next_events(&mut stream, &mut reader, &mut buf)?;
        for event in events {
            match event {
                Event::Interim(_) => {}
                Event::Head(head) => body = Some(Body::for_head(&head)?),
                // Framing first, coding second: the reader has taken off
                // the chunked framing (a Content-Length counts compressed
                // bytes), and what comes here is the gzip data itself.
                Event::Body(bytes) => match body.as_mut() {
                    Some(Body::Gzip(gunzip)) => {
                        gunzip.write_all(bytes).map_err(not_gzip)?;
                    }
                    Some(Body::Plain(out)) => out.write_all(bytes)?,
                    None => bail!("body bytes before the head"),
                },
                Event::End => {
                    let sent = reader.body_bytes();
                    match body.take() {
                        // finish checks the gzip trailer (its CRC and length):
                        // a body cut short is an error, not a short file.
                        Some(Body::Gzip(gunzip)) => {
                            let out = gunzip
                                .finish()
                                .context("the gzip body ended before its end")?;
                            eprintln!("* {sent} bytes of gzip became {}", out.count);
                        }
                        Some(Body::Plain(mut out)) => {
                            out.flush()?;
                            eprintln!("* {sent} bytes, not compressed");
                        }
                        None => {}
                    }
                    return Ok(());
                }
            }
        }
        if closed {
            bail!("the response ended early");
        }
    }
}

/// Where the body goes, as its head decides.
enum Body {
    Plain(Counted),
    // Boxed: a decoder's state is some 200 bytes, stdout's 8.
    Gzip(Box<GzDecoder<Counted>>),
}

impl Body {
    /// Gzip if `Content-Encoding` says so; the body as it is if it names no
    /// coding; an error for a coding this program cannot undo (`br`,
    /// `deflate`, or gzip applied twice), rather than print compressed bytes.
    fn for_head(head: &Head) -> anyhow::Result<Body> {
        let out = Counted { count: 0 };
        let mut codings = Vec::new();
        for value in head.values("content-encoding") {
            let value = String::from_utf8_lossy(value);
            let named = value.split(',').map(|c| c.trim().to_ascii_lowercase());
            codings.extend(named.filter(|c| !c.is_empty() && c != "identity"));
        }
        match codings.as_slice() {
            [] => Ok(Body::Plain(out)),
            // x-gzip is an old name for gzip (RFC 9110 §8.4.1.3).
            [gzip] if gzip == "gzip" || gzip == "x-gzip" => {
                Ok(Body::Gzip(Box::new(GzDecoder::new(out))))
            }
            _ => bail!(
                "the body is coded {}, which this answer does not decode (gzip only)",
                codings.join(", ")
            ),
        }
    }
}
// ANCHOR_END: gunzip

/// Why the decoder took no more of the body.
fn not_gzip(err: io::Error) -> anyhow::Error {
    // The decoder takes nothing after the end of the gzip data.
    if err.kind() == io::ErrorKind::WriteZero {
        anyhow::anyhow!("the body goes on after the end of its gzip data")
    } else {
        anyhow::Error::new(err).context("the gzip body is not valid gzip")
    }
}

/// Stdout, counting the bytes written to it.
struct Counted {
    count: u64,
}

impl Write for Counted {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = io::stdout().lock().write(bytes)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush()
    }
}

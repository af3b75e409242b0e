//! Lesson 09, exercise 1: a HEAD request, as `http-get -I` (curl's `-I`)
//! would send it. It asks for the head of the answer only, and prints the
//! head (status line and headers) as `http-get -i` does.
//!
//! Built on http-get's library (the `Url` and the `ResponseReader` of lesson
//! 09); the part that is new is what it does once the head is in. Start a
//! server, then ask it:
//!
//! ```text
//! python3 -m http.server 8000 --bind 127.0.0.1
//! cargo run -p http-get --example answer-09-1 -- http://127.0.0.1:8000/
//! ```

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::bail;
use http_get::{Event, Limits, ResponseReader};

mod lesson09;

const HELP: &str = "\
answer-09-1: send a HEAD request and print the head of the answer (lesson 09, exercise 1)

Usage: answer-09-1 URL

Example:
  answer-09-1 http://127.0.0.1:8000/
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let url = lesson09::urls(HELP, 1)?.remove(0);
    let mut stream = lesson09::connect(&url)?;
    let request = lesson09::request("HEAD", &url, "", true);
    lesson09::send(&mut stream, &request)?;

    // ANCHOR: head_only
    let mut reader = ResponseReader::new(Limits::default());
    let mut buf = vec![0; 64 * 1024];
    let mut out = io::stdout().lock();
    loop {
        // A close before the head is whole fails in next_events.
        let (events, closed) = lesson09::next_events(&mut stream, &mut reader, &mut buf)?;
        for event in events {
            match event {
                // 100 Continue, 103 Early Hints: the final head follows.
                Event::Interim(head) => lesson09::show_head(&head, &mut out)?,
                // The answer to a HEAD request is its head, whatever its
                // Content-Length or Transfer-Encoding say: they describe the
                // body a GET would get (RFC 9112 §6.3, first rule). The
                // reader was not told the method, so it would wait for that
                // body; this program knows, and stops here.
                Event::Head(head) => {
                    lesson09::show_head(&head, &mut out)?;
                    return Ok(out.flush()?);
                }
                // Nothing of a body comes before the final head.
                Event::Body(_) | Event::End => {}
            }
        }
        if closed {
            bail!("the response ended early");
        }
    }
    // ANCHOR_END: head_only
}

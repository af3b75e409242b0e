//! Lesson 10, exercise 3: http-server sending text files gzip-compressed to
//! a client that accepts it (`Accept-Encoding: gzip`), with
//! `Content-Encoding: gzip`, the compressed length, and `Vary:
//! Accept-Encoding` so that a cache keeps the two forms apart. Others get
//! the file as it is.
//!
//! The server is lesson 10's (its library, and `examples/server/` for what
//! its main.rs does): only [`gzip`] is new, given to it as the response
//! hook. Start it, then ask with and without compression:
//!
//! ```text
//! cargo run -p http-server --example answer-10-3 -- --dir notes
//! curl -si --compressed http://127.0.0.1:8000/README.md | head
//! ```

use std::io::{Read, Write};
use std::process::ExitCode;

use flate2::write::GzEncoder;
use flate2::Compression;
use http_server::head::Request;
use http_server::serve::{Body, Response};

mod server;

const HELP: &str = "\
answer-10-3: http-server compressing text files with gzip (lesson 10, exercise 3)

Usage: answer-10-3 [ADDR] [OPTIONS]

http-server's arguments and options (see http-server --help). A text file
(a type that starts with text/) of up to 1 MiB is sent gzip-compressed to
a client whose Accept-Encoding lists gzip; a range of it is sent as it is.

Example:
  answer-10-3 --dir notes
  curl -si --compressed http://127.0.0.1:8000/README.md     (in another terminal)
";

/// The largest file compressed: it is compressed whole into memory (its
/// compressed length must be known before the head is sent), so this is
/// the memory one connection may take for it. Larger files go as they are.
const MAX_GZIP: u64 = 1024 * 1024;

fn main() -> ExitCode {
    course::main(|| server::run(HELP, |_| false, || gzip))
}

// ANCHOR: gzip
/// Compresses a whole text file for a client that accepts gzip. A range
/// (206) is left alone: its bytes are counted in the file as it is, and a
/// range of the compressed bytes would change whenever the compressor does.
fn gzip(request: &Request, response: &mut Response) {
    let is_text = response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/"));
    if !is_text || !matches!(response.body, Body::File { .. } | Body::Nothing) {
        return; // not a file this hook would ever compress
    }
    // The answer depends on Accept-Encoding, compressed or not: a cache
    // must not give the gzip form to a client that did not ask for it.
    response.headers.push(("Vary", "Accept-Encoding".into()));
    let Body::File { file, len, .. } = &mut response.body else {
        return; // a 304: no body to compress
    };
    if response.status != 200 || *len > MAX_GZIP || !accepts_gzip(request) {
        return;
    }
    let mut text = Vec::new();
    // A read that fails leaves the file as it is: still a correct answer.
    if file.read_to_end(&mut text).is_err() || text.len() as u64 != *len {
        return;
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let Ok(compressed) = encoder.write_all(&text).and_then(|()| encoder.finish()) else {
        return;
    };
    // send writes Content-Length from the body: the compressed length.
    response.body = Body::Bytes(compressed);
    response.headers.push(("Content-Encoding", "gzip".into()));
}

/// Whether `Accept-Encoding` lists gzip without `q=0` (which means "not
/// this one"): `gzip, deflate, br` yes, `gzip;q=0` no, none at all no.
fn accepts_gzip(request: &Request) -> bool {
    let Some(value) = request.header("accept-encoding") else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        coding.eq_ignore_ascii_case("gzip") && !refused
    })
}
// ANCHOR_END: gzip

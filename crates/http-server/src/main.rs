//! Lesson 10: an HTTP/1.1 static-file server by hand. A browser, curl and
//! lesson 09's http-get can all fetch the files of one folder from it; a
//! hostile client cannot make it leave that folder, hold it up, or make it
//! allocate without bound.
//!
//! From seed 001 §5, the other end: there a client writes `GET /` on a raw
//! socket; here the server reads that request and answers it, with blocking
//! sockets and one thread per connection (lesson 03), at most
//! `--max-connections` of them. This file binds, listens and accepts; what
//! each connection's thread does is in `src/serve.rs`. Run it in two
//! terminals:
//!
//! ```text
//! cargo run -p http-server -- --dir notes
//! cargo run -p http-get -- -i http://127.0.0.1:8000/README.md
//! ```
//!
//! (or `curl -i http://127.0.0.1:8000/`, or open that address in a browser).

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::say;
use http_server::serve::{canonical_folder, parse_args, serve_connection};
use http_server::serve::{turn_away, Config, Slot};

/// Each connection's thread mostly waits in `read`; it needs little stack.
const STACK_SIZE: usize = 256 * 1024;

const HELP: &str = "\
http-server: serve a folder over HTTP/1.1, written by hand (lesson 10)

Usage: http-server [ADDR] [OPTIONS]

Serves the files under DIR to browsers, curl and http-get: GET and HEAD,
ranges, 304 Not Modified, folder listings, keep-alive. It never serves
anything outside DIR. Prints one line per request. Stop it with Ctrl-C.

Arguments:
  [ADDR]  host:port to listen on [default: 127.0.0.1:8000]; port 0 picks a
          free port. 0.0.0.0:8000 opens the folder to the whole network.

Options:
      --dir DIR              the folder to serve [default: the current folder]
      --head-timeout SECS    a request head must arrive whole within this, or
                             it is answered 408 [default: 10]
      --idle-timeout SECS    a keep-alive connection with no new request for
                             this long is closed [default: 5]
      --max-connections N    connections served at once; more are answered
                             503 [default: 1000]
  -v, --verbose              also print the head of every request
  -h, --help                 print this help

Example:
  http-server --dir notes
  curl -i http://127.0.0.1:8000/README.md     (in another terminal)
";

fn main() -> ExitCode {
    course::main(run)
}

// ANCHOR: run
fn run() -> anyhow::Result<()> {
    // No flags beyond the usual ones (an exercise's answer adds some).
    let (addr, dir, config) = parse_args(HELP, |_| false)?;
    let root = canonical_folder(&dir)?;
    let config = Arc::new(Config { root, ..config });

    let listener =
        TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    say!("listening on {local}");
    say!(
        "serving {} at http://{local}/ (stop with Ctrl-C)",
        config.root.display()
    );

    // How many connections have a thread now.
    let open = Arc::new(AtomicUsize::new(0));
    for incoming in listener.incoming() {
        let stream = match incoming {
            Ok(stream) => stream,
            Err(err) => {
                // Out of file descriptors, say: waiting a moment lets
                // connections close, where retrying at once would spin.
                say!("accept failed: {err}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else {
            continue; // the client has already gone
        };
        // The cap: a thread per connection is cheap while it waits, but
        // not free. Beyond the cap a client is told to come back later.
        let Some(slot) = Slot::take(&open, config.max_connections) else {
            turn_away(stream, peer);
            continue;
        };
        let config = Arc::clone(&config);
        let spawned = thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let _slot = slot;
                serve_connection(stream, peer, &config);
            });
        if let Err(err) = spawned {
            // The closure, with the stream and the slot, is dropped: the
            // connection closes and its place is free again.
            say!("{peer} cannot start a thread: {err}");
        }
    }
    Ok(())
}
// ANCHOR_END: run

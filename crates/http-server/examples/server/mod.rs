//! http-server's `main.rs`, for the answers to lesson 10's exercises: the
//! same folder, listener, cap and thread per connection, with the answer's
//! own help, flags and response hook. Read `src/main.rs` for the comments.

use std::net::TcpListener;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::say;
use http_server::serve::{self, Config, Hook, Slot};

/// Four times http-server's stack: exercise 3's gzip compressor (flate2's
/// miniz_oxide) builds its state of about 300 KiB on the stack before it
/// moves it to the heap, at least in a debug build, and 256 KiB overflows.
const STACK_SIZE: usize = 1024 * 1024;

/// Runs http-server with `help`, the extra `--flags` that `flags` accepts,
/// and the hook that `choose` picks once the command line is read.
pub fn run(
    help: &'static str,
    flags: impl FnMut(&str) -> bool,
    choose: impl FnOnce() -> Hook,
) -> anyhow::Result<()> {
    let (addr, dir, config) = serve::parse_args(help, flags)?;
    let root = serve::canonical_folder(&dir)?;
    let config = Arc::new(Config {
        root,
        hook: choose(),
        ..config
    });
    let listener =
        TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    say!("listening on {local}");
    say!(
        "serving {} at http://{local}/ (stop with Ctrl-C)",
        config.root.display()
    );
    let open = Arc::new(AtomicUsize::new(0));
    for incoming in listener.incoming() {
        let Ok(stream) = incoming.inspect_err(|err| say!("accept failed: {err}")) else {
            thread::sleep(Duration::from_millis(100));
            continue;
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        let Some(slot) = Slot::take(&open, config.max_connections) else {
            serve::turn_away(stream, peer);
            continue;
        };
        let config = Arc::clone(&config);
        let spawned = thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let _slot = slot;
                serve::serve_connection(stream, peer, &config);
            });
        if let Err(err) = spawned {
            say!("{peer} cannot start a thread: {err}");
        }
    }
    Ok(())
}

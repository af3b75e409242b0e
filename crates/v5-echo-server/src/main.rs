//! Lesson 03: an echo server with one thread per client, so every client is
//! served at once.
//!
//! From seed 001 §6 (v5), seed 004 §5 and seed 003. The protocol is lesson
//! 02's (every read is answered with `收到你的消息` and what was read), so
//! the same clients work against both; the difference is that a client who
//! stays connected no longer makes the others wait. Start it, then clients
//! in other terminals:
//!
//! ```text
//! cargo run -p v5-echo-server
//! cargo run -p v5-echo-client        # or: nc 127.0.0.1 19534
//! cargo run -p v5-echo-client -- --connections 5
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, Charset, UsageError};

/// The seed's port, on the loopback address: only programs on this machine
/// can connect. (The seed binds 0.0.0.0, which lets the whole classroom
/// network in.)
const DEFAULT_ADDR: &str = "127.0.0.1:19534";

/// What the server puts before every echo, as the seed does.
const PREFIX: &str = "收到你的消息";

/// The most one read takes in. The seed reads 1,024 bytes at a time, so a
/// 16 KiB message takes 16 reads and 16 replies; 16 KiB takes most messages
/// in one read, answered in one write, while a thousand clients hold 16 MB
/// of buffers rather than 64. A longer message is answered in several
/// replies, which TCP_NODELAY (in `serve`) sends without waiting.
const BUF_SIZE: usize = 16 * 1024;

const HELP: &str = "\
v5-echo-server: a TCP echo server with a thread per client (lesson 03)

Usage: v5-echo-server [ADDR] [--encoding NAME] [--quiet]

Answers every read with 收到你的消息 followed by what it read. Each client is
served by its own thread, so all are served at once. Stop it with Ctrl-C.

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:19534]
        port 0 lets the system pick a free port

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -q, --quiet           log clients coming and going, not every message
                        (for a crowd: v5-echo-client --connections 1000)
  -h, --help            print this help

Example:
  v5-echo-server                     # then: v5-echo-client, or nc 127.0.0.1 19534
  v5-echo-server 127.0.0.1:0
  v5-echo-server --encoding gbk      # then: v5-echo-client --encoding gbk
  v5-echo-server --quiet             # then: v5-echo-client --connections 1000
";

/// What the command line asked for.
struct Options {
    addr: String,
    /// How the bytes on the wire are read as text and replies written.
    charset: Charset,
    /// Log only connects and disconnects, not every message.
    quiet: bool,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options {
        addr,
        charset,
        quiet,
    } = parse_args()?;

    // socket() + bind() + listen(128) in one call.
    let listener =
        TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    course::listening_on_with_encoding(listener.local_addr()?, "v5-echo-client", charset);

    // ANCHOR: accept_loop
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(pair) => pair,
            // accept fails for reasons that pass: a client that reset before
            // we took it, or no file descriptors left for a moment. Log it,
            // pause briefly so a lasting cause doesn't spin the CPU, go on.
            Err(err) => {
                say!("accept failed: {err}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        say!("{peer} connected");
        // Hand the client to a thread of its own and go straight back to
        // accept(): a client that is slow, silent or never reads blocks
        // only its own thread. `thread::spawn` would panic if the system
        // refused a new thread; Builder::spawn returns the error instead.
        let spawned =
            thread::Builder::new()
                .name(format!("client {peer}"))
                .spawn(move || match serve(stream, peer, charset, quiet) {
                    Ok(()) => say!("{peer} disconnected"),
                    // One client's failure (a reset, say) ends only its thread.
                    Err(err) => say!("{peer} dropped: {err}"),
                });
        // No thread: the closure, and the socket in it, were dropped, which
        // closes the connection. The server goes on with the next client.
        if let Err(err) = spawned {
            say!("{peer} turned away: cannot start a thread: {err}");
        }
    }
    // ANCHOR_END: accept_loop
}

// ANCHOR: serve
/// Answers every read from one client until the client closes. Text on the
/// wire, both ways, is in `charset`; `quiet` leaves each message unlogged.
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    charset: Charset,
    quiet: bool,
) -> io::Result<()> {
    // Every reply is a complete answer, so there is nothing to gain by
    // holding it back. Without this, Nagle's algorithm makes the second of
    // two quick replies wait for the client's acknowledgement, which the
    // client delays: about 40 ms for every message longer than one read.
    stream.set_nodelay(true)?;
    let mut buf = vec![0; BUF_SIZE];
    // Keeps a character cut between two reads whole (see course::Decoder);
    // bytes not valid in the charset become U+FFFD.
    let mut decoder = charset.decoder();
    loop {
        let n = match stream.read(&mut buf) {
            // 0 bytes: the client closed its side. No more data will come.
            Ok(0) => return Ok(()),
            Ok(n) => n,
            // A signal interrupted the call before any data came: try again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let text = decoder.decode(&buf[..n]);
        // The read held only the first bytes of a character: the next read
        // completes it, and we answer then.
        if text.is_empty() {
            continue;
        }
        // One more system call per message: with a crowd of clients the
        // log costs as much as the echo, so --quiet leaves it out.
        if !quiet {
            say!("{peer} sent {n} bytes: {}", course::preview(&text));
        }
        // Prefix and text, both in the chosen charset, in one write, so a
        // client's single read sees the whole reply. A character the charset
        // can't write (U+FFFD for bad bytes, in GBK) goes out as `?`: a
        // server has nobody to ask. write_all: one write may send only part.
        let reply = charset.encode_lossy(&format!("{PREFIX}{text}"));
        stream.write_all(&reply)?;
    }
}
// ANCHOR_END: serve

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        addr: DEFAULT_ADDR.to_string(),
        charset: Charset::UTF8,
        quiet: false,
    };
    let mut addr_given = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("encoding") => {
                let name: String = args.value("--encoding")?;
                options.charset = Charset::parse(&name)?;
            }
            Arg::Long("quiet") | Arg::Short('q') => options.quiet = true,
            Arg::Value(value) if !addr_given => {
                options.addr = course::cli::parse_addr(value)?;
                addr_given = true;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(options)
}

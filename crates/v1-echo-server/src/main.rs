//! Lesson 01: the smallest TCP server. It accepts one client, reads one
//! message, prints it, sends it back, closes and exits.
//!
//! From seed 001 §3 (v1), also seed 000's first server and seed 004 §3. The
//! whole life of a server socket in order: socket, bind, listen, accept,
//! recv, send, close. Run it, then the client in a second terminal:
//!
//! ```text
//! cargo run -p v1-echo-server
//! echo hello | cargo run -p v1-echo-client
//! ```
//!
//! With `--encoding gbk` it shows what it reads as GBK text (seed 004's
//! client sends GBK); the echo is the same bytes either way.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use course::{say, Charset, UsageError};

/// The seed's port, on the loopback address: only programs on this machine
/// can connect. (The seed binds 0.0.0.0, which lets the whole classroom
/// network in.)
const DEFAULT_ADDR: &str = "127.0.0.1:19527";

/// The most one read takes in. The seed reads 1,024 bytes; a larger buffer
/// costs nothing here and takes a long line in one read (see lesson 02).
const BUF_SIZE: usize = 64 * 1024;

const HELP: &str = "\
v1-echo-server: accept one client, echo one message, exit (lesson 01)

Usage: v1-echo-server [ADDR] [--encoding NAME]

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:19527]
        port 0 lets the system pick a free port

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
                        how the message is shown; it is echoed as it came
  -h, --help            print this help

Example:
  v1-echo-server                     # then: echo hello | v1-echo-client
  v1-echo-server 127.0.0.1:0
  v1-echo-server --encoding gbk      # then: echo 你好 | v1-echo-client --encoding gbk
";

/// What the command line asked for.
struct Options {
    addr: String,
    /// How the bytes on the wire are read as text.
    charset: Charset,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options { addr, charset } = parse_args()?;

    // ANCHOR: listen
    // socket() + bind() + listen() in one call. Rust listens with a backlog
    // of 128: up to that many clients can wait to be accepted.
    let listener =
        TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    // Print the address actually bound: with port 0 the system chose it.
    course::listening_on_with_encoding(listener.local_addr()?, "v1-echo-client", charset);
    // ANCHOR_END: listen

    // ANCHOR: accept
    // accept() blocks until a client connects, then returns a new socket for
    // that one client and the client's address. The listener only accepts.
    let (mut stream, peer) = listener.accept().context("accept failed")?;
    say!("{peer} connected");
    // ANCHOR_END: accept

    // ANCHOR: echo
    let mut buf = vec![0; BUF_SIZE];
    // One read returns what has arrived so far, up to BUF_SIZE bytes: not
    // necessarily all the client sent. A one-shot lesson can live with
    // that; lesson 05 shows how real protocols mark where a message ends.
    let n = stream
        .read(&mut buf)
        .with_context(|| format!("cannot read from {peer}"))?;
    // 0 bytes means the client closed the connection without sending.
    if n == 0 {
        say!("{peer} closed the connection without sending anything");
        return Ok(());
    }
    let message = &buf[..n];
    // Bytes become text only to be shown, in the chosen charset; bytes that
    // are not valid in it show as U+FFFD. This is the only read, so a
    // character it cut short is finished (as U+FFFD) at once.
    let mut decoder = charset.decoder();
    let text = decoder.decode(message) + &decoder.finish();
    say!("{peer} sent {n} bytes: {}", course::preview(&text));

    // The echo is the bytes received, unchanged: whatever their encoding,
    // the client gets back exactly what it sent. write_all, not write: one
    // write may take only part of the bytes (the seed's send() has the same
    // catch; Python's sendall() is write_all).
    stream
        .write_all(message)
        .with_context(|| format!("cannot reply to {peer}"))?;
    say!("echoed {n} bytes to {peer}; closing");
    // ANCHOR_END: echo

    // Leaving `run` drops `stream` and `listener`, which closes both sockets:
    // Rust's close() is the end of the scope.
    Ok(())
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let (addr, charset) = course::cli::addr_and_encoding(HELP, DEFAULT_ADDR)?;
    Ok(Options { addr, charset })
}

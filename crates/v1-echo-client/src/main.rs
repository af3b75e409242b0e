//! Lesson 01: the smallest TCP client. It connects, sends one line read from
//! stdin, prints the reply and exits.
//!
//! From seed 001 §3 (v1), also seed 000's first client and seed 004 §2. The
//! client's calls in order: socket, connect, send, recv, close. Start the
//! server first, then in a second terminal:
//!
//! ```text
//! cargo run -p v1-echo-server
//! echo hello | cargo run -p v1-echo-client
//! ```
//!
//! With `--encoding gbk` the line goes out in GBK, as seed 004's client
//! sends it, and the reply is read as GBK.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

use anyhow::Context;
use course::{Charset, UsageError};

/// Where the v1 server listens by default.
const DEFAULT_ADDR: &str = "127.0.0.1:19527";

/// The most of a reply this client keeps: a server can't make it use more
/// memory than this.
const MAX_REPLY: u64 = 1024 * 1024;

const HELP: &str = "\
v1-echo-client: send one line to an echo server, print the reply (lesson 01)

Usage: v1-echo-client [ADDR] [--encoding NAME]

Reads one line from stdin, sends it, prints what the server sends back.

Arguments:
  ADDR  host:port of the server [default: 127.0.0.1:19527]

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help            print this help

Example:
  echo hello | v1-echo-client
  echo hello | v1-echo-client 127.0.0.1:19527
  echo 你好 | v1-echo-client --encoding gbk
";

/// What the command line asked for.
struct Options {
    addr: String,
    /// How text is written to and read from the wire.
    charset: Charset,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options { addr, charset } = parse_args()?;

    // ANCHOR: connect
    // socket() + connect() in one call: the three-way handshake happens here.
    let mut stream =
        TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
    eprintln!("connected to {}", stream.peer_addr()?);
    // ANCHOR_END: connect

    if io::stdin().is_terminal() {
        eprintln!("type one line to send:");
    }
    let mut line = Vec::new();
    io::stdin()
        .lock()
        .read_until(b'\n', &mut line)
        .context("cannot read stdin")?;
    // The terminal gives UTF-8 text; the wire wants the chosen charset. A
    // character the charset has no bytes for (an emoji in GBK) is an error:
    // sending something else in its place would not be what was typed.
    let text = String::from_utf8_lossy(&line);
    let bytes = charset
        .encode(&text)
        .map_err(|err| anyhow::anyhow!("{err}: line not sent"))?;

    // ANCHOR: exchange
    // write_all, not write: one write may send only part of the bytes.
    stream.write_all(&bytes).context("cannot send")?;
    // Tell the server we have nothing more to say (a FIN): its next read
    // returns 0 bytes. The socket can still receive.
    stream
        .shutdown(Shutdown::Write)
        .context("cannot shut down sending")?;

    // Read until the server closes its side, keeping at most MAX_REPLY bytes.
    // (The seed reads once, with recv(1024), and may miss part of the reply.)
    let mut reply = Vec::new();
    (&mut stream)
        .take(MAX_REPLY)
        .read_to_end(&mut reply)
        .context("cannot read the reply")?;
    // ANCHOR_END: exchange

    // The bytes are the server's: show them as text without trusting them
    // (bytes not valid in the charset show as U+FFFD). The terminal gets
    // UTF-8, whatever the wire carried.
    let mut decoder = charset.decoder();
    let text = decoder.decode(&reply) + &decoder.finish();
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    // Leaving `run` drops `stream`: the socket is closed.
    Ok(())
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let (addr, charset) = course::cli::addr_and_encoding(HELP, DEFAULT_ADDR)?;
    Ok(Options { addr, charset })
}

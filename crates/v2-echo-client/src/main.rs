//! Lesson 02: an interactive echo client. Each line you type is sent to the
//! server and the reply printed, until an empty line or the end of input.
//!
//! From seed 001 §4 (v2). The seed's page shows the server's code twice, in
//! place of this client: this is the real one, in the shape of the seed's v5
//! client. Start the server first, then in a second terminal:
//!
//! ```text
//! cargo run -p v2-echo-server
//! cargo run -p v2-echo-client
//! printf 'hello\n你好\n' | cargo run -p v2-echo-client
//! ```

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use course::{Charset, UsageError};

/// Where the v2 (and v5) server listens by default.
const DEFAULT_ADDR: &str = "127.0.0.1:19534";

/// The most one read takes in (the server's reasons apply here too).
const BUF_SIZE: usize = 64 * 1024;

/// How long to wait for a reply before saying that we are still waiting.
const PATIENCE: Duration = Duration::from_secs(2);

const HELP: &str = "\
v2-echo-client: send lines to an echo server and print its replies (lesson 02)

Usage: v2-echo-client [ADDR] [--encoding NAME]

Reads lines from stdin (typed or piped). Each line is sent and the reply
printed before the next is read. An empty line or the end of input quits.

Arguments:
  ADDR  host:port of the server [default: 127.0.0.1:19534]

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help            print this help

Example:
  v2-echo-client
  printf 'hello\\n你好\\n' | v2-echo-client 127.0.0.1:19534
  v2-echo-client --encoding gbk      # against v2-echo-server --encoding gbk
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

    // socket() + connect() in one call.
    let mut stream =
        TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
    eprintln!("connected to {}", stream.peer_addr()?);
    // A server busy with another client accepts our connection (the system
    // completes it in the backlog) but does not answer; say so after a while.
    stream.set_read_timeout(Some(PATIENCE))?;

    let at_terminal = io::stdin().is_terminal();
    let mut input = io::stdin().lock();
    let mut out = io::stdout().lock();
    let mut line = Vec::new();
    let mut buf = vec![0; BUF_SIZE];
    // Keeps a character cut between two reads whole (see course::Decoder).
    let mut decoder = charset.decoder();

    // ANCHOR: lockstep
    loop {
        if at_terminal {
            eprint!("message (empty line quits): ");
        }
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .context("cannot read stdin")?;
        // End of input, or an empty line as in the seed: we are done.
        if n == 0 || line == b"\n" || line == b"\r\n" {
            break;
        }
        // Every line goes out with its newline: it is how we know below that
        // the whole reply is back.
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        // The terminal gives UTF-8; the wire wants the chosen charset. A
        // character it can't write (an emoji in GBK) is reported, and the
        // line skipped: sending something else would not be what was typed.
        let bytes = match charset.encode(&String::from_utf8_lossy(&line)) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("v2-echo-client: {err}: line not sent");
                continue;
            }
        };
        // write_all, not write: one write may send only part of a line.
        stream.write_all(&bytes).context("cannot send")?;

        // The server answers each of its reads separately, so a long line
        // may come back as several replies. The reply is complete when our
        // newline comes back. We print as we go, keeping nothing. A newline
        // is the byte 0x0A in UTF-8, GBK and GB18030 alike, and never part
        // of a multi-byte character in any of them, so looking for that
        // byte works whatever the charset.
        let mut waited = false;
        loop {
            let n = match stream.read(&mut buf) {
                // 0 bytes: the server closed the connection.
                Ok(0) => bail!("the server closed the connection before it answered"),
                Ok(n) => n,
                Err(err) if is_timeout(&err) => {
                    if !waited {
                        eprintln!(
                            "(no answer yet: the server may be busy with another client)"
                        );
                        waited = true;
                    }
                    continue;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err).context("cannot read the reply"),
            };
            out.write_all(decoder.decode(&buf[..n]).as_bytes())?;
            if buf[..n].contains(&b'\n') {
                break;
            }
        }
        out.flush()?;
    }
    // ANCHOR_END: lockstep

    // Leaving `run` drops `stream`, which closes the connection: the
    // server's next read returns 0 bytes.
    Ok(())
}

/// A read that gave up after the read timeout. Unix reports it as
/// `WouldBlock`, Windows as `TimedOut`.
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let (addr, charset) = course::cli::addr_and_encoding(HELP, DEFAULT_ADDR)?;
    Ok(Options { addr, charset })
}

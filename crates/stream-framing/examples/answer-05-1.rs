//! Lesson 05, exercise 1: lesson 02's `v2-echo-server`, answering each line
//! instead of each read.
//!
//! The same port, prefix and `--encoding` as v2-echo-server; only `serve`
//! differs: it feeds every read to this crate's `LineDecoder` and answers
//! once per complete line, so two lines that arrive in one read get two
//! answers. Start it, then send two lines at once from a second terminal:
//!
//! ```text
//! cargo run -p stream-framing --example answer-05-1
//! printf 'a\nb\n' | nc -N 127.0.0.1 19534
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::{say, Charset};
use stream_framing::LineDecoder;

/// Lesson 02's address and prefix.
const DEFAULT_ADDR: &str = "127.0.0.1:19534";
const PREFIX: &str = "收到你的消息";

/// The longest line answered; a longer one ends the connection. The decoder
/// holds at most this much, whatever a client sends.
const MAX_LINE: usize = 64 * 1024;

const HELP: &str = "\
answer-05-1: v2-echo-server answering each line, not each read (lesson 05)

Usage: answer-05-1 [ADDR] [--encoding NAME]

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:19534]

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help            print this help

Example:
  answer-05-1       # then: printf 'a\\nb\\n' | nc -N 127.0.0.1 19534
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let (addr, charset) = course::cli::addr_and_encoding(HELP, DEFAULT_ADDR)?;
    let listener =
        TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    course::listening_on_with_encoding(listener.local_addr()?, "v2-echo-client", charset);
    // One client after another, as in lesson 02 (see its accept loop for
    // why a failed accept pauses and goes on).
    loop {
        let Ok((stream, peer)) = listener.accept().inspect_err(|err| {
            say!("accept failed: {err}");
            thread::sleep(Duration::from_millis(100));
        }) else {
            continue;
        };
        say!("{peer} connected");
        match serve(stream, peer, charset) {
            Ok(()) => say!("{peer} disconnected"),
            Err(err) => say!("{peer} dropped: {err}"),
        }
    }
}

// ANCHOR: serve
/// Answers every complete line from one client until the client closes.
fn serve(mut stream: TcpStream, peer: SocketAddr, charset: Charset) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0; 16 * 1024];
    // One decoder per connection: it keeps a line cut between two reads.
    let mut lines = LineDecoder::new(MAX_LINE);
    loop {
        let n = match stream.read(&mut buf) {
            // The client closed its side. Bytes after its last newline are
            // a line that never ended: say so, and answer nothing.
            Ok(0) => {
                if let Err(err) = lines.finish() {
                    say!("{peer}: {err}");
                }
                return Ok(());
            }
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let complete = match lines.feed(&buf[..n]) {
            Ok(complete) => complete,
            // LineTooLong: the decoder has failed for good, so tell the
            // client why and close the connection.
            Err(err) => {
                stream.write_all(format!("{err}\n").as_bytes())?;
                return Err(io::Error::new(io::ErrorKind::InvalidData, err));
            }
        };
        for line in complete {
            // A whole line holds whole characters (no character contains the
            // byte \n), so it decodes on its own: no Decoder carries a cut
            // character from one read to the next any more.
            let mut decoder = charset.decoder();
            let text = decoder.decode(&line) + &decoder.finish();
            say!("{peer} sent a line: {}", course::preview(&text));
            let reply = charset.encode_lossy(&format!("{PREFIX}{text}\n"));
            stream.write_all(&reply)?;
        }
    }
}
// ANCHOR_END: serve

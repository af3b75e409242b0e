//! Lesson 05: TCP is a byte stream, not a stream of messages (粘包/拆包).
//! Two writes can arrive as one read, one write as several reads, and a
//! write can take fewer bytes than offered. This program shows each of
//! these on loopback, deterministically, then the fixes: lines with a
//! maximum length, length-prefixed frames, and newline-delimited JSON.
//!
//! From seed 004 §6 (send and receive buffers) and every seed's
//! `recv(1024)`, which takes one read for one message; the JSON part is
//! seed 000's `json.dumps`/`json.loads`. Run all the demonstrations, or one:
//!
//! ```text
//! cargo run -p stream-framing
//! cargo run -p stream-framing -- coalesce
//! ```

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::{say, UsageError};
use stream_framing::{encode_frame, FrameError, LengthDecoder, LineDecoder};

/// A demonstration: its name, what it shows, and the function that runs it.
type Demo = (&'static str, &'static str, fn() -> anyhow::Result<()>);

/// The demonstrations, in the order a lesson takes them.
const DEMOS: [Demo; 6] = [
    ("coalesce", "two writes arrive as one read", coalesce),
    ("split", "one write arrives as several reads", split),
    (
        "short-write",
        "a write takes fewer bytes than offered",
        short_write,
    ),
    ("lines", "the fix: lines, with a maximum length", lines),
    ("length", "the fix: length-prefixed frames", length),
    ("json", "the fix for messages: newline-delimited JSON", json),
];

/// How long any wait in a demonstration may take before it gives up.
const PATIENCE: Duration = Duration::from_secs(10);

const HELP: &str = "\
stream-framing: TCP is a byte stream, not messages (lesson 05)

Usage: stream-framing [DEMO]

Runs every demonstration in turn, or just DEMO. All run on 127.0.0.1 and
end by themselves in a second or two.

Demonstrations:
  coalesce      two writes arrive as one read
  split         one write arrives as several reads
  short-write   a write takes fewer bytes than offered
  lines         the fix: lines, with a maximum length
  length        the fix: length-prefixed frames
  json          the fix for messages: newline-delimited JSON

Example:
  stream-framing
  stream-framing coalesce
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let chosen = parse_args()?;
    for (name, what, demo) in DEMOS {
        if chosen.as_deref().is_none_or(|chosen| chosen == name) {
            say!("== {name}: {what} ==");
            demo().with_context(|| format!("the {name} demonstration failed"))?;
            say!("");
        }
    }
    Ok(())
}

// ANCHOR: coalesce
/// Two writes, one read: the receiver waits until both have arrived, then
/// a single read returns them together.
fn coalesce() -> anyhow::Result<()> {
    let (mut sender, mut receiver) = connected_pair()?;
    for message in ["hello\n", "world\n"] {
        sender.write_all(message.as_bytes())?;
        say!("sender: write_all({message:?}), {} bytes", message.len());
    }
    // peek looks at the receive buffer without taking anything out of it:
    // wait until all 12 bytes are there, so the demonstration never
    // depends on timing.
    wait_until_buffered(&receiver, 12)?;
    say!("receiver: 12 bytes are waiting in the receive buffer");
    let mut buf = [0; 1024];
    let n = receiver.read(&mut buf)?;
    let text = String::from_utf8_lossy(&buf[..n]);
    say!("receiver: one read(1024) returned {n} bytes: {text:?}");
    say!("=> TCP keeps the bytes in order, not the boundaries between writes:");
    say!("   a program that takes one read for one message sees one message here.");
    Ok(())
}
// ANCHOR_END: coalesce

// ANCHOR: split
/// One write, several reads: a 100,000-byte message read 16 KiB at a time.
fn split() -> anyhow::Result<()> {
    let (mut sender, mut receiver) = connected_pair()?;
    let message = vec![b'x'; 100_000];
    // write_all on a thread: the receiver must read while it writes.
    let writer = thread::spawn(move || -> io::Result<()> {
        sender.write_all(&message)?;
        sender.shutdown(Shutdown::Write)
    });
    say!("sender: write_all of one 100000-byte message");
    let mut buf = vec![0; 16 * 1024];
    let (mut reads, mut total) = (0, 0);
    loop {
        let n = receiver.read(&mut buf)?;
        // 0 bytes: the sender has finished (it shut down its side).
        if n == 0 {
            break;
        }
        reads += 1;
        total += n;
        say!("receiver: read {reads} returned {n} bytes ({total} so far)");
    }
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    say!("receiver: {total} bytes in {reads} reads (at least 7: a read returns at most 16384)");
    say!("=> one read is not one message: read until the message is complete.");
    Ok(())
}
// ANCHOR_END: split

// ANCHOR: short_write
/// A write may take fewer bytes than offered: a non-blocking write into a
/// connection whose receiver does not read takes what fits in the buffers.
fn short_write() -> anyhow::Result<()> {
    let (mut sender, receiver) = connected_pair()?;
    let big = vec![b'y'; 64 * 1024 * 1024];
    sender.set_nonblocking(true)?;
    let n = sender.write(&big)?;
    say!("sender: write() of {} bytes returned {n}", big.len());
    say!(
        "=> only {n} bytes fit in the send and receive buffers; the other {} were \
         not sent.",
        big.len() - n
    );
    say!("   A blocking write can stop short too (a signal, a timeout). The seed's");
    say!("   send() returns that count and the seed ignores it; Python's sendall()");
    say!("   and Rust's write_all() loop until every byte is written.");
    // The receiver's buffer is full: let it read everything while
    // write_all sends the rest, on a blocking socket.
    sender.set_nonblocking(false)?;
    let reader = thread::spawn(move || drain(receiver));
    sender.write_all(&big[n..])?;
    sender.shutdown(Shutdown::Write)?;
    let received = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader panicked"))??;
    say!(
        "sender: write_all() sent the remaining {} bytes; the receiver got {received} in all",
        big.len() - n
    );
    Ok(())
}
// ANCHOR_END: short_write

// ANCHOR: lines_demo
/// Lines: the sender writes three lines in awkward pieces; the decoder
/// gives back exactly the three lines. Then a peer that never sends a
/// newline is stopped at the maximum length.
fn lines() -> anyhow::Result<()> {
    let (mut sender, mut receiver) = connected_pair()?;
    let writer = thread::spawn(move || -> io::Result<()> {
        // Cut in the middle of lines, and a line cut across two writes.
        for piece in ["第一", "行\nsec", "ond line\nthird\n"] {
            sender.write_all(piece.as_bytes())?;
            thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    });
    let mut decoder = LineDecoder::new(64);
    let mut buf = [0; 1024];
    let mut got = Vec::new();
    while got.len() < 3 {
        let n = receiver.read(&mut buf)?;
        if n == 0 {
            bail!("the sender closed early");
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        say!("receiver: read {n} bytes: {text:?}");
        for line in decoder.feed(&buf[..n])? {
            let line = String::from_utf8_lossy(&line).into_owned();
            say!("  decoder: line {:?}", line);
            got.push(line);
        }
    }
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    say!(
        "=> {} lines, the same as were sent, however the reads cut them.",
        got.len()
    );

    // A peer that sends 10,000 bytes and no newline.
    let mut decoder = LineDecoder::new(4096);
    match decoder.feed(&[b'z'; 10_000]) {
        Err(err) => say!("a peer sending 10000 bytes without a newline: {err}"),
        Ok(_) => bail!("the decoder took a line longer than its maximum"),
    }
    say!("=> the decoder held at most 4096 bytes: close such a connection.");
    Ok(())
}
// ANCHOR_END: lines_demo

// ANCHOR: length_demo
/// Length-prefixed frames: a four-byte length, then that many bytes. Any
/// bytes can be in a frame (newlines too), and the receiver knows how much
/// to wait for. Then the two ways a stream of frames goes wrong.
fn length() -> anyhow::Result<()> {
    const MAX: usize = 1 << 20;
    let (mut sender, mut receiver) = connected_pair()?;
    let payloads: Vec<Vec<u8>> = vec![b"one".to_vec(), Vec::new(), vec![b'\n'; 70_000]];
    let mut stream = Vec::new();
    for payload in &payloads {
        stream.extend(encode_frame(payload, MAX)?);
    }
    say!(
        "sender: 3 frames of {}, {} and {} bytes, {} bytes with their headers",
        payloads[0].len(),
        payloads[1].len(),
        payloads[2].len(),
        stream.len()
    );
    let writer = thread::spawn(move || -> io::Result<()> {
        sender.write_all(&stream)?;
        sender.shutdown(Shutdown::Write)
    });
    let mut decoder = LengthDecoder::new(MAX);
    let mut buf = [0; 8192];
    let mut frames = Vec::new();
    loop {
        let n = receiver.read(&mut buf)?;
        if n == 0 {
            decoder.finish()?;
            break;
        }
        for frame in decoder.feed(&buf[..n])? {
            say!("receiver: a frame of {} bytes", frame.len());
            frames.push(frame);
        }
    }
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    if frames != payloads {
        bail!("the frames differ from what was sent");
    }
    say!("=> the same 3 frames, whatever the reads were.");

    // A stream that ends in the middle of a frame.
    let mut cut = LengthDecoder::new(MAX);
    cut.feed(&[0, 0, 0, 10, b'a', b'b', b'c'])?;
    report(
        "a header announcing 10 bytes, then the end after 3",
        cut.finish(),
    )?;
    // A header announcing more than the maximum: refused before any of it
    // is kept.
    let mut huge = LengthDecoder::new(MAX);
    let result = huge.feed(&u32::MAX.to_be_bytes()).map(|_| ());
    report("a header announcing 4294967295 bytes", result)?;
    Ok(())
}
// ANCHOR_END: length_demo

// ANCHOR: json
/// Newline-delimited JSON: one JSON value per line, as seed 000's
/// json.dumps and json.loads would need on a TCP stream. A newline inside a
/// string is written as `\n` (two characters), so a raw newline only ever
/// ends a message.
fn json() -> anyhow::Result<()> {
    let (mut sender, mut receiver) = connected_pair()?;
    let messages = [
        serde_json::json!({"from": "alice", "text": "hi\nthere"}),
        serde_json::json!({"from": "bob", "text": "你好", "to": ["alice"]}),
    ];
    let writer = thread::spawn(move || -> anyhow::Result<()> {
        for message in &messages {
            // to_string never writes a raw newline: this line is one message.
            let line = format!("{}\n", serde_json::to_string(message)?);
            say!("sender: {}", line.trim_end());
            sender.write_all(line.as_bytes())?;
        }
        sender.shutdown(Shutdown::Write)?;
        Ok(())
    });
    let mut decoder = LineDecoder::new(64 * 1024);
    let mut buf = [0; 1024];
    loop {
        let n = receiver.read(&mut buf)?;
        if n == 0 {
            decoder.finish()?;
            break;
        }
        for line in decoder.feed(&buf[..n])? {
            // A line that isn't valid JSON is an error to report, not a
            // reason to crash.
            match serde_json::from_slice::<serde_json::Value>(&line) {
                Ok(value) => say!(
                    "receiver: from {} text {:?}",
                    value["from"],
                    value["text"].as_str().unwrap_or_default()
                ),
                Err(err) => say!("receiver: not JSON ({err})"),
            }
        }
    }
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    say!("=> each line is one whole message; the newline in alice's text travelled");
    say!("   as the two characters \\n inside the JSON string.");
    Ok(())
}
// ANCHOR_END: json

/// Prints the error a decoder gave, or fails if it gave none.
fn report(what: &str, result: Result<(), FrameError>) -> anyhow::Result<()> {
    match result {
        Err(err) => {
            say!("{what}: {err}");
            Ok(())
        }
        Ok(()) => bail!("{what}: the decoder accepted it"),
    }
}

/// A connected pair of sockets on 127.0.0.1: (the client's, the server's).
fn connected_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    for stream in [&client, &server] {
        stream.set_read_timeout(Some(PATIENCE))?;
        stream.set_write_timeout(Some(PATIENCE))?;
    }
    Ok((client, server))
}

/// Waits until `stream` has at least `count` bytes waiting to be read.
fn wait_until_buffered(stream: &TcpStream, count: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut buf = vec![0; count];
    while stream.peek(&mut buf)? < count {
        if start.elapsed() > PATIENCE {
            bail!("the bytes did not arrive");
        }
        thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Reads until the end of the stream and returns how many bytes came.
fn drain(mut stream: TcpStream) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

/// Reads the command line: no argument, or the name of one demonstration.
fn parse_args() -> Result<Option<String>, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut chosen = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Value(value) if chosen.is_none() => {
                let name = value.to_string_lossy().into_owned();
                if !DEMOS.iter().any(|(demo, _, _)| *demo == name) {
                    return Err(UsageError(format!(
                        "unknown demonstration {name:?}: expected coalesce, split, \
                         short-write, lines, length or json"
                    )));
                }
                chosen = Some(name);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(chosen)
}

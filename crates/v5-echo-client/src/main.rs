//! Lesson 03: the echo client, interactive as in lesson 02, and able to open
//! many connections at once to show the difference a thread per client makes.
//!
//! From seed 001 §6 (v5). Typed or piped lines work as with v2-echo-client.
//! With `--connections N` it opens N connections together, sends one message
//! on each, and reports when each was answered; each connection then stays
//! open for `--hold` seconds, like a person with more to say. Against the
//! one-at-a-time v2 server the answers come one hold apart; against v5 they
//! all come at once. Start a server first, then in a second terminal:
//!
//! ```text
//! cargo run -p v5-echo-server
//! cargo run -p v5-echo-client -- --connections 5
//! cargo run -p v5-echo-client        # interactive, as in lesson 02
//! ```

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::{say, Charset, UsageError};

/// Where the v5 (and v2) server listens by default.
const DEFAULT_ADDR: &str = "127.0.0.1:19534";

/// The most one read takes in (the server's reasons apply here too).
const BUF_SIZE: usize = 64 * 1024;

/// How long to wait for a reply before saying that we are still waiting.
const PATIENCE: Duration = Duration::from_secs(2);

/// The most connections `--connections` opens: enough for a class to see
/// the point, few enough to stay polite to the machine.
const MAX_CONNECTIONS: usize = 1000;

/// How long `--connections` waits for a connection to be set up, and for
/// an answer beyond the other connections' holds (see `crowd`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// EMFILE, "Too many open files": the process has used up its file
/// descriptors (one per socket). The number is 24 on Linux, macOS and BSD.
const EMFILE: i32 = 24;

const HELP: &str = "\
v5-echo-client: talk to an echo server, or open many connections at once (lesson 03)

Usage: v5-echo-client [ADDR] [--encoding NAME] [--connections N [--hold SECONDS]]

Without --connections: reads lines from stdin (typed or piped); each line is
sent and the reply printed before the next is read. An empty line or the end
of input quits.

Arguments:
  ADDR  host:port of the server [default: 127.0.0.1:19534]

Options:
  -c, --connections N   open N connections at once (1 to 1000), send one
                        message on each and report when each was answered
      --hold SECONDS    with --connections: how long each connection stays
                        open after its answer [default: 1]
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help            print this help

With --connections N, each connection waits for its answer up to 10 s plus
one hold for each of the N connections (13 s with -c 3 and the default hold):
a one-at-a-time server answers the last one only after all the others' holds.
Each connection is a file descriptor: N must fit under `ulimit -n`.

Example:
  v5-echo-client --connections 5     # against v5-echo-server: all at once
  v5-echo-client --connections 5     # against v2-echo-server: one per second
  printf 'hello\\n你好\\n' | v5-echo-client 127.0.0.1:19534
  v5-echo-client --encoding gbk      # against v5-echo-server --encoding gbk
";

/// What the command line asked for.
struct Options {
    addr: String,
    /// `Some(n)`: open n connections at once instead of reading stdin.
    connections: Option<usize>,
    hold: Duration,
    /// How text is written to and read from the wire.
    charset: Charset,
}

fn main() -> ExitCode {
    let mut out_of_descriptors = false;
    let code = course::main(|| {
        let result = run();
        out_of_descriptors = result.as_ref().is_err_and(is_out_of_descriptors);
        result
    });
    // After the error line, the hint course::main has none for.
    if out_of_descriptors {
        eprintln!(
            "v5-echo-client: hint: every connection needs a file descriptor and \
             this process may open only `ulimit -n` of them: ask for fewer \
             connections, or raise the limit in this shell (ulimit -n 4096)"
        );
    }
    code
}

/// Whether some connection failed because the process ran out of file
/// descriptors.
fn is_out_of_descriptors(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io_err| io_err.raw_os_error() == Some(EMFILE))
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    match options.connections {
        Some(count) => crowd(&options.addr, count, options.hold, options.charset),
        None => interactive(&options.addr, options.charset),
    }
}

/// Lesson 02's client: one line sent, its reply printed, then the next.
fn interactive(addr: &str, charset: Charset) -> anyhow::Result<()> {
    // socket() + connect() in one call.
    let mut stream =
        TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
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
                eprintln!("v5-echo-client: {err}: line not sent");
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

// ANCHOR: crowd
/// Opens `count` connections at once, each on its own thread, sends one
/// message on each and reports how long after the start it was answered.
fn crowd(
    addr: &str,
    count: usize,
    hold: Duration,
    charset: Charset,
) -> anyhow::Result<()> {
    // Look the name up once: every connection goes to the same address.
    let target = addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {addr}"))?
        .next()
        .with_context(|| format!("{addr} has no address"))?;
    // A one-at-a-time server makes the last connection wait for all the
    // others' holds: give it that long, and some more.
    let patience = hold * u32::try_from(count)? + CONNECT_TIMEOUT;
    eprintln!(
        "opening {count} connections to {target}, each held {}s after its answer \
         (each waits up to {}s for it)",
        hold.as_secs_f64(),
        patience.as_secs_f64()
    );
    let start = Instant::now();

    let visitors = (1..=count)
        .map(|id| {
            thread::Builder::new()
                .spawn(move || visit(target, id, start, hold, patience, charset))
        })
        .collect::<io::Result<Vec<_>>>()
        .context("cannot start a thread for every connection")?;
    let mut answered = Vec::new();
    let mut first_failure = None;
    for (id, visitor) in (1..=count).zip(visitors) {
        let result = visitor
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("its thread panicked")));
        match result {
            Ok(after) => answered.push(after),
            Err(err) => {
                eprintln!("connection {id:>4}: failed: {err:#}");
                first_failure.get_or_insert(err);
            }
        }
    }

    if let Some(err) = first_failure {
        let failed = count - answered.len();
        return Err(err.context(format!("{failed} of {count} connections failed")));
    }
    let first = answered.iter().min().copied().unwrap_or_default();
    let last = answered.iter().max().copied().unwrap_or_default();
    say!(
        "{count} of {count} answered: the first after {} ms, the last after {} ms",
        first.as_millis(),
        last.as_millis()
    );
    Ok(())
}

/// One connection of the crowd: connect, send, wait for the answer, report,
/// then stay connected for `hold`.
fn visit(
    target: SocketAddr,
    id: usize,
    start: Instant,
    hold: Duration,
    patience: Duration,
    charset: Charset,
) -> anyhow::Result<Duration> {
    let mut stream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)
        .with_context(|| format!("cannot connect to {target}"))?;
    stream.set_read_timeout(Some(patience))?;
    // Plain ASCII, the same bytes in every charset offered.
    let message = charset.encode_lossy(&format!("hello from connection {id}\n"));
    stream.write_all(&message)?;

    // The answer is complete when our newline comes back; it is short, so
    // a small buffer and a cap keep a thousand threads light.
    let mut reply = Vec::new();
    let mut buf = [0; 512];
    while !reply.contains(&b'\n') && reply.len() < 4096 {
        match stream.read(&mut buf) {
            // 0 bytes: the server closed the connection.
            Ok(0) => bail!("the server closed the connection before it answered"),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            // The read timeout passed: say how long we waited, in seconds.
            Err(err) if is_timeout(&err) => bail!(
                "no answer from {target} within {} s",
                patience.as_secs_f64()
            ),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("no answer from {target}"))
            }
        }
    }
    let after = start.elapsed();
    let mut decoder = charset.decoder();
    let text = decoder.decode(&reply) + &decoder.finish();
    say!(
        "connection {id:>4}: answered after {:>6} ms: {}",
        after.as_millis(),
        text.trim_end()
    );

    // Stay, like a person with more to say. A server that serves one client
    // at a time can answer nobody else until we leave.
    thread::sleep(hold);
    Ok(after)
}
// ANCHOR_END: crowd

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut addr = None;
    let mut connections = None;
    let mut hold = Duration::from_secs(1);
    let mut hold_given = false;
    let mut charset = Charset::UTF8;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Short('c') | Arg::Long("connections") => {
                let count: usize = args.value("--connections")?;
                if !(1..=MAX_CONNECTIONS).contains(&count) {
                    return Err(UsageError(format!(
                        "invalid value \"{count}\" for --connections: \
                         expected 1 to {MAX_CONNECTIONS}"
                    )));
                }
                connections = Some(count);
            }
            Arg::Long("hold") => {
                let seconds: f64 = args.value("--hold")?;
                hold = Duration::try_from_secs_f64(seconds)
                    .ok()
                    .filter(|hold| *hold <= Duration::from_secs(3600))
                    .ok_or_else(|| {
                        UsageError(format!(
                            "invalid value \"{seconds}\" for --hold: \
                             expected 0 to 3600 seconds"
                        ))
                    })?;
                hold_given = true;
            }
            Arg::Long("encoding") => {
                let name: String = args.value("--encoding")?;
                charset = Charset::parse(&name)?;
            }
            Arg::Value(value) if addr.is_none() => {
                addr = Some(course::cli::parse_addr(value)?);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    // Typed lines keep the connection open as long as you type: a hold
    // means something only for the crowd.
    if hold_given && connections.is_none() {
        return Err(UsageError(
            "--hold works only with --connections N (without it, the connection \
             stays open until your input ends)"
                .into(),
        ));
    }
    Ok(Options {
        addr: addr.unwrap_or_else(|| DEFAULT_ADDR.to_string()),
        connections,
        hold,
        charset,
    })
}

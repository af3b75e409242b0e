//! Lesson 04: the chat room's client. One thread sends what you type; another
//! prints what the room says, whenever it says it.
//!
//! From seed 000 (聊天室的demo, 客户端). A chat client can't be lockstep like
//! the echo clients: messages from others arrive while you are typing. So,
//! as in the seed, a sending thread and a receiving thread share the
//! connection. Start the server in one terminal, then a client in each of
//! two or three more:
//!
//! ```text
//! cargo run -p chat-server
//! cargo run -p chat-client
//! ```

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::chat::SHUTTING_DOWN;
use course::cli::{Arg, Args};
use course::{Charset, UsageError};

mod find;

/// Where the chat server listens by default (the seed's port).
const DEFAULT_ADDR: &str = "127.0.0.1:9999";

/// How long to wait for the server's first words before sending anyway.
const GREETING_WAIT: Duration = Duration::from_secs(5);

/// After we said QUIT, how long to wait for the server's last words.
const GOODBYE_WAIT: Duration = Duration::from_secs(5);

const HELP: &str = "\
chat-client: join a chat room (lesson 04)

Usage: chat-client [ADDR] [--encoding NAME]
       chat-client --find [ROOM] [--find-on IP] [--find-timeout SECS] [--group GROUP:PORT]

The first line you type is your nickname; every other line goes to the
room. /who lists who is here; QUIT (or the end of input, Ctrl-D) leaves.

Arguments:
  ADDR  host:port of the chat server [default: 127.0.0.1:9999]
  ROOM  with --find: the room to join, by its name (chat-server --room NAME)
        or the host:port it announces; a word of its own (--find lab2)

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
                        must match the chat server's --encoding
      --find            wait for the rooms that `chat-server --announce` (lesson
                        14), list those heard in 1.5 s, and join the first (or
                        ROOM), in the encoding it announces
      --find-on IP      the interface that listens, by its address
                        [default: 127.0.0.1]; 0.0.0.0: the routing table's pick
      --find-timeout SECS   how long to wait for a room [default: 10]
      --group GROUP:PORT    where servers announce [default: 239.255.14.14:7814]
  -h, --help            print this help

Example:
  chat-client
  printf 'alice\\nhello everyone\\n' | chat-client 127.0.0.1:9999
  chat-client --encoding gbk         # against chat-server --encoding gbk
  chat-client --find --find-on 0.0.0.0   # the classroom's announced server
  chat-client --find lab2            # the room of chat-server --announce --room lab2
";

/// What the command line asked for.
struct Options {
    addr: String,
    /// How text is written to and read from the wire.
    charset: Charset,
    /// Whether --encoding was given (a found room's encoding is used if not).
    charset_given: bool,
    /// --find: where to listen for a server's beacon, and how long.
    find: Option<Find>,
}

/// The --find options.
struct Find {
    group: std::net::SocketAddrV4,
    on: std::net::Ipv4Addr,
    timeout: Duration,
    /// ROOM: a room's name or host:port, or `None` for the first heard.
    room: Option<String>,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options {
        mut addr,
        mut charset,
        charset_given,
        find,
    } = parse_args()?;
    // Lesson 14: the address (and the room's encoding) from a beacon, as if
    // typed.
    if let Some(Find {
        group,
        on,
        timeout,
        room,
    }) = find
    {
        let found = find::find(group, on, timeout, room.as_deref())?;
        addr = found.addr.to_string();
        if !charset_given {
            charset = found.charset;
        }
    }

    let mut stream =
        TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
    eprintln!("connected to {}", stream.peer_addr()?);

    // ANCHOR: threads
    // What both threads need to know about the visit (see `Visit`).
    let visit = Arc::new(Visit::default());

    // The receiver tells the sender when the server has first spoken.
    let (greeted, greeting) = mpsc::channel();

    // The receiving thread gets its own handle on the same socket.
    let incoming = stream.try_clone().context("cannot clone the socket")?;
    let receiver = {
        let visit = Arc::clone(&visit);
        thread::Builder::new()
            .name("receiver".into())
            .spawn(move || receive(incoming, &visit, charset, greeted))
            .context("cannot start the receiving thread")?
    };

    // This thread sends: every line typed (or piped) goes to the server.
    send(&mut stream, &visit, charset, &greeting)?;

    // We said goodbye (or could not send any more); the receiver prints the
    // room's last words and ends when the server closes the connection.
    // A server that never closes must not keep us: past GOODBYE_WAIT,
    // shutting the socket down ends the receiver's read. (A read timeout set
    // now would not reach a read that is already waiting.)
    let deadline = Instant::now() + GOODBYE_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match greeting.recv_timeout(left) {
            // More bytes came: the receiver printed them.
            Ok(()) => {}
            // The receiver has ended: its channel closed with it.
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                let _ = stream.shutdown(Shutdown::Both);
                break;
            }
        }
    }
    match receiver.join() {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the receiving thread panicked"),
    }
    // ANCHOR_END: threads
}

// ANCHOR: visit
/// What the two threads know about the visit. Each flag is set once, by one
/// thread, and read by the other.
#[derive(Default)]
struct Visit {
    /// The sender has sent its first line (the nickname).
    spoke: AtomicBool,
    /// The server sent something after that: it let us in to talk.
    answered: AtomicBool,
    /// The sender said QUIT: the server may close the connection now.
    said_goodbye: AtomicBool,
}

impl Visit {
    /// True if the server closing the connection now is the expected end:
    /// we said goodbye, and we had been let in. (A server that turns us
    /// away, a full room, closes before answering anything we sent.)
    fn over(&self) -> bool {
        self.said_goodbye.load(Ordering::SeqCst) && self.answered.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: visit

// ANCHOR: send
/// Sends stdin to the server line by line, in `charset`; at `QUIT` or the
/// end of input, says goodbye.
fn send(
    stream: &mut TcpStream,
    visit: &Visit,
    charset: Charset,
    greeting: &Receiver<()>,
) -> anyhow::Result<()> {
    // The server speaks first: it asks for a nickname, or says the room is
    // full and closes. Waiting for that before sending anything means that
    // piped input, which is all there at once, can't say QUIT before we
    // know whether we were let in. (A server that never speaks gets our
    // lines after a few seconds anyway.)
    let _ = greeting.recv_timeout(GREETING_WAIT);
    let mut line = Vec::new();
    let mut input = io::stdin().lock();
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .context("cannot read stdin")?;
        // End of input: leave as if we had typed QUIT.
        if n == 0 {
            line.extend_from_slice(b"QUIT\n");
        }
        // The server reads lines: every message ends with a newline. (The
        // seed sends none, so two quick messages can arrive as one.)
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        // The terminal gives UTF-8; the wire wants the chosen charset. A
        // character it can't write (an emoji in GBK) is reported, and the
        // line skipped: sending something else would not be what was typed.
        let bytes = match charset.encode(&String::from_utf8_lossy(&line)) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("chat-client: {err}: line not sent");
                continue;
            }
        };
        let quitting = line.trim_ascii().eq_ignore_ascii_case(b"QUIT");
        // Both before the write: the server may answer, or close, as soon as
        // it has read the line.
        visit.spoke.store(true, Ordering::SeqCst);
        if quitting {
            visit.said_goodbye.store(true, Ordering::SeqCst);
        }
        // write_all: the whole line, however many writes it takes. If it
        // fails, the connection is gone: the receiving thread prints what
        // the server said last and reports how it ended.
        if stream.write_all(&bytes).is_err() {
            return Ok(());
        }
        if quitting {
            return Ok(());
        }
    }
}
// ANCHOR_END: send

// ANCHOR: receive
/// Prints everything the server sends until it closes the connection,
/// decoded from `charset` (the terminal gets UTF-8) and with its control
/// characters escaped; tells `greeted` when the first bytes have come.
fn receive(
    mut stream: TcpStream,
    visit: &Visit,
    charset: Charset,
    greeted: Sender<()>,
) -> anyhow::Result<()> {
    let mut buf = vec![0; 16 * 1024];
    // Keeps a character cut between two reads whole (see course::Decoder).
    let mut decoder = charset.decoder();
    let mut out = io::stdout();
    // The last whole line, and the one on its way: a close right after
    // lesson 13's shutdown notice is the end of the visit.
    let (mut last, mut line) = (String::new(), String::new());
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // After QUIT, a reset or a silent server is just the end.
            Err(_) if visit.over() => 0,
            Err(err) => lost_server(&format!("the connection broke: {err}")),
        };
        if n == 0 {
            out.write_all(course::printable_lines(&decoder.finish()).as_bytes())?;
            out.flush()?;
            if visit.over() {
                return Ok(());
            }
            if last == SHUTTING_DOWN.trim_end() {
                eprintln!("chat-client: the server shut down");
                std::process::exit(0);
            }
            lost_server("the server closed the connection");
        }
        // A server can send anything: control characters are shown as
        // escapes (`\u{1b}`), so that it cannot clear our screen, move the
        // cursor or retitle the window. Line ends and tabs stay.
        let text = decoder.decode(&buf[..n]);
        out.write_all(course::printable_lines(&text).as_bytes())?;
        out.flush()?;
        remember_last_line(&text, &mut last, &mut line);
        if visit.spoke.load(Ordering::SeqCst) {
            visit.answered.store(true, Ordering::SeqCst);
        }
        // The sender waits for the first of these before it sends; after
        // QUIT, `run` waits for the channel to close with this thread.
        let _ = greeted.send(());
    }
}
// ANCHOR_END: receive

/// Keeps the last whole line of what came so far in `last`, and the part
/// of the next one in `line`, at most a short line's worth: only the
/// shutdown notice is ever compared with it.
fn remember_last_line(text: &str, last: &mut String, line: &mut String) {
    for c in text.chars() {
        if c == '\n' {
            *last = std::mem::take(line);
        } else if line.len() < 128 {
            line.push(c);
        }
    }
}

/// The server went away while we were still in the room. The sending
/// thread may be waiting for a line from the keyboard, so the receiving
/// thread ends the whole program, with the failure status.
fn lost_server(why: &str) -> ! {
    eprintln!("chat-client: error: {why}");
    std::process::exit(1);
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut positional = None;
    let mut options = Options {
        addr: DEFAULT_ADDR.to_string(),
        charset: Charset::UTF8,
        charset_given: false,
        find: None,
    };
    let (mut find, mut group, mut on, mut timeout) = (false, None, None, None);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("encoding") => {
                options.charset = Charset::parse(&args.value::<String>("--encoding")?)?;
                options.charset_given = true;
            }
            Arg::Long("find") => find = true,
            Arg::Long("find-on") => {
                on = Some(args.value::<std::net::Ipv4Addr>("--find-on")?)
            }
            Arg::Long("find-timeout") => {
                let secs: f64 = args.value("--find-timeout")?;
                if !(0.001..=3600.0).contains(&secs) {
                    return Err(UsageError(format!(
                        "invalid value \"{secs}\" for --find-timeout: expected 0.001 to 3600 seconds"
                    )));
                }
                timeout = Some(Duration::from_secs_f64(secs));
            }
            Arg::Long("group") => {
                group = Some(course::chat::parse_group(
                    &args.value::<String>("--group")?,
                )?)
            }
            // ADDR, or with --find the ROOM: which, once all are read.
            Arg::Value(value) if positional.is_none() => positional = Some(value),
            other => return Err(other.unexpected().into()),
        }
    }
    if find {
        options.find = Some(Find {
            group: group.unwrap_or(find::GROUP),
            on: on.unwrap_or(std::net::Ipv4Addr::LOCALHOST),
            timeout: timeout.unwrap_or(Duration::from_secs(10)),
            room: positional.map(room).transpose()?,
        });
    } else if on.is_some() || group.is_some() || timeout.is_some() {
        return Err(UsageError(
            "--find-on, --find-timeout and --group are for --find".into(),
        ));
    } else if let Some(addr) = positional {
        options.addr = course::cli::parse_addr(addr)?;
    }
    Ok(options)
}

/// The ROOM of `--find ROOM`: a name `chat-server --room` accepts, or a
/// host:port.
fn room(value: std::ffi::OsString) -> Result<String, UsageError> {
    match value.into_string() {
        Ok(room)
            if course::chat::is_room_name(&room)
                || room.parse::<std::net::SocketAddr>().is_ok() =>
        {
            Ok(room)
        }
        Ok(room) => Err(UsageError(format!(
            "invalid value {} for ROOM: expected a room's name (one word, as \
             chat-server --room gave it) or its host:port",
            course::preview(&room)
        ))),
        Err(raw) => Err(UsageError(format!(
            "invalid value {raw:?} for ROOM: not valid text"
        ))),
    }
}

//! Lesson 04: a chat room. Everyone picks a nickname, every line anyone
//! sends goes to everyone with the sender's name and the time, and nobody,
//! however badly behaved, can stall or crash the room.
//!
//! From seed 000 (聊天室的demo). Like the seed, a thread reads from each
//! client; unlike it, each client also gets a writer thread fed by a bounded
//! outbox, so a client that stops reading is cut off instead of blocking the
//! broadcast. Lines end with a newline, so `nc` is a client too. Start the
//! server, then a client in each of two or three more terminals:
//!
//! ```text
//! cargo run -p chat-server
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```
//!
//! `--encoding gbk` makes the whole room speak GBK on the wire: every
//! client of this server must use the same encoding.

mod announce;
mod room;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
// The room's protocol (its lines, nickname rules, commands and flags) is the
// same in every chat server of the course, so it lives in course::chat.
use course::chat::{self, Command, Nick, Options, Settings, MAX_LINE};
use course::{say, Charset};

// `crate::room` and `crate::chat` are this file's own `room` and `chat`.
// Lesson 04's exercise answers (examples/answer-04-*.rs) compile this file as
// a module and bring a `chat` and a `room` of their own, so it names both from
// the crate root; the few items marked `pub(crate)` are what they borrow.
use crate::room::{Inbox, Refusal, Room};

const HELP: &str = "\
chat-server: a multi-user chat room (lesson 04)

Usage: chat-server [ADDR] [OPTIONS]

Clients send lines: the first is their nickname, the others go to everyone.
`/who` lists who is here; `QUIT` leaves. Any line-based client works: the
lesson's chat-client, or nc.

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:9999]
        port 0 lets the system pick a free port

Options:
      --max-clients N        most connections at once [default: 1000]
      --nick-timeout SECS    time to choose a nickname [default: 20]
      --write-timeout SECS   longest a client may take to receive what waits
                             for it [default: 5]
      --encoding NAME        utf-8, gbk, gb2312 or gb18030 [default: utf-8]
                             the one encoding of the whole room
      --announce             say where the room is, every second, to a
                             multicast group (lesson 14; TTL 1, out of ADDR's
                             interface): chat-client --find finds it
      --group GROUP:PORT     the group to announce on [default: 239.255.14.14:7814]
      --room NAME            the room's name in its beacon, one word: chat-client
                             --find NAME picks this room among several
  -h, --help                 print this help

Example:
  chat-server                        # then, in other terminals: chat-client
  chat-server 127.0.0.1:0 --max-clients 30
  chat-server --encoding gbk         # then: chat-client --encoding gbk
  chat-server 10.14.1.1:9999 --announce   # then: chat-client --find --find-on 0.0.0.0
";

fn main() -> ExitCode {
    course::main(run)
}

pub(crate) fn run() -> anyhow::Result<()> {
    // The room's options, lesson 14's --announce among them (course::chat).
    let Options { addr, settings } = chat::parse_args(HELP)?;
    let listener =
        TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let beacon = chat::Beacon::for_room(local, &settings)?;
    course::listening_on_with_encoding(local, "chat-client", settings.charset);
    if let Some(beacon) = beacon {
        announce::start(beacon)?;
    }

    // ANCHOR: accept_loop
    // The room is shared by every client's threads: Arc to share it, a
    // Mutex inside it to change it one thread at a time.
    let room = Arc::new(Room::new(settings.charset));
    // Connections being served, to keep the total bounded.
    let connections = Arc::new(AtomicUsize::new(0));
    loop {
        let (mut stream, peer) = match listener.accept() {
            Ok(pair) => pair,
            Err(err) => {
                say!("accept failed: {err}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        // Only this thread adds connections, so the count can't pass the
        // limit between this check and the increment.
        if connections.load(Ordering::SeqCst) >= settings.max_clients {
            say!("{peer} turned away: the room is full");
            // A fresh socket's send buffer is empty: this short write does
            // not block. Dropping the stream closes the connection.
            let _ = stream.write_all(&settings.charset.encode_lossy(chat::ROOM_FULL));
            continue;
        }
        connections.fetch_add(1, Ordering::SeqCst);
        say!("{peer} connected");
        let room = Arc::clone(&room);
        let count = Arc::clone(&connections);
        let spawned =
            thread::Builder::new()
                .name(format!("reader {peer}"))
                .spawn(move || {
                    match serve(stream, peer, &room, settings) {
                        Ok(()) => say!("{peer} disconnected"),
                        Err(err) => say!("{peer} dropped: {err}"),
                    }
                    count.fetch_sub(1, Ordering::SeqCst);
                });
        if let Err(err) = spawned {
            say!("{peer} turned away: cannot start a thread: {err}");
            // The closure was dropped without running: undo its count.
            connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
    // ANCHOR_END: accept_loop
}

// ANCHOR: serve
/// One client's whole visit: choose a nickname, then chat until `QUIT`, the
/// end of the connection, or being cut off.
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    room: &Arc<Room>,
    settings: Settings,
) -> io::Result<()> {
    // Until it has joined, the client is answered directly; a write that
    // cannot go through within the timeout ends the visit.
    stream.set_write_timeout(Some(settings.write_timeout))?;
    answer(&mut stream, settings.charset, chat::GREETING)?;

    // The whole handshake has one deadline: a client that trickles a byte
    // at a time cannot hold its connection open forever.
    let mut reader = BufReader::new(ClientReader {
        stream: stream.try_clone()?,
        deadline: Some(Instant::now() + settings.nick_timeout),
    });
    let Some((id, nick, inbox)) =
        choose_nick(&mut stream, &mut reader, room, settings.charset)?
    else {
        return Ok(()); // The client left before choosing a nickname.
    };
    reader.get_mut().deadline = None;
    stream.set_read_timeout(None)?;
    say!("{peer} is {:?}", nick.as_str());

    // Joining put the welcome in the outbox and told the room, before the
    // writer thread starts: whatever happens to the connection later, the
    // room hears of the arrival before it can hear of the departure.

    // From now on only the writer thread writes to this client, taking
    // messages from its outbox in order.
    let writer = {
        let room = Arc::clone(room);
        thread::Builder::new()
            .name(format!("writer {peer}"))
            .spawn(move || {
                write_messages(stream, inbox, &room, id, settings.write_timeout)
            })
    };
    if let Err(err) = writer {
        room.leave(id, "the server could not start a thread");
        return Err(err);
    }

    // `crate::chat` is `chat` below (an exercise answer brings its own).
    let ending = crate::chat(&mut reader, room, id, &nick, settings.charset);
    // Whoever removes the member announces it: the writer thread may have
    // done so already, if it cut the client off.
    let why = match &ending {
        Ok(why) => why.to_string(),
        Err(err) => err.to_string(),
    };
    room.leave(id, &why);
    ending.map(|_| ())
}
// ANCHOR_END: serve

// ANCHOR: choose_nick
/// Reads nickname lines until one is free, and joins the room with it.
/// Returns the member's id, nickname and the receiving end of its outbox, or
/// `None` if the client left first.
fn choose_nick(
    stream: &mut TcpStream,
    reader: &mut BufReader<ClientReader>,
    room: &Room,
    charset: Charset,
) -> io::Result<Option<(u64, Nick, Inbox)>> {
    let mut buf = Vec::new();
    loop {
        let line = match read_line(reader, &mut buf) {
            Ok(Line::Whole(line)) => line,
            Ok(Line::TooLong) => {
                answer(stream, charset, chat::NICK_LINE_TOO_LONG)?;
                continue;
            }
            Ok(Line::End) => return Ok(None),
            Err(err) if err.kind() == io::ErrorKind::TimedOut => {
                let _ = answer(stream, charset, chat::TOO_SLOW);
                return Err(err);
            }
            Err(err) => return Err(err),
        };
        if chat::command(&chat::line_text(line, charset)) == Command::Quit {
            return Ok(None);
        }
        // The rules (no invisible characters, no `*` in front, ...) are in
        // course::chat::nickname; the answer says which one was broken.
        let nick = match chat::nickname(line, charset) {
            Ok(nick) => nick,
            Err(why) => {
                answer(stream, charset, &chat::refused(&why))?;
                continue;
            }
        };
        // A bounded outbox: at most room::OUTBOX_BYTES wait for this client.
        let (outbox, inbox) = crate::room::outbox();
        match room.join(&nick, outbox, stream.try_clone()?) {
            Ok(id) => return Ok(Some((id, nick, inbox))),
            Err(Refusal::Taken) => answer(stream, charset, &chat::taken(&nick))?,
        }
    }
}

/// Writes `text` straight to a client that has not joined the room (yet),
/// in the room's charset. A character the charset can't write goes out as
/// `?`: a server has nobody to ask.
fn answer(stream: &mut TcpStream, charset: Charset, text: &str) -> io::Result<()> {
    stream.write_all(&charset.encode_lossy(text))
}

// ANCHOR_END: choose_nick

// ANCHOR: chat
/// Passes the client's lines to the room until it leaves; returns why.
fn chat(
    reader: &mut impl BufRead,
    room: &Room,
    id: u64,
    nick: &Nick,
    charset: Charset,
) -> io::Result<&'static str> {
    let mut buf = Vec::new();
    loop {
        let line = match read_line(reader, &mut buf)? {
            Line::End => return Ok("connection closed"),
            Line::TooLong => {
                room.tell(id, chat::line_too_long());
                continue;
            }
            Line::Whole(line) => line,
        };
        // Decoded, and every control character replaced (see line_text).
        let text = chat::line_text(line, charset);
        match chat::command(&text) {
            Command::Quit => {
                room.tell(id, chat::BYE.to_string());
                return Ok("QUIT");
            }
            Command::Who => room.tell_who(id),
            Command::Blank => {}
            Command::Say(text) => {
                say!("{nick}: {}", course::preview(text));
                room.broadcast(chat::message(nick, text));
                wait_for_readers(room);
            }
        }
    }
}

/// Backpressure: a client that sends faster than others can read (a pasted
/// file, a flood) waits while someone who is behind is catching up, so that
/// readers are not cut off for being slower than the sender. It does not
/// wait for a client that has stopped: that one's write deadline or full
/// outbox cuts it off.
pub(crate) fn wait_for_readers(room: &Room) {
    let mut behind = room.behind();
    while !behind.is_empty() {
        thread::sleep(Duration::from_millis(20));
        let now = room.behind();
        let catching_up = now.iter().any(|(id, sent)| {
            behind
                .iter()
                .any(|(was, before)| was == id && before < sent)
        });
        if !catching_up {
            return;
        }
        behind = now;
    }
}
// ANCHOR_END: chat

/// A line read from a client.
pub(crate) enum Line<'a> {
    /// A whole line's bytes, without its newline.
    Whole(&'a [u8]),
    /// A line longer than MAX_LINE; it was read and thrown away.
    TooLong,
    /// The client closed the connection.
    End,
}

// ANCHOR: read_line
/// Reads one line into `line`, holding at most MAX_LINE bytes of it (bytes,
/// whatever the charset).
pub(crate) fn read_line<'a>(
    reader: &mut impl BufRead,
    line: &'a mut Vec<u8>,
) -> io::Result<Line<'a>> {
    line.clear();
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', line)?;
    if n == 0 {
        return Ok(Line::End);
    }
    if line.len() > MAX_LINE && !line.ends_with(b"\n") {
        // Skip the rest of the line, MAX_LINE bytes at a time.
        loop {
            line.clear();
            let n = reader
                .by_ref()
                .take(MAX_LINE as u64)
                .read_until(b'\n', line)?;
            if n == 0 || line.ends_with(b"\n") {
                return Ok(Line::TooLong);
            }
        }
    }
    // A line ends at '\n', the same single byte in every charset offered
    // and never part of a GBK or GB18030 character, so cutting there is
    // safe. A last line without '\n' before the connection closed still
    // counts.
    Ok(Line::Whole(line.strip_suffix(b"\n").unwrap_or(line)))
}
// ANCHOR_END: read_line

/// The client's socket as the reader sees it: while `deadline` is set, no
/// read may end after it.
struct ClientReader {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Read for ClientReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no nickname in time",
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
        }
        match self.stream.read(buf) {
            // Unix reports a read timeout as WouldBlock: call it what it is.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no nickname in time",
            )),
            other => other,
        }
    }
}

// ANCHOR: writer
/// Sends what arrives in the client's outbox, in order, until the client
/// has left the room (the outbox is then dropped) or stops taking data.
/// Runs on the client's writer thread.
fn write_messages(
    mut stream: TcpStream,
    inbox: Inbox,
    room: &Room,
    id: u64,
    write_timeout: Duration,
) {
    let mut batch = Vec::new();
    // Whatever is waiting goes out in one write: in a busy room that is one
    // system call for many messages.
    while inbox.next_batch(&mut batch) {
        let deadline = Instant::now() + write_timeout;
        if let Err(err) = write_before(&mut stream, &batch, deadline, &inbox) {
            let why = if err.kind() == io::ErrorKind::TimedOut {
                "not reading: a write waited past the write timeout".to_string()
            } else {
                format!("cut off: {err}")
            };
            room.leave(id, &why);
            break;
        }
    }
    // Either way the visit is over: the client sees the end of the stream,
    // and the reader thread, if still reading, sees it too.
    let _ = stream.shutdown(Shutdown::Both);
}

/// Writes all of `bytes` before `deadline`, or fails with `TimedOut`, telling
/// the inbox of every part written. (A plain write timeout starts again with
/// every write call, so a client that takes a few bytes now and then would
/// never reach it.) It writes at most 16 KiB per call, so that a slow reader's
/// progress shows soon enough for `wait_for_readers` to see it.
fn write_before(
    stream: &mut TcpStream,
    mut bytes: &[u8],
    deadline: Instant,
    inbox: &Inbox,
) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(&bytes[..bytes.len().min(16 * 1024)]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                inbox.sent(n);
                bytes = &bytes[n..];
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            // Unix reports an expired write timeout as WouldBlock.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::ErrorKind::TimedOut.into());
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
// ANCHOR_END: writer

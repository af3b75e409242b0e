//! Lesson 12: lesson 04's chat room on ONE thread. Every socket is
//! nonblocking, and a single loop asks the kernel which of them are ready
//! (with mio, the event loop under tokio), then reads, broadcasts and writes
//! for all of them in turn. Nobody, however badly behaved, stalls the room.
//!
//! From seed 000 (聊天室的demo), whose server blocks in `recv` for each
//! client and freezes when one of them stops reading. This room keeps
//! lesson 04's lines, limits and flags exactly (its whole test suite runs
//! against this program too), without lesson 04's two threads per client.
//! Start it, then a client in each of two or three more terminals:
//!
//! ```text
//! cargo run -p poll-chat-server
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::chat::{self, Command, Nick, Options, Settings, MAX_LINE};
use course::{say, Charset};
use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};

/// The listening socket's token; connections count up from 1.
const LISTENER: Token = Token(0);

/// The most bytes that may wait for one client. A client that lets more
/// pile up is not reading, and is cut off.
const OUTBOX_BYTES: usize = 256 * 1024;

/// An empty output buffer keeps at most this much memory between bursts.
const KEEP_OUTBOX: usize = 4 * 1024;

/// The one read buffer, shared by every connection: a read fills it, the
/// loop takes the lines out, and it is free for the next connection.
const READ_BUF: usize = 64 * 1024;

/// A member with more than this waiting is behind (a quarter of its outbox).
const BEHIND: usize = OUTBOX_BYTES / 4;

/// How long a member that is behind may go without taking any bytes and
/// still count as catching up, which holds the senders back.
const CATCHING_UP: Duration = Duration::from_millis(100);

/// How long to stop accepting after `accept` failed for want of a resource
/// (a full file table: "Too many open files").
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

const HELP: &str = "\
poll-chat-server: the chat room of lesson 04 on one thread (lesson 12)

Usage: poll-chat-server [ADDR] [OPTIONS]

Clients send lines: the first is their nickname, the others go to everyone.
`/who` lists who is here; `QUIT` leaves. Any line-based client works: the
lesson's chat-client, or nc. One thread serves everyone: it waits for any
socket to be ready (mio), and never blocks on one of them.

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
  poll-chat-server                   # then, in other terminals: chat-client
  poll-chat-server 127.0.0.1:0 --max-clients 30
  poll-chat-server --encoding gbk    # then: chat-client --encoding gbk
  poll-chat-server 10.14.1.1:9999 --announce   # then: chat-client --find --find-on 0.0.0.0
";

fn main() -> ExitCode {
    course::main(run)
}

// ANCHOR: main_loop
pub(crate) fn run() -> anyhow::Result<()> {
    // The same flags as lesson 04's chat-server (course::chat reads them),
    // lesson 14's --announce among them.
    let Options { addr, settings } = chat::parse_args(HELP)?;

    // A listener from std (which looks names up, like `localhost`), made
    // nonblocking before mio takes it: from now on no call on it waits.
    let listener = std::net::TcpListener::bind(&addr)
        .with_context(|| format!("cannot listen on {addr}"))?;
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let local = listener.local_addr()?;
    let mut beacon = Announcer::new(chat::Beacon::for_room(local, &settings)?)?;
    course::listening_on_with_encoding(local, "chat-client", settings.charset);
    beacon.start();

    // The kernel watches every registered socket for us; `poll` waits until
    // one of them is ready, or until the nearest deadline.
    let mut poll = Poll::new().context("cannot create the poll instance")?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut room = Room::new(listener, poll.registry().try_clone()?, settings);
    let mut events = Events::with_capacity(1024);
    loop {
        // The nearest deadline, the beacon's among them, bounds the wait.
        let timeout = [room.next_deadline(), beacon.due()]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.saturating_duration_since(Instant::now()));
        if let Err(err) = poll.poll(&mut events, timeout) {
            // A signal arrived while we waited: nothing is wrong, wait again.
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err).context("poll failed");
        }
        // First note what is ready; the work is done after, for everyone in
        // turn, so that one busy client cannot keep the others waiting.
        for event in events.iter() {
            match event.token() {
                LISTENER => room.accept_all(),
                token => room.ready(token, event),
            }
        }
        room.turn();
        beacon.send_if_due(Instant::now());
    }
}
// ANCHOR_END: main_loop

/// Lesson 14's `--announce` on the event loop: the beacon is one more timer
/// whose deadline bounds `poll`'s wait, and sending it is a nonblocking
/// `send_to` that never holds up the room.
struct Announcer {
    beacon: Option<(chat::Beacon, Instant)>,
}

impl Announcer {
    /// Makes the beacon's socket nonblocking; nothing is sent yet.
    fn new(beacon: Option<chat::Beacon>) -> io::Result<Announcer> {
        if let Some(beacon) = &beacon {
            beacon.socket.set_nonblocking(true)?;
        }
        let now = Instant::now();
        Ok(Announcer {
            beacon: beacon.map(|beacon| (beacon, now)),
        })
    }

    /// Says where it announces, and sends the first beacon now.
    fn start(&mut self) {
        if let Some((beacon, _)) = &self.beacon {
            say!("{}", beacon.announcing());
        }
        self.send_if_due(Instant::now());
    }

    /// When the next beacon is due, if there is a beacon.
    fn due(&self) -> Option<Instant> {
        self.beacon.as_ref().map(|(_, due)| *due)
    }

    /// Sends the beacon if its time has come, and sets the next deadline.
    fn send_if_due(&mut self, now: Instant) {
        let Some((beacon, due)) = &mut self.beacon else {
            return;
        };
        if now < *due {
            return;
        }
        *due = now + chat::BEACON_EVERY;
        match beacon.send() {
            Ok(_) => {}
            // The socket's send buffer is full (it never is, for one small
            // datagram a second): skip this beacon rather than wait.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => say!("announce failed: {err}"),
        }
    }
}

// ANCHOR: state
/// Everyone connected, and the listening socket. (`pub(crate)` marks what
/// exercise 3's answer borrows: examples/answer-12-3.rs.)
pub(crate) struct Room {
    listener: TcpListener,
    /// Where sockets are registered, to change what we wait for on each.
    registry: Registry,
    settings: Settings,
    /// Every connection by its token. Tokens are never reused, so an event
    /// for a connection closed earlier in the same batch finds nobody here
    /// rather than a stranger that got its number.
    clients: HashMap<Token, Client>,
    /// The members' tokens in the order they joined: /who and the welcome
    /// list them in this order.
    members: BTreeMap<u64, Token>,
    next_token: usize,
    next_member: u64,
    /// While set, `accept` failed for want of file descriptors: try again
    /// at this time instead of spinning on a listener that stays readable.
    accept_paused_until: Option<Instant>,
    /// The shared read buffer.
    buf: Vec<u8>,
}

/// One connection: only what it must keep between turns of the loop.
struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    stage: Stage,
    /// The line read so far, without its end: at most MAX_LINE bytes.
    line: Vec<u8>,
    /// Skipping the rest of a line longer than MAX_LINE.
    too_long: bool,
    /// mio tells us once that bytes arrived (edge-triggered), not again
    /// until we have read everything: so we remember until a read says
    /// WouldBlock.
    readable: bool,
    /// Bytes waiting to be written, in order.
    out: Vec<u8>,
    /// The last write said WouldBlock: wait for WRITABLE before the next.
    blocked: bool,
    /// WRITABLE is registered for this socket (only while output waits).
    watching_writes: bool,
    /// Bytes ever queued and written, to know if the client keeps up.
    queued: u64,
    written: u64,
    /// What the client must have taken by when: (deadline, bytes written by
    /// then). A client that takes a few bytes now and then must still have
    /// all that was waiting within the write timeout.
    owed: Option<(Instant, u64)>,
    /// When the last write took any bytes.
    last_progress: Instant,
}

/// Where a connection is in its visit.
enum Stage {
    /// Greeted, choosing a nickname before the deadline.
    Naming { deadline: Instant },
    /// In the room.
    Member { id: u64, nick: Nick },
    /// Said goodbye or closed its end: nothing more is read; what waits for
    /// it is written, then the connection closes.
    Leaving,
    /// To be closed at the end of this turn, whatever is waiting.
    Closed,
}
// ANCHOR_END: state

/// A line read from a client.
pub(crate) enum Line {
    /// A whole line as received, without its newline.
    Whole(Vec<u8>),
    /// A line longer than MAX_LINE; it was read and thrown away.
    TooLong,
}

impl Room {
    fn new(listener: TcpListener, registry: Registry, settings: Settings) -> Room {
        Room {
            listener,
            registry,
            settings,
            clients: HashMap::new(),
            members: BTreeMap::new(),
            next_token: 1,
            next_member: 0,
            accept_paused_until: None,
            buf: vec![0; READ_BUF],
        }
    }

    // ANCHOR: accept
    /// Accepts every connection waiting. mio reports the listener once for
    /// any number of them, so we go on until `accept` says WouldBlock.
    fn accept_all(&mut self) {
        if self.accept_paused_until.is_some() {
            return; // The pause ends in `turn`, which calls us again.
        }
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(pair) => pair,
                // Nobody else is waiting: the next arrival brings an event.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                // A signal interrupted the call: just try again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // The client gave up while it waited in the queue.
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(err) => {
                    // Most likely "Too many open files" (EMFILE): the
                    // connection stays in the queue and the listener stays
                    // readable, so trying again at once would spin. Pause,
                    // serve the others, and try again later.
                    say!("accept failed: {err} (pausing {ACCEPT_PAUSE:?})");
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                    return;
                }
            };
            self.welcome(stream, peer);
        }
    }

    /// Registers a new connection and greets it, or turns it away if the
    /// room is full.
    fn welcome(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        if self.clients.len() >= self.settings.max_clients {
            say!("{peer} turned away: the room is full");
            // A fresh socket's send buffer is empty: this short write goes
            // through whole. Dropping the stream closes the connection.
            let full = self.settings.charset.encode_lossy(chat::ROOM_FULL);
            let _ = stream.write_all(&full);
            return;
        }
        let token = Token(self.next_token);
        self.next_token += 1;
        if let Err(err) = self
            .registry
            .register(&mut stream, token, Interest::READABLE)
        {
            say!("{peer} turned away: cannot watch its socket: {err}");
            return;
        }
        say!("{peer} connected");
        let deadline = Instant::now() + self.settings.nick_timeout;
        self.clients.insert(
            token,
            Client {
                stream,
                peer,
                stage: Stage::Naming { deadline },
                line: Vec::new(),
                too_long: false,
                // Bytes may have arrived before we registered: look.
                readable: true,
                out: Vec::new(),
                blocked: false,
                watching_writes: false,
                queued: 0,
                written: 0,
                owed: None,
                last_progress: Instant::now(),
            },
        );
        self.tell(token, chat::GREETING);
    }
    // ANCHOR_END: accept

    /// Notes what an event says of a connection; `turn` acts on it.
    fn ready(&mut self, token: Token, event: &Event) {
        // The connection may have been closed earlier in this batch.
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        // A closed or failed connection reads as readable too: the read
        // then returns 0 or the error, which is how we learn of it.
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            client.readable = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            client.blocked = false;
        }
    }

    // ANCHOR: turn
    /// One turn of the loop, after `poll` returned: read from everyone who
    /// sent something, act on deadlines, write to everyone who has something
    /// waiting, and close who is done.
    fn turn(&mut self) {
        let now = Instant::now();
        if self.accept_paused_until.is_some_and(|until| now >= until) {
            self.accept_paused_until = None;
            // No new event comes for connections already queued: look now.
            self.accept_all();
        }
        // One read each per turn, so that a client sending a flood gets its
        // turn like everybody else, not the whole loop.
        if !self.holding_back(now) {
            let ready: Vec<Token> = self
                .clients
                .iter()
                .filter(|(_, c)| c.readable && c.reads())
                .map(|(token, _)| *token)
                .collect();
            for token in ready {
                self.read_from(token);
            }
        }
        self.check_deadlines(now);
        let pending: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| !c.out.is_empty() && !c.blocked)
            .map(|(token, _)| *token)
            .collect();
        for token in pending {
            self.flush(token);
        }
        self.close_finished();
    }

    /// Backpressure: while a member is behind but catching up (it took
    /// bytes recently), nobody's lines are read, so a flood waits for the
    /// slower readers instead of cutting them off. A member that takes
    /// nothing for CATCHING_UP holds nobody back: it is stalled, and its
    /// full outbox or the write timeout cuts it off.
    fn holding_back(&self, now: Instant) -> bool {
        self.clients.values().any(|c| c.catching_up(now))
    }
    // ANCHOR_END: turn

    /// When `poll` must return even if no socket is ready.
    fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        let holding_back = self.holding_back(now);
        let mut next = self.accept_paused_until;
        let mut sooner = |at: Instant| next = Some(next.map_or(at, |n| n.min(at)));
        for client in self.clients.values() {
            if let Stage::Naming { deadline } = client.stage {
                sooner(deadline);
            }
            if let Some((deadline, _)) = client.owed {
                sooner(deadline);
            }
            if holding_back && client.catching_up(now) {
                // Look again when it would stop counting as catching up.
                sooner(client.last_progress + CATCHING_UP);
            }
            if client.readable && client.reads() && !holding_back {
                // Bytes left over from the last turn: don't wait at all.
                sooner(now);
            }
        }
        next
    }

    // ANCHOR: read
    /// Reads once from a client into the shared buffer and acts on every
    /// whole line in it.
    fn read_from(&mut self, token: Token) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        let n = match client.stream.read(&mut self.buf) {
            // The peer closed its end (or half-closed it): no more lines.
            Ok(0) => {
                client.readable = false;
                self.end_of_input(token);
                return;
            }
            Ok(n) => n,
            // Everything that arrived has been read: wait for the next event.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                client.readable = false;
                return;
            }
            // A signal interrupted the read: `readable` stays, so the next
            // turn reads again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return,
            // A reset, or another failure: this connection is over.
            Err(err) => {
                self.drop_client(token, &err.to_string());
                return;
            }
        };
        // Take the buffer out while the lines are handled (they change the
        // room), and put it back after: it is never copied or reallocated.
        let buf = std::mem::take(&mut self.buf);
        for piece in buf[..n].split_inclusive(|&b| b == b'\n') {
            let Some(line) = self.take_line(token, piece) else {
                continue;
            };
            self.handle(token, line);
            if !self.clients.get(&token).is_some_and(Client::reads) {
                break; // It said QUIT, or was cut off: the rest is ignored.
            }
        }
        self.buf = buf;
    }

    /// Adds `piece` (a line's end, or part of a line) to what the client
    /// sent before; returns the line once it is whole.
    fn take_line(&mut self, token: Token, piece: &[u8]) -> Option<Line> {
        let client = self.clients.get_mut(&token)?;
        let ended = piece.ends_with(b"\n");
        let body = piece.strip_suffix(b"\n").unwrap_or(piece);
        if client.too_long {
            client.too_long = !ended;
            return ended.then_some(Line::TooLong);
        }
        if client.line.len() + body.len() > MAX_LINE {
            // Never hold more than MAX_LINE of a line: drop it, and skip the
            // rest of it as it arrives.
            client.line.clear();
            client.too_long = !ended;
            return ended.then_some(Line::TooLong);
        }
        client.line.extend_from_slice(body);
        if !ended {
            return None;
        }
        Some(Line::Whole(std::mem::take(&mut client.line)))
    }

    /// The client closed its end: a last line without '\n' still counts,
    /// then it leaves; what waits for it is still written.
    fn end_of_input(&mut self, token: Token) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        if !client.line.is_empty() && !client.too_long {
            let line = std::mem::take(&mut client.line);
            self.handle(token, Line::Whole(line));
        }
        self.leave(token, "connection closed");
        if let Some(client) = self.clients.get_mut(&token) {
            if client.reads() {
                client.stage = Stage::Leaving; // It had not joined yet.
            }
        }
    }
    // ANCHOR_END: read

    // ANCHOR: handle
    /// Acts on one line from a client, as lesson 04's room does.
    fn handle(&mut self, token: Token, line: Line) {
        let Some(client) = self.clients.get(&token) else {
            return;
        };
        match &client.stage {
            Stage::Naming { .. } => self.choose_nick(token, client.peer, line),
            Stage::Member { nick, .. } => {
                let (nick, charset) = (nick.clone(), self.settings.charset);
                // `crate::chat` is `chat` below (an exercise answer brings
                // its own).
                crate::chat(self, token, nick, line, charset);
            }
            // Lines after QUIT are never read.
            Stage::Leaving | Stage::Closed => {}
        }
    }

    /// A line from a client that has not joined yet: its nickname. The
    /// rules (no invisible characters, no `*` in front, ...) are lesson
    /// 04's, in course::chat; the answer says which one was broken.
    fn choose_nick(&mut self, token: Token, peer: SocketAddr, line: Line) {
        let charset = self.settings.charset;
        let line = match line {
            Line::Whole(line) => line,
            Line::TooLong => return self.tell(token, chat::NICK_LINE_TOO_LONG),
        };
        if chat::command(&chat::line_text(&line, charset)) == Command::Quit {
            if let Some(client) = self.clients.get_mut(&token) {
                client.stage = Stage::Leaving;
            }
            return;
        }
        match chat::nickname(&line, charset) {
            Err(why) => self.tell(token, &chat::refused(&why)),
            Ok(nick) if self.nicks().iter().any(|n| n.same_as(&nick)) => {
                self.tell(token, &chat::taken(&nick));
            }
            Ok(nick) => self.join(token, peer, nick),
        }
    }
}

/// A line from a member. It is a function, not a method of the room, so
/// that the crate names it (`crate::chat`, in `handle`): lesson 12's
/// exercise 3 (examples/answer-12-3.rs) compiles this file with a `chat` of
/// its own, which reads one more command. The few items marked `pub(crate)`
/// are what it borrows.
fn chat(room: &mut Room, token: Token, nick: Nick, line: Line, charset: Charset) {
    let line = match line {
        Line::Whole(line) => line,
        Line::TooLong => return room.tell(token, &chat::line_too_long()),
    };
    // Decoded, and every control character replaced.
    let text = chat::line_text(&line, charset);
    match chat::command(&text) {
        Command::Quit => {
            room.tell(token, chat::BYE);
            room.leave(token, "QUIT");
        }
        Command::Who => {
            let who = chat::who(&room.nicks().iter().collect::<Vec<_>>());
            room.tell(token, &who);
        }
        Command::Blank => {}
        Command::Say(text) => {
            say!("{nick}: {}", course::preview(text));
            room.broadcast(&chat::message(&nick, text));
        }
    }
}

impl Room {
    /// Adds a client to the room under `nick`. Everything happens on this
    /// one thread, so the list it is shown and the arrivals it hears of
    /// afterwards always agree.
    fn join(&mut self, token: Token, peer: SocketAddr, nick: Nick) {
        let id = self.next_member;
        self.next_member += 1;
        self.members.insert(id, token);
        if let Some(client) = self.clients.get_mut(&token) {
            client.stage = Stage::Member {
                id,
                nick: nick.clone(),
            };
        }
        say!("{peer} is {:?}", nick.as_str());
        let here = self.nicks();
        let welcome = chat::welcome(&nick, &here.iter().collect::<Vec<_>>());
        self.tell(token, &welcome);
        self.tell(token, chat::HINT);
        self.broadcast(&chat::joined(&nick));
    }
    // ANCHOR_END: handle

    /// Takes a member out of the room and tells the others why; does
    /// nothing for a client that was not (or no longer) a member.
    pub(crate) fn leave(&mut self, token: Token, why: &str) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        let stage = std::mem::replace(&mut client.stage, Stage::Leaving);
        match stage {
            Stage::Member { id, nick } => {
                self.members.remove(&id);
                self.broadcast(&chat::left(&nick, why));
            }
            // Not a member: keep what it was (Closed stays Closed).
            other => client.stage = other,
        }
    }

    /// Ends a connection now: it leaves the room if it was in it, and is
    /// closed at the end of the turn without waiting for its output.
    fn drop_client(&mut self, token: Token, why: &str) {
        self.leave(token, why);
        if let Some(client) = self.clients.get_mut(&token) {
            say!("{} dropped: {why}", client.peer);
            client.stage = Stage::Closed;
        }
    }

    /// The members in the order they joined: each one's token and nickname.
    pub(crate) fn each_member(&self) -> impl Iterator<Item = (Token, &Nick)> {
        self.members
            .values()
            .filter_map(|token| match &self.clients.get(token)?.stage {
                Stage::Member { nick, .. } => Some((*token, nick)),
                _ => None,
            })
    }

    /// The members' nicknames in the order they joined.
    pub(crate) fn nicks(&self) -> Vec<Nick> {
        self.each_member().map(|(_, nick)| nick.clone()).collect()
    }

    // ANCHOR: deliver
    /// Queues `text` for one client.
    pub(crate) fn tell(&mut self, token: Token, text: &str) {
        self.deliver(Some(token), text);
    }

    /// Queues `text` for every member.
    pub(crate) fn broadcast(&mut self, text: &str) {
        self.deliver(None, text);
    }

    /// Appends `text`, encoded once, to the output of one client or of every
    /// member. Nothing is written here: each client's output goes out in one
    /// write at the end of the turn, however many messages it holds. A
    /// client whose output would pass OUTBOX_BYTES has stopped reading: it
    /// is cut off and the room told, which may in turn find another full.
    fn deliver(&mut self, to: Option<Token>, text: &str) {
        let now = Instant::now();
        let mut pending = vec![(to, self.settings.charset.encode_lossy(text))];
        while let Some((to, message)) = pending.pop() {
            let targets: Vec<Token> = match to {
                Some(token) => vec![token],
                None => self.members.values().copied().collect(),
            };
            for token in targets {
                let Some(client) = self.clients.get_mut(&token) else {
                    continue;
                };
                if matches!(client.stage, Stage::Closed) {
                    continue;
                }
                if client.out.len() + message.len() <= OUTBOX_BYTES {
                    client.queue(&message, now, self.settings.write_timeout);
                    continue;
                }
                say!("{} dropped: too slow, it was not reading", client.peer);
                let stage = std::mem::replace(&mut client.stage, Stage::Closed);
                if let Stage::Member { id, nick } = stage {
                    self.members.remove(&id);
                    let notice = chat::left(&nick, "too slow: it was not reading");
                    pending.push((None, self.settings.charset.encode_lossy(&notice)));
                }
            }
        }
    }
    // ANCHOR_END: deliver

    // ANCHOR: flush
    /// Writes what waits for a client, as much as its socket takes now.
    fn flush(&mut self, token: Token) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        while !client.out.is_empty() {
            match client.stream.write(&client.out) {
                // The socket took part or all of it. We go round again only
                // if it took part: the next write then says WouldBlock, the
                // promise that mio will report WRITABLE when there is room.
                Ok(n) if n > 0 => client.wrote(n, self.settings.write_timeout),
                Ok(_) => {
                    self.drop_client(token, "cut off: the connection took no bytes");
                    return;
                }
                // The send buffer is full: wait for WRITABLE, then go on.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    client.blocked = true;
                    break;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // A reset or a broken pipe in the middle of a write: the
                // peer is gone, and so is what waited for it.
                Err(err) => {
                    self.drop_client(token, &format!("cut off: {err}"));
                    return;
                }
            }
        }
        // Ask for WRITABLE only while something waits: a socket with room
        // in its send buffer would otherwise wake the loop on every turn.
        let watch_writes = !client.out.is_empty();
        if watch_writes != client.watching_writes {
            let wanted = if watch_writes {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            client.watching_writes = watch_writes;
            if let Err(err) = self.registry.reregister(&mut client.stream, token, wanted)
            {
                self.drop_client(token, &format!("cannot watch its socket: {err}"));
            }
        }
    }
    // ANCHOR_END: flush

    // ANCHOR: deadlines
    /// Cuts off whoever missed a deadline: a nickname not chosen in time, or
    /// output not taken within the write timeout.
    fn check_deadlines(&mut self, now: Instant) {
        let mut late_nick = Vec::new();
        let mut late_reader = Vec::new();
        for (token, client) in &self.clients {
            if let Stage::Naming { deadline } = client.stage {
                if now >= deadline {
                    late_nick.push(*token);
                }
            }
            if client.owed.is_some_and(|(deadline, _)| now >= deadline) {
                late_reader.push(*token);
            }
        }
        for token in late_nick {
            self.tell(token, chat::TOO_SLOW);
            self.flush(token); // One try: it is closed either way.
            self.drop_client(token, "no nickname in time");
        }
        for token in late_reader {
            self.drop_client(token, "not reading: a write waited past the write timeout");
        }
    }
    // ANCHOR_END: deadlines

    /// Closes every connection that is done: cut off, or leaving with
    /// nothing left to write.
    fn close_finished(&mut self) {
        let done: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| match c.stage {
                Stage::Closed => true,
                Stage::Leaving => c.out.is_empty(),
                _ => false,
            })
            .map(|(token, _)| *token)
            .collect();
        for token in done {
            if let Some(mut client) = self.clients.remove(&token) {
                if matches!(client.stage, Stage::Leaving) {
                    say!("{} disconnected", client.peer);
                }
                let _ = self.registry.deregister(&mut client.stream);
                // The client sees the end of the stream; dropping the stream
                // closes the socket.
                let _ = client.stream.shutdown(Shutdown::Both);
            }
        }
    }
}

impl Client {
    /// Whether lines from this client are still read.
    fn reads(&self) -> bool {
        matches!(self.stage, Stage::Naming { .. } | Stage::Member { .. })
    }

    /// Behind, but it took bytes recently.
    fn catching_up(&self, now: Instant) -> bool {
        self.out.len() > BEHIND && now.duration_since(self.last_progress) < CATCHING_UP
    }

    /// Appends a message to the output; starts the write deadline if none
    /// is running.
    fn queue(&mut self, message: &[u8], now: Instant, write_timeout: Duration) {
        self.out.extend_from_slice(message);
        self.queued += message.len() as u64;
        if self.owed.is_none() {
            self.owed = Some((now + write_timeout, self.queued));
            self.last_progress = now;
        }
    }

    /// Marks `n` bytes as written. Once everything owed by the deadline has
    /// gone, what waits now is owed by a new one.
    fn wrote(&mut self, n: usize, write_timeout: Duration) {
        self.out.drain(..n);
        if self.out.is_empty() && self.out.capacity() > KEEP_OUTBOX {
            // A burst (the list of 1,000 members a newcomer is shown) grew
            // the buffer; an empty one need not keep that memory until the
            // next burst, times every member.
            self.out = Vec::new();
        }
        self.written += n as u64;
        let now = Instant::now();
        self.last_progress = now;
        if self.owed.is_some_and(|(_, owed)| self.written >= owed) {
            self.owed =
                (!self.out.is_empty()).then(|| (now + write_timeout, self.queued));
        }
    }
}

//! Lesson 12: the echo server of lessons 02 and 03 on ONE thread, serving
//! every client at once with nonblocking sockets and an event loop (mio).
//!
//! The protocol and the port are those of seed 001 §4 and §6 (v2 and v5):
//! every read is answered with `收到你的消息` and what was read, so the
//! seeds' clients and ours work unchanged. Lesson 03 gave each client a
//! thread that sleeps in `recv`; here no call ever waits on a socket. The
//! one thread asks the kernel which sockets are ready (epoll, through mio),
//! does what they allow without waiting, and asks again. Start it, then
//! clients in other terminals:
//!
//! ```text
//! cargo run -p poll-echo-server
//! cargo run -p v5-echo-client        # or: nc 127.0.0.1 19534
//! cargo run -p v5-echo-client -- --connections 1000
//! cargo run -p poll-echo-server --example would-block   # the first step
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, Charset, Decoder, UsageError};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};

/// The seed's port, on the loopback address: only programs on this machine
/// can connect. (The seed binds 0.0.0.0, which lets the whole classroom
/// network in.)
const DEFAULT_ADDR: &str = "127.0.0.1:19534";

/// What the server puts before every echo, as the seed does.
const PREFIX: &str = "收到你的消息";

/// The one buffer every read goes into. Lessons 02 and 03 keep a 16 KiB
/// buffer per client; here a read is always finished (its bytes answered)
/// before the next read starts, so one buffer serves all the clients, and
/// 10,000 clients cost no more buffer than one. That lets it be larger.
const BUF_SIZE: usize = 64 * 1024;

/// The most replies kept for one client that does not read them. Past it
/// the server stops reading from that client (backpressure) until the
/// client has taken some: what a peer can make the server hold is bounded.
const OUTPUT_LIMIT: usize = 256 * 1024;

/// How long to stop accepting after `accept` fails for lack of resources
/// (too many open files): long enough not to spin, short enough that a
/// waiting client hardly notices.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The listening socket's token; connections count up from 1.
pub(crate) const LISTENER: Token = Token(0);

const HELP: &str = "\
poll-echo-server: a TCP echo server on one thread with an event loop (lesson 12)

Usage: poll-echo-server [ADDR] [--encoding NAME] [--quiet]

Answers every read with 收到你的消息 followed by what it read, like lessons
02 and 03, but serves every client at once on a single thread: nonblocking
sockets, and mio to learn which of them are ready. Stop it with Ctrl-C.

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:19534]
        port 0 lets the system pick a free port

Options:
      --encoding NAME   utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -q, --quiet           log clients coming and going, not every message
                        (for a crowd: v5-echo-client --connections 1000)
  -h, --help            print this help

Thousands of clients need as many file descriptors: raise the limit first
in the same shell, e.g. `ulimit -n 20000` (see lesson 12's notes).

Example:
  poll-echo-server                   # then: v5-echo-client, or nc 127.0.0.1 19534
  poll-echo-server 127.0.0.1:0
  poll-echo-server --encoding gbk    # then: v5-echo-client --encoding gbk
  poll-echo-server --quiet           # then: v5-echo-client --connections 1000
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

pub(crate) fn run() -> anyhow::Result<()> {
    let Options {
        addr,
        charset,
        quiet,
    } = parse_args()?;

    // socket() + bind() + listen(128), as in every lesson so far.
    let listener = std::net::TcpListener::bind(&addr)
        .with_context(|| format!("cannot listen on {addr}"))?;
    // The step this lesson is about: from now on accept() never waits. It
    // returns a client, or at once the error WouldBlock ("nobody is
    // waiting"). The clients it returns are nonblocking too (mio asks
    // for that in the accept4 call).
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    course::listening_on_with_encoding(listener.local_addr()?, "v5-echo-client", charset);

    // ANCHOR: setup
    // The poller: one epoll instance that will watch every socket we give
    // it. A registration says which socket (by its Token) and which
    // readiness we care about (Interest).
    let poll = Poll::new().context("cannot create the poller")?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let server = Server {
        listener,
        conns: HashMap::new(),
        next_token: 1,
        buf: vec![0; BUF_SIZE],
        charset,
        quiet,
        accept_again_at: None,
        accept_failing: false,
    };
    // What one poll() reports: up to 1,024 ready sockets per wake-up.
    let events = Events::with_capacity(1024);
    // ANCHOR_END: setup

    // `crate::event_loop` is `event_loop` below (an exercise answer brings
    // its own).
    crate::event_loop(poll, server, events)
}

/// Serves every client, for ever: sleep until sockets are ready, do what
/// they allow, sleep again. It is a function of its own, named through the
/// crate in `run`, so that lesson 12's exercise 2 (examples/answer-12-2.rs)
/// can compile this file with a loop that has one more timer. The few items
/// marked `pub(crate)` are what it borrows.
fn event_loop(
    mut poll: Poll,
    mut server: Server,
    mut events: Events,
) -> anyhow::Result<()> {
    // ANCHOR: event_loop
    loop {
        // Sleep until some socket is ready. The only timer this server has
        // is the pause after a failed accept: while it runs, wake up when
        // it ends even if no socket becomes ready.
        let timeout = server
            .accept_again_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal arrived while we slept: nothing happened to the
            // sockets, so poll again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // The poller itself failed: nothing can be served any more.
            Err(err) => return Err(err).context("poll failed"),
        }
        // The pause is over: take the clients that waited in the queue.
        // No event would tell us: they knocked while we were not listening.
        if server
            .accept_again_at
            .is_some_and(|at| Instant::now() >= at)
        {
            server.accept_again_at = None;
            server.accept_all(poll.registry());
        }
        for event in &events {
            match event.token() {
                // While accepting is paused, leave new clients in the queue.
                LISTENER if server.accept_again_at.is_some() => {}
                LISTENER => server.accept_all(poll.registry()),
                token => server.serve(token, event, poll.registry()),
            }
        }
    }
    // ANCHOR_END: event_loop
}

// ANCHOR: state
/// Everything the event loop keeps between two wake-ups. (`pub(crate)`
/// marks what exercise 2's answer borrows: examples/answer-12-2.rs.)
pub(crate) struct Server {
    listener: TcpListener,
    /// The open connections, by token. A token is never given out twice,
    /// so an event left over for a connection that is gone finds nothing
    /// here, never a newer connection that got the same file descriptor.
    pub(crate) conns: HashMap<Token, Conn>,
    pub(crate) next_token: usize,
    /// The one read buffer (see [`BUF_SIZE`]).
    buf: Vec<u8>,
    charset: Charset,
    quiet: bool,
    /// Set while accepting is paused after a failure (see `accept_all`).
    pub(crate) accept_again_at: Option<Instant>,
    /// The last accept failed: say so once, and once when it works again.
    accept_failing: bool,
}

/// What one connection must remember while the thread serves the others.
/// With a thread per client this lived on the thread's stack; here it is
/// all there is: no stack, no buffer of its own, a hundred bytes or so.
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
    pub(crate) peer: SocketAddr,
    /// Replies the kernel has not taken yet (its send buffer was full).
    /// Empty, it holds no memory.
    pub(crate) output: Vec<u8>,
    /// Holds the first bytes of a character cut between two reads.
    decoder: Decoder,
    /// We stopped reading before WouldBlock (the output was full), so the
    /// socket may still hold data that no new event will announce: read
    /// again as soon as the output drains.
    read_pending: bool,
    /// The client closed its side (a read returned 0 bytes): answer what
    /// is left, then close.
    peer_closed: bool,
    /// What the poller watches for now, to re-register only on a change.
    interest: Interest,
}
// ANCHOR_END: state

/// How a connection came out of a turn of the loop.
enum Next {
    /// It goes on: wait for the readiness it needs.
    Wait(Interest),
    /// The client closed and has every reply: close our side.
    Done,
}

impl Server {
    // ANCHOR: accept
    /// Accepts every client waiting in the listen queue.
    pub(crate) fn accept_all(&mut self, registry: &Registry) {
        loop {
            let (mut stream, peer) = match self.listener.accept() {
                Ok(pair) => pair,
                // The queue is empty. mio's events are edge-triggered: the
                // listener said "readable" once, for all the clients that
                // queued up, so we take them all before we poll again.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                // A signal interrupted the call: try again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // A client that reset before we took it: only its loss.
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
                // Most often "Too many open files" (EMFILE: this process's
                // `ulimit -n` is reached; ENFILE: the whole system's). The
                // client stays in the queue, so trying again now fails the
                // same way, forever, at full speed. Stop accepting for a
                // moment (the poll timeout ends the pause), serve the
                // clients we have, and try again: one of them may leave.
                Err(err) => {
                    // Said once, not ten times a second while it lasts.
                    if !self.accept_failing {
                        say!(
                            "accept failed: {err}; trying again every {} ms",
                            ACCEPT_PAUSE.as_millis()
                        );
                        self.accept_failing = true;
                    }
                    self.accept_again_at = Some(Instant::now() + ACCEPT_PAUSE);
                    return;
                }
            };
            if self.accept_failing {
                say!("accepting again");
                self.accept_failing = false;
            }
            // Replies are complete answers: send each at once (see
            // v5-echo-server on Nagle's algorithm). A socket that refuses
            // is only one client: turn it away and go on.
            if let Err(err) = stream.set_nodelay(true) {
                say!("{peer} turned away: {err}");
                continue;
            }
            let token = Token(self.next_token);
            self.next_token += 1;
            // Only READABLE for now: with nothing to send, "writable"
            // would be true at once and wake us for nothing. If the client
            // has already sent something, the first poll reports it.
            if let Err(err) = registry.register(&mut stream, token, Interest::READABLE) {
                say!("{peer} turned away: {err}");
                continue;
            }
            say!("{peer} connected");
            self.conns
                .insert(token, Conn::new(stream, peer, self.charset));
        }
    }
    // ANCHOR_END: accept

    // ANCHOR: serve
    /// Does what `event` allows on one connection, and closes it when it is
    /// finished or failed.
    pub(crate) fn serve(
        &mut self,
        token: Token,
        event: &mio::event::Event,
        registry: &Registry,
    ) {
        // Closed earlier (in this batch of events, say): nothing to do.
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        // A hang-up or an error counts as readable: the read says which.
        let readable = event.is_readable() || event.is_read_closed() || event.is_error();
        let outcome = conn
            .make_progress(readable, &mut self.buf, self.charset, self.quiet)
            .and_then(|next| match next {
                Next::Wait(wanted) if wanted != conn.interest => {
                    registry.reregister(&mut conn.stream, token, wanted)?;
                    conn.interest = wanted;
                    Ok(true)
                }
                Next::Wait(_) => Ok(true),
                Next::Done => Ok(false),
            });
        let why = match outcome {
            Ok(true) => return,
            Ok(false) => None,
            Err(err) => Some(err),
        };
        // Remove it from the map: dropping the stream closes the socket,
        // and closing it takes it out of the poller too.
        if let Some(conn) = self.conns.remove(&token) {
            match why {
                None => say!("{} disconnected", conn.peer),
                // A reset, or a write to a client that is gone: only this
                // client's session ends.
                Some(err) => say!("{} dropped: {err}", conn.peer),
            }
        }
    }
    // ANCHOR_END: serve
}

impl Conn {
    fn new(stream: TcpStream, peer: SocketAddr, charset: Charset) -> Conn {
        Conn {
            stream,
            peer,
            output: Vec::new(),
            decoder: charset.decoder(),
            read_pending: false,
            peer_closed: false,
            interest: Interest::READABLE,
        }
    }

    // ANCHOR: progress
    /// Sends what is pending, reads (if `readable`, or if an earlier turn
    /// left data unread) and answers, until the socket would block; then
    /// says what to wait for next.
    fn make_progress(
        &mut self,
        readable: bool,
        buf: &mut [u8],
        charset: Charset,
        quiet: bool,
    ) -> io::Result<Next> {
        // Room in the kernel's send buffer (a WRITABLE event), or just a
        // turn: send what is waiting first. It may make room to read again.
        self.write_pending()?;
        // Data left unread by backpressure is read now that there may be
        // room. (Asking for READABLE again, below, would also make epoll
        // report it, but a turn of the loop later.)
        if readable || self.read_pending {
            self.read_until_blocked(buf, charset, quiet)?;
        }
        if self.peer_closed && self.output.is_empty() {
            return Ok(Next::Done);
        }
        // WRITABLE only while replies wait: an empty output would make
        // every poll return at once, for nothing. READABLE only while we
        // will read: a client we stopped reading from (backpressure) must
        // not wake us with every packet it sends.
        let read = !self.peer_closed && self.output.len() < OUTPUT_LIMIT;
        let write = !self.output.is_empty();
        Ok(Next::Wait(match (read, write) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (false, true) => Interest::WRITABLE,
            // The output is empty (peer_closed with an empty output returned
            // Done above), so there is something to read.
            _ => Interest::READABLE,
        }))
    }
    // ANCHOR_END: progress

    // ANCHOR: read
    /// Reads and answers until the socket has nothing more (WouldBlock), the
    /// client closes, or the output is full.
    fn read_until_blocked(
        &mut self,
        buf: &mut [u8],
        charset: Charset,
        quiet: bool,
    ) -> io::Result<()> {
        // mio is edge-triggered: "readable" is reported when data arrives,
        // not again while it sits there. Stop reading before WouldBlock
        // and the rest waits in the kernel, unseen, and this client hangs.
        self.read_pending = false;
        while !self.peer_closed {
            // Backpressure: the client is not reading our replies. Leave
            // its bytes in the kernel, whose buffers fill and make the
            // client's sends wait: it slows to the pace it reads at.
            if self.output.len() >= OUTPUT_LIMIT {
                self.read_pending = true;
                return Ok(());
            }
            let n = match self.stream.read(buf) {
                // 0 bytes: the client closed its side. No more data will
                // come, but it may still read our last replies.
                Ok(0) => {
                    self.peer_closed = true;
                    return Ok(());
                }
                Ok(n) => n,
                // Nothing more for now: the next event says when there is.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                // A signal arrived before any data: read again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // ConnectionReset (the client reset) and every other error
                // end this connection only: the caller closes it.
                Err(err) => return Err(err),
            };
            let text = self.decoder.decode(&buf[..n]);
            // The read held only the first bytes of a character: the next
            // read completes it, and we answer then.
            if text.is_empty() {
                continue;
            }
            if !quiet {
                say!("{} sent {n} bytes: {}", self.peer, course::preview(&text));
            }
            // One reply per read, prefix and text together; written at once
            // below in one write when the socket takes it. A character the
            // charset can't write goes out as `?`, as in lessons 02-03.
            let reply = charset.encode_lossy(&format!("{PREFIX}{text}"));
            self.output.extend_from_slice(&reply);
            self.write_pending()?;
        }
        Ok(())
    }
    // ANCHOR_END: read

    // ANCHOR: write
    /// Writes as much of the pending output as the socket takes now.
    fn write_pending(&mut self) -> io::Result<()> {
        while !self.output.is_empty() {
            match self.stream.write(&self.output) {
                // The socket took nothing, yet said no error: give up on it.
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                // The kernel took n bytes; keep the rest for later. (A
                // blocking write_all would wait here, and with it every
                // other client.)
                Ok(n) => {
                    self.output.drain(..n);
                }
                // The send buffer is full: the client reads slower than we
                // answer. Keep the rest; WRITABLE says when there is room.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                // A signal arrived before anything was written: try again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // BrokenPipe or ConnectionReset: the client reset in the
                // middle of our replies. (Rust ignores SIGPIPE, which would
                // otherwise kill the whole server here.) Close this one.
                Err(err) => return Err(err),
            }
        }
        // A client that made us hold a lot once need not keep that memory
        // while idle: the usual reply fits in far less.
        if self.output.capacity() > BUF_SIZE {
            self.output = Vec::new();
        }
        Ok(())
    }
    // ANCHOR_END: write
}

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

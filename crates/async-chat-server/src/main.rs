//! Lesson 13: lesson 04's chat room a third time, on tokio. Each client is a
//! task, not a thread: a task is a future that the runtime polls when its
//! socket is ready, the event loop of lesson 12 written once, inside tokio.
//! Ctrl-C (or SIGTERM) shuts the room down gracefully: no new connections,
//! every member told, what is queued sent within two seconds, exit 0.
//!
//! From seed 000 (聊天室的demo), by way of lessons 04 and 12: the same lines,
//! limits and flags (lesson 04's whole test suite runs against this program
//! too). Start it, then a client in each of two or three more terminals:
//!
//! ```text
//! cargo run -p async-chat-server
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```
//!
//! Press Ctrl-C in the server's terminal to see the shutdown.

mod room;

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use anyhow::Context;
use course::chat::{self, Beacon, Command, Nick, Options, Settings, MAX_LINE};
use course::{say, Charset, UsageError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, sleep, timeout, timeout_at, Instant, MissedTickBehavior};

// `crate::room` and `crate::chat` are this file's own `room` and `chat`.
// Lesson 13's exercise answers (examples/answer-13-*.rs) compile this file as
// a module and bring a `chat` and a `room` of their own, so it names both from
// the crate root; the few items marked `pub(crate)` are what they borrow.
use crate::room::{Handle, Inbox, Refusal, Room};

// What every member hears when the server shuts down, as its last line
// (course::chat's, which chat-client knows).
use course::chat::SHUTTING_DOWN;

/// How long a shutdown waits for what is queued to reach the members.
pub(crate) const FLUSH_DEADLINE: Duration = Duration::from_secs(2);

const HELP: &str = "\
async-chat-server: the chat room of lesson 04 on tokio (lesson 13)

Usage: async-chat-server [ADDR] [OPTIONS]

Clients send lines: the first is their nickname, the others go to everyone.
`/who` lists who is here; `QUIT` leaves. Any line-based client works: the
lesson's chat-client, or nc. Each client is a tokio task. Ctrl-C or SIGTERM
shuts the room down: every member is told, and what is queued is sent
within 2 seconds.

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
      --runtime NAME         current-thread (one thread runs every task) or
                             multi-thread (a thread per CPU; needs a build
                             with --features multi-thread)
                             [default: current-thread]
      --announce             say where the room is, every second, to a
                             multicast group (lesson 14; TTL 1, out of ADDR's
                             interface): chat-client --find finds it
      --group GROUP:PORT     the group to announce on [default: 239.255.14.14:7814]
      --room NAME            the room's name in its beacon, one word: chat-client
                             --find NAME picks this room among several
  -h, --help                 print this help

Example:
  async-chat-server                  # then, in other terminals: chat-client
  async-chat-server 127.0.0.1:0 --max-clients 30
  cargo run -p async-chat-server --features multi-thread -- --runtime multi-thread
  async-chat-server 10.14.1.1:9999 --announce   # then: chat-client --find --find-on 0.0.0.0
";

fn main() -> ExitCode {
    course::main(run)
}

// ANCHOR: runtime
pub(crate) fn run() -> anyhow::Result<()> {
    // The room's flags (course::chat), and --runtime.
    let mut multi_thread = false;
    let Options { addr, settings } = chat::parse_args_with(HELP, |name, args| {
        if name != "runtime" {
            return Ok(false);
        }
        multi_thread = runtime_flag(&args.value::<String>("--runtime")?)?;
        Ok(true)
    })?;
    let runtime = runtime(multi_thread)?;
    runtime.block_on(serve_room(addr, settings, FLUSH_DEADLINE))
    // Dropping the runtime here drops every task still running: their
    // sockets close.
}

/// Reads `--runtime NAME`: true for multi-thread.
pub(crate) fn runtime_flag(value: &str) -> Result<bool, UsageError> {
    match value {
        "current-thread" => Ok(false),
        "multi-thread" if cfg!(feature = "multi-thread") => Ok(true),
        // tokio's rt-multi-thread is a feature of this package, off by
        // default: a second less on a student's first build.
        "multi-thread" => Err(UsageError(
            "--runtime multi-thread needs the multi-thread feature: cargo run \
             -p async-chat-server --features multi-thread -- --runtime multi-thread"
                .into(),
        )),
        _ => Err(UsageError(format!(
            "invalid value {value:?} for --runtime: \
             expected current-thread or multi-thread"
        ))),
    }
}

/// The runtime built by hand: #[tokio::main] does the same, but needs
/// tokio's macros. One thread by default: a classroom's room is a few
/// dozen people, one core serves them, and every task then runs on the
/// thread that polls the sockets.
pub(crate) fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = match multi_thread {
        // Only in a build with the multi-thread feature (runtime_flag).
        #[cfg(feature = "multi-thread")]
        true => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    builder
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the tokio runtime")
}
// ANCHOR_END: runtime

// ANCHOR: serve_room
/// Runs the room until SIGINT or SIGTERM, then shuts it down, waiting at
/// most `flush_deadline` for what is queued to reach the members.
pub(crate) async fn serve_room(
    addr: String,
    settings: Settings,
    flush_deadline: Duration,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    // Watch for the signals before saying we listen: from the moment the
    // signal handler is installed, Ctrl-C is ours to handle, not a kill.
    let mut interrupt =
        signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let local = listener.local_addr()?;
    let beacon = Beacon::for_room(local, &settings)?;
    course::listening_on_with_encoding(local, "chat-client", settings.charset);

    let room = Arc::new(Room::new(settings.charset));
    // Every task watches `stop`: it turns true when the shutdown starts.
    let (stop_sender, stop) = watch::channel(false);
    // Every task holds a clone of `done`; nothing is ever sent on it.
    // `recv` returns None once all the clones are dropped: all tasks ended.
    let (done, mut all_done) = mpsc::channel::<()>(1);
    // Lesson 14's --announce: one more task, stopped like the others.
    if let Some(beacon) = beacon {
        tokio::spawn(announcer(beacon, stop.clone(), done.clone())?);
    }

    let accepting = accept_loop(&listener, &room, settings, &stop, &done);
    let signals = race(interrupt.recv(), terminate.recv());
    // Whichever ends first: the accept loop never does, so this waits for a
    // signal. Then the accept loop is dropped where it stood (its `accept`
    // is cancelled) and no connection is accepted any more.
    let which = match race(accepting, signals).await {
        Winner::First(never) => match never {},
        Winner::Second(Winner::First(_)) => "SIGINT",
        Winner::Second(Winner::Second(_)) => "SIGTERM",
    };
    // ANCHOR_END: serve_room

    // ANCHOR: shutdown
    // 1. Stop accepting: closing the listener refuses new connections.
    drop(listener);
    // 2. Tell every task; readers stop reading, handshakes end.
    stop_sender.send_replace(true);
    // 3. The notice goes last into every member's outbox; their writers
    //    send what is queued, then close.
    let members = room.close(SHUTTING_DOWN);
    let s = if members == 1 { "" } else { "s" };
    say!("{which}: shutting down, telling {members} member{s}");
    // 4. Wait for every task to end, but not for ever: a member that does
    //    not read must not keep the server from stopping.
    drop(done);
    match timeout(flush_deadline, all_done.recv()).await {
        Ok(_) => say!("every connection closed"),
        Err(_) => say!("closing the connections left after {flush_deadline:?}"),
    }
    // 5. Return: the runtime is dropped, and with it every task left.
    Ok(())
    // ANCHOR_END: shutdown
}

/// Lesson 14's `--announce`: a task, ready to spawn, that sends the beacon
/// every second until the shutdown begins. Its socket is tokio's now: a send
/// waits for the socket as a read does, never holding up the thread.
fn announcer(
    beacon: Beacon,
    mut stop: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) -> io::Result<impl Future<Output = ()>> {
    say!("{}", beacon.announcing());
    // tokio takes a std socket only once it is nonblocking.
    beacon.socket.set_nonblocking(true)?;
    let (group, text) = (beacon.group, beacon.text);
    let socket = UdpSocket::from_std(beacon.socket)?;
    Ok(async move {
        let mut every = interval(chat::BEACON_EVERY);
        // A tick missed on a busy machine is not made up with a burst.
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let sending = async {
            loop {
                every.tick().await; // The first tick is at once.
                if let Err(err) = socket.send_to(text.as_bytes(), group).await {
                    say!("announce failed: {err}");
                }
            }
        };
        let _ = race(sending, stopping(&mut stop)).await;
        say!("stopped announcing on {group}");
        drop(done); // The shutdown waits for this task too.
    })
}

// ANCHOR: race
/// Which of two futures finished first.
enum Winner<A, B> {
    First(A),
    Second(B),
}

/// Waits for whichever of `a` and `b` finishes first, and drops the other
/// where it stood: cancelling a future is dropping it. This is
/// `tokio::select!` for two branches, written by hand so that the lesson
/// needs no macros (`select!` also picks a branch at random when both are
/// ready, for fairness; this always looks at `a` first, like `biased;`):
///
/// ```text
/// tokio::select! {
///     out = a => Winner::First(out),
///     out = b => Winner::Second(out),
/// }
/// ```
async fn race<A: Future, B: Future>(a: A, b: B) -> Winner<A::Output, B::Output> {
    // A future must stay in one place once polled: pin it, here on the stack.
    let (mut a, mut b) = (pin!(a), pin!(b));
    // Each poll of `race` polls both; each registers the task's waker with
    // whatever it waits on, so the task is woken when either can go on.
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Winner::First(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(Winner::Second(out));
        }
        Poll::Pending
    })
    .await
}

/// Resolves once the shutdown has begun (or the room is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}
// ANCHOR_END: race

// ANCHOR: accept_loop
/// Accepts connections and gives each one a task of its own, for ever.
async fn accept_loop(
    listener: &TcpListener,
    room: &Arc<Room>,
    settings: Settings,
    stop: &watch::Receiver<bool>,
    done: &mpsc::Sender<()>,
) -> Infallible {
    // Connections being served, to keep the total bounded.
    let connections = Arc::new(AtomicUsize::new(0));
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(pair) => pair,
            // A client that reset in the queue, or no file descriptors left
            // for now: pause on a timer (the others are served meanwhile),
            // so a lasting cause does not spin the CPU.
            Err(err) => {
                say!("accept failed: {err}");
                sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if connections.load(Ordering::SeqCst) >= settings.max_clients {
            say!("{peer} turned away: the room is full");
            let full = settings.charset.encode_lossy(chat::ROOM_FULL);
            // A fresh socket's send buffer is empty: this write is at once.
            let _ = timeout(settings.write_timeout, stream.write_all(&full)).await;
            continue;
        }
        connections.fetch_add(1, Ordering::SeqCst);
        say!("{peer} connected");
        let (room, count) = (Arc::clone(room), Arc::clone(&connections));
        let (stop, done) = (stop.clone(), done.clone());
        // A task costs a few hundred bytes and no thread: spawning one per
        // client is what tokio is for.
        tokio::spawn(async move {
            match serve(stream, peer, &room, settings, stop, done).await {
                Ok(()) => say!("{peer} disconnected"),
                Err(err) => say!("{peer} dropped: {err}"),
            }
            count.fetch_sub(1, Ordering::SeqCst);
        });
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: serve
/// One client's whole visit, on its own task: choose a nickname, then chat
/// until `QUIT`, the end of the connection, being cut off or the shutdown.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    room: &Arc<Room>,
    settings: Settings,
    mut stop: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) -> io::Result<()> {
    // A second handle on the socket, for the room to cut the member off
    // (std's shutdown, which never waits).
    let std_stream = stream.into_std()?;
    let handle: Handle = Arc::new(std_stream.try_clone()?);
    // Two halves: this task reads, a writer task will write.
    let (read, mut write) = TcpStream::from_std(std_stream)?.into_split();
    let mut reader = BufReader::new(read);
    let charset = settings.charset;
    answer(&mut write, settings, chat::GREETING).await?;

    // The whole handshake has one deadline, a byte at a time or not.
    let deadline = Instant::now() + settings.nick_timeout;
    let handshake = timeout_at(
        deadline,
        choose_nick(&mut reader, &mut write, room, settings, &handle),
    );
    let outcome = race(handshake, stopping(&mut stop)).await;
    let (id, nick, inbox) = match outcome {
        Winner::First(Ok(joined)) => match joined? {
            Some(joined) => joined,
            None => return Ok(()), // It left before choosing a nickname.
        },
        Winner::First(Err(_elapsed)) => {
            let _ = answer(&mut write, settings, chat::TOO_SLOW).await;
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no nickname in time",
            ));
        }
        Winner::Second(()) => {
            let _ = answer(&mut write, settings, SHUTTING_DOWN).await;
            return Ok(());
        }
    };
    say!("{peer} is {:?}", nick.as_str());

    // From now on only the writer task writes to this client, from its
    // outbox, in order; joining already queued the welcome.
    let writer = write_messages(write, inbox, Arc::clone(room), id, settings, handle);
    let writer_done = done.clone(); // The shutdown waits for this task too.
    tokio::spawn(async move {
        writer.await;
        drop(writer_done);
    });

    // `crate::chat` is `chat` below (an exercise answer brings its own).
    let chatting = crate::chat(&mut reader, room, id, &nick, charset);
    let why = match race(chatting, stopping(&mut stop)).await {
        Winner::First(Ok(why)) => why.to_string(),
        Winner::First(Err(err)) => err.to_string(),
        // The room has closed and told everyone: nothing to announce.
        Winner::Second(()) => return Ok(()),
    };
    // Whoever removes the member announces it: the writer may have already.
    room.leave(id, &why);
    Ok(())
}
// ANCHOR_END: serve

// ANCHOR: choose_nick
/// Reads nickname lines until one is free, and joins the room with it.
/// Returns the member's id, nickname and its outbox's receiving end, or
/// `None` if the client left first.
async fn choose_nick(
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
    room: &Room,
    settings: Settings,
    handle: &Handle,
) -> io::Result<Option<(u64, Nick, Inbox)>> {
    let charset = settings.charset;
    let mut buf = Vec::new();
    loop {
        let line = match read_line(reader, &mut buf).await? {
            Line::Whole(line) => line,
            Line::TooLong => {
                answer(write, settings, chat::NICK_LINE_TOO_LONG).await?;
                continue;
            }
            Line::End => return Ok(None),
        };
        if chat::command(&chat::line_text(line, charset)) == Command::Quit {
            return Ok(None);
        }
        let nick = match chat::nickname(line, charset) {
            Ok(nick) => nick,
            Err(why) => {
                answer(write, settings, &chat::refused(&why)).await?;
                continue;
            }
        };
        let (outbox, inbox) = crate::room::outbox();
        match room.join(&nick, outbox, Arc::clone(handle)) {
            Ok(id) => return Ok(Some((id, nick, inbox))),
            Err(Refusal::Taken) => answer(write, settings, &chat::taken(&nick)).await?,
            // The shutdown began while this nickname was being checked.
            Err(Refusal::Closed) => {
                answer(write, settings, SHUTTING_DOWN).await?;
                return Ok(None);
            }
        }
    }
}

/// Writes `text` straight to a client that has not joined (yet), within
/// the write timeout.
async fn answer(
    write: &mut OwnedWriteHalf,
    settings: Settings,
    text: &str,
) -> io::Result<()> {
    let bytes = settings.charset.encode_lossy(text);
    match timeout(settings.write_timeout, write.write_all(&bytes)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(io::ErrorKind::TimedOut.into()),
    }
}
// ANCHOR_END: choose_nick

// ANCHOR: chat
/// Passes a member's lines to the room until it leaves; returns why.
pub(crate) async fn chat(
    reader: &mut BufReader<OwnedReadHalf>,
    room: &Room,
    id: u64,
    nick: &Nick,
    charset: Charset,
) -> io::Result<&'static str> {
    let mut buf = Vec::new();
    loop {
        let line = match read_line(reader, &mut buf).await? {
            Line::End => return Ok("connection closed"),
            Line::TooLong => {
                room.send(Some(id), &chat::line_too_long());
                continue;
            }
            Line::Whole(line) => line,
        };
        let text = chat::line_text(line, charset);
        match chat::command(&text) {
            Command::Quit => {
                room.send(Some(id), chat::BYE);
                return Ok("QUIT");
            }
            Command::Who => room.tell_who(id),
            Command::Blank => {}
            Command::Say(text) => {
                say!("{nick}: {}", course::preview(text));
                // Another whole line already read: more messages are on
                // their way, and the room queues this one (see room.rs).
                let more_coming = reader.buffer().contains(&b'\n');
                room.send_now_or_later(None, &chat::message(nick, text), more_coming);
                wait_for_readers(room).await;
            }
        }
    }
}

/// Backpressure, as in lesson 04: a member that sends faster than others
/// read waits while someone behind is catching up, not for one that has
/// stopped (its write deadline or full outbox cuts it off). The pause is a
/// timer: the other tasks, the writers among them, run meanwhile.
pub(crate) async fn wait_for_readers(room: &Room) {
    let mut behind = room.behind();
    while !behind.is_empty() {
        sleep(Duration::from_millis(20)).await;
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
    /// The client closed its end.
    End,
}

// ANCHOR: read_line
/// Reads one line into `line`, holding at most MAX_LINE bytes of it.
///
/// Not cancellation safe: dropped in the middle (by `race`), it loses the
/// part of a line read so far. It is only ever dropped when the connection
/// is over anyway (the deadline, the shutdown).
pub(crate) async fn read_line<'a>(
    reader: &mut BufReader<OwnedReadHalf>,
    line: &'a mut Vec<u8>,
) -> io::Result<Line<'a>> {
    line.clear();
    let limit = MAX_LINE as u64 + 1;
    // 0 bytes: the client closed its end.
    if (&mut *reader).take(limit).read_until(b'\n', line).await? == 0 {
        return Ok(Line::End);
    }
    if line.len() > MAX_LINE && !line.ends_with(b"\n") {
        // Skip the rest of the line, MAX_LINE bytes at a time.
        loop {
            line.clear();
            let n = (&mut *reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', line)
                .await?;
            if n == 0 || line.ends_with(b"\n") {
                return Ok(Line::TooLong);
            }
        }
    }
    // A last line without '\n' before the end still counts.
    Ok(Line::Whole(line.strip_suffix(b"\n").unwrap_or(line)))
}
// ANCHOR_END: read_line

// ANCHOR: writer
/// The member's writer task: sends what arrives in its outbox, in order,
/// until the member has left (the room dropped the outbox) or stops taking
/// bytes within the write timeout. Then closes the connection.
async fn write_messages(
    mut write: OwnedWriteHalf,
    mut inbox: Inbox,
    room: Arc<Room>,
    id: u64,
    settings: Settings,
    handle: Handle,
) {
    let mut batch = Vec::new();
    // Whatever waits goes out together: one write for many messages.
    while inbox.next_batch(&mut batch).await {
        let deadline = Instant::now() + settings.write_timeout;
        if let Err(err) = write_before(&mut write, &batch, deadline, &inbox).await {
            let why = if err.kind() == io::ErrorKind::TimedOut {
                "not reading: a write waited past the write timeout".to_string()
            } else {
                format!("cut off: {err}")
            };
            room.leave(id, &why);
            break;
        }
    }
    // The client sees the end of the stream; the reader task, if it still
    // reads, sees it too and ends.
    let _ = handle.shutdown(Shutdown::Both);
}

/// Writes all of `bytes` before `deadline` (the whole batch, however the
/// client takes it), at most 16 KiB a call so that the room sees progress.
async fn write_before(
    write: &mut OwnedWriteHalf,
    mut bytes: &[u8],
    deadline: Instant,
    inbox: &Inbox,
) -> io::Result<()> {
    while !bytes.is_empty() {
        let chunk = &bytes[..bytes.len().min(16 * 1024)];
        let n = match timeout_at(deadline, write.write(chunk)).await {
            Ok(written) => written?,
            Err(_elapsed) => return Err(io::ErrorKind::TimedOut.into()),
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        inbox.sent(n);
        bytes = &bytes[n..];
    }
    Ok(())
}
// ANCHOR_END: writer

// The room: who is in it, and an outbox for each member.
//
// Every task shares one `Room` through an `Arc`. Its lock is a plain
// `std::sync::Mutex`, not tokio's: it is held only to look at or change the
// list and to put messages in outboxes, none of which waits, and it is never
// held across an `.await`. (A std guard held across an `.await` would block
// every other task that wants the lock, on the one thread they share, until
// the task holding it is polled again: on a current-thread runtime, forever.
// The compiler catches it here: a `MutexGuard` is not `Send`, so a task
// holding one at an `.await` cannot be given to `tokio::spawn`.)
//
// As in lesson 04, a change to the list and its announcement happen under
// one lock, and a message is encoded once for everyone. A message for a
// member with nothing waiting is written to its socket at once, and goes to
// the outbox only when the socket will not take it all (or when more
// messages are on their way: see `send`).
//
// (Plain comments, not `//!`: lesson 13's exercise answers include this file
// word for word into a module of their own, beside the methods they add, and
// `include!` takes no inner doc comments.)

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use course::chat::{self, Nick};
use course::Charset;
use tokio::sync::mpsc;

/// One message on its way to the members, already encoded, shared by all
/// their outboxes.
pub type Message = Arc<[u8]>;

/// The most bytes that may wait in one member's outbox, as in lesson 04: a
/// member that lets more pile up is not reading, and is cut off.
pub const OUTBOX_BYTES: usize = 256 * 1024;

/// A handle on a member's socket (a duplicate of its descriptor, nonblocking
/// like tokio's own), for the room to write to it at once and to cut it off
/// from outside its own tasks: `shutdown` wakes both of them.
pub type Handle = Arc<TcpStream>;

// ANCHOR: outbox
/// Creates a member's outbox: the room puts messages in at one end, the
/// member's writer task takes them out at the other.
///
/// tokio's unbounded channel, with the bound kept in bytes beside it: a
/// bounded channel counts messages (a 4 KiB line and a 30-byte notice alike),
/// and its `send` is an `.await` when it is full, which the room, under its
/// lock, must never do. `broadcast` would be one channel for everyone, but a
/// member that falls behind there just misses messages (`Lagged`), and
/// `/who` or a welcome goes to one member only.
pub fn outbox() -> (Outbox, Inbox) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let counts = Arc::new(Counts::default());
    let outbox = Outbox {
        sender,
        counts: Arc::clone(&counts),
    };
    (outbox, Inbox { receiver, counts })
}

/// The room's end of a member's outbox.
pub struct Outbox {
    sender: mpsc::UnboundedSender<Message>,
    counts: Arc<Counts>,
}

/// The writer task's end.
pub struct Inbox {
    receiver: mpsc::UnboundedReceiver<Message>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Bytes queued, not yet written to the socket.
    waiting: AtomicUsize,
    /// Bytes written since the member joined.
    sent: AtomicUsize,
}

impl Outbox {
    /// Queues `message` unless more than OUTBOX_BYTES would wait. Never
    /// waits: a full outbox is an answer (false).
    fn push(&self, message: &Message) -> bool {
        let len = message.len();
        if self.counts.waiting.load(Ordering::SeqCst) + len > OUTBOX_BYTES {
            return false;
        }
        self.counts.waiting.fetch_add(len, Ordering::SeqCst);
        // Fails only if the writer task has ended; it has then removed the
        // member itself.
        let _ = self.sender.send(Arc::clone(message));
        true
    }

    /// Nothing is queued and nothing is in the writer task's hands: every
    /// byte pushed so far is in the socket.
    fn is_empty(&self) -> bool {
        self.counts.waiting.load(Ordering::SeqCst) == 0
    }

    /// Counts `n` bytes written by the room itself, not by the writer task.
    fn sent_at_once(&self, n: usize) {
        self.counts.sent.fetch_add(n, Ordering::SeqCst);
    }
}

impl Inbox {
    /// Waits for the next message, then takes all the others waiting too,
    /// into `batch`. False once the room has dropped the outbox and nothing
    /// is left: the member has left.
    pub async fn next_batch(&mut self, batch: &mut Vec<u8>) -> bool {
        batch.clear();
        let Some(first) = self.receiver.recv().await else {
            return false;
        };
        batch.extend_from_slice(&first);
        while let Ok(more) = self.receiver.try_recv() {
            batch.extend_from_slice(&more);
        }
        true
    }

    /// Marks `n` bytes as written to the socket.
    pub fn sent(&self, n: usize) {
        self.counts.waiting.fetch_sub(n, Ordering::SeqCst);
        self.counts.sent.fetch_add(n, Ordering::SeqCst);
    }
}
// ANCHOR_END: outbox

/// The shared room.
pub struct Room {
    members: Mutex<Members>,
    charset: Charset,
}

#[derive(Default)]
struct Members {
    next_id: u64,
    /// By id, which is also the order in which they joined.
    by_id: BTreeMap<u64, Member>,
    /// The server is shutting down: nobody joins any more.
    closed: bool,
}

struct Member {
    nick: Nick,
    outbox: Outbox,
    socket: Handle,
}

// ANCHOR: give
impl Member {
    /// Gives `message` to the member: written to its socket at once if
    /// `at_once` and its outbox is empty, else (or for what the socket did
    /// not take) queued. False when the outbox is full: the member is not
    /// reading.
    ///
    /// A write at once costs one system call and no task switch: in a room
    /// whose members keep up, that is most deliveries (lesson 13's
    /// benchmark). Only when nothing waits in the outbox: this message
    /// would overtake what does. The socket is nonblocking, so the write
    /// never waits, with the room's lock held or not.
    fn give(&self, message: &Message, at_once: bool) -> bool {
        if at_once && self.outbox.is_empty() {
            match (&*self.socket).write(message) {
                Ok(n) if n == message.len() => {
                    self.outbox.sent_at_once(n);
                    return true;
                }
                // Part of it: the rest waits in the outbox, in order.
                Ok(n) => {
                    self.outbox.sent_at_once(n);
                    return self.outbox.push(&Message::from(&message[n..]));
                }
                // WouldBlock: the socket's buffer is full, and the writer
                // task waits for room in it. Any other error: the writer
                // task meets it too, and cuts the member off.
                Err(_) => {}
            }
        }
        self.outbox.push(message)
    }
}
// ANCHOR_END: give

/// Why a nickname did not get in.
pub enum Refusal {
    Taken,
    /// The server is shutting down.
    Closed,
}

impl Room {
    pub fn new(charset: Charset) -> Room {
        Room {
            members: Mutex::default(),
            charset,
        }
    }

    /// The list, locked. Every change under the lock is one insert or
    /// remove, so a lock poisoned by a panic is still safe to use.
    fn lock(&self) -> MutexGuard<'_, Members> {
        self.members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn encode(&self, text: &str) -> Message {
        Message::from(self.charset.encode_lossy(text))
    }

    // ANCHOR: join
    /// Adds a member unless its nickname is taken (as `Nick::same_as` sees
    /// it), welcomes it with the list of who is here and tells everyone,
    /// all under one lock. Returns the new member's id.
    pub fn join(
        &self,
        nick: &Nick,
        outbox: Outbox,
        socket: Handle,
    ) -> Result<u64, Refusal> {
        let joined = self.encode(&chat::joined(nick));
        let mut members = self.lock();
        if members.closed {
            return Err(Refusal::Closed);
        }
        if members.by_id.values().any(|m| m.nick.same_as(nick)) {
            return Err(Refusal::Taken);
        }
        let id = members.next_id;
        members.next_id += 1;
        let member = Member {
            nick: nick.clone(),
            outbox,
            socket,
        };
        members.by_id.insert(id, member);
        let here: Vec<&Nick> = members.by_id.values().map(|m| &m.nick).collect();
        let welcome = self.encode(&chat::welcome(nick, &here));
        let mut cut_off = members.deliver(Some(id), welcome, self.charset, true);
        cut_off.extend(members.deliver(
            Some(id),
            self.encode(chat::HINT),
            self.charset,
            true,
        ));
        cut_off.extend(members.deliver(None, joined, self.charset, true));
        drop(members);
        shut_down(cut_off);
        Ok(id)
    }

    /// Removes a member and tells everyone left why. Whoever removes it
    /// announces it, so a departure is announced once.
    pub fn leave(&self, id: u64, why: &str) {
        let mut members = self.lock();
        let Some(member) = members.by_id.remove(&id) else {
            return;
        };
        let notice = self.encode(&chat::left(&member.nick, why));
        let cut_off = members.deliver(None, notice, self.charset, true);
        drop(members);
        shut_down(cut_off);
    }
    // ANCHOR_END: join

    /// Answers `/who` for member `id`, under the lock (see `join`).
    pub fn tell_who(&self, id: u64) {
        let mut members = self.lock();
        let here: Vec<&Nick> = members.by_id.values().map(|m| &m.nick).collect();
        let who = self.encode(&chat::who(&here));
        let cut_off = members.deliver(Some(id), who, self.charset, true);
        drop(members);
        shut_down(cut_off);
    }

    /// Gives `text` to one member, or to everyone.
    pub fn send(&self, to: Option<u64>, text: &str) {
        self.send_now_or_later(to, text, true);
    }

    // ANCHOR: send
    /// Gives `text` to one member or to everyone, at once where it can
    /// (`Member::give`) or, if `more_coming`, through the outboxes only.
    ///
    /// When a member sends several lines at once, the writer tasks then
    /// send them together, one write per member for the lot, where writing
    /// each at once would cost one write per member per line. Measured in
    /// lesson 13: with 8 lines of 1,000 bytes on their way, writing each at
    /// once is more than twice as slow.
    pub fn send_now_or_later(&self, to: Option<u64>, text: &str, more_coming: bool) {
        let message = self.encode(text);
        let cut_off = self.lock().deliver(to, message, self.charset, !more_coming);
        shut_down(cut_off);
    }
    // ANCHOR_END: send

    /// The members with more than a quarter of OUTBOX_BYTES waiting, each
    /// with the bytes it has been sent so far.
    pub fn behind(&self) -> Vec<(u64, usize)> {
        self.lock()
            .by_id
            .iter()
            .filter(|(_, m)| {
                m.outbox.counts.waiting.load(Ordering::SeqCst) > OUTBOX_BYTES / 4
            })
            .map(|(id, m)| (*id, m.outbox.counts.sent.load(Ordering::SeqCst)))
            .collect()
    }

    // ANCHOR: close
    /// Shutdown: nobody may join any more; `notice` goes last into every
    /// member's outbox, and the room lets go of every outbox, so that each
    /// writer task sends what is queued and then closes its connection. A
    /// member whose outbox is full is not reading: it is closed now. Returns
    /// how many members there were.
    pub fn close(&self, notice: &str) -> usize {
        let notice = self.encode(notice);
        let mut members = self.lock();
        members.closed = true;
        let everyone = std::mem::take(&mut members.by_id);
        drop(members);
        let full = everyone.values().filter(|m| !m.outbox.push(&notice));
        for member in full {
            let _ = member.socket.shutdown(Shutdown::Both);
        }
        everyone.len()
    }
    // ANCHOR_END: close
}

impl Members {
    /// Puts `message` in one member's outbox or in everyone's, with the lock
    /// held. A member whose outbox is full is removed and the room told,
    /// which may find another full. Returns those removed: the caller shuts
    /// their sockets once the lock is released.
    fn deliver(
        &mut self,
        to: Option<u64>,
        message: Message,
        charset: Charset,
        at_once: bool,
    ) -> Vec<Member> {
        let mut cut_off = Vec::new();
        let mut pending = vec![(to, message)];
        while let Some((to, message)) = pending.pop() {
            let full: Vec<u64> = self
                .by_id
                .iter()
                .filter(|(id, _)| to.is_none_or(|to| to == **id))
                .filter(|(_, member)| !member.give(&message, at_once))
                .map(|(id, _)| *id)
                .collect();
            for member in full.iter().filter_map(|id| self.by_id.remove(id)) {
                let notice = chat::left(&member.nick, "too slow: it was not reading");
                pending.push((None, Message::from(charset.encode_lossy(&notice))));
                cut_off.push(member);
            }
        }
        cut_off
    }
}

/// Shuts down the sockets of members cut off: that wakes their reader and
/// writer tasks (a read returns 0, a write fails), and both end.
fn shut_down(cut_off: Vec<Member>) {
    for member in cut_off {
        let _ = member.socket.shutdown(Shutdown::Both);
    }
}

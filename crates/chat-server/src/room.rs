// The room: who is in it, and a bounded outbox for each of them.
//
// Every client thread shares one `Room` through an `Arc`. Its lock is held
// only to look at or change the list of members and to put a message in
// their outboxes, which never blocks: no socket is ever written while the
// lock is held, so one slow client cannot hold up the others.
//
// Every change to the list and the announcement of it happen under the
// same lock, and so do a newcomer's welcome and the answer to `/who`: all
// that the room says reaches every outbox in one order, and the list a
// member is shown agrees with the announcements it gets before and after.
//
// The room has one charset (the server's `--encoding`) for everyone. So a
// message is encoded once (before the lock is taken, unless it lists who
// is here) and the same bytes go into every outbox: the outbox counts and
// bounds the bytes that will go on the wire, and the writer threads only
// write. (Keeping text in the outboxes and encoding in each writer would
// encode every message once per member, and count one size in and another
// out.)
//
// (Plain comments, not `//!`: lesson 04's exercise answers include this file
// word for word into a module of their own, beside the methods they add, and
// `include!` takes no inner doc comments.)

use std::collections::BTreeMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use course::chat::{self, Nick};
use course::Charset;

/// One message on its way to the clients, already encoded in the room's
/// charset, shared by all their outboxes.
pub type Message = Arc<[u8]>;

/// The most bytes that may wait in one client's outbox. A burst (a pasted
/// page, a busy minute) fits easily; a client that lets more pile up is not
/// reading, and is cut off.
pub const OUTBOX_BYTES: usize = 256 * 1024;

// ANCHOR: outbox
/// Creates a client's outbox: the room puts messages in at one end, the
/// client's writer thread takes them out at the other. Both ends share the
/// count of bytes waiting, which is what bounds it, and of bytes sent, which
/// shows whether the client is keeping up.
pub fn outbox() -> (Outbox, Inbox) {
    let (sender, receiver) = channel();
    let counts = Arc::new(Counts::default());
    let outbox = Outbox {
        sender,
        counts: Arc::clone(&counts),
    };
    (outbox, Inbox { receiver, counts })
}

/// The room's end of a client's outbox.
pub struct Outbox {
    sender: Sender<Message>,
    counts: Arc<Counts>,
}

/// The writer thread's end of a client's outbox.
pub struct Inbox {
    receiver: Receiver<Message>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Bytes in the outbox, not yet written to the socket.
    waiting: AtomicUsize,
    /// Bytes written to the socket since the client joined.
    sent: AtomicUsize,
}

impl Outbox {
    /// Queues `message`, unless that would put more than OUTBOX_BYTES in
    /// waiting. Never blocks.
    fn push(&self, message: &Message) -> Result<(), Full> {
        let len = message.len();
        if self.counts.waiting.load(Ordering::SeqCst) + len > OUTBOX_BYTES {
            return Err(Full);
        }
        self.counts.waiting.fetch_add(len, Ordering::SeqCst);
        // Fails only once the writer thread has gone; it removes the member
        // itself, so there is nothing to do here.
        let _ = self.sender.send(Arc::clone(message));
        Ok(())
    }
}

/// An outbox that has no room for a message.
struct Full;

impl Inbox {
    /// Waits for the next message, then takes everything else already
    /// waiting too, all into `batch`. Returns false once the room has
    /// dropped the outbox and nothing is left.
    pub fn next_batch(&self, batch: &mut Vec<u8>) -> bool {
        batch.clear();
        let Ok(first) = self.receiver.recv() else {
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

// ANCHOR: room
/// The shared room.
pub struct Room {
    members: Mutex<Members>,
    /// How every message is written on the wire, for every member.
    charset: Charset,
}

#[derive(Default)]
struct Members {
    next_id: u64,
    /// By id, which is also the order in which people joined.
    by_id: BTreeMap<u64, Member>,
}

/// Someone in the room.
struct Member {
    nick: Nick,
    /// Where messages for this member wait for its writer thread.
    outbox: Outbox,
    /// A handle on the member's socket, to cut it off if it falls behind.
    socket: TcpStream,
}

// ANCHOR_END: room

/// Why a nickname was refused.
pub enum Refusal {
    Taken,
}

impl Room {
    /// An empty room whose messages go out in `charset`.
    pub fn new(charset: Charset) -> Room {
        Room {
            members: Mutex::default(),
            charset,
        }
    }

    /// The members' list, locked. A thread that panicked while holding the
    /// lock can't have left the list half-changed (every change is a single
    /// insert or remove), so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, Members> {
        self.members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // ANCHOR: join
    /// Adds a member if nobody has the nickname yet (compared as
    /// `course::chat::Nick::same_as` does, so nobody can pass as `Alice`
    /// while `alice` or `Ａlice` is here), welcomes it with the list of who
    /// is here, and tells everyone. Returns the new member's id.
    ///
    /// All of it happens under one lock: no one can join or leave between
    /// the list the newcomer is shown and the announcements that follow, so
    /// what it sees adds up (nobody on the list joins again, nobody leaves
    /// who was not on it).
    pub fn join(
        &self,
        nick: &Nick,
        outbox: Outbox,
        socket: TcpStream,
    ) -> Result<u64, Refusal> {
        let joined = self.encode(&chat::joined(nick));
        let mut members = self.lock();
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
        let hint = self.encode(chat::HINT);
        let mut cut_off = members.deliver(Some(id), welcome, self.charset);
        cut_off.extend(members.deliver(Some(id), hint, self.charset));
        cut_off.extend(members.deliver(None, joined, self.charset));
        drop(members);
        shut_down(cut_off);
        Ok(id)
    }

    /// Removes a member and tells everyone left, with `why`, under one lock
    /// (see `join`). Returns false if it had already gone: whoever removes
    /// it announces the departure, so it is announced exactly once.
    pub fn leave(&self, id: u64, why: &str) -> bool {
        let mut members = self.lock();
        let Some(member) = members.by_id.remove(&id) else {
            return false;
        };
        let notice = self.encode(&chat::left(&member.nick, why));
        let cut_off = members.deliver(None, notice, self.charset);
        drop(members);
        shut_down(cut_off);
        true
    }
    // ANCHOR_END: join

    /// Answers `/who`: tells member `id` who is in the room, in the order
    /// they joined. The list is made and queued under one lock, so that it
    /// agrees with the announcements queued before and after it.
    pub fn tell_who(&self, id: u64) {
        let mut members = self.lock();
        let here: Vec<&Nick> = members.by_id.values().map(|m| &m.nick).collect();
        let who = self.encode(&chat::who(&here));
        let cut_off = members.deliver(Some(id), who, self.charset);
        drop(members);
        shut_down(cut_off);
    }

    /// The members with more than a quarter of OUTBOX_BYTES waiting, each
    /// with the count of bytes it has been sent so far.
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

    /// Puts a message in one member's outbox.
    pub fn tell(&self, id: u64, text: String) {
        self.deliver(Some(id), text);
    }

    /// Puts a message in every member's outbox.
    pub fn broadcast(&self, text: String) {
        self.deliver(None, text);
    }

    // ANCHOR: deliver
    /// Delivers `text` to one member or to all. It is encoded once, before
    /// the lock is taken; the same bytes go into every outbox.
    fn deliver(&self, to: Option<u64>, text: String) {
        let message = self.encode(&text);
        let cut_off = self.lock().deliver(to, message, self.charset);
        // The lock is released here, before touching any socket.
        shut_down(cut_off);
    }

    /// Encodes a message once for every member. A character the room's
    /// charset can't write (U+FFFD for bad bytes, in GBK) goes out as `?`:
    /// a server has nobody to ask.
    fn encode(&self, text: &str) -> Message {
        Message::from(self.charset.encode_lossy(text))
    }
    // ANCHOR_END: deliver
}

// ANCHOR: cut_off
impl Members {
    /// Puts `message` in one member's outbox or in everyone's, with the lock
    /// held. A member whose outbox is full has stopped reading: it is
    /// removed from the room and the room told, which may in turn find
    /// another one full. Returns those removed, whose sockets the caller
    /// shuts down once the lock is released.
    fn deliver(
        &mut self,
        to: Option<u64>,
        message: Message,
        charset: Charset,
    ) -> Vec<Member> {
        let mut cut_off = Vec::new();
        let mut pending = vec![(to, message)];
        while let Some((to, message)) = pending.pop() {
            let full: Vec<u64> = self
                .by_id
                .iter()
                .filter(|(id, _)| to.is_none_or(|to| to == **id))
                .filter_map(|(id, member)| {
                    // push never blocks: a full outbox is an answer, not a
                    // wait.
                    member.outbox.push(&message).err().map(|Full| *id)
                })
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

/// Shuts down the sockets of members cut off: that wakes each one's reader
/// and writer threads, and both end.
fn shut_down(cut_off: Vec<Member>) {
    for member in cut_off {
        let _ = member.socket.shutdown(Shutdown::Both);
    }
}
// ANCHOR_END: cut_off

//! The room: who is in it, and a bounded outbox for each of them.
//!
//! Every client thread shares one `Room` through an `Arc`. Its lock is held
//! only to look at or change the list of members and to put a message in
//! their outboxes, which never blocks: no socket is ever written while the
//! lock is held, so one slow client cannot hold up the others.

use std::collections::BTreeMap;
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};

/// One message on its way to the clients, shared by all their outboxes.
pub type Message = Arc<str>;

// ANCHOR: room
/// The shared room.
#[derive(Default)]
pub struct Room {
    members: Mutex<Members>,
}

#[derive(Default)]
struct Members {
    next_id: u64,
    /// By id, which is also the order in which people joined.
    by_id: BTreeMap<u64, Member>,
}

/// Someone in the room.
struct Member {
    nick: String,
    /// Where messages for this member wait for its writer thread.
    outbox: SyncSender<Message>,
    /// A handle on the member's socket, to cut it off if it falls behind.
    socket: TcpStream,
}

// ANCHOR_END: room

/// Why a nickname was refused.
pub enum Refusal {
    Taken,
}

impl Room {
    /// The members' list, locked. A thread that panicked while holding the
    /// lock can't have left the list half-changed (every change is a single
    /// insert or remove), so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, Members> {
        self.members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a member if nobody has the nickname yet (compared without case,
    /// so nobody can pass as `Alice` while `alice` is here). Returns the new
    /// member's id.
    pub fn join(
        &self,
        nick: &str,
        outbox: SyncSender<Message>,
        socket: TcpStream,
    ) -> Result<u64, Refusal> {
        let mut members = self.lock();
        let taken = members
            .by_id
            .values()
            .any(|m| m.nick.to_lowercase() == nick.to_lowercase());
        if taken {
            return Err(Refusal::Taken);
        }
        let id = members.next_id;
        members.next_id += 1;
        let nick = nick.to_string();
        members.by_id.insert(
            id,
            Member {
                nick,
                outbox,
                socket,
            },
        );
        Ok(id)
    }

    /// Removes a member and returns its nickname, or `None` if it had already
    /// gone. Whoever gets the nickname announces the departure, so it is
    /// announced exactly once.
    pub fn leave(&self, id: u64) -> Option<String> {
        self.lock().by_id.remove(&id).map(|member| member.nick)
    }

    /// The nicknames of everyone in the room, in the order they joined.
    pub fn nicks(&self) -> Vec<String> {
        self.lock().by_id.values().map(|m| m.nick.clone()).collect()
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
    /// Delivers `text` to one member or to all. A member whose outbox is full
    /// has stopped reading: it is removed from the room, its socket shut
    /// down, and the room told, which may in turn find another one full.
    fn deliver(&self, to: Option<u64>, text: String) {
        let mut pending = vec![(to, Message::from(text))];
        while let Some((to, message)) = pending.pop() {
            let cut_off: Vec<Member> = {
                let mut members = self.lock();
                let full: Vec<u64> = members
                    .by_id
                    .iter()
                    .filter(|(id, _)| to.is_none_or(|to| to == **id))
                    .filter_map(|(id, member)| {
                        // try_send never blocks: a full outbox is an answer,
                        // not a wait.
                        match member.outbox.try_send(Arc::clone(&message)) {
                            Err(TrySendError::Full(_)) => Some(*id),
                            // Ok, or the writer has already gone (and will
                            // remove the member itself).
                            _ => None,
                        }
                    })
                    .collect();
                full.iter()
                    .filter_map(|id| members.by_id.remove(id))
                    .collect()
            }; // The lock is released here, before touching any socket.
            for member in cut_off {
                // Wakes the member's reader and writer threads: both end.
                let _ = member.socket.shutdown(Shutdown::Both);
                let notice = crate::left(&member.nick, "too slow: it was not reading");
                pending.push((None, Message::from(notice)));
            }
        }
    }
    // ANCHOR_END: deliver
}

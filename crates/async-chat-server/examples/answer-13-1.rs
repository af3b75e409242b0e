//! Lesson 13, exercise 1: async-chat-server with `/nick newname`, under the
//! rules of lesson 04's answer: the new name must pass the same checks as a
//! nickname when joining, and be free; the room is told
//! `* alice 改名为 alicia (alice is now alicia)`, and from then on messages,
//! `/who` and the leave notice all say `alicia`.
//!
//! It is lesson 13's server, word for word, with two changes: `chat` reads
//! one more command and keeps a nickname that can change, and the room has
//! one more method, `rename`. Start it, then a client in each of two more
//! terminals, and in one of them type `/nick alicia`:
//!
//! ```text
//! cargo run -p async-chat-server --example answer-13-1
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```

use std::io;
use std::process::ExitCode;

use course::chat::{self, Command, Nick};
use course::{say, Charset};
use tokio::io::BufReader;
use tokio::net::tcp::OwnedReadHalf;

use lesson::{read_line, wait_for_readers, Line};
use room::{Refusal, Room};

/// Lesson 13's server (src/main.rs), compiled here as a module. It finds
/// `chat` and `room` at the crate root, which in this program are the two
/// below; its own `main`, `chat` and room go unused.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

/// Lesson 13's room (src/room.rs) word for word, and the method this answer
/// adds to it. Written in the same module, the method sees the room's private
/// parts (its lock, its list of members) as the lesson's own methods do.
mod room {
    include!("../src/room.rs");

    // ANCHOR: rename
    impl Room {
        /// Gives member `id` the nickname `new` if nobody else here has it
        /// (compared as `join` compares them; the member's own entry does
        /// not count, so `alice` may become `Alice`), and tells everyone.
        /// As in `join`, all of it happens under one lock, which nothing
        /// here holds across an `.await` (there is none: the method is not
        /// async): nobody can take the name between the check and the
        /// change, and everyone hears of it in the same order among the
        /// other announcements. Returns the old nickname, or `None` if the
        /// member has already gone (cut off, or the room closed).
        pub fn rename(&self, id: u64, new: &Nick) -> Result<Option<Nick>, Refusal> {
            let mut members = self.lock();
            let taken = members
                .by_id
                .iter()
                .any(|(other, member)| *other != id && member.nick.same_as(new));
            if taken {
                return Err(Refusal::Taken);
            }
            let Some(member) = members.by_id.get_mut(&id) else {
                return Ok(None);
            };
            let old = std::mem::replace(&mut member.nick, new.clone());
            let notice =
                self.encode(&format!("* {old} 改名为 {new} ({old} is now {new})\n"));
            let cut_off = members.deliver(None, notice, self.charset, true);
            drop(members);
            shut_down(cut_off);
            Ok(Some(old))
        }
    }
    // ANCHOR_END: rename
}

fn main() -> ExitCode {
    course::main(lesson::run)
}

/// Lesson 13's `chat`, with one more arm, `/nick`, and a nickname of its own.
async fn chat(
    reader: &mut BufReader<OwnedReadHalf>,
    room: &Room,
    id: u64,
    nick: &Nick,
    charset: Charset,
) -> io::Result<&'static str> {
    // ANCHOR: own_nick
    // The nickname can change now, so `chat` keeps its own, and lends it to
    // each line as `nick`, the name the lesson's code below uses.
    let mut name = nick.clone();
    // ANCHOR_END: own_nick
    let mut buf = Vec::new();
    loop {
        // ANCHOR: lend_nick
        let nick = &name;
        // ANCHOR_END: lend_nick
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
            // ANCHOR: nick_arm
            // The new command, before the arm that sends a line to everyone.
            // The new name is taken from the line's bytes, as a nickname is
            // when joining: `/nick` is ASCII, the same bytes in every charset.
            Command::Say(text) if text == "/nick" || text.starts_with("/nick ") => {
                rename(room, id, &mut name, &line["/nick".len()..], charset);
            }
            // ANCHOR_END: nick_arm
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

// ANCHOR: rename_command
/// `/nick newname`: refused as a nickname is when joining (by
/// `chat::nickname`, and if someone here has it), else the room is told.
/// Nothing here waits, so it is a plain function, not an async one.
fn rename(room: &Room, id: u64, nick: &mut Nick, args: &[u8], charset: Charset) {
    let Some(new) = args.strip_prefix(b" ") else {
        return room.send(Some(id), "! usage: /nick newname\n");
    };
    let new = match chat::nickname(new, charset) {
        Ok(new) => new,
        Err(why) => return room.send(Some(id), &chat::refused(&why)),
    };
    match room.rename(id, &new) {
        Ok(Some(old)) => {
            say!("{old} is now {new}");
            *nick = new;
        }
        // Cut off meanwhile, or the shutdown began: the reader is about to
        // end anyway.
        Ok(None) => {}
        Err(Refusal::Taken) => room.send(Some(id), &chat::taken(&new)),
        // `rename` never answers this: in a shutdown the member has gone.
        Err(Refusal::Closed) => {}
    }
}
// ANCHOR_END: rename_command

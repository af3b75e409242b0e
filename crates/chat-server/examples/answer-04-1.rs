//! Lesson 04, exercise 1: chat-server with private messages. `/msg bob hi`
//! goes to bob alone, and back to its sender as a receipt; a nickname that
//! nobody here has gets the sender an answer saying so.
//!
//! It is lesson 04's server, word for word, with two changes: `chat` reads
//! one more command, and the room has one more method, `find`. Start it, then
//! a client in each of two more terminals (alice and bob), and in alice's
//! type `/msg bob hi`:
//!
//! ```text
//! cargo run -p chat-server --example answer-04-1
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```

use std::io::{self, BufRead};
use std::process::ExitCode;

use course::chat::{self, Command, Nick};
use course::{say, Charset};

use lesson::{read_line, wait_for_readers, Line};
use room::Room;

/// Lesson 04's server (src/main.rs), compiled here as a module. It finds
/// `chat` and `room` at the crate root, which in this program are the two
/// below; its own `main`, `chat` and room go unused.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

/// Lesson 04's room (src/room.rs) word for word, and the method this answer
/// adds to it. Written in the same module, the method sees the room's private
/// parts (its lock, its list of members) as the lesson's own methods do.
mod room {
    include!("../src/room.rs");

    // ANCHOR: find
    impl Room {
        /// The id and nickname of the member called `nick`, compared as
        /// `join` compares them (so `/msg BOB` finds `bob`), if anyone here
        /// is. The member may leave before the caller uses the id: `tell`
        /// to an id that has gone does nothing.
        pub fn find(&self, nick: &Nick) -> Option<(u64, Nick)> {
            self.lock()
                .by_id
                .iter()
                .find(|(_, member)| member.nick.same_as(nick))
                .map(|(id, member)| (*id, member.nick.clone()))
        }
    }
    // ANCHOR_END: find
}

fn main() -> ExitCode {
    course::main(lesson::run)
}

/// Lesson 04's `chat`, with one more arm: `/msg`.
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
            // ANCHOR: msg_arm
            // The new command, before the arm that sends a line to everyone.
            Command::Say(text) if text == "/msg" || text.starts_with("/msg ") => {
                send_private(room, id, nick, &text["/msg".len()..]);
            }
            // ANCHOR_END: msg_arm
            Command::Say(text) => {
                say!("{nick}: {}", course::preview(text));
                room.broadcast(chat::message(nick, text));
                wait_for_readers(room);
            }
        }
    }
}

// ANCHOR: send_private
/// `/msg nick text`: the text goes to `nick` alone, and to the sender as its
/// receipt (once, if they are the same), as `[HH:MM:SS] alice -> bob: text`.
fn send_private(room: &Room, id: u64, from: &Nick, args: &str) {
    let Some((to, text)) = args
        .trim_start()
        .split_once(' ')
        .filter(|(_, text)| !text.trim().is_empty())
    else {
        room.tell(id, "! usage: /msg nick text\n".to_string());
        return;
    };
    // A name that could not be a nickname is nobody's.
    let found = chat::nickname(to.as_bytes(), Charset::UTF8)
        .ok()
        .and_then(|to| room.find(&to));
    let Some((to_id, to)) = found else {
        room.tell(id, format!("! nobody called {to} is here\n"));
        return;
    };
    // The log says who wrote to whom, not what: it is private.
    say!("{from} sent a private message to {to}");
    let line = format!("[{}] {from} -> {to}: {text}\n", chat::clock());
    room.tell(to_id, line.clone());
    if to_id != id {
        room.tell(id, line);
    }
    // The same backpressure as a message to everyone.
    wait_for_readers(room);
}
// ANCHOR_END: send_private

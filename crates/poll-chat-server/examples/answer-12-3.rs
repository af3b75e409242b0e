//! Lesson 12, exercise 3: private messages in the event-loop room.
//! `/msg bob hi` goes to bob alone, and back to its sender as a receipt; a
//! nickname that nobody here has gets the sender an answer saying so.
//!
//! It is lesson 12's poll-chat-server, word for word, with one change: its
//! `chat` reads one more command. Start it, then a client in each of two
//! more terminals (alice and bob), and in alice's type `/msg bob hi`:
//!
//! ```text
//! cargo run -p poll-chat-server --example answer-12-3
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```

use std::process::ExitCode;

use course::chat::{self, Command, Nick};
use course::{say, Charset};
use mio::Token;

use lesson::{Line, Room};

/// Lesson 12's server (src/main.rs), compiled here as a module. Its `handle`
/// calls `crate::chat`, which in this program is the one below; its own
/// `main` and `chat` go unused.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

fn main() -> ExitCode {
    course::main(lesson::run)
}

/// The lesson's `chat`, with one more arm: `/msg`.
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
        // ANCHOR: msg_arm
        // The new command, before the arm that sends a line to everyone.
        Command::Say(text) if text == "/msg" || text.starts_with("/msg ") => {
            send_private(room, token, &nick, &text["/msg".len()..]);
        }
        // ANCHOR_END: msg_arm
        Command::Say(text) => {
            say!("{nick}: {}", course::preview(text));
            room.broadcast(&chat::message(&nick, text));
        }
    }
}

// ANCHOR: send_private
/// `/msg nick text`: the text goes to `nick` alone, and to the sender as its
/// receipt (once, if they are the same), as `[HH:MM:SS] alice -> bob: text`.
///
/// Both lines go through `tell`, which is `deliver` for one token: they are
/// appended to the member's output like any broadcast, and a member whose
/// output would pass its bound is cut off, and the room told, exactly as when
/// a message to everyone does not fit. Nothing is written here; the end of
/// the turn writes it with whatever else waits for that member.
fn send_private(room: &mut Room, token: Token, from: &Nick, args: &str) {
    let Some((to, text)) = args
        .trim_start()
        .split_once(' ')
        .filter(|(_, text)| !text.trim().is_empty())
    else {
        return room.tell(token, "! usage: /msg nick text\n");
    };
    // Compared as `join` compares nicknames, so `/msg BOB` finds `bob`. A
    // name that could not be a nickname is nobody's.
    let found = chat::nickname(to.as_bytes(), Charset::UTF8)
        .ok()
        .and_then(|wanted| {
            room.each_member()
                .find(|(_, nick)| nick.same_as(&wanted))
                .map(|(to, nick)| (to, nick.clone()))
        });
    let Some((to_token, to)) = found else {
        return room.tell(token, &format!("! nobody called {to} is here\n"));
    };
    // The log says who wrote to whom, not what: it is private.
    say!("{from} sent a private message to {to}");
    let line = format!("[{}] {from} -> {to}: {text}\n", chat::clock());
    room.tell(to_token, &line);
    if to_token != token {
        room.tell(token, &line);
    }
}
// ANCHOR_END: send_private

//! Lesson 13, exercise 2: async-chat-server with a rate limit. Each member
//! may send at most 5 messages to the room in any one second; a sixth line
//! within that second goes to nobody, and its sender alone is answered
//! `! slow down: at most 5 lines a second`. `/who`, `QUIT` and blank lines
//! are not counted, and a refused line does not count either: whoever keeps
//! typing still gets 5 lines a second through.
//!
//! It is lesson 13's server, word for word, with one change: its `chat`
//! keeps the times of the member's last 5 messages and checks each new one
//! against the oldest. The count lives in the member's reader task, not in
//! the room: nobody else reads it, so it needs no lock, and a member who
//! floods waits for nothing and makes nobody else wait. Start it, then a
//! client, and paste ten lines at once:
//!
//! ```text
//! cargo run -p async-chat-server --example answer-13-2
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```

use std::collections::VecDeque;
use std::io;
use std::process::ExitCode;
use std::time::Duration;

use course::chat::{self, Command, Nick};
use course::{say, Charset};
use tokio::io::BufReader;
use tokio::net::tcp::OwnedReadHalf;
use tokio::time::Instant;

use lesson::{read_line, wait_for_readers, Line};
use room::Room;

/// Lesson 13's server (src/main.rs), compiled here as a module. It finds
/// `chat` and `room` at the crate root: `chat` is the one below, `room` the
/// lesson's own, included as it is.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

/// Lesson 13's room (src/room.rs) word for word: this answer adds nothing to
/// it, since the limit is the reader task's business.
mod room {
    include!("../src/room.rs");
}

fn main() -> ExitCode {
    course::main(lesson::run)
}

// ANCHOR: limit
/// What the member is told when a line goes over the limit.
const SLOW_DOWN: &str = "! slow down: at most 5 lines a second\n";

/// At most `most` lines in any `per`: the times of the last `most` lines let
/// through, oldest first. A new line may go when fewer have gone, or when
/// the oldest of them is at least `per` old. It never waits: the caller
/// decides what a refusal means.
struct RateLimit {
    most: usize,
    per: Duration,
    recent: VecDeque<Instant>,
}

impl RateLimit {
    fn new(most: usize, per: Duration) -> RateLimit {
        RateLimit {
            most,
            per,
            recent: VecDeque::with_capacity(most),
        }
    }

    /// True if a line may go now, and then counts it; false leaves the
    /// count as it was.
    fn allow(&mut self, now: Instant) -> bool {
        if self.recent.len() == self.most {
            let oldest = self.recent.front().copied();
            if oldest.is_some_and(|oldest| now.duration_since(oldest) < self.per) {
                return false;
            }
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        true
    }
}
// ANCHOR_END: limit

/// Lesson 13's `chat`, with a rate limit on the lines that go to everyone.
async fn chat(
    reader: &mut BufReader<OwnedReadHalf>,
    room: &Room,
    id: u64,
    nick: &Nick,
    charset: Charset,
) -> io::Result<&'static str> {
    // ANCHOR: own_limit
    // This member's limit, in its own task: no other task touches it.
    let mut limit = RateLimit::new(5, Duration::from_secs(1));
    // ANCHOR_END: own_limit
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
            // ANCHOR: limit_arm
            // The new arm, before the one that sends a line to everyone: a
            // line over the limit is answered to its sender alone (through
            // its outbox, like every answer), and read past.
            Command::Say(_) if !limit.allow(Instant::now()) => {
                room.send(Some(id), SLOW_DOWN);
            }
            // ANCHOR_END: limit_arm
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

//! Lesson 13, exercise 3: async-chat-server with `--shutdown-timeout SECS`,
//! the longest a shutdown waits for what is queued to reach the members
//! (the lesson's `FLUSH_DEADLINE`, 2 seconds, is the default). A member that
//! has stopped reading can hold up the exit by at most that long; the
//! others get the notice at once either way.
//!
//! It is lesson 13's server, word for word, with its own `run`: the same
//! flags and runtime, one more option read where `--runtime` is read (with
//! `course::chat::seconds`, as the room reads `--nick-timeout`), and its
//! value given to the lesson's `serve_room`. Start it, join with a client
//! and with `nc`, stop `nc` with Ctrl-Z, then press Ctrl-C in the server's
//! terminal:
//!
//! ```text
//! cargo run -p async-chat-server --example answer-13-3 -- --shutdown-timeout 1
//! cargo run -p chat-client           # or: nc 127.0.0.1 9999
//! ```

use std::process::ExitCode;

use course::chat::{self, Options};

/// Lesson 13's server (src/main.rs), compiled here as a module. It finds
/// `chat` and `room` at the crate root: both are the lesson's own, below.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

/// Lesson 13's room (src/room.rs) word for word: this answer changes only
/// how long the shutdown waits.
mod room {
    include!("../src/room.rs");
}

/// Lesson 13's `chat`, as it is: the lesson's server finds it here.
use lesson::chat;

const HELP: &str = "\
answer-13-3: lesson 13's async-chat-server with --shutdown-timeout

Usage: answer-13-3 [ADDR] [OPTIONS]

Lesson 13's chat room on tokio. Ctrl-C or SIGTERM shuts it down: every
member is told, and what is queued is sent within --shutdown-timeout.

Arguments:
  ADDR  host:port to listen on [default: 127.0.0.1:9999]
        port 0 lets the system pick a free port

Options:
      --shutdown-timeout SECS  longest the shutdown waits for what is
                               queued to reach the members [default: 2]
      --max-clients N          most connections at once [default: 1000]
      --nick-timeout SECS      time to choose a nickname [default: 20]
      --write-timeout SECS     longest a client may take to receive what
                               waits for it [default: 5]
      --encoding NAME          utf-8, gbk, gb2312 or gb18030 [default: utf-8]
      --runtime NAME           current-thread or multi-thread (a build
                               with --features multi-thread)
                               [default: current-thread]
      --announce               say where the room is, every second, to a
                               multicast group (lesson 14)
      --group GROUP:PORT       the group to announce on
                               [default: 239.255.14.14:7814]
      --room NAME              the room's name in its beacon, one word
  -h, --help                   print this help

Example:
  answer-13-3 --shutdown-timeout 1   # then, in other terminals: chat-client
";

fn main() -> ExitCode {
    course::main(run)
}

/// Lesson 13's `run`, with one more option, and its value for the shutdown.
fn run() -> anyhow::Result<()> {
    let mut multi_thread = false;
    // ANCHOR: default
    // The lesson's deadline, unless the command line says otherwise.
    let mut shutdown_timeout = lesson::FLUSH_DEADLINE;
    // ANCHOR_END: default
    let Options { addr, settings } = chat::parse_args_with(HELP, |name, args| {
        match name {
            "runtime" => {
                multi_thread = lesson::runtime_flag(&args.value::<String>("--runtime")?)?;
            }
            // ANCHOR: flag_arm
            // The new option, read as the room reads its own seconds: more
            // than 0, at most an hour; a bad value is one line naming it,
            // and exit 2.
            "shutdown-timeout" => {
                let raw: String = args.value("--shutdown-timeout")?;
                shutdown_timeout = chat::seconds(&raw, "--shutdown-timeout")?;
            }
            // ANCHOR_END: flag_arm
            // Nobody's option: parse_args_with says so.
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    // The runtime as the lesson builds it.
    let runtime = lesson::runtime(multi_thread)?;
    // ANCHOR: serve
    // The lesson's room, with this deadline for the flush where the
    // lesson's `run` gives FLUSH_DEADLINE.
    runtime.block_on(lesson::serve_room(addr, settings, shutdown_timeout))
    // ANCHOR_END: serve
}

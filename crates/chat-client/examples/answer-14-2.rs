//! Lesson 14, exercise 2: watch the rooms. It listens on the lesson's group
//! for a while and keeps a list of the chat rooms it hears: a room comes in
//! with its first beacon, and goes once it has not been heard for 3 s.
//!
//! That is "soft state": nobody tells the list that a room has closed, the
//! room just stops announcing, and an entry that is not refreshed expires.
//! It is how a printer that was switched off vanishes from a laptop's list.
//! The listening is lesson 14's `src/find.rs`, word for word; what is new is
//! the list and its clock. Start two rooms and the watcher, then stop the
//! second room (Ctrl-C) and watch it go:
//!
//! ```text
//! cargo run -p chat-server -- 127.0.0.1:9999 --announce
//! cargo run -p chat-server -- 127.0.0.1:9998 --announce --room lab2
//! cargo run -p chat-client --example answer-14-2 -- --for 20
//! ```

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use course::cli::{Arg, Args};
use course::{say, UsageError};

/// Lesson 14's find.rs (src/find.rs) word for word: `join` and `next`.
#[allow(dead_code)]
mod find {
    include!("../src/find.rs");
}

use find::Found;

/// A room not heard for this long is gone: three beacons in a row missed
/// (course::chat::BEACON_EVERY is a second), not one lost datagram.
const GONE: Duration = Duration::from_secs(3);

const HELP: &str = "\
answer-14-2: watch the chat rooms that announce themselves (lesson 14, exercise 2)

Usage: answer-14-2 [--for SECS] [--find-on IP] [--group GROUP:PORT]

Lists each room as its first beacon arrives (+), and drops it (-) once it
has not been heard for 3 s.

Options:
      --for SECS           how long to watch [default: 30]
      --find-on IP         the interface that listens, by its address
                           [default: 127.0.0.1]; 0.0.0.0: the routing table's pick
      --group GROUP:PORT   where rooms announce [default: 239.255.14.14:7814]
  -h, --help               print this help

Example:
  answer-14-2 --for 20
";

/// A room on the list, and when it was last heard.
struct Heard {
    room: Found,
    last: Instant,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let socket = find::join(options.group, options.on)?;
    say!(
        "watching for {} s; a room not heard for {} s is gone",
        options.watch.as_secs_f64(),
        GONE.as_secs()
    );
    let end = Instant::now() + options.watch;
    // ANCHOR: watch
    let mut rooms: Vec<Heard> = Vec::new();
    loop {
        // Soft state: an entry lives only while its beacons refresh it.
        let now = Instant::now();
        rooms.retain(|heard| {
            let here = now < heard.last + GONE;
            if !here {
                say!("- {}: not heard for {} s", heard.room, GONE.as_secs());
            }
            here
        });
        if now >= end {
            break;
        }
        // Wake for the next beacon, or when the next room would expire, or
        // at the end, whichever comes first: a room that goes silent is
        // dropped on time even if nothing else arrives.
        let wake = rooms
            .iter()
            .map(|heard| heard.last + GONE)
            .fold(end, Instant::min);
        let Some(room) = find::next(&socket, wake)? else {
            continue;
        };
        let last = Instant::now();
        match rooms.iter_mut().find(|heard| heard.room.addr == room.addr) {
            // Heard again: it is still there.
            Some(heard) => heard.last = last,
            None => {
                say!("+ {room}");
                rooms.push(Heard { room, last });
            }
        }
    }
    // ANCHOR_END: watch
    let here: Vec<String> = rooms.iter().map(|heard| heard.room.to_string()).collect();
    say!(
        "{} room(s) here at the end: {}",
        here.len(),
        here.join("; ")
    );
    Ok(())
}

/// What the command line asked for.
struct Options {
    group: std::net::SocketAddrV4,
    on: Ipv4Addr,
    watch: Duration,
}

fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        group: find::GROUP,
        on: Ipv4Addr::LOCALHOST,
        watch: Duration::from_secs(30),
    };
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("for") => {
                options.watch =
                    course::chat::seconds(&args.value::<String>("--for")?, "--for")?
            }
            Arg::Long("find-on") => options.on = args.value("--find-on")?,
            Arg::Long("group") => {
                options.group =
                    course::chat::parse_group(&args.value::<String>("--group")?)?
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(options)
}

//! Lesson 14, exercise 2: chat-client whose `--find` lists every room it
//! hears. After the first beacon it goes on listening for two more seconds,
//! prints each room once, in the order heard, and connects to the first.
//!
//! It is lesson 04's client with lesson 14's `--find` word for word, and one
//! function more. Start two rooms, then find both:
//!
//! ```text
//! cargo run -p chat-server -- 127.0.0.1:9999 --announce
//! cargo run -p chat-server -- 127.0.0.1:9998 --announce
//! cargo run -p chat-client --example answer-14-2 -- --find
//! ```

use std::process::ExitCode;

/// The chat client (src/main.rs), compiled here as a module. It finds `find`
/// at the crate root, which in this program is the one below; its own goes
/// unused.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

/// Lesson 14's find.rs (src/find.rs) word for word.
#[allow(dead_code)]
mod found {
    include!("../src/find.rs");
}

/// What the client calls: lesson 14's `find`, made to list every room.
mod find {
    pub use crate::found::{Found, GROUP};

    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::time::{Duration, Instant};

    use crate::found::{join, next, nobody};

    /// How long to go on listening after the first room: beacons come every
    /// second, so every room running is heard at least once.
    const MORE: Duration = Duration::from_secs(2);

    // ANCHOR: find_all
    /// Waits, at most `timeout`, for the first room; then listens for
    /// [`MORE`], lists every room heard, and returns the first.
    pub fn find(
        group: SocketAddrV4,
        on: Ipv4Addr,
        timeout: Duration,
    ) -> anyhow::Result<Found> {
        let socket = join(group, on)?;
        let first = next(&socket, Instant::now() + timeout)?
            .ok_or_else(|| nobody(group, timeout))?;
        let mut rooms = vec![first];
        let deadline = Instant::now() + MORE;
        while let Some(found) = next(&socket, deadline)? {
            // Each room is heard every second: keep the first time only.
            if rooms.iter().all(|room| room.addr != found.addr) {
                rooms.push(found);
            }
        }
        eprintln!("{} room(s) heard:", rooms.len());
        for (i, room) in rooms.iter().enumerate() {
            eprintln!("  {}. {} ({})", i + 1, room.addr, room.charset.name());
        }
        Ok(rooms.swap_remove(0))
    }
    // ANCHOR_END: find_all
}

fn main() -> ExitCode {
    course::main(lesson::run)
}

//! `--announce` (lesson 14): while the server runs, a beacon goes to a
//! multicast group every second, saying where to connect, so that a
//! `chat-client --find` in the same network finds the room without anyone
//! typing an address. Lesson 04 does not need it; it is here so that the
//! classroom's server is lesson 04's own. The beacon itself (its socket and
//! words) is course::chat's, the same for every chat server; this server
//! sends it the lesson 04 way, from a thread.

use std::thread;

use anyhow::Context;
use course::chat::{Beacon, BEACON_EVERY};
use course::say;

/// Sends the beacon every second from a thread of its own, for as long as
/// the server runs. A failed send is logged, and the next one tried.
pub fn start(beacon: Beacon) -> anyhow::Result<()> {
    say!("{}", beacon.announcing());
    thread::Builder::new()
        .name("announce".into())
        .spawn(move || loop {
            if let Err(err) = beacon.send() {
                say!("announce failed: {err}");
            }
            thread::sleep(BEACON_EVERY);
        })
        .context("cannot start the announcing thread")?;
    Ok(())
}

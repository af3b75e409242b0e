//! Lesson 12, exercise 2: poll-echo-server with an idle timeout. A client
//! that sends nothing (and takes none of our replies) for 30 seconds is told
//! `idle for 30 s, goodbye` and closed; the others go on as before.
//!
//! It is lesson 12's server, word for word, with one change: its event loop
//! has one more timer. The deadlines wait in a `BTreeSet` in time order, so
//! the loop looks only at the earliest, never at all 10,000 connections.
//! Start it, connect, and wait (`IDLE_SECS=5` waits 5 s instead of 30):
//!
//! ```text
//! cargo run -p poll-echo-server --example answer-12-2
//! nc 127.0.0.1 19534                 # or: cargo run -p v5-echo-client
//! IDLE_SECS=5 cargo run -p poll-echo-server --example answer-12-2
//! ```

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use course::say;
use mio::{Events, Poll, Token};

use lesson::{Server, LISTENER};

/// Lesson 12's server (src/main.rs), compiled here as a module. Its `run`
/// calls `crate::event_loop`, which in this program is the one below; its
/// own `main` and `event_loop` go unused.
#[allow(dead_code)]
#[path = "../src/main.rs"]
mod lesson;

/// How long a client may stay silent, unless `IDLE_SECS` says otherwise.
const IDLE_SECS: u64 = 30;

fn main() -> ExitCode {
    course::main(|| {
        // A bad IDLE_SECS is refused before the server starts.
        idle_limit()?;
        lesson::run()
    })
}

/// The lesson's event loop, with one more timer: the idle deadlines.
fn event_loop(
    mut poll: Poll,
    mut server: Server,
    mut events: Events,
) -> anyhow::Result<()> {
    let mut idle = Idle::new(idle_limit()?);
    say!(
        "clients idle for {} s are told goodbye",
        idle.limit.as_secs()
    );
    loop {
        // Sleep until some socket is ready. The only timer this server has
        // is the pause after a failed accept: while it runs, wake up when
        // it ends even if no socket becomes ready.
        let timeout = server
            .accept_again_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        // ANCHOR: idle_timeout
        // The idle timer: wake up for the earliest idle deadline too.
        let timeout = idle.shorten(timeout);
        // ANCHOR_END: idle_timeout
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal arrived while we slept: nothing happened to the
            // sockets, so poll again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // The poller itself failed: nothing can be served any more.
            Err(err) => return Err(err).context("poll failed"),
        }
        // The pause is over: take the clients that waited in the queue.
        // No event would tell us: they knocked while we were not listening.
        if server
            .accept_again_at
            .is_some_and(|at| Instant::now() >= at)
        {
            server.accept_again_at = None;
            server.accept_all(poll.registry());
        }
        for event in &events {
            match event.token() {
                // While accepting is paused, leave new clients in the queue.
                LISTENER if server.accept_again_at.is_some() => {}
                LISTENER => server.accept_all(poll.registry()),
                token => server.serve(token, event, poll.registry()),
            }
        }
        // ANCHOR: idle_turn
        // The idle timer: who was heard from, who is new, who is due.
        idle.after_poll(&mut server, &events);
        // ANCHOR_END: idle_turn
    }
}

/// The idle limit: `IDLE_SECS` seconds if it is set (a classroom or a test
/// need not wait 30 s), else 30.
fn idle_limit() -> anyhow::Result<Duration> {
    let secs = match std::env::var("IDLE_SECS") {
        Ok(value) => value
            .parse::<u64>()
            .ok()
            .filter(|secs| (1..=86_400).contains(secs))
            .with_context(|| {
                format!("IDLE_SECS={value:?}: want whole seconds, 1 to 86400")
            })?,
        Err(_) => IDLE_SECS,
    };
    Ok(Duration::from_secs(secs))
}

// ANCHOR: idle
/// When each connection was last heard from, and its deadline.
struct Idle {
    limit: Duration,
    /// The last event on each connection's socket (the exercise's
    /// `last_heard`; here beside the connections, not in them).
    last_heard: HashMap<Token, Instant>,
    /// One deadline per connection, earliest first. An event does not move
    /// its connection's entry (that would cost a removal and an insertion
    /// per event): only `last_heard` changes, and an entry that comes due
    /// for a connection heard from since is put back at its true deadline.
    deadlines: BTreeSet<(Instant, Token)>,
    /// Tokens below this one have been seen: the lesson gives them out in
    /// order, so the connections accepted since are the ones from here to
    /// `server.next_token`.
    seen_up_to: usize,
}

impl Idle {
    fn new(limit: Duration) -> Idle {
        Idle {
            limit,
            last_heard: HashMap::new(),
            deadlines: BTreeSet::new(),
            seen_up_to: LISTENER.0 + 1,
        }
    }

    /// `poll`'s timeout: the one the loop had, or sooner if an idle
    /// deadline comes first.
    fn shorten(&self, timeout: Option<Duration>) -> Option<Duration> {
        let Some(&(at, _)) = self.deadlines.first() else {
            return timeout;
        };
        let idle = at.saturating_duration_since(Instant::now());
        Some(timeout.map_or(idle, |t| t.min(idle)))
    }

    /// After a turn of the loop: every event restarts its connection's
    /// clock, every connection accepted starts one, and whoever is due is
    /// told goodbye and closed.
    fn after_poll(&mut self, server: &mut Server, events: &Events) {
        let now = Instant::now();
        // Any event, READABLE or WRITABLE: the client sent bytes, or took
        // some of our replies. Either way it is not idle.
        for event in events {
            let token = event.token();
            if server.conns.contains_key(&token) {
                self.last_heard.insert(token, now);
            } else {
                self.last_heard.remove(&token); // closed: its entry goes when due
            }
        }
        for token in (self.seen_up_to..server.next_token).map(Token) {
            if server.conns.contains_key(&token) {
                self.last_heard.insert(token, now);
                self.deadlines.insert((now + self.limit, token));
            }
        }
        self.seen_up_to = server.next_token;
        // Only the entries that are due are looked at: with 10,000
        // connections, a turn touches the few whose time has come.
        while let Some(&(at, token)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(&heard) = self.last_heard.get(&token) else {
                continue; // the connection closed meanwhile
            };
            if heard + self.limit > now {
                self.deadlines.insert((heard + self.limit, token));
            } else {
                self.last_heard.remove(&token);
                self.close(server, token);
            }
        }
    }

    /// Says goodbye to an idle client and closes its connection.
    fn close(&self, server: &mut Server, token: Token) {
        let Some(mut conn) = server.conns.remove(&token) else {
            return;
        };
        // One try, without waiting: an idle socket's send buffer has room
        // for a line. A client with replies still waiting has stopped
        // reading them: a goodbye written now would cut into a reply.
        if conn.output.is_empty() {
            let goodbye = format!("idle for {} s, goodbye\n", self.limit.as_secs());
            let _ = conn.stream.write(goodbye.as_bytes());
        }
        say!("{} idle for {} s: closed", conn.peer, self.limit.as_secs());
        // Dropping the stream closes the socket and takes it out of the
        // poller, as the lesson's `serve` does.
    }
}
// ANCHOR_END: idle

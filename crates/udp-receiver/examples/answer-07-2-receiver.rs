//! Lesson 07, exercise 2, the receiving side: `udp-receiver` reading a
//! sequence number in front of each datagram (`1 one`, `2 two`, ...) and
//! remembering, for each sender, the highest number it has seen. It reports
//! a gap (`lost 5 to 7`) and a number not above the highest so far (late, or
//! a duplicate).
//!
//! Start it, then send it numbered lines from a second terminal:
//!
//! ```text
//! cargo run -p udp-receiver --example answer-07-2-receiver
//! printf 'one\ntwo\n' | cargo run -p udp-sender --example answer-07-2-sender
//! ```

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;

use anyhow::Context;
use course::say;

/// Larger than any UDP payload: no datagram is cut here.
const MAX_DATAGRAM: usize = 65_535;

/// The most senders followed at once. Anyone can send from any number of
/// addresses (a UDP source address is easily forged), so the map is bounded.
const MAX_SENDERS: usize = 10_000;

const HELP: &str = "\
answer-07-2-receiver: count numbered datagrams per sender (lesson 07)

Usage: answer-07-2-receiver [ADDR]

Prints each datagram as [sender address]: text. A datagram \"N text\" whose N
skips numbers is reported (lost ...); one whose N is not above the highest
seen from that sender is reported as late or a duplicate.

Arguments:
  ADDR  host:port to receive on [default: 127.0.0.1:7789]

Example:
  answer-07-2-receiver     # then: printf 'a\\nb\\n' | answer-07-2-sender
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let addr = course::cli::addr_only(HELP, "127.0.0.1:7789")?;
    let socket = UdpSocket::bind(&addr).with_context(|| format!("cannot bind {addr}"))?;
    say!("listening on {}", socket.local_addr()?);
    let mut buf = vec![0; MAX_DATAGRAM];
    // ANCHOR: count
    // The highest number seen from each sender; 0 until its first.
    let mut highest: HashMap<SocketAddr, u64> = HashMap::new();
    loop {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(pair) => pair,
            // A signal, or on Windows an earlier "port unreachable".
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionReset
                ) =>
            {
                continue
            }
            Err(err) => return Err(err).context("cannot receive"),
        };
        // Each datagram is whole: a bad byte in it becomes U+FFFD.
        let text = String::from_utf8_lossy(&buf[..n]);
        say!("[{from}]: {}", course::printable(&text));
        if let Some(note) = follow(&mut highest, from, &text) {
            say!("  {note}");
        }
    }
    // ANCHOR_END: count
}

// ANCHOR: follow
/// Takes the number in front of `text` from `from` and returns what is worth
/// saying about it: a gap before it, or that it comes late.
fn follow(
    highest: &mut HashMap<SocketAddr, u64>,
    from: SocketAddr,
    text: &str,
) -> Option<String> {
    let number = text.split(' ').next()?.parse::<u64>().ok();
    let Some(n) = number.filter(|&n| n > 0) else {
        return Some("(no sequence number in front)".to_string());
    };
    if !highest.contains_key(&from) && highest.len() >= MAX_SENDERS {
        return Some(format!("(more than {MAX_SENDERS} senders: not counted)"));
    }
    let top = highest.entry(from).or_insert(0);
    if n <= *top {
        // Lower than a number already seen. It may fill a gap reported
        // earlier: that datagram was late, not lost. On a real network only
        // waiting tells the two apart.
        return Some(format!(
            "{n} is late or a duplicate (highest so far: {top})"
        ));
    }
    let gap = match n - *top {
        1 => None,
        2 => Some(format!("lost {}", *top + 1)),
        _ => Some(format!("lost {} to {}", *top + 1, n - 1)),
    };
    *top = n;
    gap
}
// ANCHOR_END: follow

//! Lesson 07, exercise 2, the sending side: `udp-sender` with a sequence
//! number in front of each datagram, `1 one`, `2 two`, ..., so that the
//! receiver can tell what is missing.
//!
//! It sends each line of stdin, numbered from 1, to ADDR. Start the numbered
//! receiver (crates/udp-receiver/examples/answer-07-2-receiver.rs) first:
//!
//! ```text
//! cargo run -p udp-receiver --example answer-07-2-receiver
//! printf 'one\ntwo\n' | cargo run -p udp-sender --example answer-07-2-sender
//! ```

use std::io::{self, BufRead};
use std::net::{ToSocketAddrs, UdpSocket};
use std::process::ExitCode;

use anyhow::Context;
use course::say;

const HELP: &str = "\
answer-07-2-sender: send each line of stdin as a numbered datagram (lesson 07)

Usage: answer-07-2-sender [ADDR]

Sends line N of stdin as the datagram \"N line\", without its newline.

Arguments:
  ADDR  host:port to send to [default: 127.0.0.1:7789]

Example:
  printf 'one\\ntwo\\n' | answer-07-2-sender 127.0.0.1:7789
";

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let addr = course::cli::addr_only(HELP, "127.0.0.1:7789")?;
    let target = addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {addr}"))?
        .next()
        .with_context(|| format!("{addr} has no address"))?;
    // Any local port, on loopback when the target is on this machine (as
    // udp-sender does).
    let local = match (target.is_ipv4(), target.ip().is_loopback()) {
        (true, true) => "127.0.0.1:0",
        (true, false) => "0.0.0.0:0",
        (false, true) => "[::1]:0",
        (false, false) => "[::]:0",
    };
    let socket = UdpSocket::bind(local).context("cannot create a UDP socket")?;
    // ANCHOR: number
    // The numbers start at 1, so that "nothing seen yet" is 0.
    for (i, line) in io::stdin().lock().lines().enumerate() {
        let line = line.context("cannot read stdin (is it UTF-8 text?)")?;
        let datagram = format!("{} {}", i + 1, line.strip_suffix('\r').unwrap_or(&line));
        let n = socket
            .send_to(datagram.as_bytes(), target)
            .with_context(|| format!("cannot send to {target}"))?;
        say!("sent {n} bytes to {target}: {datagram}");
    }
    // ANCHOR_END: number
    Ok(())
}

//! Lesson 07: a UDP receiver. It binds a port and prints every datagram that
//! arrives, with the address it came from, forever. No listen, no accept, no
//! connection: each datagram stands alone.
//!
//! From seed 002 (UDP协议接收数据). The seed's `recvfrom(1024)` cuts a larger
//! datagram to 1,024 bytes and says nothing; this receiver says when and by
//! how much. Start it, then send it something from a second terminal:
//!
//! ```text
//! cargo run -p udp-receiver
//! cargo run -p udp-sender -- 127.0.0.1:7789 hello 你好
//! cargo run -p udp-receiver -- --buffer 8          # watch datagrams being cut
//! ```

use std::io;
use std::net::UdpSocket;
use std::process::ExitCode;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, Charset, UsageError};

/// The seed's port, on the loopback address.
const DEFAULT_ADDR: &str = "127.0.0.1:7789";

/// Larger than any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6):
/// the size of the buffer that learns a datagram's real size.
const MAX_DATAGRAM: usize = 65_535;

const HELP: &str = "\
udp-receiver: print every UDP datagram that arrives (lesson 07)

Usage: udp-receiver [ADDR] [OPTIONS]

Prints each datagram as [sender address]: text, forever (Ctrl-C stops it).
A datagram larger than the buffer is cut, and the cut is reported.

Arguments:
  ADDR  host:port to receive on [default: 127.0.0.1:7789]
        port 0 lets the system pick a free port

Options:
      --buffer BYTES     the receive buffer, 1 to 65535 [default: 1024, as the seed]
      --encoding NAME    utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help             print this help

Example:
  udp-receiver
  udp-receiver 127.0.0.1:7789 --buffer 8 --encoding gbk
";

/// What the command line asked for.
struct Options {
    addr: String,
    buffer: usize,
    charset: Charset,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options {
        addr,
        buffer,
        charset,
    } = parse_args()?;

    // ANCHOR: bind
    // socket(AF_INET, SOCK_DGRAM) + bind in one call. There is no listen
    // and no accept: datagrams from anyone arrive on this one socket.
    let socket = UdpSocket::bind(&addr).with_context(|| format!("cannot bind {addr}"))?;
    let local = socket.local_addr()?;
    say!("listening on {local}");
    say!(
        "send with: cargo run -p udp-sender -- {local} hello   (or: echo hello | nc -u -w1 {} {})",
        local.ip(),
        local.port()
    );
    // ANCHOR_END: bind

    // ANCHOR: receive
    let mut buf = vec![0; buffer];
    // A datagram's real size, learned by peeking into a buffer large enough
    // for any datagram before receiving it into the small one.
    let mut probe = vec![0; MAX_DATAGRAM];
    loop {
        // peek_from leaves the datagram in the queue; recv_from takes it.
        let size = match socket.peek_from(&mut probe) {
            Ok((size, _)) => size,
            Err(err) if passing(&err) => continue,
            Err(err) => return Err(err).context("cannot receive"),
        };
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(pair) => pair,
            Err(err) if passing(&err) => continue,
            Err(err) => return Err(err).context("cannot receive"),
        };
        // Each datagram is decoded on its own: a datagram is a whole
        // message, so no character continues into the next one.
        let mut decoder = charset.decoder();
        let text = decoder.decode(&buf[..n]) + &decoder.finish();
        // Control characters are escaped: a datagram cannot clear the screen.
        say!("[{from}]: {}", course::printable(&text));
        if size > n {
            let lost = size - n;
            let what = if lost == 1 { "byte is" } else { "bytes are" };
            say!(
                "  (cut: the datagram had {size} bytes, the buffer holds {n}; \
                 the other {lost} {what} lost)"
            );
        }
    }
    // ANCHOR_END: receive
}

/// Errors a receiver just goes on after: a signal interrupted the call, or
/// (on Windows) an ICMP "port unreachable" for an earlier send surfaced here.
fn passing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionReset
    )
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        addr: DEFAULT_ADDR.to_string(),
        buffer: 1024,
        charset: Charset::UTF8,
    };
    let mut addr_given = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("buffer") => {
                options.buffer = args.value("--buffer")?;
                if !(1..=MAX_DATAGRAM).contains(&options.buffer) {
                    return Err(UsageError(format!(
                        "invalid value \"{}\" for --buffer: expected 1 to {MAX_DATAGRAM}",
                        options.buffer
                    )));
                }
            }
            Arg::Long("encoding") => {
                options.charset = Charset::parse(&args.value::<String>("--encoding")?)?;
            }
            Arg::Value(value) if !addr_given => {
                options.addr = course::cli::parse_addr(value)?;
                addr_given = true;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(options)
}

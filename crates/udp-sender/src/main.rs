//! Lesson 07: a UDP sender. Each message (from the command line, or each
//! line of stdin) goes out as one datagram to ADDR, and it says how many
//! bytes went. Nothing comes back: UDP has no connection and no reply.
//!
//! From seed 002 (UDP协议向制定主机发送数据). The seed's Python 3 line
//! `u.sendto(data.enconde("gb2312"))` has no address (and a typo): a UDP
//! socket that is not connected must be told where each datagram goes,
//! `send_to(bytes, addr)`. Start the receiver first, then:
//!
//! ```text
//! cargo run -p udp-receiver
//! cargo run -p udp-sender -- 127.0.0.1:7789 hello 你好
//! printf 'one\ntwo\n' | cargo run -p udp-sender -- 127.0.0.1:7789
//! ```

use std::io::{self, BufRead};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::{say, Charset, UsageError};

const HELP: &str = "\
udp-sender: send each message as one UDP datagram (lesson 07)

Usage: udp-sender ADDR [MESSAGE...] [OPTIONS]

Sends each MESSAGE as one datagram, exactly as given (no newline added).
Without messages, sends each line of stdin, without its newline.

Arguments:
  ADDR      host:port to send to, e.g. 127.0.0.1:7789 (not port 0)
  MESSAGE   the text of one datagram

Options:
      --encoding NAME    utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help             print this help

Example:
  udp-sender 127.0.0.1:7789 hello 你好
  printf 'one\\ntwo\\n' | udp-sender 127.0.0.1:7789 --encoding gbk
";

/// What the command line asked for.
struct Options {
    addr: String,
    messages: Vec<String>,
    charset: Charset,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options {
        addr,
        messages,
        charset,
    } = parse_args()?;
    let target = addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {addr}"))?
        .next()
        .with_context(|| format!("{addr} has no address"))?;

    // ANCHOR: socket
    // A UDP socket needs a local address too; port 0 lets the system pick
    // one. Sending to this machine, we stay on loopback; elsewhere, the
    // system picks the way out.
    let local: SocketAddr = match (target.is_ipv4(), target.ip().is_loopback()) {
        (true, true) => (Ipv4Addr::LOCALHOST, 0).into(),
        (true, false) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        (false, true) => (Ipv6Addr::LOCALHOST, 0).into(),
        (false, false) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).context("cannot create a UDP socket")?;
    // ANCHOR_END: socket

    let mut failures = 0;
    let mut send = |text: &str| -> anyhow::Result<()> {
        // A character the encoding has no bytes for is reported, and the
        // message is not sent as something else.
        let bytes = match charset.encode(text) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("udp-sender: {err}: message not sent");
                failures += 1;
                return Ok(());
            }
        };
        // ANCHOR: send_to
        // One call, one datagram: send_to with the address, every time.
        let n = socket
            .send_to(&bytes, target)
            .with_context(|| format!("cannot send to {target}"))?;
        // ANCHOR_END: send_to
        let unit = if n == 1 { "byte" } else { "bytes" };
        say!("sent {n} {unit} to {target}");
        Ok(())
    };

    if messages.is_empty() {
        // Each stdin line is one datagram, without its newline: the
        // datagram itself is the boundary.
        for line in io::stdin().lock().lines() {
            let line = line.context("cannot read stdin (is it UTF-8 text?)")?;
            send(line.strip_suffix('\r').unwrap_or(&line))?;
        }
    } else {
        for message in &messages {
            send(message)?;
        }
    }
    if failures > 0 {
        bail!(
            "{failures} message(s) could not be written in {}",
            charset.name()
        );
    }
    Ok(())
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut addr = None;
    let mut messages = Vec::new();
    let mut charset = Charset::UTF8;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("encoding") => {
                charset = Charset::parse(&args.value::<String>("--encoding")?)?;
            }
            Arg::Value(value) if addr.is_none() => addr = Some(parse_peer(value)?),
            Arg::Value(value) => messages.push(value.to_string_lossy().into_owned()),
            other => return Err(other.unexpected().into()),
        }
    }
    let addr =
        addr.ok_or_else(|| UsageError("no ADDR given: where should it send?".into()))?;
    Ok(Options {
        addr,
        messages,
        charset,
    })
}

/// Checks ADDR as a place to send to. Port 0 means "any free port" only when
/// binding: no program receives on it, so a datagram sent there goes nowhere.
fn parse_peer(value: std::ffi::OsString) -> Result<String, UsageError> {
    let addr = course::cli::parse_addr(value)?;
    // parse_addr checked that the text after the last ':' is a port.
    if addr
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse() == Ok(0_u16))
    {
        return Err(UsageError(format!(
            "invalid ADDR {addr:?}: port 0 is no receiver's port \
             (give the port udp-receiver printed, like 127.0.0.1:7789)"
        )));
    }
    Ok(addr)
}

//! Lesson 15, exercise 1: a traceroute by hand. Echo requests go out with a
//! TTL of 1, 2, 3, ...; each router on the way that lowers the TTL to 0
//! answers "time exceeded" (ICMP type 11) with its own address, and the
//! target answers the echo, which ends the trace.
//!
//! IPv4 and a raw socket only (so root or CAP_NET_RAW). Across the network
//! namespaces of the tests, or to this machine:
//!
//! ```text
//! cargo build -p icmp-ping --example answer-15-1
//! sudo target/debug/examples/answer-15-1 127.0.0.1
//! ```

use std::fmt::Write as _;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use course::cli::{Arg, Args};
use course::{say, UsageError};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const HELP: &str = "\
answer-15-1: a traceroute with ICMP echo requests (lesson 15, exercise 1)

Usage: answer-15-1 [-m HOPS] [-W SECS] HOST

Sends one echo request per TTL, from 1 up, and prints who answered each:
a router (time exceeded) or HOST itself (the echo reply), or * for nobody.
Exits 0 when HOST answered, 1 when it did not within HOPS hops.
Needs a raw socket: root or CAP_NET_RAW.

Arguments:
  HOST  an IPv4 address

Options:
  -m HOPS  the largest TTL to try, 1 to 255 [default: 30]
  -W SECS  how long to wait at each TTL, 0.01 to 60 [default: 1]
  -h, --help print this help

Example:
  sudo answer-15-1 -m 5 127.0.0.1
";

/// ICMP types (RFC 792).
const ECHO_REPLY: u8 = 0;
const UNREACHABLE: u8 = 3;
const ECHO_REQUEST: u8 = 8;
const TIME_EXCEEDED: u8 = 11;

/// Who answered one probe.
enum Answer {
    /// A router on the way: "time exceeded".
    Router(Ipv4Addr),
    /// Somebody said the target cannot be reached.
    Unreachable(Ipv4Addr),
    /// The target itself: the echo reply.
    Target(Ipv4Addr),
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let (host, hops, wait) = parse_args()?;
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
        .context("cannot open a raw ICMP socket (run it as root)")?;
    // No connect(): the answers come from routers too, not only from HOST.
    let dest = SockAddr::from(SocketAddr::new(IpAddr::V4(host), 0));
    let id = (std::process::id() & 0xffff) as u16;
    say!("traceroute to {host}, {hops} hops max");
    let mut buf = vec![0; 65_536];
    for ttl in 1..=hops {
        // ANCHOR: probe
        // IP_TTL: the hop limit of every packet this socket sends from now on.
        socket.set_ttl_v4(u32::from(ttl))?;
        let sent = Instant::now();
        socket
            .send_to(&echo_request(id, u16::from(ttl)), &dest)
            .with_context(|| format!("cannot send to {host}"))?;
        // ANCHOR_END: probe
        let answer = wait_for_answer(&socket, &mut buf, id, u16::from(ttl), sent + wait)?;
        let mut line = format!("{ttl:2}  ");
        match answer {
            None => line.push('*'),
            Some(Answer::Router(from)) => {
                let _ = write!(line, "{from}  {}", millis(sent.elapsed()));
            }
            Some(Answer::Unreachable(from)) => {
                say!("{line}{from}  {}  (unreachable)", millis(sent.elapsed()));
                return Err(anyhow!("{host} is unreachable, said {from}"));
            }
            Some(Answer::Target(from)) => {
                say!("{line}{from}  {}", millis(sent.elapsed()));
                return Ok(());
            }
        }
        say!("{line}");
    }
    Err(anyhow!("{host} did not answer within {hops} hops"))
}

/// Reads until an answer to probe `seq` arrives, or `deadline` passes.
fn wait_for_answer(
    socket: &Socket,
    buf: &mut [u8],
    id: u16,
    seq: u16,
    deadline: Instant,
) -> anyhow::Result<Option<Answer>> {
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Ok(None);
        };
        socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        // As in icmp-ping: `Read for &Socket` reads into initialised bytes,
        // no `unsafe` needed. The sender's address is in the IP header.
        let n = match (&*socket).read(buf) {
            Ok(n) => n,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(err) => return Err(err).context("cannot receive"),
        };
        if let Some(answer) = parse_answer(&buf[..n], id, seq) {
            return Ok(Some(answer));
        }
    }
}

// ANCHOR: parse
/// An answer to our probe `seq`, or `None` for any other packet.
fn parse_answer(packet: &[u8], id: u16, seq: u16) -> Option<Answer> {
    let (from, icmp) = ip_payload(packet)?;
    if icmp.len() < 8 || checksum(icmp) != 0 {
        return None;
    }
    match icmp[0] {
        ECHO_REPLY if echo_is_ours(icmp, id, seq) => Some(Answer::Target(from)),
        // An ICMP error carries, after its own 8 bytes, the IP header of the
        // packet it is about and at least 8 bytes after that: our request's
        // type, identifier and sequence number.
        TIME_EXCEEDED | UNREACHABLE => {
            let (_, inner) = ip_payload(&icmp[8..])?;
            if inner.len() < 8
                || inner[0] != ECHO_REQUEST
                || !echo_is_ours(inner, id, seq)
            {
                return None;
            }
            Some(if icmp[0] == TIME_EXCEEDED {
                Answer::Router(from)
            } else {
                Answer::Unreachable(from)
            })
        }
        _ => None,
    }
}
// ANCHOR_END: parse

/// The source address of an IPv4 packet carrying ICMP, and what follows its
/// header.
fn ip_payload(packet: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    let first = *packet.first()?;
    let header = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header < 20 || packet.len() < header || packet[9] != 1 {
        return None;
    }
    let from = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    Some((from, &packet[header..]))
}

/// True if this echo message has our identifier and sequence number.
fn echo_is_ours(icmp: &[u8], id: u16, seq: u16) -> bool {
    icmp[4..6] == id.to_be_bytes() && icmp[6..8] == seq.to_be_bytes()
}

/// An echo request with 8 bytes of payload, checksum filled in.
fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut packet = vec![ECHO_REQUEST, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(b"traceme!");
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// RFC 1071's checksum, as in icmp-ping.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Milliseconds with three decimals.
fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Reads the command line: HOST, -m and -W.
fn parse_args() -> Result<(Ipv4Addr, u8, Duration), UsageError> {
    let mut args = Args::from_env(HELP);
    let (mut host, mut hops, mut wait) = (None, 30u8, Duration::from_secs(1));
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Short('m') => {
                hops = args.value("-m")?;
                if hops == 0 {
                    return Err(UsageError(
                        "invalid value \"0\" for -m: expected 1 to 255".into(),
                    ));
                }
            }
            Arg::Short('W') => {
                let secs: f64 = args.value("-W")?;
                if !(0.01..=60.0).contains(&secs) {
                    return Err(UsageError(format!(
                        "invalid value \"{secs}\" for -W: expected 0.01 to 60 seconds"
                    )));
                }
                wait = Duration::from_secs_f64(secs);
            }
            Arg::Value(value) if host.is_none() => {
                let text = value.to_string_lossy().into_owned();
                host = Some(text.parse().map_err(|_| {
                    UsageError(format!("invalid HOST {text:?}: expected an IPv4 address"))
                })?);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let host = host.ok_or_else(|| UsageError("missing HOST (an IPv4 address)".into()))?;
    Ok((host, hops, wait))
}

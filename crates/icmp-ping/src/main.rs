//! Lesson 15: ping by hand. The ICMP echo request is built byte by byte
//! (type, code, the RFC 1071 checksum, identifier, sequence, a time stamp),
//! sent on a raw socket, and the replies are picked out of everything ICMP
//! that arrives, with the output and exit codes of the system's `ping`.
//!
//! From seed 000, whose list of socket types names SOCK_RAW ("direct access
//! to the IP or ICMP layer below") and never shows one. A raw socket needs
//! root (or CAP_NET_RAW); without it, Linux offers an unprivileged "ping
//! socket" where net.ipv4.ping_group_range allows it, and icmp-ping falls
//! back to that. Only ever ping machines you may ping: loopback here.
//!
//! ```text
//! cargo build -p icmp-ping
//! sudo target/debug/icmp-ping -c 3 127.0.0.1      # a raw socket, as root
//! cargo run -p icmp-ping -- -c 3 ::1              # the ping socket, if allowed
//! ```

use std::fmt::Write as _;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use course::cli::{Arg, Args};
use course::{say, UsageError};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const HELP: &str = "\
icmp-ping: send ICMP echo requests and print the replies, like ping (lesson 15)

Usage: icmp-ping [OPTIONS] HOST

Sends COUNT echo requests, one every SECS seconds, prints each reply as ping
does, then the statistics. Exits 0 when any reply came, 1 when none did.
Unlike Linux ping it stops after 4 requests by default (as Windows ping does).

A raw socket needs root or CAP_NET_RAW. Without them, icmp-ping uses Linux's
unprivileged ping socket, which net.ipv4.ping_group_range must allow.

Arguments:
  HOST  an IPv4 or IPv6 address, or a name (no port: ICMP has none)

Options:
  -c COUNT   how many requests to send, 1 to 65535 [default: 4]
  -i SECS    seconds between requests, 0.01 to 60 [default: 1]
  -W SECS    how long to wait for each reply, 0.01 to 60 [default: 2]
  -s SIZE    data bytes after the 8-byte ICMP header, 0 to 65507 [default: 56]
  -h, --help print this help

Example:
  sudo icmp-ping -c 3 127.0.0.1
  icmp-ping -c 2 -i 0.2 ::1
";

/// ICMP types: echo request and reply, in ICMP for IPv4 (RFC 792) and in
/// ICMPv6 (RFC 4443).
const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

/// The ICMP header: type, code, checksum (2), identifier (2), sequence (2).
const ICMP_HEADER: usize = 8;
/// An IPv4 header without options, 20 bytes, for the `56(84)` of the first line.
const IPV4_HEADER: usize = 20;
/// The largest payload that fits an IPv4 packet: 65,535 - 20 - 8.
const MAX_SIZE: usize = 65_507;
/// The bytes of the payload that carry the time stamp, when SIZE leaves room.
const STAMP: usize = 8;

/// What the command line asked for.
struct Options {
    host: String,
    count: u16,
    interval: Duration,
    wait: Duration,
    size: usize,
}

/// Which of the two kinds of ICMP socket we got.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// SOCK_RAW: we write the whole ICMP message, and read every ICMP packet
    /// the host receives (over IPv4 with its IP header in front).
    Raw,
    /// SOCK_DGRAM + IPPROTO_ICMP, the "ping socket": the kernel sets the
    /// identifier and hands us only the replies to this socket.
    Ping,
}

/// One echo request on its way, by sequence number.
struct Sent {
    at: Instant,
    /// The time stamp in its payload.
    stamp: u64,
    answered: bool,
}

/// What happened so far: the statistics at the end.
#[derive(Default)]
struct Tally {
    transmitted: u16,
    received: u16,
    duplicates: u32,
    late: u32,
    ignored: u32,
    rtts: Vec<Duration>,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let ip = resolve(&options.host)?;
    let (socket, kind) = open(ip)?;
    let v4 = ip.is_ipv4();
    // ANCHOR: connect
    // connect() on a raw or ping socket sends nothing. It sets where send()
    // goes, and it makes the kernel deliver only packets from that address:
    // a first filter. Port 0, since ICMP has no ports.
    let dest = SockAddr::from(SocketAddr::new(ip, 0));
    socket
        .connect(&dest)
        .with_context(|| format!("cannot send to {ip}"))?;
    // ANCHOR_END: connect

    // The identifier tells our replies from those of another ping running
    // at the same time; ping uses its process id, and so do we. (The ping
    // socket replaces it with one of its own and filters for us.)
    let id = (std::process::id() & 0xffff) as u16;
    if v4 {
        let total = options.size + ICMP_HEADER + IPV4_HEADER;
        say!(
            "PING {} ({ip}) {}({total}) bytes of data.",
            options.host,
            options.size
        );
    } else {
        say!("PING {} ({ip}) {} data bytes", options.host, options.size);
    }

    let mut ping = Ping {
        socket,
        kind,
        v4,
        id,
        ip,
        start: Instant::now(),
        sent: Vec::with_capacity(usize::from(options.count)),
        tally: Tally::default(),
        options,
    };
    // ANCHOR: loop
    // Larger than any IP packet: nothing that arrives is cut.
    let mut buf = vec![0; 65_536];
    for seq in 1..=ping.options.count {
        // Listen for replies until this request is due.
        let due = ping.start + ping.options.interval * u32::from(seq - 1);
        ping.receive_until(&mut buf, due)?;
        ping.send(seq);
    }
    // The last request has its full wait, unless every reply is in first.
    let last = ping.sent.last().map_or(ping.start, |s| s.at);
    ping.receive_until(&mut buf, last + ping.options.wait)?;
    // ANCHOR_END: loop

    print_statistics(&ping.options.host, &ping.tally, ping.start.elapsed());
    if ping.tally.received == 0 {
        // ping's rule: exit 1 when nothing came back.
        return Err(anyhow!(
            "no reply from {ip} to {} echo requests (is it up? some hosts and \
             firewalls drop pings)",
            ping.tally.transmitted
        ));
    }
    Ok(())
}

/// One run: the socket, what was sent, what came back.
struct Ping {
    socket: Socket,
    kind: Kind,
    v4: bool,
    id: u16,
    ip: IpAddr,
    start: Instant,
    /// The requests sent, by sequence number (1 is at index 0).
    sent: Vec<Sent>,
    tally: Tally,
    options: Options,
}

// ANCHOR: checksum
/// The Internet checksum of RFC 1071: add the bytes as 16-bit big-endian
/// words (an odd last byte is padded with a zero), fold the carries back
/// into the low 16 bits, and take the ones' complement.
///
/// The checksum of a message *including* its checksum is 0 (its words sum
/// to 0xffff): that is how the receiver checks it.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    // Each carry out of bit 15 is added back in at bit 0 ("end-around
    // carry"). Twice is always enough; the loop says what it means.
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // After folding, sum fits in 16 bits: the cast loses nothing.
    !(sum as u16)
}
// ANCHOR_END: checksum

// ANCHOR: request
/// An echo request: type, code 0, checksum, identifier, sequence, payload.
///
/// Over IPv6 the checksum also covers a "pseudo-header" with both IP
/// addresses, which only the kernel knows for sure: it fills the field in
/// for every ICMPv6 socket, so we leave it 0.
fn echo_request(v4: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let kind = if v4 { ECHO_REQUEST_V4 } else { ECHO_REQUEST_V6 };
    let mut packet = vec![kind, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(payload);
    if v4 {
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The payload: when SIZE leaves room, `stamp` (microseconds since the
/// start, when the request was made: ping puts its send time there too) in
/// the first 8 bytes, then the byte values 0x10, 0x11, ... as filler.
fn payload(stamp: u64, size: usize) -> Vec<u8> {
    // `as u8` keeps the low byte: the filler counts 0x10 to 0xff, 0x00, ...
    let mut bytes: Vec<u8> = (0..size).map(|i| (0x10 + i) as u8).collect();
    if size >= STAMP {
        bytes[..STAMP].copy_from_slice(&stamp.to_be_bytes());
    }
    bytes
}
// ANCHOR_END: request

impl Ping {
    // ANCHOR: send
    /// Builds echo request `seq` and sends it.
    fn send(&mut self, seq: u16) {
        // Microseconds since the start fit a u64 for half a million years.
        let stamp = self.start.elapsed().as_micros() as u64;
        let request =
            echo_request(self.v4, self.id, seq, &payload(stamp, self.options.size));
        self.sent.push(Sent {
            at: Instant::now(),
            stamp,
            answered: false,
        });
        self.tally.transmitted += 1;
        // One send, one ICMP message: the kernel puts the IP header in front
        // (we did not ask for IP_HDRINCL) and sends it where connect() said.
        if let Err(err) = self.socket.send(&request) {
            // ping goes on after a failed send, and so do we: the request
            // counts as sent, and it will count as lost.
            eprintln!("icmp-ping: cannot send icmp_seq={seq}: {err}");
        }
    }
    // ANCHOR_END: send

    /// Reads and sorts out what arrives until `deadline`, or until the last
    /// request is sent and every request has its reply.
    fn receive_until(&mut self, buf: &mut [u8], deadline: Instant) -> anyhow::Result<()> {
        // ANCHOR: receive
        loop {
            let all_sent = self.sent.len() == usize::from(self.options.count);
            if all_sent && self.sent.iter().all(|s| s.answered) {
                return Ok(());
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Ok(());
            };
            // A zero timeout would mean "block forever": wait at least 1 ms.
            self.socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            // socket2's own recv wants a buffer of MaybeUninit<u8>, which only
            // `unsafe` code may read afterwards. `Read for &Socket` takes a
            // plain &mut [u8] and is safe: those bytes are initialised already.
            // (No sender address is needed: connect() chose the only one.)
            let n = match (&self.socket).read(buf) {
                Ok(n) => n,
                // The timeout: go round, and the deadline check ends the wait.
                Err(err) if is_timeout(&err) => continue,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // An ICMP error for an earlier request may surface as an
                // error here: it is no reply, and no reason to stop.
                Err(err) if is_unreachable(&err) => {
                    self.tally.ignored += 1;
                    continue;
                }
                Err(err) => return Err(err).context("cannot receive"),
            };
            match parse_reply(&buf[..n], self.kind, self.v4, self.id) {
                Some(reply) => self.account(reply),
                // Not an echo reply to us: our own request seen on loopback,
                // another program's ping, an unreachable message, a bad
                // checksum, a packet cut short.
                None => self.tally.ignored += 1,
            }
        }
        // ANCHOR_END: receive
    }

    // ANCHOR: account
    /// Matches a reply with its request by sequence number, prints its line,
    /// and counts it: a reply, a duplicate, or late (after -W).
    fn account(&mut self, reply: Reply<'_>) {
        let rtt_end = Instant::now();
        let index = usize::from(reply.seq).wrapping_sub(1);
        let Some(request) = self.sent.get_mut(index) else {
            // A sequence number we never sent (or 0): not ours after all.
            self.tally.ignored += 1;
            return;
        };
        // The echo must bring back exactly what we sent.
        if reply.payload != payload(request.stamp, self.options.size) {
            self.tally.ignored += 1;
            return;
        }
        let rtt = rtt_end.duration_since(request.at);
        let mut line = format!(
            "{} bytes from {}: icmp_seq={}",
            reply.len, self.ip, reply.seq
        );
        if let Some(ttl) = reply.ttl {
            let _ = write!(line, " ttl={ttl}");
        }
        let _ = write!(line, " time={}", millis(rtt));
        if request.answered {
            self.tally.duplicates += 1;
            say!("{line} (DUP!)");
        } else if rtt > self.options.wait {
            // Too late to count: the request was given up as lost.
            request.answered = true;
            self.tally.late += 1;
            say!("{line} (late)");
        } else {
            request.answered = true;
            self.tally.received += 1;
            self.tally.rtts.push(rtt);
            say!("{line}");
        }
    }
    // ANCHOR_END: account
}

/// A read that ended because the read timeout passed.
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// An ICMP error reported on the socket: host or network unreachable,
/// "refused" (port unreachable).
fn is_unreachable(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::ConnectionRefused
    )
}

/// An echo reply that passed every check on its bytes.
struct Reply<'a> {
    seq: u16,
    /// The TTL from the IP header: only a raw IPv4 socket sees the header.
    ttl: Option<u8>,
    /// The ICMP message's length, header included: ping's "64 bytes".
    len: usize,
    payload: &'a [u8],
}

// ANCHOR: parse
/// Picks an echo reply to us out of what a socket read, or `None` for
/// anything else. Every length is checked before it is used: a packet from
/// the network may be short, long or nonsense.
fn parse_reply(packet: &[u8], kind: Kind, v4: bool, id: u16) -> Option<Reply<'_>> {
    let (ttl, icmp) = if kind == Kind::Raw && v4 {
        // A raw IPv4 socket reads the IP header too. Its first byte holds the
        // version (4) and the header length IHL in 32-bit words; TTL is byte 8
        // and the protocol (1, ICMP) byte 9.
        let first = *packet.first()?;
        let header = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || header < IPV4_HEADER || packet.len() < header {
            return None;
        }
        if packet[9] != 1 {
            return None;
        }
        (Some(packet[8]), &packet[header..])
    } else {
        // Ping sockets, and raw IPv6 sockets: the ICMP message alone.
        (None, packet)
    };
    if icmp.len() < ICMP_HEADER {
        return None;
    }
    let reply = if v4 { ECHO_REPLY_V4 } else { ECHO_REPLY_V6 };
    if icmp[0] != reply || icmp[1] != 0 {
        return None;
    }
    // Over IPv4 a raw socket gets the packet before anything checked it. (The
    // kernel checks ICMPv6 checksums itself, and ping socket replies.)
    if v4 && checksum(icmp) != 0 {
        return None;
    }
    // The ping socket has set an identifier of its own, and filters by it.
    let their_id = u16::from_be_bytes([icmp[4], icmp[5]]);
    if kind == Kind::Raw && their_id != id {
        return None;
    }
    Some(Reply {
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        ttl,
        len: icmp.len(),
        payload: &icmp[ICMP_HEADER..],
    })
}
// ANCHOR_END: parse

/// ping's way of printing milliseconds: three significant decimals below
/// 1 ms, fewer above.
fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    match ms {
        ms if ms < 1.0 => format!("{ms:.3} ms"),
        ms if ms < 10.0 => format!("{ms:.2} ms"),
        ms if ms < 100.0 => format!("{ms:.1} ms"),
        ms => format!("{ms:.0} ms"),
    }
}

// ANCHOR: statistics
/// The summary, in ping's words.
fn print_statistics(host: &str, tally: &Tally, elapsed: Duration) {
    say!("");
    say!("--- {host} ping statistics ---");
    let tx = f64::from(tally.transmitted);
    let lost = f64::from(tally.transmitted - tally.received.min(tally.transmitted));
    let loss = format!("{:.4}", 100.0 * lost / tx);
    // 33.3333, 0, 100: as many decimals as it needs, like ping's %g.
    let loss = loss.trim_end_matches('0').trim_end_matches('.');
    let mut line = format!(
        "{} packets transmitted, {} received",
        tally.transmitted, tally.received
    );
    if tally.duplicates > 0 {
        let _ = write!(line, ", +{} duplicates", tally.duplicates);
    }
    if tally.late > 0 {
        let _ = write!(line, ", +{} late", tally.late);
    }
    say!(
        "{line}, {loss}% packet loss, time {}ms",
        elapsed.as_millis()
    );
    if !tally.rtts.is_empty() {
        let ms: Vec<f64> = tally
            .rtts
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        let n = ms.len() as f64;
        let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ms.iter().copied().fold(0.0, f64::max);
        let avg = ms.iter().sum::<f64>() / n;
        // mdev: the standard deviation, sqrt(mean of squares - square of mean).
        let mdev = (ms.iter().map(|x| x * x).sum::<f64>() / n - avg * avg)
            .max(0.0)
            .sqrt();
        say!("rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms");
    }
    if tally.ignored > 0 {
        let (n, s) = (tally.ignored, if tally.ignored == 1 { "" } else { "s" });
        say!("({n} other ICMP packet{s} ignored: not replies to this ping)");
    }
}
// ANCHOR_END: statistics

// ANCHOR: open
/// Opens a raw ICMP socket, or else the unprivileged ping socket, or says in
/// one line which privilege or setting is missing.
fn open(ip: IpAddr) -> anyhow::Result<(Socket, Kind)> {
    let (domain, protocol) = match ip {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    // socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): root or CAP_NET_RAW only,
    // since a raw socket can read and forge any ICMP traffic of the host.
    match Socket::new(domain, Type::RAW, Some(protocol)) {
        Ok(socket) => return Ok((socket, Kind::Raw)),
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {}
        Err(err) => return Err(err).context("cannot open a raw ICMP socket"),
    }
    // socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): echo only, for the groups
    // listed in net.ipv4.ping_group_range (it covers IPv6 too).
    match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(socket) => Ok((socket, Kind::Ping)),
        // Not an io::Error in the chain: its hint would be about ports.
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => Err(anyhow!(
            "cannot open an ICMP socket: a raw socket needs root or CAP_NET_RAW \
             (sudo), and the ping socket needs net.ipv4.ping_group_range (now \"{}\") \
             to include your group {} (sudo sysctl net.ipv4.ping_group_range=\"0 2147483647\")",
            read_trimmed("/proc/sys/net/ipv4/ping_group_range"),
            own_group()
        )),
        Err(err) => Err(err).context("cannot open an ICMP socket"),
    }
}
// ANCHOR_END: open

/// A file's content without its line end, or `?` when it cannot be read.
fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map_or_else(|_| "?".into(), |s| s.trim().replace('\t', " "))
}

/// This process's real group id, from /proc (std has no getgid).
fn own_group() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Gid:"))?;
            Some(line.split_whitespace().nth(1)?.to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// HOST as an address: an IP address as is, or the first address a name
/// resolves to.
fn resolve(host: &str) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    (host, 0)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .map(|addr| addr.ip())
        .ok_or_else(|| anyhow!("cannot resolve {host}: it has no address"))
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut host = None;
    let mut options = Options {
        host: String::new(),
        count: 4,
        interval: Duration::from_secs(1),
        wait: Duration::from_secs(2),
        size: 56,
    };
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Short('c') => {
                options.count = args.value("-c")?;
                if options.count == 0 {
                    return Err(UsageError(
                        "invalid value \"0\" for -c: expected 1 to 65535".into(),
                    ));
                }
            }
            Arg::Short('i') => options.interval = seconds(args.value("-i")?, "-i")?,
            Arg::Short('W') => options.wait = seconds(args.value("-W")?, "-W")?,
            Arg::Short('s') => {
                options.size = args.value("-s")?;
                if options.size > MAX_SIZE {
                    return Err(UsageError(format!(
                        "invalid value \"{}\" for -s: expected 0 to {MAX_SIZE}",
                        options.size
                    )));
                }
            }
            Arg::Value(value) if host.is_none() => host = Some(parse_host(value)?),
            other => return Err(other.unexpected().into()),
        }
    }
    options.host = host.ok_or_else(|| {
        UsageError("missing HOST (an address like 127.0.0.1 or ::1, or a name)".into())
    })?;
    Ok(options)
}

/// A number of seconds from 0.01 to 60.
fn seconds(value: f64, name: &str) -> Result<Duration, UsageError> {
    if !(0.01..=60.0).contains(&value) {
        return Err(UsageError(format!(
            "invalid value \"{value}\" for {name}: expected 0.01 to 60 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

/// HOST is an address or a name, never `host:port`: ICMP has no ports.
fn parse_host(value: std::ffi::OsString) -> Result<String, UsageError> {
    let text = value.to_string_lossy().into_owned();
    let bad = |why: &str| UsageError(format!("invalid HOST {text:?}: {why}"));
    if text.is_empty() {
        return Err(bad("it is empty"));
    }
    if text.contains(':') && text.parse::<IpAddr>().is_err() {
        return Err(bad(
            "not an IPv6 address, and ICMP has no ports (give the host alone)",
        ));
    }
    if text.contains(|c: char| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(bad(
            "a host name has no spaces, slashes or control characters",
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_rfc_1071s_worked_example() {
        // RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to
        // 0x2ddf0, which folds to 0xddf2; the checksum is its complement.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&bytes), !0xddf2);
        assert_eq!(checksum(&bytes), 0x220d);
    }

    #[test]
    fn checksum_of_known_packets() {
        // An IPv4 header (UDP, 192.168.0.1 to 192.168.0.199) with its
        // checksum field zeroed: the well-known answer is 0xb861.
        let ip = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0,
            0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&ip), 0xb861);
        // Windows ping's echo request, identifier 1, sequence 1, its payload
        // "abcdefghijklmnopqrstuvwabcdefghi": captures show checksum 0x4d5a.
        let request = echo_request(true, 1, 1, b"abcdefghijklmnopqrstuvwabcdefghi");
        assert_eq!(&request[..8], &[8, 0, 0x4d, 0x5a, 0, 1, 0, 1]);
        // With its checksum in place, a packet sums to 0: the receiver's test.
        assert_eq!(checksum(&request), 0);
        assert_eq!(checksum(&[]), 0xffff);
        // An odd length is padded with a zero byte at the end.
        assert_eq!(checksum(&[0x12]), !0x1200);
    }

    // ANCHOR: answer_15_2
    /// Exercise 15.2: a reply differs from its request only in its type (8
    /// becomes 0), so its checksum is the request's plus 0x0800, added the
    /// ones' complement way (with the end-around carry).
    #[test]
    fn answer_15_2_a_replys_checksum_is_the_requests_plus_0800() {
        let ones_add = |a: u16, b: u16| {
            let sum = u32::from(a) + u32::from(b);
            ((sum & 0xffff) + (sum >> 16)) as u16
        };
        for (id, seq, stamp) in
            [(0x1234, 1, 0x0102_0304), (0xfffe, 9, u64::MAX), (1, 1, 0)]
        {
            let request = echo_request(true, id, seq, &payload(stamp, 8));
            // What the kernel sends back: type 0, the checksum made anew.
            let mut reply = request.clone();
            reply[0] = ECHO_REPLY_V4;
            reply[2..4].copy_from_slice(&[0, 0]);
            let sum = checksum(&reply);
            reply[2..4].copy_from_slice(&sum.to_be_bytes());
            let request_sum = u16::from_be_bytes([request[2], request[3]]);
            assert_eq!(sum, ones_add(request_sum, 0x0800), "{id:#x} {seq}");
            // Summed whole, a reply gives ffff, whose complement is 0.
            assert_eq!(checksum(&reply), 0);
        }
    }
    // ANCHOR_END: answer_15_2

    #[test]
    fn a_reply_is_found_and_everything_else_is_not() {
        let mut reply = echo_request(true, 7, 3, b"data");
        reply[0] = ECHO_REPLY_V4;
        reply[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum(&reply);
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 63, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip.extend_from_slice(&reply);
        let found = parse_reply(&ip, Kind::Raw, true, 7).expect("a reply");
        assert_eq!((found.seq, found.ttl, found.len), (3, Some(63), 12));
        assert_eq!(found.payload, b"data");
        // Someone else's identifier, and our own request looping back.
        assert!(parse_reply(&ip, Kind::Raw, true, 8).is_none());
        let mut request = ip.clone();
        request[IPV4_HEADER] = ECHO_REQUEST_V4;
        assert!(parse_reply(&request, Kind::Raw, true, 7).is_none());
        // A flipped bit fails the checksum.
        let mut bad = ip.clone();
        bad[IPV4_HEADER + 9] ^= 1;
        assert!(parse_reply(&bad, Kind::Raw, true, 7).is_none());
        // Every truncation, and nonsense header lengths, are no reply.
        for n in 0..ip.len() {
            assert!(
                parse_reply(&ip[..n], Kind::Raw, true, 7).is_none(),
                "{n} bytes"
            );
        }
        for first in [0x40, 0x44, 0x4f, 0x65, 0x00, 0xff] {
            let mut odd = ip.clone();
            odd[0] = first;
            assert!(
                parse_reply(&odd, Kind::Raw, true, 7).is_none(),
                "{first:#x}"
            );
        }
    }
}

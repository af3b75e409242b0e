// `--find` (lesson 14): instead of an address typed by hand, wait for a
// chat server's beacon (`chat-server --announce`) on a multicast group, and
// connect to the address it announces.
//
// (Plain comments, not `//!`: lesson 14's exercise answer includes this file
// word for word, and include! takes no inner doc comments.)

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use course::Charset;
use socket2::{Domain, Protocol, Socket, Type};

/// The lesson's group and port, where `chat-server --announce` sends.
pub const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 14, 14), 7814);

/// A chat server that announced itself.
pub struct Found {
    /// Where to connect, as announced.
    pub addr: SocketAddr,
    /// The room's encoding, as announced.
    pub charset: Charset,
}

/// Waits, at most `timeout`, for the first chat server's beacon on `group`,
/// joined on the interface with the address `on`.
pub fn find(
    group: SocketAddrV4,
    on: Ipv4Addr,
    timeout: Duration,
) -> anyhow::Result<Found> {
    let socket = join(group, on)?;
    next(&socket, Instant::now() + timeout)?.ok_or_else(|| nobody(group, timeout))
}

// ANCHOR: find
/// Joins `group` on the interface with the address `on` (0.0.0.0: the one
/// the routing table picks).
pub(crate) fn join(group: SocketAddrV4, on: Ipv4Addr) -> anyhow::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .context("cannot create a UDP socket")?;
    // Several clients (and a udp-listen) on one host may wait at once.
    socket
        .set_reuse_address(true)
        .context("cannot set SO_REUSEADDR")?;
    socket
        .bind(&SocketAddr::V4(group).into())
        .with_context(|| format!("cannot bind {group}"))?;
    socket.join_multicast_v4(group.ip(), &on).with_context(|| {
        // With 0.0.0.0 the routing table picks the interface: without a
        // default route it has none to pick.
        let why = if on.is_unspecified() {
            " (no route picks an interface: name one with --find-on ADDR)"
        } else {
            ""
        };
        format!("cannot join {} on {on}{why}", group.ip())
    })?;
    eprintln!("looking for a chat server on {group} (joined on {on})...");
    Ok(socket.into())
}

/// The next chat server's beacon before `deadline`, or `None` once it has
/// passed. Datagrams that are not one are passed over.
pub(crate) fn next(
    socket: &UdpSocket,
    deadline: Instant,
) -> anyhow::Result<Option<Found>> {
    let mut buf = [0; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(pair) => pair,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // The read timeout: the deadline has come.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None)
            }
            Err(err) => return Err(err).context("cannot receive"),
        };
        // Anyone on the network can send to the group: only a well-formed
        // beacon that announces its sender's own address is believed, so no
        // datagram can send us to a third host.
        match beacon(&buf[..n]) {
            Some(found) if found.addr.ip() == from.ip() => {
                eprintln!(
                    "found chat-server on {} (encoding {}), announced from {from}",
                    found.addr,
                    found.charset.name()
                );
                return Ok(Some(found));
            }
            Some(found) => eprintln!(
                "(ignored: {from} announced {}, which is not its own address)",
                found.addr
            ),
            None => {}
        }
    }
}

/// Reads `chat-server on ADDR encoding NAME`, or nothing.
fn beacon(bytes: &[u8]) -> Option<Found> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (addr, encoding) = text
        .strip_prefix("chat-server on ")?
        .split_once(" encoding ")?;
    Some(Found {
        addr: addr.parse().ok()?,
        charset: Charset::parse(encoding).ok()?,
    })
}
// ANCHOR_END: find

/// No beacon in time: the error, and the classroom's usual reasons on a
/// line of their own, in the shape of course::main's hints.
pub(crate) fn nobody(group: SocketAddrV4, timeout: Duration) -> anyhow::Error {
    anyhow::anyhow!(
        "no chat server announced itself on {group} within {} s\n\
         chat-client: hint: is `chat-server ADDR --announce` running on the same \
         network (and were you joined on that network's interface: --find-on)? A \
         firewall, or a Wi-Fi network that isolates its clients, drops multicast",
        timeout.as_secs_f64()
    )
}

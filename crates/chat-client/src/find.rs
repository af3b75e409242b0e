// `--find` (lesson 14): instead of an address typed by hand, listen for the
// beacons of chat servers (`chat-server --announce`) on a multicast group,
// and connect to the address one of them announces.
//
// (Plain comments, not `//!`: lesson 14's exercise answer includes this file
// word for word, and include! takes no inner doc comments.)

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use course::Charset;
use socket2::{Domain, Protocol, Socket, Type};

/// The lesson's group and port, where `chat-server --announce` sends.
pub use course::chat::GROUP;

/// How long `--find` goes on listening after the first room it hears. Each
/// room sends its beacon every second (course::chat::BEACON_EVERY), so in a
/// second and a half every room that is running has been heard.
pub const MORE: Duration = Duration::from_millis(1500);

/// A chat server that announced itself.
pub struct Found {
    /// Where to connect, as announced.
    pub addr: SocketAddr,
    /// The room's encoding, as announced.
    pub charset: Charset,
    /// The room's name (`chat-server --room NAME`), if it has one.
    pub room: Option<String>,
    /// Where the beacon came from.
    pub from: SocketAddr,
}

impl Found {
    /// True if `wanted` (the ROOM of `--find ROOM`) is this room's name or
    /// the host:port it announces.
    pub fn is(&self, wanted: &str) -> bool {
        self.room.as_deref() == Some(wanted)
            || wanted
                .parse::<SocketAddr>()
                .is_ok_and(|addr| addr == self.addr)
    }
}

/// `127.0.0.1:9998 (room lab2, encoding GBK)`.
impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (", self.addr)?;
        if let Some(room) = &self.room {
            write!(f, "room {room}, ")?;
        }
        write!(f, "encoding {})", self.charset.name())
    }
}

// ANCHOR: choose
/// Waits, at most `timeout`, for the room `wanted` names; or, with no
/// `wanted`, for the first room, then [`MORE`] for the others. Every room
/// heard is listed once, in the order heard.
pub fn find(
    group: SocketAddrV4,
    on: Ipv4Addr,
    timeout: Duration,
    wanted: Option<&str>,
) -> anyhow::Result<Found> {
    let socket = join(group, on)?;
    let mut rooms: Vec<Found> = Vec::new();
    let mut deadline = Instant::now() + timeout;
    while let Some(room) = next(&socket, deadline)? {
        // A room is heard again every second: it is listed the first time.
        if rooms.iter().any(|known| known.addr == room.addr) {
            continue;
        }
        eprintln!("found chat-server on {room}, announced from {}", room.from);
        match wanted {
            Some(wanted) if room.is(wanted) => return Ok(room),
            // The first room: the others have a little longer to speak.
            None if rooms.is_empty() => deadline = Instant::now() + MORE,
            _ => {}
        }
        rooms.push(room);
    }
    if let Some(wanted) = wanted {
        return Err(not_heard(wanted, group, timeout, &rooms));
    }
    if rooms.len() > 1 {
        eprintln!(
            "{} rooms heard: joining the first (`--find ROOM` picks one)",
            rooms.len()
        );
    }
    // The first heard, if any was.
    rooms
        .into_iter()
        .next()
        .ok_or_else(|| nobody(group, timeout))
}
// ANCHOR_END: choose

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
        match beacon(&buf[..n], from) {
            Some(found) if found.addr.ip() == from.ip() => return Ok(Some(found)),
            Some(found) => eprintln!(
                "(ignored: {from} announced {}, which is not its own address)",
                found.addr
            ),
            None => {}
        }
    }
}

/// Reads `chat-server on ADDR encoding NAME`, with ` room ROOM` after it
/// if the room has a name, or nothing. A name that no chat server would
/// send (spaces, control or invisible characters, too long: see
/// course::chat::is_room_name) makes it no beacon at all, so a stranger's
/// bytes never reach the terminal.
fn beacon(bytes: &[u8], from: SocketAddr) -> Option<Found> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (addr, rest) = text
        .strip_prefix("chat-server on ")?
        .split_once(" encoding ")?;
    let (encoding, room) = match rest.split_once(" room ") {
        Some((encoding, room)) if course::chat::is_room_name(room) => {
            (encoding, Some(room.to_string()))
        }
        Some(_) => return None,
        None => (rest, None),
    };
    Some(Found {
        addr: addr.parse().ok()?,
        charset: Charset::parse(encoding).ok()?,
        room,
        from,
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

/// `--find ROOM`, and ROOM was not heard in time: the rooms that were, so
/// that a mistyped name shows at once.
fn not_heard(
    wanted: &str,
    group: SocketAddrV4,
    timeout: Duration,
    rooms: &[Found],
) -> anyhow::Error {
    if rooms.is_empty() {
        return nobody(group, timeout);
    }
    let heard: Vec<String> = rooms.iter().map(Found::to_string).collect();
    anyhow::anyhow!(
        "no room {wanted} announced itself on {group} within {} s\n\
         chat-client: hint: the rooms heard: {}. Check ROOM (a room's --room \
         name, or its host:port), or leave it out to join the first",
        timeout.as_secs_f64(),
        heard.join("; ")
    )
}

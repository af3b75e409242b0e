//! `--announce` (lesson 14): while the server runs, a beacon goes to a
//! multicast group every second, saying where to connect, so that a
//! `chat-client --find` in the same network finds the room without anyone
//! typing an address. Lesson 04 does not need it; it is here so that the
//! classroom's server is lesson 04's own.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::{say, Charset, UsageError};

/// The lesson's group and port (udp-listen's default: it hears the room).
pub const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 14, 14), 7814);

/// How often the beacon goes out.
const EVERY: Duration = Duration::from_secs(1);

/// A beacon ready to go: the socket and the words it sends.
pub struct Beacon {
    socket: UdpSocket,
    group: SocketAddrV4,
    text: String,
}

/// Parses `--group GROUP:PORT`: an IPv4 multicast address and a port.
pub fn parse_group(text: &str) -> Result<SocketAddrV4, UsageError> {
    match text.parse::<SocketAddrV4>() {
        Ok(group) if group.ip().is_multicast() && group.port() != 0 => Ok(group),
        _ => Err(UsageError(format!(
            "invalid value {text:?} for --group: expected an IPv4 group and a port, \
             like {GROUP}"
        ))),
    }
}

/// The IP to announce for a server on `addr`: one IPv4 address. 0.0.0.0 is
/// every interface: which one should announce, and what address would a
/// client connect to? The user must name one.
pub fn usable(addr: SocketAddr) -> Result<Ipv4Addr, UsageError> {
    match addr.ip() {
        IpAddr::V4(ip) if !ip.is_unspecified() => Ok(ip),
        _ => Err(UsageError(format!(
            "--announce needs the one IPv4 address clients should connect to, not \
             {addr}: listen on 127.0.0.1 (this machine) or the classroom address"
        ))),
    }
}

// ANCHOR: prepare
/// A beacon for a server listening on `addr`, sent out of the interface
/// that has `addr`'s IP: on 127.0.0.1 it stays on this machine, on the
/// classroom address it reaches the classroom and no further (TTL 1).
pub fn prepare(
    addr: SocketAddr,
    group: SocketAddrV4,
    charset: Charset,
) -> anyhow::Result<Beacon> {
    let ip = usable(addr)?;
    let socket = UdpSocket::bind((ip, 0)).context("cannot create the beacon's socket")?;
    let options = socket2::SockRef::from(&socket);
    options
        .set_multicast_if_v4(&ip)
        .with_context(|| format!("cannot send multicast out of {ip}"))?;
    options
        .set_multicast_ttl_v4(1)
        .context("cannot set IP_MULTICAST_TTL")?;
    let text = format!("chat-server on {addr} encoding {}", charset.flag());
    Ok(Beacon {
        socket,
        group,
        text,
    })
}
// ANCHOR_END: prepare

impl Beacon {
    /// Sends the beacon every second from a thread of its own, for as long as
    /// the server runs. A failed send is logged, and the next one tried.
    pub fn start(self) -> anyhow::Result<()> {
        let Beacon {
            socket,
            group,
            text,
        } = self;
        say!("announcing on {group} every second: {text}");
        thread::Builder::new()
            .name("announce".into())
            .spawn(move || loop {
                if let Err(err) = socket.send_to(text.as_bytes(), group) {
                    say!("announce failed: {err}");
                }
                thread::sleep(EVERY);
            })
            .context("cannot start the announcing thread")?;
        Ok(())
    }
}

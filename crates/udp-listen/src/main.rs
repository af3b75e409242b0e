//! Lesson 14: a listener for beacons. It joins a multicast group on one
//! interface (IP_ADD_MEMBERSHIP) and prints every datagram sent to the
//! group, with the address it came from; or, bound to a broadcast address,
//! every broadcast on that subnet.
//!
//! Beyond the seeds, whose receivers hear only datagrams sent to their own
//! address (seed 002's UDP receiver, on a classroom LAN). On one machine,
//! the group on loopback, in two terminals:
//!
//! ```text
//! cargo run -p udp-listen
//! cargo run -p udp-beacon
//! cargo run -p udp-listen -- 239.255.14.14:7814 --count 1 --timeout 5
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, UsageError};
use socket2::{Domain, Protocol, Socket, Type};

// `--on` and `--count`, the same as udp-beacon's: one file for both.
#[path = "../../udp-beacon/src/interface.rs"]
mod interface;

/// The lesson's group and port, the same as udp-beacon's.
const DEFAULT_ADDR: &str = "239.255.14.14:7814";

/// The loopback interface: the group is joined on this machine only.
const DEFAULT_ON: &str = "127.0.0.1";

/// The largest UDP payload: no datagram is cut.
const MAX_DATAGRAM: usize = 65_535;

const HELP: &str = "\
udp-listen: print every datagram sent to a multicast group (lesson 14)

Usage: udp-listen [ADDR] [OPTIONS]

With a group address (224.0.0.0/4, or ff02::/16 on one link), joins the
group on one interface and prints each datagram as [sender]: text.
With any other address, binds it as udp-receiver does: a broadcast address
(255.255.255.255 or the subnet's, like 10.14.1.255) hears that broadcast.

Arguments:
  ADDR  group:port, or address:port to bind [default: 239.255.14.14:7814]
        port 0 lets the system pick a free port

Options:
      --on IFACE         the interface that joins the group [default: 127.0.0.1]
                         IPv4: the interface's own address (from `ip addr`)
                         IPv6: the interface's name or index (from `ip link`)
      --count N          exit after N datagrams [default: never]
      --timeout SECS     exit 1 when nothing arrives for SECS seconds
  -h, --help             print this help

Example:
  udp-listen
  udp-listen 239.255.14.14:7814 --on 10.14.1.2 --count 1 --timeout 5
  udp-listen 10.14.1.255:7814
  udp-listen '[ff02::14]:7814' --on eth0
";

/// What the command line asked for.
struct Options {
    addr: SocketAddr,
    on: String,
    on_given: bool,
    count: Option<u64>,
    timeout: Option<Duration>,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let (socket, joined) = match options.addr.ip() {
        IpAddr::V4(group) if group.is_multicast() => join_v4(&options, group)?,
        IpAddr::V6(group) if group.is_multicast() => join_v6(&options, group)?,
        _ if options.on_given => {
            return Err(UsageError(format!(
                "--on is for a group: {} is not one, and binding it already names \
                 the interface",
                options.addr
            ))
            .into())
        }
        _ => {
            let addr = options.addr;
            let socket =
                UdpSocket::bind(addr).with_context(|| format!("cannot bind {addr}"))?;
            (socket, None)
        }
    };
    say!("listening on {}", socket.local_addr()?);
    if let Some(joined) = joined {
        say!("{joined}");
    }
    socket
        .set_read_timeout(options.timeout)
        .context("cannot set a read timeout")?;

    // ANCHOR: receive
    let mut buf = vec![0; MAX_DATAGRAM];
    let mut received = 0_u64;
    while options.count.is_none_or(|count| received < count) {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(pair) => pair,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // The read timeout: nothing arrived for --timeout seconds.
            Err(err) if is_timeout(&err) => return silence(&options),
            Err(err) => return Err(err).context("cannot receive"),
        };
        received += 1;
        // A group datagram is an ordinary datagram: recv_from gives the
        // sender's own address, where a reply would go. Anyone on the
        // link can send to a group, so the bytes are shown escaped.
        let text = String::from_utf8_lossy(&buf[..n]);
        say!("[{from}]: {}", course::printable(&text));
    }
    Ok(())
    // ANCHOR_END: receive
}

/// A socket that receives an IPv4 group's datagrams on the interface with
/// the address `--on`. Returns it with the line that says so.
fn join_v4(
    options: &Options,
    group: Ipv4Addr,
) -> anyhow::Result<(UdpSocket, Option<String>)> {
    let on = interface::v4(&options.on)?;
    let addr = options.addr;
    // ANCHOR: join
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .context("cannot create a UDP socket")?;
    // SO_REUSEADDR before bind: several listeners on one machine may bind
    // the same group and port, and each gets its own copy.
    socket
        .set_reuse_address(true)
        .context("cannot set SO_REUSEADDR")?;
    // Bound to the group's address, not 0.0.0.0: this socket receives the
    // group's datagrams and nothing sent to the port by unicast.
    socket
        .bind(&addr.into())
        .with_context(|| format!("cannot bind {addr}"))?;
    // IP_ADD_MEMBERSHIP: this interface now accepts the group. The kernel
    // tells the routers and switches of the link (IGMP) that a member is
    // here.
    socket
        .join_multicast_v4(&group, &on)
        .with_context(|| format!("cannot join {group} on {on}"))?;
    // ANCHOR_END: join
    // Linux's IP_MULTICAST_ALL (on by default) would also hand this
    // socket groups that other programs joined on the same port.
    #[cfg(target_os = "linux")]
    socket
        .set_multicast_all_v4(false)
        .context("cannot clear IP_MULTICAST_ALL")?;
    Ok((socket.into(), Some(format!("joined {group} on {on}"))))
}

/// A socket that receives a link-local IPv6 group's datagrams on the
/// interface `--on` (a name or an index).
fn join_v6(
    options: &Options,
    group: Ipv6Addr,
) -> anyhow::Result<(UdpSocket, Option<String>)> {
    if !options.on_given {
        return Err(UsageError(format!(
            "an IPv6 group like {} needs --on IFACE: a link-local group is on every \
             link at once",
            options.addr
        ))
        .into());
    }
    let index = interface::v6(&options.on)?;
    let addr = SocketAddr::from(SocketAddrV6::new(group, options.addr.port(), 0, index));
    // ANCHOR: join_v6
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))
        .context("cannot create a UDP socket")?;
    socket.set_only_v6(true).context("cannot set IPV6_V6ONLY")?;
    socket
        .set_reuse_address(true)
        .context("cannot set SO_REUSEADDR")?;
    // The group with its interface index (the scope id), as for sending.
    socket
        .bind(&addr.into())
        .with_context(|| format!("cannot bind {addr}"))?;
    // IPV6_JOIN_GROUP, IPv6's IP_ADD_MEMBERSHIP: the interface is named by
    // its index, and the link hears of it by MLD, IPv6's IGMP.
    socket
        .join_multicast_v6(&group, index)
        .with_context(|| format!("cannot join {group} on interface {index}"))?;
    // ANCHOR_END: join_v6
    #[cfg(target_os = "linux")]
    socket
        .set_multicast_all_v6(false)
        .context("cannot clear IPV6_MULTICAST_ALL")?;
    let line = format!("joined {group} on interface {index} ({})", options.on);
    Ok((socket.into(), Some(line)))
}

/// Whether a receive failed because the read timeout passed (Unix says
/// WouldBlock, Windows TimedOut).
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Nothing arrived in time: one line, the classroom's usual reasons, exit 1.
fn silence(options: &Options) -> anyhow::Result<()> {
    let secs = options.timeout.map_or(0.0, |t| t.as_secs_f64());
    eprintln!(
        "udp-listen: error: nothing arrived on {} within {secs} s",
        options.addr
    );
    eprintln!(
        "udp-listen: hint: is the beacon running on the same network, sending \
         out of the interface you joined on (--on)? A firewall, or a Wi-Fi \
         network that isolates its clients, drops multicast and broadcast"
    );
    std::process::exit(1);
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut addr = None;
    let mut options = Options {
        addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        on: DEFAULT_ON.to_string(),
        on_given: false,
        count: None,
        timeout: None,
    };
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("on") => {
                options.on = args.value("--on")?;
                options.on_given = true;
            }
            Arg::Long("count") => options.count = Some(interface::count(&mut args)?),
            Arg::Long("timeout") => {
                let secs: f64 = args.value("--timeout")?;
                if !(0.001..=86_400.0).contains(&secs) {
                    return Err(UsageError(format!(
                        "invalid value \"{secs}\" for --timeout: expected 0.001 to 86400 seconds"
                    )));
                }
                options.timeout = Some(Duration::from_secs_f64(secs));
            }
            Arg::Value(value) if addr.is_none() => addr = Some(parse_listen(value)?),
            other => return Err(other.unexpected().into()),
        }
    }
    options.addr = match addr {
        Some(addr) => addr,
        None => parse_listen(DEFAULT_ADDR.into())?,
    };
    Ok(options)
}

/// ADDR is an IP address and a port: a group has no name to look up.
fn parse_listen(value: std::ffi::OsString) -> Result<SocketAddr, UsageError> {
    let text = course::cli::parse_addr(value)?;
    text.parse().map_err(|_| {
        UsageError(format!(
            "invalid ADDR {text:?}: expected an IP address and a port, like \
             239.255.14.14:7814 (a group has no name to look up)"
        ))
    })
}

//! Lesson 14: a beacon. It sends a short datagram again and again, not to
//! one receiver but to everyone who listens: to a multicast group (every
//! host that joined it) or to a broadcast address (every host on the
//! subnet). This is how a printer or a classroom server says "I am here".
//!
//! Beyond the seeds, which only ever send to one address (seed 002's UDP
//! programs, run on a classroom LAN). On one machine, the group on
//! loopback, in two terminals:
//!
//! ```text
//! cargo run -p udp-listen
//! cargo run -p udp-beacon
//! cargo run -p udp-beacon -- 239.255.14.14:7814 --count 3 --interval 0.5 hello
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, UsageError};
use socket2::{Domain, Protocol, Socket, Type};

mod interface;

/// The lesson's group: 239.255.0.0/16 is the "local scope" of the
/// administratively scoped block (RFC 2365), meant never to leave a site.
const DEFAULT_TARGET: &str = "239.255.14.14:7814";

/// The loopback interface: a beacon reaches this machine only, unless told.
const DEFAULT_ON: &str = "127.0.0.1";

const HELP: &str = "\
udp-beacon: send a datagram to everyone who listens, again and again (lesson 14)

Usage: udp-beacon [TARGET] [MESSAGE] [OPTIONS]

Sends MESSAGE (default: \"beacon 1\", \"beacon 2\", ...) every --interval
seconds to TARGET: a multicast group (224.0.0.0/4, or ff02::/16 on one link)
or a broadcast address (255.255.255.255 or the subnet's, like 10.14.1.255).

Arguments:
  TARGET   group:port or broadcast:port [default: 239.255.14.14:7814]
  MESSAGE  the text of each datagram, sent exactly as given

Options:
      --on IFACE         where the datagrams go out [default: 127.0.0.1]
                         IPv4: the interface's own address (from `ip addr`)
                         IPv6: the interface's name or index (from `ip link`)
      --ttl N            multicast TTL (IPv6: hop limit), 0 to 255 [default: 1]
      --no-loop          IP_MULTICAST_LOOP off: listeners on this host hear nothing
      --count N          stop after N datagrams [default: never]
      --interval SECS    seconds between datagrams [default: 1]
  -h, --help             print this help

Example:
  udp-beacon
  udp-beacon 239.255.14.14:7814 --on 10.14.1.1 --count 3 hello
  udp-beacon 10.14.1.255:7814 --on 10.14.1.1
  udp-beacon '[ff02::14]:7814' --on eth0
";

/// What the command line asked for.
struct Options {
    target: SocketAddr,
    message: Option<String>,
    on: String,
    ttl: u32,
    multicast_loop: bool,
    count: Option<u64>,
    interval: Duration,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let mut target = options.target;
    let (socket, how) = match target.ip() {
        IpAddr::V4(group) if group.is_multicast() => multicast_v4(&options)?,
        IpAddr::V6(group) if group.is_multicast() => {
            let (socket, how, index) = multicast_v6(&options)?;
            // The group's address names its link by the interface index
            // (the scope id): ff02::14 on eth0 is not ff02::14 on wlan0.
            target = SocketAddr::from(SocketAddrV6::new(group, target.port(), 0, index));
            (socket, how)
        }
        IpAddr::V4(_) => broadcast_v4(&options)?,
        IpAddr::V6(_) => {
            return Err(UsageError(format!(
            "invalid TARGET {}: IPv6 has no broadcast, use a group like [ff02::14]:7814",
            target
        ))
            .into())
        }
    };
    say!("sending to {target} from {} ({how})", socket.local_addr()?);

    // ANCHOR: send
    let mut sent = 0_u64;
    loop {
        sent += 1;
        let text = match &options.message {
            Some(text) => text.clone(),
            None => format!("beacon {sent}"),
        };
        // The same send_to as lesson 07: only the address is special. The
        // kernel makes one copy per receiver, on the wire or on this host.
        let n = socket
            .send_to(text.as_bytes(), target)
            .with_context(|| format!("cannot send to {target}"))?;
        say!("sent {n} bytes: {}", course::printable(&text));
        if options.count.is_some_and(|count| sent >= count) {
            return Ok(());
        }
        thread::sleep(options.interval);
    }
    // ANCHOR_END: send
}

/// A socket for an IPv4 group, sending out of the interface that has the
/// address `--on`. Returns it with a few words on how it sends.
fn multicast_v4(options: &Options) -> anyhow::Result<(UdpSocket, String)> {
    let on = interface::v4(&options.on)?;
    // ANCHOR: multicast
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .context("cannot create a UDP socket")?;
    // Bound to the interface's own address: replies and the source address
    // of every beacon are that interface's.
    socket
        .bind(&SocketAddr::from((on, 0)).into())
        .with_context(|| format!("cannot bind {on} (is it this machine's address?)"))?;
    // IP_MULTICAST_IF: which interface a group datagram leaves by. Without
    // it the routing table picks one, usually the default route's.
    socket
        .set_multicast_if_v4(&on)
        .with_context(|| format!("cannot send multicast out of {on}"))?;
    // IP_MULTICAST_TTL: 1 means "this link only": the first router drops
    // it. 1 is also the default; we set it so that it shows.
    socket
        .set_multicast_ttl_v4(options.ttl)
        .context("cannot set IP_MULTICAST_TTL")?;
    // IP_MULTICAST_LOOP: whether this host's own members get a copy too.
    // On (the default), a listener on the same machine hears the beacon.
    socket
        .set_multicast_loop_v4(options.multicast_loop)
        .context("cannot set IP_MULTICAST_LOOP")?;
    // ANCHOR_END: multicast
    let how = format!("multicast, ttl {}, loop {}", options.ttl, on_off(options));
    Ok((socket.into(), how))
}

/// A socket for a link-local IPv6 group: such a group exists on every
/// link at once, so the interface index is part of the address.
fn multicast_v6(options: &Options) -> anyhow::Result<(UdpSocket, String, u32)> {
    let index = interface::v6(&options.on)?;
    // ANCHOR: multicast_v6
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))
        .context("cannot create a UDP socket")?;
    // Any local address: the kernel takes the interface's link-local one
    // (fe80::...) as the source.
    socket
        .bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)).into())
        .context("cannot bind a UDP socket")?;
    // The three options of IPv4, by their IPv6 names: the interface by
    // index, the hop limit, the loop.
    socket
        .set_multicast_if_v6(index)
        .with_context(|| format!("cannot send multicast out of interface {index}"))?;
    socket
        .set_multicast_hops_v6(options.ttl)
        .context("cannot set IPV6_MULTICAST_HOPS")?;
    socket
        .set_multicast_loop_v6(options.multicast_loop)
        .context("cannot set IPV6_MULTICAST_LOOP")?;
    // ANCHOR_END: multicast_v6
    let how = format!(
        "multicast on interface {index}, hops {}, loop {}",
        options.ttl,
        on_off(options)
    );
    Ok((socket.into(), how, index))
}

/// A socket allowed to send to a broadcast address, from `--on`.
fn broadcast_v4(options: &Options) -> anyhow::Result<(UdpSocket, String)> {
    let on = interface::v4(&options.on)?;
    // ANCHOR: broadcast
    let socket = UdpSocket::bind((on, 0))
        .with_context(|| format!("cannot bind {on} (is it this machine's address?)"))?;
    // SO_BROADCAST: without it the kernel refuses to send to a broadcast
    // address (Permission denied), so that no program floods the subnet
    // by mistake.
    socket
        .set_broadcast(true)
        .context("cannot set SO_BROADCAST")?;
    // ANCHOR_END: broadcast
    Ok((socket, "broadcast".to_string()))
}

fn on_off(options: &Options) -> &'static str {
    if options.multicast_loop {
        "on"
    } else {
        "off"
    }
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut target = None;
    let mut options = Options {
        target: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        message: None,
        on: DEFAULT_ON.to_string(),
        ttl: 1,
        multicast_loop: true,
        count: None,
        interval: Duration::from_secs(1),
    };
    let mut on_given = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("on") => {
                options.on = args.value("--on")?;
                on_given = true;
            }
            Arg::Long("ttl") => {
                options.ttl = args.value("--ttl")?;
                if options.ttl > 255 {
                    return Err(UsageError(format!(
                        "invalid value \"{}\" for --ttl: expected 0 to 255",
                        options.ttl
                    )));
                }
            }
            Arg::Long("no-loop") => options.multicast_loop = false,
            Arg::Long("count") => options.count = Some(interface::count(&mut args)?),
            Arg::Long("interval") => {
                let secs: f64 = args.value("--interval")?;
                if !(0.001..=3600.0).contains(&secs) {
                    return Err(UsageError(format!(
                        "invalid value \"{secs}\" for --interval: expected 0.001 to 3600 seconds"
                    )));
                }
                options.interval = Duration::from_secs_f64(secs);
            }
            Arg::Value(value) if target.is_none() => target = Some(parse_target(value)?),
            Arg::Value(value) if options.message.is_none() => {
                options.message = Some(value.to_string_lossy().into_owned());
            }
            other => return Err(other.unexpected().into()),
        }
    }
    options.target = match target {
        Some(target) => target,
        None => parse_target(DEFAULT_TARGET.into())?,
    };
    if options.target.is_ipv6() && !on_given {
        return Err(UsageError(format!(
            "an IPv6 group like {} needs --on IFACE: a link-local group is on every \
             link at once",
            options.target
        )));
    }
    Ok(options)
}

/// TARGET is an address and a port: a group or a broadcast address is
/// never a name to look up. Port 0 is no listener's port.
fn parse_target(value: std::ffi::OsString) -> Result<SocketAddr, UsageError> {
    let text = course::cli::parse_addr(value)?;
    let target: SocketAddr = text.parse().map_err(|_| {
        UsageError(format!(
            "invalid TARGET {text:?}: expected an IP address and a port, like \
             239.255.14.14:7814 (a group has no name to look up)"
        ))
    })?;
    if target.port() == 0 {
        return Err(UsageError(format!(
            "invalid TARGET {text:?}: port 0 is no listener's port"
        )));
    }
    Ok(target)
}

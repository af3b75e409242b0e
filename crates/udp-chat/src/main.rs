//! Lesson 07: a two-person chat over UDP. One thread sends each line you
//! type to the peer; another prints every datagram that arrives. Two of
//! them, each listening where the other sends, talk to each other.
//!
//! From seed 002 (多线程实现交互聊天): the same two threads, without the
//! seed's global variables (the threads share one socket, passed to each)
//! and without typing the peer's address at a prompt. In two terminals:
//!
//! ```text
//! cargo run -p udp-chat -- --listen 127.0.0.1:4567 --peer 127.0.0.1:4568
//! cargo run -p udp-chat -- --listen 127.0.0.1:4568 --peer 127.0.0.1:4567
//! ```

use std::io::{self, BufRead};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, Charset, UsageError};

/// The seed's port, on the loopback address.
const DEFAULT_LISTEN: &str = "127.0.0.1:4567";

/// The largest UDP payload over IPv4: no datagram is cut.
const MAX_DATAGRAM: usize = 65_507;

const HELP: &str = "\
udp-chat: chat with one peer over UDP (lesson 07)

Usage: udp-chat --peer ADDR [--listen ADDR] [OPTIONS]

Each line you type goes to the peer as one datagram (without its newline);
every datagram that arrives is printed as [sender]: text. The end of input
(Ctrl-D) quits.

Options:
      --listen ADDR      host:port to receive on [default: 127.0.0.1:4567]
      --peer ADDR        host:port of the other udp-chat (required; not port 0,
                         and the same family as --listen: IPv4 or IPv6)
      --encoding NAME    utf-8, gbk, gb2312 or gb18030 [default: utf-8]
  -h, --help             print this help

Example:
  udp-chat --listen 127.0.0.1:4567 --peer 127.0.0.1:4568
  udp-chat --listen 127.0.0.1:4568 --peer 127.0.0.1:4567
";

/// What the command line asked for.
struct Options {
    listen: String,
    peer: String,
    charset: Charset,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let Options {
        listen,
        peer,
        charset,
    } = parse_args()?;
    let (here, peer) = same_family(&listen, &peer)?;

    // ANCHOR: threads
    // One socket for both directions: it receives on --listen, and what it
    // sends comes from that address too, so the peer sees who wrote.
    let socket =
        UdpSocket::bind(here).with_context(|| format!("cannot bind {listen}"))?;
    say!("listening on {}", socket.local_addr()?);
    say!("sending to {peer}; type a line and press Enter (Ctrl-D quits)");
    // Shared by the two threads: Arc, since both use it at once. A
    // UdpSocket needs no lock: each send and each receive is one whole call.
    let socket = Arc::new(socket);

    let receiving = Arc::clone(&socket);
    thread::Builder::new()
        .name("receiver".into())
        .spawn(move || receive(&receiving, charset))
        .context("cannot start the receiving thread")?;

    // This thread sends; when stdin ends, the program ends, and the
    // receiving thread with it.
    send(&socket, peer, charset)
    // ANCHOR_END: threads
}

/// Looks up both addresses and picks one of each in the same family: an
/// IPv4 socket cannot send to an IPv6 address, nor an IPv6 socket to an
/// IPv4 one. Two addresses that share no family are a bad command line.
fn same_family(listen: &str, peer: &str) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let resolve = |addr: &str| -> anyhow::Result<Vec<SocketAddr>> {
        let found: Vec<_> = addr
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {addr}"))?
            .collect();
        anyhow::ensure!(!found.is_empty(), "{addr} has no address");
        Ok(found)
    };
    let (mine, theirs) = (resolve(listen)?, resolve(peer)?);
    for here in &mine {
        if let Some(there) = theirs.iter().find(|a| a.is_ipv4() == here.is_ipv4()) {
            return Ok((*here, *there));
        }
    }
    let family = |addrs: &[SocketAddr]| match addrs[0] {
        SocketAddr::V4(_) => "IPv4",
        SocketAddr::V6(_) => "IPv6",
    };
    Err(UsageError(format!(
        "--listen {listen} is {} but --peer {peer} is {}: one socket sends and \
         receives, so give both as IPv4 (127.0.0.1:...) or both as IPv6 ([::1]:...)",
        family(&mine),
        family(&theirs)
    ))
    .into())
}

// ANCHOR: send
/// Sends each stdin line to `peer` as one datagram.
fn send(socket: &UdpSocket, peer: SocketAddr, charset: Charset) -> anyhow::Result<()> {
    for line in io::stdin().lock().lines() {
        let line = line.context("cannot read stdin (is it UTF-8 text?)")?;
        let bytes = match charset.encode(line.strip_suffix('\r').unwrap_or(&line)) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("udp-chat: {err}: line not sent");
                continue;
            }
        };
        // No connection: the address goes with every datagram. If nobody
        // listens there, the datagram is simply lost.
        socket
            .send_to(&bytes, peer)
            .with_context(|| format!("cannot send to {peer}"))?;
    }
    Ok(())
}
// ANCHOR_END: send

// ANCHOR: receive
/// Prints every datagram that arrives, with its sender, until the program
/// ends.
fn receive(socket: &UdpSocket, charset: Charset) {
    let mut buf = vec![0; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let mut decoder = charset.decoder();
                let text = decoder.decode(&buf[..n]) + &decoder.finish();
                // Control characters are escaped: a datagram cannot clear
                // the screen.
                say!("[{from}]: {}", course::printable(&text));
            }
            // A send to a port where nobody listened can come back as an
            // error on the next receive (Windows does this): not fatal, but
            // pause so that a lasting error cannot spin.
            Err(err) => {
                say!("(receive: {err})");
                thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}
// ANCHOR_END: receive

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        listen: DEFAULT_LISTEN.to_string(),
        peer: String::new(),
        charset: Charset::UTF8,
    };
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Long("listen") => {
                options.listen =
                    course::cli::parse_addr(args.value::<String>("--listen")?.into())?;
            }
            Arg::Long("peer") => {
                options.peer = parse_peer(args.value::<String>("--peer")?.into())?;
            }
            Arg::Long("encoding") => {
                options.charset = Charset::parse(&args.value::<String>("--encoding")?)?;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    if options.peer.is_empty() {
        return Err(UsageError(
            "--peer ADDR is required: whom to chat with?".into(),
        ));
    }
    Ok(options)
}

/// Checks --peer as a place to send to. Port 0 means "any free port" only
/// when binding: nobody receives on it, so a datagram sent there goes nowhere.
fn parse_peer(value: std::ffi::OsString) -> Result<String, UsageError> {
    let addr = course::cli::parse_addr(value)?;
    // parse_addr checked that the text after the last ':' is a port.
    if addr
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse() == Ok(0_u16))
    {
        return Err(UsageError(format!(
            "invalid value {addr:?} for --peer: port 0 is no one's port \
             (give the port the other udp-chat printed, like 127.0.0.1:4568)"
        )));
    }
    Ok(addr)
}

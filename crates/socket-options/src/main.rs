//! Lesson 08: socket options, in five demonstrations that each print what
//! happens, step by step, and end by themselves within a few seconds.
//!
//! - `reuseaddr`: restart a server while its last connection waits in
//!   TIME_WAIT, without and with SO_REUSEADDR.
//! - `backlog`: a listener that never accepts; watch its accept queue fill.
//! - `buffers`: SO_SNDBUF and SO_RCVBUF, and how much a sender can write
//!   before a peer that never reads makes it wait.
//! - `unix`: the same calls on a Unix domain socket, whose address is a path.
//! - `dual-stack`: IPv6 on [::1], and an IPv4 client reaching an IPv6 socket.
//!
//! From seed 004 §3 and §5 (`setsockopt(SOL_SOCKET, SO_REUSEADDR, True)`,
//! `listen(128)`; §6 for the buffers), seed 000 (`listen(5)`) and seed 001
//! (`listen(2)`). Everything stays on 127.0.0.1 and [::1] and in a temporary
//! directory that is removed afterwards. Run all five, or one:
//!
//! ```text
//! cargo run -p socket-options
//! cargo run -p socket-options -- reuseaddr
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use course::cli::{Arg, Args};
use course::{say, UsageError};
use socket2::{Domain, Socket, Type};

const HELP: &str = "\
socket-options: socket options, shown step by step (lesson 08)

Usage: socket-options [DEMO]

Runs one demonstration, or all five in turn. Each prints what it does and
ends by itself within a few seconds. Only 127.0.0.1, [::1] and a temporary
directory are used.

Demonstrations:
  reuseaddr   restart a server while its old connection is in TIME_WAIT
  backlog     listen(2) and never accept: the accept queue fills up
  buffers     SO_SNDBUF and SO_RCVBUF: how much goes out before a send blocks
  unix        an echo over a Unix domain socket, whose address is a path
  dual-stack  IPv6 on [::1], and an IPv4 client reaching an IPv6 socket

Example:
  socket-options                     # all five, one after another
  socket-options backlog
";

/// One demonstration: its name on the command line, the heading printed
/// before it, and the function that runs it.
struct Demo {
    name: &'static str,
    title: &'static str,
    run: fn() -> anyhow::Result<()>,
}

/// Every demonstration, in the order the lesson shows them.
const DEMOS: [Demo; 5] = [
    Demo {
        name: "reuseaddr",
        title: "restart a server while its old connection is in TIME_WAIT",
        run: reuseaddr,
    },
    Demo {
        name: "backlog",
        title: "a listener that never accepts: the accept queue fills up",
        run: backlog,
    },
    Demo {
        name: "buffers",
        title: "SO_SNDBUF and SO_RCVBUF, the kernel's buffers for each connection",
        run: buffers,
    },
    Demo {
        name: "unix",
        title: "the same calls on a Unix domain socket",
        run: unix,
    },
    Demo {
        name: "dual-stack",
        title: "IPv6 on [::1], and IPv4 clients on an IPv6 socket",
        run: dual_stack,
    },
];

/// The backlog of the `backlog` demonstration: seed 001's `listen(2)`.
const BACKLOG: i32 = 2;

/// How many clients the `backlog` demonstration tries to connect.
const BACKLOG_CLIENTS: usize = 6;

/// How long each of those clients waits for its connection. On loopback a
/// handshake takes microseconds; a client whose SYN was dropped would wait
/// a whole second before it even tried again.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// What the `buffers` demonstration asks for as SO_SNDBUF and SO_RCVBUF.
const SMALL_BUFFER: usize = 4096;

/// The size of each write in the `buffers` demonstration.
const CHUNK: usize = 64 * 1024;

/// The most the `buffers` demonstration writes into one connection, in case
/// some system buffers far more than expected.
const FILL_LIMIT: usize = 64 * 1024 * 1024;

/// The longest any read of a demonstration may wait.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let chosen = parse_args()?;
    for (i, demo) in chosen.into_iter().enumerate() {
        if i > 0 {
            say!("");
        }
        say!("== {}: {} ==", demo.name, demo.title);
        (demo.run)().context(demo.name)?;
    }
    Ok(())
}

/// The demonstrations the command line asks for: the one named, or all.
fn parse_args() -> Result<Vec<&'static Demo>, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut chosen = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Value(value) if chosen.is_none() => {
                let name = value.to_string_lossy();
                let demo = DEMOS.iter().find(|demo| demo.name == name);
                let demo = demo.ok_or_else(|| {
                    UsageError(format!(
                        "unknown subcommand {name:?}: expected reuseaddr, backlog, \
                         buffers, unix or dual-stack"
                    ))
                })?;
                chosen = Some(demo);
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(match chosen {
        Some(demo) => vec![demo],
        None => DEMOS.iter().collect(),
    })
}

/// 127.0.0.1 with port 0: the system picks a free port.
fn loopback_any_port() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

// ANCHOR: reuseaddr
/// Restarts a server on the port its previous run used, while that run's
/// last connection is still in TIME_WAIT: without SO_REUSEADDR, then with it.
fn reuseaddr() -> anyhow::Result<()> {
    // The first run sets SO_REUSEADDR, as seed 004 does. It has to: Linux
    // looks at the old socket's option as well as the new one's (see below).
    let (addr, peer) = serve_one_client_and_stop(true)?;

    // The second run on the same port, first without the option...
    match listen_on(addr, false) {
        // Only if the old connection were gone, which wait_for_time_wait
        // has checked it isn't.
        Ok(_) => {
            say!("new socket without SO_REUSEADDR: bind {addr} succeeded (unexpected)")
        }
        Err(err) => say!("new socket without SO_REUSEADDR: bind {addr} failed: {err}"),
    }
    // ...then with it. The listener is dropped at once, which frees the port
    // for the std listener below.
    let restarted = listen_on(addr, true)
        .with_context(|| format!("new socket with SO_REUSEADDR: bind {addr}"))?;
    drop(restarted);
    say!("new socket with SO_REUSEADDR: bind {addr} succeeded");
    let port = addr.port();
    say!("why: the old connection {addr} <-> {peer} is in TIME_WAIT.");
    say!("     The side that closes first keeps the connection's 4-tuple for");
    say!("     2*MSL (60 s on Linux), so that late packets of the old connection");
    say!("     die out before a new one can have the same 4-tuple. Meanwhile it");
    say!("     holds port {port}, and bind refuses a port that is held.");
    say!("     SO_REUSEADDR lets bind take a port that only TIME_WAIT connections");
    say!("     hold; a port that a listener holds is never shared this way.");

    // Rust's std sets SO_REUSEADDR before it binds, on Unix (not on Windows).
    match TcpListener::bind(addr) {
        Ok(_) => say!("std: TcpListener::bind({addr}) succeeded too"),
        Err(err) => say!("std: TcpListener::bind({addr}) failed: {err}"),
    }
    say!("     On Unix, std sets SO_REUSEADDR itself (strace shows the call), so");
    say!("     a Rust server restarts without this error; on Windows it does not.");
    say!("     Python's socket does not set it, so the servers of seeds 000 and");
    say!("     001 hit this error when restarted within 60 s of closing a");
    say!("     connection first, as any server does when stopped while clients");
    say!("     are connected. Seed 004 sets it.");

    // The same restart after a first run that did not set the option, like
    // the servers of seeds 000 and 001.
    say!("");
    let (addr, _) = serve_one_client_and_stop(false)?;
    let label = "old server without it, new socket with SO_REUSEADDR";
    match listen_on(addr, true) {
        Ok(_) => say!("{label}: bind {addr} succeeded"),
        Err(err) => {
            say!("{label}: bind {addr} failed: {err}");
            say!("     (Linux) a connection in TIME_WAIT keeps the SO_REUSEADDR of");
            say!("     the server it came from: the old and the new server must both");
            say!("     set it, which is why a server sets it every time it starts.");
        }
    }

    say!("");
    say!("SO_REUSEPORT is a different option: several sockets listen on one");
    say!("     port at once, and the kernel spreads new connections among them.");
    reuseport()
}
// ANCHOR_END: reuseaddr

// ANCHOR: time_wait
/// One short run of a server on a fresh port: listen, accept one client,
/// close that connection first, close the listener. Returns the server's
/// address and the client's, once the kernel holds the server's side of
/// the connection in TIME_WAIT.
fn serve_one_client_and_stop(reuse: bool) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let listener = listen_on(loopback_any_port(), reuse)?;
    let addr = listener.local_addr()?;
    let how = if reuse {
        "with SO_REUSEADDR, like seed 004"
    } else {
        "without SO_REUSEADDR, like seeds 000 and 001"
    };
    say!("server: listening on {addr}, {how}");
    let client = TcpStream::connect(addr)?;
    let (conn, peer) = listener.accept()?;
    say!("client: connected from {peer}; server: accepted it");
    // The side that closes first is the one left in TIME_WAIT. Here it is
    // the server, as when a server is stopped while clients are connected,
    // or closes each connection itself before its client does.
    drop(conn);
    say!("server: closes the connection first");
    drop(client);
    say!("client: closes its side");
    drop(listener);
    say!(
        "server: closes the listener; nothing listens on port {} now",
        addr.port()
    );
    wait_for_time_wait(addr, peer)?;
    say!("kernel: {addr} <-> {peer} is in TIME_WAIT (see: ss -tan state time-wait)");
    Ok((addr, peer))
}

/// A listener on `addr` built call by call with socket2, so that the
/// option can be set (or not) between socket() and bind().
fn listen_on(addr: SocketAddr, reuse: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(reuse)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}
// ANCHOR_END: time_wait

/// Waits, at most two seconds, until Linux lists the connection from
/// `local` to `remote` in TIME_WAIT. On loopback it is there at once; the
/// check makes sure the binds that follow meet it, and says so if the
/// kernel did not keep it (when `net.ipv4.tcp_max_tw_buckets` is reached,
/// it doesn't).
#[cfg(target_os = "linux")]
fn wait_for_time_wait(local: SocketAddr, remote: SocketAddr) -> anyhow::Result<()> {
    const TIME_WAIT: u8 = 0x06;
    for _ in 0..200 {
        let found = proc_net_tcp()?.iter().any(|entry| {
            entry.local_port == local.port()
                && entry.remote_port == remote.port()
                && entry.state == TIME_WAIT
        });
        if found {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    anyhow::bail!(
        "the closed connection {local} <-> {remote} is not in TIME_WAIT in \
         /proc/net/tcp (is net.ipv4.tcp_max_tw_buckets reached?)"
    )
}

/// Elsewhere there is no /proc to look in: the connection is in TIME_WAIT
/// as soon as both sides have closed, which they have.
#[cfg(not(target_os = "linux"))]
fn wait_for_time_wait(_local: SocketAddr, _remote: SocketAddr) -> anyhow::Result<()> {
    Ok(())
}

/// Two listeners on one port at the same time, both with SO_REUSEPORT.
#[cfg(target_os = "linux")]
fn reuseport() -> anyhow::Result<()> {
    let mut listeners = Vec::new();
    let mut addr = loopback_any_port();
    for _ in 0..2 {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        socket.listen(128)?;
        let listener = TcpListener::from(socket);
        // The first bind picks the port; the second asks for the same one.
        addr = listener.local_addr()?;
        listeners.push(listener);
    }
    let count = listeners.len();
    say!("     (Linux) {count} listeners with SO_REUSEPORT on {addr} at once");
    Ok(())
}

/// SO_REUSEPORT means different things on different systems: only the
/// sentence about it is shown here.
#[cfg(not(target_os = "linux"))]
fn reuseport() -> anyhow::Result<()> {
    Ok(())
}

// ANCHOR: backlog
/// A listener with a small backlog that never accepts, and clients that
/// connect to it one by one.
fn backlog() -> anyhow::Result<()> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&loopback_any_port().into())?;
    socket.listen(BACKLOG)?;
    let listener = TcpListener::from(socket);
    let addr = listener.local_addr()?;
    say!("server: listening on {addr} with listen({BACKLOG}), never calling accept()");

    // The kernel completes each handshake by itself and queues the new
    // connection until the server calls accept(); connect returns then. A
    // client whose handshake the kernel does not complete waits in vain.
    let mut clients = Vec::new();
    for i in 1..=BACKLOG_CLIENTS {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                say!("client {i}: connected; the connection waits in the accept queue");
                clients.push(stream);
            }
            Err(err) if err.kind() == io::ErrorKind::TimedOut => {
                let ms = CONNECT_TIMEOUT.as_millis();
                say!("client {i}: timed out after {ms} ms: the queue is full");
            }
            Err(err) => return Err(err).context(format!("client {i}: connect")),
        }
    }
    let connected = clients.len();
    say!("{connected} of {BACKLOG_CLIENTS} clients connected to listen({BACKLOG})");
    show_accept_queue(addr)?;

    // Now the server calls accept(): the queued connections are there
    // already, so each call returns at once. Non-blocking, so that the
    // first call that would wait ends the loop instead.
    listener.set_nonblocking(true)?;
    let mut accepted = Vec::new();
    for _ in 0..BACKLOG_CLIENTS {
        match listener.accept() {
            Ok((stream, _)) => accepted.push(stream),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) => return Err(err).context("accept"),
        }
    }
    let queued = accepted.len();
    say!("server: accept() now returns the {queued} queued connections at once");

    let held = BACKLOG + 1;
    say!("(Linux) the accept queue holds backlog + 1 = {held} connections whose");
    say!("     handshake is done. When it is full, the kernel drops new SYNs; their");
    say!("     clients would retry after 1 s, 3 s, 7 s, ... until connect gave up.");
    say!("     Other systems count differently.");
    match std::fs::read_to_string("/proc/sys/net/core/somaxconn") {
        Ok(max) => {
            let max = max.trim();
            say!("(Linux) /proc/sys/net/core/somaxconn is {max}: listen() lowers any");
            say!("     larger backlog to it, without an error.");
        }
        Err(_) => say!("(somaxconn, the system's cap on the backlog, is not readable)"),
    }
    say!("the seeds: listen(5) (seed 000) lets 6 connections wait on Linux,");
    say!("     listen(2) (seed 001) 3, listen(128) (seed 004) 129. Python's listen()");
    say!("     without a number, and Rust's TcpListener::bind, use 128. The backlog");
    say!("     does not limit how many clients a server serves, only how many wait");
    say!("     for accept().");

    let (clients_n, accepted_n) = (clients.len(), accepted.len());
    drop(clients);
    drop(accepted);
    drop(listener);
    say!(
        "closed the {clients_n} clients, the {accepted_n} accepted sockets, the listener"
    );
    Ok(())
}
// ANCHOR_END: backlog

/// Shows the listener's accept queue as the kernel reports it.
#[cfg(target_os = "linux")]
fn show_accept_queue(addr: SocketAddr) -> anyhow::Result<()> {
    const LISTEN: u8 = 0x0A;
    let table = proc_net_tcp()?;
    let listener = table
        .iter()
        .find(|entry| entry.local_port == addr.port() && entry.state == LISTEN)
        .context("the listener is missing from /proc/net/tcp")?;
    // For a listening socket, Linux reports the accept queue's length where
    // other sockets have their receive queue: `ss -ltn` shows it as Recv-Q
    // (and the backlog as Send-Q).
    say!(
        "(Linux) /proc/net/tcp: {} connections in the accept queue \
         (Recv-Q in `ss -ltn`, whose Send-Q is the backlog)",
        listener.rx_queue
    );
    Ok(())
}

/// Other systems keep their accept queues to themselves.
#[cfg(not(target_os = "linux"))]
fn show_accept_queue(_addr: SocketAddr) -> anyhow::Result<()> {
    Ok(())
}

// ANCHOR: buffers
/// The buffer sizes of a new socket, what setting one does, and how much a
/// sender can write to a peer that never reads.
fn buffers() -> anyhow::Result<()> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    say!(
        "a new TCP socket: SO_SNDBUF = {} bytes, SO_RCVBUF = {} bytes",
        socket.send_buffer_size()?,
        socket.recv_buffer_size()?
    );
    socket.set_recv_buffer_size(SMALL_BUFFER)?;
    let reported = socket.recv_buffer_size()?;
    say!("set SO_RCVBUF to {SMALL_BUFFER}: the kernel reports {reported}");
    if cfg!(target_os = "linux") {
        say!("     (Linux) the kernel doubles the size asked for, to leave room for its");
        say!("     own bookkeeping, and reports the doubled size (see `man 7 socket`)");
    }
    drop(socket);

    let (bytes, sndbuf, rcvbuf) = fill_until_blocked(None)?;
    say!("default buffers: wrote {bytes} bytes before WouldBlock");
    say!(
        "     (now: the sender's SO_SNDBUF {sndbuf}, the receiver's SO_RCVBUF {rcvbuf})"
    );
    let (bytes, sndbuf, rcvbuf) = fill_until_blocked(Some(SMALL_BUFFER))?;
    say!("small buffers ({SMALL_BUFFER} each): wrote {bytes} bytes before WouldBlock");
    say!(
        "     (now: the sender's SO_SNDBUF {sndbuf}, the receiver's SO_RCVBUF {rcvbuf})"
    );

    say!("why: write() only copies bytes into the sender's send buffer; the");
    say!("     kernel moves them on into the receiver's receive buffer, where they");
    say!("     wait for read(). Nobody reads here, so once both are full, a write");
    say!("     must wait: a blocking one sleeps, a non-blocking one fails with");
    say!("     WouldBlock. The kernel grows default buffers as a connection runs");
    say!("     (Linux: net.ipv4.tcp_wmem, tcp_rmem); sizes set by hand stay as set.");
    Ok(())
}

/// Connects a sender to a receiver that never reads and writes CHUNK bytes
/// at a time, without blocking, until a write would block. Returns how many
/// bytes went in, and the sender's SO_SNDBUF and the receiver's SO_RCVBUF
/// then. `small` asks for that size of both buffers.
fn fill_until_blocked(small: Option<usize>) -> anyhow::Result<(usize, usize, usize)> {
    let server = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    let sender = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if let Some(size) = small {
        // Before listen and connect: the receive buffer's size decides the
        // window scale agreed in the handshake, and an accepted socket
        // inherits its buffer sizes from the listener.
        server.set_recv_buffer_size(size)?;
        sender.set_send_buffer_size(size)?;
    }
    server.bind(&loopback_any_port().into())?;
    server.listen(1)?;
    let server = TcpListener::from(server);
    sender.connect(&server.local_addr()?.into())?;
    // The receiver: accepted, and never read from.
    let (receiver, _) = server.accept()?;

    let mut sender = TcpStream::from(sender);
    sender.set_nonblocking(true)?;
    let chunk = vec![0; CHUNK];
    let mut total = 0;
    while total < FILL_LIMIT {
        match sender.write(&chunk) {
            // Part of the chunk, or all of it, went into the send buffer.
            Ok(n) => total += n,
            // Both buffers are full: a blocking write would wait here.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err).context("write"),
        }
    }
    // The sizes now, as the kernel reports them: it may have grown them.
    let sndbuf = Socket::from(sender).send_buffer_size()?;
    let rcvbuf = Socket::from(receiver).recv_buffer_size()?;
    Ok((total, sndbuf, rcvbuf))
}
// ANCHOR_END: buffers

// ANCHOR: unix
/// An echo over a Unix domain socket: the calls of TCP, with a path for an
/// address.
#[cfg(unix)]
fn unix() -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::{UnixListener, UnixStream};

    // Removed when `dir` is dropped, at the end or on an early return.
    let dir = TempDir::new().with_context(|| {
        let tmp = std::env::temp_dir();
        format!("cannot make a directory in {}", tmp.display())
    })?;
    say!("made the temporary directory {}", dir.path.display());
    let path = dir.path.join("echo.sock");
    let shown = path.display();

    // socket(AF_UNIX, SOCK_STREAM) + bind(path) + listen, in one call, as
    // TcpListener::bind does for TCP (UnixListener asks for the system's
    // largest backlog; TcpListener asks for 128).
    let listener =
        UnixListener::bind(&path).with_context(|| format!("cannot listen on {shown}"))?;
    say!("server: UnixListener::bind({shown}): socket, bind, listen");
    let is_socket = std::fs::metadata(&path)?.file_type().is_socket();
    say!("server: the address is a path, not IP:port; it is a socket file: {is_socket}");

    let mut client = UnixStream::connect(&path)?;
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    say!("client: UnixStream::connect({shown}): connected");
    let (conn, peer) = listener.accept()?;
    // A client that did not bind a path of its own has no name.
    say!("server: accept(): a connection from {peer:?}");
    let echo = std::thread::spawn(move || echo_one_line(conn));

    let line = "hello over AF_UNIX\n";
    say!("client: write_all({line:?})");
    client.write_all(line.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(&client).take(1024).read_line(&mut reply)?;
    say!("client: read {reply:?} back");
    echo.join()
        .map_err(|_| anyhow::anyhow!("the echo thread panicked"))?
        .context("echo")?;
    drop(client);

    // Closing a Unix listener leaves its file behind, and a path that
    // exists cannot be bound again: a server removes it before binding.
    drop(listener);
    let still_there = path.exists();
    say!("server: closed the listener; the file is still there: {still_there}");
    match UnixListener::bind(&path) {
        Ok(_) => say!("server: bind({shown}) again succeeded"),
        Err(err) => say!("server: bind({shown}) again failed: {err}"),
    }
    std::fs::remove_file(&path)?;
    let again = UnixListener::bind(&path).context("bind after remove_file")?;
    drop(again);
    say!("server: after remove_file, bind({shown}) succeeded");

    say!("the calls are TCP's: bind, listen, accept, connect, read, write_all.");
    say!("     Only the address differs, and no network is involved: the kernel");
    say!("     copies the bytes from one socket to the other, and the file's");
    say!("     permissions decide who may connect.");
    let dir_path = dir.path.clone();
    drop(dir);
    if dir_path.exists() {
        anyhow::bail!("cannot remove {}", dir_path.display());
    }
    say!("removed {}", dir_path.display());
    Ok(())
}

/// The server's side of the echo: reads one line and writes it back.
#[cfg(unix)]
fn echo_one_line(conn: std::os::unix::net::UnixStream) -> io::Result<()> {
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut line = String::new();
    // At most 1 KiB: a line without an end cannot grow without bound.
    BufReader::new(&conn).take(1024).read_line(&mut line)?;
    say!("server: read {line:?}, writes it back");
    (&conn).write_all(line.as_bytes())
}

/// A directory of our own in the system's temporary directory, removed with
/// everything in it when dropped.
#[cfg(unix)]
struct TempDir {
    path: std::path::PathBuf,
}

#[cfg(unix)]
impl TempDir {
    fn new() -> io::Result<TempDir> {
        // The process id keeps it apart from other running copies of this
        // program, the clock from earlier runs. create_dir fails if the
        // name exists: we never use a directory someone else made.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("socket-options-{}-{nanos}", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path)?;
        Ok(TempDir { path })
    }
}

#[cfg(unix)]
impl Drop for TempDir {
    fn drop(&mut self) {
        // Nothing to do about a failure here; the caller checks.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
// ANCHOR_END: unix

/// Unix domain sockets in Rust's std exist on Unix only.
#[cfg(not(unix))]
fn unix() -> anyhow::Result<()> {
    say!("Rust's std has Unix domain sockets on Unix only: skipped here");
    Ok(())
}

// ANCHOR: dual_stack
/// An IPv6 listener on [::1]; IPV6_V6ONLY; and an IPv4 client reaching an
/// IPv6 socket through an IPv4-mapped address.
fn dual_stack() -> anyhow::Result<()> {
    // Some machines and containers have IPv6 turned off.
    if let Err(err) = TcpListener::bind("[::1]:0") {
        say!("this machine has no IPv6 loopback ([::1]: {err}): skipped");
        return Ok(());
    }

    let socket = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    let only_v6 = socket.only_v6()?;
    say!("a new IPv6 socket: only_v6() = {only_v6} (the IPV6_V6ONLY option)");
    socket.bind(&SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)).into())?;
    socket.listen(128)?;
    let listener = TcpListener::from(socket);
    let addr = listener.local_addr()?;
    say!("server: listening on {addr}");
    let client = TcpStream::connect(addr)?;
    let (conn, peer) = listener.accept()?;
    say!("IPv6 client: connected; server: accepted {peer}");
    drop((client, conn));
    // ::1 is an IPv6 address only, whatever IPV6_V6ONLY says: nothing of
    // ours listens on 127.0.0.1 with that port.
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()));
    match TcpStream::connect_timeout(&v4, IO_TIMEOUT) {
        Ok(_) => say!("IPv4 client to {v4}: connected (another program listens there)"),
        Err(err) => say!("IPv4 client to {v4}: {err}: [::1] takes IPv6 clients only"),
    }
    drop(listener);

    // With IPV6_V6ONLY off, an IPv6 socket can bind an IPv4-mapped address:
    // ::ffff:127.0.0.1 is 127.0.0.1 written as IPv6. It takes IPv4 clients.
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:0".parse()?;
    let socket = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    socket.set_only_v6(false)?;
    if let Err(err) = socket.bind(&mapped.into()) {
        say!("only_v6(false): bind {mapped} failed: {err}; this system refuses it");
        return Ok(());
    }
    socket.listen(128)?;
    let listener = TcpListener::from(socket);
    let addr = listener.local_addr()?;
    say!("server: an IPv6 socket with only_v6(false) listening on {addr}");
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()));
    let client = TcpStream::connect(v4)?;
    let from = client.local_addr()?;
    say!("IPv4 client: connected to {v4} from {from}");
    let (conn, peer) = listener.accept()?;
    say!("server: accepted {peer}: the IPv4 client, as an IPv4-mapped IPv6 address");
    drop((client, conn, listener));

    let strict = Socket::new(Domain::IPV6, Type::STREAM, None)?;
    strict.set_only_v6(true)?;
    match strict.bind(&mapped.into()) {
        Ok(()) => say!("only_v6(true): bind {mapped} succeeded"),
        Err(err) => say!("only_v6(true): bind {mapped} failed: {err}"),
    }
    drop(strict);

    say!("a dual-stack server binds [::]:PORT with only_v6(false): one socket");
    say!("     for IPv4 and IPv6 clients, on every interface of the machine. This");
    say!("     course stays on loopback, so it does not do that. The default of");
    say!("     only_v6() differs: Linux takes it from net.ipv6.bindv6only (usually");
    say!("     0: off), Windows starts with it on. A server that cares sets it.");
    Ok(())
}
// ANCHOR_END: dual_stack

/// A TCP socket as Linux lists it in /proc/net/tcp (the IPv4 sockets; `ss`
/// reads the same table).
#[cfg(target_os = "linux")]
struct TcpEntry {
    local_port: u16,
    remote_port: u16,
    state: u8,
    /// Bytes waiting to be read, or for a listener its accept queue's length.
    rx_queue: u64,
}

/// Reads /proc/net/tcp. Each line after the header reads `sl local remote
/// state tx_queue:rx_queue ...`, addresses as `IP:PORT`, all in hex.
#[cfg(target_os = "linux")]
fn proc_net_tcp() -> anyhow::Result<Vec<TcpEntry>> {
    let table =
        std::fs::read_to_string("/proc/net/tcp").context("cannot read /proc/net/tcp")?;
    let hex = |text: &str| u64::from_str_radix(text, 16).ok();
    let port = |field: &str| u16::from_str_radix(field.rsplit_once(':')?.1, 16).ok();
    let entries = table.lines().skip(1).filter_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (_tx, rx) = fields.get(4)?.split_once(':')?;
        Some(TcpEntry {
            local_port: port(fields.get(1)?)?,
            remote_port: port(fields.get(2)?)?,
            state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
            rx_queue: hex(rx)?,
        })
    });
    Ok(entries.collect())
}

//! Measures an echo server: C connections, each sending an S-byte line and
//! reading the reply up to its newline before sending the next (lockstep
//! round trips). Prints round trips per second, the p50, p99 and largest
//! round-trip time, the errors, and, given the server's process id, the CPU
//! time the server spent per round trip and its memory.
//!
//! Not a lesson of its own, but worth reading after lesson 03, or beside
//! lesson 12, whose server has the same shape: many connections driven by
//! one thread (mio, the event loop under tokio),
//! lockstep round trips, and percentiles kept in a histogram of fixed size.
//! `scripts/bench-echo` runs it against every echo server and the Python and
//! tokio anchors. By hand:
//!
//! ```text
//! cargo run --release -p v5-echo-server -- 127.0.0.1:19534 > /dev/null &
//! cargo run --release -p echo-bench -- 127.0.0.1:19534 --connections 100 --duration 2
//! cargo run --release -p echo-bench -- 127.0.0.1:19534 --size 16384 --server-pid "$(pgrep -n v5-echo-server)"
//! ```
//!
//! Why one thread with mio and not a thread per connection: the benchmark
//! pins the server and this program to the same CPU (on a shared machine
//! that gives the steadiest figures), so every microsecond this program
//! spends is taken from the server. A thread per connection would add a
//! context switch to every round trip; one thread waiting on all sockets at
//! once (epoll) wakes once for all the replies that are ready. The report
//! shows this program's own CPU time per round trip, so you can check that
//! it stays below the server's.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::UsageError;
use mio::{Events, Interest, Poll, Registry, Token};

/// Where the echo servers of lessons 02, 03 and 12 listen by default.
const DEFAULT_ADDR: &str = "127.0.0.1:19534";

/// The line each connection sends once before the clock starts. Its reply
/// shows that the server serves this connection, and what the server puts
/// before its echo (`收到你的消息` for ours, nothing for a plain echo).
const WARM_UP: &[u8] = b"echo-bench warm-up\n";

/// What the message is made of: printable, and never mistaken for a prefix
/// like `收到你的消息`, whose bytes are all above 0x7F.
const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

const HELP: &str = "\
echo-bench: measure an echo server with many connections (lessons 02, 03, 12)

Usage: echo-bench [ADDR] [OPTIONS]

Opens C connections (each makes one warm-up round trip), then on every
connection sends an S-byte line and reads the reply up to its newline before
sending the next, until the count or the time limit is reached. Reports
round trips per second, the round-trip time (p50, p99, max) and errors.

The reply must be the line sent, maybe after a prefix (收到你的消息 for the
course's servers), which is learned from the warm-up reply. A server that
answers each read may answer one line in several parts, each with the prefix.

Arguments:
  ADDR  host:port of the echo server [default: 127.0.0.1:19534]

Options:
  -c, --connections C     connections, 1 to 10000 [default: 10]; more than
                          about 1,000 may need a higher `ulimit -n`
  -s, --size S            bytes in each message, newline included,
                          1 to 1048576 [default: 64]
  -n, --round-trips N     round trips on each connection, at most [default: 1000000]
      --total N           round trips over all connections, at most
      --duration SECS     stop sending after SECS seconds [default: 5]
      --timeout SECS      the longest a connection, or a reply, may take
                          [default: 10]
      --expect-prefix P   the prefix the server puts before its echo (''
                          for none) instead of learning it
      --server-pid PID    also report the server's CPU time per round trip
                          and its memory (RSS), from /proc/PID
  -h, --help              print this help

Example:
  echo-bench 127.0.0.1:19534 --connections 100 --duration 2
  echo-bench 127.0.0.1:19534 --size 16384 --server-pid 12345
";

/// What the command line asked for.
struct Options {
    addr: String,
    connections: usize,
    size: usize,
    round_trips: u64,
    total: Option<u64>,
    duration: Duration,
    timeout: Duration,
    expect_prefix: Option<Vec<u8>>,
    server_pid: Option<u32>,
}

fn main() -> ExitCode {
    course::main(run)
}

fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let target = options
        .addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", options.addr))?
        .next()
        .with_context(|| format!("{} has no address", options.addr))?;
    // Check the server's process before we start, not after the run.
    let server = options.server_pid.map(|pid| pid.to_string());
    if let Some(pid) = &server {
        cpu_ticks(pid)
            .with_context(|| format!("cannot read the CPU time of process {pid}"))?;
    }
    let ticks_per_second = clock_ticks_per_second();

    // Connect every connection before the clock starts, one after another,
    // each with its warm-up round trip: the server has accepted (and, for a
    // thread-per-connection server, started the thread of) connection i
    // before connection i + 1 knocks, so the listen backlog never overflows.
    let connecting = Instant::now();
    let poll = Poll::new()?;
    let mut prefix = options.expect_prefix.clone();
    let mut conns = Vec::with_capacity(options.connections);
    for i in 0..options.connections {
        let mut stream = open(target, i, options.timeout, &mut prefix)?;
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)?;
        conns.push(Some(Conn::new(stream)));
    }
    let connect_time = connecting.elapsed();
    println!(
        "connected {} connections in {:.1} ms (each made one warm-up round trip)",
        options.connections,
        connect_time.as_secs_f64() * 1000.0
    );

    let mut bench = Bench {
        message: message(options.size),
        prefix: prefix.unwrap_or_default(),
        per_connection: options.round_trips,
        total: options.total.unwrap_or(u64::MAX),
        timeout: options.timeout,
        registry: poll.registry().try_clone()?,
        buf: vec![0; 64 * 1024],
        conns,
        times: Histogram::new(),
        sent: 0,
        completed: 0,
        under_way: 0,
        errors: 0,
        first_error: None,
    };
    let server_before = server.as_deref().map(cpu_ticks).transpose()?;
    let own_before = cpu_ticks("self")?;
    let elapsed = bench.run(poll, options.duration)?;
    let own_after = cpu_ticks("self")?;
    // Read now, while every connection is still open.
    let server_after = server.as_deref().map(cpu_ticks).transpose()?;
    let rss = server.as_deref().map(rss_kib).transpose()?;

    if bench.completed == 0 {
        let why = bench
            .first_error
            .as_deref()
            .unwrap_or("no round trip completed");
        bail!("{why}");
    }
    let n = bench.completed;
    // CPU time in clock ticks (CLK_TCK, 100 per second on Linux), turned
    // into microseconds per round trip.
    let per_round_trip =
        |ticks: u64| ticks as f64 * 1e6 / ticks_per_second as f64 / n as f64;
    let mut report = format!(
        "connections {} size {}: {n} round trips in {:.3} s, {:.0} round trips/s, \
         latency p50 {:.1} µs p99 {:.1} µs max {:.1} µs, errors {}",
        options.connections,
        options.size,
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64().max(1e-9),
        micros(bench.times.percentile(50.0)),
        micros(bench.times.percentile(99.0)),
        micros(bench.times.max),
        bench.errors,
    );
    if let (Some(before), Some(after)) = (server_before, server_after) {
        let ticks = after - before;
        report += &format!(
            ", server CPU {:.2} µs per round trip",
            per_round_trip(ticks)
        );
        // A tick is 10 ms: a server that mostly waits (or a short run)
        // uses too few of them for the figure to mean much.
        if ticks < 20 {
            report += &format!(" (imprecise: {ticks} clock ticks)");
        }
    }
    if let Some(rss) = rss {
        report += &format!(", server RSS {rss} KiB");
    }
    report += &format!(
        ", echo-bench CPU {:.2} µs per round trip",
        per_round_trip(own_after - own_before)
    );
    println!("{report}");
    if let Some(first) = &bench.first_error {
        println!("first error: {first}");
    }
    Ok(())
}

/// Opens connection `i` and makes its warm-up round trip, blocking (with
/// `timeout` on every call). Learns the server's prefix into `prefix` if it
/// is not known yet, else checks the reply against it. Returns the
/// connection made non-blocking, for the event loop.
fn open(
    target: SocketAddr,
    i: usize,
    timeout: Duration,
    prefix: &mut Option<Vec<u8>>,
) -> anyhow::Result<mio::net::TcpStream> {
    let mut stream = TcpStream::connect_timeout(&target, timeout)
        .with_context(|| format!("cannot connect to {target}"))?;
    // Our messages go out in one write each, so Nagle's algorithm could
    // only delay them: turn it off, as load generators do.
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(WARM_UP)?;

    let mut reply = Vec::new();
    let mut buf = [0; 4096];
    while reply.last() != Some(&b'\n') {
        let n = match stream.read(&mut buf) {
            // 0 bytes: the server closed the connection.
            Ok(0) => bail!("connection {i}: the server closed it before answering"),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // The read timeout: the server accepted (the kernel did, in
            // the listen backlog) but does not answer.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                bail!(
                    "connection {i}: no answer within {timeout:?} (a server that \
                     serves one client at a time answers only the first connection)"
                )
            }
            Err(err) => return Err(err).context(format!("connection {i}")),
        };
        reply.extend_from_slice(&buf[..n]);
        if reply.len() > 64 * 1024 {
            bail!("connection {i}: 64 KiB of reply to a short line, and no newline");
        }
    }
    let known = prefix.get_or_insert_with(|| {
        // The prefix is what comes before the line we sent. If the reply
        // does not end with our line, the check below says so.
        let cut = reply.len().saturating_sub(WARM_UP.len());
        reply[..cut].to_vec()
    });
    if !is_echo(&reply, WARM_UP, known) {
        bail!(
            "connection {i}: the reply {} is not {} + the line sent",
            course::preview(&String::from_utf8_lossy(&reply)),
            course::preview(&String::from_utf8_lossy(known)),
        );
    }
    stream.set_nonblocking(true)?;
    Ok(mio::net::TcpStream::from_std(stream))
}

/// One connection in the event loop.
struct Conn {
    stream: mio::net::TcpStream,
    /// The reply to the current message, as far as it has come.
    reply: Vec<u8>,
    /// Bytes of the current message written so far (a write may take only
    /// part of it when the socket's send buffer is full).
    written: usize,
    /// When the current message was sent: the round trip's start.
    sent_at: Instant,
    /// Round trips completed on this connection.
    done: u64,
    /// A message is on its way and its reply has not come back yet.
    busy: bool,
}

impl Conn {
    fn new(stream: mio::net::TcpStream) -> Conn {
        Conn {
            stream,
            reply: Vec::new(),
            written: 0,
            sent_at: Instant::now(),
            done: 0,
            busy: false,
        }
    }
}

/// The measured part of a run: the connections and what they counted.
struct Bench {
    message: Vec<u8>,
    prefix: Vec<u8>,
    per_connection: u64,
    total: u64,
    timeout: Duration,
    registry: Registry,
    /// Where replies are read into (64 KiB, the most one read takes).
    buf: Vec<u8>,
    /// `None` once a connection failed and was closed.
    conns: Vec<Option<Conn>>,
    /// Round-trip times in nanoseconds.
    times: Histogram,
    sent: u64,
    completed: u64,
    /// Connections with a message on its way.
    under_way: usize,
    errors: u64,
    first_error: Option<String>,
}

impl Bench {
    /// Runs the round trips: every connection sends, and each reply that
    /// comes back is followed by the next message on the same connection,
    /// until the counts are reached or `duration` has passed. Then waits for
    /// the replies still on their way. Returns the time from the first send
    /// to the last reply.
    ///
    /// The loop ends: after `duration` nothing new is sent, and a message
    /// whose reply takes longer than the timeout closes its connection.
    fn run(&mut self, mut poll: Poll, duration: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let stop_sending = start + duration;
        for i in 0..self.conns.len() {
            self.send_next(i, start, stop_sending);
        }
        let mut events = Events::with_capacity(1024);
        let mut last_reply = start;
        let mut next_check = start;
        while self.under_way > 0 {
            match poll.poll(&mut events, Some(Duration::from_millis(100))) {
                Ok(()) => {}
                // A signal arrived while we waited: wait again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err.into()),
            }
            for event in &events {
                let i = event.token().0;
                if event.is_writable() {
                    self.write_rest(i);
                }
                if event.is_readable() && self.read_reply(i) {
                    last_reply = Instant::now();
                    self.send_next(i, last_reply, stop_sending);
                }
            }
            // Look for replies that are late, ten times a second.
            let now = Instant::now();
            if now >= next_check {
                next_check = now + Duration::from_millis(100);
                for i in 0..self.conns.len() {
                    let late = self.conns[i]
                        .as_ref()
                        .is_some_and(|c| c.busy && now - c.sent_at > self.timeout);
                    if late {
                        let timeout = self.timeout;
                        self.fail(i, format!("no reply within {timeout:?}"));
                    }
                }
            }
        }
        Ok(last_reply - start)
    }

    /// Starts the next round trip on connection `i`, if it may: before
    /// `stop_sending`, and within the counts.
    fn send_next(&mut self, i: usize, now: Instant, stop_sending: Instant) {
        let Some(conn) = self.conns[i].as_mut() else {
            return;
        };
        if now >= stop_sending
            || conn.done >= self.per_connection
            || self.sent >= self.total
        {
            return;
        }
        conn.sent_at = now;
        conn.written = 0;
        conn.busy = true;
        self.sent += 1;
        self.under_way += 1;
        self.write_rest(i);
    }

    /// Writes what is left of the current message on connection `i`.
    fn write_rest(&mut self, i: usize) {
        let Some(conn) = self.conns[i].as_mut() else {
            return;
        };
        if let Err(why) = write_rest(conn, Token(i), &self.message, &self.registry) {
            self.fail(i, why);
        }
    }

    /// Reads what has arrived on connection `i`. Returns true when that
    /// completed a reply (it ends with a newline), after recording its
    /// round-trip time and checking it.
    fn read_reply(&mut self, i: usize) -> bool {
        let Some(conn) = self.conns[i].as_mut() else {
            return false;
        };
        let limit = 4 * self.message.len() + 64 * 1024;
        match read_reply(conn, &mut self.buf, limit) {
            Ok(true) => {}
            // Not complete yet: the rest comes later.
            Ok(false) => return false,
            Err(why) => {
                self.fail(i, why);
                return false;
            }
        }
        let elapsed = conn.sent_at.elapsed();
        if !conn.busy || conn.written < self.message.len() {
            self.fail(i, "a reply before the whole message was sent".into());
            return false;
        }
        if !is_echo(&conn.reply, &self.message, &self.prefix) {
            let preview = course::preview(&String::from_utf8_lossy(&conn.reply));
            self.fail(i, format!("not an echo of the message: {preview}"));
            return false;
        }
        conn.reply.clear();
        conn.busy = false;
        conn.done += 1;
        self.times.record(elapsed.as_nanos() as u64);
        self.completed += 1;
        self.under_way -= 1;
        true
    }

    /// Counts an error on connection `i` and closes it; the others go on.
    fn fail(&mut self, i: usize, why: String) {
        let Some(mut conn) = self.conns[i].take() else {
            return;
        };
        if conn.busy {
            self.under_way -= 1;
        }
        let _ = self.registry.deregister(&mut conn.stream);
        self.errors += 1;
        self.first_error
            .get_or_insert(format!("connection {i}: {why}"));
    }
}

/// Writes what is left of the current message. When the socket takes only
/// part of it, asks the registry to hear when it can take more.
fn write_rest(
    conn: &mut Conn,
    token: Token,
    message: &[u8],
    registry: &Registry,
) -> Result<(), String> {
    let was_waiting = conn.written > 0;
    while conn.written < message.len() {
        match conn.stream.write(&message[conn.written..]) {
            Ok(n) => conn.written += n,
            // The send buffer is full: the server has not read enough yet.
            // mio tells us when there is room again.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let both = Interest::READABLE | Interest::WRITABLE;
                return registry
                    .reregister(&mut conn.stream, token, both)
                    .map_err(|err| format!("cannot wait to write: {err}"));
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(format!("cannot send: {err}")),
        }
    }
    // All written. If we had asked for writable events, stop them: with
    // nothing to write they would only wake us for nothing.
    if was_waiting {
        registry
            .reregister(&mut conn.stream, token, Interest::READABLE)
            .map_err(|err| format!("cannot wait to read: {err}"))?;
    }
    Ok(())
}

/// Reads what has arrived into `conn.reply`. Returns true when the reply
/// is complete: it ends with a newline.
fn read_reply(conn: &mut Conn, buf: &mut [u8], limit: usize) -> Result<bool, String> {
    loop {
        let n = match conn.stream.read(buf) {
            // 0 bytes: the server closed the connection.
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(n) => n,
            // Nothing more for now: the rest of the reply comes later.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(format!("cannot read: {err}")),
        };
        conn.reply.extend_from_slice(&buf[..n]);
        match buf[..n].iter().position(|&b| b == b'\n') {
            // The reply is complete. We don't read again until the next
            // message is sent: in lockstep nothing else can be on its way,
            // and that saves a read that would find nothing.
            Some(end) if end == n - 1 => return Ok(true),
            Some(_) => return Err("more bytes after the reply's newline".into()),
            None if conn.reply.len() > limit => {
                return Err("a reply much longer than the message, and no newline".into())
            }
            None => {}
        }
    }
}

/// The message: `size` bytes, the last one a newline.
fn message(size: usize) -> Vec<u8> {
    let mut message: Vec<u8> = ALPHABET.iter().copied().cycle().take(size - 1).collect();
    message.push(b'\n');
    message
}

/// True if `reply` is `message` echoed after `prefix`: either in one piece,
/// or, from a server that answers each read, in several pieces that each
/// start with the prefix.
fn is_echo(reply: &[u8], message: &[u8], prefix: &[u8]) -> bool {
    // The usual case, checked without a search.
    if reply.len() == prefix.len() + message.len() {
        return reply.starts_with(prefix) && reply.ends_with(message);
    }
    if prefix.is_empty() {
        return false;
    }
    let mut rest = reply;
    let mut expected = message;
    while !rest.is_empty() {
        let Some(after_prefix) = rest.strip_prefix(prefix) else {
            return false;
        };
        // This piece runs to the next prefix, or to the end.
        let len = after_prefix
            .windows(prefix.len())
            .position(|w| w == prefix)
            .unwrap_or(after_prefix.len());
        let (piece, next) = after_prefix.split_at(len);
        let Some(left) = expected.strip_prefix(piece) else {
            return false;
        };
        expected = left;
        rest = next;
    }
    expected.is_empty()
}

/// Round-trip times in nanoseconds, counted in buckets at most 1/256 of
/// their value wide. A list of every time would grow with the run (8 bytes
/// per round trip, 24 MB for a minute at 50,000 per second); this keeps
/// 7,424 counters, and its percentiles are within 0.4% of the exact ones.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

/// Values below 2^8 have a bucket each; above, every power of two is cut
/// into 2^7 buckets.
const EXACT_BITS: u32 = 8;

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; bucket(u64::MAX) + 1],
            total: 0,
            max: 0,
        }
    }

    fn record(&mut self, value: u64) {
        self.counts[bucket(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    /// The p-th percentile (nearest rank: the smallest value that at least
    /// p% of the values are at or below), as the middle of its bucket.
    fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, width) = bucket_range(i);
                return (low + width / 2).min(self.max);
            }
        }
        self.max
    }
}

/// The bucket of `value`: the value itself below 2^8; above, the power of
/// two it lies in and its next 7 bits.
fn bucket(value: u64) -> usize {
    let bits = u64::BITS - value.leading_zeros();
    if bits <= EXACT_BITS {
        return value as usize;
    }
    let shift = bits - EXACT_BITS;
    ((shift as usize) << (EXACT_BITS - 1)) + (value >> shift) as usize
}

/// The smallest value of bucket `i` and how many values it holds.
fn bucket_range(i: usize) -> (u64, u64) {
    let half = 1 << (EXACT_BITS - 1);
    if i < 2 * half {
        return (i as u64, 1);
    }
    let shift = i / half - 1;
    let top = (i - shift * half) as u64;
    (top << shift, 1 << shift)
}

/// The CPU time (user + system, every thread) that process `pid` ("self"
/// for this one) has used so far, in clock ticks: fields 14 and 15 of
/// /proc/PID/stat.
fn cpu_ticks(pid: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat =
        fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // "PID (NAME) STATE ...": the name may hold spaces and parentheses, so
    // count the fields after the last ')'. STATE, field 3, is the first.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> anyhow::Result<u64> {
        let text = fields
            .get(n - 3)
            .with_context(|| format!("{path} is too short"))?;
        text.parse()
            .with_context(|| format!("field {n} of {path} is not a number"))
    };
    Ok(field(14)? + field(15)?)
}

/// The resident memory of process `pid` in KiB (VmRSS in /proc/PID/status).
fn rss_kib(pid: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status =
        fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("no VmRSS in {path}"))
}

/// Clock ticks per second, the unit of the CPU times in /proc. The C
/// library knows it (sysconf); without a C binding we ask `getconf`, and
/// fall back on 100, the value on every Linux system in common use.
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}

fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1000.0
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        addr: DEFAULT_ADDR.to_string(),
        connections: 10,
        size: 64,
        round_trips: 1_000_000,
        total: None,
        duration: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        expect_prefix: None,
        server_pid: None,
    };
    let mut addr_given = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Short('c') | Arg::Long("connections") => {
                options.connections =
                    within(args.value("--connections")?, 1, 10_000, "--connections")?;
            }
            Arg::Short('s') | Arg::Long("size") => {
                options.size = within(args.value("--size")?, 1, 1 << 20, "--size")?;
            }
            Arg::Short('n') | Arg::Long("round-trips") => {
                let n =
                    within(args.value("--round-trips")?, 1, usize::MAX, "--round-trips")?;
                options.round_trips = n as u64;
            }
            Arg::Long("total") => {
                let n = within(args.value("--total")?, 1, usize::MAX, "--total")?;
                options.total = Some(n as u64);
            }
            Arg::Long("duration") => {
                options.duration =
                    seconds(args.value("--duration")?, 3600.0, "--duration")?;
            }
            Arg::Long("timeout") => {
                options.timeout = seconds(args.value("--timeout")?, 600.0, "--timeout")?;
            }
            Arg::Long("expect-prefix") => {
                let prefix: String = args.value("--expect-prefix")?;
                options.expect_prefix = Some(prefix.into_bytes());
            }
            Arg::Long("server-pid") => {
                let pid = within(
                    args.value("--server-pid")?,
                    1,
                    u32::MAX as usize,
                    "--server-pid",
                )?;
                options.server_pid = Some(pid as u32);
            }
            Arg::Value(value) if !addr_given => {
                options.addr = course::cli::parse_addr(value)?;
                addr_given = true;
            }
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(options)
}

/// `value` if it lies from `low` to `high`, else a usage error naming it.
fn within(
    value: usize,
    low: usize,
    high: usize,
    name: &str,
) -> Result<usize, UsageError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(UsageError(format!(
            "invalid value \"{value}\" for {name}: expected {low} to {high}"
        )))
    }
}

/// A number of seconds from 0.1 to `high`, which may have a fraction.
fn seconds(value: f64, high: f64, name: &str) -> Result<Duration, UsageError> {
    if (0.1..=high).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(UsageError(format!(
            "invalid value \"{value}\" for {name}: expected 0.1 to {high} seconds"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles_are_close_to_the_exact_ones() {
        let mut histogram = Histogram::new();
        // Times from 1 µs to about 40 ms, unevenly spread.
        let mut exact: Vec<u64> = (1..=20_000u64).map(|i| 1000 + i * i / 10).collect();
        for &v in &exact {
            histogram.record(v);
        }
        exact.sort_unstable();
        for p in [1.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            let rank = ((p / 100.0) * exact.len() as f64).ceil() as usize;
            let want = exact[rank - 1] as f64;
            let got = histogram.percentile(p) as f64;
            assert!((got - want).abs() / want < 0.004, "p{p}: {got} vs {want}");
        }
        assert_eq!(histogram.max, *exact.last().expect("values"));
        assert_eq!(Histogram::new().percentile(50.0), 0);
    }

    #[test]
    fn buckets_are_contiguous_and_cover_their_values() {
        let mut last = 0;
        for v in (0..100_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let i = bucket(v);
            assert!(i == last || i == last + 1 || v > 100_000, "gap at {v}");
            last = i;
            let (low, width) = bucket_range(i);
            assert!(low <= v && v - low < width, "{v} not in bucket {i}");
        }
    }

    #[test]
    fn echoes_in_one_piece_or_several() {
        let message = message(20);
        assert_eq!(message, b"0123456789abcdefghi\n");
        let prefix = "收到你的消息".as_bytes();
        let whole = [prefix, &message].concat();
        assert!(is_echo(&whole, &message, prefix));
        let pieces = [prefix, &message[..8], prefix, &message[8..]].concat();
        assert!(is_echo(&pieces, &message, prefix));
        assert!(is_echo(&message, &message, b""));
        assert!(!is_echo(&message, &message, prefix));
        assert!(!is_echo(
            &[prefix, &message[..8]].concat(),
            &message,
            prefix
        ));
        let wrong = [prefix, b"0123456789abcdefghX\n"].concat();
        assert!(!is_echo(&wrong, &message, prefix));
    }

    #[test]
    fn reads_its_own_cpu_time_and_memory() {
        assert!(cpu_ticks("self").is_ok());
        assert!(rss_kib("self").is_ok_and(|kib| kib > 0));
        assert!(clock_ticks_per_second() > 0);
    }
}

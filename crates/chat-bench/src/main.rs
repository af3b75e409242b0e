//! Measures a chat server's fan-out: N listeners join the room, one talker
//! sends M messages one after another, and every listener notes when each
//! message reached it. Prints the deliveries per second and the p50, p99 and
//! largest delivery latency.
//!
//! Not a lesson of its own, but worth reading after lesson 04: many
//! connections watched by one thread (mio, the event loop under tokio), and
//! percentiles. `scripts/bench-chat` runs
//! it against chat-server and a Python server of the seed's shape. By hand:
//!
//! ```text
//! cargo run --release -p chat-server -- 127.0.0.1:9999 --max-clients 2000
//! cargo run --release -p chat-bench -- 127.0.0.1:9999 --clients 100 --messages 200
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use course::cli::{Arg, Args};
use course::UsageError;
use mio::{Events, Interest, Poll, Token};

/// Where the chat server listens by default.
const DEFAULT_ADDR: &str = "127.0.0.1:9999";

const HELP: &str = "\
chat-bench: measure a chat server's fan-out (lesson 04)

Usage: chat-bench [ADDR] [OPTIONS]

N listeners join the room; a talker sends M messages, keeping at most W of
them on their way (sent, but not yet received by every listener). Reports
deliveries per second and the delivery latency (p50, p99, max).

Arguments:
  ADDR  host:port of the chat server [default: 127.0.0.1:9999]

Options:
  -c, --clients N      listeners, 1 to 5000 [default: 100]
  -m, --messages M     messages the talker sends, 1 to 100000 [default: 200]
  -w, --window W       messages on their way at once, 1 to 32 [default: 8];
                       1 sends each message after the last one arrived
      --size BYTES     bytes of text in each message, 48 to 3000 [default: 64]
      --stalled        also join a client that never reads, with a tiny
                       receive buffer: a good server cuts it off and goes on
      --timeout SECS   the longest the whole run may take [default: 120]
  -h, --help           print this help

Example:
  chat-bench 127.0.0.1:9999 --clients 1000 --messages 100
";

/// What the command line asked for.
struct Options {
    addr: String,
    clients: usize,
    messages: usize,
    window: usize,
    size: usize,
    stalled: bool,
    timeout: Duration,
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
    let deadline = Instant::now() + options.timeout;
    let (clients, messages) = (options.clients, options.messages);

    // A client that joins and then never reads: its small receive buffer
    // fills after a few kilobytes. Kept open until the end of the run.
    let _stalled = if options.stalled {
        Some(join_stalled(target)?)
    } else {
        None
    };

    // Nicknames unique to this run: a run right after another may find the
    // last run's members still leaving the room.
    let run_id = std::process::id();

    // The listeners join one by one; then one thread watches all of them.
    let mut poll = Poll::new()?;
    let mut listeners = Vec::with_capacity(clients);
    for i in 0..clients {
        let mut listener = join(target, &format!("l{run_id}-{i}"))?;
        poll.registry()
            .register(&mut listener.stream, Token(i), Interest::READABLE)?;
        listeners.push(listener);
    }
    // The talker gets its own messages back; it must read them too, or a
    // server that cuts off clients that don't read would cut it off.
    let talker_nick = format!("talker{run_id}");
    let from_talker = format!("] {talker_nick}: t");
    let mut talker = join(target, &talker_nick)?;
    poll.registry()
        .register(&mut talker.stream, Token(clients), Interest::READABLE)?;

    let padding = "x".repeat(options.size.saturating_sub(36));
    let clock = Instant::now();
    // How many listeners have each message, and how many messages every
    // listener has.
    let mut arrivals = vec![0usize; messages];
    let mut complete = 0;
    let mut sent = 0;
    let mut latencies = Vec::with_capacity(clients * messages);
    let mut events = Events::with_capacity(1024);
    while complete < messages {
        while sent < messages && sent - complete < options.window {
            let stamp = clock.elapsed().as_nanos();
            let line = format!("t{stamp:020} k{sent:06} {padding}\n");
            write_all(&mut talker.stream, line.as_bytes(), deadline)?;
            sent += 1;
        }
        if Instant::now() > deadline {
            bail!("timed out: {complete} of {messages} messages reached every listener");
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            let Token(i) = event.token();
            if i == clients {
                talker.read_lines(|_| Ok(()))?;
                continue;
            }
            listeners[i].read_lines(|line| {
                // A message from the talker: "[time] talker<id>: t<stamp> k<index> ..."
                let Some(rest) = line.split(from_talker.as_str()).nth(1) else {
                    return Ok(());
                };
                let (Some(stamp), Some(index)) = (rest.get(..20), rest.get(22..28))
                else {
                    return Ok(());
                };
                let sent_at = Duration::from_nanos(stamp.parse()?);
                latencies.push(clock.elapsed().saturating_sub(sent_at));
                let index: usize = index.parse()?;
                let count = arrivals.get_mut(index).context("a message out of range")?;
                *count += 1;
                if *count == clients {
                    complete += 1;
                }
                Ok(())
            })?;
        }
    }
    let elapsed = clock.elapsed();

    latencies.sort_unstable();
    let deliveries = latencies.len();
    let rate = deliveries as f64 / elapsed.as_secs_f64();
    println!(
        "clients {clients} messages {messages} window {} size {}{}: {deliveries} \
         deliveries in {:.3} s, {rate:.0} deliveries/s, latency p50 {:.3} ms p99 {:.3} ms \
         max {:.3} ms",
        options.window,
        options.size,
        if options.stalled { " stalled" } else { "" },
        elapsed.as_secs_f64(),
        millis(percentile(&latencies, 50.0)),
        millis(percentile(&latencies, 99.0)),
        millis(latencies.last().copied().unwrap_or_default()),
    );
    Ok(())
}

/// One connection of the benchmark, non-blocking, with the bytes of a line
/// not yet complete.
struct Member {
    stream: mio::net::TcpStream,
    partial: Vec<u8>,
}

impl Member {
    /// Reads what is there (until the socket would block) and hands each
    /// complete line to `each`.
    fn read_lines(
        &mut self,
        mut each: impl FnMut(&str) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut buf = [0; 64 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => bail!("the server closed a connection"),
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err.into()),
            }
        }
        let mut start = 0;
        while let Some(end) = self.partial[start..].iter().position(|&b| b == b'\n') {
            each(&String::from_utf8_lossy(&self.partial[start..start + end]))?;
            start += end + 1;
        }
        self.partial.drain(..start);
        Ok(())
    }
}

/// Connects, sends `nick`, waits until the room has announced us, and
/// returns the connection made non-blocking.
fn join(target: SocketAddr, nick: &str) -> anyhow::Result<Member> {
    let stream = TcpStream::connect_timeout(&target, Duration::from_secs(10))
        .with_context(|| format!("cannot connect to {target}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_nodelay(true)?;
    (&stream).write_all(format!("{nick}\n").as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let announced = format!("{nick} joined");
    while !line.contains(&announced) {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("{nick}: the server closed the connection before we joined");
        }
        // The server refused the nickname (or something else): say so now
        // rather than wait for its nickname deadline.
        if line.starts_with("! ") {
            bail!("{nick}: the server said {}", line.trim_end());
        }
    }
    // Whatever the reader already buffered past our join line is kept.
    let partial = reader.buffer().to_vec();
    let stream = reader.into_inner();
    stream.set_nonblocking(true)?;
    Ok(Member {
        stream: mio::net::TcpStream::from_std(stream),
        partial,
    })
}

/// Connects with the smallest receive buffer the system allows and joins
/// as `stalled`, without reading anything after the greeting.
fn join_stalled(target: SocketAddr) -> anyhow::Result<socket2::Socket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(target),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_recv_buffer_size(1024)?;
    socket.connect_timeout(&target.into(), Duration::from_secs(10))?;
    socket.send(format!("stalled{}\n", std::process::id()).as_bytes())?;
    Ok(socket)
}

/// Writes all of `bytes` to a non-blocking socket, waiting briefly when its
/// buffer is full.
fn write_all(
    stream: &mut mio::net::TcpStream,
    mut bytes: &[u8],
    deadline: Instant,
) -> anyhow::Result<()> {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    bail!("timed out writing to the server");
                }
                thread::sleep(Duration::from_micros(50));
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// The p-th percentile of sorted values (nearest rank).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Reads the command line into [`Options`].
fn parse_args() -> Result<Options, UsageError> {
    let mut args = Args::from_env(HELP);
    let mut options = Options {
        addr: DEFAULT_ADDR.to_string(),
        clients: 100,
        messages: 200,
        window: 8,
        size: 64,
        stalled: false,
        timeout: Duration::from_secs(120),
    };
    let mut addr_given = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Short('c') | Arg::Long("clients") => {
                options.clients = within(args.value("--clients")?, 1, 5000, "--clients")?;
            }
            Arg::Short('m') | Arg::Long("messages") => {
                options.messages =
                    within(args.value("--messages")?, 1, 100_000, "--messages")?;
            }
            Arg::Short('w') | Arg::Long("window") => {
                options.window = within(args.value("--window")?, 1, 32, "--window")?;
            }
            Arg::Long("size") => {
                options.size = within(args.value("--size")?, 48, 3000, "--size")?;
            }
            Arg::Long("stalled") => options.stalled = true,
            Arg::Long("timeout") => {
                let secs = within(args.value("--timeout")?, 1, 3600, "--timeout")?;
                options.timeout = Duration::from_secs(secs as u64);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&ms, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&ms[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}

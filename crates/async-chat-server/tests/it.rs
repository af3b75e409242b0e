//! async-chat-server as a real process over 127.0.0.1. It is a drop-in
//! replacement for lesson 04's chat-server, so it runs lesson 04's whole
//! suite (`testkit::chat`); the tests below are about what only this server
//! promises: a graceful shutdown on SIGINT and SIGTERM, within its deadline
//! even when a member does not read, no task that blocks the others, and
//! the `--runtime` flag.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::chat::Chatter;
use testkit::Server;

const EXE: &str = env!("CARGO_BIN_EXE_async-chat-server");

testkit::chat_suite!(EXE);

const NOTICE: &str = "* 服务器正在关闭 (the server is shutting down)\n";

/// Sends `signal` (INT, TERM) to the server, our own child, with kill(1).
fn send_signal(server: &Server, signal: &str) {
    let pid = server.process.pid().to_string();
    let status = Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -s {signal} {pid}: {status}");
}

/// Three members and one client in the middle of its nickname: on `signal`
/// every member hears the notice as its last line and sees the connection
/// close, the half-named client is closed too, and the server exits 0
/// within 5 s, saying what it did.
fn shuts_down_gracefully_on(signal: &str) {
    let mut server = Server::start(EXE);
    let mut members: Vec<_> = ["ann", "ben", "cai"]
        .iter()
        .map(|nick| Chatter::join(&server, nick))
        .collect();
    members[0].send("before the end\n");
    for member in &mut members {
        member.wait_for("ann: before the end");
    }
    let mut naming = Chatter::connect(&server);
    naming.send("hal"); // No newline yet: still choosing.
    let start = Instant::now();
    send_signal(&server, signal);
    for member in &mut members {
        member.wait_for(NOTICE.trim_end());
        assert_eq!(member.read_to_end(), "", "nothing after the notice");
    }
    // The half-named client is told too, then closed.
    assert_eq!(naming.read_to_end(), NOTICE);
    let done = server.process.wait();
    done.expect_code(0);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    if !done
        .stdout
        .contains(&format!("{signal}: shutting down, telling 3 members"))
    {
        done.fail("no shutdown line naming the signal and the members");
    }
    if !done.stdout.contains("every connection closed") {
        done.fail("the connections did not all close before the deadline");
    }
}

#[test]
fn sigint_tells_every_member_closes_everything_and_exits_0() {
    shuts_down_gracefully_on("INT");
}

#[test]
fn sigterm_does_the_same() {
    shuts_down_gracefully_on("TERM");
}

/// Bytes the server's socket `server` -> `client` holds unacknowledged (its
/// send queue), from /proc/net/tcp: the kernel's side of a member's output.
fn send_queue(server: SocketAddr, client: SocketAddr) -> u64 {
    let hex = |addr: SocketAddr| format!(":{:04X}", addr.port());
    let table = fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|f| {
            f.len() > 4 && f[1].ends_with(&hex(server)) && f[2].ends_with(&hex(client))
        })
        .and_then(|f| u64::from_str_radix(f[4].split(':').next()?, 16).ok())
        .unwrap_or_else(|| panic!("no socket {server} -> {client} in /proc/net/tcp"))
}

/// A member that does not read has its socket's send queue full and some
/// 60 KB more waiting in its outbox (under the 256 KiB that would cut it
/// off) when the shutdown starts, with a write timeout of 60 s: the reader
/// still hears the notice, and the server exits 0 at its 2 s flush
/// deadline, not when that member's write would time out.
#[test]
fn a_member_that_does_not_read_does_not_hold_up_the_exit() {
    let mut server = Server::start_with(EXE, &["127.0.0.1:0", "--write-timeout", "60"]);
    let stalled = testkit::connect_with_small_receive_buffer(server.addr);
    let stalled_addr = stalled.local_addr().expect("local address");
    (&stalled).write_all(b"stalled\n").expect("nick");
    let mut reader = Chatter::join(&server, "reader");
    reader.send("/who\n");
    reader.wait_for("* 在线 (here): stalled, reader");
    let mut talker = Chatter::join(&server, "talker");
    // Lines of 1,000 bytes, twenty at a time, until the kernel's send queue
    // to the stalled member stops growing: from then on its lines wait in
    // the server's outbox. Then three more rounds, about 60 KB of them.
    let line = "x".repeat(1000);
    let (mut before, mut extra) = (0, 0);
    for round in 0..400 {
        for i in 0..20 {
            talker.send(&format!("{round}-{i} {line}\n"));
        }
        reader.wait_for(&format!("talker: {round}-19 x"));
        talker.wait_for(&format!("talker: {round}-19 x"));
        let queued = send_queue(server.addr, stalled_addr);
        if queued == before {
            extra += 1;
            if extra == 3 {
                break;
            }
        }
        before = queued;
    }
    assert_eq!(extra, 3, "the send queue never filled");
    let start = Instant::now();
    send_signal(&server, "INT");
    reader.wait_for(NOTICE.trim_end());
    assert_eq!(reader.read_to_end(), "");
    let done = server.process.wait();
    done.expect_code(0);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
        "exit took {took:?}: expected the 2 s flush deadline"
    );
    if !done
        .stdout
        .contains("closing the connections left after 2s")
    {
        done.fail("the deadline was not what ended the shutdown");
    }
    if done.stdout.contains("stalled left") {
        done.fail("the stalled member was cut off before the shutdown");
    }
    drop(stalled);
}

/// The pitfall of lesson 13 is a task that blocks its thread (a blocking
/// read, `std::thread::sleep`): on one thread, every client would stall.
/// While one client sits in the middle of a nickname and another in the
/// middle of a line, and a third member does not read at all, two others
/// exchange 20 messages, each delivered within half a second.
#[test]
fn half_lines_and_a_silent_member_hold_up_nobody() {
    let server = Server::start(EXE);
    let mut naming = Chatter::connect(&server);
    naming.send("half a nick");
    let mut halfway = Chatter::join(&server, "halfway");
    halfway.send("half a line");
    let silent = testkit::connect_with_small_receive_buffer(server.addr);
    (&silent).write_all(b"silent\n").expect("nick");
    let mut ping = Chatter::join(&server, "ping");
    let mut pong = Chatter::join(&server, "pong");
    for i in 0..20 {
        let start = Instant::now();
        ping.send(&format!("round {i}\n"));
        pong.wait_for(&format!("ping: round {i}"));
        let took = start.elapsed();
        assert!(took < Duration::from_millis(500), "round {i} took {took:?}");
    }
    drop(silent);
}

/// A field of /proc/PID/status, like `Threads`.
fn status(pid: u32, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// `--runtime multi-thread` serves the same room on more threads, and shuts
/// down the same way; a runtime nobody knows is a bad argument.
#[test]
fn the_multi_thread_runtime_serves_the_same_room() {
    testkit::assert_bad_args(EXE, &["--runtime", "green"], "green");
    let mut server =
        Server::start_with(EXE, &["127.0.0.1:0", "--runtime", "multi-thread"]);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.send("on many threads\n");
    bob.wait_for("alice: on many threads");
    let threads: u32 = status(server.process.pid(), "Threads")
        .parse()
        .expect("a number");
    assert!(threads > 1, "{threads} thread(s)");
    send_signal(&server, "TERM");
    for member in [&mut alice, &mut bob] {
        member.wait_for(NOTICE.trim_end());
    }
    server.process.wait().expect_code(0);
}

/// The listener closes before the members are told: once a member has the
/// notice, a new connection is refused.
#[test]
fn no_one_gets_in_after_the_shutdown_starts() {
    let mut server = Server::start(EXE);
    let mut member = Chatter::join(&server, "last");
    send_signal(&server, "INT");
    member.wait_for(NOTICE.trim_end());
    let late = std::net::TcpStream::connect_timeout(&server.addr, Duration::from_secs(5));
    let refused = late
        .as_ref()
        .is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionRefused);
    assert!(refused, "a connection after the notice: {late:?}");
    server.process.wait().expect_code(0);
}

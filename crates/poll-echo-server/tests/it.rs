//! poll-echo-server as a real process over 127.0.0.1: lessons 02-03's
//! protocol on one thread, backpressure, the hazards of an event loop
//! (edge triggering, resets, running out of file descriptors), and the
//! contract's error exits.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use testkit::{beside, exchange, run, Server};

const EXE: &str = env!("CARGO_BIN_EXE_poll-echo-server");

/// What the server puts before every echo.
const PREFIX: &str = testkit::echo::PREFIX;

/// The value of `field` (`Threads`, `VmRSS`) in /proc/PID/status, as a number.
fn status_field(server: &Server, field: &str) -> u64 {
    let path = format!("/proc/{}/status", server.process.pid());
    let status = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| server.process.fail(&format!("cannot read {path}: {err}")));
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| server.process.fail(&format!("no {field} in {path}")))
}

/// The CPU time (user + system) the server has used, in clock ticks.
fn cpu_ticks(server: &Server) -> u64 {
    let path = format!("/proc/{}/stat", server.process.pid());
    let stat = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| server.process.fail(&format!("cannot read {path}: {err}")));
    // Fields 14 and 15, counted after the ")" that ends the program's name.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (field(14), field(15)) {
        (Some(user), Some(system)) => user + system,
        _ => server.process.fail(&format!("cannot parse {path}: {stat}")),
    }
}

/// Sends bytes of `pattern` without ever reading, until the connection
/// takes nothing more for half a second (the server stopped reading and
/// every buffer between us is full) or `limit` bytes went. Returns how
/// many were sent.
fn send_until_stalled(stream: &mut TcpStream, pattern: &[u8], limit: usize) -> usize {
    stream.set_nonblocking(true).expect("nonblocking");
    let chunk: Vec<u8> = pattern.iter().copied().cycle().take(64 * 1024).collect();
    let mut sent = 0;
    let mut last_progress = Instant::now();
    let deadline = Instant::now() + testkit::TIMEOUT;
    while sent < limit && last_progress.elapsed() < Duration::from_millis(500) {
        assert!(
            Instant::now() < deadline,
            "still sending after {sent} bytes"
        );
        // Always continue the pattern where the last write stopped.
        let start = sent % pattern.len();
        match stream.write(&chunk[start..chunk.len() - pattern.len() + start]) {
            Ok(n) => {
                sent += n;
                last_progress = Instant::now();
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => panic!("send failed after {sent} bytes: {err}"),
        }
    }
    stream.set_nonblocking(false).expect("blocking");
    sent
}

#[test]
fn answers_every_message_and_logs_each_client() {
    testkit::echo::answers_every_message_and_logs_each_client(EXE);
}

#[test]
fn a_client_shaped_like_the_seeds_gets_one_reply_to_one_recv() {
    // The seeds' clients send text without a newline and make one
    // recv(1024): the reply must come whole, in one piece.
    let server = Server::start(EXE);
    let mut client = server.connect();
    client.write_all("你好".as_bytes()).expect("send");
    let mut buf = [0; 1024];
    let n = client.read(&mut buf).expect("one recv");
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "收到你的消息你好");
}

#[test]
fn the_lesson_03_client_works_against_it() {
    let server = Server::start(EXE);
    let client = beside(EXE, "v5-echo-client");
    let done = run(&client, &[&server.addr_arg()], "one\n二\n".as_bytes());
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息one\n收到你的消息二\n");

    let done = run(
        &client,
        &[&server.addr_arg(), "--connections", "100", "--hold", "2"],
        b"",
    );
    done.expect_code(0);
    if !done.stdout.contains("100 of 100 answered") {
        done.fail("not every connection was answered");
    }
}

#[test]
fn quiet_logs_clients_but_not_their_messages() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "-q"]);
    let mut client = server.connect();
    let me = client.local_addr().expect("local addr");
    assert_eq!(exchange(&mut client, "private\n"), "收到你的消息private\n");
    drop(client);
    server
        .process
        .wait_for_stdout(&format!("{me} disconnected"));
    let log = server.process.stdout();
    if log.contains("private") || !log.contains(&format!("{me} connected")) {
        server.process.fail("-q logs the client, never its message");
    }
}

#[test]
fn a_character_cut_between_two_reads_is_echoed_whole() {
    let server = Server::start(EXE);
    testkit::assert_split_character_echoed(&mut server.connect(), PREFIX);
}

#[test]
fn speaks_gbk_when_asked() {
    testkit::echo::speaks_gbk_when_asked(EXE);
}

#[test]
fn resets_garbage_and_half_closes_hurt_nobody() {
    testkit::echo::bad_clients_do_not_stop_the_server(EXE);
}

#[test]
fn listens_on_ipv6_loopback_when_asked() {
    testkit::echo::listens_on_ipv6_loopback_when_asked(EXE);
}

#[test]
fn one_thread_serves_fifty_clients_at_once() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--quiet"]);
    // All fifty connect and send before any reply is read.
    let mut clients: Vec<_> = (0..50).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i}\n").as_bytes())
            .expect("send");
    }
    for (i, client) in clients.iter_mut().enumerate().rev() {
        assert_eq!(
            String::from_utf8_lossy(&testkit::read_until(client, b"\n", 1024)),
            format!("收到你的消息client {i}\n")
        );
    }
    // All fifty are still connected, and one thread served them.
    assert_eq!(status_field(&server, "Threads"), 1);
    server
        .process
        .wait_for_stdout_count(" connected\n", clients.len());
    assert!(!server.process.stdout().contains("disconnected"));
}

#[test]
fn five_hundred_clients_at_once_then_all_leave_abruptly() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--quiet"]);
    let mut clients: Vec<_> = (0..500).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("{i}\n").as_bytes()).expect("send");
    }
    for (i, client) in clients.iter_mut().enumerate() {
        assert_eq!(
            String::from_utf8_lossy(&testkit::read_until(client, b"\n", 1024)),
            format!("收到你的消息{i}\n")
        );
    }
    // Each sends once more and resets at once, all together: many of the
    // server's wake-ups now hold a message and a reset for the same
    // connection, and writing the reply meets the reset.
    for client in &mut clients {
        client.write_all(b"and goodbye\n").expect("send");
    }
    for client in clients {
        testkit::reset(client);
    }
    let mut late = server.connect();
    assert_eq!(
        exchange(&mut late, "after the crowd\n"),
        "收到你的消息after the crowd\n"
    );
    assert_eq!(status_field(&server, "Threads"), 1);
}

#[test]
fn a_client_that_never_reads_is_held_back_not_cut_off() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--quiet"]);
    let mut hog = testkit::connect_with_small_receive_buffer(server.addr);
    let me = hog.local_addr().expect("local addr");
    let pattern = b"0123456789";
    // 64 MiB is more than every kernel buffer between us holds: if the
    // sends never stall, the server keeps reading what it cannot send.
    let limit = 64 << 20;
    let sent = send_until_stalled(&mut hog, pattern, limit);
    assert!(
        sent < limit,
        "the server read {sent} bytes it could not answer"
    );
    // It holds at most its 256 KiB of replies for the hog, not megabytes.
    let rss_kib = status_field(&server, "VmRSS");
    assert!(rss_kib < 16 * 1024, "the server holds {rss_kib} KiB");

    // Everyone else is served meanwhile.
    let mut other = server.connect();
    assert_eq!(exchange(&mut other, "anyone?\n"), "收到你的消息anyone?\n");
    let done = run(
        &beside(EXE, "v5-echo-client"),
        &[&server.addr_arg()],
        b"me too\n",
    );
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息me too\n");

    // The hog starts reading: it gets an answer to every byte it sent, in
    // order, each piece after the prefix (all of whose bytes are not ASCII).
    let mut payload = Vec::with_capacity(sent);
    let mut prefix_bytes = 0;
    let mut buf = vec![0; 64 * 1024];
    while payload.len() < sent {
        let n = match hog.read(&mut buf) {
            Ok(0) => panic!("closed after {} of {sent} bytes", payload.len()),
            Ok(n) => n,
            Err(err) => panic!("read failed after {} of {sent}: {err}", payload.len()),
        };
        for &b in &buf[..n] {
            if b.is_ascii() {
                payload.push(b);
            } else {
                prefix_bytes += 1;
            }
        }
    }
    assert_eq!(payload.len(), sent);
    assert!(
        payload
            .iter()
            .zip(pattern.iter().cycle())
            .all(|(a, b)| a == b),
        "the echo is not what was sent"
    );
    assert_eq!(prefix_bytes % PREFIX.len(), 0);
    // And the connection is still fine.
    hog.set_read_timeout(Some(testkit::TIMEOUT))
        .expect("timeout");
    assert_eq!(
        exchange(&mut hog, "\nstill here\n"),
        "收到你的消息\nstill here\n"
    );
    assert!(!server.process.stdout().contains(&format!("{me} dropped")));
}

#[test]
fn a_reset_in_the_middle_of_a_reply_drops_only_that_client() {
    let server = Server::start(EXE);
    let mut victim = testkit::connect_with_small_receive_buffer(server.addr);
    let me = victim.local_addr().expect("local addr");
    send_until_stalled(&mut victim, b"abc", 64 << 20);
    // The server has replies waiting for the victim; the victim resets.
    testkit::reset(victim);
    server.process.wait_for_stdout(&format!("{me} dropped"));
    let mut other = server.connect();
    assert_eq!(exchange(&mut other, "fine?\n"), "收到你的消息fine?\n");
}

#[test]
fn out_of_file_descriptors_it_pauses_then_recovers() {
    // The server may open 16 files: stdin, stdout, stderr, the listener,
    // the poller, and ten or so clients. `ulimit -n` in a shell that
    // then becomes the server (exec) sets that limit for it alone.
    let server = Server::start_with(
        "/bin/sh",
        &["-c", "ulimit -n 16 && exec \"$0\" 127.0.0.1:0", EXE],
    );
    let fds = format!("/proc/{}/fd", server.process.pid());
    // A new file gets the lowest free number, and numbers from 16 up are
    // refused; files inherited with higher numbers don't count.
    let below_limit = || {
        std::fs::read_dir(&fds)
            .unwrap_or_else(|err| {
                server.process.fail(&format!("cannot list {fds}: {err}"))
            })
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&fd| fd < 16)
            .count()
    };
    // Clients, each answered, until the server holds all 16 numbers.
    let mut clients = Vec::new();
    while below_limit() < 16 {
        assert!(clients.len() < 16, "{} files open", below_limit());
        let mut client = server.connect();
        let line = format!("client {}\n", clients.len());
        assert_eq!(exchange(&mut client, &line), format!("{PREFIX}{line}"));
        clients.push(client);
    }

    // One more: the kernel completes its handshake and queues it, but
    // accept() fails for want of a file descriptor.
    let mut late = server.connect();
    let late_addr = late.local_addr().expect("local addr");
    late.write_all(b"let me in\n").expect("send");
    server
        .process
        .wait_for_stdout("accept failed: Too many open files");

    // The server does not spin on the failing accept: over a second it
    // uses at most a few clock ticks (a busy loop would use about 100).
    let before = cpu_ticks(&server);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(&server) - before;
    assert!(used <= 10, "{used} clock ticks of CPU in one second");
    // The clients it has are still served; the late one still waits.
    assert_eq!(exchange(&mut clients[0], "ok?\n"), "收到你的消息ok?\n");
    if server
        .process
        .stdout()
        .contains(&format!("{late_addr} connected"))
    {
        server
            .process
            .fail("accepted a client beyond its limit of files");
    }

    // One leaves: the late client gets in and is answered.
    drop(clients.pop());
    assert_eq!(
        String::from_utf8_lossy(&testkit::read_until(&mut late, b"\n", 1024)),
        "收到你的消息let me in\n"
    );
    server.process.wait_for_stdout("accepting again");
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["19534"], "19534");
    testkit::assert_bad_args(EXE, &["127.0.0.1:port"], "127.0.0.1:port");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_bad_args(EXE, &["--threads", "4"], "--threads");
    testkit::assert_bad_args(EXE, &["127.0.0.1:0", "127.0.0.1:1"], "127.0.0.1:1");
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    testkit::assert_port_in_use(EXE);
}

#[test]
fn the_would_block_example_shows_what_the_notes_say() {
    // `cargo test` builds the package's examples beside its programs.
    let example = std::path::Path::new(EXE)
        .with_file_name("examples")
        .join(format!("would-block{}", std::env::consts::EXE_SUFFIX));
    let done = run(&example.to_string_lossy(), &[], b"");
    done.expect_code(0);
    for line in [
        "nonblocking read: returned at once: Err(WouldBlock)",
        "poll: token 1 is readable: true",
        "read: Ok(6) bytes",
        "read again: Err(WouldBlock)",
        "poll again for 0.5 s: 0 events",
        "yet they are there: Ok(6) bytes",
        "after the client closed: Ok(0)",
    ] {
        if !done.stdout.contains(line) {
            done.fail(&format!("does not print {line:?}"));
        }
    }
}

/// Reads until the server closes the connection; returns what came.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => String::from_utf8_lossy(&all).into_owned(),
        Err(err) => panic!("not closed: {err} (after {all:?})"),
    }
}

/// The answer to exercise 2 is still the echo server of the lesson.
mod answer_12_2_is_still_the_echo_server {
    fn exe() -> String {
        testkit::example("answer-12-2")
    }

    #[test]
    fn answers_every_message_and_logs_each_client() {
        testkit::echo::answers_every_message_and_logs_each_client(&exe());
    }

    #[test]
    fn resets_garbage_and_half_closes_hurt_nobody() {
        testkit::echo::bad_clients_do_not_stop_the_server(&exe());
    }

    #[test]
    fn speaks_gbk_when_asked() {
        testkit::echo::speaks_gbk_when_asked(&exe());
    }
}

#[test]
fn answer_12_2_a_silent_client_is_told_goodbye_and_a_talking_one_is_not() {
    let exe = testkit::example("answer-12-2");
    let server = Server::start_with("env", &["IDLE_SECS=1", &exe, "127.0.0.1:0"]);
    server
        .process
        .wait_for_stdout("clients idle for 1 s are told goodbye");

    // A client that speaks every 300 ms, for twice the limit, is never idle.
    let mut talker = server.connect();
    let talking = std::thread::spawn(move || {
        let mut last_sent = Instant::now();
        for i in 0..7 {
            let line = format!("{i}\n");
            last_sent = Instant::now();
            assert_eq!(exchange(&mut talker, &line), format!("{PREFIX}{line}"));
            std::thread::sleep(Duration::from_millis(300));
        }
        // Then it falls silent: its goodbye comes a second after the server
        // heard its last line.
        let rest = read_to_close(&mut talker);
        (rest, last_sent.elapsed())
    });

    // A client that connects and says nothing is told so after a second,
    // and closed; so are 200 more at once, each with its own line.
    let started = Instant::now();
    let mut silent = server.connect();
    let me = silent.local_addr().expect("local addr");
    let mut crowd: Vec<_> = (0..200).map(|_| server.connect()).collect();
    assert_eq!(read_to_close(&mut silent), "idle for 1 s, goodbye\n");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    for stream in &mut crowd {
        assert_eq!(read_to_close(stream), "idle for 1 s, goodbye\n");
    }
    server
        .process
        .wait_for_stdout(&format!("{me} idle for 1 s: closed"));

    let (rest, quiet) = talking.join().expect("the talker");
    assert_eq!(rest, "idle for 1 s, goodbye\n");
    assert!(
        quiet >= Duration::from_millis(900),
        "closed after {quiet:?}"
    );
    assert!(quiet < Duration::from_secs(5), "closed after {quiet:?}");

    // And the server goes on.
    let mut late = server.connect();
    assert_eq!(
        exchange(&mut late, "still here?\n"),
        "收到你的消息still here?\n"
    );
    assert_eq!(status_field(&server, "Threads"), 1);
}

#[test]
fn answer_12_2_waits_30_s_by_default_and_refuses_a_bad_idle_secs() {
    let exe = testkit::example("answer-12-2");
    let server = Server::start(&exe);
    server
        .process
        .wait_for_stdout("clients idle for 30 s are told goodbye");
    let mut silent = server.connect();
    silent
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    let mut buf = [0; 64];
    match silent.read(&mut buf) {
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
        }
        other => panic!("a silent client got {other:?} within 1.5 s"),
    }

    let done = run("env", &["IDLE_SECS=0", &exe, "127.0.0.1:0"], b"");
    done.expect_code(1);
    if !done
        .stderr
        .contains("IDLE_SECS=\"0\": want whole seconds, 1 to 86400")
    {
        done.fail("a bad IDLE_SECS is one clear line");
    }
}

/// The answer's event loop is the lesson's, with lines added and none
/// changed: every line of the lesson's `event_loop` is in the answer's, in
/// the same order.
#[test]
fn answer_12_2_event_loop_is_the_lessons_with_lines_added() {
    testkit::assert_lines_kept(
        env!("CARGO_MANIFEST_DIR"),
        "fn event_loop(",
        "src/main.rs",
        &["examples/answer-12-2.rs"],
    );
}

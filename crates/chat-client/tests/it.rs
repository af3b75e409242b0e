//! chat-client as real processes against the real chat-server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread;

use testkit::{beside, run, Process, Server};

const EXE: &str = env!("CARGO_BIN_EXE_chat-client");

fn start_server() -> Server {
    Server::start(&beside(EXE, "chat-server"))
}

/// Starts a client and joins the room as `nick`.
fn join(server: &Server, nick: &str) -> Process {
    join_with(server, nick, &[])
}

/// Starts a client with `options` and joins the room as `nick`.
fn join_with(server: &Server, nick: &str, options: &[&str]) -> Process {
    let addr = server.addr_arg();
    let mut args = vec![addr.as_str()];
    args.extend_from_slice(options);
    let mut client = Process::spawn(EXE, &args);
    client.send_stdin(format!("{nick}\n").as_bytes());
    client.wait_for_stdout(&format!("* {nick} 加入了聊天室 ({nick} joined)"));
    client
}

#[test]
fn three_join_talk_one_quits_one_is_killed() {
    let server = start_server();
    let mut alice = join(&server, "alice");
    let mut bob = join(&server, "bob");
    let carol = join(&server, "carol");
    alice.wait_for_stdout("* carol 加入了聊天室");

    alice.send_stdin("hello everyone\n".as_bytes());
    for client in [&alice, &bob, &carol] {
        client.wait_for_stdout("] alice: hello everyone\n");
    }

    // bob leaves politely: QUIT, and his client exits 0.
    bob.send_stdin(b"QUIT\n");
    let bob_done = bob.wait();
    bob_done.expect_code(0);
    assert!(
        bob_done.stdout.contains("* 再见 (bye)"),
        "{}",
        bob_done.stdout
    );
    alice.wait_for_stdout("* bob已经离开了 (bob left: QUIT)");

    // carol's client is killed: the room is told all the same.
    drop(carol);
    alice.wait_for_stdout("* carol已经离开了 (carol left: ");

    // alice saw everything, in this order.
    let seen = alice.stdout();
    let order = [
        "* alice 加入了聊天室",
        "* bob 加入了聊天室",
        "* carol 加入了聊天室",
        "] alice: hello everyone",
        "* bob已经离开了",
        "* carol已经离开了",
    ];
    let positions: Vec<_> = order.iter().map(|needle| seen.find(needle)).collect();
    assert!(positions.iter().all(Option::is_some), "{seen}");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order:\n{seen}"
    );

    // The end of input leaves the room too.
    alice.close_stdin();
    alice.wait().expect_code(0);
}

#[test]
fn piped_input_joins_talks_and_leaves() {
    let server = start_server();
    let mut watcher = join(&server, "watcher");
    let done = run(
        EXE,
        &[&server.addr_arg()],
        "dave\nhi from a pipe\n".as_bytes(),
    );
    done.expect_code(0);
    assert!(
        done.stdout.contains("] dave: hi from a pipe\n"),
        "{}",
        done.stdout
    );
    watcher.wait_for_stdout("] dave: hi from a pipe\n");
    watcher.wait_for_stdout("* dave已经离开了 (dave left: QUIT)");
    watcher.close_stdin();
    watcher.wait().expect_code(0);
}

#[test]
fn a_server_that_goes_away_is_reported_and_exits_1() {
    let server = start_server();
    let mut erin = join(&server, "erin");
    // The server stops while erin is still in the room.
    drop(server);
    let done = erin.wait();
    done.expect_code(1);
    if !done
        .stderr
        .contains("chat-client: error: the server closed the connection")
    {
        done.fail("does not say the server went away");
    }
}

/// Lesson 13's server tells every member it is shutting down before it
/// closes (here on SIGINT): the client shows the notice and ends with 0, as
/// after QUIT, not as a server that went away.
#[test]
fn a_server_that_says_it_is_shutting_down_ends_the_visit_with_0() {
    let server = Server::start(&beside(EXE, "async-chat-server"));
    let mut erin = join(&server, "erin");
    let pid = server.process.pid().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-s", "INT", &pid])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -s INT {pid}: {kill}");
    let done = erin.wait();
    done.expect_code(0);
    if !done
        .stdout
        .contains("* 服务器正在关闭 (the server is shutting down)\n")
        || !done.stderr.contains("chat-client: the server shut down")
        || done.stderr.contains("error")
    {
        done.fail("should show the notice and end without an error");
    }
}

#[test]
fn piped_input_to_a_full_room_is_refused_and_exits_1() {
    let server = Server::start_with(
        &beside(EXE, "chat-server"),
        &["127.0.0.1:0", "--max-clients", "1"],
    );
    let mut holder = join(&server, "holder");
    // Piped input is all there at once: the client must not say QUIT (which
    // would make the server's close a normal end) before it has heard that
    // the room is full. Ten times, since the mistake is a race.
    for _ in 0..10 {
        let done = run(EXE, &[&server.addr_arg()], b"bob\nhi\n");
        done.expect_code(1);
        // The server closes; our lines, if they went out after the close,
        // may turn that into a reset. Either way we were not let in.
        let ended = done.stderr.contains("the server closed the connection")
            || done.stderr.contains("the connection broke");
        if !done.stdout.contains("聊天室已满 (the room is full)") || !ended {
            done.fail("should show the refusal and report the lost connection");
        }
    }
    holder.close_stdin();
    holder.wait().expect_code(0);
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["9999"], "9999");
    testkit::assert_bad_args(EXE, &["--nick", "x"], "--nick");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_refused(EXE, &[]);
    testkit::assert_unresolvable(EXE, &[]);
}

#[test]
fn chinese_round_trips_through_a_gbk_room() {
    use testkit::seed004::{HELLO, HELLO_GBK};
    let server = Server::start_with(
        &beside(EXE, "chat-server"),
        &["127.0.0.1:0", "--encoding", "gbk"],
    );
    let gbk = ["--encoding", "gbk"];
    let mut xiaohei = join_with(&server, "小黑", &gbk);
    let mut other = join_with(&server, "服务器", &gbk);
    xiaohei.wait_for_stdout("* 服务器 加入了聊天室 (服务器 joined)");

    // A raw peer in the room sees what the client put on the wire.
    let mut raw = BufReader::new(server.connect());
    let mut greeting = Vec::new();
    raw.read_until(b'\n', &mut greeting).expect("greeting");
    raw.get_mut().write_all(b"raw\n").expect("nick");
    xiaohei.wait_for_stdout("* raw 加入了聊天室 (raw joined)");

    // An emoji has no GBK bytes: reported, not sent; the next line is.
    xiaohei.send_stdin(format!("😀\n{HELLO}\n").as_bytes());
    xiaohei.wait_for_stderr("'😀' (U+1F600) cannot be written in GBK: line not sent");
    for client in [&xiaohei, &other] {
        client.wait_for_stdout(&format!("] 小黑: {HELLO}\n"));
    }
    let said = [b"] \xd0\xa1\xba\xda: ", HELLO_GBK, b"\n"].concat();
    let mut lines = Vec::new();
    for _ in 0..20 {
        let mut line = Vec::new();
        raw.read_until(b'\n', &mut line).expect("a line");
        let found = line.ends_with(&said);
        lines.push(line);
        if found {
            break;
        }
    }
    let messages: Vec<_> = lines.iter().filter(|l| l.starts_with(b"[")).collect();
    assert_eq!(messages.len(), 1, "{lines:?}");
    assert!(messages[0].ends_with(&said), "{lines:?}");

    xiaohei.close_stdin();
    xiaohei.wait().expect_code(0);
    other.wait_for_stdout("* 小黑已经离开了 (小黑 left: QUIT)");
    other.close_stdin();
    other.wait().expect_code(0);
}

/// A chat server of the test's own, for one client: it greets, reads the
/// nickname, sends `after_nick`, reads up to `QUIT`, and then either closes
/// (as a chat server does) or, if `stays` is set, keeps the connection open
/// until the client closes it. Returns its address and its thread.
fn scripted_server(
    after_nick: &'static [u8],
    stays: bool,
) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(testkit::TIMEOUT))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        writer.write_all(b"hello, nickname?\n").expect("greet");
        let mut nick = String::new();
        reader.read_line(&mut nick).expect("nickname");
        writer.write_all(after_nick).expect("send");
        for _ in 0..10 {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(n) if n > 0 && line.trim() != "QUIT" => {}
                _ => break,
            }
        }
        if stays {
            // Until the client closes (or the read timeout).
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
        }
    });
    (addr, server)
}

#[test]
fn a_hostile_servers_escape_sequences_are_shown_not_obeyed() {
    // What would clear the screen, retitle the window, ring the bell and
    // turn the text red (ESC and the one-character C1 CSI), and a lone \r
    // that would overwrite the line.
    let hostile = b"\x1b[2J\x1b]0;pwned\x07 \xc2\x9b31m red\rfake\tline\n";
    let (addr, server) = scripted_server(hostile, false);
    let done = run(EXE, &[&addr], b"me\n");
    server.join().expect("the hostile server");
    done.expect_code(0);
    let shown = &done.stdout;
    if shown.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']) {
        done.fail("a control character reached the terminal");
    }
    if !shown.contains("\\u{1b}[2J\\u{1b}]0;pwned\\u{7} \\u{9b}31m red\\rfake\tline\n") {
        done.fail("the hostile line is not shown escaped");
    }
}

#[test]
fn a_server_that_never_closes_after_quit_does_not_keep_the_client() {
    let (addr, server) = scripted_server(b"welcome\n", true);
    let mut client = Process::spawn(EXE, &[&addr]);
    client.send_stdin(b"me\n");
    // The receiving thread has printed this and is waiting for the next
    // bytes when QUIT goes out: a read timeout set after QUIT can't reach
    // that read.
    client.wait_for_stdout("welcome\n");
    let start = std::time::Instant::now();
    client.send_stdin(b"QUIT\n");
    client.wait().expect_code(0);
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    server.join().expect("the server");
}

// ---- Lesson 14: --find, against chat-server --announce, on loopback ----

/// A group of this test's own: the lesson's address with a port nobody else
/// uses now, so that tests running at once never find each other's rooms.
fn own_group() -> String {
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").expect("a probe socket");
    let port = probe.local_addr().expect("addr").port();
    format!("239.255.14.14:{port}")
}

/// chat-server on 127.0.0.1, announcing on `group`, with `options`.
fn announcing(group: &str, options: &[&str]) -> Server {
    let mut args = vec!["127.0.0.1:0", "--announce", "--group", group];
    args.extend_from_slice(options);
    let server = Server::start_with(&beside(EXE, "chat-server"), &args);
    server.process.wait_for_stdout("announcing on");
    server
}

/// A client that finds the room on `group` and joins it as `nick`.
fn find_and_join(group: &str, nick: &str) -> Process {
    let mut client = Process::spawn(EXE, &["--find", "--group", group]);
    client.send_stdin(format!("{nick}\n").as_bytes());
    client.wait_for_stdout(&format!("* {nick} 加入了聊天室 ({nick} joined)"));
    client
}

#[test]
fn find_connects_to_the_announced_room_without_an_address() {
    let group = own_group();
    let server = announcing(&group, &[]);
    let mut alice = find_and_join(&group, "alice");
    let bob = find_and_join(&group, "bob");
    alice.send_stdin(b"hello from alice\n");
    bob.wait_for_stdout("] alice: hello from alice\n");
    let found = format!(
        "found chat-server on {} (encoding UTF-8), announced from 127.0.0.1:",
        server.addr
    );
    for client in [&alice, &bob] {
        if !client.stderr().contains(&found) {
            client.fail(&format!("did not say {found:?}"));
        }
    }
    alice.send_stdin(b"QUIT\n");
    alice.wait().expect_code(0);
}

#[test]
fn find_takes_the_rooms_encoding() {
    let group = own_group();
    let _server = announcing(&group, &["--encoding", "gbk"]);
    // The client was given no --encoding: it speaks GBK because the beacon
    // said so, and the GBK room reads its nickname right.
    let client = find_and_join(&group, "小明");
    client.wait_for_stdout("* 欢迎 小明! (welcome)");
    assert!(
        client.stderr().contains("(encoding GBK)"),
        "{}",
        client.stderr()
    );
}

#[test]
fn a_beacon_for_another_host_or_garbage_is_passed_over() {
    let group = own_group();
    let target: std::net::SocketAddr = group.parse().expect("a group");
    let mut client = Process::spawn(EXE, &["--find", "--group", &group]);
    // Joined once it says it is looking.
    client.wait_for_stderr("looking for a chat server");
    let forger = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket2::SockRef::from(&forger)
        .set_multicast_if_v4(&std::net::Ipv4Addr::LOCALHOST)
        .expect("IP_MULTICAST_IF");
    for fake in [
        &b"\xff\xfe garbage"[..],
        b"chat-server on 127.0.0.1:1",
        b"chat-server on 127.0.0.2:9999 encoding utf-8",
        // From its own address, but with a room name no chat-server sends:
        // no beacon at all, and its bytes never reach the terminal.
        b"chat-server on 127.0.0.1:1 encoding utf-8 room \x1b[2Jbad",
        b"chat-server on 127.0.0.1:1 encoding utf-8 room two words",
        b"chat-server on 127.0.0.1:1 encoding utf-8 room \xe2\x80\xaelab",
    ] {
        forger.send_to(fake, target).expect("send");
    }
    client.wait_for_stderr("(ignored: 127.0.0.1:");
    let server = announcing(&group, &[]);
    client.send_stdin(b"carol\n");
    client.wait_for_stdout("* carol 加入了聊天室 (carol joined)");
    let err = client.stderr();
    assert!(
        err.contains("announced 127.0.0.2:9999, which is not its own address"),
        "{err}"
    );
    assert!(
        err.contains(&format!("connected to {}", server.addr)),
        "{err}"
    );
    assert!(!err.contains("127.0.0.1:1 ("), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
}

#[test]
fn find_with_no_server_is_exit_1_with_a_hint() {
    let group = own_group();
    let done = run(
        EXE,
        &["--find", "--group", &group, "--find-timeout", "0.3"],
        b"",
    );
    testkit::assert_fails(&done, "no chat server announced itself", Some("Wi-Fi"));
}

/// The `found chat-server on ...` lines a client printed, in order.
fn found_lines(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.starts_with("found ")).collect()
}

/// The address a `found chat-server on ADDR (...` line names.
fn found_addr(line: &str) -> &str {
    line.split_whitespace()
        .nth(3)
        .expect("found chat-server on ADDR")
}

#[test]
fn find_lists_every_room_heard_once_and_joins_the_first() {
    let group = own_group();
    let first = announcing(&group, &[]);
    let second = announcing(&group, &["--encoding", "gbk", "--room", "lab2"]);
    let done = run(EXE, &["--find", "--group", &group], b"zoe\nQUIT\n");
    done.expect_code(0);
    let err = &done.stderr;
    // Each room once, however many of its beacons came in the 1.5 s, in
    // whichever order they were heard.
    let found = found_lines(err);
    assert_eq!(found.len(), 2, "{err}");
    for (server, label) in [
        (&first, "(encoding UTF-8)"),
        (&second, "(room lab2, encoding GBK)"),
    ] {
        let line = format!(
            "found chat-server on {} {label}, announced from",
            server.addr
        );
        assert!(
            found.iter().any(|l| l.starts_with(&line)),
            "{line} in {err}"
        );
    }
    assert!(
        err.contains("2 rooms heard: joining the first (`--find ROOM` picks one)\n"),
        "{err}"
    );
    let joined = format!("connected to {}\n", found_addr(found[0]));
    assert!(err.contains(&joined), "{joined} in {err}");
    assert!(done.stdout.contains("* 欢迎 zoe!"), "{}", done.stdout);
}

#[test]
fn find_room_joins_the_room_of_that_name_or_address() {
    let group = own_group();
    let first = announcing(&group, &["--room", "lab1"]);
    let second = announcing(&group, &["--encoding", "gbk", "--room", "三班"]);
    for (wanted, server) in [
        ("三班".to_string(), &second),
        ("lab1".to_string(), &first),
        (second.addr.to_string(), &second),
    ] {
        let done = run(
            EXE,
            &["--find", &wanted, "--group", &group],
            "小明\nQUIT\n".as_bytes(),
        );
        done.expect_code(0);
        let err = &done.stderr;
        let joined = format!("connected to {}\n", server.addr);
        assert!(err.contains(&joined), "--find {wanted}: {joined} in {err}");
        // It stops listening at the room it wants: nothing is listed after it.
        let found = found_lines(err);
        assert_eq!(found_addr(found[found.len() - 1]), server.addr.to_string());
        assert!(done.stdout.contains("* 欢迎 小明!"), "{}", done.stdout);
    }
}

#[test]
fn find_room_that_nobody_announces_is_exit_1_naming_the_rooms_heard() {
    let group = own_group();
    let server = announcing(&group, &["--room", "lab1"]);
    let done = run(
        EXE,
        &["--find", "lab9", "--group", &group, "--find-timeout", "2"],
        b"",
    );
    let heard = format!(
        "the rooms heard: {} (room lab1, encoding UTF-8)",
        server.addr
    );
    testkit::assert_fails(&done, "no room lab9 announced itself", Some(&heard));
    // No room at all: the classroom's usual reasons.
    let silent = own_group();
    let done = run(
        EXE,
        &[
            "--find",
            "lab9",
            "--group",
            &silent,
            "--find-timeout",
            "0.3",
        ],
        b"",
    );
    testkit::assert_fails(&done, "no chat server announced itself", Some("Wi-Fi"));
}

#[test]
fn room_is_for_announce_and_a_plain_name() {
    let server = beside(EXE, "chat-server");
    testkit::assert_bad_args(&server, &["--room", "lab2"], "--room is for --announce");
    for bad in ["two words", "lab\u{1b}[2J", &"x".repeat(33)] {
        let done = run(&server, &["--announce", "--room", bad], b"");
        done.expect_code(2);
        let lines: Vec<&str> = done.stderr.lines().collect();
        if lines.len() != 1
            || !lines[0].contains("for --room: expected 1 to 32 characters")
        {
            done.fail("expected one stderr line about --room");
        }
        assert!(!done.stderr.contains('\u{1b}'), "{:?}", done.stderr);
    }
}

#[test]
fn find_arguments() {
    testkit::assert_bad_args(EXE, &["--find", "two words"], "\"two words\" for ROOM");
    testkit::assert_bad_args(EXE, &["--find", "lab1", "lab2"], "lab2");
    testkit::assert_bad_args(EXE, &["lab2"], "lab2");
    testkit::assert_bad_args(EXE, &["--find", "--find-on", "lo"], "lo");
    testkit::assert_bad_args(EXE, &["--find", "--find-timeout", "0"], "0");
    testkit::assert_bad_args(EXE, &["--find", "--group", "10.0.0.1:5"], "10.0.0.1:5");
    testkit::assert_bad_args(EXE, &["--find-on", "127.0.0.1"], "--find-on");
}

/// Exercise 2's answer: a room comes in with its first beacon, and goes when
/// its beacons stop, 3 s later; a room that goes on announcing stays.
#[test]
fn answer_14_2_watches_rooms_come_and_go() {
    let group = own_group();
    let mut watcher = Process::spawn(
        &testkit::example("answer-14-2"),
        &["--group", &group, "--for", "8"],
    );
    watcher.wait_for_stdout("watching for 8 s; a room not heard for 3 s is gone\n");
    let stays = announcing(&group, &[]);
    let goes = announcing(&group, &["--room", "lab2"]);
    let came = |server: &Server, label: &str| format!("+ {} {label}\n", server.addr);
    watcher.wait_for_stdout(&came(&stays, "(encoding UTF-8)"));
    let goes_label = format!("{} (room lab2, encoding UTF-8)", goes.addr);
    watcher.wait_for_stdout(&format!("+ {goes_label}\n"));
    let stopped = std::time::Instant::now();
    drop(goes);
    watcher.wait_for_stdout(&format!("- {goes_label}: not heard for 3 s\n"));
    // Not before 3 s of silence (its last beacon may be up to a second
    // older than the stop).
    assert!(stopped.elapsed() >= std::time::Duration::from_secs(2));
    let done = watcher.wait();
    done.expect_code(0);
    let out = &done.stdout;
    assert_eq!(out.matches("+ ").count(), 2, "{out}");
    assert_eq!(out.matches("- ").count(), 1, "{out}");
    let end = format!(
        "1 room(s) here at the end: {} (encoding UTF-8)\n",
        stays.addr
    );
    assert!(out.ends_with(&end), "{out}");
}

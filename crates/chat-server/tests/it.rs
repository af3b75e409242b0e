//! chat-server as a real process over 127.0.0.1, with raw-socket clients that
//! behave well and clients that behave badly.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use testkit::Server;

const EXE: &str = env!("CARGO_BIN_EXE_chat-server");

/// A raw-socket chat client for the tests.
struct Chatter {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Chatter {
    /// Connects and reads the greeting, without choosing a nickname.
    fn connect(server: &Server) -> Chatter {
        let stream = server.connect();
        let writer = stream.try_clone().expect("clone");
        let mut chatter = Chatter {
            reader: BufReader::new(stream),
            writer,
        };
        let greeting = chatter.line();
        assert!(greeting.starts_with("连接成功!,请输入昵称"), "{greeting:?}");
        chatter
    }

    /// Connects and joins as `nick`, reading up to its own join notice.
    fn join(server: &Server, nick: &str) -> Chatter {
        let mut chatter = Chatter::connect(server);
        chatter.send(&format!("{nick}\n"));
        chatter.wait_for(&format!("* {nick} 加入了聊天室"));
        chatter
    }

    fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).expect("send");
    }

    /// The next line from the server; fails the test at the end of stream.
    fn line(&mut self) -> String {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => panic!("the server closed the connection"),
            Ok(_) => String::from_utf8(line).expect("the server sends UTF-8"),
            Err(err) => panic!("no line from the server: {err}"),
        }
    }

    /// Reads lines until one contains `needle`; returns them all.
    fn wait_for(&mut self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        for _ in 0..100_000 {
            let line = self.line();
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
        panic!("never saw {needle:?}; saw {seen:?}");
    }

    /// Reads until the server closes the connection; returns what came.
    fn read_to_end(&mut self) -> String {
        let mut rest = String::new();
        match self.reader.read_to_string(&mut rest) {
            Ok(_) => rest,
            Err(err) if err.kind() == ErrorKind::ConnectionReset => rest,
            Err(err) => panic!("the server did not close the connection: {err}"),
        }
    }
}

#[test]
fn messages_go_to_everyone_with_name_and_time() {
    let server = Server::start(EXE);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.wait_for("* bob 加入了聊天室 (bob joined)");

    bob.send("hello, 你好\n");
    for chatter in [&mut alice, &mut bob] {
        let lines = chatter.wait_for("bob: hello, 你好");
        let line = lines.last().expect("a line");
        // [HH:MM:SS] bob: hello, 你好
        assert_eq!(&line[0..1], "[", "{line:?}");
        assert_eq!(&line[9..], "] bob: hello, 你好\n", "{line:?}");
    }

    alice.send("/who\n");
    alice.wait_for("* 在线 (here): alice, bob");

    alice.send("quit\n");
    alice.wait_for("再见");
    assert_eq!(alice.read_to_end(), "", "nothing after goodbye");
    bob.wait_for("* alice已经离开了 (alice left: QUIT)");
}

#[test]
fn nicknames_are_checked_and_may_be_tried_again() {
    let server = Server::start(EXE);
    let _alice = Chatter::join(&server, "alice");
    let mut other = Chatter::connect(&server);
    for (bad, why) in [
        ("\n", "昵称不能为空"),
        ("   \n", "昵称不能为空"),
        (&format!("{}\n", "长".repeat(33)), "昵称太长"),
        ("bad\u{1b}[2Jnick\n", "控制字符"),
        ("ALICE\n", "昵称已被占用"),
    ] {
        other.send(bad);
        let answer = other.line();
        assert!(
            answer.starts_with("! ") && answer.contains(why),
            "{bad:?}: {answer:?}"
        );
    }
    other.send(&format!("{}\n", "长".repeat(32)));
    other.wait_for("加入了聊天室");
}

#[test]
fn a_line_too_long_is_refused_and_never_sent() {
    let server = Server::start(EXE);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.wait_for("bob joined");

    bob.send(&format!("{}\n", "x".repeat(100_000)));
    bob.wait_for("! line too long");
    bob.send("short one\n");
    let seen = alice.wait_for("bob: short one");
    assert!(seen.iter().all(|l| !l.contains("xxx")), "{seen:?}");
}

#[test]
fn control_characters_never_reach_other_terminals() {
    let server = Server::start(EXE);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.wait_for("bob joined");
    bob.send("clear\u{1b}[2J\u{7}screen \u{9b}31m red\r\n");
    let line = alice.wait_for("bob: clear").pop().expect("line");
    assert!(
        !line.trim_end_matches('\n').chars().any(char::is_control),
        "{line:?}"
    );
    assert!(
        line.contains("clear\u{FFFD}[2J\u{FFFD}screen \u{FFFD}31m red\n"),
        "{line:?}"
    );
}

#[test]
fn invalid_utf8_resets_and_half_closes_do_not_hurt_the_room() {
    let server = Server::start(EXE);
    let mut watcher = Chatter::join(&server, "watcher");

    let mut garbage = Chatter::join(&server, "garbage");
    garbage.send("\u{0}");
    garbage.writer.write_all(b"\xff\xfe\xfd\n").expect("send");
    watcher.wait_for("garbage: \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}");

    // Reset: both handles on the socket must go, or it stays open.
    let Chatter { reader, writer } = Chatter::join(&server, "rude");
    drop(reader);
    testkit::reset(writer);
    watcher.wait_for("* rude已经离开了");

    let mut polite = Chatter::join(&server, "polite");
    polite.send("last words\n");
    polite.writer.shutdown(Shutdown::Write).expect("half-close");
    watcher.wait_for("polite: last words");
    watcher.wait_for("* polite已经离开了 (polite left: connection closed)");
    // The half-closed client still got everything up to its departure.
    assert!(polite.read_to_end().contains("polite: last words"));

    // A connection that resets before it even chose a nickname.
    testkit::reset(server.connect());

    let mut late = Chatter::join(&server, "late");
    late.send("all fine?\n");
    watcher.wait_for("late: all fine?");
}

#[test]
fn a_client_that_never_reads_is_cut_off_and_the_others_get_everything() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--write-timeout", "1"]);
    // The stalled client joins, then never reads again; its small receive
    // buffer fills after a few kilobytes.
    let stalled = testkit::connect_with_small_receive_buffer(server.addr);
    (&stalled).write_all(b"stalled\n").expect("nick");
    let listeners: Vec<_> = (0..50)
        .map(|i| Chatter::join(&server, &format!("l{i}")))
        .collect();
    let talker = Chatter::join(&server, "talker");

    // Each listener reads on its own thread, as a real client would: every
    // one of them keeps up. Each counts the messages it gets in order and
    // the notices that the stalled client was cut off.
    let notice = "* stalled已经离开了 (stalled left: ";
    let readers: Vec<_> = listeners
        .into_iter()
        .map(|mut listener| {
            thread::spawn(move || {
                let (mut next, mut notices) = (0, 0);
                loop {
                    let line = listener.line();
                    if line.starts_with(notice) {
                        notices += 1;
                    } else if line.contains(&format!("] talker: {next} m")) {
                        next += 1;
                    } else if line.contains("] talker: end") {
                        return (next, notices);
                    }
                }
            })
        })
        .collect();

    // 1,500 messages of 4 KB, 6 MB: more than the server's socket buffer
    // for the stalled client (up to 4 MB on Linux) and its 256 KiB outbox
    // hold together.
    // The talker gets its own messages back: it reads them on a thread of
    // its own too, or it would be the next client cut off for not reading.
    let message = "m".repeat(4000);
    let Chatter { reader, mut writer } = talker;
    let mut talker_ears = Chatter {
        reader,
        writer: writer.try_clone().expect("clone"),
    };
    let hearing = thread::spawn(move || {
        talker_ears.wait_for("] talker: end");
        talker_ears
    });
    for i in 0..1500 {
        writer
            .write_all(format!("{i} {message}\n").as_bytes())
            .expect("send");
    }
    writer.write_all(b"end\n").expect("send");
    for reader in readers {
        let (next, notices) = reader.join().expect("listener thread");
        assert_eq!(next, 1500, "messages lost or out of order");
        assert_eq!(notices, 1, "the cut-off was not announced exactly once");
    }
    let mut talker = hearing.join().expect("talker thread");
    talker.send("/who\n");
    let who = talker.wait_for("* 在线").pop().expect("who");
    assert!(!who.contains("stalled"), "{who:?}");
    drop(stalled);
}

#[test]
fn a_pasted_page_and_a_flood_cut_off_no_reader() {
    let server = Server::start(EXE);
    // Twenty readers, each reading on its own thread as fast as it can.
    let readers: Vec<_> = (0..20)
        .map(|i| {
            let mut reader = Chatter::join(&server, &format!("r{i}"));
            thread::spawn(move || {
                let seen = reader.wait_for("] paster: done");
                seen.iter()
                    .filter(|l| l.contains("] paster: line "))
                    .count()
            })
        })
        .collect();
    // The paster reads its own lines back on a thread of its own too.
    let Chatter { reader, mut writer } = Chatter::join(&server, "paster");
    let mut ears = Chatter {
        reader,
        writer: writer.try_clone().expect("clone"),
    };
    let hearing = thread::spawn(move || ears.wait_for("] paster: done").len());

    // A page of 500 short lines in one write, then 4 MB of long lines as
    // fast as the socket takes them.
    let page: String = (0..500).map(|i| format!("line {i}\n")).collect();
    let long = "z".repeat(4000);
    let flood: String = (0..1000).map(|i| format!("line {i}k {long}\n")).collect();
    writer.write_all(page.as_bytes()).expect("page");
    writer.write_all(flood.as_bytes()).expect("flood");
    writer.write_all(b"done\n").expect("done");

    // Every reader got every line: none was cut off for being slower than
    // the paster.
    for reader in readers {
        assert_eq!(
            reader.join().expect("reader thread"),
            1500,
            "a reader lost lines"
        );
    }
    hearing.join().expect("the paster's own lines");
}

#[test]
fn a_nickname_must_come_before_the_deadline_even_byte_by_byte() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--nick-timeout", "1"]);
    let mut slow = Chatter::connect(&server);
    let start = Instant::now();
    // One byte every 200 ms: each read succeeds, but the whole handshake
    // can't last longer than the deadline.
    let mut cut_off = false;
    for _ in 0..50 {
        if slow.writer.write_all(b"a").is_err() {
            cut_off = true;
            break;
        }
        thread::sleep(Duration::from_millis(200));
        slow.reader
            .get_ref()
            .set_nonblocking(true)
            .expect("nonblocking");
        let mut probe = [0; 256];
        let closed = match slow.reader.get_mut().read(&mut probe) {
            Ok(0) => true,
            Ok(n) => String::from_utf8_lossy(&probe[..n]).contains("too slow"),
            Err(err) => err.kind() != ErrorKind::WouldBlock,
        };
        slow.reader
            .get_ref()
            .set_nonblocking(false)
            .expect("blocking");
        if closed {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off, "a trickling client kept its connection for 10 s");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "cut off too early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "cut off too late: {took:?}");
}

#[test]
fn one_over_the_limit_is_told_the_room_is_full() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--max-clients", "3"]);
    let mut members: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|nick| Chatter::join(&server, nick))
        .collect();
    let mut extra = server.connect();
    let mut answer = String::new();
    extra
        .read_to_string(&mut answer)
        .expect("read until closed");
    assert!(
        answer.contains("聊天室已满 (the room is full)"),
        "{answer:?}"
    );

    // Someone leaves; there is room again, and the room went on.
    members.pop().expect("c").send("QUIT\n");
    members[0].wait_for("* c已经离开了");
    let mut d = None;
    for _ in 0..100 {
        // The leaving thread may not have ended yet: retry briefly.
        let stream = server.connect();
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut first = String::new();
        reader.read_line(&mut first).expect("first line");
        if first.starts_with("连接成功") {
            d = Some(stream);
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(d.is_some(), "no room after someone left");
}

#[test]
fn two_hundred_join_at_once_and_all_get_the_broadcast() {
    let server = Server::start(EXE);
    let mut crowd: Vec<_> = (0..200)
        .map(|i| {
            let mut c = Chatter::connect(&server);
            c.send(&format!("p{i}\n"));
            c
        })
        .collect();
    for (i, c) in crowd.iter_mut().enumerate() {
        c.wait_for(&format!("* p{i} 加入了聊天室"));
    }
    let mut announcer = Chatter::join(&server, "announcer");
    announcer.send("everyone there?\n");
    for c in &mut crowd {
        c.wait_for("announcer: everyone there?");
    }
}

#[test]
fn joins_and_leaves_are_each_announced_exactly_once_and_in_order() {
    let server = Server::start(EXE);
    let mut watcher = Chatter::join(&server, "watcher");
    let visitors: Vec<_> = (0..8)
        .map(|t| {
            let server_addr = server.addr;
            thread::spawn(move || {
                for i in 0..10 {
                    let stream = testkit::connect(server_addr);
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut writer = stream;
                    let mut greeting = String::new();
                    reader.read_line(&mut greeting).expect("greeting");
                    writer
                        .write_all(format!("v{t}-{i}\n").as_bytes())
                        .expect("nick");
                    if i % 2 == 0 {
                        writer.write_all(b"QUIT\n").expect("quit");
                        let mut rest = String::new();
                        let _ = reader.read_to_string(&mut rest);
                    } else {
                        testkit::reset(writer);
                    }
                }
            })
        })
        .collect();
    for visitor in visitors {
        visitor.join().expect("visitor thread");
    }
    // The server handles the last departures a moment after the visitors'
    // threads end: ask who is here until only the watcher is.
    let mut seen = Vec::new();
    for _ in 0..500 {
        watcher.send("/who\n");
        seen.extend(watcher.wait_for("* 在线 (here): "));
        if seen.last().is_some_and(|l| l == "* 在线 (here): watcher\n") {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    for t in 0..8 {
        for i in 0..10 {
            let nick = format!("v{t}-{i}");
            let joined = seen
                .iter()
                .filter(|l| **l == format!("* {nick} 加入了聊天室 ({nick} joined)\n"))
                .count();
            let left = seen
                .iter()
                .filter(|l| l.starts_with(&format!("* {nick}已经离开了")))
                .count();
            // A visitor that reset before the server read its nickname
            // never joined; every other joined and left once, in that order.
            assert!(joined <= 1 && joined == left, "{nick}: {seen:?}");
            if joined == 1 {
                let arrival = seen
                    .iter()
                    .position(|l| l.starts_with(&format!("* {nick} 加入")));
                let departure = seen
                    .iter()
                    .position(|l| l.starts_with(&format!("* {nick}已经")));
                assert!(arrival < departure, "{nick} left before arriving: {seen:?}");
            }
        }
    }
}

#[test]
fn help_bad_arguments_and_a_port_in_use() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["9999"], "9999");
    testkit::assert_bad_args(EXE, &["--max-clients", "0"], "0");
    testkit::assert_bad_args(EXE, &["--nick-timeout", "soon"], "soon");
    testkit::assert_bad_args(EXE, &["--write-timeout", "0"], "0");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_port_in_use(EXE);
}

/// A raw chat client for a room started with `--encoding gbk`: it sends and
/// reads bytes, and decodes lines as GBK only to find what it waits for.
struct GbkChatter {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl GbkChatter {
    /// Connects, checks the greeting came in GBK, and joins as `nick`
    /// (given in GBK, and as text).
    fn join(server: &Server, nick_gbk: &[u8], nick: &str) -> GbkChatter {
        let stream = server.connect();
        let writer = stream.try_clone().expect("clone");
        let mut chatter = GbkChatter {
            reader: BufReader::new(stream),
            writer,
        };
        let greeting = chatter.line();
        assert_eq!(
            greeting,
            gbk()
                .encode("连接成功!,请输入昵称 (connected: please type a nickname)\n")
                .expect("GBK")
        );
        chatter.send(&[nick_gbk, b"\n"].concat());
        chatter.wait_for(&format!("* {nick} 加入了聊天室 ({nick} joined)"));
        chatter
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// The next line's bytes; fails the test at the end of stream.
    fn line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => panic!("the server closed the connection"),
            Ok(_) => line,
            Err(err) => panic!("no line from the server: {err}"),
        }
    }

    /// Reads lines until one, read as GBK, contains `needle`; returns its
    /// bytes.
    fn wait_for(&mut self, needle: &str) -> Vec<u8> {
        let mut seen = Vec::new();
        for _ in 0..1000 {
            let line = self.line();
            let mut decoder = gbk().decoder();
            let text = decoder.decode(&line) + &decoder.finish();
            if text.contains(needle) {
                return line;
            }
            seen.push(text);
        }
        panic!("never saw {needle:?}; saw {seen:?}");
    }
}

fn gbk() -> course::Charset {
    course::Charset::parse("gbk").expect("gbk")
}

#[test]
fn a_gbk_room_reads_and_writes_gbk() {
    use testkit::seed004::{HELLO, HELLO_GBK, REPLY_GBK};
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--encoding", "gbk"]);
    // 小黑 and 服务器, in GBK as seed 004 prints them.
    let xiaohei = b"\xd0\xa1\xba\xda";
    let fuwuqi = &REPLY_GBK[4..];
    let mut alice = GbkChatter::join(&server, xiaohei, "小黑");
    let mut bob = GbkChatter::join(&server, fuwuqi, "服务器");
    alice.wait_for("* 服务器 加入了聊天室");

    // [HH:MM:SS] 小黑: 你好服务端，我是客户端小黑!
    alice.send(&[HELLO_GBK, b"\n"].concat());
    for chatter in [&mut alice, &mut bob] {
        let line = chatter.wait_for(&format!("小黑: {HELLO}"));
        assert_eq!(line[0], b'[');
        assert_eq!(
            line[9..],
            [b"] ", &xiaohei[..], b": ", HELLO_GBK, b"\n"].concat()
        );
    }
    server
        .process
        .wait_for_stdout(&format!("小黑: \"{HELLO}\""));

    // Bytes that are not GBK: U+FFFD on the server, `?` for the others, and
    // the room goes on.
    bob.send(b"\x81\x20x\n");
    let line = alice.wait_for("服务器: ");
    assert_eq!(line[9..], [b"] ", fuwuqi, b": ? x\n"].concat());
    server.process.wait_for_stdout("服务器: \"\u{FFFD} x\"");
    bob.send(&[REPLY_GBK, b"\n"].concat());
    let line = alice.wait_for("服务器: 我是服务器");
    assert_eq!(line[9..], [b"] ", fuwuqi, b": ", REPLY_GBK, b"\n"].concat());

    // A nickname that is taken, in GBK, is refused in GBK.
    let stream = server.connect();
    let mut late = GbkChatter {
        reader: BufReader::new(stream.try_clone().expect("clone")),
        writer: stream,
    };
    late.line();
    late.send(b"\xd0\xa1\xba\xda\n");
    late.wait_for("! 昵称已被占用 (小黑 is taken)");
}

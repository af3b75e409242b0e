//! Lesson 04's whole test suite, for any chat server that claims to be a
//! drop-in replacement for `chat-server`: the same greeting, nickname rules,
//! commands, announcements, limits and flags. Each check is a function that
//! takes the path of the server's executable, starts it as a real process on
//! 127.0.0.1 and talks to it with raw-socket clients, polite and hostile.
//!
//! A server's `tests/it.rs` runs them all, one `#[test]` each, with one line:
//!
//! ```ignore
//! testkit::chat_suite!(env!("CARGO_BIN_EXE_poll-chat-server"));
//! ```
//!
//! (with `testkit` among its `[dev-dependencies]`). Tests about one server's
//! own insides go beside that line; [`Chatter`] is there for them. A check
//! added here runs against every chat server at once: add its name to
//! [`chat_suite!`](crate::chat_suite) too.
//!
//! The tests spell out the lines a user sees, rather than take them from the
//! servers' shared code: a change to what the room says must show up here.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use encoding_rs::GBK;

use crate::Server;

/// One `#[test]` for each check of this module, run against the chat
/// server at the path `$exe` (usually `env!("CARGO_BIN_EXE_<name>")`).
#[macro_export]
macro_rules! chat_suite {
    ($exe:expr) => {
        $crate::chat_suite!(
            $exe;
            messages_go_to_everyone_with_name_and_time,
            nicknames_are_checked_and_may_be_tried_again,
            nicknames_that_imitate_the_room_or_hide_characters_are_refused,
            a_line_too_long_is_refused_and_never_sent,
            control_characters_never_reach_other_terminals,
            invalid_utf8_resets_and_half_closes_do_not_hurt_the_room,
            a_client_that_never_reads_is_cut_off_and_the_others_get_everything,
            a_pasted_page_and_a_flood_cut_off_no_reader,
            a_slow_reader_gets_bursts_and_single_lines_in_order,
            a_nickname_must_come_before_the_deadline_even_byte_by_byte,
            one_over_the_limit_is_told_the_room_is_full,
            two_hundred_join_at_once_and_all_get_the_broadcast,
            joins_and_leaves_are_each_announced_exactly_once_and_in_order,
            the_welcome_list_and_the_announcements_that_follow_agree,
            help_bad_arguments_and_a_port_in_use,
            an_absurd_timeout_is_refused_with_the_accepted_range,
            a_gbk_room_reads_and_writes_gbk,
        );
    };
    ($exe:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::chat::$check($exe);
            }
        )+
    };
}

/// A raw-socket chat client: it sends what a test gives it and reads the
/// room's lines, failing the test (with what it saw) when they don't come.
pub struct Chatter {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
}

impl Chatter {
    /// Connects and reads the greeting, without choosing a nickname.
    pub fn connect(server: &Server) -> Chatter {
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
    pub fn join(server: &Server, nick: &str) -> Chatter {
        let mut chatter = Chatter::connect(server);
        chatter.send(&format!("{nick}\n"));
        chatter.wait_for(&format!("* {nick} 加入了聊天室"));
        chatter
    }

    pub fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).expect("send");
    }

    /// The next line from the server; fails the test at the end of stream.
    pub fn line(&mut self) -> String {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => panic!("the server closed the connection"),
            Ok(_) => String::from_utf8(line).expect("the server sends UTF-8"),
            Err(err) => panic!("no line from the server: {err}"),
        }
    }

    /// Reads lines until one contains `needle`; returns them all.
    pub fn wait_for(&mut self, needle: &str) -> Vec<String> {
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
    pub fn read_to_end(&mut self) -> String {
        let mut rest = String::new();
        match self.reader.read_to_string(&mut rest) {
            Ok(_) => rest,
            Err(err) if err.kind() == ErrorKind::ConnectionReset => rest,
            Err(err) => panic!("the server did not close the connection: {err}"),
        }
    }
}

/// A message reaches everyone, its sender too, as `[HH:MM:SS] nick: text`;
/// `/who` lists the room in the order people joined; `quit` (any case) says
/// goodbye, closes, and the others are told.
pub fn messages_go_to_everyone_with_name_and_time(exe: &str) {
    let server = Server::start(exe);
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

/// Bad nicknames are refused with a `! ` line naming why, and the client
/// may try again on the same connection.
pub fn nicknames_are_checked_and_may_be_tried_again(exe: &str) {
    let server = Server::start(exe);
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

/// Nicknames that would pass for a server notice (`* system`), a command
/// (`/who`) or a server error (`!`), that hide characters (a zero-width
/// space, a direction override, a line separator, private use), or that
/// are someone else's in other letters (`Ａlice` in full width) are
/// refused, each with its reason; bytes that are not UTF-8 are refused as
/// such. None of them ever reaches the room.
pub fn nicknames_that_imitate_the_room_or_hide_characters_are_refused(exe: &str) {
    let server = Server::start(exe);
    let mut alice = Chatter::join(&server, "Alice");
    let mut other = Chatter::connect(&server);
    for (bad, why) in [
        ("* system", "may not start with *, / or !"),
        ("/who", "may not start with *, / or !"),
        ("!admin", "may not start with *, / or !"),
        ("＊system", "may not start with *, / or !"),
        ("Al\u{200B}ice", "invisible characters"),
        ("\u{202E}ecilA", "invisible characters"),
        ("two\u{2028}lines", "invisible characters"),
        ("\u{E000}logo", "invisible characters"),
        ("tab\there", "control"),
        ("Ａlice", "(Ａlice is taken)"),
        ("ａｌｉｃｅ", "(ａｌｉｃｅ is taken)"),
    ] {
        other.send(&format!("{bad}\n"));
        let answer = other.line();
        assert!(
            answer.starts_with("! ") && answer.contains(why),
            "{bad:?}: {answer:?}"
        );
    }
    other.writer.write_all(b"caf\xe9\n").expect("send");
    let answer = other.line();
    assert!(
        answer.starts_with("! ") && answer.contains("(not valid UTF-8)"),
        "{answer:?}"
    );
    other.send("bob\n");
    let seen = alice.wait_for("* bob 加入了聊天室");
    assert_eq!(
        seen.iter().filter(|l| l.contains("加入了")).count(),
        1,
        "{seen:?}"
    );
}

/// A line over 4096 bytes is refused (`! line too long`) and nothing of it
/// reaches the others; the sender's next line does.
pub fn a_line_too_long_is_refused_and_never_sent(exe: &str) {
    let server = Server::start(exe);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.wait_for("bob joined");

    bob.send(&format!("{}\n", "x".repeat(100_000)));
    bob.wait_for("! line too long");
    bob.send("short one\n");
    let seen = alice.wait_for("bob: short one");
    assert!(seen.iter().all(|l| !l.contains("xxx")), "{seen:?}");
}

/// ESC, BEL, C1 controls and a `\r` before the newline: each control
/// character becomes U+FFFD on the way to the others.
pub fn control_characters_never_reach_other_terminals(exe: &str) {
    let server = Server::start(exe);
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

/// Bytes that are not UTF-8, a reset, a half-close and a reset before the
/// nickname: each is handled, announced where it should be, and the room
/// goes on.
pub fn invalid_utf8_resets_and_half_closes_do_not_hurt_the_room(exe: &str) {
    let server = Server::start(exe);
    let mut watcher = Chatter::join(&server, "watcher");

    let mut garbage = Chatter::join(&server, "garbage");
    garbage.send("\u{0}");
    garbage.writer.write_all(b"\xff\xfe\xfd\n").expect("send");
    watcher.wait_for("garbage: \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}");

    // Reset: both handles on the socket must go, or it stays open.
    let Chatter { reader, writer } = Chatter::join(&server, "rude");
    drop(reader);
    crate::reset(writer);
    watcher.wait_for("* rude已经离开了");

    let mut polite = Chatter::join(&server, "polite");
    polite.send("last words\n");
    polite.writer.shutdown(Shutdown::Write).expect("half-close");
    watcher.wait_for("polite: last words");
    watcher.wait_for("* polite已经离开了 (polite left: connection closed)");
    // The half-closed client still got everything up to its departure.
    assert!(polite.read_to_end().contains("polite: last words"));

    // A connection that resets before it even chose a nickname.
    crate::reset(server.connect());

    let mut late = Chatter::join(&server, "late");
    late.send("all fine?\n");
    watcher.wait_for("late: all fine?");
}

/// A member that stops reading is cut off (announced once) while fifty
/// readers get all 1,500 messages of a talker, in order.
pub fn a_client_that_never_reads_is_cut_off_and_the_others_get_everything(exe: &str) {
    let server = Server::start_with(exe, &["127.0.0.1:0", "--write-timeout", "1"]);
    // The stalled client joins, then never reads again; its small receive
    // buffer fills after a few kilobytes.
    let stalled = crate::connect_with_small_receive_buffer(server.addr);
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

/// A fast sender (a pasted page, then 4 MB) waits for readers who keep up:
/// none of twenty is cut off, and each gets every line.
pub fn a_pasted_page_and_a_flood_cut_off_no_reader(exe: &str) {
    let server = Server::start(exe);
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

/// A reader with a small receive buffer, so that what the room sends it
/// often waits in its outbox, gets every line in the order sent, whether the
/// line came in a burst (many lines in one write) or alone. A server that
/// writes a lone line to the socket at once (lessons 12 and 13) must not let
/// it overtake the lines still waiting for that reader.
pub fn a_slow_reader_gets_bursts_and_single_lines_in_order(exe: &str) {
    let server = Server::start(exe);
    let slow = crate::connect_with_small_receive_buffer(server.addr);
    let mut slow = Chatter {
        reader: BufReader::new(slow.try_clone().expect("clone")),
        writer: slow,
    };
    assert!(slow.line().starts_with("连接成功!"));
    slow.send("slow\n");
    slow.wait_for("* slow 加入了聊天室");
    // It reads slowly: a millisecond's pause after each line.
    let reading = thread::spawn(move || {
        let mut order = Vec::new();
        for _ in 0..1000 {
            let line = slow.line();
            if line.contains("] talker: done") {
                break;
            }
            if let Some(rest) = line.split("] talker: #").nth(1) {
                let number = rest.split(' ').next().unwrap_or_default();
                order.push(number.parse::<usize>().expect("a line number"));
            }
            thread::sleep(Duration::from_millis(1));
        }
        order
    });
    let Chatter { reader, mut writer } = Chatter::join(&server, "talker");
    let mut ears = Chatter {
        reader,
        writer: writer.try_clone().expect("clone"),
    };
    let hearing = thread::spawn(move || ears.wait_for("] talker: done").len());

    // 40 rounds: a burst of 8 lines of 1,000 bytes in one write, then a
    // moment later one short line on its own.
    let long = "b".repeat(1000);
    let mut number = 0;
    for _ in 0..40 {
        let burst: String = (number..number + 8)
            .map(|n| format!("#{n} {long}\n"))
            .collect();
        writer.write_all(burst.as_bytes()).expect("burst");
        number += 8;
        thread::sleep(Duration::from_millis(2));
        writer
            .write_all(format!("#{number} alone\n").as_bytes())
            .expect("line");
        number += 1;
    }
    writer.write_all(b"done\n").expect("done");
    let order = reading.join().expect("the slow reader");
    let expected: Vec<usize> = (0..number).collect();
    assert!(order == expected, "lines lost or out of order: {order:?}");
    hearing.join().expect("the talker's own lines");
}

/// `--nick-timeout 1`: a client trickling a byte every 200 ms is cut off
/// after about a second, however often it sends.
pub fn a_nickname_must_come_before_the_deadline_even_byte_by_byte(exe: &str) {
    let server = Server::start_with(exe, &["127.0.0.1:0", "--nick-timeout", "1"]);
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

/// `--max-clients 3`: the fourth connection is told the room is full and
/// closed; once someone leaves, there is room again.
pub fn one_over_the_limit_is_told_the_room_is_full(exe: &str) {
    let server = Server::start_with(exe, &["127.0.0.1:0", "--max-clients", "3"]);
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

/// Two hundred clients join at once; all of them get the next message.
pub fn two_hundred_join_at_once_and_all_get_the_broadcast(exe: &str) {
    let server = Server::start(exe);
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

/// Eighty visitors join and leave (QUIT or reset) from eight threads: each
/// arrival and departure is announced once, the arrival first.
pub fn joins_and_leaves_are_each_announced_exactly_once_and_in_order(exe: &str) {
    let server = Server::start(exe);
    let mut watcher = Chatter::join(&server, "watcher");
    let visitors: Vec<_> = (0..8)
        .map(|t| {
            let server_addr = server.addr;
            thread::spawn(move || {
                for i in 0..10 {
                    let stream = crate::connect(server_addr);
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
                        crate::reset(writer);
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

/// The list of who is here that a newcomer is shown and the announcements
/// it gets afterwards add up, however many join and leave at the same time:
/// the welcome comes first, nobody on its list is announced as joining,
/// nobody leaves who was not there, and `/who` then lists exactly who the
/// newcomer was told is here. Eight visitors at a time join, check, and
/// leave (QUIT or reset), twenty times each.
pub fn the_welcome_list_and_the_announcements_that_follow_agree(exe: &str) {
    let server = Server::start(exe);
    let _watcher = Chatter::join(&server, "watcher");
    let visitors: Vec<_> = (0..8)
        .map(|t| {
            let server_addr = server.addr;
            thread::spawn(move || {
                for i in 0..20 {
                    let me = format!("v{t}-{i}");
                    let stream = crate::connect(server_addr);
                    let mut visitor = Chatter {
                        reader: BufReader::new(stream.try_clone().expect("clone")),
                        writer: stream,
                    };
                    visitor.line(); // the greeting
                    visitor.send(&format!("{me}\n"));
                    let welcome = visitor.line();
                    let prefix = format!("* 欢迎 {me}! (welcome) here: ");
                    let Some(list) = welcome.strip_prefix(&prefix) else {
                        panic!("{me}: the first line after the nickname: {welcome:?}");
                    };
                    let mut here: Vec<String> =
                        list.trim_end().split(", ").map(String::from).collect();
                    assert_eq!(here.last(), Some(&me), "{welcome:?}");
                    visitor.send("/who\n");
                    let mut seen = vec![welcome.clone()];
                    loop {
                        let line = visitor.line();
                        seen.push(line.clone());
                        if let Some(list) = line.strip_prefix("* 在线 (here): ") {
                            let who: Vec<&str> = list.trim_end().split(", ").collect();
                            assert_eq!(who, here, "{me}: /who disagrees with {seen:?}");
                            break;
                        }
                        if let Some((nick, _)) = line
                            .strip_prefix("* ")
                            .and_then(|rest| rest.split_once(" 加入了聊天室 ("))
                        {
                            if nick != me {
                                assert!(
                                    !here.iter().any(|h| h == nick),
                                    "{me}: {nick} joined twice: {seen:?}"
                                );
                                here.push(nick.to_string());
                            }
                        } else if let Some((nick, _)) = line
                            .strip_prefix("* ")
                            .and_then(|rest| rest.split_once("已经离开了 ("))
                        {
                            let Some(at) = here.iter().position(|h| h == nick) else {
                                panic!("{me}: {nick} left without being here: {seen:?}");
                            };
                            here.remove(at);
                        }
                    }
                    if i % 2 == 0 {
                        visitor.send("QUIT\n");
                        visitor.read_to_end();
                    } else {
                        drop(visitor.reader);
                        crate::reset(visitor.writer);
                    }
                }
            })
        })
        .collect();
    for visitor in visitors {
        if let Err(panic) = visitor.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

/// `--help`, bad flag values (exit 2, one line naming the value) and a port
/// in use (exit 1 with a hint).
pub fn help_bad_arguments_and_a_port_in_use(exe: &str) {
    crate::assert_help(exe);
    crate::assert_bad_args(exe, &["9999"], "9999");
    crate::assert_bad_args(exe, &["--max-clients", "0"], "0");
    crate::assert_bad_args(exe, &["--nick-timeout", "soon"], "soon");
    crate::assert_bad_args(exe, &["--write-timeout", "0"], "0");
    crate::assert_bad_args(exe, &["--encoding", "latin1"], "latin1");
    crate::assert_port_in_use(exe);
}

/// A timeout far out of range is refused with the range, in one short line
/// that quotes what was typed (not the 301 digits of 1e300).
pub fn an_absurd_timeout_is_refused_with_the_accepted_range(exe: &str) {
    for (flag, value) in [
        ("--nick-timeout", "1e300"),
        ("--write-timeout", "-1"),
        ("--nick-timeout", "3601"),
    ] {
        crate::assert_bad_args(exe, &[flag, value], value);
        let done = crate::run(exe, &[flag, value], b"");
        if done.stderr.len() > 150 || !done.stderr.contains("at most 3600") {
            done.fail("expected one short line with the accepted range");
        }
    }
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
            gbk("连接成功!,请输入昵称 (connected: please type a nickname)\n")
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
            let text = GBK.decode_without_bom_handling(&line).0;
            if text.contains(needle) {
                return line;
            }
            seen.push(text.into_owned());
        }
        panic!("never saw {needle:?}; saw {seen:?}");
    }
}

/// `text` in GBK (every character the tests use has GBK bytes).
fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = GBK.encode(text);
    assert!(!unmappable, "{text:?} is not all in GBK");
    bytes.into_owned()
}

/// `--encoding gbk`: seed 004's GBK bytes go through the room unchanged,
/// bytes that are not GBK arrive as `?`, and refusals come in GBK too.
pub fn a_gbk_room_reads_and_writes_gbk(exe: &str) {
    use crate::seed004::{HELLO, HELLO_GBK, REPLY_GBK};
    let server = Server::start_with(exe, &["127.0.0.1:0", "--encoding", "gbk"]);
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
    // A nickname that is not GBK is refused as such.
    late.send(b"\x81\x20\n");
    late.wait_for("(not valid GBK)");
}

// ---- Exercise answers that two lessons share ----
//
// Not in `chat_suite!`: a `/msg` (lesson 04's answer 1, lesson 12's answer
// 3) and a `/nick` (lesson 04's answer 2, lesson 13's answer 1) are answers,
// not the room. Each answer's test calls the check by the exercise's name.

/// `/msg nick text` goes to `nick` and back to its sender as
/// `[HH:MM:SS] sender -> nick: text`, and to nobody else; the target is
/// found as nicknames are compared when joining; nobody by that name (one
/// who left, too), or no text, is answered to the sender alone; the log says
/// who wrote to whom, never what.
pub fn private_message_reaches_only_its_target(exe: &str) {
    let server = Server::start(exe);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    let mut carol = Chatter::join(&server, "carol");
    alice.wait_for("* carol 加入了聊天室");
    bob.wait_for("* carol 加入了聊天室");

    // Compared as nicknames are when joining: BOB is bob, shown as bob.
    alice.send("/msg BOB the key is under the mat\n");
    for chatter in [&mut bob, &mut alice] {
        let line = chatter.line();
        assert!(line.starts_with('['), "{line:?}");
        assert_eq!(
            &line[9..],
            "] alice -> bob: the key is under the mat\n",
            "{line:?}"
        );
    }
    // Carol's next line is the next message to everyone, not the private one.
    alice.send("hello all\n");
    let line = carol.line();
    assert!(line.ends_with("] alice: hello all\n"), "{line:?}");
    bob.wait_for("] alice: hello all");
    alice.wait_for("] alice: hello all");

    // A message to oneself comes once.
    bob.send("/msg bob note to self\n");
    let line = bob.line();
    assert!(line.ends_with("] bob -> bob: note to self\n"), "{line:?}");
    bob.send("/who\n");
    assert_eq!(bob.line(), "* 在线 (here): alice, bob, carol\n");

    // Nobody by that name, a name that could be nobody's, no text: the
    // sender alone hears why, and the room hears nothing.
    for (line, answer) in [
        ("/msg dave hi\n", "! nobody called dave is here\n"),
        ("/msg *dave hi\n", "! nobody called *dave is here\n"),
        ("/msg bob\n", "! usage: /msg nick text\n"),
        ("/msg bob   \n", "! usage: /msg nick text\n"),
        ("/msg\n", "! usage: /msg nick text\n"),
    ] {
        alice.send(line);
        assert_eq!(alice.line(), answer, "{line:?}");
    }
    carol.send("/who\n");
    assert_eq!(carol.line(), "* 在线 (here): alice, bob, carol\n");

    // `/msgs` is no command: it is a message to everyone.
    alice.send("/msgs are new\n");
    let line = carol.line();
    assert!(line.ends_with("] alice: /msgs are new\n"), "{line:?}");

    // A member who has left is nobody.
    carol.send("QUIT\n");
    alice.wait_for("* carol已经离开了 (carol left: QUIT)");
    alice.send("/msg carol are you there?\n");
    assert_eq!(alice.line(), "! nobody called carol is here\n");

    // The server's log names who wrote to whom, never what.
    server
        .process
        .wait_for_stdout("alice sent a private message to bob");
    assert!(
        !server.process.stdout().contains("under the mat"),
        "{}",
        server.process.stdout()
    );
}

/// `/nick newname` is refused under the rules of a join, to its sender
/// alone; a rename is told to the room, and messages, `/who`, the leave
/// notice and the next join all go by the new name; the old one is free.
pub fn rename_follows_the_join_rules_and_the_room_sees_the_new_name(exe: &str) {
    let server = Server::start(exe);
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.wait_for("* bob 加入了聊天室");

    // Refused under the same rules as a join, answered to bob alone.
    for (line, why) in [
        ("/nick ALICE\n", "! 昵称已被占用 (ALICE is taken), try another\n"),
        ("/nick Ａlice\n", "! 昵称已被占用 (Ａlice is taken), try another\n"),
        (
            "/nick *system\n",
            "! 昵称不能以 *、/ 或 ! 开头 (it may not start with *, / or !), try another\n",
        ),
        ("/nick \n", "! 昵称不能为空 (the nickname is empty), try another\n"),
        (
            "/nick  bob\n",
            "! 昵称首尾不能有空白 (spaces at the ends), try another\n",
        ),
        ("/nick\n", "! usage: /nick newname\n"),
    ] {
        bob.send(line);
        assert_eq!(bob.line(), why, "{line:?}");
    }
    let long = format!("/nick {}\n", "长".repeat(33));
    bob.send(&long);
    assert!(bob.line().contains("昵称太长"));

    // None of that reached alice: her next line is bob's rename. Its own
    // name in other letters is free for it; the room is told.
    bob.send("/nick Bob\n");
    for chatter in [&mut alice, &mut bob] {
        assert_eq!(chatter.line(), "* bob 改名为 Bob (bob is now Bob)\n");
    }
    bob.send("/nick robert\n");
    for chatter in [&mut alice, &mut bob] {
        assert_eq!(chatter.line(), "* Bob 改名为 robert (Bob is now robert)\n");
    }

    // Messages, /who and the leave notice all carry the new name.
    bob.send("hi\n");
    for chatter in [&mut alice, &mut bob] {
        let line = chatter.line();
        assert!(line.ends_with("] robert: hi\n"), "{line:?}");
    }
    alice.send("/who\n");
    assert_eq!(alice.line(), "* 在线 (here): alice, robert\n");

    // The old name is free again; the new one is taken.
    let mut other = Chatter::connect(&server);
    other.send("Robert\n");
    assert!(other.line().contains("昵称已被占用"));
    other.send("bob\n");
    other.wait_for("* bob 加入了聊天室");
    alice.wait_for("* bob 加入了聊天室");

    bob.send("quit\n");
    bob.wait_for("再见");
    alice.wait_for("* robert已经离开了 (robert left: QUIT)");
    server.process.wait_for_stdout("Bob is now robert");
}

/// A member of lesson 14's group on loopback, on a port of its own (so that
/// tests running at once do not hear each other's servers), with a read
/// timeout; and the `--group` that reaches it.
pub fn group_member() -> (std::net::UdpSocket, String) {
    let group = std::net::Ipv4Addr::new(239, 255, 14, 14);
    let member = std::net::UdpSocket::bind((group, 0)).expect("bind the group");
    member
        .join_multicast_v4(&group, &std::net::Ipv4Addr::LOCALHOST)
        .expect("join on loopback");
    member
        .set_read_timeout(Some(crate::TIMEOUT))
        .expect("timeout");
    let target = member.local_addr().expect("addr").to_string();
    (member, target)
}

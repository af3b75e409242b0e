//! poll-chat-server as a real process over 127.0.0.1. It is a drop-in
//! replacement for lesson 04's chat-server, so it runs lesson 04's whole
//! suite (`testkit::chat`); the tests below are about what only this server
//! promises: one thread, and an `accept` that runs out of file descriptors
//! without spinning or going deaf.

use std::fs;
use std::io::{Read, Write};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use testkit::chat::Chatter;
use testkit::Server;

const EXE: &str = env!("CARGO_BIN_EXE_poll-chat-server");

testkit::chat_suite!(EXE);

/// A field of /proc/PID/status, like `Threads`.
fn status(pid: u32, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// The process's user + system time so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // The command name (field 2) may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')').expect("stat") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15, so 12 and 13 after the name.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn fifty_members_and_still_one_thread() {
    let server = Server::start(EXE);
    let mut members: Vec<_> = (0..50)
        .map(|i| Chatter::join(&server, &format!("m{i}")))
        .collect();
    members[0].send("one thread for all of us\n");
    for member in &mut members {
        member.wait_for("m0: one thread for all of us");
    }
    assert_eq!(status(server.process.pid(), "Threads"), "1");
}

#[test]
fn out_of_file_descriptors_it_pauses_then_accepts_again() {
    // Only 16 descriptors: stdin/out/err, the listener and poll's own leave
    // about ten for clients. prlimit runs the server with the lower limit.
    assert!(
        Command::new("prlimit").arg("--version").output().is_ok(),
        "this test needs prlimit (util-linux)"
    );
    let server =
        Server::start_with("prlimit", &["--nofile=16", "--", EXE, "127.0.0.1:0"]);
    let pid = server.process.pid();
    let mut members: Vec<_> = (0..9)
        .map(|i| Chatter::join(&server, &format!("early{i}")))
        .collect();
    // The next connections wait in the listen queue: accept fails with EMFILE.
    let waiting: Vec<_> = (0..5).map(|_| server.connect()).collect();
    server.process.wait_for_stdout("accept failed");
    // Failing, it must not spin: over a second it uses little CPU.
    let before = cpu_ticks(pid);
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    assert!(used < 30, "{used} ticks in one second: the loop spins");
    // The room goes on meanwhile.
    members[0].send("still here\n");
    members[1].wait_for("early0: still here");
    // Members leave; the waiting connections are accepted and greeted.
    for mut member in members.drain(..) {
        member.send("QUIT\n");
        let _ = member.read_to_end();
    }
    let start = Instant::now();
    for mut stream in waiting {
        let mut greeting = [0; 15];
        stream
            .read_exact(&mut greeting)
            .expect("a greeting once there is room");
        assert!(String::from_utf8_lossy(&greeting).starts_with("连接成功"));
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "accepting again took too long"
    );
}

/// Lesson 04's whole suite against the answer to exercise 3: the answer is
/// still the room, with one command more.
mod answer_12_3_is_still_the_room {
    testkit::chat_suite!(&testkit::example("answer-12-3"));
}

#[test]
fn answer_12_3_private_message_reaches_only_its_target() {
    testkit::chat::private_message_reaches_only_its_target(&testkit::example(
        "answer-12-3",
    ));
}

#[test]
fn answer_12_3_a_member_too_slow_for_private_messages_is_cut_off_as_for_a_broadcast() {
    let exe = testkit::example("answer-12-3");
    let server = Server::start_with(&exe, &["127.0.0.1:0", "--write-timeout", "1"]);
    // The target joins, then never reads again; its small receive buffer
    // fills after a few kilobytes.
    let stalled = testkit::connect_with_small_receive_buffer(server.addr);
    (&stalled).write_all(b"stalled\n").expect("nick");
    let mut bob = Chatter::join(&server, "bob");
    let alice = Chatter::join(&server, "alice");
    bob.wait_for("* alice 加入了聊天室");

    // Alice hears her receipts on a thread of her own: she keeps up.
    let Chatter { reader, mut writer } = alice;
    let mut ears = Chatter {
        reader,
        writer: writer.try_clone().expect("clone"),
    };
    let hearing = thread::spawn(move || ears.wait_for("] alice: end"));
    // 1,500 private messages of 4 KB, 6 MB: more than the kernel's buffers
    // for the stalled member and its 256 KiB outbox hold together.
    let text = "p".repeat(4000);
    for i in 0..1500 {
        writer
            .write_all(format!("/msg stalled {i} {text}\n").as_bytes())
            .expect("send");
    }
    writer.write_all(b"end\n").expect("send");

    // The room is told, as when a broadcast does not fit; bob got none of
    // the private lines.
    let seen = bob.wait_for("] alice: end");
    let cut_off: Vec<_> = seen
        .iter()
        .filter(|line| line.starts_with("* stalled已经离开了 (stalled left: "))
        .collect();
    assert_eq!(cut_off.len(), 1, "{seen:?}");
    assert!(
        !seen.iter().any(|line| line.contains(" -> ")),
        "bob saw a private line"
    );
    // Alice got receipts until the cut-off, then "nobody called stalled".
    let heard = hearing.join().expect("alice's thread");
    let receipts = heard
        .iter()
        .filter(|l| l.contains("alice -> stalled: "))
        .count();
    assert!(receipts > 0 && receipts < 1500, "{receipts} receipts");
    assert!(
        heard.contains(&"! nobody called stalled is here\n".to_string()),
        "alice was never told that stalled had gone"
    );
    drop(stalled);
}

/// The answer's `chat` is the lesson's, with lines added and none changed:
/// every line of the lesson's `chat` is in the answer's, in the same order.
/// (A change to the lesson's `chat` shows up here, not in a student's run.)
#[test]
fn answer_12_3_chat_is_the_lessons_with_lines_added() {
    testkit::assert_lines_kept(
        env!("CARGO_MANIFEST_DIR"),
        "fn chat(",
        "src/main.rs",
        &["examples/answer-12-3.rs"],
    );
}

// ---- Lesson 14: --announce, a timer of the poll loop ----

/// The beacon names the server's address and encoding, comes from that
/// address, about once a second (the loop's timer, not a spin), while the
/// room goes on, on its one thread.
#[test]
fn announce_is_a_timer_of_the_one_thread_and_names_the_servers_address() {
    let (member, target) = testkit::chat::group_member();
    let args = ["127.0.0.1:0", "--announce", "--group", &target];
    let server = Server::start_with(EXE, &args);
    let announced = format!("chat-server on {} encoding utf-8", server.addr);
    server.process.wait_for_stdout(&format!(
        "announcing on {target} every second: {announced}\n"
    ));
    let mut buf = [0; 512];
    let mut heard = Vec::new();
    for _ in 0..3 {
        let (n, from) = member.recv_from(&mut buf).expect("a beacon");
        heard.push(Instant::now());
        assert_eq!(String::from_utf8_lossy(&buf[..n]), announced);
        assert_eq!(from.ip(), server.addr.ip());
    }
    for pair in heard.windows(2) {
        let gap = pair[1] - pair[0];
        let (low, high) = (Duration::from_millis(700), Duration::from_millis(2500));
        assert!(gap > low && gap < high, "beacons {gap:?} apart");
    }
    let mut ann = Chatter::join(&server, "ann");
    ann.send("hello\n");
    ann.wait_for("ann: hello");
    assert_eq!(status(server.process.pid(), "Threads"), "1");
}

/// 0.0.0.0 is every interface: no one address to announce. Exit 2, saying
/// so, before anything is bound.
#[test]
fn announce_refuses_what_it_cannot_announce() {
    testkit::assert_bad_args(EXE, &["0.0.0.0:0", "--announce"], "0.0.0.0:0");
    let done = testkit::run(EXE, &["0.0.0.0:0", "--announce"], b"");
    if !done
        .stderr
        .contains("--announce needs the one IPv4 address")
    {
        done.fail("the refusal does not say why");
    }
    testkit::assert_bad_args(EXE, &["[::1]:0", "--announce"], "[::1]:0");
    testkit::assert_bad_args(EXE, &["--group", "239.1.1.1:5"], "--group");
}

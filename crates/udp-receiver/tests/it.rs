//! udp-receiver as a real process: datagrams from a test socket and from the
//! real udp-sender, truncation, encodings, hostile bytes.

use std::net::UdpSocket;

use testkit::{beside, run, Server};

const EXE: &str = env!("CARGO_BIN_EXE_udp-receiver");

/// The seed 004 sentence and its GBK bytes, as the seed printed them.
const SEED_TEXT: &str = "你好服务端，我是客户端小黑!";
const SEED_GBK: &[u8] = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";

fn sender() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind a test socket")
}

#[test]
fn prints_each_datagram_with_its_sender() {
    let receiver = Server::start(EXE);
    let socket = sender();
    let me = socket.local_addr().expect("addr");
    socket
        .send_to("hello 你好".as_bytes(), receiver.addr)
        .expect("send");
    receiver
        .process
        .wait_for_stdout(&format!("[{me}]: hello 你好\n"));
}

#[test]
fn a_datagram_bigger_than_the_buffer_is_cut_and_says_so() {
    let receiver = Server::start_with(EXE, &["127.0.0.1:0", "--buffer", "8"]);
    let socket = sender();
    socket
        .send_to(b"0123456789abcdef", receiver.addr)
        .expect("send");
    socket.send_to(b"short", receiver.addr).expect("send");
    receiver.process.wait_for_stdout("]: short\n");
    let out = receiver.process.stdout();
    assert!(out.contains("]: 01234567\n"), "{out}");
    assert!(
        out.contains("(cut: the datagram had 16 bytes, the buffer holds 8; the other 8 bytes are lost)"),
        "{out}"
    );
    // The short one was not cut, and said nothing about it.
    assert_eq!(out.matches("(cut:").count(), 1, "{out}");
}

#[test]
fn one_lost_byte_is_one_byte() {
    let receiver = Server::start_with(EXE, &["127.0.0.1:0", "--buffer", "8"]);
    sender().send_to(b"012345678", receiver.addr).expect("send");
    receiver.process.wait_for_stdout("lost)\n");
    let out = receiver.process.stdout();
    let cut =
        "(cut: the datagram had 9 bytes, the buffer holds 8; the other 1 byte is lost)";
    assert!(out.contains(cut), "{out}");
}

#[test]
fn gbk_bytes_read_as_the_seeds_text() {
    let receiver = Server::start_with(EXE, &["127.0.0.1:0", "--encoding", "gbk"]);
    sender().send_to(SEED_GBK, receiver.addr).expect("send");
    receiver
        .process
        .wait_for_stdout(&format!("]: {SEED_TEXT}\n"));
}

#[test]
fn bad_bytes_and_control_characters_never_hurt() {
    let receiver = Server::start(EXE);
    let socket = sender();
    socket
        .send_to(b"\xff\xfe bad", receiver.addr)
        .expect("send");
    socket
        .send_to(b"\x1b[2J clear", receiver.addr)
        .expect("send");
    socket
        .send_to(b"", receiver.addr)
        .expect("send an empty datagram");
    socket.send_to(b"still here", receiver.addr).expect("send");
    receiver.process.wait_for_stdout("]: still here\n");
    let out = receiver.process.stdout();
    assert!(out.contains("]: \u{FFFD}\u{FFFD} bad\n"), "{out}");
    assert!(out.contains("]: \\u{1b}[2J clear\n"), "{out}");
    assert!(!out.contains('\u{1b}'), "an escape reached the terminal");
}

#[test]
fn the_real_sender_to_the_real_receiver() {
    let receiver = Server::start(EXE);
    let done = run(
        &beside(EXE, "udp-sender"),
        &[&receiver.addr_arg(), "hello", "你好"],
        b"",
    );
    done.expect_code(0);
    receiver.process.wait_for_stdout("]: 你好\n");
    assert!(receiver.process.stdout().contains("]: hello\n"));
}

#[test]
fn help_bad_arguments_and_a_port_in_use() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["7789"], "7789");
    testkit::assert_bad_args(EXE, &["--buffer", "0"], "0");
    testkit::assert_bad_args(EXE, &["--buffer", "65536"], "65536");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    let taken = sender();
    let addr = taken.local_addr().expect("addr").to_string();
    let done = run(EXE, &[&addr], b"");
    testkit::assert_fails(&done, "in use", Some("port"));
}

#[test]
fn answer_07_2_gaps_and_late_datagrams_are_reported_per_sender() {
    let receiver = Server::start(&testkit::example("answer-07-2-receiver"));
    // Loopback does not lose or reorder, so this sender skips and repeats
    // numbers on purpose.
    let a = sender();
    let a_addr = a.local_addr().expect("addr");
    for datagram in ["1 one", "2 two", "5 five", "3 three", "3 three", "7 seven"] {
        a.send_to(datagram.as_bytes(), receiver.addr).expect("send");
    }
    receiver.process.wait_for_stdout("]: 7 seven\n");
    // Another sender is counted on its own: its 1 is not late.
    let b = sender();
    let b_addr = b.local_addr().expect("addr");
    for datagram in ["1 hello", "no number"] {
        b.send_to(datagram.as_bytes(), receiver.addr).expect("send");
    }
    receiver
        .process
        .wait_for_stdout("(no sequence number in front)\n");
    let expected = format!(
        "[{a_addr}]: 1 one\n\
         [{a_addr}]: 2 two\n\
         [{a_addr}]: 5 five\n  lost 3 to 4\n\
         [{a_addr}]: 3 three\n  3 is late or a duplicate (highest so far: 5)\n\
         [{a_addr}]: 3 three\n  3 is late or a duplicate (highest so far: 5)\n\
         [{a_addr}]: 7 seven\n  lost 6\n\
         [{b_addr}]: 1 hello\n\
         [{b_addr}]: no number\n  (no sequence number in front)\n"
    );
    let out = receiver.process.stdout();
    let (first, rest) = out.split_once('\n').expect("a first line");
    assert!(first.starts_with("listening on 127.0.0.1:"), "{out}");
    assert_eq!(rest, expected);
}

#[test]
fn answer_07_2_the_numbered_sender_and_receiver_lose_nothing_on_loopback() {
    let receiver = Server::start(&testkit::example("answer-07-2-receiver"));
    let lines: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    let sent = run(
        &testkit::example("answer-07-2-sender"),
        &[&receiver.addr_arg()],
        lines.as_bytes(),
    );
    sent.expect_code(0);
    receiver.process.wait_for_stdout("]: 50 line 50\n");
    let out = receiver.process.stdout();
    assert_eq!(
        out.lines().filter(|l| l.contains("]: ")).count(),
        50,
        "{out}"
    );
    assert!(!out.contains("lost") && !out.contains("late"), "{out}");
}

//! v2-echo-client as a real process, against the real v2 and v5 servers.

use std::net::TcpListener;

use testkit::seed004::{HELLO, HELLO_GBK, REPLY, REPLY_GBK};
use testkit::{beside, exchange, run, FakeServer, Process, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v2-echo-client");

#[test]
fn each_line_is_answered_in_turn() {
    let server = Server::start(&beside(EXE, "v2-echo-server"));
    let done = run(EXE, &[&server.addr_arg()], "hello\n你好\n".as_bytes());
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息hello\n收到你的消息你好\n");
}

#[test]
fn an_empty_line_quits() {
    let server = Server::start(&beside(EXE, "v2-echo-server"));
    let done = run(EXE, &[&server.addr_arg()], b"a\n\nb\n");
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息a\n");
}

#[test]
fn works_against_the_threaded_server() {
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    let done = run(EXE, &[&server.addr_arg()], b"same protocol\n");
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息same protocol\n");
}

#[test]
fn a_long_line_of_chinese_comes_back_whole() {
    let server = Server::start(&beside(EXE, "v2-echo-server"));
    let line = format!("{}\n", "你好世界".repeat(25_000)); // 300,000 bytes
    let done = run(EXE, &[&server.addr_arg()], line.as_bytes());
    done.expect_code(0);
    // More than one read's worth: the server answers in several replies.
    assert!(
        done.stdout.matches("收到你的消息").count() >= 2,
        "one reply only"
    );
    assert!(!done.stdout.contains('\u{FFFD}'), "a character was broken");
    assert_eq!(done.stdout.replace("收到你的消息", ""), line);
}

#[test]
fn says_it_is_waiting_while_the_server_is_busy() {
    let server = Server::start(&beside(EXE, "v2-echo-server"));
    // Someone else is being served.
    let mut first = server.connect();
    assert_eq!(exchange(&mut first, "me first\n"), "收到你的消息me first\n");

    let mut client = Process::spawn(EXE, &[&server.addr_arg()]);
    client.send_stdin(b"my turn?\n");
    client.wait_for_stderr("no answer yet");
    // The first client leaves; ours is answered and finishes.
    drop(first);
    client.wait_for_stdout("收到你的消息my turn?\n");
    client.close_stdin();
    client.wait().expect_code(0);
}

#[test]
fn a_server_that_hangs_up_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let hang_up = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        // Take the line, answer nothing, close. (Closing with the line still
        // unread would send a reset instead: the next test's case.)
        testkit::read_until(&mut stream, b"\n", 1024);
    });
    let done = run(EXE, &[&addr], b"hello?\n");
    hang_up.join().expect("the fake server");
    testkit::assert_fails(&done, "closed the connection", None);
}

#[test]
fn a_server_that_resets_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let reset = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        testkit::read_until(&mut stream, b"\n", 1024);
        testkit::reset(stream);
    });
    let done = run(EXE, &[&addr], b"hello?\n");
    reset.join().expect("the fake server");
    testkit::assert_fails(&done, "reset", None);
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["127.0.0.1:"], "127.0.0.1:");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_refused(EXE, &[]);
    testkit::assert_unresolvable(EXE, &[]);
}

#[test]
fn with_gbk_it_sends_and_reads_the_seeds_bytes() {
    // Seed 004: the client sends HELLO in GBK and gets REPLY in GBK.
    let server = FakeServer::start(&[REPLY_GBK, b"\n"].concat());
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gbk"],
        format!("{HELLO}\n").as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(server.received(), [HELLO_GBK, b"\n"].concat());
    assert_eq!(done.stdout, format!("{REPLY}\n"));
}

#[test]
fn a_character_gbk_cannot_write_is_reported_and_its_line_skipped() {
    let server = Server::start_with(
        &beside(EXE, "v2-echo-server"),
        &["127.0.0.1:0", "--encoding", "gbk"],
    );
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gbk"],
        "😀\nok\n".as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息ok\n");
    let report = "v2-echo-client: '😀' (U+1F600) cannot be written in GBK: line not sent";
    if !done.stderr.contains(report) {
        done.fail("does not report the emoji");
    }
    // The server got the second line only.
    server.process.wait_for_stdout("disconnected");
    let log = server.process.stdout();
    assert_eq!(log.matches(" sent ").count(), 1, "{log}");
    assert!(log.contains("sent 3 bytes: \"ok\\n\""), "{log}");
}

#[test]
fn a_long_gbk_line_comes_back_whole_from_the_real_server() {
    // 200,000 bytes in GBK: the server reads it in several parts, and the
    // cuts fall inside characters; the client decodes across its reads.
    let server = Server::start_with(
        &beside(EXE, "v2-echo-server"),
        &["127.0.0.1:0", "--encoding", "gbk"],
    );
    let line = format!("{}\n", "你好世界".repeat(25_000));
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gbk"],
        format!("{REPLY}\n{line}").as_bytes(),
    );
    done.expect_code(0);
    assert!(!done.stdout.contains('\u{FFFD}'), "a character was broken");
    assert_eq!(
        done.stdout.replace("收到你的消息", ""),
        format!("{REPLY}\n{line}")
    );
}

#[test]
fn gb18030_can_write_what_gbk_cannot() {
    let server = Server::start_with(
        &beside(EXE, "v5-echo-server"),
        &["127.0.0.1:0", "--encoding", "gb18030"],
    );
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gb18030"],
        "smile 😀\n".as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息smile 😀\n");
    assert_eq!(
        done.stderr.matches("not sent").count(),
        0,
        "{}",
        done.stderr
    );
}

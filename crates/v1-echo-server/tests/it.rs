//! v1-echo-server as a real process over 127.0.0.1.

use std::io::{Read, Write};
use std::net::Shutdown;

use testkit::seed004::{HELLO, HELLO_GBK};
use testkit::{Process, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v1-echo-server");

#[test]
fn echoes_one_message_then_exits() {
    let mut server = Server::start(EXE);
    let mut stream = server.connect();
    let me = stream.local_addr().expect("local addr");
    stream.write_all("hello 你好\n".as_bytes()).expect("send");
    stream.shutdown(Shutdown::Write).expect("shutdown");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read to the end");
    assert_eq!(reply, "hello 你好\n");

    let done = server.process.wait();
    done.expect_code(0);
    for line in [
        format!("{me} connected"),
        format!("{me} sent 13 bytes: \"hello 你好\\n\""),
    ] {
        if !done.stdout.contains(&line) {
            done.fail(&format!("no log line {line:?}"));
        }
    }
}

#[test]
fn a_client_that_sends_nothing_ends_it_cleanly() {
    let mut server = Server::start(EXE);
    let stream = server.connect();
    drop(stream);
    let done = server.process.wait();
    done.expect_code(0);
    if !done.stdout.contains("without sending anything") {
        done.fail("does not say the client sent nothing");
    }
}

#[test]
fn a_client_that_resets_is_reported_without_a_panic() {
    let mut server = Server::start(EXE);
    testkit::reset(server.connect());
    let done = server.process.wait();
    // Either the reset arrives before the read (an error, exit 1) or the
    // read sees the end first (exit 0); never a panic.
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert!(matches!(done.status.code(), Some(0 | 1)), "{}", done.status);
}

#[test]
fn listens_on_loopback_by_default() {
    // The default port may be taken on a shared machine; the line or the
    // error both name the default address.
    let process = Process::spawn(EXE, &[]);
    process.wait_for_output("127.0.0.1:19527");
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["127.0.0.1"], "127.0.0.1");
    testkit::assert_bad_args(EXE, &["localhost:99999"], "localhost:99999");
    testkit::assert_bad_args(EXE, &["::1:80"], "::1:80");
    testkit::assert_bad_args(EXE, &["127.0.0.1:0", "extra"], "extra");
    testkit::assert_bad_args(EXE, &["--verbose"], "--verbose");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_bad_args(EXE, &["--encoding"], "--encoding");
}

/// Sends `bytes` to a v1 server started with `args`, and returns the echo
/// and everything the server printed.
fn echo_once(args: &[&str], bytes: &[u8]) -> (Vec<u8>, testkit::Finished) {
    let mut server = Server::start_with(EXE, args);
    let mut stream = server.connect();
    stream.write_all(bytes).expect("send");
    stream.shutdown(Shutdown::Write).expect("shutdown");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read to the end");
    let done = server.process.wait();
    done.expect_code(0);
    (reply, done)
}

#[test]
fn gbk_bytes_are_shown_as_text_and_echoed_as_they_came() {
    let sent = [HELLO_GBK, b"\n"].concat();
    let (reply, done) = echo_once(&["127.0.0.1:0", "--encoding", "gbk"], &sent);
    assert_eq!(reply, sent);
    let line = format!("sent 28 bytes: \"{HELLO}\\n\"");
    if !done.stdout.contains(&line) {
        done.fail(&format!("no log line {line:?}"));
    }
}

#[test]
fn bytes_that_are_not_gbk_show_as_replacements_and_are_echoed_unchanged() {
    // 0x81 starts a two-byte GBK character, but 0x20 can't end one.
    let (reply, done) = echo_once(&["127.0.0.1:0", "--encoding", "gbk"], b"\x81\x20x\n");
    assert_eq!(reply, b"\x81\x20x\n");
    if !done.stdout.contains("sent 4 bytes: \"\u{FFFD} x\\n\"") {
        done.fail("the bad byte is not shown as U+FFFD");
    }
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    testkit::assert_port_in_use(EXE);
}

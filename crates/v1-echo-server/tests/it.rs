//! v1-echo-server as a real process over 127.0.0.1.

use std::io::{Read, Write};
use std::net::Shutdown;

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
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    testkit::assert_port_in_use(EXE);
}

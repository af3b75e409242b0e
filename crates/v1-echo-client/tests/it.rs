//! v1-echo-client as a real process, against the real v1 server.

use testkit::seed004::{HELLO, HELLO_GBK, REPLY, REPLY_GBK};
use testkit::{beside, run, FakeServer, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v1-echo-client");

fn server_exe(name: &str) -> String {
    beside(EXE, name)
}

#[test]
fn sends_one_line_and_prints_the_echo() {
    let mut server = Server::start(&server_exe("v1-echo-server"));
    let done = run(
        EXE,
        &[&server.addr_arg()],
        "hello 你好\nnot sent\n".as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(done.stdout, "hello 你好\n");
    // The server saw exactly one line and exited by itself.
    let served = server.process.wait();
    served.expect_code(0);
    assert!(served.stdout.contains("sent 13 bytes"), "{}", served.stdout);
}

#[test]
fn works_against_the_looping_server_too() {
    // The client says it is done sending (shutdown), so a server that waits
    // for more, like v2, closes and the client's read ends.
    let server = Server::start(&server_exe("v2-echo-server"));
    let done = run(EXE, &[&server.addr_arg()], b"hi\n");
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息hi\n");
}

#[test]
fn a_last_line_without_newline_is_sent_as_is() {
    let server = Server::start(&server_exe("v1-echo-server"));
    let done = run(EXE, &[&server.addr_arg()], b"no newline");
    done.expect_code(0);
    assert_eq!(done.stdout, "no newline\n");
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["localhost"], "localhost");
    testkit::assert_bad_args(EXE, &["-x"], "-x");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_refused(EXE, &[]);
    testkit::assert_unresolvable(EXE, &[]);
}

#[test]
fn with_gbk_it_sends_and_reads_the_seeds_bytes() {
    // Seed 004: the client sends HELLO in GBK and gets REPLY in GBK.
    let server = FakeServer::start(REPLY_GBK);
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
fn gbk_both_ends_with_the_real_server() {
    let mut server = Server::start_with(
        &server_exe("v1-echo-server"),
        &["127.0.0.1:0", "--encoding", "gbk"],
    );
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gbk"],
        format!("{HELLO}\n").as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(done.stdout, format!("{HELLO}\n"));
    let served = server.process.wait();
    served.expect_code(0);
    let line = format!("sent 28 bytes: \"{HELLO}\\n\"");
    assert!(served.stdout.contains(&line), "{}", served.stdout);
}

#[test]
fn a_character_gbk_cannot_write_is_an_error_and_nothing_is_sent() {
    let mut server = Server::start(&server_exe("v1-echo-server"));
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gbk"],
        "smile 😀\n".as_bytes(),
    );
    testkit::assert_fails(&done, "'😀' (U+1F600) cannot be written in GBK", None);
    assert!(done.stderr.contains("line not sent"), "{}", done.stderr);
    let served = server.process.wait();
    served.expect_code(0);
    assert!(
        served.stdout.contains("without sending anything"),
        "{}",
        served.stdout
    );
}

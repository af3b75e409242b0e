//! v1-echo-client as a real process, against the real v1 server.

use testkit::{beside, run, Server};

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
    testkit::assert_refused(EXE, &[]);
    testkit::assert_unresolvable(EXE, &[]);
}

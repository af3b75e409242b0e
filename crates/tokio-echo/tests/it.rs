//! tokio-echo as a real process over 127.0.0.1: the echo servers' protocol
//! and the contract's exits.

use std::io::Write;

use testkit::{exchange, read_until, Server};

const EXE: &str = env!("CARGO_BIN_EXE_tokio-echo");

#[test]
fn answers_every_read_with_the_prefix() {
    let server = Server::start(EXE);
    let mut first = server.connect();
    let mut second = server.connect();
    assert_eq!(exchange(&mut first, "hello\n"), "收到你的消息hello\n");
    // Both clients are served at once.
    assert_eq!(exchange(&mut second, "你好\n"), "收到你的消息你好\n");
    assert_eq!(exchange(&mut first, "again\n"), "收到你的消息again\n");

    // 16 KiB in one write comes back whole, after one prefix.
    let line = format!("{}\n", "x".repeat(16 * 1024 - 1));
    first.write_all(line.as_bytes()).expect("send");
    let reply = read_until(&mut first, b"\n", 1 << 20);
    let text = String::from_utf8(reply).expect("UTF-8");
    assert_eq!(text.replace("收到你的消息", ""), line);

    drop(first);
    server.process.wait_for_stdout("disconnected");
    assert!(server.process.stdout().contains(" connected"));
}

#[test]
fn help_bad_arguments_and_a_port_in_use() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["19535"], "19535");
    testkit::assert_bad_args(EXE, &["--workers", "2"], "--workers");
    testkit::assert_port_in_use(EXE);
}

//! v2-echo-server as a real process over 127.0.0.1: the seed's protocol,
//! one client at a time, and the contract's error exits.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use testkit::{exchange, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v2-echo-server");

#[test]
fn answers_every_message_and_logs_each_client() {
    testkit::echo::answers_every_message_and_logs_each_client(EXE);
}

#[test]
fn the_second_client_waits_until_the_first_leaves() {
    let server = Server::start(EXE);
    let mut first = server.connect();
    assert_eq!(exchange(&mut first, "one\n"), "收到你的消息one\n");

    let mut second = server.connect();
    second.write_all(b"two\n").expect("send");
    // The first client is still connected, so nobody reads the second's
    // message. Waiting half a second proves nothing by itself, but a server
    // that did answer would fail here.
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut buf = [0; 64];
    match second.read(&mut buf) {
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
        }
        other => {
            panic!("the second client was answered while the first was served: {other:?}")
        }
    }
    // The first is still served.
    assert_eq!(exchange(&mut first, "still me\n"), "收到你的消息still me\n");

    // When the first leaves, the second's waiting message is answered.
    drop(first);
    second
        .set_read_timeout(Some(testkit::TIMEOUT))
        .expect("timeout");
    let reply = testkit::read_until(&mut second, b"\n", 1024);
    assert_eq!(String::from_utf8_lossy(&reply), "收到你的消息two\n");
}

#[test]
fn a_character_cut_between_two_reads_is_echoed_whole() {
    let server = Server::start(EXE);
    testkit::assert_split_character_echoed(&mut server.connect(), "收到你的消息");
}

#[test]
fn bad_clients_do_not_stop_the_server() {
    testkit::echo::bad_clients_do_not_stop_the_server(EXE);
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["19534"], "19534");
    testkit::assert_bad_args(EXE, &["127.0.0.1:port"], "127.0.0.1:port");
    testkit::assert_bad_args(EXE, &["--port", "1"], "--port");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
}

#[test]
fn speaks_gbk_when_asked() {
    testkit::echo::speaks_gbk_when_asked(EXE);
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    testkit::assert_port_in_use(EXE);
}

#[test]
fn listens_on_ipv6_loopback_when_asked() {
    testkit::echo::listens_on_ipv6_loopback_when_asked(EXE);
}

#[test]
fn the_connect_hint_names_the_encoding() {
    let server = Server::start_with(EXE, &["127.0.0.1:0", "--encoding", "gbk"]);
    server.process.wait_for_stdout(&format!(
        "connect with: cargo run -p v2-echo-client -- {} --encoding gbk",
        server.addr
    ));
}

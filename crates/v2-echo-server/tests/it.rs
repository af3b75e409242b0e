//! v2-echo-server as a real process over 127.0.0.1: the seed's protocol,
//! one client at a time, and the contract's error exits.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use testkit::{exchange, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v2-echo-server");

#[test]
fn answers_every_message_and_logs_each_client() {
    let server = Server::start(EXE);
    let mut stream = server.connect();
    let me = stream.local_addr().expect("local addr");
    assert_eq!(exchange(&mut stream, "hello\n"), "收到你的消息hello\n");
    assert_eq!(exchange(&mut stream, "你好\n"), "收到你的消息你好\n");
    drop(stream);
    server
        .process
        .wait_for_stdout(&format!("{me} disconnected"));
    let log = server.process.stdout();
    assert!(log.contains(&format!("{me} connected")), "{log}");
    assert!(
        log.contains(&format!("{me} sent 6 bytes: \"hello\\n\"")),
        "{log}"
    );
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
    let server = Server::start(EXE);

    // Bytes that are not UTF-8 come back as U+FFFD.
    let mut garbage = server.connect();
    assert_eq!(
        String::from_utf8_lossy(&{
            garbage.write_all(b"\xff\xfe bad\n").expect("send");
            testkit::read_until(&mut garbage, b"\n", 1024)
        }),
        "收到你的消息\u{FFFD}\u{FFFD} bad\n"
    );
    drop(garbage);

    // A client that resets the connection.
    let mut rude = server.connect();
    assert_eq!(exchange(&mut rude, "bye\n"), "收到你的消息bye\n");
    testkit::reset(rude);

    // A client that half-closes: it still gets its answer.
    let mut polite = server.connect();
    polite.write_all(b"last words\n").expect("send");
    polite
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    let mut all = String::new();
    polite.read_to_string(&mut all).expect("read to the end");
    assert_eq!(all, "收到你的消息last words\n");

    let mut next = server.connect();
    assert_eq!(
        exchange(&mut next, "still there?\n"),
        "收到你的消息still there?\n"
    );
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["19534"], "19534");
    testkit::assert_bad_args(EXE, &["127.0.0.1:port"], "127.0.0.1:port");
    testkit::assert_bad_args(EXE, &["--port", "1"], "--port");
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    testkit::assert_port_in_use(EXE);
}

#[test]
fn listens_on_ipv6_loopback_when_asked() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let server = Server::start_with(EXE, &["[::1]:0"]);
    assert!(server.addr.is_ipv6());
    assert_eq!(exchange(&mut server.connect(), "v6\n"), "收到你的消息v6\n");
}

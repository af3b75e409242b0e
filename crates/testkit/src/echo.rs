//! Checks of the echo protocol of lessons 02 and 03, shared by the tests of
//! v2-echo-server and v5-echo-server: the two servers speak the same
//! protocol, so they pass the same checks.

use std::io::{Read, Write};

use crate::{exchange, read_until, reset, Server};

/// What the servers put before every echo.
pub const PREFIX: &str = "收到你的消息";

/// Every line is answered with the prefix, and the server logs the client
/// arriving, what it sent, and leaving.
pub fn answers_every_message_and_logs_each_client(exe: &str) {
    let server = Server::start(exe);
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

/// Garbage bytes, a reset and a half-close each end one session, and the
/// server goes on serving the next client.
pub fn bad_clients_do_not_stop_the_server(exe: &str) {
    let server = Server::start(exe);

    // Bytes that are not UTF-8 come back as U+FFFD.
    let mut garbage = server.connect();
    assert_eq!(
        String::from_utf8_lossy(&{
            garbage.write_all(b"\xff\xfe bad\n").expect("send");
            read_until(&mut garbage, b"\n", 1024)
        }),
        "收到你的消息\u{FFFD}\u{FFFD} bad\n"
    );
    drop(garbage);

    // A client that resets the connection.
    let mut rude = server.connect();
    assert_eq!(exchange(&mut rude, "bye\n"), "收到你的消息bye\n");
    reset(rude);

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

/// Given `[::1]:0`, the server listens on the IPv6 loopback (skipped, saying
/// so, where the machine has none).
pub fn listens_on_ipv6_loopback_when_asked(exe: &str) {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let server = Server::start_with(exe, &["[::1]:0"]);
    assert!(server.addr.is_ipv6());
    assert_eq!(exchange(&mut server.connect(), "v6\n"), "收到你的消息v6\n");
}

/// [`PREFIX`] in GBK.
pub const PREFIX_GBK: &[u8] = b"\xca\xd5\xb5\xbd\xc4\xe3\xb5\xc4\xcf\xfb\xcf\xa2";

/// With `--encoding gbk`, the server reads seed 004's GBK bytes as text (its
/// log shows them), answers prefix and text in GBK, answers bytes that are
/// not GBK with `?` and goes on, and completes a character cut between two
/// reads.
pub fn speaks_gbk_when_asked(exe: &str) {
    use crate::seed004::{HELLO, HELLO_GBK, REPLY_GBK};
    let gbk_reply = |text: &[u8]| [PREFIX_GBK, text].concat();
    let server = Server::start_with(exe, &["127.0.0.1:0", "--encoding", "gbk"]);
    let mut stream = server.connect();

    stream
        .write_all(&[HELLO_GBK, b"\n"].concat())
        .expect("send");
    let reply = read_until(&mut stream, b"\n", 1024);
    assert_eq!(reply, gbk_reply(&[HELLO_GBK, b"\n"].concat()));
    server
        .process
        .wait_for_stdout(&format!("sent 28 bytes: \"{HELLO}\\n\""));

    // 0x81 starts a two-byte character, but 0x20 cannot end one: U+FFFD
    // and a space, which GBK can only answer as `?` and a space.
    stream.write_all(b"\x81\x20x\n").expect("send");
    let reply = read_until(&mut stream, b"\n", 1024);
    assert_eq!(reply, gbk_reply(b"? x\n"));
    server
        .process
        .wait_for_stdout("sent 4 bytes: \"\u{FFFD} x\\n\"");

    // `a` and the first byte of 我; the server answers `a` only. Then the
    // second byte: the answer is the whole character.
    stream
        .write_all(&[b"a", &REPLY_GBK[..1]].concat())
        .expect("send");
    let first = read_until(&mut stream, b"a", 1024);
    assert_eq!(first, gbk_reply(b"a"));
    stream
        .write_all(&[&REPLY_GBK[1..2], b"\n"].concat())
        .expect("send");
    let second = read_until(&mut stream, b"\n", 1024);
    assert_eq!(second, gbk_reply(&[&REPLY_GBK[..2], b"\n"].concat()));
}

//! udp-sender as a real process: what arrives at a test socket is exactly
//! the datagrams it should send.

use std::net::UdpSocket;
use std::time::Duration;

use testkit::run;

const EXE: &str = env!("CARGO_BIN_EXE_udp-sender");

/// The seed 004 sentence and its GBK bytes, as the seed printed them.
const SEED_TEXT: &str = "你好服务端，我是客户端小黑!";
const SEED_GBK: &[u8] = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";

/// A socket that receives what the sender sends.
fn receiver() -> (UdpSocket, String) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let addr = socket.local_addr().expect("addr").to_string();
    (socket, addr)
}

/// The next `count` datagrams.
fn datagrams(socket: &UdpSocket, count: usize) -> Vec<Vec<u8>> {
    let mut buf = [0; 65_536];
    (0..count)
        .map(|_| {
            let (n, _) = socket.recv_from(&mut buf).expect("a datagram");
            buf[..n].to_vec()
        })
        .collect()
}

#[test]
fn each_argument_is_one_datagram_without_a_newline() {
    let (socket, addr) = receiver();
    let done = run(EXE, &[&addr, "hello", "你好", ""], b"");
    done.expect_code(0);
    assert_eq!(
        datagrams(&socket, 3),
        [b"hello".to_vec(), "你好".as_bytes().to_vec(), Vec::new()]
    );
    assert_eq!(
        done.stdout,
        format!(
            "sent 5 bytes to {addr}\nsent 6 bytes to {addr}\nsent 0 bytes to {addr}\n"
        )
    );
}

#[test]
fn each_stdin_line_is_one_datagram_without_its_newline() {
    let (socket, addr) = receiver();
    let done = run(EXE, &[&addr], b"one\r\ntwo\nlast without newline");
    done.expect_code(0);
    assert_eq!(
        datagrams(&socket, 3),
        [
            b"one".to_vec(),
            b"two".to_vec(),
            b"last without newline".to_vec()
        ]
    );
}

#[test]
fn gbk_puts_the_seeds_bytes_on_the_wire() {
    let (socket, addr) = receiver();
    let done = run(EXE, &[&addr, "--encoding", "gbk", SEED_TEXT], b"");
    done.expect_code(0);
    assert_eq!(datagrams(&socket, 1), [SEED_GBK.to_vec()]);
    let (socket, addr) = receiver();
    run(EXE, &[&addr, "--encoding", "gb2312", "我是服务器"], b"").expect_code(0);
    assert_eq!(
        datagrams(&socket, 1),
        [b"\xce\xd2\xca\xc7\xb7\xfe\xce\xf1\xc6\xf7".to_vec()]
    );
}

#[test]
fn a_character_gbk_cannot_write_is_reported_not_sent() {
    let (socket, addr) = receiver();
    let done = run(EXE, &[&addr, "--encoding", "gbk", "smile 😀", "plain"], b"");
    testkit::assert_fails(&done, "1 message(s) could not be written in GBK", None);
    assert!(
        done.stderr
            .contains("'😀' (U+1F600) cannot be written in GBK"),
        "{}",
        done.stderr
    );
    // Only the message it could write went out.
    assert_eq!(datagrams(&socket, 1), [b"plain".to_vec()]);
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &[], "ADDR");
    testkit::assert_bad_args(EXE, &["7789", "hi"], "7789");
    // Port 0 is where nothing receives: refused before anything is sent,
    // however it is written.
    testkit::assert_bad_args(EXE, &["127.0.0.1:0", "x"], "port 0");
    testkit::assert_bad_args(EXE, &["[::1]:00", "x"], "[::1]:00");
    testkit::assert_bad_args(EXE, &["no-such-host.invalid:0", "x"], "port 0");
    testkit::assert_bad_args(EXE, &["127.0.0.1:7789", "--encoding", "ascii"], "ascii");
    testkit::assert_unresolvable(EXE, &["hi"]);
}

#[test]
fn answer_07_2_each_line_goes_out_with_its_number_in_front() {
    let (socket, addr) = receiver();
    let done = run(
        &testkit::example("answer-07-2-sender"),
        &[&addr],
        "one\ntwo\r\n你好\n".as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(
        datagrams(&socket, 3),
        [
            b"1 one".to_vec(),
            b"2 two".to_vec(),
            "3 你好".as_bytes().to_vec()
        ]
    );
    assert_eq!(
        done.stdout,
        format!(
            "sent 5 bytes to {addr}: 1 one\nsent 5 bytes to {addr}: 2 two\n\
             sent 8 bytes to {addr}: 3 你好\n"
        )
    );
}

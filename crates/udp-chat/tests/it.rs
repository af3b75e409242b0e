//! Two udp-chat processes talking to each other over loopback.

use std::net::UdpSocket;

use testkit::Process;

const EXE: &str = env!("CARGO_BIN_EXE_udp-chat");

/// A free UDP port on 127.0.0.1 (bound and released: nothing else takes it
/// this soon).
fn free_addr() -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").to_string()
}

#[test]
fn two_peers_talk_both_ways() {
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let mut a = Process::spawn(EXE, &["--listen", &a_addr, "--peer", &b_addr]);
    let mut b = Process::spawn(
        EXE,
        &["--listen", &b_addr, "--peer", &a_addr, "--encoding", "gbk"],
    );
    a.wait_for_stdout(&format!("listening on {a_addr}"));
    b.wait_for_stdout(&format!("listening on {b_addr}"));

    a.send_stdin("hello from a\n".as_bytes());
    b.wait_for_stdout(&format!("[{a_addr}]: hello from a\n"));
    b.send_stdin("你好 from b\n".as_bytes());
    // b sends GBK; a reads UTF-8: the bytes are not valid UTF-8, shown as
    // U+FFFD, and nothing breaks.
    a.wait_for_stdout("from b\n");
    assert!(a.stdout().contains('\u{FFFD}'), "{}", a.stdout());

    // The end of input ends each chat, with exit code 0.
    a.close_stdin();
    b.close_stdin();
    a.wait().expect_code(0);
    b.wait().expect_code(0);
}

#[test]
fn same_encoding_both_sides_round_trips() {
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let a = Process::spawn(
        EXE,
        &["--listen", &a_addr, "--peer", &b_addr, "--encoding", "gbk"],
    );
    let mut b = Process::spawn(
        EXE,
        &["--listen", &b_addr, "--peer", &a_addr, "--encoding", "gbk"],
    );
    a.wait_for_stdout("listening on");
    b.wait_for_stdout("listening on");
    b.send_stdin("我是服务器\n".as_bytes());
    a.wait_for_stdout(&format!("[{b_addr}]: 我是服务器\n"));
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &[], "--peer");
    testkit::assert_bad_args(EXE, &["--peer", "4568"], "4568");
    testkit::assert_bad_args(EXE, &["--peer", "127.0.0.1:1", "extra"], "extra");
    // Port 0 is where nobody receives: refused before anything is bound.
    let free = free_addr();
    testkit::assert_bad_args(
        EXE,
        &["--listen", &free, "--peer", "127.0.0.1:0"],
        "port 0",
    );
    testkit::assert_bad_args(EXE, &["--listen", &free, "--peer", "[::1]:000"], "port 0");
}

#[test]
fn listen_and_peer_in_different_families_are_refused_at_once() {
    // An IPv6 socket cannot send to an IPv4 address: say so before binding,
    // not at the first line typed. The listen port is free in both cases,
    // so only the mismatch can be the error.
    let v4 = free_addr();
    for (listen, peer) in [("[::1]:0", v4.as_str()), (v4.as_str(), "[::1]:4568")] {
        let done = testkit::run(EXE, &["--listen", listen, "--peer", peer], b"hello\n");
        done.expect_code(2);
        let line = done.stderr.trim_end();
        if line.lines().count() != 1 || !line.contains("IPv4") || !line.contains("IPv6") {
            done.fail("expected one line naming IPv4 and IPv6");
        }
        if !line.contains(listen) || !line.contains(peer) {
            done.fail("the line does not name both addresses");
        }
        if done.stdout.contains("listening on") {
            done.fail("it bound before refusing");
        }
    }
}

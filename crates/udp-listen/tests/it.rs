//! udp-listen as a real process, with the real udp-beacon: a group on
//! loopback (127.0.0.1 joins it, and nothing leaves the machine), copies for
//! every member, other groups and unicast kept out,
//! broadcast, silence, hostile bytes, the command line.

use std::net::{SocketAddr, UdpSocket};

use testkit::{beside, run, Server};

const EXE: &str = env!("CARGO_BIN_EXE_udp-listen");

/// The lesson's group; each test has a port of its own, so tests running
/// at the same time never hear each other.
const GROUP: &str = "239.255.14.14";

fn beacon() -> String {
    beside(EXE, "udp-beacon")
}

/// A listener on the lesson's group, port 0, joined on loopback.
fn listener() -> Server {
    Server::start_with(EXE, &[&format!("{GROUP}:0")])
}

/// Runs udp-beacon with `args` to its end, expecting exit 0.
fn send(args: &[&str]) {
    run(&beacon(), args, b"").expect_code(0);
}

/// A test socket on loopback that sends to `to` as a member of nothing.
fn send_raw(bytes: &[u8], to: SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a test socket");
    socket2::SockRef::from(&socket)
        .set_multicast_if_v4(&"127.0.0.1".parse().expect("an address"))
        .expect("IP_MULTICAST_IF");
    socket.send_to(bytes, to).expect("send");
}

#[test]
fn the_beacon_reaches_the_listener_and_it_says_where_it_joined() {
    let listen = listener();
    let target = listen.addr_arg();
    send(&[&target, "--count", "3", "--interval", "0.05"]);
    listen.process.wait_for_stdout("]: beacon 3\n");
    let out = listen.process.stdout();
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines[0], format!("listening on {target}"), "{out}");
    assert_eq!(lines[1], format!("joined {GROUP} on 127.0.0.1"), "{out}");
    // The sender's own address, on loopback, and the three in order.
    for (i, line) in lines[2..].iter().enumerate() {
        assert!(line.starts_with("[127.0.0.1:"), "{out}");
        assert!(line.ends_with(&format!("]: beacon {}", i + 1)), "{out}");
    }
    assert_eq!(lines.len(), 5, "{out}");
}

#[test]
fn every_member_on_the_host_gets_its_own_copy() {
    let first = listener();
    // The same group and port a second time: SO_REUSEADDR allows it.
    let second = Server::start_with(EXE, &[&first.addr_arg()]);
    assert_eq!(first.addr, second.addr);
    send(&[
        &first.addr_arg(),
        "hello, class",
        "--count",
        "2",
        "--interval",
        "0.05",
    ]);
    for member in [&first, &second] {
        member.process.wait_for_stdout_count("]: hello, class\n", 2);
    }
}

#[test]
fn another_group_and_unicast_to_the_port_are_not_heard() {
    let listen = listener();
    let port = listen.addr.port();
    // A member of another group on the same port: it hears its own group
    // only, and ours does not hear it.
    let other = Server::start_with(EXE, &[&format!("239.255.14.15:{port}")]);
    send(&[&format!("239.255.14.15:{port}"), "for .15", "--count", "1"]);
    other.process.wait_for_stdout("]: for .15\n");
    // A datagram to the port on 127.0.0.1: the socket is bound to the
    // group's address, so it is not for this socket.
    send_raw(
        b"unicast",
        format!("127.0.0.1:{port}").parse().expect("addr"),
    );
    send(&[&listen.addr_arg(), "for .14", "--count", "1"]);
    listen.process.wait_for_stdout("]: for .14\n");
    let out = listen.process.stdout();
    assert!(
        !out.contains("for .15") && !out.contains("unicast"),
        "{out}"
    );
    assert!(!other.process.stdout().contains("for .14"));
}

#[test]
fn count_ends_it_and_a_silent_group_is_exit_1_with_a_hint() {
    let mut listen =
        testkit::Process::spawn(EXE, &[&format!("{GROUP}:0"), "--count", "1"]);
    listen.wait_for_stdout("joined");
    let port = listen
        .stdout()
        .lines()
        .next()
        .and_then(|l| l.rsplit_once(':'))
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .expect("a port on the first line");
    send(&[&format!("{GROUP}:{port}"), "only one", "--count", "1"]);
    let done = listen.wait();
    done.expect_code(0);
    assert!(done.stdout.ends_with("]: only one\n"), "{}", done.stdout);

    // Nobody sends: --timeout ends the wait.
    let done = run(EXE, &[&format!("{GROUP}:0"), "--timeout", "0.3"], b"");
    testkit::assert_fails(&done, "nothing arrived", Some("Wi-Fi"));
    assert!(done.stdout.starts_with("listening on "), "{}", done.stdout);
}

#[test]
fn hostile_bytes_are_escaped() {
    let listen = listener();
    send_raw(b"\xff\xfe bad \x1b[2J", listen.addr);
    send_raw(b"", listen.addr);
    send(&[&listen.addr_arg(), "still here", "--count", "1"]);
    listen.process.wait_for_stdout("]: still here\n");
    let out = listen.process.stdout();
    assert!(
        out.contains("]: \u{FFFD}\u{FFFD} bad \\u{1b}[2J\n"),
        "{out}"
    );
    assert!(out.contains("]: \n"), "the empty datagram: {out}");
    assert!(!out.contains('\u{1b}'), "an escape reached the terminal");
}

// Sent from 127.0.0.1, a broadcast to 255.255.255.255 goes out of the
// interface that has that address, loopback, on Linux. Other systems may
// choose the default route's interface instead, and a test must not send
// anything off the machine: Linux only.
#[cfg(target_os = "linux")]
#[test]
fn a_broadcast_is_heard_by_a_socket_bound_to_the_broadcast_address() {
    let listen = Server::start_with(EXE, &["255.255.255.255:0"]);
    let target = listen.addr_arg();
    assert!(target.starts_with("255.255.255.255:"), "{target}");
    send(&[&target, "to everyone", "--count", "1"]);
    listen.process.wait_for_stdout("]: to everyone\n");
    // No group, so no `joined` line.
    assert!(!listen.process.stdout().contains("joined"));
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["7814"], "7814");
    testkit::assert_bad_args(EXE, &["localhost:7814"], "localhost:7814");
    testkit::assert_bad_args(EXE, &["--on", "lo"], "lo");
    testkit::assert_bad_args(EXE, &["[ff02::14]:7814"], "ff02::14");
    testkit::assert_bad_args(EXE, &["127.0.0.1:0", "--on", "127.0.0.1"], "127.0.0.1:0");
    testkit::assert_bad_args(EXE, &["--count", "0"], "0");
    testkit::assert_bad_args(EXE, &["--timeout", "0"], "0");
    testkit::assert_bad_args(EXE, &["--timeout", "soon"], "soon");
    // An interface that does not exist is a run-time failure.
    let done = run(EXE, &["[ff02::14]:0", "--on", "nosuch0"], b"");
    testkit::assert_fails(&done, "no interface named \"nosuch0\"", None);
    // 192.0.2.99 (a documentation address) is not this machine's: the join
    // fails here, and nothing is sent.
    let done = run(EXE, &[&format!("{GROUP}:0"), "--on", "192.0.2.99"], b"");
    testkit::assert_fails(&done, "cannot join", None);
}

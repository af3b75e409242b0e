//! udp-beacon as a real process: its datagrams on a test member of the
//! group on loopback, the options it says it set, the command line.

use std::net::UdpSocket;

use testkit::run;

const EXE: &str = env!("CARGO_BIN_EXE_udp-beacon");

/// A member of 239.255.14.14 on loopback, with a port of its own.
fn member() -> UdpSocket {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    let group = "239.255.14.14".parse().expect("group");
    socket
        .bind(&std::net::SocketAddr::from((group, 0)).into())
        .expect("bind the group");
    socket
        .join_multicast_v4(&group, &"127.0.0.1".parse().expect("lo"))
        .expect("join on loopback");
    let socket: UdpSocket = socket.into();
    socket
        .set_read_timeout(Some(testkit::TIMEOUT))
        .expect("timeout");
    socket
}

#[test]
fn sends_count_datagrams_and_says_how() {
    let member = member();
    let target = member.local_addr().expect("addr").to_string();
    let done = run(EXE, &[&target, "--count", "3", "--interval", "0.01"], b"");
    done.expect_code(0);
    let lines: Vec<_> = done.stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!("sending to {target} from 127.0.0.1:")),
        "{}",
        done.stdout
    );
    assert!(
        lines[0].ends_with("(multicast, ttl 1, loop on)"),
        "{}",
        done.stdout
    );
    assert_eq!(
        &lines[1..],
        [
            "sent 8 bytes: beacon 1",
            "sent 8 bytes: beacon 2",
            "sent 8 bytes: beacon 3"
        ]
    );
    let mut buf = [0; 64];
    for i in 1..=3 {
        let (n, from) = member.recv_from(&mut buf).expect("a beacon");
        assert_eq!(&buf[..n], format!("beacon {i}").as_bytes());
        // The source is the address it said it sent from.
        assert!(lines[0].contains(&format!("from {from} ")), "{from}");
    }
}

#[test]
fn the_message_goes_exactly_as_given_with_the_options_asked() {
    let member = member();
    let target = member.local_addr().expect("addr").to_string();
    let done = run(
        EXE,
        &[
            &target,
            "chat-server on 10.14.1.1:12345",
            "--ttl",
            "4",
            "--count",
            "1",
        ],
        b"",
    );
    done.expect_code(0);
    assert!(
        done.stdout.contains("(multicast, ttl 4, loop on)"),
        "{}",
        done.stdout
    );
    assert!(done
        .stdout
        .contains("sent 30 bytes: chat-server on 10.14.1.1:12345\n"));
    let mut buf = [0; 64];
    let (n, _) = member.recv_from(&mut buf).expect("the beacon");
    assert_eq!(&buf[..n], b"chat-server on 10.14.1.1:12345");
}

// On loopback the interface itself hands every datagram back to this
// host, so IP_MULTICAST_LOOP has nothing to switch off there (Linux):
// scripts/test-classroom shows the option on a real link, where it counts.
#[cfg(target_os = "linux")]
#[test]
fn on_loopback_the_loop_off_still_arrives() {
    let member = member();
    let target = member.local_addr().expect("addr").to_string();
    let done = run(EXE, &[&target, "--no-loop", "--count", "1"], b"");
    done.expect_code(0);
    assert!(
        done.stdout.contains("(multicast, ttl 1, loop off)"),
        "{}",
        done.stdout
    );
    let mut buf = [0; 64];
    let (n, _) = member
        .recv_from(&mut buf)
        .expect("the beacon, looped by lo");
    assert_eq!(&buf[..n], b"beacon 1");
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["7814"], "7814");
    testkit::assert_bad_args(EXE, &["239.255.14.14:0"], "239.255.14.14:0");
    testkit::assert_bad_args(EXE, &["localhost:7814"], "localhost:7814");
    testkit::assert_bad_args(EXE, &["[::1]:7814"], "[::1]:7814");
    testkit::assert_bad_args(EXE, &["[ff02::14]:7814"], "ff02::14");
    testkit::assert_bad_args(EXE, &["--on", "lo"], "lo");
    testkit::assert_bad_args(EXE, &["--ttl", "256"], "256");
    testkit::assert_bad_args(EXE, &["--count", "0"], "0");
    testkit::assert_bad_args(EXE, &["--interval", "0"], "0");
    testkit::assert_bad_args(EXE, &["239.255.14.14:7814", "one", "two"], "two");
    let done = run(EXE, &["[ff02::14]:7814", "--on", "nosuch0"], b"");
    testkit::assert_fails(&done, "no interface named \"nosuch0\"", None);
    // Not this machine's address: the bind fails, nothing is sent.
    let done = run(EXE, &["239.255.14.14:7814", "--on", "192.0.2.99"], b"");
    testkit::assert_fails(&done, "cannot bind 192.0.2.99", None);
}

//! icmp-ping as a real process: its command line, pings to 127.0.0.1 and
//! ::1, packets that are not replies, and (as root, in network namespaces of
//! the test's own) a host that never answers and the privilege rules.
//!
//! Opening an ICMP socket needs root, CAP_NET_RAW or a ping_group_range that
//! includes the user, so `cargo test` runs only the tests that need none of
//! them (on a student's laptop, too) and lists the others as ignored, with
//! the reason. `scripts/test-icmp-ping`, which CI runs as root, runs them
//! all: `cargo test -p icmp-ping -- --include-ignored`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use testkit::{assert_bad_args, assert_fails, assert_help, run, Finished, Process};

const EXE: &str = env!("CARGO_BIN_EXE_icmp-ping");

/// Fails the test at once, saying why, if this process can open no ICMP
/// socket of either kind.
fn require_icmp() {
    let raw = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4));
    let ping = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4));
    assert!(
        raw.is_ok() || ping.is_ok(),
        "no ICMP socket opens here: run as root (sudo scripts/test-icmp-ping), \
         or allow your group in net.ipv4.ping_group_range"
    );
}

/// True if this process may open a raw socket (root or CAP_NET_RAW).
fn raw_allowed() -> bool {
    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).is_ok()
}

/// Checks the reply lines and statistics of a run that got every reply.
fn assert_all_replies(done: &Finished, host: &str, count: u16) {
    done.expect_code(0);
    for seq in 1..=count {
        let line = format!("64 bytes from {host}: icmp_seq={seq} ");
        if !done.stdout.contains(&line) {
            done.fail(&format!("no line {line:?}"));
        }
    }
    let stats = format!("--- {host} ping statistics ---\n{count} packets transmitted, {count} received, 0% packet loss, time ");
    if !done.stdout.contains(&stats) {
        done.fail(&format!("no statistics {stats:?}"));
    }
    if !done.stdout.contains("rtt min/avg/max/mdev = ") || done.stdout.contains("DUP!") {
        done.fail("expected the rtt line and no duplicates");
    }
}

#[test]
fn help_shows_usage_and_an_example() {
    assert_help(EXE);
}

#[test]
fn bad_arguments_exit_2_naming_the_value() {
    assert_bad_args(EXE, &[], "missing HOST");
    assert_bad_args(EXE, &["-c", "0", "127.0.0.1"], "\"0\"");
    assert_bad_args(EXE, &["-c", "many", "127.0.0.1"], "\"many\"");
    assert_bad_args(EXE, &["-c", "70000", "127.0.0.1"], "\"70000\"");
    assert_bad_args(EXE, &["-i", "0", "127.0.0.1"], "\"0\"");
    assert_bad_args(EXE, &["-W", "-1", "127.0.0.1"], "-1");
    assert_bad_args(EXE, &["-s", "65508", "127.0.0.1"], "\"65508\"");
    assert_bad_args(EXE, &["127.0.0.1:80"], "127.0.0.1:80");
    assert_bad_args(EXE, &["127.0.0.1", "::1"], "::1");
    assert_bad_args(EXE, &["--flood", "127.0.0.1"], "--flood");
}

#[test]
fn a_name_that_does_not_resolve_exits_1_with_a_hint() {
    // Offline, so that the name becomes no DNS query leaving the machine.
    let done = testkit::run_offline(EXE, &["-c", "1", "no-such-host.invalid"], b"");
    assert_fails(&done, "no-such-host.invalid", Some("host name"));
}

#[test]
#[ignore = "needs an ICMP socket: scripts/test-icmp-ping runs it"]
fn pings_127_0_0_1() {
    require_icmp();
    let done = run(EXE, &["-c", "3", "-i", "0.2", "127.0.0.1"], b"");
    assert!(done
        .stdout
        .starts_with("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n"));
    assert_all_replies(&done, "127.0.0.1", 3);
    // A raw socket reads the IP header, and loopback's TTL is Linux's 64.
    if raw_allowed() && !done.stdout.contains("icmp_seq=1 ttl=64 time=") {
        done.fail("a raw socket shows the TTL");
    }
}

#[test]
#[ignore = "needs an ICMP socket: scripts/test-icmp-ping runs it"]
fn pings_ipv6_loopback() {
    require_icmp();
    let done = run(EXE, &["-c", "2", "-i", "0.2", "-s", "100", "::1"], b"");
    assert!(
        done.stdout.starts_with("PING ::1 (::1) 100 data bytes\n"),
        "{}",
        done.stdout
    );
    for seq in 1..=2 {
        let line = format!("108 bytes from ::1: icmp_seq={seq} time=");
        if !done.stdout.contains(&line) {
            done.fail(&format!("no line {line:?}"));
        }
    }
    done.expect_code(0);
}

#[test]
#[ignore = "needs an ICMP socket: scripts/test-icmp-ping runs it"]
fn sizes_too_small_for_a_time_stamp_still_match() {
    require_icmp();
    for size in ["0", "7", "1473"] {
        let done = run(EXE, &["-c", "2", "-i", "0.1", "-s", size, "127.0.0.1"], b"");
        let bytes = size.parse::<usize>().expect("a number") + 8;
        if !done
            .stdout
            .contains(&format!("{bytes} bytes from 127.0.0.1: icmp_seq=2 "))
        {
            done.fail(&format!("-s {size}: no reply of {bytes} bytes"));
        }
        if !done.stdout.contains("2 received, 0% packet loss") {
            done.fail(&format!("-s {size}: lost a reply"));
        }
    }
}

/// An ICMP message with its checksum filled in.
fn icmp(kind: u8, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![kind, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(payload);
    let mut sum: u32 = packet
        .chunks(2)
        .map(|w| u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let sum = !(sum as u16);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// `icmp` behind an IPv4 header from 127.0.0.1 to 127.0.0.1. The kernel
/// fills in the header's length, identification and checksum.
fn with_ip_header(icmp: &[u8]) -> Vec<u8> {
    let mut packet = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ];
    packet.extend_from_slice(icmp);
    packet
}

#[test]
#[ignore = "needs root: scripts/test-icmp-ping runs it"]
fn packets_that_are_not_its_replies_are_ignored() {
    // IPPROTO_RAW (255): we write the IP header too (IP_HDRINCL), so that
    // even an ICMP message shorter than its header can be sent.
    let forger = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))
        .expect("forging packets needs a raw socket: run as root");
    // With -s 7 there is no time stamp: the payload is the filler alone,
    // 0x10 to 0x16, and a reply can be forged exactly.
    let ping = Process::spawn(EXE, &["-c", "4", "-i", "0.3", "-s", "7", "127.0.0.1"]);
    let filler: Vec<u8> = (0x10..0x17).collect();
    // The identifier a raw socket's ping uses: its process id.
    let id = (ping.pid() & 0xffff) as u16;
    ping.wait_for_stdout("icmp_seq=1 ");
    let to = SockAddr::from(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
    let mut bad_checksum = icmp(0, id, 1, &filler);
    bad_checksum[2] ^= 0xff;
    let forged: Vec<Vec<u8>> = vec![
        vec![0],                                 // one byte
        vec![0, 0, 0],                           // shorter than an ICMP header
        icmp(0, id.wrapping_add(1), 1, &filler), // someone else's reply
        icmp(0, id, 1, &[0xee; 7]),              // not our payload
        icmp(0, id, 1, &[]),                     // cut short
        icmp(0, id, 999, &filler),               // a sequence never sent
        icmp(0, id, 0, &filler),                 // sequence 0
        bad_checksum,                            // a flipped checksum
        icmp(3, 0, 0, &[0x45; 28]),              // "unreachable", with nonsense
        icmp(8, id.wrapping_add(1), 1, &filler), // a request, not a reply
        icmp(0, id, 1, &filler),                 // a true duplicate of reply 1
    ];
    for packet in &forged {
        forger
            .send_to(&with_ip_header(packet), &to)
            .unwrap_or_else(|err| panic!("cannot send {packet:02x?}: {err}"));
    }
    let mut ping = ping;
    let done = ping.wait();
    done.expect_code(0);
    for seq in 1..=4 {
        if !done
            .stdout
            .contains(&format!("15 bytes from 127.0.0.1: icmp_seq={seq} ttl=64 "))
        {
            done.fail(&format!("no reply line for icmp_seq={seq}"));
        }
    }
    // Only the true duplicate counts, as one, and nothing else was a reply.
    let stats = "4 packets transmitted, 4 received, +1 duplicates, 0% packet loss";
    if done.stdout.matches("(DUP!)").count() != 1
        || !done.stdout.contains(stats)
        || done.stdout.matches(" bytes from ").count() != 5
    {
        done.fail(&format!("expected one DUP! line and {stats:?}"));
    }
    // Set aside: the eight forged packets of 8 bytes or more that are not
    // replies to it (the kernel drops ICMP messages shorter than their header
    // before any raw socket sees them), the kernel's answer to the forged
    // request, and the four requests of its own that loopback shows it.
    // Other pings running at the same time can only add to that.
    let ignored = done
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix('(')?.split_once(" other ICMP packet"))
        .and_then(|(n, _)| n.parse::<u32>().ok());
    match ignored {
        Some(n) if n >= 13 => {}
        _ => done.fail("expected at least 13 packets ignored"),
    }
}

// ---- Tests that need root: network namespaces of the test's own ----

/// Network namespaces of a test's own, removed on drop (also when the test
/// fails half-way; deleting a namespace deletes the veth ends inside it).
/// Names are unique per process and test.
struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    /// Creates one namespace per role, each with its loopback up.
    fn create(roles: &[&str]) -> Namespaces {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = format!("icmp-ping-{}-{n}", std::process::id());
        // The guard exists before the first namespace: whatever was made is
        // removed, whichever step fails.
        let mut ns = Namespaces { names: Vec::new() };
        for role in roles {
            let name = format!("{base}-{role}");
            ns.names.push(name.clone());
            ip(&["netns", "add", &name]);
            ip(&["-n", &name, "link", "set", "lo", "up"]);
        }
        ns
    }

    /// Two namespaces joined by a veth pair: `near` has 192.0.2.1/24 (a
    /// documentation network that no real network routes), `far` has the
    /// other end, up, with no address.
    fn two() -> Namespaces {
        let ns = Namespaces::create(&["near", "far"]);
        ns.link(0, "veth0", 1, "veth0");
        ip(&[
            "-n",
            ns.near(),
            "addr",
            "add",
            "192.0.2.1/24",
            "dev",
            "veth0",
        ]);
        ns
    }

    /// A veth pair from namespace `a` (interface `a_if`) to `b` (`b_if`), up.
    fn link(&self, a: usize, a_if: &str, b: usize, b_if: &str) {
        let (na, nb) = (&self.names[a], &self.names[b]);
        ip(&[
            "-n", na, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns",
            nb,
        ]);
        ip(&["-n", na, "link", "set", a_if, "up"]);
        ip(&["-n", nb, "link", "set", b_if, "up"]);
    }

    fn near(&self) -> &str {
        &self.names[0]
    }

    fn far(&self) -> &str {
        &self.names[1]
    }

    /// Runs `exe ARGS` in namespace `i` as root.
    fn exec(&self, i: usize, exe: &str, args: &[&str]) -> Finished {
        let mut all = vec!["netns", "exec", &self.names[i], exe];
        all.extend_from_slice(args);
        run("ip", &all, b"")
    }

    /// Runs icmp-ping in `near` as root.
    fn ping(&self, args: &[&str]) -> Finished {
        self.exec(0, EXE, args)
    }

    /// Runs icmp-ping in `near` as the user and group nobody (65534).
    fn ping_as_nobody(&self, args: &[&str]) -> Finished {
        let mut all = vec!["--reuid=65534", "--regid=65534", "--clear-groups", EXE];
        all.extend_from_slice(args);
        self.exec(0, "setpriv", &all)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Runs `ip ARGS`, failing the test with its output if it fails.
fn ip(args: &[&str]) {
    run("ip", args, b"").expect_code(0);
}

#[test]
#[ignore = "needs root: scripts/test-icmp-ping runs it"]
fn a_host_that_never_answers_is_100_percent_loss_and_exit_1() {
    let ns = Namespaces::two();
    // 192.0.2.2 is on the link, and nobody has it: no ARP answer, no reply.
    let done = ns.ping(&["-c", "2", "-i", "0.2", "-W", "0.5", "192.0.2.2"]);
    assert_fails(&done, "no reply from 192.0.2.2 to 2 echo requests", None);
    if !done
        .stdout
        .contains("2 packets transmitted, 0 received, 100% packet loss")
        || done.stdout.contains("bytes from")
        || done.stdout.contains("rtt ")
    {
        done.fail("expected 100% loss and no rtt line");
    }
    // Once the far end has the address, the same command gets its replies,
    // over a real link, from another network stack.
    ip(&[
        "-n",
        ns.far(),
        "addr",
        "add",
        "192.0.2.2/24",
        "dev",
        "veth0",
    ]);
    let done = ns.ping(&["-c", "2", "-i", "0.2", "192.0.2.2"]);
    assert_all_replies(&done, "192.0.2.2", 2);
    if !done.stdout.contains("ttl=64") {
        done.fail("expected the far namespace's TTL, 64");
    }
}

#[test]
#[ignore = "needs root: scripts/test-icmp-ping runs it"]
fn without_root_it_needs_ping_group_range_and_says_so() {
    let ns = Namespaces::two();
    // A new namespace starts with ping_group_range "1 0": no group at all.
    let done = ns.ping_as_nobody(&["-c", "1", "127.0.0.1"]);
    assert_fails(&done, "CAP_NET_RAW", None);
    for needle in [
        "net.ipv4.ping_group_range (now \"1 0\")",
        "your group 65534",
        "sudo",
    ] {
        if !done.stderr.contains(needle) {
            done.fail(&format!("the error does not say {needle:?}"));
        }
    }
    if done.stderr.lines().count() != 1 {
        done.fail("expected one line");
    }
    // Allow every group: the ping socket opens, the kernel sets the
    // identifier, and there is no IP header, so no TTL.
    ip(&[
        "netns",
        "exec",
        ns.near(),
        "sysctl",
        "-qw",
        "net.ipv4.ping_group_range=0 2147483647",
    ]);
    for host in ["127.0.0.1", "::1"] {
        let done = ns.ping_as_nobody(&["-c", "2", "-i", "0.2", host]);
        assert_all_replies(&done, host, 2);
        if done.stdout.contains("ttl=") || done.stdout.contains("ignored") {
            done.fail("a ping socket sees only its replies, without their IP header");
        }
    }
}

#[test]
#[ignore = "needs root: scripts/test-icmp-ping runs it"]
fn answer_15_1_traceroute_finds_the_router_between_two_namespaces() {
    // host (192.0.2.1) -- router (192.0.2.254 | 198.51.100.254) -- target
    // (198.51.100.1): two documentation networks and one real hop.
    let ns = Namespaces::create(&["host", "router", "target"]);
    ns.link(0, "veth0", 1, "left");
    ns.link(1, "right", 2, "veth0");
    let (host, router, target) = (&ns.names[0], &ns.names[1], &ns.names[2]);
    ip(&["-n", host, "addr", "add", "192.0.2.1/24", "dev", "veth0"]);
    ip(&["-n", router, "addr", "add", "192.0.2.254/24", "dev", "left"]);
    ip(&[
        "-n",
        router,
        "addr",
        "add",
        "198.51.100.254/24",
        "dev",
        "right",
    ]);
    ip(&[
        "-n",
        target,
        "addr",
        "add",
        "198.51.100.1/24",
        "dev",
        "veth0",
    ]);
    ip(&["-n", host, "route", "add", "default", "via", "192.0.2.254"]);
    ip(&[
        "-n",
        target,
        "route",
        "add",
        "default",
        "via",
        "198.51.100.254",
    ]);
    ns.exec(1, "sysctl", &["-qw", "net.ipv4.ip_forward=1"])
        .expect_code(0);

    let exe = testkit::example("answer-15-1");
    let done = ns.exec(0, &exe, &["-m", "5", "-W", "2", "198.51.100.1"]);
    done.expect_code(0);
    let hops: Vec<&str> = done.stdout.lines().skip(1).collect();
    let shape = hops.len() == 2
        && hops[0].starts_with(" 1  192.0.2.254  ")
        && hops[1].starts_with(" 2  198.51.100.1  ");
    if !shape {
        done.fail("expected hop 1 the router, hop 2 the target");
    }

    // Without forwarding, the router drops what is not for itself, and
    // silently (Linux sends no ICMP error for it then): every hop is a `*`.
    ns.exec(1, "sysctl", &["-qw", "net.ipv4.ip_forward=0"])
        .expect_code(0);
    let done = ns.exec(0, &exe, &["-m", "2", "-W", "0.3", "198.51.100.1"]);
    assert_fails(&done, "did not answer within 2 hops", None);
    if !done.stdout.contains("\n 1  *\n 2  *\n") {
        done.fail("expected a `*` for each hop");
    }
}

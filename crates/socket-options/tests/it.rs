//! socket-options as a real process: each demonstration runs to its end on
//! loopback, exits 0, and prints what the lesson says it shows. Where the
//! kernel's behaviour is Linux's own, the assertion is for Linux only.

use std::path::Path;
use std::process::Command;

use testkit::Finished;

const EXE: &str = env!("CARGO_BIN_EXE_socket-options");

/// Every demonstration, in the order the program runs them.
const DEMOS: [&str; 5] = ["reuseaddr", "backlog", "buffers", "unix", "dual-stack"];

/// Runs one demonstration, which must exit 0 with nothing on stderr, its
/// heading first.
fn demo(name: &str) -> Finished {
    let done = testkit::run(EXE, &[name], b"");
    done.expect_code(0);
    if !done.stderr.is_empty() {
        done.fail("printed on stderr");
    }
    if !done.stdout.starts_with(&format!("== {name}: ")) {
        done.fail("its first line is not its heading");
    }
    done
}

/// The first line of stdout that starts with `prefix`.
fn line<'a>(done: &'a Finished, prefix: &str) -> &'a str {
    done.stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| done.fail(&format!("no line starts with {prefix:?}")))
}

/// Fails unless the line that starts with `prefix` contains `needle`.
fn assert_line(done: &Finished, prefix: &str, needle: &str) {
    if !line(done, prefix).contains(needle) {
        done.fail(&format!("the line {prefix:?}... does not say {needle:?}"));
    }
}

/// The number in `line` right after `before`, up to the next space.
fn number_after(done: &Finished, line: &str, before: &str) -> usize {
    line.split_once(before)
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| done.fail(&format!("no number after {before:?} in {line:?}")))
}

/// The address in `line` right after `before`, up to a space or a comma.
fn addr_after(done: &Finished, line: &str, before: &str) -> std::net::SocketAddr {
    line.split_once(before)
        .and_then(|(_, rest)| rest.split([' ', ',']).next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| done.fail(&format!("no address after {before:?} in {line:?}")))
}

#[test]
fn reuseaddr_fails_without_the_option_and_succeeds_with_it() {
    let done = demo("reuseaddr");
    let first = line(&done, "server: listening on ");
    let addr = addr_after(&done, first, "listening on ");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_line(&done, "kernel: ", &format!("{addr} <-> "));
    assert_line(&done, "kernel: ", "is in TIME_WAIT");

    let without = line(&done, "new socket without SO_REUSEADDR: bind ");
    assert!(
        without.contains(&format!("bind {addr} failed: ")),
        "{without}"
    );
    #[cfg(unix)]
    assert!(without.contains("Address already in use"), "{without}");
    let with = line(&done, "new socket with SO_REUSEADDR: bind ");
    assert!(with.ends_with(&format!("bind {addr} succeeded")), "{with}");
    assert_line(&done, "why: ", "TIME_WAIT");
    #[cfg(unix)]
    assert_line(&done, "std: TcpListener::bind(", "succeeded");

    // Linux also wants the old socket to have had the option.
    #[cfg(target_os = "linux")]
    {
        assert_line(
            &done,
            "old server without it, new socket with SO_REUSEADDR: bind ",
            "failed: Address already in use",
        );
        assert_line(
            &done,
            "     (Linux) 2 listeners with SO_REUSEPORT on ",
            "at once",
        );
        // Checked from outside: the kernel still holds the server's side of
        // the old connection in TIME_WAIT (for 60 s).
        let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
        // Columns: sl, local IP:PORT, remote IP:PORT, state (06: TIME_WAIT).
        let port = format!(":{:04X}", addr.port());
        let in_time_wait = table.lines().skip(1).any(|l| {
            let fields: Vec<_> = l.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&port) && fields[3] == "06"
        });
        if !in_time_wait {
            done.fail(&format!(
                "no TIME_WAIT entry for port {} in /proc/net/tcp",
                addr.port()
            ));
        }
    }
}

#[test]
fn backlog_fills_and_the_rest_time_out() {
    let done = demo("backlog");
    let connected = done
        .stdout
        .lines()
        .filter(|l| l.starts_with("client ") && l.contains(": connected"))
        .count();
    let timed_out = done
        .stdout
        .lines()
        .filter(|l| l.starts_with("client ") && l.contains(": timed out after 300 ms"))
        .count();
    assert_eq!(connected + timed_out, 6, "{}", done.stdout);
    assert_line(
        &done,
        &format!("{connected} of 6 clients"),
        "connected to listen(2)",
    );
    assert_line(
        &done,
        "server: accept() now returns the ",
        &format!("the {connected} queued connections"),
    );
    assert_line(
        &done,
        "closed the ",
        &format!(
            "the {connected} clients, the {connected} accepted sockets, the listener"
        ),
    );

    // Linux queues backlog + 1 finished connections and drops the rest.
    #[cfg(target_os = "linux")]
    {
        assert_eq!(connected, 3, "{}", done.stdout);
        for i in 1..=3 {
            assert_line(&done, &format!("client {i}: "), "connected");
        }
        for i in 4..=6 {
            assert_line(&done, &format!("client {i}: "), "timed out");
        }
        assert_line(
            &done,
            "(Linux) /proc/net/tcp: ",
            "3 connections in the accept queue",
        );
        assert_line(&done, "(Linux) the accept queue holds ", "backlog + 1 = 3");
        let max =
            std::fs::read_to_string("/proc/sys/net/core/somaxconn").expect("somaxconn");
        assert_line(
            &done,
            "(Linux) /proc/sys/net/core/somaxconn is ",
            &format!("is {}:", max.trim()),
        );
    }
}

#[test]
fn buffers_take_less_before_would_block_when_small() {
    let done = demo("buffers");
    let sizes = line(&done, "a new TCP socket: ");
    assert!(number_after(&done, sizes, "SO_SNDBUF = ") > 0, "{sizes}");
    assert!(number_after(&done, sizes, "SO_RCVBUF = ") > 0, "{sizes}");
    // Linux doubles the size asked for.
    #[cfg(target_os = "linux")]
    assert_line(&done, "set SO_RCVBUF to 4096: ", "the kernel reports 8192");

    let default = number_after(&done, line(&done, "default buffers: "), "wrote ");
    let small = number_after(&done, line(&done, "small buffers (4096 each): "), "wrote ");
    assert!(0 < small && small < default, "{}", done.stdout);
    assert!(default <= 64 * 1024 * 1024 + 64 * 1024, "{}", done.stdout);
}

#[cfg(unix)]
#[test]
fn unix_echoes_over_a_path_and_leaves_nothing_behind() {
    let done = demo("unix");
    let made = line(&done, "made the temporary directory ");
    let dir = made.trim_start_matches("made the temporary directory ");
    let sock = format!("{dir}/echo.sock");
    assert_line(&done, "server: UnixListener::bind(", &sock);
    assert_line(
        &done,
        "server: the address is a path",
        "it is a socket file: true",
    );
    assert_line(&done, "client: UnixStream::connect(", &sock);

    // The line goes there and back, in this order.
    let sent = "client: write_all(\"hello over AF_UNIX\\n\")";
    let echoed = "server: read \"hello over AF_UNIX\\n\", writes it back";
    let back = "client: read \"hello over AF_UNIX\\n\" back";
    let lines: Vec<_> = done.stdout.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| *l == needle)
            .unwrap_or_else(|| done.fail(&format!("no line {needle:?}")))
    };
    assert!(
        at(sent) < at(echoed) && at(echoed) < at(back),
        "{}",
        done.stdout
    );

    assert_line(&done, "server: closed the listener", "still there: true");
    assert_line(
        &done,
        &format!("server: bind({sock}) again"),
        "Address already in use",
    );
    assert_line(&done, "server: after remove_file", "succeeded");
    assert_line(&done, "removed ", dir);
    assert!(!Path::new(dir).exists(), "{dir} is still there");
}

/// With a temporary directory too long for a socket path, the unix
/// demonstration fails with one error line, and still removes what it made.
#[cfg(unix)]
#[test]
fn unix_fails_cleanly_when_the_path_is_too_long() {
    let long = std::env::temp_dir().join(format!(
        "socket-options-test-{}-{}",
        std::process::id(),
        "x".repeat(100)
    ));
    std::fs::create_dir_all(&long).expect("make a scratch directory");
    let output = Command::new(EXE)
        .arg("unix")
        .env("TMPDIR", &long)
        .output()
        .expect("run socket-options");
    let done = Finished {
        command: format!("TMPDIR={} {EXE} unix", long.display()),
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    let left: Vec<_> = std::fs::read_dir(&long).expect("read scratch").collect();
    std::fs::remove_dir_all(&long).expect("remove scratch directory");
    testkit::assert_fails(&done, "cannot listen on", None);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn dual_stack_takes_v6_clients_and_v4_through_a_mapped_address() {
    let done = demo("dual-stack");
    if done.stdout.contains("no IPv6 loopback") {
        eprintln!("this machine has no [::1]: nothing more to check");
        return;
    }
    let listening =
        addr_after(&done, line(&done, "server: listening on "), "listening on ");
    assert!(
        listening.is_ipv6() && listening.ip().is_loopback(),
        "{listening}"
    );
    assert_line(&done, "IPv6 client: connected; server: accepted ", "[::1]:");
    assert_line(&done, "IPv4 client to 127.0.0.1:", "refused");

    #[cfg(target_os = "linux")]
    {
        let bindv6only =
            std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").expect("bindv6only");
        let default = if bindv6only.trim() == "0" {
            "false"
        } else {
            "true"
        };
        assert_line(
            &done,
            "a new IPv6 socket: ",
            &format!("only_v6() = {default}"),
        );

        let server = line(&done, "server: an IPv6 socket with only_v6(false)");
        assert!(
            server.contains("listening on [::ffff:127.0.0.1]:"),
            "{server}"
        );
        // The IPv4 client's own port is the one the IPv6 socket accepted.
        let client =
            addr_after(&done, line(&done, "IPv4 client: connected to "), "from ");
        assert!(client.is_ipv4(), "{client}");
        assert_line(
            &done,
            "server: accepted [::ffff:127.0.0.1]:",
            &format!("[::ffff:127.0.0.1]:{}: the IPv4 client", client.port()),
        );
        assert_line(
            &done,
            "only_v6(true): bind [::ffff:127.0.0.1]:0",
            "failed: Invalid argument",
        );
    }
}

#[test]
fn no_argument_runs_every_demonstration_in_turn() {
    let done = testkit::run(EXE, &[], b"");
    done.expect_code(0);
    if !done.stderr.is_empty() {
        done.fail("printed on stderr");
    }
    let headings: Vec<_> = done
        .stdout
        .lines()
        .filter(|l| l.starts_with("== "))
        .map(|l| {
            l.trim_start_matches("== ")
                .split(':')
                .next()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(headings, DEMOS, "{}", done.stdout);
    // Each demonstration ran to its end: its closing words are there.
    let mut ends = vec![
        "SO_REUSEPORT is a different option",
        "accepted sockets, the listener",
        "why: write() only copies bytes",
    ];
    if cfg!(unix) {
        ends.push("the calls are TCP's");
    }
    if !done.stdout.contains("no IPv6 loopback") {
        ends.push("a dual-stack server binds [::]:PORT");
    }
    for end in ends {
        if !done.stdout.contains(end) {
            done.fail(&format!("never printed {end:?}"));
        }
    }
}

#[test]
fn help_lists_every_demonstration_and_bad_arguments_exit_2() {
    testkit::assert_help(EXE);
    let help = testkit::run(EXE, &["--help"], b"");
    for name in DEMOS {
        if !help
            .stdout
            .lines()
            .any(|l| l.starts_with(&format!("  {name} ")))
        {
            help.fail(&format!("--help does not list {name}"));
        }
    }
    testkit::assert_bad_args(EXE, &["frobnicate"], "frobnicate");
    testkit::assert_bad_args(EXE, &["backlog", "extra"], "extra");
    testkit::assert_bad_args(EXE, &["--fast"], "--fast");
}

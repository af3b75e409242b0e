//! echo-bench as a real process against the real v5-echo-server, and
//! against small echo servers of other shapes written here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread;

use testkit::{beside, run, Server, TIMEOUT};

const EXE: &str = env!("CARGO_BIN_EXE_echo-bench");

/// The number before `what` in the bench's report.
fn figure(report: &str, what: &str) -> f64 {
    report
        .split(what)
        .next()
        .and_then(|before| before.split_whitespace().last())
        .and_then(|n| n.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no figure before {what:?} in {report:?}"))
}

/// The number after `what` in the bench's report.
fn figure_after(report: &str, what: &str) -> f64 {
    report
        .split(what)
        .nth(1)
        .and_then(|after| after.split_whitespace().next())
        .and_then(|n| n.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no figure after {what:?} in {report:?}"))
}

/// v5-echo-server started by hand, to learn its process id (testkit's
/// Process keeps it private). Killed when dropped.
struct V5 {
    child: Child,
    addr: String,
}

impl V5 {
    fn start() -> V5 {
        let mut child = Command::new(beside(EXE, "v5-echo-server"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start v5-echo-server");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("read its first line");
        let addr = first
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {first:?}"))
            .to_string();
        // The server logs every message: keep reading, or its writes to a
        // full pipe would stop it. Ends when the server does.
        thread::spawn(move || {
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        V5 { child, addr }
    }
}

impl Drop for V5 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn measures_round_trips_through_v5_echo_server() {
    let server = V5::start();
    let pid = server.child.id().to_string();
    let done = run(
        EXE,
        &[
            &server.addr,
            "--connections",
            "5",
            "--round-trips",
            "40",
            "--server-pid",
            &pid,
        ],
        b"",
    );
    done.expect_code(0);
    let out = &done.stdout;
    assert!(out.contains("connected 5 connections in "), "{out}");
    // 5 connections x 40 round trips, stopped by the count.
    assert_eq!(figure(out, "round trips in"), 200.0, "{out}");
    assert!(figure(out, "round trips/s") > 0.0, "{out}");
    let p50 = figure_after(out, "p50");
    let p99 = figure_after(out, "p99");
    let max = figure_after(out, "max");
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{out}");
    assert_eq!(figure_after(out, "errors"), 0.0, "{out}");
    assert!(figure_after(out, "server CPU") >= 0.0, "{out}");
    assert!(figure_after(out, "server RSS") > 100.0, "{out}");
    assert!(figure_after(out, "echo-bench CPU") >= 0.0, "{out}");
}

#[test]
fn a_16_kib_message_and_a_total_count() {
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    let args = [server.addr_arg()];
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["-c", "3", "--size", "16384", "--total", "25"]);
    let done = run(EXE, &args, b"");
    done.expect_code(0);
    assert_eq!(
        figure(&done.stdout, "round trips in"),
        25.0,
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("size 16384"), "{}", done.stdout);
}

#[test]
fn the_time_limit_ends_a_run() {
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    let addr = server.addr_arg();
    let done = run(EXE, &[&addr, "--duration", "0.3"], b"");
    done.expect_code(0);
    let seconds = figure(&done.stdout, "s, ");
    assert!((0.3..2.0).contains(&seconds), "{}", done.stdout);
    assert!(
        figure(&done.stdout, "round trips in") > 10.0,
        "{}",
        done.stdout
    );
}

/// Starts a server thread that answers every read of up to `chunk` bytes
/// with `prefix` and the bytes read, on every connection; returns its
/// address. The thread ends when the test process does.
fn echo_server(prefix: &'static str, chunk: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(TIMEOUT));
                // Small replies must not wait for the client's ACK.
                let _ = stream.set_nodelay(true);
                let mut buf = vec![0; chunk];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    let reply = [prefix.as_bytes(), &buf[..n]].concat();
                    if stream.write_all(&reply).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn works_with_a_plain_echo_and_with_replies_in_pieces() {
    // A plain echo: the prefix learned is empty.
    let plain = echo_server("", 64 * 1024);
    let done = run(EXE, &[&plain, "-c", "2", "-n", "30"], b"");
    done.expect_code(0);
    assert_eq!(
        figure(&done.stdout, "round trips in"),
        60.0,
        "{}",
        done.stdout
    );
    let done = run(EXE, &[&plain, "-n", "5", "--expect-prefix", ""], b"");
    done.expect_code(0);

    // The seeds' shape: 1,024-byte reads, each answered with the prefix,
    // so a 5,000-byte message comes back in several pieces.
    let seed = echo_server("收到你的消息", 1024);
    let done = run(EXE, &[&seed, "-c", "2", "-n", "10", "-s", "5000"], b"");
    done.expect_code(0);
    assert_eq!(
        figure(&done.stdout, "round trips in"),
        20.0,
        "{}",
        done.stdout
    );
    assert_eq!(figure_after(&done.stdout, "errors"), 0.0, "{}", done.stdout);

    // A prefix that is not the server's is an error, before measuring.
    let done = run(EXE, &[&seed, "--expect-prefix", "echo: "], b"");
    testkit::assert_fails(&done, "is not", None);
}

#[test]
fn a_server_that_serves_one_client_at_a_time_is_reported() {
    let server = Server::start(&beside(EXE, "v2-echo-server"));
    let addr = server.addr_arg();
    let done = run(EXE, &[&addr, "-c", "2", "--timeout", "0.5"], b"");
    testkit::assert_fails(&done, "connection 1: no answer", None);
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["--connections", "0"], "0");
    testkit::assert_bad_args(EXE, &["--size", "2000000"], "2000000");
    testkit::assert_bad_args(EXE, &["--duration", "0"], "0");
    testkit::assert_bad_args(EXE, &["--timeout", "soon"], "soon");
    testkit::assert_bad_args(EXE, &["--server-pid", "abc"], "abc");
    testkit::assert_bad_args(EXE, &["127.0.0.1"], "127.0.0.1");
    testkit::assert_bad_args(EXE, &["--frobnicate"], "--frobnicate");
    testkit::assert_refused(EXE, &[]);
    testkit::assert_unresolvable(EXE, &[]);
    // A process id that names no process: a run-time failure, before
    // connecting.
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    let addr = server.addr_arg();
    let done = run(EXE, &[&addr, "--server-pid", "999999999"], b"");
    testkit::assert_fails(&done, "/proc/999999999/stat", None);
}

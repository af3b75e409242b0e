//! v5-echo-client as a real process: interactive, and `--connections`
//! against the threaded v5 server and the one-at-a-time v2 server.

use testkit::seed004::HELLO;
use testkit::{beside, run, Server};

const EXE: &str = env!("CARGO_BIN_EXE_v5-echo-client");

/// The milliseconds in each `connection N: answered after X ms` line.
fn answer_times(stdout: &str) -> Vec<u64> {
    let mut times: Vec<u64> = stdout
        .lines()
        .filter_map(|line| line.split("answered after").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect();
    times.sort_unstable();
    times
}

#[test]
fn interactive_lines_are_answered() {
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    let done = run(EXE, &[&server.addr_arg()], "one\n二\n".as_bytes());
    done.expect_code(0);
    assert_eq!(done.stdout, "收到你的消息one\n收到你的消息二\n");
}

#[test]
fn the_threaded_server_answers_fifty_connections_at_once() {
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    let hold = 5.0;
    let done = run(
        EXE,
        &[&server.addr_arg(), "--connections", "50", "--hold", "5"],
        b"",
    );
    done.expect_code(0);
    for id in 1..=50 {
        let reply = format!("收到你的消息hello from connection {id}");
        if !done.stdout.contains(&reply) {
            done.fail(&format!("no {reply:?}"));
        }
    }
    let times = answer_times(&done.stdout);
    assert_eq!(times.len(), 50);
    // Every connection stays open for 5 s after its answer, so if all were
    // answered within 5 s of the start, all were served while all were open.
    let last = times[times.len() - 1];
    if last as f64 >= hold * 1000.0 {
        done.fail("some connection waited for another to leave");
    }
    assert!(done.stdout.contains("50 of 50 answered"), "{}", done.stdout);
}

#[test]
fn the_one_at_a_time_server_answers_one_hold_apart() {
    let server = Server::start(&beside(EXE, "v2-echo-server"));
    let done = run(EXE, &[&server.addr_arg(), "-c", "3", "--hold", "0.4"], b"");
    done.expect_code(0);
    let times = answer_times(&done.stdout);
    assert_eq!(times.len(), 3, "{}", done.stdout);
    // The n-th answer can't come before the n-1 earlier clients have each
    // held their connection for 0.4 s.
    for (n, time) in times.iter().enumerate() {
        if *time < 400 * n as u64 {
            done.fail(&format!("answer {n} came after only {time} ms"));
        }
    }
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["--connections", "0"], "0");
    testkit::assert_bad_args(EXE, &["--connections", "1001"], "1001");
    testkit::assert_bad_args(EXE, &["--connections", "many"], "many");
    testkit::assert_bad_args(EXE, &["--connections"], "--connections");
    testkit::assert_bad_args(EXE, &["-c", "2", "--hold", "-1"], "-1");
    testkit::assert_bad_args(EXE, &["127.0.0.1"], "127.0.0.1");
    testkit::assert_bad_args(EXE, &["--encoding", "latin1"], "latin1");
    testkit::assert_bad_args(EXE, &["-c", "2", "--encoding", "utf-16"], "utf-16");
    // A hold belongs to the crowd: alone, it is refused, not ignored.
    testkit::assert_bad_args(EXE, &["--hold", "2"], "--hold");
    testkit::assert_refused(EXE, &[]);
    testkit::assert_refused(EXE, &["--connections", "2"]);
    testkit::assert_unresolvable(EXE, &[]);
}

#[test]
fn interactive_in_gbk_skips_what_gbk_cannot_write() {
    let server = Server::start_with(
        &beside(EXE, "v5-echo-server"),
        &["127.0.0.1:0", "--encoding", "gbk"],
    );
    let done = run(
        EXE,
        &[&server.addr_arg(), "--encoding", "gbk"],
        format!("{HELLO}\n😀\nok\n").as_bytes(),
    );
    done.expect_code(0);
    assert_eq!(
        done.stdout,
        format!("收到你的消息{HELLO}\n收到你的消息ok\n")
    );
    let report = "v5-echo-client: '😀' (U+1F600) cannot be written in GBK: line not sent";
    if !done.stderr.contains(report) {
        done.fail("does not report the emoji");
    }
    // The server read GBK: its log shows the text.
    server
        .process
        .wait_for_stdout(&format!("sent 28 bytes: \"{HELLO}\\n\""));
}

#[test]
fn connections_in_gbk_read_the_replies_as_gbk() {
    let server = Server::start_with(
        &beside(EXE, "v5-echo-server"),
        &["127.0.0.1:0", "--encoding", "gbk"],
    );
    let done = run(
        EXE,
        &[
            &server.addr_arg(),
            "--encoding",
            "gbk",
            "-c",
            "3",
            "--hold",
            "0",
        ],
        b"",
    );
    done.expect_code(0);
    for id in 1..=3 {
        let reply = format!("收到你的消息hello from connection {id}\n");
        if !done.stdout.contains(&reply) {
            done.fail(&format!("no {reply:?}"));
        }
    }
}

#[test]
fn a_server_that_never_answers_is_reported_in_seconds() {
    // The system completes the connection in the listener's backlog; nobody
    // ever reads or answers it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    let done = run(EXE, &[&addr, "-c", "1", "--hold", "0"], b"");
    // With one connection and no hold, the patience is 10 s, as --help says.
    testkit::assert_fails(&done, &format!("no answer from {addr} within 10 s"), None);
    if !done.stderr.contains("each waits up to 10s") {
        done.fail("the first line does not say how long each connection waits");
    }
    if done.stderr.contains("os error") {
        done.fail("the timeout is reported as an OS error");
    }
    let help = run(EXE, &["--help"], b"");
    if !help.stdout.contains("up to 10 s plus") {
        help.fail("--help does not document the wait");
    }
}

#[cfg(unix)]
#[test]
fn too_few_file_descriptors_get_a_hint_naming_ulimit() {
    let server = Server::start(&beside(EXE, "v5-echo-server"));
    // The client alone runs under a limit of 64 open files, so 100
    // connections held open cannot all get a socket. The server keeps its
    // own limit and answers the ones that do.
    let done = run(
        "sh",
        &[
            "-c",
            "ulimit -n 64 && exec \"$0\" \"$@\"",
            EXE,
            &server.addr_arg(),
            "-c",
            "100",
            "--hold",
            "3",
        ],
        b"",
    );
    testkit::assert_fails(&done, "Too many open files", Some("ulimit -n"));
    let lines: Vec<_> = done.stderr.lines().collect();
    // The hint comes right after the error it explains.
    let error = lines.iter().position(|l| l.contains("error:"));
    let hint = lines.iter().position(|l| l.contains("hint:"));
    if error.map(|at| at + 1) != hint {
        done.fail("the hint does not follow the error line");
    }
    // Some connections did get through and were answered.
    if !done.stdout.contains("answered after") {
        done.fail("no connection was answered");
    }
}

//! chat-bench as a real process against the real chat-server.

use testkit::{beside, run, Server};

const EXE: &str = env!("CARGO_BIN_EXE_chat-bench");

/// The number before `what` in the bench's report line.
fn figure(report: &str, what: &str) -> f64 {
    report
        .split(what)
        .next()
        .and_then(|before| before.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure before {what:?} in {report:?}"))
}

#[test]
fn measures_every_delivery_to_every_listener() {
    let server = Server::start(&beside(EXE, "chat-server"));
    let args = [server.addr_arg()];
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--clients", "20", "--messages", "30", "--window", "4"]);
    let done = run(EXE, &args, b"");
    done.expect_code(0);
    // 20 listeners x 30 messages, each delivery counted once.
    assert_eq!(
        figure(&done.stdout, "deliveries in") as usize,
        600,
        "{}",
        done.stdout
    );
    assert!(
        figure(&done.stdout, "deliveries/s,") > 0.0,
        "{}",
        done.stdout
    );
    let p50 = done.stdout.split("p50 ").nth(1).expect("p50");
    assert!(
        p50.starts_with(|c: char| c.is_ascii_digit()),
        "{}",
        done.stdout
    );
}

#[test]
fn a_stalled_client_does_not_stop_chat_server() {
    let server = Server::start(&beside(EXE, "chat-server"));
    let args = [server.addr_arg()];
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    // 6 MB per listener: more than the stalled client's buffers hold.
    args.extend([
        "--clients",
        "5",
        "--messages",
        "2000",
        "--size",
        "3000",
        "--stalled",
        "--timeout",
        "60",
    ]);
    let done = run(EXE, &args, b"");
    done.expect_code(0);
    assert_eq!(
        figure(&done.stdout, "deliveries in") as usize,
        10_000,
        "{}",
        done.stdout
    );
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["--clients", "0"], "0");
    testkit::assert_bad_args(EXE, &["--window", "33"], "33");
    testkit::assert_bad_args(EXE, &["--size", "10"], "10");
    testkit::assert_refused(EXE, &[]);
}

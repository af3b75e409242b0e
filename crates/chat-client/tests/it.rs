//! chat-client as real processes against the real chat-server.

use testkit::{beside, run, Process, Server};

const EXE: &str = env!("CARGO_BIN_EXE_chat-client");

fn start_server() -> Server {
    Server::start(&beside(EXE, "chat-server"))
}

/// Starts a client and joins the room as `nick`.
fn join(server: &Server, nick: &str) -> Process {
    let mut client = Process::spawn(EXE, &[&server.addr_arg()]);
    client.send_stdin(format!("{nick}\n").as_bytes());
    client.wait_for_stdout(&format!("* {nick} 加入了聊天室 ({nick} joined)"));
    client
}

#[test]
fn three_join_talk_one_quits_one_is_killed() {
    let server = start_server();
    let mut alice = join(&server, "alice");
    let mut bob = join(&server, "bob");
    let carol = join(&server, "carol");
    alice.wait_for_stdout("* carol 加入了聊天室");

    alice.send_stdin("hello everyone\n".as_bytes());
    for client in [&alice, &bob, &carol] {
        client.wait_for_stdout("] alice: hello everyone\n");
    }

    // bob leaves politely: QUIT, and his client exits 0.
    bob.send_stdin(b"QUIT\n");
    let bob_done = bob.wait();
    bob_done.expect_code(0);
    assert!(
        bob_done.stdout.contains("* 再见 (bye)"),
        "{}",
        bob_done.stdout
    );
    alice.wait_for_stdout("* bob已经离开了 (bob left: QUIT)");

    // carol's client is killed: the room is told all the same.
    drop(carol);
    alice.wait_for_stdout("* carol已经离开了 (carol left: ");

    // alice saw everything, in this order.
    let seen = alice.stdout();
    let order = [
        "* alice 加入了聊天室",
        "* bob 加入了聊天室",
        "* carol 加入了聊天室",
        "] alice: hello everyone",
        "* bob已经离开了",
        "* carol已经离开了",
    ];
    let positions: Vec<_> = order.iter().map(|needle| seen.find(needle)).collect();
    assert!(positions.iter().all(Option::is_some), "{seen}");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order:\n{seen}"
    );

    // The end of input leaves the room too.
    alice.close_stdin();
    alice.wait().expect_code(0);
}

#[test]
fn piped_input_joins_talks_and_leaves() {
    let server = start_server();
    let mut watcher = join(&server, "watcher");
    let done = run(
        EXE,
        &[&server.addr_arg()],
        "dave\nhi from a pipe\n".as_bytes(),
    );
    done.expect_code(0);
    assert!(
        done.stdout.contains("] dave: hi from a pipe\n"),
        "{}",
        done.stdout
    );
    watcher.wait_for_stdout("] dave: hi from a pipe\n");
    watcher.wait_for_stdout("* dave已经离开了 (dave left: QUIT)");
    watcher.close_stdin();
    watcher.wait().expect_code(0);
}

#[test]
fn a_server_that_goes_away_is_reported_and_exits_1() {
    let server = start_server();
    let mut erin = join(&server, "erin");
    // The server stops while erin is still in the room.
    drop(server);
    let done = erin.wait();
    done.expect_code(1);
    if !done
        .stderr
        .contains("chat-client: error: the server closed the connection")
    {
        done.fail("does not say the server went away");
    }
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["9999"], "9999");
    testkit::assert_bad_args(EXE, &["--nick", "x"], "--nick");
    testkit::assert_refused(EXE, &[]);
    testkit::assert_unresolvable(EXE, &[]);
}

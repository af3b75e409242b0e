//! chat-server as a real process over 127.0.0.1. Lesson 04's whole suite
//! lives in `testkit::chat`, so that every chat server meant as a drop-in
//! replacement for this one (lessons 12 and 13) runs exactly the same checks.

testkit::chat_suite!(env!("CARGO_BIN_EXE_chat-server"));

use testkit::Server;

/// Lesson 04's whole suite, against each exercise answer: an answer is still
/// the room, with its change.
mod answer_04_1_is_still_the_room {
    testkit::chat_suite!(&testkit::example("answer-04-1"));
}

mod answer_04_2_is_still_the_room {
    testkit::chat_suite!(&testkit::example("answer-04-2"));
}

#[test]
fn answer_04_1_private_message_reaches_only_its_target() {
    testkit::chat::private_message_reaches_only_its_target(&testkit::example(
        "answer-04-1",
    ));
}

#[test]
fn answer_04_2_rename_follows_the_join_rules_and_the_room_sees_the_new_name() {
    testkit::chat::rename_follows_the_join_rules_and_the_room_sees_the_new_name(
        &testkit::example("answer-04-2"),
    );
}

/// Each answer's `chat` is lesson 04's, with lines added and none changed:
/// every line of the lesson's `chat` is in the answer's, in the same order.
/// (A change to the lesson's `chat` shows up here, not in a student's run.)
#[test]
fn answer_04_chat_is_the_lessons_with_lines_added() {
    testkit::assert_lines_kept(
        env!("CARGO_MANIFEST_DIR"),
        "fn chat(",
        "src/main.rs",
        &["examples/answer-04-1.rs", "examples/answer-04-2.rs"],
    );
}

// ---- Lesson 14: --announce ----

#[test]
fn announce_sends_where_to_connect_to_the_group_from_the_servers_address() {
    let (member, target) = testkit::chat::group_member();
    let server = Server::start_with(
        env!("CARGO_BIN_EXE_chat-server"),
        &[
            "127.0.0.1:0",
            "--announce",
            "--group",
            &target,
            "--encoding",
            "gbk",
        ],
    );
    let announced = format!("chat-server on {} encoding gbk", server.addr);
    server.process.wait_for_stdout(&format!(
        "announcing on {target} every second: {announced}\n"
    ));
    let mut buf = [0; 512];
    for _ in 0..2 {
        let (n, from) = member.recv_from(&mut buf).expect("a beacon");
        assert_eq!(String::from_utf8_lossy(&buf[..n]), announced);
        assert_eq!(from.ip(), server.addr.ip());
    }
}

#[test]
fn announce_refuses_what_it_cannot_announce() {
    let exe = env!("CARGO_BIN_EXE_chat-server");
    testkit::assert_bad_args(exe, &["0.0.0.0:0", "--announce"], "0.0.0.0:0");
    testkit::assert_bad_args(exe, &["[::1]:0", "--announce"], "[::1]:0");
    testkit::assert_bad_args(exe, &["--group", "239.1.1.1:5"], "--group");
    testkit::assert_bad_args(exe, &["--announce", "--group", "10.0.0.1:5"], "10.0.0.1:5");
}

//! chat-server as a real process over 127.0.0.1. Lesson 04's whole suite
//! lives in `testkit::chat`, so that every chat server meant as a drop-in
//! replacement for this one (lessons 12 and 13) runs exactly the same checks.

testkit::chat_suite!(env!("CARGO_BIN_EXE_chat-server"));

use testkit::chat::Chatter;
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
    let server = Server::start(&testkit::example("answer-04-1"));
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    let mut carol = Chatter::join(&server, "carol");
    alice.wait_for("* carol 加入了聊天室");
    bob.wait_for("* carol 加入了聊天室");

    // Compared as nicknames are when joining: BOB is bob, shown as bob.
    alice.send("/msg BOB the key is under the mat\n");
    for chatter in [&mut bob, &mut alice] {
        let line = chatter.line();
        assert!(line.starts_with('['), "{line:?}");
        assert_eq!(
            &line[9..],
            "] alice -> bob: the key is under the mat\n",
            "{line:?}"
        );
    }
    // Carol's next line is the next message to everyone, not the private one.
    alice.send("hello all\n");
    let line = carol.line();
    assert!(line.ends_with("] alice: hello all\n"), "{line:?}");
    bob.wait_for("] alice: hello all");
    alice.wait_for("] alice: hello all");

    // A message to oneself comes once.
    bob.send("/msg bob note to self\n");
    let line = bob.line();
    assert!(line.ends_with("] bob -> bob: note to self\n"), "{line:?}");
    bob.send("/who\n");
    assert_eq!(bob.line(), "* 在线 (here): alice, bob, carol\n");

    // Nobody by that name, a name that could be nobody's, no text: the
    // sender alone hears why, and the room hears nothing.
    for (line, answer) in [
        ("/msg dave hi\n", "! nobody called dave is here\n"),
        ("/msg *dave hi\n", "! nobody called *dave is here\n"),
        ("/msg bob\n", "! usage: /msg nick text\n"),
        ("/msg bob   \n", "! usage: /msg nick text\n"),
        ("/msg\n", "! usage: /msg nick text\n"),
    ] {
        alice.send(line);
        assert_eq!(alice.line(), answer, "{line:?}");
    }
    carol.send("/who\n");
    assert_eq!(carol.line(), "* 在线 (here): alice, bob, carol\n");

    // `/msgs` is no command: it is a message to everyone.
    alice.send("/msgs are new\n");
    let line = carol.line();
    assert!(line.ends_with("] alice: /msgs are new\n"), "{line:?}");

    // The server's log names who wrote to whom, never what.
    server
        .process
        .wait_for_stdout("alice sent a private message to bob");
    assert!(
        !server.process.stdout().contains("under the mat"),
        "{}",
        server.process.stdout()
    );
}

#[test]
fn answer_04_2_rename_follows_the_join_rules_and_the_room_sees_the_new_name() {
    let server = Server::start(&testkit::example("answer-04-2"));
    let mut alice = Chatter::join(&server, "alice");
    let mut bob = Chatter::join(&server, "bob");
    alice.wait_for("* bob 加入了聊天室");

    // Refused under the same rules as a join, answered to bob alone.
    for (line, why) in [
        ("/nick ALICE\n", "! 昵称已被占用 (ALICE is taken), try another\n"),
        ("/nick Ａlice\n", "! 昵称已被占用 (Ａlice is taken), try another\n"),
        (
            "/nick *system\n",
            "! 昵称不能以 *、/ 或 ! 开头 (it may not start with *, / or !), try another\n",
        ),
        ("/nick \n", "! 昵称不能为空 (the nickname is empty), try another\n"),
        (
            "/nick  bob\n",
            "! 昵称首尾不能有空白 (spaces at the ends), try another\n",
        ),
        ("/nick\n", "! usage: /nick newname\n"),
    ] {
        bob.send(line);
        assert_eq!(bob.line(), why, "{line:?}");
    }
    let long = format!("/nick {}\n", "长".repeat(33));
    bob.send(&long);
    assert!(bob.line().contains("昵称太长"));

    // Its own name in other letters is free for it; the room is told.
    bob.send("/nick Bob\n");
    for chatter in [&mut alice, &mut bob] {
        assert_eq!(chatter.line(), "* bob 改名为 Bob (bob is now Bob)\n");
    }
    bob.send("/nick robert\n");
    for chatter in [&mut alice, &mut bob] {
        assert_eq!(chatter.line(), "* Bob 改名为 robert (Bob is now robert)\n");
    }

    // Messages, /who and the leave notice all carry the new name.
    bob.send("hi\n");
    for chatter in [&mut alice, &mut bob] {
        let line = chatter.line();
        assert!(line.ends_with("] robert: hi\n"), "{line:?}");
    }
    alice.send("/who\n");
    assert_eq!(alice.line(), "* 在线 (here): alice, robert\n");

    // The old name is free again; the new one is taken.
    let mut other = Chatter::connect(&server);
    other.send("Robert\n");
    assert!(other.line().contains("昵称已被占用"));
    other.send("bob\n");
    other.wait_for("* bob 加入了聊天室");
    alice.wait_for("* bob 加入了聊天室");

    bob.send("quit\n");
    bob.wait_for("再见");
    alice.wait_for("* robert已经离开了 (robert left: QUIT)");
    server.process.wait_for_stdout("Bob is now robert");
}

/// Each answer's `chat` is lesson 04's, with lines added and none changed:
/// every line of the lesson's `chat` is in the answer's, in the same order.
/// (A change to the lesson's `chat` shows up here, not in a student's run.)
#[test]
fn answer_04_chat_is_the_lessons_with_lines_added() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let chat_fn = |path: &str| -> Vec<String> {
        let text = std::fs::read_to_string(format!("{dir}/{path}"))
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        let start = text
            .find("\nfn chat(")
            .unwrap_or_else(|| panic!("{path} has no fn chat"));
        let body = &text[start + 1..];
        let end = body.find("\n}\n").expect("the end of fn chat") + 2;
        body[..end].lines().map(str::to_string).collect()
    };
    let lesson = chat_fn("src/main.rs");
    assert!(lesson.len() > 30, "{lesson:?}");
    for answer in ["examples/answer-04-1.rs", "examples/answer-04-2.rs"] {
        let mut lines = chat_fn(answer).into_iter();
        for wanted in &lesson {
            assert!(
                lines.any(|line| &line == wanted),
                "{answer}: lesson 04's line {wanted:?} of `chat` is missing or out of order"
            );
        }
    }
}

// ---- Lesson 14: --announce ----

#[test]
fn announce_sends_where_to_connect_to_the_group_from_the_servers_address() {
    let member = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    let group = std::net::Ipv4Addr::new(239, 255, 14, 14);
    member
        .bind(&std::net::SocketAddr::from((group, 0)).into())
        .expect("bind the group");
    member
        .join_multicast_v4(&group, &std::net::Ipv4Addr::LOCALHOST)
        .expect("join on loopback");
    let member: std::net::UdpSocket = member.into();
    member
        .set_read_timeout(Some(testkit::TIMEOUT))
        .expect("timeout");
    let target = member.local_addr().expect("addr").to_string();
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

//! stream-framing: the demonstrations as a real process, and property tests
//! of the decoders they teach.

use proptest::prelude::*;
use stream_framing::{encode_frame, FrameError, LengthDecoder, LineDecoder, HEADER};
use testkit::run;

const EXE: &str = env!("CARGO_BIN_EXE_stream-framing");

/// Runs one demonstration and returns what it printed.
fn demo(name: &str) -> String {
    let done = run(EXE, &[name], b"");
    done.expect_code(0);
    done.stdout
}

#[test]
fn two_writes_come_out_of_one_read() {
    let out = demo("coalesce");
    assert!(
        out.contains(r#"one read(1024) returned 12 bytes: "hello\nworld\n""#),
        "{out}"
    );
}

#[test]
fn one_write_comes_out_of_several_reads() {
    let out = demo("split");
    let reads = out
        .lines()
        .filter(|l| l.contains("receiver: read "))
        .count();
    assert!(reads >= 7, "{out}");
    assert!(out.contains("100000 bytes in"), "{out}");
}

#[test]
fn a_write_can_be_short_and_write_all_finishes_it() {
    let out = demo("short-write");
    let line = out
        .lines()
        .find(|l| l.starts_with("sender: write() of 67108864 bytes returned "))
        .unwrap_or_else(|| panic!("{out}"));
    let n: usize = line
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("n");
    assert!(n > 0 && n < 67_108_864, "{line}");
    assert!(out.contains("the receiver got 67108864 in all"), "{out}");
}

#[test]
fn lines_and_their_limit() {
    let out = demo("lines");
    for line in ["第一行", "second line", "third"] {
        assert!(out.contains(&format!("decoder: line {line:?}")), "{out}");
    }
    assert!(out.contains("a line is longer than 4096 bytes"), "{out}");
}

#[test]
fn frames_and_their_errors() {
    let out = demo("length");
    for size in [3, 0, 70000] {
        assert!(
            out.contains(&format!("receiver: a frame of {size} bytes")),
            "{out}"
        );
    }
    assert!(
        out.contains("the stream ended inside a frame: 3 of 10 bytes"),
        "{out}"
    );
    assert!(out.contains("more than the 1048576 allowed"), "{out}");
}

#[test]
fn json_messages_keep_their_newlines() {
    let out = demo("json");
    assert!(
        out.contains(r#"receiver: from "alice" text "hi\nthere""#),
        "{out}"
    );
    assert!(out.contains(r#"receiver: from "bob" text "你好""#), "{out}");
}

#[test]
fn no_argument_runs_every_demonstration() {
    let done = run(EXE, &[], b"");
    done.expect_code(0);
    for name in [
        "coalesce",
        "split",
        "short-write",
        "lines",
        "length",
        "json",
    ] {
        assert!(
            done.stdout.contains(&format!("== {name}: ")),
            "{}",
            done.stdout
        );
    }
}

#[test]
fn help_and_bad_arguments() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["nagle"], "nagle");
    testkit::assert_bad_args(EXE, &["lines", "json"], "json");
}

/// Cuts `bytes` into reads at the given points (any order, any values).
fn cut(bytes: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut reads = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        reads.push(bytes[start..point].to_vec());
        start = point;
    }
    reads
}

proptest! {
    #[test]
    fn frames_cut_anywhere_decode_the_same(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        points in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut stream = Vec::new();
        for payload in &payloads {
            stream.extend(encode_frame(payload, 1024).expect("small frames encode"));
        }
        let mut decoder = LengthDecoder::new(1024);
        let mut decoded = Vec::new();
        for read in cut(&stream, &points) {
            decoded.extend(decoder.feed(&read).expect("valid frames decode"));
        }
        prop_assert_eq!(decoder.finish(), Ok(()));
        prop_assert_eq!(decoded, payloads);
    }

    #[test]
    fn lines_cut_anywhere_decode_the_same(
        lines in prop::collection::vec("[^\n]{0,80}", 0..20),
        points in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let stream: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut decoder = LineDecoder::new(400);
        let mut decoded = Vec::new();
        for read in cut(stream.as_bytes(), &points) {
            decoded.extend(decoder.feed(&read).expect("short lines decode"));
        }
        prop_assert_eq!(decoder.finish(), Ok(()));
        let expected: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn any_bytes_give_frames_or_a_clean_error(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        points in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let max = 64;
        let mut frames = LengthDecoder::new(max);
        let mut lines = LineDecoder::new(max);
        let (mut frames_ok, mut lines_ok) = (true, true);
        for read in cut(&bytes, &points) {
            prop_assert!(frames.buffered() <= HEADER + max);
            prop_assert!(lines.buffered() <= max);
            if frames_ok {
                match frames.feed(&read) {
                    Ok(got) => prop_assert!(got.iter().all(|f| f.len() <= max)),
                    Err(err) => {
                        let is_too_large = matches!(err, FrameError::FrameTooLarge { .. });
                        prop_assert!(is_too_large);
                        frames_ok = false;
                    }
                }
            }
            if lines_ok {
                match lines.feed(&read) {
                    Ok(got) => prop_assert!(got.iter().all(|l| l.len() <= max)),
                    Err(err) => {
                        prop_assert_eq!(err, FrameError::LineTooLong { max });
                        lines_ok = false;
                    }
                }
            }
        }
        // Whatever came, neither decoder ever held more than one message.
        prop_assert!(frames.buffered() <= HEADER + max);
        prop_assert!(lines.buffered() <= max);
    }
}

/// Reads everything until the server closes the connection.
fn read_to_close(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut got = Vec::new();
    stream
        .read_to_end(&mut got)
        .unwrap_or_else(|err| panic!("reading failed ({err}); got {got:?}"));
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn answer_05_1_two_lines_in_one_write_get_two_answers() {
    use std::io::Write;
    let server = testkit::Server::start(&testkit::example("answer-05-1"));
    let mut client = server.connect();
    // What `printf 'a\nb\n' | nc -N` sends: one write, then the end.
    // v2-echo-server answers a read, here `收到你的消息a\nb\n`.
    client.write_all(b"a\nb\n").expect("send");
    client
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert_eq!(read_to_close(&mut client), "收到你的消息a\n收到你的消息b\n");

    // A line sent in pieces, a character cut between them, is one answer.
    let mut client = server.connect();
    let line = "你好 world\n".as_bytes();
    for piece in [&line[..1], &line[1..4], &line[4..]] {
        client.write_all(piece).expect("send");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The two answers may come in one read or two: read until both are in.
    client.write_all(b"second\n").expect("send");
    let got = testkit::read_until(&mut client, "second\n".as_bytes(), 1024);
    assert_eq!(
        String::from_utf8(got).expect("utf-8"),
        "收到你的消息你好 world\n收到你的消息second\n"
    );

    // One client at a time, as in lesson 02: this one leaves first.
    drop(client);

    // A last line without its newline is not answered, and the log says so.
    let mut client = server.connect();
    client.write_all(b"no end").expect("send");
    client
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert_eq!(read_to_close(&mut client), "");
    server
        .process
        .wait_for_stdout("the stream ended inside a message: 6 bytes without an end");
}

#[test]
fn answer_05_1_a_line_too_long_is_refused_and_the_server_goes_on() {
    use std::io::Write;
    let server = testkit::Server::start(&testkit::example("answer-05-1"));
    let mut client = server.connect();
    // 64 KiB without a newline is the most a line may hold; one more byte
    // fails the decoder, and the server says why and closes.
    client.write_all(&vec![b'x'; 64 * 1024 + 1]).expect("send");
    assert_eq!(
        read_to_close(&mut client),
        "a line is longer than 65536 bytes\n"
    );
    server
        .process
        .wait_for_stdout("dropped: a line is longer than 65536 bytes");
    let mut next = server.connect();
    assert_eq!(testkit::exchange(&mut next, "ok\n"), "收到你的消息ok\n");
}

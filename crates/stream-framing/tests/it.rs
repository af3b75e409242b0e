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

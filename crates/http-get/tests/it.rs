//! http-get as a real process against small servers on 127.0.0.1 that send
//! canned responses, against python's http.server and the example
//! https-server (lesson 11), and property tests of the response parser,
//! plain and through TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use http_get::{Event, Limits, ResponseReader, Url};
use proptest::prelude::*;
use testkit::{run, Finished, Server};

const EXE: &str = env!("CARGO_BIN_EXE_http-get");

/// A server that answers each of `responses` to one connection in turn, and
/// returns the requests it received.
fn serve(responses: Vec<Vec<u8>>) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = thread::spawn(move || {
        let mut requests = Vec::new();
        for response in responses {
            let Ok((stream, _)) = listener.accept() else {
                break;
            };
            stream
                .set_read_timeout(Some(testkit::TIMEOUT))
                .expect("timeout");
            requests.push(read_request(&stream));
            // Write in small pieces: the client must not rely on one read.
            let mut stream = stream;
            for piece in response.chunks(7) {
                if stream.write_all(piece).is_err() {
                    break;
                }
            }
        }
        requests
    });
    (addr, server)
}

/// Reads a request head, up to its empty line.
fn read_request(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            return head;
        }
        head += &line;
    }
}

/// Runs `http-get -i` and then `http-get -v` against a server that sends
/// `response` to each; both must exit 0.
fn include_and_verbose(response: Vec<u8>) -> (Finished, Finished) {
    let (addr, _server) = serve(vec![response.clone(), response]);
    let url = format!("http://{addr}/");
    let runs = (get(&["-i", &url]), get(&["-v", &url]));
    runs.0.expect_code(0);
    runs.1.expect_code(0);
    runs
}

/// A redirect to `to`, with a body of its own.
fn hop(to: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 5\r\n\r\nmoved")
        .into_bytes()
}

/// The request line of each request that `serve` received.
fn request_lines(server: JoinHandle<Vec<String>>) -> Vec<String> {
    let requests = server.join().expect("server");
    requests
        .iter()
        .map(|r| r.lines().next().unwrap_or("").to_string())
        .collect()
}

fn get(args: &[&str]) -> Finished {
    run(EXE, args, b"")
}

#[test]
fn content_length_body_and_the_request_sent() {
    let (addr, server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA".to_vec(),
    ]);
    let url = format!("http://{addr}/path?q=1#fragment");
    let done = get(&[&url]);
    done.expect_code(0);
    assert_eq!(done.stdout, "hello");
    let request = &server.join().expect("server")[0];
    assert!(
        request.starts_with("GET /path?q=1 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains(&format!("Host: 127.0.0.1:{}\r\n", addr.port())),
        "{request}"
    );
    assert!(request.contains("Connection: close\r\n"), "{request}");
}

#[test]
fn output_file_gets_the_body_and_a_failure_leaves_no_file() {
    let dir =
        std::env::temp_dir().join(format!("http-get-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let file = dir.join("page.txt");
    let path = file.to_str().expect("a UTF-8 path");

    // -o: the body goes to the file, nothing to stdout.
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
    ]);
    let done = get(&["-o", path, &format!("http://{addr}/")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "");
    assert_eq!(
        std::fs::read_to_string(&file).expect("the -o file"),
        "hello"
    );

    // -i -o: the head goes into the file too, before the body, as with curl.
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec()
    ]);
    get(&["-i", "-o", path, &format!("http://{addr}/")]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&file).expect("the -o file"),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    );

    // --fail with an error status writes nothing, so no file is made.
    let missing = dir.join("missing.txt");
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope".to_vec(),
    ]);
    let done = get(&[
        "--fail",
        "-o",
        missing.to_str().expect("a UTF-8 path"),
        &format!("http://{addr}/"),
    ]);
    testkit::assert_fails(&done, "404", None);
    assert!(
        !missing.exists(),
        "--fail left {} behind",
        missing.display()
    );

    // A file that cannot be made: one line naming it, exit 1.
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
    ]);
    let nowhere = dir.join("no-such-folder").join("x.txt");
    let nowhere = nowhere.to_str().expect("a UTF-8 path");
    let done = get(&["-o", nowhere, &format!("http://{addr}/")]);
    testkit::assert_fails(&done, nowhere, None);
    testkit::assert_bad_args(EXE, &["-o"], "-o");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let (addr, _server) = serve(vec![b"HTTP/1.1 200 OK\r\n\
        Transfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n\
        5;name=value\r\nhello\r\n\
        7\r\n, world\r\n\
        0\r\nExpires: never\r\n\r\n"
        .to_vec()]);
    let done = get(&[&format!("http://{addr}/")]);
    done.expect_code(0);
    // Transfer-Encoding wins over Content-Length.
    assert_eq!(done.stdout, "hello, world");
}

#[test]
fn a_body_without_length_ends_with_the_connection() {
    let (addr, _server) = serve(vec![b"HTTP/1.0 200 OK\r\n\r\nuntil the end".to_vec()]);
    let done = get(&[&format!("http://{addr}/")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "until the end");
}

#[test]
fn include_and_verbose_show_the_interim_heads_in_order() {
    let response = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Test: yes\r\n\r\nok"
        .to_vec();
    let (include, verbose) = include_and_verbose(response);
    assert_eq!(
        include.stdout,
        "HTTP/1.1 100 Continue\r\n\r\n\
         HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Test: yes\r\n\r\nok"
    );
    assert_eq!(verbose.stdout, "ok");
    let received: Vec<_> = verbose
        .stderr
        .lines()
        .filter(|l| l.starts_with("< "))
        .collect();
    assert_eq!(
        received,
        [
            "< HTTP/1.1 100 Continue",
            "< HTTP/1.1 103 Early Hints",
            "< Link: </x>",
            "< HTTP/1.1 200 OK",
            "< Content-Length: 2",
            "< X-Test: yes",
        ],
        "{}",
        verbose.stderr
    );
}

#[test]
fn include_with_location_shows_every_redirect_head_but_not_its_body() {
    let (addr, _server) = serve(vec![
        hop("/b"),
        hop("/c"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\narrived".to_vec(),
    ]);
    let done = get(&["-i", "-L", &format!("http://{addr}/a")]);
    done.expect_code(0);
    assert_eq!(
        done.stdout,
        "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 5\r\n\r\n\
         HTTP/1.1 302 Found\r\nLocation: /c\r\nContent-Length: 5\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\narrived"
    );
}

#[test]
fn header_values_that_are_not_utf8_are_kept_and_shown_lossily() {
    // A Latin-1 é, and 中文 in GBK: obs-text, which RFC 9110 allows.
    let response = b"HTTP/1.1 200 Ok\xe9\r\n\
        Content-Disposition: attachment; filename=caf\xe9.txt\r\n\
        X-Name: \xd6\xd0\xce\xc4\r\n\
        Content-Length: 2\r\n\r\nok"
        .to_vec();
    let (include, verbose) = include_and_verbose(response);
    assert_eq!(
        include.stdout,
        "HTTP/1.1 200 Ok\u{FFFD}\r\n\
         Content-Disposition: attachment; filename=caf\u{FFFD}.txt\r\n\
         X-Name: \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\r\n\
         Content-Length: 2\r\n\r\nok"
    );
    assert_eq!(verbose.stdout, "ok");
    assert!(
        verbose
            .stderr
            .contains("< Content-Disposition: attachment; filename=caf\u{FFFD}.txt\n"),
        "{}",
        verbose.stderr
    );
}

#[test]
fn a_location_that_is_not_ascii_is_percent_encoded() {
    let (addr, server) = serve(vec![
        b"HTTP/1.1 302 Found\r\nLocation: /caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
    ]);
    let done = get(&["-L", &format!("http://{addr}/")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "ok");
    assert_eq!(
        request_lines(server),
        ["GET / HTTP/1.1", "GET /caf%C3%A9 HTTP/1.1"]
    );
}

#[test]
fn control_characters_in_a_head_are_escaped_where_they_are_shown() {
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nX-Evil: \x1b[2J\x1b]0;owned\x07\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
    ]);
    let done = get(&["-v", &format!("http://{addr}/")]);
    done.expect_code(0);
    assert!(!done.stderr.contains('\u{1b}'), "{:?}", done.stderr);
    assert!(
        done.stderr
            .contains("< X-Evil: \\u{1b}[2J\\u{1b}]0;owned\\u{7}\n"),
        "{}",
        done.stderr
    );
}

#[test]
fn verbose_shows_the_request_and_the_head_on_stderr() {
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()
    ]);
    let done = get(&["-v", &format!("http://{addr}/v")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "");
    assert!(done.stderr.contains("> GET /v HTTP/1.1"), "{}", done.stderr);
    assert!(done.stderr.contains("< HTTP/1.1 200 OK"), "{}", done.stderr);
}

#[test]
fn not_found_with_and_without_fail() {
    let response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone".to_vec();
    let (addr, _server) = serve(vec![response.clone(), response]);
    let url = format!("http://{addr}/missing");
    let plain = get(&[&url]);
    plain.expect_code(0);
    assert_eq!(plain.stdout, "gone");
    let failed = get(&["--fail", "-i", &url]);
    testkit::assert_fails(&failed, "the server answered 404 Not Found", None);
    assert_eq!(failed.stdout, "", "--fail shows neither head nor body");
}

#[test]
fn redirects_are_shown_or_followed() {
    // Without -L: the redirect's own body, and a note on stderr.
    let (addr, _server) = serve(vec![hop("/b")]);
    let done = get(&[&format!("http://{addr}/a")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "moved");
    assert!(
        done.stderr.contains("302 redirects to /b (use -L"),
        "{}",
        done.stderr
    );

    // With -L: an absolute path, a relative path, then the page.
    let (addr, server) = serve(vec![
        hop("/dir/b"),
        hop("c?x=1"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\narrived".to_vec(),
    ]);
    let done = get(&["-L", &format!("http://{addr}/a")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "arrived");
    assert_eq!(
        request_lines(server),
        [
            "GET /a HTTP/1.1",
            "GET /dir/b HTTP/1.1",
            "GET /dir/c?x=1 HTTP/1.1"
        ]
    );
}

#[test]
fn relative_redirects_are_resolved_as_rfc_3986_says() {
    // Five redirects (the most -L follows), each a kind of reference.
    let (addr, server) = serve(vec![
        hop("../final"),
        hop("./x/../z"),
        hop("../../../../y"),
        hop("?q"),
        hop("#f"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\narrived".to_vec(),
    ]);
    let done = get(&["-L", &format!("http://{addr}/r/a/b")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "arrived");
    assert_eq!(
        request_lines(server),
        [
            "GET /r/a/b HTTP/1.1",
            "GET /r/final HTTP/1.1",
            "GET /r/z HTTP/1.1",
            "GET /y HTTP/1.1",
            "GET /y?q HTTP/1.1",
            "GET /y?q HTTP/1.1",
        ]
    );
}

#[test]
fn the_examples_of_rfc_3986_section_5_4() {
    // §5.4.1 and §5.4.2, from the base "http://a/b/c/d;p?q", less the
    // references with another scheme and with fragments (a fragment never
    // goes to a server).
    let base = Url::parse("http://a/b/c/d;p?q").expect("base");
    for (reference, target) in [
        ("g", "/b/c/g"),
        ("./g", "/b/c/g"),
        ("g/", "/b/c/g/"),
        ("/g", "/g"),
        ("?y", "/b/c/d;p?y"),
        ("g?y", "/b/c/g?y"),
        ("#s", "/b/c/d;p?q"),
        (";x", "/b/c/;x"),
        ("g;x?y#s", "/b/c/g;x?y"),
        ("", "/b/c/d;p?q"),
        (".", "/b/c/"),
        ("./", "/b/c/"),
        ("..", "/b/"),
        ("../", "/b/"),
        ("../g", "/b/g"),
        ("../..", "/"),
        ("../../", "/"),
        ("../../g", "/g"),
        ("../../../g", "/g"),
        ("../../../../g", "/g"),
        ("/./g", "/g"),
        ("/../g", "/g"),
        ("g.", "/b/c/g."),
        (".g", "/b/c/.g"),
        ("g..", "/b/c/g.."),
        ("..g", "/b/c/..g"),
        ("./../g", "/b/g"),
        ("./g/.", "/b/c/g/"),
        ("g/./h", "/b/c/g/h"),
        ("g/../h", "/b/c/h"),
        ("g;x=1/./y", "/b/c/g;x=1/y"),
        ("g;x=1/../y", "/b/c/y"),
        ("g?y/./x", "/b/c/g?y/./x"),
        ("g?y/../x", "/b/c/g?y/../x"),
    ] {
        assert_eq!(
            base.join(reference).map(|u| u.target).ok().as_deref(),
            Some(target),
            "{reference:?}"
        );
    }
    let url = base.join("//g/x/../y").expect("network-path reference");
    assert_eq!((url.host.as_str(), url.target.as_str()), ("g", "/y"));
    assert!(base.join("g:h").is_err(), "another scheme");
}

#[test]
fn too_many_redirects_is_an_error() {
    let responses = (0..6)
        .map(|i| format!("HTTP/1.1 301 Moved\r\nLocation: /{i}\r\n\r\n").into_bytes())
        .collect();
    let (addr, _server) = serve(responses);
    let done = get(&["-L", &format!("http://{addr}/")]);
    testkit::assert_fails(&done, "more than 5 redirects", None);
}

#[test]
fn a_response_that_ends_early_is_an_error_not_a_short_file() {
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this".to_vec(),
    ]);
    let done = get(&[&format!("http://{addr}/")]);
    testkit::assert_fails(&done, "after 9 of 100 body bytes", None);

    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab".to_vec(),
    ]);
    let done = get(&[&format!("http://{addr}/")]);
    testkit::assert_fails(&done, "in the middle of a chunked body", None);
}

#[test]
fn garbage_and_oversized_heads_are_clear_errors() {
    let (addr, _server) = serve(vec![b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()]);
    let done = get(&[&format!("http://{addr}/")]);
    // Refused at its first bytes, which `serve` writes 7 at a time.
    testkit::assert_fails(
        &done,
        "did not answer with a status line such as \"HTTP/1.1 200 OK\": it sent \"SSH-2.0",
        None,
    );

    let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..2000 {
        huge.extend(format!("X-Filler-{i}: {}\r\n", "y".repeat(40)).into_bytes());
    }
    huge.extend(b"\r\n");
    let (addr, _server) = serve(vec![huge]);
    let done = get(&[&format!("http://{addr}/")]);
    testkit::assert_fails(&done, "larger than 65536 bytes", None);

    let (addr, _server) = serve(vec![Vec::new()]);
    let done = get(&[&format!("http://{addr}/")]);
    testkit::assert_fails(&done, "closed the connection without answering", None);
}

#[test]
fn errors_say_what_is_wrong_in_the_readers_terms() {
    for (response, message) in [
        // The chunk's size says 5, but 7 bytes come before the CRLF.
        (
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY\r\n0\r\n\r\n"[..],
            "malformed chunked body: a chunk of 5 bytes (size 5 in hex) is not followed by CRLF",
        ),
        // HTTP/0.9: the body alone, no status line, no head. It is refused
        // at its first bytes, which `serve` writes 7 at a time.
        (
            b"hello, world\n",
            "did not answer with a status line such as \"HTTP/1.1 200 OK\": it sent \"hello,",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "the transfer coding \"gzip\", which http-get does not decode",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
            "chunked is applied more than once",
        ),
    ] {
        let (addr, _server) = serve(vec![response.to_vec()]);
        let done = get(&[&format!("http://{addr}/")]);
        testkit::assert_fails(&done, message, None);
    }
}

#[test]
fn an_http_0_9_answer_is_refused_at_once_not_after_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // The page, with no status line, and the connection left open.
    let old_server = thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(testkit::TIMEOUT));
            read_request(&stream);
            let _ = stream.write_all(b"<html>hello");
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
    });
    let started = Instant::now();
    let done = get(&["--timeout", "20", &format!("http://{addr}/")]);
    testkit::assert_fails(
        &done,
        "(an HTTP/0.9 server, or not an HTTP server at all)",
        None,
    );
    assert!(done.stderr.contains("it sent \"<"), "{}", done.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    old_server.join().expect("server");
}

#[test]
fn lengths_and_chunk_sizes_are_digits_only_and_repeats_must_agree() {
    let with_length = |value: &str| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nokEXTRA").into_bytes()
    };
    for (response, message) in [
        (with_length("+2"), "malformed Content-Length \"+2\": expected digits only"),
        (with_length("-2"), "malformed Content-Length \"-2\""),
        (with_length("0x2"), "malformed Content-Length \"0x2\""),
        (
            with_length("99999999999999999999"),
            "malformed Content-Length \"99999999999999999999\"",
        ),
        (with_length("2, 3"), "two different lengths, Content-Length 2 and 3"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok".to_vec(),
            "two different lengths, Content-Length 2 and 3",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n".to_vec(),
            "malformed chunk size \"+3\": expected hex digits only",
        ),
    ] {
        let (addr, _server) = serve(vec![response]);
        let done = get(&[&format!("http://{addr}/")]);
        testkit::assert_fails(&done, message, None);
    }
    // The same length twice is one length (RFC 9110 §8.6), in one field or two.
    for response in [
        with_length("2, 2"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nokEXTRA"
            .to_vec(),
    ] {
        let (addr, _server) = serve(vec![response]);
        let done = get(&[&format!("http://{addr}/")]);
        done.expect_code(0);
        assert_eq!(done.stdout, "ok");
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let silent = thread::spawn(move || {
        // Accept, read the request, say nothing until the client leaves.
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(testkit::TIMEOUT));
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
    });
    let done = get(&["--timeout", "0.5", &format!("http://{addr}/")]);
    testkit::assert_fails(&done, "the server sent nothing for 500ms", None);
    silent.join().expect("silent server");
}

#[test]
fn max_time_bounds_a_server_that_trickles() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // A byte every 100 ms: no read ever waits long enough for --timeout.
    let trickle = thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(testkit::TIMEOUT));
        read_request(&stream);
        let mut stream = stream;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for _ in 0..100 {
            if stream.write_all(b"x").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let started = Instant::now();
    let done = get(&[
        "--timeout",
        "5",
        "--max-time",
        "1",
        &format!("http://{addr}/"),
    ]);
    let took = started.elapsed();
    testkit::assert_fails(&done, "did not finish within --max-time 1s", None);
    assert!(!done.stdout.is_empty(), "the bytes that came are on stdout");
    assert!(took < Duration::from_secs(4), "--max-time 1 took {took:?}");
    trickle.join().expect("trickling server");
}

#[test]
fn max_time_counts_every_redirect() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Each answer comes 300 ms after its request: five hops are too many
    // for --max-time 1.
    let slow_hops = thread::spawn(move || {
        for i in 0..6 {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = stream.set_read_timeout(Some(testkit::TIMEOUT));
            // The test's own connections at the end send nothing.
            if read_request(&stream).is_empty() {
                continue;
            }
            thread::sleep(Duration::from_millis(300));
            let _ = stream.write_all(&hop(&format!("/{i}")));
        }
    });
    let done = get(&["-L", "--max-time", "1", &format!("http://{addr}/")]);
    testkit::assert_fails(&done, "did not finish within --max-time 1s", None);
    // The server waits for six clients: let the rest come and go at once.
    for _ in 0..6 {
        let _ = TcpStream::connect(addr);
    }
    slow_hops.join().expect("slow server");
}

#[test]
fn downloads_from_python_http_server_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("http-get-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // 3 MB that no compression or line ending could leave unchanged.
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("data.bin"), &data).expect("write");
    let server = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut server) = server else {
        eprintln!("SKIPPED LOUDLY: python3 is not installed, so the download from python's http.server was not tested");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let mut first = String::new();
    if let Some(stdout) = server.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut first);
    }
    let port = first
        .split(" port ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let url = format!("http://127.0.0.1:{port}/data.bin");
    let mut child = Command::new(EXE)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("http-get");
    let mut got = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut got).expect("read http-get's stdout");
    }
    let status = child.wait().expect("wait");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "{url}: {status}; first line {first:?}");
    assert!(
        got == data,
        "the download differs: {} bytes instead of {}",
        got.len(),
        data.len()
    );
}

// Lesson 11: https, against the example https-server (a CA of its own,
// certificates made at its start) and, for the parser, TLS in memory.

/// The example `https-server` with `args`, writing its CA to a folder of
/// its own, removed on drop.
struct Https {
    server: Server,
    dir: std::path::PathBuf,
}

impl Https {
    fn start(args: &[&str]) -> Https {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("http-get-tls-{}-{n}", std::process::id()));
        let dir_arg = dir.to_string_lossy().into_owned();
        let mut all = vec!["127.0.0.1:0", "--dir", &dir_arg];
        all.extend(args);
        let server = Server::start_with(&testkit::example("https-server"), &all);
        Https { server, dir }
    }

    /// An https URL of the server, by the name its certificate is for.
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.server.addr.port())
    }

    /// The path of its CA certificate, for --cacert.
    fn ca(&self) -> String {
        self.dir.join("ca.pem").to_string_lossy().into_owned()
    }

    /// Runs http-get with --cacert and `args`.
    fn get(&self, args: &[&str]) -> Finished {
        let ca = self.ca();
        let mut all = vec!["--cacert", &ca];
        all.extend(args);
        get(&all)
    }
}

impl Drop for Https {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn https_with_cacert_and_what_verbose_shows() {
    let https = Https::start(&[]);
    let done = https.get(&["-v", &https.url("/hello?x=1")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "hello over TLS: you asked for /hello?x=1\n");
    for line in [
        "* TLS handshake with localhost: SNI localhost, ALPN offered http/1.1\n",
        "* SSL connection using TLSv1.3 / TLS13_",
        "* ALPN: server accepted http/1.1\n",
        "*  subject: CN=localhost\n",
        "*  start date: 2020-01-01 12:00:00 UTC\n",
        "*  expire date: 2100-01-01 12:00:00 UTC\n",
        "*  subjectAltName: localhost, 127.0.0.1\n",
        "*  issuer: CN=socket course test CA, O=socket course\n",
        "*  SSL certificate verify ok",
        // The same request as lesson 09's, inside TLS; the port is not 443.
        &format!("> Host: localhost:{}\n", https.server.addr.port()),
        "< HTTP/1.1 200 OK\n",
    ] {
        if !done.stderr.contains(line) {
            done.fail(&format!("-v does not show {line:?}"));
        }
    }
    // By IP address: the certificate names 127.0.0.1 too; no SNI for an IP.
    let by_ip = format!("https://{}/ip", https.server.addr);
    let done = https.get(&["-v", "-i", &by_ip]);
    done.expect_code(0);
    assert!(
        done.stdout.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        done.stdout
    );
    assert!(done
        .stdout
        .ends_with("\r\n\r\nhello over TLS: you asked for /ip\n"));
    assert!(
        done.stderr.contains("SNI none (an IP address)"),
        "{}",
        done.stderr
    );
}

#[test]
fn curl_agrees_with_the_test_server_when_curl_is_installed() {
    let https = Https::start(&[]);
    let curl = Command::new("curl")
        .args(["-sS", "--cacert", &https.ca(), &https.url("/curl")])
        .output();
    let Ok(curl) = curl else {
        eprintln!(
            "SKIPPED LOUDLY: curl is not installed, so http-get was not compared with it"
        );
        return;
    };
    let done = https.get(&[&https.url("/curl")]);
    done.expect_code(0);
    assert!(curl.status.success(), "{curl:?}");
    assert_eq!(String::from_utf8_lossy(&curl.stdout), done.stdout);
}

#[test]
fn certificate_problems_exit_1_with_the_cause_and_a_hint() {
    for (kind, message, hint) in [
        (
            "expired",
            "localhost's certificate has expired (valid from 2000-01-01 12:00:00 UTC \
             until 2001-01-01 12:00:00 UTC)",
            "check this machine's clock",
        ),
        (
            "not-yet-valid",
            "localhost's certificate is not valid yet (valid from 2090-01-01",
            "check this machine's clock",
        ),
        (
            "wrong-name",
            "the certificate is for other.example, not for localhost, the name asked for",
            "use a name the certificate is for",
        ),
        (
            "self-signed",
            "localhost's certificate is self-signed",
            "trust its certificate with --cacert FILE",
        ),
        (
            "unknown-ca",
            "issued by \"CN=a CA nobody trusts\", a certificate authority that ",
            "trust it with --cacert CA-FILE",
        ),
    ] {
        let https = Https::start(&["--cert", kind]);
        let done = https.get(&["-i", &https.url("/")]);
        testkit::assert_fails(&done, message, Some(hint));
        assert_eq!(done.stdout, "", "{kind}: nothing of the page is shown");
        assert_eq!(done.stderr.lines().count(), 2, "{kind}: {}", done.stderr);
    }
}

#[test]
fn the_system_store_does_not_know_the_course_ca() {
    let https = Https::start(&[]);
    let done = get(&[&https.url("/")]);
    done.expect_code(1);
    // Where the machine has no CA store at all, http-get says that instead.
    assert!(
        done.stderr
            .contains("a certificate authority this machine does not trust")
            || done
                .stderr
                .contains("this machine trusts no CA certificate"),
        "{}",
        done.stderr
    );
}

#[test]
fn insecure_skips_the_check_and_warns_each_time() {
    let https = Https::start(&["--cert", "self-signed"]);
    for _ in 0..2 {
        let done = get(&["-k", &https.url("/k")]);
        done.expect_code(0);
        assert_eq!(done.stdout, "hello over TLS: you asked for /k\n");
        assert_eq!(
            done.stderr,
            "http-get: warning: -k: the certificate of localhost is not checked; anyone \
             on the path could be answering\n"
        );
    }
    // -k wins over --cacert, in either order, as in curl.
    let done = https.get(&["--insecure", &https.url("/")]);
    done.expect_code(0);
}

#[test]
fn a_body_that_ends_with_the_connection_needs_close_notify() {
    let cut = Https::start(&["--body", "close", "--no-close-notify"]);
    let done = cut.get(&[&cut.url("/cut")]);
    testkit::assert_fails(
        &done,
        "the connection was cut without TLS close_notify after 35 body bytes: the body \
         may be truncated",
        Some("only close_notify shows it is whole"),
    );
    // What came is on stdout, as with any error in the middle of a body.
    assert_eq!(done.stdout, "hello over TLS: you asked for /cut\n");

    let whole = Https::start(&["--body", "close"]);
    let done = whole.get(&[&whole.url("/end")]);
    done.expect_code(0);
    assert_eq!(done.stdout, "hello over TLS: you asked for /end\n");
}

#[test]
fn a_body_framed_by_its_length_or_chunks_needs_no_close_notify() {
    for framing in ["length", "chunked"] {
        let https = Https::start(&["--body", framing, "--no-close-notify"]);
        let done = https.get(&[&https.url("/framed")]);
        done.expect_code(0);
        assert_eq!(
            done.stdout, "hello over TLS: you asked for /framed\n",
            "{framing}"
        );
    }
}

#[test]
fn sixty_four_mib_over_tls_byte_for_byte() {
    const SIZE: usize = 64 * 1024 * 1024;
    let https = Https::start(&["--body", "chunked", "--size", &SIZE.to_string()]);
    let mut child = Command::new(EXE)
        .args(["--cacert", &https.ca(), &https.url("/big")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("http-get");
    let mut got = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut got).expect("read http-get's stdout");
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    let line = b"0123456789abcdefghijklmnopqrstuvwxyz\n";
    let expected: Vec<u8> = line.iter().copied().cycle().take(SIZE).collect();
    assert!(
        got == expected,
        "{} bytes instead of {SIZE}, or other bytes",
        got.len()
    );
}

#[test]
fn redirects_go_from_http_to_https_and_on() {
    let https = Https::start(&[]);
    let (addr, server) = serve(vec![hop(&https.url("/secure"))]);
    let done = https.get(&["-L", "-i", &format!("http://{addr}/plain")]);
    done.expect_code(0);
    assert!(
        done.stdout.starts_with("HTTP/1.1 302 Found\r\n"),
        "{}",
        done.stdout
    );
    assert!(done
        .stdout
        .ends_with("hello over TLS: you asked for /secure\n"));
    assert_eq!(request_lines(server), ["GET /plain HTTP/1.1"]);
}

#[test]
fn the_wrong_scheme_for_the_server_is_named() {
    // http:// to an https server: the seed's mistake the other way round.
    let https = Https::start(&[]);
    let plain = format!("http://{}/", https.server.addr);
    testkit::assert_fails(
        &get(&[&plain]),
        "the server answered in TLS, not in plain HTTP: it is an https server",
        None,
    );
    // https:// to a plain server.
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
    ]);
    testkit::assert_fails(
        &get(&[&format!("https://{addr}/")]),
        "127.0.0.1 did not answer in TLS",
        Some("try the same URL with http://"),
    );
}

#[test]
fn a_server_that_never_answers_the_handshake_times_out() {
    // A TCP server that accepts and says nothing: the ClientHello waits for
    // its ServerHello as lesson 09's request waits for its status line.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let silent = thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(testkit::TIMEOUT));
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
    });
    let url = format!("https://{addr}/");
    let done = get(&["--timeout", "0.5", &url]);
    testkit::assert_fails(
        &done,
        "the TLS handshake with 127.0.0.1 got no answer for 500ms",
        None,
    );
    silent.join().expect("silent server");
}

#[test]
fn fail_and_max_time_work_over_tls_too() {
    let https = Https::start(&["--size", "1000"]);
    // --fail lets a 200 through, and -i shows its head from inside TLS.
    let done = https.get(&["--fail", "-i", "--max-time", "20", &https.url("/")]);
    done.expect_code(0);
    assert!(
        done.stdout.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        done.stdout
    );
    let line = "0123456789abcdefghijklmnopqrstuvwxyz\n";
    let body: String = line.chars().cycle().take(1000).collect();
    assert!(
        done.stdout.ends_with(&format!("\r\n\r\n{body}")),
        "{}",
        done.stdout
    );
}

#[test]
fn a_cacert_that_is_missing_or_not_pem_is_a_clear_error() {
    let https = Https::start(&[]);
    let missing = https.dir.join("missing.pem").to_string_lossy().into_owned();
    testkit::assert_fails(
        &get(&["--cacert", &missing, &https.url("/")]),
        "cannot read the CA file",
        None,
    );
    let text = https.dir.join("text.pem");
    std::fs::write(&text, "not a certificate\n").expect("write");
    let text = text.to_string_lossy().into_owned();
    testkit::assert_fails(
        &get(&["--cacert", &text, &https.url("/")]),
        "holds no certificate (expected PEM",
        None,
    );
}

#[test]
fn answer_11_1_prints_the_chain_the_server_sends() {
    let https = Https::start(&[]);
    let chain = run(
        &testkit::example("answer-11-1"),
        &["--cacert", &https.ca(), &https.url("/")],
        b"",
    );
    chain.expect_code(0);
    let lines: Vec<_> = chain.stdout.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "0: subject CN=localhost",
            "   issuer  CN=socket course test CA, O=socket course",
            "   valid   2020-01-01 12:00:00 UTC until 2100-01-01 12:00:00 UTC",
            "   names   localhost, 127.0.0.1",
        ],
        "{}",
        chain.stdout
    );
    assert_eq!(
        lines[4],
        "1: subject CN=socket course test CA, O=socket course"
    );
    // The chain is printed only once it is trusted.
    let untrusted = run(&testkit::example("answer-11-1"), &[&https.url("/")], b"");
    untrusted.expect_code(1);
    assert_eq!(untrusted.stdout, "");
}

#[test]
fn answer_11_2_accepts_the_pinned_certificate_only() {
    let https = Https::start(&["--cert", "self-signed"]);
    let exe = testkit::example("answer-11-2");
    let shown = run(&exe, &[&https.url("/")], b"");
    shown.expect_code(0);
    let fingerprint = shown.stdout.trim().to_string();
    assert!(
        fingerprint.len() == 64 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fingerprint:?}"
    );
    // A self-signed certificate no CA vouches for: the pin is enough.
    let pinned = run(&exe, &["--pin", &fingerprint, &https.url("/")], b"");
    pinned.expect_code(0);
    assert_eq!(pinned.stdout, "the certificate matches the pin\n");
    // Another server (a new key, a new certificate) fails the same pin.
    let other = Https::start(&[]);
    let refused = run(&exe, &["--pin", &fingerprint, &other.url("/")], b"");
    testkit::assert_fails(&refused, &format!("not the pinned {fingerprint}"), None);
}

/// A TLS client and server in memory: the client configured as http-get
/// configures it (its `client_config`, trusting a CA made here), the
/// server holding a certificate for localhost from that CA.
struct MemoryTls {
    client: rustls::ClientConnection,
    server: rustls::ServerConnection,
}

impl MemoryTls {
    fn new() -> MemoryTls {
        static SETUP: OnceLock<(Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>)> =
            OnceLock::new();
        let (client, server) = SETUP.get_or_init(|| {
            let ca_key = rcgen::KeyPair::generate().expect("key");
            let mut ca = rcgen::CertificateParams::new(Vec::new()).expect("params");
            ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let ca_cert = ca.self_signed(&ca_key).expect("CA");
            let key = rcgen::KeyPair::generate().expect("key");
            let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
                .expect("params")
                .signed_by(&key, &rcgen::Issuer::new(ca, ca_key))
                .expect("leaf");
            let path = std::env::temp_dir()
                .join(format!("http-get-memory-ca-{}.pem", std::process::id()));
            std::fs::write(&path, ca_cert.pem()).expect("write the CA");
            let trust = http_get::tls::Trust::CaFile(path.clone());
            let (client, _verifier) =
                http_get::tls::client_config(&trust).expect("client");
            let _ = std::fs::remove_file(&path);
            let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
            let server = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .expect("server");
            (client, Arc::new(server))
        });
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let mut tls = MemoryTls {
            client: rustls::ClientConnection::new(Arc::clone(client), name)
                .expect("client"),
            server: rustls::ServerConnection::new(Arc::clone(server)).expect("server"),
        };
        // The handshake: a few flights back and forth.
        for _ in 0..10 {
            if !tls.client.is_handshaking() && !tls.server.is_handshaking() {
                return tls;
            }
            let mut wire = Vec::new();
            tls.client.write_tls(&mut wire).expect("client hello");
            tls.server.read_tls(&mut &wire[..]).expect("to server");
            tls.server.process_new_packets().expect("server handshake");
            let mut wire = Vec::new();
            tls.server.write_tls(&mut wire).expect("server flight");
            tls.client.read_tls(&mut &wire[..]).expect("to client");
            tls.client.process_new_packets().expect("client handshake");
        }
        panic!("the handshake in memory did not finish");
    }

    /// Sends `bytes` from the server as TLS records, ending with
    /// close_notify; the client reads the records in pieces cut at `cuts`
    /// (of the wire's bytes) and feeds each piece of plaintext, as it comes
    /// out, to a ResponseReader.
    fn response(
        mut self,
        bytes: &[u8],
        cuts: &[usize],
    ) -> Result<(u16, Vec<u8>), String> {
        self.server.writer().write_all(bytes).expect("plaintext in");
        self.server.send_close_notify();
        let mut wire = Vec::new();
        while self.server.wants_write() {
            self.server.write_tls(&mut wire).expect("records out");
        }
        let mut reader = ResponseReader::new(Limits::default());
        let (mut status, mut body) = (0, Vec::new());
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        points.sort_unstable();
        let mut start = 0;
        let mut plain = vec![0; 64 * 1024];
        let mut closed = false;
        for point in points.into_iter().chain([wire.len()]) {
            let mut piece = &wire[start..point];
            start = point;
            while !piece.is_empty() {
                self.client.read_tls(&mut piece).expect("records in");
                let state = self
                    .client
                    .process_new_packets()
                    .map_err(|e| e.to_string())?;
                closed |= state.peer_has_closed();
                loop {
                    let n = match self.client.reader().read(&mut plain) {
                        Ok(n) => n,
                        Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(err) => return Err(err.to_string()),
                    };
                    let events = if n == 0 {
                        reader.finish().map_err(|e| e.0)?
                    } else {
                        reader.feed(&plain[..n]).map_err(|e| e.0)?
                    };
                    for event in events {
                        match event {
                            Event::Head(head) => status = head.status,
                            Event::Body(b) => body.extend_from_slice(b),
                            Event::Interim(_) | Event::End => {}
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
            }
        }
        assert!(closed, "the client saw close_notify");
        Ok((status, body))
    }
}

#[test]
fn help_bad_arguments_and_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["ftp://x/"], "ftp://x/");
    testkit::assert_bad_args(EXE, &["http://::1/"], "http://::1/");
    testkit::assert_bad_args(EXE, &["http://h:99999/"], "http://h:99999/");
    testkit::assert_bad_args(EXE, &["--timeout", "0", "http://h/"], "0");
    testkit::assert_bad_args(EXE, &["--max-time", "-1", "http://h/"], "-1");
    let none = run(EXE, &[], b"");
    none.expect_code(2);
    let refused = format!("http://{}/", testkit::unused_addr());
    testkit::assert_fails(&get(&[&refused]), "refused", Some("start the server"));
    testkit::assert_fails(
        // Offline, so that the name becomes no DNS query leaving the machine.
        &testkit::run_offline(EXE, &["http://no-such-host.invalid/"], b""),
        "no-such-host.invalid",
        Some("host name"),
    );
}

#[test]
fn urls_and_host_headers() {
    let url = Url::parse("http://[::1]:8080/a?b").expect("v6");
    assert_eq!(
        (url.host.as_str(), url.port, url.target.as_str()),
        ("::1", 8080, "/a?b")
    );
    assert_eq!(url.host_header(), "[::1]:8080");
    let url = Url::parse("HTTP://Example.com?q").expect("no path");
    assert_eq!(
        (url.port, url.target.as_str(), url.host_header()),
        (80, "/?q", "Example.com".to_string())
    );
    let base = Url::parse("http://h/x/y?old").expect("base");
    for (location, target) in [
        ("../z", "/z"),
        ("?q", "/x/y?q"),
        ("#f", "/x/y?old"),
        ("/login?next=http://x/", "/login?next=http://x/"),
    ] {
        assert_eq!(
            base.join(location).map(|u| u.target).ok().as_deref(),
            Some(target)
        );
    }
    assert_eq!(
        base.join("http://other:81/p").map(|u| u.port).ok(),
        Some(81)
    );
    assert_eq!(Url::parse("http://h:/").map(|u| u.port).ok(), Some(80));
    assert!(Url::parse("http://a b/").is_err());
}

/// Feeds `bytes` to a fresh reader in the given pieces; returns the body,
/// or the first error.
fn read_all(bytes: &[u8], cuts: &[usize]) -> Result<(u16, Vec<u8>), String> {
    let mut reader = ResponseReader::new(Limits::default());
    let (mut status, mut body) = (0, Vec::new());
    let mut take = |events: Vec<Event<'_>>| {
        for event in events {
            match event {
                Event::Head(head) => status = head.status,
                Event::Interim(_) => {}
                Event::Body(b) => body.extend_from_slice(b),
                Event::End => {}
            }
        }
    };
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    for point in points.into_iter().chain([bytes.len()]) {
        take(reader.feed(&bytes[start..point]).map_err(|e| e.0)?);
        // Whatever a server sends, the reader holds at most one head.
        assert!(reader.buffered() <= Limits::default().max_head);
        start = point;
    }
    take(reader.finish().map_err(|e| e.0)?);
    Ok((status, body))
}

/// A well-formed response carrying `body` in one of three framings.
fn response(body: &[u8], framing: u8, chunk: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nServer: test\r\n".to_vec();
    match framing % 3 {
        0 => {
            out.extend(format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes());
            out.extend(body);
        }
        1 => {
            out.extend(b"Transfer-Encoding: chunked\r\n\r\n");
            for piece in body.chunks(chunk.max(1)) {
                out.extend(format!("{:x};ext=1\r\n", piece.len()).into_bytes());
                out.extend(piece);
                out.extend(b"\r\n");
            }
            out.extend(b"0\r\nTrailer: x\r\n\r\n");
        }
        _ => {
            out.extend(b"\r\n");
            out.extend(body);
        }
    }
    out
}

proptest! {
    #[test]
    fn any_framing_cut_anywhere_gives_the_body_back_plain_or_through_tls(
        body in prop::collection::vec(any::<u8>(), 0..3000),
        framing in any::<u8>(),
        chunk in 1usize..500,
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let bytes = response(&body, framing, chunk);
        let plain = read_all(&bytes, &cuts);
        prop_assert_eq!(&plain, &Ok((200, body)));
        // The same bytes inside TLS (lesson 11) read the same.
        prop_assert_eq!(MemoryTls::new().response(&bytes, &cuts), plain);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..4000),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let _ = read_all(&bytes, &cuts);
    }

    #[test]
    fn mutated_responses_never_panic_and_read_the_same_through_tls(
        body in prop::collection::vec(any::<u8>(), 0..500),
        framing in any::<u8>(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut bytes = response(&body, framing, 17);
        for (at, byte) in flips {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        // Inside TLS, the same verdict; an error's quote of the bytes may
        // differ, as it shows what had come when the error was seen.
        let (tls, plain) = (MemoryTls::new().response(&bytes, &cuts), read_all(&bytes, &cuts));
        prop_assert_eq!(tls.as_ref().ok(), plain.as_ref().ok(), "{:?} {:?}", tls, plain);
    }
}

// Lesson 09's exercise answers (examples/answer-09-*.rs), as real processes
// against servers on 127.0.0.1.

/// A server that answers `responses` in turn on as few connections as the
/// client uses, keeping each connection open until the client closes it.
/// Returns the number of connections and the request heads, in order.
fn keep_alive_server(
    responses: Vec<Vec<u8>>,
) -> (SocketAddr, JoinHandle<(usize, Vec<String>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let server = thread::spawn(move || {
        let deadline = Instant::now() + testkit::TIMEOUT;
        let mut responses = responses.into_iter();
        let (mut connections, mut requests) = (0, Vec::new());
        // Until every response has gone and its connection closed, or the
        // deadline: each pass is one accept, or a 10 ms wait for one.
        while responses.len() > 0 && Instant::now() < deadline {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(_) => {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            connections += 1;
            stream.set_nonblocking(false).expect("blocking");
            stream
                .set_read_timeout(Some(testkit::TIMEOUT))
                .expect("timeout");
            let mut writer = stream.try_clone().expect("clone");
            // One reader for the whole connection: nothing the client sent
            // ahead is lost between two requests.
            let mut reader = BufReader::new(stream);
            loop {
                let mut head = String::new();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    head += &line;
                    line.clear();
                }
                if head.is_empty() {
                    break; // the client closed the connection
                }
                requests.push(head);
                match responses.next() {
                    Some(response) => {
                        let _ = writer.write_all(&response);
                    }
                    None => break,
                }
            }
        }
        (connections, requests)
    });
    (addr, server)
}

/// Runs the example `name` (an exercise's answer) on `path` at `addr`.
fn answer(name: &str, addr: SocketAddr, path: &str) -> Finished {
    run(
        &testkit::example(name),
        &[&format!("http://{addr}{path}")],
        b"",
    )
}

#[test]
fn answer_09_1_head_prints_the_head_and_waits_for_no_body() {
    // Python's answer to HEAD: the length of the body a GET would get, and
    // no body. The connection stays open: the answer must not wait for one.
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\n";
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for response in [head, chunked] {
        let (addr, server) = keep_alive_server(vec![response.as_bytes().to_vec()]);
        let done = answer("answer-09-1", addr, "/file.txt");
        done.expect_code(0);
        assert_eq!(done.stdout, response, "{}", done.stderr);
        let (connections, requests) = server.join().expect("server");
        assert_eq!(connections, 1);
        assert!(
            requests[0].starts_with("HEAD /file.txt HTTP/1.1\r\n"),
            "{requests:?}"
        );
    }

    // What the exercise asks to predict: lesson 09's reader, not told that
    // the request was HEAD, waits for those 30 bytes and reports the close.
    let mut reader = ResponseReader::new(Limits::default());
    let events = reader.feed(head.as_bytes()).expect("a head");
    assert!(matches!(events.as_slice(), [Event::Head(_)]), "{events:?}");
    assert_eq!(
        reader.finish().err().map(|err| err.0),
        Some("the server closed the connection after 0 of 30 body bytes".into())
    );

    // A server that closes without a whole head is still an error.
    let (addr, _server) = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Le".to_vec()]);
    let done = answer("answer-09-1", addr, "/");
    testkit::assert_fails(&done, "in the middle of the response head", None);
}

#[test]
fn answer_09_2_two_gets_share_one_connection() {
    let (addr, server) = keep_alive_server(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfirst\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nsecond\n\r\n0\r\n\r\n"
            .to_vec(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nthird\n".to_vec(),
    ]);
    let urls: Vec<String> = ["/a", "/b", "/c"]
        .iter()
        .map(|path| format!("http://{addr}{path}"))
        .collect();
    let args: Vec<&str> = urls.iter().map(String::as_str).collect();
    let done = run(&testkit::example("answer-09-2"), &args, b"");
    done.expect_code(0);
    assert_eq!(done.stdout, "first\nsecond\nthird\n");
    assert!(
        done.stderr.contains("* 2 /b: HTTP/1.1 200 OK")
            && done.stderr.contains("* 3 /c: HTTP/1.1 404 Not Found")
            && done.stderr.contains("* 3 requests on one connection"),
        "{}",
        done.stderr
    );
    let (connections, requests) = server.join().expect("server");
    assert_eq!(connections, 1, "{requests:?}");
    let lines: Vec<&str> = requests.iter().filter_map(|r| r.lines().next()).collect();
    assert_eq!(
        lines,
        ["GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /c HTTP/1.1"]
    );
    // Only the last request asks the server to close.
    let closes: Vec<bool> = requests
        .iter()
        .map(|r| r.contains("Connection: close\r\n"))
        .collect();
    assert_eq!(closes, [false, false, true]);
}

#[test]
fn answer_09_2_says_why_a_connection_cannot_carry_a_second_request() {
    for (response, why) in [
        // Python's http.server without -p HTTP/1.1.
        (
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "answered HTTP/1.0, so it closes the connection after each response: \
             start Python's with -p HTTP/1.1",
        ),
        (
            "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
            "closes the connection after this response (Connection: close)",
        ),
        (
            "HTTP/1.1 200 OK\r\n\r\nuntil the close",
            "neither Content-Length nor chunked",
        ),
    ] {
        let (addr, _server) = serve(vec![response.as_bytes().to_vec()]);
        let url = format!("http://{addr}/");
        let done = run(&testkit::example("answer-09-2"), &[&url, &url], b"");
        testkit::assert_fails(&done, why, None);
    }
    let done = run(
        &testkit::example("answer-09-2"),
        &["http://127.0.0.1:1/", "http://127.0.0.2:1/"],
        b"",
    );
    testkit::assert_fails(&done, "127.0.0.2:1 is not on 127.0.0.1:1", None);
}

/// `text` compressed with gzip.
fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text).expect("compress");
    encoder.finish().expect("compress")
}

#[test]
fn answer_09_3_a_gzip_body_is_decompressed_as_it_streams() {
    let text = "你好, gzip\n".repeat(2000);
    let compressed = gzip(text.as_bytes());
    // Chunked, and each 7-byte piece written on its own (see `serve`): the
    // decoder gets the compressed bytes in pieces, framing taken off.
    let mut chunked = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in compressed.chunks(1000) {
        chunked.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend(piece);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");
    let (addr, server) = serve(vec![chunked]);
    let done = answer("answer-09-3", addr, "/");
    done.expect_code(0);
    assert!(done.stdout == text, "{} bytes out", done.stdout.len());
    let said = format!("* {} bytes of gzip became {}", compressed.len(), text.len());
    assert!(done.stderr.contains(&said), "{}", done.stderr);
    let requests = server.join().expect("server");
    assert!(
        requests[0].contains("Accept-Encoding: gzip\r\n"),
        "{requests:?}"
    );

    // Not compressed: as it is.
    let (addr, _server) = serve(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nplain\n".to_vec(),
    ]);
    let done = answer("answer-09-3", addr, "/");
    done.expect_code(0);
    assert_eq!(done.stdout, "plain\n");
    assert!(
        done.stderr.contains("* 6 bytes, not compressed"),
        "{}",
        done.stderr
    );
}

#[test]
fn answer_09_3_a_cut_or_unknown_coding_is_an_error_not_a_short_file() {
    let compressed = gzip(b"a whole line, and more\n");
    let head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n";
    let cut = [head.as_bytes(), &compressed[..compressed.len() - 6]].concat();
    let longer = [head.as_bytes(), &compressed, b"more"].concat();
    let brotli = b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\nxyz".to_vec();
    for (response, why) in [
        (cut, "the gzip body ended before its end"),
        (longer, "the body goes on after the end of its gzip data"),
        (
            brotli,
            "the body is coded br, which this answer does not decode",
        ),
    ] {
        let (addr, _server) = serve(vec![response]);
        let done = answer("answer-09-3", addr, "/");
        testkit::assert_fails(&done, why, None);
    }
}

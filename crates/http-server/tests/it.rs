//! http-server as a real process on 127.0.0.1, serving a scratch folder:
//! raw-socket clients that check every byte of what it sends, hostile
//! clients (every way out of the folder, garbage, a huge head, a trickled
//! head, 500 idle connections), curl when it is installed, and lesson 09's
//! http-get.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use http_server::{head, target};
use proptest::prelude::*;
use testkit::{beside, connect, run, Server};

const EXE: &str = env!("CARGO_BIN_EXE_http-server");

/// What the folder outside the served one holds: it must never be served.
const SECRET: &str = "SECRET, outside the served folder";

/// A scratch folder for one test: `site/` is served, `secret.txt` and
/// `private/` sit beside it, outside.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("http-server-{name}"));
    let _ = fs::remove_dir_all(&dir);
    let site = dir.join("site");
    let write = |path: &str, bytes: &[u8]| {
        let path = site.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, bytes).expect("write");
    };
    write("a.txt", b"hello from a file\n");
    write("page.html", b"<!DOCTYPE html><title>t</title>");
    write("style.css", b"body { color: red }");
    write("app.js", b"console.log(1)");
    write("data.json", b"{}");
    write("pic.png", b"\x89PNG\r\n\x1a\n");
    write("font.woff2", b"wOF2");
    write("blob.xyz", b"?");
    write("\u{6c49}\u{5b57}.txt", "汉字\n".as_bytes());
    write("a b.txt", b"a space\n");
    write("<x>&.txt", b"escaped\n");
    write("docs/index.html", b"<h1>the docs</h1>\n");
    write("docs/more/b.txt", b"b\n");
    write("big.bin", &big());
    fs::create_dir_all(dir.join("private")).expect("mkdir");
    fs::write(dir.join("secret.txt"), SECRET).expect("write");
    fs::write(dir.join("private/secret.txt"), SECRET).expect("write");
    std::os::unix::fs::symlink(dir.join("secret.txt"), site.join("out"))
        .expect("symlink");
    std::os::unix::fs::symlink(dir.join("private"), site.join("outdir"))
        .expect("symlink");
    std::os::unix::fs::symlink("a.txt", site.join("inner.txt")).expect("symlink");
    dir
}

/// 10 MiB of bytes that are not all alike (every byte value, in an order
/// that does not repeat every 256 bytes).
fn big() -> Vec<u8> {
    let mut x: u32 = 1;
    (0..10 << 20)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

fn start(dir: &Path, extra: &[&str]) -> Server {
    start_program(EXE, dir, extra)
}

/// [`start`] for another program that takes http-server's arguments: an
/// exercise's answer.
fn start_program(exe: &str, dir: &Path, extra: &[&str]) -> Server {
    let site = dir.join("site");
    let site = site.to_str().expect("utf-8 path");
    let mut args = vec!["127.0.0.1:0", "--dir", site];
    args.extend_from_slice(extra);
    Server::start_with(exe, &args)
}

/// A response as a client reads it.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response from `stream`: the head, then as many body bytes as
/// its Content-Length says (none for a HEAD, a 204 or a 304).
fn read_reply(stream: &mut TcpStream, head_only: bool) -> Reply {
    let mut got = Vec::new();
    let mut byte = [0; 1];
    // Byte by byte, so that nothing of the next response is read.
    while !got.ends_with(b"\r\n\r\n") {
        assert!(got.len() < 64 * 1024, "a response head over 64 KiB");
        match stream.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            other => panic!(
                "no complete response head ({other:?}); got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    let head = String::from_utf8(got).expect("the head is text");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    assert!(head.starts_with("HTTP/1.1 "), "{head}");
    let mut reply = Reply {
        status,
        head,
        body: Vec::new(),
    };
    let length: usize = match reply.header("content-length") {
        Some(length) => length.parse().expect("a number"),
        None => {
            assert!(
                matches!(reply.status, 204 | 304),
                "no Content-Length: {}",
                reply.head
            );
            0
        }
    };
    if !head_only && !matches!(reply.status, 204 | 304) {
        reply.body = vec![0; length];
        stream.read_exact(&mut reply.body).unwrap_or_else(|err| {
            panic!("body of {length} bytes: {err}; {}", reply.head)
        });
    }
    reply
}

/// The request that [`raw`] sends after each request, to check the
/// framing of the response before it.
const PROBE: &[u8] = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// Sends raw bytes on a new connection, then [`PROBE`] in the same write,
/// and reads the response to the first request. Its Content-Length must be
/// right: a keep-alive response must be followed by exactly the probe's
/// answer, a closing one by the close.
fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = connect(addr);
    stream.write_all(&[request, PROBE].concat()).expect("send");
    let head_only = request.starts_with(b"HEAD ");
    let reply = read_reply(&mut stream, head_only);
    if reply.header("connection") == Some("close") {
        assert!(closed(&mut stream), "bytes after a closing response");
    } else {
        let probe = read_reply(&mut stream, false);
        assert_eq!(probe.text(), "hello from a file\n", "after {}", reply.head);
    }
    reply
}

/// `METHOD target` with the usual headers, on a new connection.
fn request(addr: SocketAddr, method: &str, target: &str, headers: &str) -> Reply {
    let text = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
    raw(addr, text.as_bytes())
}

fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, "GET", target, "")
}

/// Whether the server closes `stream` within 3 s: the next read gives 0
/// bytes (or a reset), not data and not a timeout.
fn closed(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut byte = [0; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn help_bad_arguments_and_start_up_failures() {
    testkit::assert_help(EXE);
    testkit::assert_bad_args(EXE, &["127.0.0.1"], "127.0.0.1");
    testkit::assert_bad_args(EXE, &["--head-timeout", "0"], "--head-timeout");
    testkit::assert_bad_args(EXE, &["--max-connections", "x"], "--max-connections");
    testkit::assert_bad_args(EXE, &["--frobnicate"], "--frobnicate");
    testkit::assert_port_in_use(EXE);
    let done = run(EXE, &["127.0.0.1:0", "--dir", "/no/such/folder"], b"");
    testkit::assert_fails(&done, "cannot serve /no/such/folder", None);
    let help = run(EXE, &["--help"], b"");
    assert!(help.stdout.contains("Ctrl-C"), "{}", help.stdout);
}

#[test]
fn files_have_their_type_and_exact_length() {
    let dir = scratch("types");
    let server = start(&dir, &[]);
    for (name, kind) in [
        ("a.txt", "text/plain; charset=utf-8"),
        ("page.html", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"),
        ("pic.png", "image/png"),
        ("font.woff2", "font/woff2"),
        ("blob.xyz", "application/octet-stream"),
    ] {
        let reply = get(server.addr, &format!("/{name}"));
        let bytes = fs::read(dir.join("site").join(name)).expect("read");
        assert_eq!(reply.status, 200, "{name}: {}", reply.head);
        assert_eq!(reply.header("content-type"), Some(kind), "{name}");
        assert_eq!(reply.body, bytes, "{name}");
        assert!(reply
            .header("last-modified")
            .is_some_and(|d| d.ends_with(" GMT")));
    }

    // HEAD: the same head, the same Content-Length, and no body.
    let mut stream = server.connect();
    stream
        .write_all(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut all = Vec::new();
    stream.read_to_end(&mut all).expect("read to the close");
    let all = String::from_utf8(all).expect("text");
    assert!(all.starts_with("HTTP/1.1 200 OK\r\n"), "{all}");
    assert!(all.contains("\r\nContent-Length: 18\r\n"), "{all}");
    assert!(all.ends_with("\r\n\r\n"), "a HEAD got a body: {all:?}");

    let missing = get(server.addr, "/missing.txt");
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().starts_with("404 Not Found"),
        "{}",
        missing.text()
    );
    server.process.wait_for_stdout("GET /missing.txt 404");
}

#[test]
fn a_10_mib_binary_arrives_byte_for_byte() {
    let dir = scratch("big");
    let server = start(&dir, &[]);
    let reply = get(server.addr, "/big.bin");
    assert_eq!(reply.header("content-length"), Some("10485760"));
    assert!(reply.body == big(), "the body differs from the file");
    server.process.wait_for_stdout("GET /big.bin 200 10485760 ");
}

#[test]
fn folders_redirect_serve_their_index_or_a_listing() {
    let dir = scratch("folders");
    let server = start(&dir, &[]);
    let moved = get(server.addr, "/docs");
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("location"), Some("/docs/"));
    let moved = get(server.addr, "/docs/more?x=1");
    assert_eq!(moved.header("location"), Some("/docs/more/?x=1"));

    assert_eq!(get(server.addr, "/docs/").text(), "<h1>the docs</h1>\n");
    assert_eq!(get(server.addr, "/a.txt/").status, 404);

    let listing = get(server.addr, "/");
    assert_eq!(listing.status, 200);
    assert_eq!(
        listing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = listing.text();
    for needle in [
        "<a href=\"a.txt\">a.txt</a>",
        "<a href=\"docs/\">docs/</a>",
        "<a href=\"a%20b.txt\">a b.txt</a>",
        "<a href=\"%E6%B1%89%E5%AD%97.txt\">汉字.txt</a>",
        "<a href=\"%3Cx%3E%26.txt\">&lt;x&gt;&amp;.txt</a>",
    ] {
        assert!(page.contains(needle), "{needle} not in {page}");
    }
    assert!(!page.contains("<x>"), "an unescaped name: {page}");
    let sub = get(server.addr, "/docs/more/").text();
    assert!(
        sub.contains("<a href=\"../\">") && sub.contains("b.txt"),
        "{sub}"
    );
}

#[test]
fn percent_encoded_names_are_found() {
    let dir = scratch("names");
    let server = start(&dir, &[]);
    assert_eq!(get(server.addr, "/%E6%B1%89%E5%AD%97.txt").text(), "汉字\n");
    assert_eq!(get(server.addr, "/a%20b.txt").text(), "a space\n");
    assert_eq!(get(server.addr, "/%61.txt").text(), "hello from a file\n");
    assert_eq!(get(server.addr, "/a.txt?v=2").text(), "hello from a file\n");
    assert_eq!(get(server.addr, "/inner.txt").text(), "hello from a file\n");
    assert_eq!(get(server.addr, "/%E6%B1").status, 400);
}

#[test]
fn ranges_give_206_or_416() {
    let dir = scratch("ranges");
    let server = start(&dir, &[]);
    let range =
        |spec: &str| request(server.addr, "GET", "/a.txt", &format!("Range: {spec}\r\n"));
    // "hello from a file\n" is 18 bytes.
    for (spec, body, content_range) in [
        ("bytes=0-4", "hello", "bytes 0-4/18"),
        ("bytes=6-", "from a file\n", "bytes 6-17/18"),
        ("bytes=-5", "file\n", "bytes 13-17/18"),
        ("bytes=13-999", "file\n", "bytes 13-17/18"),
    ] {
        let reply = range(spec);
        assert_eq!(reply.status, 206, "{spec}");
        assert_eq!(reply.text(), body, "{spec}");
        assert_eq!(reply.header("content-range"), Some(content_range), "{spec}");
    }
    let past = range("bytes=18-");
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), Some("bytes */18"));
    // Two ranges at once: the whole file is a correct answer.
    let two = range("bytes=0-1,3-4");
    assert_eq!((two.status, two.body.len()), (200, 18));
    // If-Range with another date: the file changed, send it whole.
    let changed = request(
        server.addr,
        "GET",
        "/a.txt",
        "Range: bytes=0-4\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
    );
    assert_eq!(changed.status, 200);
}

#[test]
fn if_modified_since_gives_304() {
    let dir = scratch("304");
    let server = start(&dir, &[]);
    let first = get(server.addr, "/a.txt");
    let date = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let again = request(
        server.addr,
        "GET",
        "/a.txt",
        &format!("If-Modified-Since: {date}\r\n"),
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("last-modified"), Some(&*date));
    let old = "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
    assert_eq!(request(server.addr, "GET", "/a.txt", old).status, 200);
    let garbage = "If-Modified-Since: yesterday\r\n";
    assert_eq!(request(server.addr, "GET", "/a.txt", garbage).status, 200);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let dir = scratch("keep-alive");
    let server = start(&dir, &[]);
    let mut stream = server.connect();
    for target in ["/a.txt", "/missing", "/docs"] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(req.as_bytes()).expect("send");
        let reply = read_reply(&mut stream, false);
        assert_eq!(reply.header("connection"), None, "{}", reply.head);
    }
    // Two requests in one write (pipelining): two responses, in order.
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /docs/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert_eq!(read_reply(&mut stream, false).text(), "hello from a file\n");
    assert_eq!(read_reply(&mut stream, true).status, 200);
    // Connection: close is the last one.
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    assert_eq!(
        read_reply(&mut stream, false).header("connection"),
        Some("close")
    );
    assert!(
        closed(&mut stream),
        "the connection stayed open after close"
    );
    // One log line per request, all from the same client port.
    server
        .process
        .wait_for_stdout_count(" GET /a.txt 200 18 ", 3);
    let port = stream.local_addr().expect("addr").port();
    let from_us = format!("127.0.0.1:{port} ");
    let lines = server.process.stdout();
    assert_eq!(lines.matches(&from_us).count(), 6, "{lines}");

    // HTTP/1.0 closes after one response.
    let mut old = server.connect();
    old.write_all(b"GET /a.txt HTTP/1.0\r\n\r\n").expect("send");
    assert_eq!(
        read_reply(&mut old, false).header("connection"),
        Some("close")
    );
    assert!(closed(&mut old), "HTTP/1.0 stayed open");
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let dir = scratch("idle");
    let server = start(&dir, &["--idle-timeout", "0.5"]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    read_reply(&mut stream, false);
    let began = Instant::now();
    assert!(closed(&mut stream));
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "closed after {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
}

#[test]
fn a_body_on_get_is_read_and_thrown_away() {
    let dir = scratch("body");
    let server = start(&dir, &[]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        .expect("send");
    assert_eq!(read_reply(&mut stream, false).status, 200);
    stream
        .write_all(b"GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert_eq!(read_reply(&mut stream, false).text(), "<h1>the docs</h1>\n");
    let huge = request(
        server.addr,
        "GET",
        "/a.txt",
        "Content-Length: 100000000\r\n",
    );
    assert_eq!(huge.status, 413);
}

#[test]
fn no_way_out_of_the_folder() {
    let dir = scratch("traversal");
    let server = start(&dir, &[]);
    let secret_path = dir.join("secret.txt");
    let absolute = format!("/{}", secret_path.display());
    let absolute_encoded = format!("/{}", absolute.replace('/', "%2f"));
    for target in [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/docs/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/.%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "//etc/passwd",
        &absolute,
        &absolute_encoded,
        &format!("/{absolute}"),
        "/etc/passwd",
        "/a.txt%00.html",
        "/%00",
        "/out",
        "/outdir/secret.txt",
        "/outdir/",
        "http://127.0.0.1/../secret.txt",
        "http://127.0.0.1//etc/passwd",
    ] {
        let reply = get(server.addr, target);
        assert!(
            matches!(reply.status, 403 | 404),
            "{target}: {} {}",
            reply.status,
            reply.text()
        );
        let body = reply.text();
        assert!(
            !body.contains(SECRET) && !body.contains("root:"),
            "{target}: {body}"
        );
    }
    // The server is still there.
    assert_eq!(get(server.addr, "/a.txt").status, 200);
}

#[test]
fn garbage_gets_an_error_with_a_correct_length_and_a_close() {
    let dir = scratch("garbage");
    let server = start(&dir, &[]);
    for (bytes, status) in [
        (&b"\x00\xff\xfe garbage\r\n\r\n"[..], 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            400,
        ),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (
            b"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
            501,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            501,
        ),
    ] {
        let mut stream = server.connect();
        stream.write_all(bytes).expect("send");
        let reply = read_reply(&mut stream, false);
        let shown = String::from_utf8_lossy(bytes);
        assert_eq!(reply.status, status, "{shown}: {}", reply.head);
        assert_eq!(reply.header("connection"), Some("close"), "{shown}");
        assert!(closed(&mut stream), "{shown}: the connection stayed open");
        if bytes.starts_with(b"BREW") || bytes.starts_with(b"POST") {
            assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        }
    }
    assert_eq!(get(server.addr, "/a.txt").status, 200);
}

#[test]
fn a_70_kb_head_gets_431() {
    let dir = scratch("431");
    let server = start(&dir, &[]);
    let mut stream = server.connect();
    let mut head = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n".to_vec();
    while head.len() < 70_000 {
        head.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
    }
    head.extend_from_slice(b"\r\n");
    // The server stops reading at 16 KiB; it drains the rest before closing,
    // so this write completes (an error here would be a reset).
    let _ = stream.write_all(&head);
    let reply = read_reply(&mut stream, false);
    assert_eq!(reply.status, 431);
    assert!(closed(&mut stream), "bytes after the 431 response");
    assert_eq!(get(server.addr, "/a.txt").status, 200);
}

#[test]
fn a_trickled_head_gets_408_at_the_deadline() {
    let dir = scratch("408");
    // One connection at a time: the next client is served only once the
    // trickling one's thread has ended.
    let server = start(&dir, &["--head-timeout", "1", "--max-connections", "1"]);
    let mut stream = server.connect();
    let mut writer = stream.try_clone().expect("clone");
    let began = Instant::now();
    // A header line every 100 ms, never the empty line: at most 5 s.
    let trickle = thread::spawn(move || {
        let _ = writer.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n");
        for i in 0..50 {
            thread::sleep(Duration::from_millis(100));
            if writer
                .write_all(format!("X-{i}: y\r\n").as_bytes())
                .is_err()
            {
                break;
            }
        }
    });
    let reply = read_reply(&mut stream, false);
    let waited = began.elapsed();
    assert_eq!(reply.status, 408);
    assert!(waited >= Duration::from_millis(900), "408 after {waited:?}");
    assert!(waited < Duration::from_secs(4), "408 after {waited:?}");
    assert!(closed(&mut stream));
    // The client still trickles, for 4 s more; the server stops reading it
    // half a second after the 408, and its place is free (at most 40 tries).
    let after_408 = Instant::now();
    let served = (0..40).any(|_| {
        let reply = get(server.addr, "/a.txt");
        if reply.status == 503 {
            thread::sleep(Duration::from_millis(50));
        }
        reply.status == 200
    });
    let freed = after_408.elapsed();
    assert!(
        served && freed < Duration::from_secs(2),
        "served {served} after {freed:?}"
    );
    drop(stream);
    trickle.join().expect("the trickling thread");
    server.process.wait_for_stdout(" 408 ");
}

#[test]
fn five_hundred_idle_connections_do_not_stop_a_new_request() {
    let dir = scratch("idle-500");
    let server = start(&dir, &["--idle-timeout", "60"]);
    let mut idle = Vec::new();
    for _ in 0..500 {
        let mut stream = server.connect();
        stream
            .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        assert_eq!(read_reply(&mut stream, false).status, 200);
        idle.push(stream); // kept open, and silent
    }
    let began = Instant::now();
    let reply = get(server.addr, "/docs/");
    let took = began.elapsed();
    assert_eq!(reply.status, 200);
    assert!(
        took < Duration::from_secs(2),
        "the 501st client waited {took:?}"
    );
    // The idle ones were kept open, not dropped to make room.
    for i in [0, idle.len() - 1] {
        let stream = &mut idle[i];
        stream
            .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        assert_eq!(read_reply(stream, false).status, 200);
    }
}

#[test]
fn beyond_max_connections_a_client_gets_503() {
    let dir = scratch("503");
    let server = start(&dir, &["--max-connections", "2"]);
    let mut first = server.connect();
    first
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    read_reply(&mut first, false);
    let mut second = server.connect();
    second
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    read_reply(&mut second, false);
    let mut third = server.connect();
    let reply = read_reply(&mut third, false);
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(closed(&mut third), "bytes after the 503 response");
    // A connection that ends gives its place back: the next client is served
    // once the server has seen the close (at most 50 tries).
    drop(first);
    let served = (0..50).any(|_| {
        let reply = get(server.addr, "/a.txt");
        if reply.status == 503 {
            thread::sleep(Duration::from_millis(50));
        }
        reply.status == 200
    });
    assert!(served, "no place was given back");
}

#[test]
fn http_get_from_lesson_09_talks_to_it() {
    let dir = scratch("http-get");
    let server = start(&dir, &[]);
    let http_get = beside(EXE, "http-get");
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let done = run(&http_get, &["-i", &url("/a.txt")], b"");
    done.expect_code(0);
    assert!(
        done.stdout.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.ends_with("\r\n\r\nhello from a file\n"),
        "{}",
        done.stdout
    );
    let done = run(&http_get, &["-L", &url("/docs")], b"");
    done.expect_code(0);
    assert_eq!(done.stdout, "<h1>the docs</h1>\n");
    let done = run(&http_get, &[&url("/%E6%B1%89%E5%AD%97.txt")], b"");
    assert_eq!(done.stdout, "汉字\n");
    let done = run(&http_get, &["--fail", &url("/missing")], b"");
    testkit::assert_fails(&done, "404", None);
    server.process.wait_for_stdout("GET /missing 404");
}

/// curl, if it is installed: `None` (and a line saying so) if not. The raw
/// tests above check the same things without it.
fn curl(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("curl").args(args).output() {
        Ok(output) => Some(output),
        Err(err) => {
            eprintln!("curl cannot run ({err}): the curl test checks nothing");
            None
        }
    }
}

#[test]
fn curl_downloads_resumes_and_reuses_the_connection() {
    let dir = scratch("curl");
    let server = start(&dir, &[]);
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let saved = dir.join("saved.bin");
    let saved_arg = saved.to_str().expect("utf-8");
    let Some(out) = curl(&["-sS", "--fail", "-o", saved_arg, &url("/big.bin")]) else {
        return;
    };
    assert!(out.status.success(), "{out:?}");
    assert!(
        fs::read(&saved).expect("saved") == big(),
        "curl's copy differs"
    );

    // -C -: the first MiB is there, curl asks for the rest with a Range.
    fs::write(&saved, &big()[..1 << 20]).expect("truncate");
    let out = curl(&[
        "-sS",
        "--fail",
        "-C",
        "-",
        "-o",
        saved_arg,
        &url("/big.bin"),
    ])
    .expect("curl ran before");
    assert!(out.status.success(), "{out:?}");
    assert!(
        fs::read(&saved).expect("saved") == big(),
        "the resumed copy differs"
    );
    server.process.wait_for_stdout("GET /big.bin 206 9437184 ");

    // Two URLs in one curl: one connection, two log lines from one port.
    let out = curl(&[
        "-sS",
        "--fail",
        &url("/a.txt"),
        &url("/%E6%B1%89%E5%AD%97.txt"),
    ])
    .expect("curl ran before");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from a file\n汉字\n"
    );
    server
        .process
        .wait_for_stdout("GET /%E6%B1%89%E5%AD%97.txt 200");
    let log = server.process.stdout();
    let port_of = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split(' ').next())
            .map(str::to_string)
    };
    assert_eq!(
        port_of("GET /a.txt 200"),
        port_of("GET /%E6%B1%89%E5%AD%97.txt 200")
    );

    let out = curl(&["-sS", "-I", &url("/style.css")]).expect("curl ran before");
    let head = String::from_utf8_lossy(&out.stdout);
    assert!(
        head.contains("Content-Type: text/css; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("Content-Length: 19\r\n"), "{head}");

    // -z FILE sends If-Modified-Since with the time FILE was modified: the
    // served file itself is as new as the server's copy.
    let a = dir.join("site/a.txt");
    let a = a.to_str().expect("utf-8");
    let out = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-z",
        a,
        &url("/a.txt"),
    ])
    .expect("curl ran before");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "304");
    let out = curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", &url("/docs")])
        .expect("curl ran before");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "301");
}

#[test]
fn verbose_prints_each_head_with_its_control_characters_escaped() {
    let dir = scratch("verbose");
    let server = start(&dir, &["--verbose"]);
    let reply = request(server.addr, "GET", "/a.txt", "X-Evil: \x1b[2J\x07\r\n");
    assert_eq!(reply.status, 400, "a control character in a header value");
    assert_eq!(get(server.addr, "/a.txt").status, 200);
    server
        .process
        .wait_for_stdout("> GET /a.txt HTTP/1.1\n> Host: ");
    server
        .process
        .wait_for_stdout("> X-Evil: \\u{1b}[2J\\u{7}\n");
    let log = server.process.stdout();
    assert!(!log.contains('\x1b') && !log.contains('\x07'), "{log:?}");
}

#[test]
fn answer_10_1_lists_folders_first_then_names_without_case() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("http-server-answer-10-1");
    let _ = fs::remove_dir_all(&dir);
    for folder in ["zdir", "Cdir"] {
        fs::create_dir_all(dir.join(folder)).expect("mkdir");
    }
    for file in ["B.txt", "a.txt", "c.txt"] {
        fs::write(dir.join(file), "x").expect("write");
    }
    let done = run(
        &testkit::example("answer-10-1"),
        &[dir.to_str().expect("utf-8")],
        b"",
    );
    done.expect_code(0);
    let at = |name: &str| {
        done.stdout
            .find(&format!(">{name}<"))
            .unwrap_or_else(|| done.fail(&format!("{name} is not listed")))
    };
    let order = ["Cdir/", "zdir/", "a.txt", "B.txt", "c.txt"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", done.stdout);
}

#[test]
fn answer_10_2_cors_lets_any_origin_read_and_answers_the_preflight() {
    let exe = testkit::example("answer-10-2");
    testkit::assert_help(&exe);
    testkit::assert_bad_args(&exe, &["--frobnicate"], "--frobnicate");
    let dir = scratch("answer-10-2");
    let origin = "Origin: http://127.0.0.1:8001\r\n";
    let preflight = "Origin: http://127.0.0.1:8001\r\n\
                     Access-Control-Request-Method: GET\r\n\
                     Access-Control-Request-Headers: range\r\n";

    // Without --cors it is http-server: no permission, OPTIONS unknown.
    let plain = start_program(&exe, &dir, &[]);
    let reply = request(plain.addr, "GET", "/a.txt", origin);
    assert_eq!(reply.status, 200, "{}", reply.head);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert_eq!(
        request(plain.addr, "OPTIONS", "/a.txt", preflight).status,
        501
    );

    let cors = start_program(&exe, &dir, &["--cors"]);
    for (target, status) in [("/a.txt", 200), ("/missing.txt", 404), ("/docs", 301)] {
        let reply = request(cors.addr, "GET", target, origin);
        assert_eq!(reply.status, status, "{target}: {}", reply.head);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{target}: {}",
            reply.head
        );
    }
    assert_eq!(get(cors.addr, "/a.txt").text(), "hello from a file\n");
    // The preflight: 204, no body, and the connection goes on (raw sends
    // a second request after it and checks its answer).
    let reply = request(cors.addr, "OPTIONS", "/a.txt", preflight);
    assert_eq!(reply.status, 204, "{}", reply.head);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("GET, HEAD")
    );
    assert_eq!(reply.header("access-control-allow-headers"), Some("Range"));
    assert_eq!(reply.header("content-length"), None, "{}", reply.head);
    cors.process.wait_for_stdout("OPTIONS /a.txt 204 0 ");
}

#[test]
fn answer_10_3_gzips_text_for_clients_that_accept_it() {
    use flate2::read::GzDecoder;

    let exe = testkit::example("answer-10-3");
    testkit::assert_help(&exe);
    let dir = scratch("answer-10-3");
    // Text that compresses well, as a page of the course does.
    let page: String = (0..400)
        .map(|i| format!("<p>line {i} of a page that says much the same</p>\n"))
        .collect();
    fs::write(dir.join("site/long.html"), &page).expect("write");
    let server = start_program(&exe, &dir, &[]);
    let gzip = "Accept-Encoding: gzip, deflate, br, zstd\r\n";

    // Asked for gzip: compressed, said so, and its length is the
    // compressed one (raw checks the framing with a second request).
    let reply = request(server.addr, "GET", "/long.html", gzip);
    assert_eq!(reply.status, 200, "{}", reply.head);
    assert_eq!(
        reply.header("content-encoding"),
        Some("gzip"),
        "{}",
        reply.head
    );
    assert_eq!(
        reply.header("vary"),
        Some("Accept-Encoding"),
        "{}",
        reply.head
    );
    assert_eq!(
        reply.header("content-length"),
        Some(reply.body.len().to_string().as_str())
    );
    assert!(
        reply.body.len() < page.len() / 4,
        "{} bytes",
        reply.body.len()
    );
    let mut decoded = Vec::new();
    GzDecoder::new(&reply.body[..])
        .read_to_end(&mut decoded)
        .expect("a valid gzip stream");
    assert_eq!(decoded, page.as_bytes());
    server
        .process
        .wait_for_stdout(&format!("GET /long.html 200 {} ", reply.body.len()));

    // HEAD: the same head, no body.
    let head = request(server.addr, "HEAD", "/long.html", gzip);
    assert_eq!(
        head.header("content-length"),
        reply.header("content-length")
    );
    assert_eq!(head.header("content-encoding"), Some("gzip"));

    // Not asked, or refused with q=0: the file as it is, still with Vary.
    for headers in [
        "",
        "Accept-Encoding: identity\r\n",
        "Accept-Encoding: gzip;q=0\r\n",
    ] {
        let reply = request(server.addr, "GET", "/long.html", headers);
        assert_eq!(reply.status, 200, "{headers:?}");
        assert_eq!(reply.header("content-encoding"), None, "{headers:?}");
        assert_eq!(reply.header("vary"), Some("Accept-Encoding"), "{headers:?}");
        assert_eq!(
            reply.header("content-length"),
            Some(page.len().to_string().as_str())
        );
        assert_eq!(reply.body, page.as_bytes(), "{headers:?}");
    }

    // A range is of the file as it is, gzip or not.
    let range = request(
        server.addr,
        "GET",
        "/long.html",
        &format!("{gzip}Range: bytes=0-8\r\n"),
    );
    assert_eq!(range.status, 206, "{}", range.head);
    assert_eq!(range.header("content-encoding"), None);
    assert_eq!(range.text(), "<p>line 0");

    // Not text: never compressed, and no Vary.
    for name in ["pic.png", "big.bin"] {
        let reply = request(server.addr, "GET", &format!("/{name}"), gzip);
        assert_eq!(reply.header("content-encoding"), None, "{name}");
        assert_eq!(reply.header("vary"), None, "{name}");
        let bytes = fs::read(dir.join("site").join(name)).expect("read");
        assert!(reply.body == bytes, "{name} changed on the way");
    }
}

/// A browser's request, for the mutation test.
const BROWSER_HEAD: &[u8] =
    b"GET /docs/a%20b.txt?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
    Connection: keep-alive\r\nAccept: text/html,*/*;q=0.8\r\nContent-Length: 0\r\n\
    Range: bytes=0-9\r\n\r\n";

/// What the targets of the property test are made of.
const TARGET_PARTS: &[&str] = &[
    ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "\\", "%00", "a", "%41", "%", "/",
];

proptest! {
    /// No bytes make the head reader panic; where it says a head ends is
    /// inside what it was given.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        if let Some(end) = head::head_end(&bytes) {
            prop_assert!(end <= bytes.len());
            let _ = head::parse(&bytes[..end]);
        }
        let _ = head::parse(&bytes);
    }

    /// A browser's request with a few bytes changed parses, or is refused
    /// with a status the server sends for a bad head.
    #[test]
    fn mutated_requests_parse_or_get_a_client_error(
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = BROWSER_HEAD.to_vec();
        for (at, byte) in flips {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        let end = head::head_end(&bytes).unwrap_or(bytes.len());
        if let Err(refusal) = head::parse(&bytes[..end]) {
            prop_assert!(matches!(refusal.status, 400 | 431 | 501 | 505), "{}", refusal);
        }
    }

    /// Whatever a target is made of (dots, slashes, escapes of them, NUL,
    /// backslashes, plain letters), an accepted one names only plain names.
    #[test]
    fn accepted_targets_name_only_plain_names(
        segments in prop::collection::vec(
            prop::collection::vec(prop::sample::select(TARGET_PARTS.to_vec()), 0..4),
            0..6,
        ),
    ) {
        let target: String = segments.iter().map(|parts| format!("/{}", parts.concat())).collect();
        if let Ok(parsed) = target::parse(&target) {
            for name in &parsed.segments {
                prop_assert!(!name.is_empty() && name != "." && name != "..", "{name:?}");
                prop_assert!(!name.contains(['/', '\\', '\0']), "{name:?}");
            }
        }
    }
}

//! Helpers for the lesson tests: run a lesson program as a real process, learn
//! its port from its `listening on` line, talk to it over 127.0.0.1, and when
//! something fails, say what was run and everything it printed.
//!
//! Every wait here is bounded by [`TIMEOUT`]; every socket has read and
//! write timeouts; every child process is killed when its guard is dropped.

pub mod chat;
pub mod echo;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single wait in a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What a child process printed so far, filled by reader threads.
#[derive(Default)]
struct Output {
    state: Mutex<OutputState>,
    changed: Condvar,
}

#[derive(Default)]
struct OutputState {
    stdout: String,
    stderr: String,
    /// How many of stdout and stderr have reached their end.
    closed: u8,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, OutputState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Copies everything `from` gives into stdout or stderr, line by line.
    fn collect(self: Arc<Self>, from: impl Read + Send + 'static, is_stdout: bool) {
        thread::spawn(move || {
            let mut reader = BufReader::new(from);
            let mut line = Vec::new();
            loop {
                line.clear();
                let done = !matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0);
                let mut state = self.lock();
                let text = String::from_utf8_lossy(&line);
                if is_stdout {
                    state.stdout += &text;
                } else {
                    state.stderr += &text;
                }
                if done {
                    state.closed += 1;
                }
                drop(state);
                self.changed.notify_all();
                if done {
                    return;
                }
            }
        });
    }

    /// Waits until `ready` holds for what was printed, or the time is up.
    fn wait_until(&self, mut ready: impl FnMut(&OutputState) -> bool) -> bool {
        let deadline = Instant::now() + TIMEOUT;
        let mut state = self.lock();
        loop {
            if ready(&state) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = match self.changed.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// A lesson program running as a child process. Dropping it kills the
/// process.
pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Output>,
    command: String,
}

impl Process {
    /// Starts `exe` with `args`, with pipes for stdin, stdout and stderr.
    pub fn spawn(exe: &str, args: &[&str]) -> Process {
        let command = format!("{exe} {}", args.join(" "));
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command}: {err}"));
        let output = Arc::new(Output::default());
        if let Some(stdout) = child.stdout.take() {
            Arc::clone(&output).collect(stdout, true);
        }
        if let Some(stderr) = child.stderr.take() {
            Arc::clone(&output).collect(stderr, false);
        }
        let stdin = child.stdin.take();
        Process {
            child,
            stdin,
            output,
            command,
        }
    }

    /// Writes `bytes` to the program's stdin.
    pub fn send_stdin(&mut self, bytes: &[u8]) {
        let result = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(bytes).and_then(|()| stdin.flush()),
            None => Err(io::Error::other("stdin already closed")),
        };
        if let Err(err) = result {
            self.fail(&format!("cannot write to its stdin: {err}"));
        }
    }

    /// Closes the program's stdin: it sees the end of input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Everything the program has printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.output.lock().stdout.clone()
    }

    /// Everything the program has printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.output.lock().stderr.clone()
    }

    /// Waits until stdout contains `needle`; fails the test if it doesn't
    /// within [`TIMEOUT`].
    pub fn wait_for_stdout(&self, needle: &str) {
        if !self.output.wait_until(|s| s.stdout.contains(needle)) {
            self.fail(&format!("never printed {needle:?} on stdout"));
        }
    }

    /// Waits until stdout or stderr contains `needle`.
    pub fn wait_for_output(&self, needle: &str) {
        if !self
            .output
            .wait_until(|s| s.stdout.contains(needle) || s.stderr.contains(needle))
        {
            self.fail(&format!("never printed {needle:?}"));
        }
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_for_stderr(&self, needle: &str) {
        if !self.output.wait_until(|s| s.stderr.contains(needle)) {
            self.fail(&format!("never printed {needle:?} on stderr"));
        }
    }

    /// Waits until stdout contains `needle` `count` times.
    pub fn wait_for_stdout_count(&self, needle: &str, count: usize) {
        if !self
            .output
            .wait_until(|s| s.stdout.matches(needle).count() >= count)
        {
            self.fail(&format!("never printed {needle:?} {count} times on stdout"));
        }
    }

    /// Waits for the program to exit by itself, and for its output.
    pub fn wait(&mut self) -> Finished {
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => self.fail(&format!("did not exit within {TIMEOUT:?}")),
                Err(err) => self.fail(&format!("cannot wait for it: {err}")),
            }
        };
        // The pipes close when the process is gone; collect the last lines.
        self.output.wait_until(|s| s.closed == 2);
        let state = self.output.lock();
        Finished {
            command: self.command.clone(),
            status,
            stdout: state.stdout.clone(),
            stderr: state.stderr.clone(),
        }
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The program's process id, to read what /proc says about it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails the test, showing the command and everything it printed.
    pub fn fail(&self, what: &str) -> ! {
        let state = self.output.lock();
        panic!(
            "{}: {what}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.command, state.stdout, state.stderr
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server started by a test, with the address it printed.
pub struct Server {
    pub process: Process,
    /// The address from the server's `listening on <addr>` line.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts a server on 127.0.0.1 with a port the system picks, and waits
    /// for its `listening on` line.
    pub fn start(exe: &str) -> Server {
        Server::start_with(exe, &["127.0.0.1:0"])
    }

    /// Starts a server with the given arguments and waits for its
    /// `listening on` line, which must be the first line of its stdout.
    pub fn start_with(exe: &str, args: &[&str]) -> Server {
        let process = Process::spawn(exe, args);
        if !process
            .output
            .wait_until(|s| s.stdout.contains('\n') || s.closed == 2)
        {
            process.fail("printed no first line");
        }
        let stdout = process.stdout();
        let first = stdout.lines().next().unwrap_or_default();
        let Some(addr) = first
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
        else {
            process.fail("its first line is not `listening on <addr>`");
        };
        Server { process, addr }
    }

    /// Connects a test client to the server.
    pub fn connect(&self) -> TcpStream {
        connect(self.addr)
    }

    /// The server's address as the lesson programs take it.
    pub fn addr_arg(&self) -> String {
        self.addr.to_string()
    }
}

/// How a program ended and what it printed.
pub struct Finished {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Asserts the exit code, showing everything on failure.
    pub fn expect_code(&self, code: i32) -> &Self {
        if self.status.code() != Some(code) {
            self.fail(&format!(
                "exited with {}, expected code {code}",
                self.status
            ));
        }
        self
    }

    /// Fails the test, showing the command and everything it printed.
    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "{}: {what}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.command, self.stdout, self.stderr
        );
    }
}

/// Runs `exe` to the end with `stdin` as its input (written from a thread,
/// so a program that prints before it reads cannot deadlock the test).
pub fn run(exe: &str, args: &[&str], stdin: &[u8]) -> Finished {
    let mut process = Process::spawn(exe, args);
    if let Some(mut pipe) = process.stdin.take() {
        let bytes = stdin.to_vec();
        // A program that exits without reading all its input closes the
        // pipe; the write error is expected then.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    process.wait()
}

/// Runs `exe` as [`run`] does, but where it can, in a network namespace of
/// its own with no network at all (`unshare --net --map-root-user`): a
/// program that looks up a name that does not exist then asks no DNS server
/// anything, and the lookup fails at once. Where `unshare` is missing or not
/// allowed (some laptops forbid user namespaces), it runs as [`run`] does,
/// and the lookup goes to the machine's own resolver.
pub fn run_offline(exe: &str, args: &[&str], stdin: &[u8]) -> Finished {
    static WORKS: OnceLock<bool> = OnceLock::new();
    const UNSHARE: [&str; 2] = ["--net", "--map-root-user"];
    let works = *WORKS.get_or_init(|| {
        std::process::Command::new("unshare")
            .args(UNSHARE)
            .arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if !works {
        return run(exe, args, stdin);
    }
    let mut wrapped: Vec<&str> = UNSHARE.to_vec();
    wrapped.push(exe);
    wrapped.extend_from_slice(args);
    run("unshare", &wrapped, stdin)
}

/// Connects to `addr` with read and write timeouts, so no test hangs.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .unwrap_or_else(|err| panic!("cannot connect to {addr}: {err}"));
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .unwrap_or_else(|err| panic!("cannot set timeouts: {err}"));
    stream
}

/// Reads from `stream` until what was read contains `needle`, and returns
/// all of it. Fails the test on an error, a timeout or the end of the
/// stream; reads at most `limit` bytes.
pub fn read_until(stream: &mut TcpStream, needle: &[u8], limit: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 64 * 1024];
    while !contains(&got, needle) {
        assert!(
            got.len() <= limit,
            "read {} bytes without seeing {needle:?}",
            got.len()
        );
        match stream.read(&mut buf) {
            Ok(0) => panic!(
                "connection closed before {:?}; got {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&got)
            ),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) => panic!(
                "reading failed ({err}) before {:?}; got {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&got)
            ),
        }
    }
    got
}

/// Sends `line` on `stream` and returns the reply, read up to and including
/// the newline that ends it.
pub fn exchange(stream: &mut TcpStream, line: &str) -> String {
    stream
        .write_all(line.as_bytes())
        .unwrap_or_else(|err| panic!("cannot send {line:?}: {err}"));
    let reply = read_until(stream, b"\n", 1 << 20);
    String::from_utf8(reply).unwrap_or_else(|err| panic!("reply is not UTF-8: {err}"))
}

/// Closes `stream` with a reset (RST) instead of the orderly FIN: what a
/// crashed client or a pulled cable looks like to the server.
pub fn reset(stream: TcpStream) {
    let socket = socket2::Socket::from(stream);
    socket
        .set_linger(Some(Duration::ZERO))
        .unwrap_or_else(|err| panic!("cannot set SO_LINGER: {err}"));
    drop(socket);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// An address on 127.0.0.1 where nothing listens: connecting is refused.
pub fn unused_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|err| panic!("cannot bind a probe listener: {err}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|err| panic!("local_addr: {err}"));
    // Dropping the listener frees the port; nothing else takes it this soon.
    drop(listener);
    addr
}

/// `--help` prints usage and an example on stdout and exits 0.
pub fn assert_help(exe: &str) {
    let done = run(exe, &["--help"], b"");
    done.expect_code(0);
    for needle in ["Usage:", "Example"] {
        if !done.stdout.contains(needle) {
            done.fail(&format!("--help does not show {needle:?}"));
        }
    }
}

/// A bad command line exits 2 with exactly one line that names `bad`.
pub fn assert_bad_args(exe: &str, args: &[&str], bad: &str) {
    let done = run(exe, args, b"");
    done.expect_code(2);
    let lines: Vec<_> = done.stderr.lines().collect();
    if lines.len() != 1 || !lines[0].contains(bad) {
        done.fail(&format!("expected one stderr line naming {bad:?}"));
    }
}

/// A run-time failure: exit 1, an `error:` line containing `what`, the
/// given hint line (if any), and never a panic.
pub fn assert_fails(done: &Finished, what: &str, hint: Option<&str>) {
    done.expect_code(1);
    let error_lines: Vec<_> = done
        .stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    if error_lines.len() != 1 || !error_lines[0].contains(what) {
        done.fail(&format!("expected one error line containing {what:?}"));
    }
    if let Some(hint) = hint {
        if !done
            .stderr
            .lines()
            .any(|l| l.contains("hint:") && l.contains(hint))
        {
            done.fail(&format!("expected a hint containing {hint:?}"));
        }
    }
    if done.stderr.contains("panicked") || done.stderr.contains("RUST_BACKTRACE") {
        done.fail("panicked");
    }
}

/// A server started on a port that is already taken exits 1 with a clear
/// line and a hint.
pub fn assert_port_in_use(exe: &str) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|err| panic!("cannot bind a listener: {err}"));
    let addr = taken
        .local_addr()
        .unwrap_or_else(|err| panic!("local_addr: {err}"));
    let done = run(exe, &[&addr.to_string()], b"");
    assert_fails(&done, "in use", Some("port"));
    if !done.stderr.contains(&addr.to_string()) {
        done.fail("the error does not name the address");
    }
}

/// A client pointed where nothing listens exits 1, saying so, with a hint.
pub fn assert_refused(exe: &str, extra_args: &[&str]) {
    let addr = unused_addr().to_string();
    let mut args = vec![addr.as_str()];
    args.extend_from_slice(extra_args);
    let done = run(exe, &args, b"hello\n");
    assert_fails(&done, "refused", Some("start the server"));
    if !done.stderr.contains(&addr) {
        done.fail("the error does not name the address");
    }
}

/// A client given a host name that does not resolve exits 1, saying so.
pub fn assert_unresolvable(exe: &str, extra_args: &[&str]) {
    let mut args = vec!["no-such-host.invalid:80"];
    args.extend_from_slice(extra_args);
    // Offline: the name must not become a DNS query that leaves the machine.
    let done = run_offline(exe, &args, b"hello\n");
    assert_fails(&done, "no-such-host.invalid", Some("host name"));
}

/// Sends a 6,000-byte line of Chinese text to an echo server in two parts
/// cut in the middle of a character, waiting for the answer to the first
/// part before sending the second, so the server surely reads them apart.
/// The replies, with every `prefix` taken out, must give back the line
/// exactly: no U+FFFD where the character was cut.
pub fn assert_split_character_echoed(stream: &mut TcpStream, prefix: &str) {
    let text = "你好世界".repeat(500);
    let line = format!("{text}\n");
    let bytes = line.as_bytes();
    assert_eq!(bytes.len(), 6001);
    // 4,000 is not a multiple of 3: the cut falls inside a character.
    let (first, second) = bytes.split_at(4000);
    let whole_chars_in_first = 4000 / 3;
    stream
        .write_all(first)
        .unwrap_or_else(|err| panic!("send: {err}"));

    let mut got = Vec::new();
    let mut buf = [0; 64 * 1024];
    let payload = |got: &[u8]| String::from_utf8_lossy(got).replace(prefix, "");
    while payload(&got).chars().count() < whole_chars_in_first {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => {
                panic!("no answer to the first part; got {}", payload(&got))
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    stream
        .write_all(second)
        .unwrap_or_else(|err| panic!("send: {err}"));
    got.extend(read_until(stream, b"\n", 1 << 20));

    let replies = String::from_utf8(got).unwrap_or_else(|err| panic!("not UTF-8: {err}"));
    assert!(
        !replies.contains('\u{FFFD}'),
        "a character was broken: {replies}"
    );
    assert!(
        replies.matches(prefix).count() >= 2,
        "expected the line to be answered in at least two replies: {replies}"
    );
    assert_eq!(replies.replace(prefix, ""), line);
}

/// An exercise's answer that changes a lesson's function by adding lines,
/// never by changing them: fails unless every line of the function
/// `signature` (where a line starts with it, after any `pub`: `fn chat(`,
/// `async fn chat(`) of `lesson` is in the same function of each of
/// `answers`, in the same order. Paths are relative to `dir`, the package's
/// folder (`env!("CARGO_MANIFEST_DIR")`). A function ends at the first `}`
/// that starts a line; `// ANCHOR` lines mark what the notes show, not code,
/// and are left out. (A change to the lesson's function shows up here, not
/// in a student's run of an answer.)
pub fn assert_lines_kept(dir: &str, signature: &str, lesson: &str, answers: &[&str]) {
    let function = |path: &str| -> Vec<String> {
        let text = std::fs::read_to_string(format!("{dir}/{path}"))
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        // A lesson may lend its function to the answers (`pub(crate)`); an
        // answer's own copy needs no `pub`: the two compare without it.
        let from = ["", "pub(crate) ", "pub "]
            .iter()
            .filter_map(|vis| text.find(&format!("\n{vis}{signature}")))
            .min()
            .unwrap_or_else(|| panic!("{path} has no {signature:?}"));
        let body = &text[from + 1..];
        let body = body
            .strip_prefix("pub(crate) ")
            .or_else(|| body.strip_prefix("pub "))
            .unwrap_or(body);
        let end = body
            .find("\n}\n")
            .unwrap_or_else(|| panic!("{path}: no end to {signature:?}"))
            + 2;
        body[..end]
            .lines()
            .filter(|line| !line.trim_start().starts_with("// ANCHOR"))
            .map(str::to_string)
            .collect()
    };
    let wanted = function(lesson);
    // A lesson's function found whole, not cut short by a misread end.
    assert!(wanted.len() > 20, "{lesson}: {wanted:?}");
    for answer in answers {
        let mut lines = function(answer).into_iter();
        for line in &wanted {
            assert!(
                lines.any(|l| &l == line),
                "{answer}: the lesson's line {line:?} of `{signature}` is missing or \
                 out of order"
            );
        }
    }
}

/// The path of another lesson program built beside `exe` (the tests of one
/// package use the programs of another: `cargo test --workspace` builds
/// them all before running any test).
pub fn beside(exe: &str, program: &str) -> String {
    let path = std::path::Path::new(exe)
        .with_file_name(format!("{program}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test --workspace`",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// Connects with a receive buffer as small as the system allows, for a
/// client that will stop reading: the server's writes to it then block
/// after a few kilobytes instead of a few megabytes.
pub fn connect_with_small_receive_buffer(addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .unwrap_or_else(|err| panic!("socket: {err}"));
    socket
        .set_recv_buffer_size(1024)
        .unwrap_or_else(|err| panic!("SO_RCVBUF: {err}"));
    socket
        .connect_timeout(&addr.into(), TIMEOUT)
        .unwrap_or_else(|err| panic!("cannot connect to {addr}: {err}"));
    let stream = TcpStream::from(socket);
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .unwrap_or_else(|err| panic!("cannot set timeouts: {err}"));
    stream
}

/// Seed 004's test vectors: its client's sentence and its server's reply,
/// with the GBK bytes the seed printed for them.
pub mod seed004 {
    /// What the seed's client sends.
    pub const HELLO: &str = "你好服务端，我是客户端小黑!";
    /// HELLO in GBK, as the seed's client prints it before sending.
    pub const HELLO_GBK: &[u8] = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\
        \xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";
    /// What the seed's client receives.
    pub const REPLY: &str = "我是服务器";
    /// REPLY in GBK, as the seed's client prints it after receiving.
    pub const REPLY_GBK: &[u8] = b"\xce\xd2\xca\xc7\xb7\xfe\xce\xf1\xc6\xf7";
}

/// A stand-in server for testing what a client puts on the wire: it accepts
/// one connection, reads up to the first newline (or the end), answers
/// `reply`, then reads until the client closes.
pub struct FakeServer {
    pub addr: SocketAddr,
    thread: thread::JoinHandle<Vec<u8>>,
}

impl FakeServer {
    /// Listens on 127.0.0.1 with a port the system picks.
    pub fn start(reply: &[u8]) -> FakeServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|err| panic!("cannot bind the fake server: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("local_addr: {err}"));
        let reply = reply.to_vec();
        let thread = thread::spawn(move || {
            let Some(mut stream) = accept_before(&listener, Instant::now() + TIMEOUT)
            else {
                return Vec::new();
            };
            let mut got = Vec::new();
            let mut buf = [0; 64 * 1024];
            let mut answered = false;
            // Every read has the stream's timeout; at most 16 MiB is kept.
            while got.len() < 1 << 24 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
                if !answered && got.contains(&b'\n') {
                    let _ = stream.write_all(&reply);
                    answered = true;
                }
            }
            if !answered {
                let _ = stream.write_all(&reply);
            }
            got
        });
        FakeServer { addr, thread }
    }

    /// The address as the lesson programs take it.
    pub fn addr_arg(&self) -> String {
        self.addr.to_string()
    }

    /// Every byte the client sent, once it has closed the connection (or
    /// nothing, if no client came within [`TIMEOUT`]).
    pub fn received(self) -> Vec<u8> {
        self.thread
            .join()
            .unwrap_or_else(|_| panic!("the fake server's thread panicked"))
    }
}

/// Accepts one connection before `deadline`, with read and write timeouts.
fn accept_before(
    listener: &std::net::TcpListener,
    deadline: Instant,
) -> Option<TcpStream> {
    listener.set_nonblocking(true).ok()?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).ok()?;
                stream.set_read_timeout(Some(TIMEOUT)).ok()?;
                stream.set_write_timeout(Some(TIMEOUT)).ok()?;
                return Some(stream);
            }
            Err(err)
                if err.kind() == io::ErrorKind::WouldBlock
                    && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(10));
            }
            Err(_) => return None,
        }
    }
}

/// The path of the example program `name` of the package under test (an
/// exercise's answer, `examples/NAME.rs`), for [`Process::spawn`] and
/// [`Server::start`]. Cargo gives tests no `CARGO_BIN_EXE_` for examples,
/// but `cargo test` builds a package's examples before it runs its tests,
/// into the `examples` folder next to the tests' own `deps` folder.
pub fn example(name: &str) -> String {
    let test =
        std::env::current_exe().unwrap_or_else(|err| panic!("no test path: {err}"));
    let path = test
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| {
            profile
                .join("examples")
                .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
        })
        .unwrap_or_else(|| panic!("cannot place the examples folder from {test:?}"));
    assert!(
        path.is_file(),
        "the example {name} is not built at {}: run the tests with `cargo test -p PACKAGE` \
         (which builds the examples), or build it with `cargo build -p PACKAGE --example {name}`",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

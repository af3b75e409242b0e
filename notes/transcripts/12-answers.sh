#!/usr/bin/env bash
# Lesson 12's exercises, run as the teacher's guide says.
#
# Exercise 1: a scratch copy of poll-echo-server, built in a folder of its
# own, in which read_until_blocked returns after its first read (the one line
# the exercise adds, put in by sed); the lesson's tests run against it, and
# one write of a 100,000-byte line goes to it and to the lesson's server.
# Exercise 2: the answer with IDLE_SECS=2 and nc in a terminal. Exercise 3:
# the answer with alice, bob and carol on chat-client.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need python3 python3
need nc netcat-openbsd

root=$(cd "$(dirname "$0")/../.." && pwd)

# The examples are not among the workspace's programs: build them where they are.
(cd "$root" &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p poll-echo-server \
        --example answer-12-2 &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p poll-chat-server \
        --example answer-12-3)

# --- Exercise 1 -------------------------------------------------------------

# The scratch copy: the crate's files, and a manifest of its own that names
# the same dependencies outside the workspace (the lock file pins the same
# versions, already downloaded). It builds in a folder of the target dir
# that cargo itself does not use, so the real poll-echo-server is untouched
# and a second run rebuilds only what changed.
scratch=$work/poll-echo-server
mkdir -p "$scratch"
cp -r "$root/crates/poll-echo-server/src" "$root/crates/poll-echo-server/tests" \
    "$root/crates/poll-echo-server/examples" "$scratch/"
cp "$root/Cargo.lock" "$scratch/"
cat >"$scratch/Cargo.toml" <<EOF
[package]
name = "poll-echo-server"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
anyhow = "1"
course = { path = "$root/crates/course" }
mio = { version = "1", features = ["net", "os-poll"] }

[dev-dependencies]
testkit = { path = "$root/crates/testkit" }

[profile.dev]
debug = "line-tables-only"
EOF
# The change: after the first read is answered, back to poll.
sed -i 's|^            self.write_pending()?;$|&\n            return Ok(()); // exercise 1: one read, then back to poll|' \
    "$scratch/src/main.rs"
[ "$(grep -c 'exercise 1: one read' "$scratch/src/main.rs")" = 1 ] || {
    echo "transcript: the exercise's line did not go in exactly once" >&2
    exit 1
}
section 12-answer-1-diff
diff -u --label crates/poll-echo-server/src/main.rs --label 'the same, exercise 1' \
    "$root/crates/poll-echo-server/src/main.rs" "$scratch/src/main.rs" |
    sed -E 's/^@@ .* @@$/@@ read_until_blocked @@/' || true

scratch_target=$(dirname "$BIN")/exercise-12-1
(cd "$scratch" && CARGO_TARGET_DIR=$scratch_target cargo build -q --offline --tests)
# The test of lesson 03's client against the server wants that client beside it.
cp "$BIN/v5-echo-client" "$scratch_target/debug/"

# The lesson's own tests (not the answers'), against the changed server. A
# test that hangs waits for its sockets' 30 s read timeout, then fails.
section 12-answer-1-tests
(cd "$scratch" && CARGO_TARGET_DIR=$scratch_target cargo test -q --offline -- \
    --skip answer_12 2>&1) >"$work/tests.out" || true
grep -E -- '--- FAILED$' "$work/tests.out" | sort
# The last summary is the integration tests' (the first, the program's own).
sed -n -E 's/^(test result: .*); finished in .*/\1/p' "$work/tests.out" | tail -n 1

# One client, one write of 100,001 bytes (100,000 x and a newline), then
# half a second to take what comes back; then one more line, "y". What
# comes back is counted in replies, each 收到你的消息 and the bytes after it.
cat >"$work/probe.py" <<'EOF'
import socket, sys

PREFIX = "收到你的消息".encode()

def replies(sock):
    """What arrives within half a second, as the sizes of its replies."""
    got = b""
    sock.settimeout(0.5)
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                break
            got += data
    except socket.timeout:
        pass
    pieces = got.split(PREFIX)[1:]
    if not pieces:
        return "no reply"
    sizes = ", ".join(f"{len(piece):,} bytes" for piece in pieces)
    word = "reply" if len(pieces) == 1 else "replies"
    return f"{len(pieces)} {word} ({sizes}), the last ending {pieces[-1][-3:].decode()!r}"

sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.sendall(b"x" * 100000 + b"\n")
print("one write of 100,001 bytes:", replies(sock))
sock.sendall(b"y\n")
print('then "y\\n":', replies(sock))
EOF

# probe NAME PROGRAM: starts PROGRAM as NAME and probes it, into probe.out.
# One write nearly always puts the whole line in the kernel before the server
# wakes. But loopback carries it in two segments (64 KiB at most each), and a
# server that wakes between them reads each with an event of its own, so its
# first read is not the buffer's 65,536 bytes. Such a run is tried again, on
# a new server, up to 5 times.
probe() {
    local attempt
    for attempt in 1 2 3 4 5; do
        start "$1" "$2" 127.0.0.1:0
        as_port "$PORT" 19534
        python3 "$work/probe.py" "$PORT" >"$work/probe.out"
        grep -q '^one write of 100,001 bytes: [12] repl[a-z]* (65,536 bytes' "$work/probe.out" &&
            return 0
        [ "$attempt" = 5 ] && return 0
        stop "$1"
    done
}

probe one-read ../exercise-12-1/debug/poll-echo-server
section 12-answer-1-one-read
cat "$work/probe.out"
section 12-answer-1-one-read-log
wait_for "$work/one-read.out" "sent 34467 bytes"
# The probe has ended: its FIN is an event, and the read that follows says 0.
wait_for "$work/one-read.out" "disconnected"
normalize <"$work/one-read.out"
stop one-read

probe lesson poll-echo-server
section 12-answer-1-lesson
cat "$work/probe.out"
stop lesson

# --- Exercise 2 -------------------------------------------------------------

IDLE_SECS=2 start idle examples/answer-12-2 127.0.0.1:0
as_port "$PORT" 19534
term nc nc 127.0.0.1 "$PORT"
wait_for "$work/idle.out" " connected"
enter nc "hello"
expect nc "收到你的消息hello"
expect nc "idle for 2 s, goodbye"
wait_for "$work/idle.out" "idle for 2 s: closed"
section 12-answer-2-nc
screen nc | normalize
section 12-answer-2-server
normalize <"$work/idle.out"
stop idle

# --- Exercise 3 -------------------------------------------------------------

# join TERMINAL NICK: chat-client in a terminal of its own, joined as NICK.
join() {
    term "$1" chat-client "$ADDR"
    expect "$1" "请输入昵称"
    enter "$1" "$2"
    expect "$1" "* $2 加入了聊天室"
}

start msg examples/answer-12-3 127.0.0.1:0
as_port "$PORT" 9999
join alice alice
join bob bob
join carol carol
for who in alice bob; do expect "$who" "* carol 加入了聊天室"; done

enter alice "/msg bob the key is under the mat"
for who in alice bob; do expect "$who" "alice -> bob: the key is under the mat"; done
enter alice "/msg dave hi"
expect alice "! nobody called dave is here"
enter alice "hello all"
for who in alice bob carol; do expect "$who" "] alice: hello all"; done

section 12-answer-3-alice
screen alice | normalize
section 12-answer-3-carol
screen carol | normalize
section 12-answer-3-server
normalize <"$work/msg.out"
stop msg

#!/usr/bin/env bash
# Lesson 01: the one-shot echo server, and the client sending one piped line;
# then, with the server started again, a line with Chinese typed at the
# client's terminal; then the two failures: a second server on a busy port,
# and a client with no server to talk to.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# exits_1 PROGRAM ARGS...: runs PROGRAM (no stdin), its output in
# $work/exits.out, and stops the script unless it exits with code 1, the code
# the page gives for a failure.
exits_1() {
    local code=0
    "$BIN/$1" "${@:2}" </dev/null >"$work/exits.out" 2>&1 || code=$?
    if [ "$code" -ne 1 ]; then
        echo "transcript: $1 exited with code $code, not 1:" >&2
        cat "$work/exits.out" >&2
        exit 1
    fi
}

# Piped: one line, one echo.
start server v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
printf 'hello\n' | "$BIN/v1-echo-client" "$ADDR" >"$work/client.out" 2>&1
wait_for "$work/server.out" "closing"

section 01-server
normalize <"$work/server.out"
section 01-client
normalize <"$work/client.out"

# Typed: the client asks for the line, the terminal echoes what is typed.
start typed v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
term typed v1-echo-client "$ADDR"
expect typed "type one line to send:"
enter typed "你好, socket"
expect typed "你好, socket" 2
ended typed
# The page quotes this line of the server's log.
wait_for "$work/typed.out" 'sent 15 bytes: "你好, socket\n"'
section 01-client-typed
screen typed | normalize

# A second server on the port of one that is running.
start busy v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
exits_1 v1-echo-server "$ADDR"
section 01-in-use
normalize <"$work/exits.out"

# That server stopped, nothing listens on its port: the client is refused.
stop busy
exits_1 v1-echo-client "$ADDR"
section 01-refused
normalize <"$work/exits.out"

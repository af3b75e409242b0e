#!/usr/bin/env bash
# Lesson 01's exercises, run as the page asks; the teacher's guide quotes
# what they print. 1: two pieces a second apart, one read. 2: a second
# client connected but never served, reset when the server exits. 3: the
# server and the client under `strace -e trace=network,close`.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need nc netcat-openbsd
need strace strace
need pgrep procps

# Exercise 1: the exercise's own pause of a second between the two pieces.
start one v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
(printf 'first '; sleep 1; printf 'second\n') | nc 127.0.0.1 "$PORT" >"$work/nc.out" 2>&1 || true
wait_for "$work/one.out" "closing"
section 01-answer-1-server
normalize <"$work/one.out"
section 01-answer-1-nc
cat "$work/nc.out"
echo

# Exercise 2: client 1 waits at its prompt; client 2 connects behind it.
start two v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
term first v1-echo-client "$ADDR"
expect first "type one line to send:"
code=0
echo B | "$BIN/v1-echo-client" "$ADDR" >"$work/second.out" 2>&1 &
second=$!
pids+=("$second")
wait_for "$work/second.out" "connected to"
enter first "A"
ended first
wait "$second" || code=$?
section 01-answer-2-second
normalize <"$work/second.out"
echo "(exit code $code)"

# Exercise 3: the descriptors start at 3, as from a terminal: close whatever
# this script inherited above stderr (bash's own 255 is close-on-exec).
for fd in "/proc/$$/fd"/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-"; fi
done
strace -e trace=network,close "$BIN/v1-echo-server" 127.0.0.1:0 >"$work/trace-server.out" 2>&1 &
tracer=$!
pids+=("$tracer")
wait_for "$work/trace-server.out" "listening on"
# The server is strace's child: stopping strace would leave it running.
pids+=("$(pgrep -P "$tracer")")
ADDR=$(sed -n 's/^listening on //p' "$work/trace-server.out")
as_port "${ADDR##*:}" 19527
# The server binds port 0 here, the lesson's port at a learner's terminal.
as_port 0 19527
printf 'hello\n' | strace -e trace=network,close "$BIN/v1-echo-client" "$ADDR" >"$work/trace-client.out" 2>&1
wait_for "$work/trace-server.out" "+++ exited with 0 +++"
# strace writes a port as htons(PORT): shown as the lesson's, like the rest.
ports() {
    sed -E 's/htons\(([0-9]+)\)/htons(127.0.0.1:\1)/g' | normalize |
        sed -E 's/htons\(127\.0\.0\.1:([0-9]+)\)/htons(\1)/g'
}
section 01-answer-3-server
ports <"$work/trace-server.out"
section 01-answer-3-client
ports <"$work/trace-client.out"

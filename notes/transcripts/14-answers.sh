#!/usr/bin/env bash
# Lesson 14's exercises 1 and 2, on one machine: the echo server announced
# by udp-beacon and found by udp-listen, in one line of shell; and the
# answer to exercise 2 (examples/answer-14-2.rs) watching rooms come and go.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# The example is not among the workspace's programs: build it where it is.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p chat-client --example answer-14-2)

# group: the run's group port shown as the lesson's 7814, then normalized.
group() {
    sed -E "s/239\.255\.14\.14:$group_port\b/239.255.14.14:7814/g" | normalize
}

# Exercise 1. The listener's port is this run's own, so a probe listener on
# port 0 picks it (and is stopped at once).
start probe udp-listen 239.255.14.14:0
group_port=$PORT
stop probe
start echo v2-echo-server 127.0.0.1:0
as_port "$PORT" 19534
echo_addr=$ADDR
"$BIN/udp-beacon" "239.255.14.14:$group_port" "$echo_addr" --count 50 --interval 0.2 \
    >"$work/beacon.out" 2>&1 &
pids+=($!)
# The answer: the first datagram's text is the address to connect to.
addr=$("$BIN/udp-listen" "239.255.14.14:$group_port" --count 1 --timeout 10 |
    sed -n 's/^\[.*\]: //p')
echo "hello, found you" | "$BIN/v2-echo-client" "$addr" >"$work/client.out" 2>&1
section 14-answer-1
{
    echo "address found: $addr"
    cat "$work/client.out"
} | group
stop echo

# Exercise 2: the watcher, two rooms that come in, and one that goes: it
# stops announcing, and 3 s later it is off the list.
"$BIN/examples/answer-14-2" --group "239.255.14.14:$group_port" --for 8 >"$work/watch.out" 2>&1 &
watcher=$!
pids+=("$watcher")
wait_for "$work/watch.out" "watching for"
start room1 chat-server 127.0.0.1:0 --announce --group "239.255.14.14:$group_port"
as_port "$PORT" 9999
wait_for "$work/watch.out" "+ $ADDR"
start room2 chat-server 127.0.0.1:0 --announce --group "239.255.14.14:$group_port" --room lab2 --encoding gbk
as_port "$PORT" 9998
wait_for "$work/watch.out" "+ $ADDR"
stop room2
wait_for "$work/watch.out" "not heard for 3 s"
wait "$watcher"
stop room1
section 14-answer-2
group <"$work/watch.out"

#!/usr/bin/env bash
# Lesson 12: the would-block example (a nonblocking read, readiness, an edge
# missed); poll-echo-server with lesson 03's client, typed lines and a crowd
# of 1000 on one thread; then the server under `ulimit -n 64`, running out of
# file descriptors with a crowd of 100 and recovering.
#
# What changes from run to run is made stable: measured milliseconds become
# N (in the crowd that must wait, a second and more keeps its seconds: 1004
# ms shows as 1NNN), and of the
# server's accept lines only the first of each kind is shown (how often the
# limit is met again while the crowd leaves depends on timing).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# ms [seconds]: "after T ms" becomes "after N ms"; with `seconds`, a second
# or more keeps its seconds ("after 1NNN ms").
ms() {
    if [ "${1:-}" = seconds ]; then
        sed -E -e 's/after +[0-9]{1,3} ms/after N ms/g' \
            -e 's/after +([0-9])[0-9]{3} ms/after \1NNN ms/g'
    else
        sed -E 's/after +[0-9]+ ms/after N ms/g'
    fi
}

# The example is not one of the workspace's programs: build it where they are.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p poll-echo-server --example would-block)
section 12-would-block
"$BIN/examples/would-block"

# Lesson 03's client, piped, against the one-thread server.
start poll poll-echo-server 127.0.0.1:0
as_port "$PORT" 19534
printf 'hello\n你好\n' | "$BIN/v5-echo-client" "$ADDR" >"$work/client.out" 2>&1
wait_for "$work/poll.out" "disconnected"
section 12-client
normalize <"$work/client.out"
section 12-server
normalize <"$work/poll.out"
stop poll

# A crowd of 1000, and the server's thread count while they are connected.
start quiet poll-echo-server 127.0.0.1:0 --quiet
as_port "$PORT" 19534
server_pid=${pids[-1]}
"$BIN/v5-echo-client" "$ADDR" --connections 1000 --hold 2 >"$work/crowd.out" 2>&1 &
crowd=$!
wait_for "$work/quiet.out" " connected" 1000
section 12-threads
grep '^Threads:' "/proc/$server_pid/status"
wait "$crowd"
section 12-crowd
tail -n 1 "$work/crowd.out" | ms
stop quiet

# The server may open 64 files; a crowd of 100 comes, each staying 1 s.
(
    ulimit -n 64
    exec "$BIN/poll-echo-server" 127.0.0.1:0 --quiet
) >"$work/limited.out" 2>&1 &
pids+=($!)
wait_for "$work/limited.out" "listening on"
ADDR=$(sed -n '1s/^listening on //p' "$work/limited.out")
as_port "${ADDR##*:}" 19534
"$BIN/v5-echo-client" "$ADDR" --connections 100 --hold 1 >"$work/limited-crowd.out" 2>&1
section 12-emfile-crowd
tail -n 1 "$work/limited-crowd.out" | ms seconds
section 12-emfile-server
normalize <"$work/limited.out" | sed -n '1,2p'
grep -m 1 '^accept failed' "$work/limited.out"
grep -m 1 '^accepting again' "$work/limited.out"

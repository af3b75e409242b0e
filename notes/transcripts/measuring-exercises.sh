#!/usr/bin/env bash
# The measuring page's exercises 2 and 3, run as a student would: echo-bench
# (a release build, as the page says) against the seeds' shape in Python, and
# against v5-echo-server with and without --quiet. The teacher's guide quotes
# what it prints.
#
# Benchmark figures change from run to run, so this script's name does not
# start with a lesson number: `scripts/transcripts --check` leaves it out, and
# `scripts/transcripts measuring-exercises` refreshes it (then `cargo xtask
# sync`). It takes about 20 s once built; the servers and echo-bench share
# CPU 0 when taskset exists, as in scripts/bench-echo.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need python3 python3
printf '$ %s\n' "cargo build -q --release -p echo-bench -p v5-echo-server" >&2
cargo build -q --release -p echo-bench -p v5-echo-server
release=$(realpath "$BIN/../release")
pin=()
if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c 0)
fi

# serve NAME SHOWN COMMAND...: starts a server (pinned), its output in
# $work/NAME.out, waits for its `listening on` line, and shows its port as
# SHOWN. Sets ADDR, PORT and SERVER (its pid).
serve() {
    local name=$1 shown=$2
    shift 2
    : >"$work/$name.out"
    "${pin[@]}" "$@" >>"$work/$name.out" 2>&1 &
    SERVER=$!
    pids+=("$SERVER")
    named+=("$name=$SERVER")
    wait_for "$work/$name.out" "listening on"
    ADDR=$(sed -n '1s/^listening on //p' "$work/$name.out")
    PORT=${ADDR##*:}
    as_port "$PORT" "$shown"
}

# bench ARGS...: shows and runs echo-bench against $ADDR, keeping its figures.
bench() {
    echo "\$ echo-bench $ADDR $*" | sed "s/--server-pid [0-9]*/--server-pid \$pid/"
    "${pin[@]}" "$release/echo-bench" "$ADDR" --duration 2 "$@" | grep 'round trips/s'
}

section measuring-stall
{
    serve py1024 19536 python3 scripts/anchors/echo_threads.py 127.0.0.1:0
    bench --connections 1 --size 16384
    stop py1024
    serve py65536 19536 python3 scripts/anchors/echo_threads.py 127.0.0.1:0 --recv 65536
    bench --connections 1 --size 16384
    stop py65536
    serve py1024b 19536 python3 scripts/anchors/echo_threads.py 127.0.0.1:0
    bench --connections 1 --size 1024
    stop py1024b
} >"$work/stall" 2>&1
normalize <"$work/stall"

section measuring-log
{
    for run in 1 2 3; do
        for quiet in "" --quiet; do
            echo "# run $run: v5-echo-server ${quiet:-(a line for every message)}, its output to a file"
            # shellcheck disable=SC2086 # $quiet is empty or one word.
            serve "v5$run$quiet" 19534 "$release/v5-echo-server" 127.0.0.1:0 $quiet
            bench --connections 10 --server-pid "$SERVER" | sed 's/, server RSS [0-9]* KiB//'
            stop "v5$run$quiet"
        done
    done
} >"$work/log" 2>&1
normalize <"$work/log"

section measuring-terminal
{
    echo "# v5-echo-server (a line for every message), in a terminal (tmux, 200 columns)"
    term v5t "${pin[@]}" "$release/v5-echo-server" 127.0.0.1:0
    expect v5t "listening on"
    ADDR=$(screen v5t | sed -n 's/^listening on //p' | head -n 1)
    as_port "${ADDR##*:}" 19534
    pid=$(program_pid v5t)
    bench --connections 10 --server-pid "$pid" | sed 's/, server RSS [0-9]* KiB//'
} >"$work/terminal" 2>&1
normalize <"$work/terminal"

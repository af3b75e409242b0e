#!/usr/bin/env bash
# Lesson 00: lesson 01's server and client run under strace (network calls
# only, each trace mixed with the program's own output, as in a terminal);
# then lesson 03's server with three connections held open by its client,
# seen with ss and in the server's /proc/PID/fd.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# The page counts descriptors (3 is the listener, 4 the first connection):
# close whatever this script inherited above stderr, so that the programs
# start with 0, 1 and 2 only, as from a terminal. (Bash's own 255 is
# close-on-exec.)
for fd in "/proc/$$/fd"/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-"; fi
done

# ports_in_calls: stdin to stdout, normalized, the ports in strace's
# `sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")` included.
ports_in_calls() {
    sed -E 's/sin_port=htons\(([0-9]+)\), sin_addr=inet_addr\("127\.0\.0\.1"\)/sin_port=htons(127.0.0.1:\1), sin_addr=inet_addr("127.0.0.1")/g' |
        normalize |
        sed -E 's/htons\(127\.0\.0\.1:([0-9]+)\)/htons(\1)/g'
}

need strace strace
need pgrep procps

# The server under strace, in the background: strace's lines (stderr) and
# the server's own in one file, in the order they were written.
strace -e trace=network "$BIN/v1-echo-server" 127.0.0.1:0 >"$work/strace-server.out" 2>&1 &
tracer=$!
pids+=("$tracer")
wait_for "$work/strace-server.out" "listening on"
# The server itself is strace's child: stopping strace would leave it running.
pids+=("$(pgrep -P "$tracer")")
ADDR=$(sed -n 's/^listening on //p' "$work/strace-server.out")
PORT=${ADDR##*:}
as_port "$PORT" 19527
# The server binds port 0 here, the lesson's port at a learner's terminal.
as_port 0 19527

printf 'hello\n' | strace -e trace=network "$BIN/v1-echo-client" "$ADDR" >"$work/strace-client.out" 2>&1
wait_for "$work/strace-server.out" "+++ exited with 0 +++"

section 00-strace-server
ports_in_calls <"$work/strace-server.out"
section 00-strace-client
ports_in_calls <"$work/strace-client.out"

# Three connections held open by lesson 03's client.
start v5 v5-echo-server 127.0.0.1:0
server=$!
as_port "$PORT" 19534
"$BIN/v5-echo-client" "$ADDR" --connections 3 --hold 10 >"$work/v5-client.out" 2>&1 &
client=$!
pids+=("$client")
wait_for "$work/v5-client.out" "answered" 3

# ss lists the sockets in no fixed order: sorted here, header first.
need ss iproute2
ss -tn "sport = :$PORT or dport = :$PORT" | normalize >"$work/ss.out"
section 00-ss
head -n 1 "$work/ss.out"
tail -n +2 "$work/ss.out" | sort

# The server's descriptors. The owner, the date and the sockets' inode
# numbers are the machine's and the moment's: shown as user, Jan 1 12:00
# and 10001, 10002... in order.
section 00-fd
# shellcheck disable=SC2010 # the page shows ls -l | grep, as a learner types it
ls -l "/proc/$server/fd" | grep socket |
    awk '{
        $3 = "user"; $4 = "user"; $6 = "Jan"; $7 = " 1"; $8 = "12:00"
        inode = $NF; sub(/^socket:\[/, "", inode); sub(/\]$/, "", inode)
        if (!(inode in seen)) seen[inode] = 10000 + (++n)
        $NF = "socket:[" seen[inode] "]"
        print
    }'
kill "$client"

#!/usr/bin/env bash
# Lesson 15: icmp-ping on 127.0.0.1 and ::1, as root and as a user without
# privileges, and to a host that never answers; then the packets on the wire,
# captured with tcpdump on the loopback interface: this lesson's echo request
# and reply (as a list and as bytes), lesson 01's connection (connect, one
# message each way, the close) and the Mermaid diagram drawn from it, a
# connection refused with a reset, lesson 07's datagram, the close before
# lesson 08's TIME_WAIT, and the measuring page's stall (Nagle's algorithm
# waiting for a delayed ACK).
#
# Everything runs in a network namespace of its own (unshare --net), whose
# loopback carries nothing but this script's packets: no other program's
# traffic can get into a capture. That, raw sockets and tcpdump need root.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

if [ "${1:-}" != inside ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "transcript: lesson 15 needs root (raw sockets, tcpdump, a network namespace)" >&2
        exit 1
    fi
    # Installed out here: the namespace inside has no network to fetch from.
    # (Debian 12's tcpdump is 4.99.3; its output is what the notes show.)
    need tcpdump tcpdump
    need ip iproute2
    need setpriv util-linux
    unshare --net bash "$0" inside
    exit 0
fi
ip link set lo up

# pinged: stdin to stdout, with the times that change every run as N
# (`time=N ms`, the rtt line, the statistics' `time Nms`).
pinged() {
    sed -E -e 's/time=[0-9.]+ ms/time=N ms/' \
        -e 's|^rtt min/avg/max/mdev = [0-9./]+ ms$|rtt min/avg/max/mdev = N/N/N/N ms|' \
        -e 's/, time [0-9]+ms$/, time Nms/'
}

# capture NAME FILTER: starts tcpdump on lo, writing the packets that match
# FILTER to $work/NAME.pcap, and waits until it is capturing.
capture() {
    : >"$work/$1.err"
    tcpdump -i lo -n -U -w "$work/$1.pcap" "$2" 2>"$work/$1.err" &
    pids+=($!)
    named+=("tcpdump-$1=$!")
    wait_for "$work/$1.err" "listening on lo"
}

# captured NAME TEXT [COUNT]: waits until the capture NAME has COUNT packets
# (default 1) whose line contains TEXT, then stops tcpdump.
captured() {
    local n
    for _ in $(seq 100); do
        n=$(tcpdump -r "$work/$1.pcap" -n 2>/dev/null | grep -cF -- "$2" || true)
        [ "${n:-0}" -ge "${3:-1}" ] && break
        sleep 0.1
    done
    stop "tcpdump-$1"
    if [ "${n:-0}" -lt "${3:-1}" ]; then
        echo "transcript: capture $1 never showed \"$2\" ${3:-1} times:" >&2
        tcpdump -r "$work/$1.pcap" -n >&2 || true
        exit 1
    fi
}

# packets NAME: the capture NAME as tcpdump prints it, normalised: no time of
# day; ports as everywhere in the notes (see lib.sh's normalize); TCP's
# random initial sequence numbers made relative (0), as Wireshark shows
# them; the TCP time stamps (random too) and ICMP identifiers as letters.
packets() {
    tcpdump -r "$work/$1.pcap" -n 2>/dev/null |
        awk '
            # A reset answering a SYN acknowledges the SYN in absolute
            # numbers (tcpdump saw no handshake to count from): make it 1.
            /Flags \[S\],/ && match($0, /seq [0-9]+/) { syn[$3] = substr($0, RSTART + 4, RLENGTH - 4) }
            /Flags \[R\.\]/ && match($0, /ack [0-9]+/) {
                to = $5; sub(/:$/, "", to)
                if ((to in syn) && substr($0, RSTART + 4, RLENGTH - 4) + 0 == syn[to] + 1)
                    $0 = substr($0, 1, RSTART - 1) "ack 1" substr($0, RSTART + RLENGTH)
            }
            { print }' |
        sed -E -e 's/^[0-9:.]+ //' \
            -e 's/(127\.0\.0\.1)\.([0-9]+)/\1:\2/g' |
        normalize |
        sed -E -e 's/(127\.0\.0\.1):([0-9]+)/\1.\2/g' \
            -e '/Flags \[S\]/s/seq [0-9]+/seq 0/' \
            -e '/Flags \[S\.\]/s/seq [0-9]+, ack [0-9]+/seq 0, ack 1/' \
            -e 's/TS val [0-9]+ ecr [1-9][0-9]*/TS val T ecr T/' \
            -e 's/TS val [0-9]+ ecr 0/TS val T ecr 0/' \
            -e 's/ id [0-9]+,/ id ID,/'
}

# mermaid: stdin (the lines of `packets`, one TCP connection) to a Mermaid
# sequence diagram: the sender of the first packet is the client, one arrow
# per segment, labelled with its flags and how many bytes of data it carries.
mermaid() {
    awk '
        function flag_names(f,    out, i, c, name) {
            out = ""
            for (i = 1; i <= length(f); i++) {
                c = substr(f, i, 1)
                name = c == "S" ? "SYN" : c == "F" ? "FIN" : c == "R" ? "RST" : c == "P" ? "PSH" : c == "." ? "ACK" : c
                out = out (out == "" ? "" : ", ") name
            }
            return out
        }
        {
            from = $2; to = $4; sub(/:$/, "", to)
            if (NR == 1) {
                client = from; server = to
                print "sequenceDiagram"
                split(client, c, "."); split(server, s, ".")
                print "    participant C as client, port " c[5]
                print "    participant S as server, port " s[5]
            }
            match($0, /Flags \[[^]]*\]/)
            flags = flag_names(substr($0, RSTART + 7, RLENGTH - 8))
            match($0, /length [0-9]+/)
            bytes = substr($0, RSTART + 7, RLENGTH - 7)
            label = flags (bytes > 0 ? ", " bytes " bytes of data" : "")
            print "    " (from == client ? "C->>S" : "S->>C") ": " label
        }'
}

# hexdump NAME: the packets of capture NAME as bytes (tcpdump -x: the IP
# header, then ICMP), 16 to a line, with the bytes that change every run
# as `..`: the IP identification and header checksum, and ICMP's checksum,
# identifier and time stamp.
hexdump() {
    tcpdump -r "$work/$1.pcap" -n -x 2>/dev/null | awk '
        function flush(    i, line) {
            if (n == 0) return
            for (i = 0; i < n; i++) {
                if (i == 4 || i == 5 || i == 10 || i == 11 || (i >= 22 && i <= 25) || (i >= 28 && i <= 35)) b[i] = ".."
                if (i % 16 == 0) line = sprintf("%04x ", i)
                line = line " " b[i]
                if (i % 16 == 15 || i == n - 1) { print line }
            }
            n = 0
        }
        /^[^ \t]/ { flush(); sub(/^[0-9:.]+ /, ""); sub(/ id [0-9]+,/, " id ID,"); print; next }
        /0x[0-9a-f]+:/ {
            for (f = 2; f <= NF; f++) { b[n++] = substr($f, 1, 2); if (length($f) == 4) b[n++] = substr($f, 3, 2) }
        }
        END { flush() }'
}

# exits_1 NAME COMMAND...: runs COMMAND, its output in $work/NAME.out, and
# stops the script unless it exits with code 1.
exits_1() {
    local name=$1 code=0
    shift
    "$@" </dev/null >"$work/$name.out" 2>&1 || code=$?
    if [ "$code" -ne 1 ]; then
        echo "transcript: $* exited with code $code, not 1:" >&2
        cat "$work/$name.out" >&2
        exit 1
    fi
}

# closed NAME [FINS]: waits until the capture NAME shows FINS FINs (default
# 2, one connection) and ends with an ACK, the last packet of a close, then
# stops tcpdump.
closed() {
    local shown
    for _ in $(seq 100); do
        shown=$(tcpdump -r "$work/$1.pcap" -n 2>/dev/null || true)
        if [ "$(grep -cF "Flags [F.]" <<<"$shown")" -ge "${2:-2}" ] &&
            tail -n 1 <<<"$shown" | grep -qF "Flags [.]"; then
            stop "tcpdump-$1"
            return 0
        fi
        sleep 0.1
    done
    echo "transcript: capture $1 never showed a whole close:" >&2
    printf '%s\n' "$shown" >&2
    exit 1
}

# gaps NAME: the capture NAME as `packets` prints it, without the TCP
# options and windows (how soon a program reads changes the window it
# offers, so that would change from run to run), each line after the time
# since the packet before it, made stable: `+ 0 ms` under 30 ms (every gap
# on loopback is far shorter, unless the machine is busy), `+40 ms` from 30
# to 100 ms (a delayed ACK: Linux's timer waits at least 40 ms, a busy
# machine adds a little), and above that the milliseconds rounded down to
# tens.
gaps() {
    paste -d ' ' \
        <(tcpdump -r "$work/$1.pcap" -n -ttt 2>/dev/null | awk '{
            split($1, t, ":")
            ms = int((t[1] * 3600 + t[2] * 60 + t[3]) * 100) * 10
            printf "+%2d ms\n", ms < 30 ? 0 : ms < 100 ? 40 : ms
        }') \
        <(packets "$1" | sed -E -e 's/, options \[[^]]*\]//' -e 's/, win [0-9]+//')
}

# Three echo requests to 127.0.0.1 as root, on a raw socket, captured.
capture ping icmp
"$BIN/icmp-ping" -c 3 127.0.0.1 >"$work/ping.out" 2>&1
captured ping "echo reply" 3
section 15-ping
pinged <"$work/ping.out"
section 15-capture-ping
packets ping

# ::1, and a larger payload.
"$BIN/icmp-ping" -c 2 -s 100 ::1 >"$work/ping6.out" 2>&1
section 15-ping6
pinged <"$work/ping6.out"

# One request and its reply, byte by byte: 8 bytes of payload, the stamp.
capture bytes icmp
"$BIN/icmp-ping" -c 1 -s 8 127.0.0.1 >"$work/bytes.out" 2>&1
captured bytes "echo reply"
section 15-bytes
hexdump bytes

# Without root: the user nobody, and this namespace's ping_group_range,
# which starts as "1 0" (no group). Then with every group allowed.
exits_1 nobody setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/icmp-ping" -c 1 127.0.0.1
section 15-nobody
cat "$work/nobody.out"
sysctl -qw net.ipv4.ping_group_range="0 2147483647"
setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/icmp-ping" -c 2 127.0.0.1 >"$work/ping-socket.out" 2>&1
section 15-ping-socket
pinged <"$work/ping-socket.out"

# A host that never answers: a veth pair whose far end has no address, so
# nobody answers the ARP question for 192.0.2.2 and no request leaves.
ip link add veth0 type veth peer name veth1
ip addr add 192.0.2.1/24 dev veth0
ip link set veth0 up
ip link set veth1 up
exits_1 unanswered "$BIN/icmp-ping" -c 3 -W 1 192.0.2.2
section 15-unanswered
pinged <"$work/unanswered.out"

# pid_of NAME: the process id of the server started as NAME.
pid_of() {
    local pair
    for pair in "${named[@]}"; do
        [ "${pair%=*}" = "$1" ] && echo "${pair##*=}"
    done
}

# Lesson 01: connect, one message each way, the close. Who sends a FIN first
# is a race: the client's shutdown right after its write, or the server's
# close right after its answer. So that every run shows the same packets, the
# two share one CPU with real-time priorities, the client's higher: it runs
# until it waits for the answer, its FIN included, and then the server runs
# at once, before the other programs of the machine (a server delayed by 40
# ms would acknowledge the FIN on its own, before its answer).
start server v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
taskset -p -c 0 "$(pid_of server)" >/dev/null
chrt -f -p 5 "$(pid_of server)"
capture echo "tcp port $PORT"
printf 'hello\n' | chrt -f 10 taskset -c 0 "$BIN/v1-echo-client" "$ADDR" >"$work/client.out" 2>&1
wait_for "$work/server.out" "closing"
# The last packet is the client's ACK of the server's FIN (relative number 8).
captured echo "Flags [.], ack 8,"
section 15-capture-01
packets echo
section 15-diagram-01
packets echo | mermaid

# A connection refused: nothing listens on the stopped server's port, and
# the kernel answers the SYN with a reset.
capture refused "tcp port $PORT"
exits_1 refused "$BIN/v1-echo-client" "$ADDR"
captured refused "Flags [R.]"
section 15-capture-reset
packets refused

# Lesson 07: one datagram, and nothing before or after it.
start receiver udp-receiver 127.0.0.1:0
as_port "$PORT" 7789
capture udp "udp port $PORT"
"$BIN/udp-sender" "$ADDR" hello >"$work/sender.out" 2>&1
wait_for "$work/receiver.out" "]: hello"
captured udp "UDP, length 5"
section 15-capture-07
packets udp

# The measuring page's stall: lesson 02's client sends two 16 KiB lines to a
# server that reads 1,024 bytes at a time and answers each read at once
# (scripts/anchors/echo_threads.py). On the first line the client still
# acknowledges every segment at once (TCP's "quick ACK" start); on the second
# it delays its ACK, and Nagle holds the server's replies back until it comes.
: >"$work/python.out"
python3 scripts/anchors/echo_threads.py 127.0.0.1:0 >>"$work/python.out" 2>&1 &
pids+=($!)
wait_for "$work/python.out" "listening on"
ADDR=$(sed -n '1s/^listening on //p' "$work/python.out")
PORT=${ADDR##*:}
as_port "$PORT" 19536
capture stall "tcp port $PORT"
line=$(printf 'a%.0s' $(seq 16383))
printf '%s\n%s\n' "$line" "$line" | "$BIN/v2-echo-client" "$ADDR" >"$work/stall-client.out" 2>&1
closed stall
# The second line and its answer only. The first one's packets depend on how
# busy the machine is (a late ACK lets Nagle gather replies), and so do the
# times of the close; the stall does not.
section 15-capture-stall
gaps stall | awk '/length 16384$/ { lines++ } lines >= 2' | head -n 5

# Lesson 08's reuseaddr demonstration: its server closes first, so the
# server's side keeps the connection in TIME_WAIT. Its first connection (the
# second one is the same without SO_REUSEADDR, which nothing on the wire
# shows); the binds that follow send nothing.
capture timewait tcp
"$BIN/socket-options" reuseaddr >"$work/timewait.out" 2>&1
closed timewait 4
section 15-capture-08
packets timewait | head -n 6

# Exercise 3's answer: a client that closes with the server's answer unread
# in its receive buffer resets the connection instead of closing it. It
# waits for the answer with a peek, which leaves the bytes unread.
start unread v2-echo-server 127.0.0.1:0
as_port "$PORT" 19534
capture unread "tcp port $PORT"
python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"hi\n")
s.recv(1, socket.MSG_PEEK)
s.close()
' 127.0.0.1 "$PORT"
captured unread "Flags [R.]"
section 15-capture-unread
packets unread

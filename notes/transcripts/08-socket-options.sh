#!/usr/bin/env bash
# Lesson 08: the five demonstrations of socket-options, one at a time, with
# `ss` looking at the TIME_WAIT entry that reuseaddr leaves; then the looping
# echo server on [::1] and one piped client.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# so_normalize: `normalize`, and the ports it doesn't see in this program's
# output: "port 43965", "[::ffff:127.0.0.1]:43965" and "nc ::1 43965". Each is
# turned into a 127.0.0.1:PORT or [::1]:PORT that normalize maps (so the same
# port gets the same number everywhere), then put back in its own form.
so_normalize() {
    sed -E -e 's/\[::ffff:127\.0\.0\.1\]:([1-9][0-9]*)/[::ffff:@127.0.0.1:\1]/g' \
        -e 's/port ([0-9]+)/port @127.0.0.1:\1/g' \
        -e 's/nc ::1 ([0-9]+)/nc ::1 @[::1]:\1/g' |
        normalize |
        sed -E -e 's/\[::ffff:@127\.0\.0\.1:([0-9]+)\]/[::ffff:127.0.0.1]:\1/g' \
            -e 's/port @127\.0\.0\.1:/port /g' \
            -e 's/nc ::1 @\[::1\]:/nc ::1 /g'
}

# demo NAME: runs that demonstration, its output in $work/NAME.out; stops
# with the output if the program fails.
demo() {
    TMPDIR=/tmp "$BIN/socket-options" "$1" >"$work/$1.out" 2>&1 || {
        echo "transcript: socket-options $1 failed:" >&2
        cat "$work/$1.out" >&2
        exit 1
    }
}

# The IPv6 parts need [::1]. Without it the program skips them: stop with a
# clear message rather than print another transcript.
demo dual-stack
if grep -qE 'skipped|this system refuses it' "$work/dual-stack.out"; then
    echo "transcript: this machine has no usable IPv6 loopback ([::1]), which lesson 08's" >&2
    echo "transcript: dual-stack and IPv6 echo sections need; the program said:" >&2
    cat "$work/dual-stack.out" >&2
    exit 1
fi

# reuseaddr, and at once ss on the server port of its first TIME_WAIT entry.
# The entry's timer counts down from 60 s: its value is a measurement.
demo reuseaddr
port=$(sed -nE '0,/^kernel: /s/^kernel: 127\.0\.0\.1:([0-9]+) .*/\1/p' "$work/reuseaddr.out")
need ss iproute2
ss -tano state time-wait "( sport = :$port )" >"$work/ss.out"
section 08-reuseaddr
so_normalize <"$work/reuseaddr.out"
# Normalized alone, the ss line numbers its two ports in the same order as the
# reuseaddr block does: the server's port, then the client's.
section 08-ss-time-wait
so_normalize <"$work/ss.out" | sed -E 's/timer:\(timewait,[0-9]+sec,/timer:(timewait,Nsec,/'

demo backlog
section 08-backlog
so_normalize <"$work/backlog.out"

# How much went in before WouldBlock, and the send buffer that autotuning
# grew, depend on the kernel's version and settings: N. The defaults, the
# doubled sizes set by hand and the untouched receive buffer are kept.
demo buffers
section 08-buffers
sed -E -e 's/wrote [0-9]+ bytes/wrote N bytes/' \
    -e '/^default buffers:/{n;s/SO_SNDBUF [0-9]+/SO_SNDBUF N/}' "$work/buffers.out"

# The directory's name is the process id and the clock's nanoseconds (demo
# sets TMPDIR=/tmp, so that the rest of the path is the same everywhere).
demo unix
section 08-unix
sed -E 's|/tmp/socket-options-[0-9]+-[0-9]+|/tmp/socket-options-<pid>-<nanos>|g' "$work/unix.out"

section 08-dual-stack
so_normalize <"$work/dual-stack.out"

# The looping echo server of lesson 02 on [::1], port 0 as in the notes: its
# port shows as 50001 (the first port each block meets), the client's as 50002.
start v6 v2-echo-server '[::1]:0'
printf 'hello over IPv6\n' | "$BIN/v2-echo-client" "[::1]:$PORT" >"$work/v6-client.out" 2>&1
wait_for "$work/v6.out" "disconnected"
section 08-v6-server
so_normalize <"$work/v6.out"
section 08-v6-client
so_normalize <"$work/v6-client.out"

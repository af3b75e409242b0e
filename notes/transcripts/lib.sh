# shellcheck shell=bash
# Helpers for the transcript scripts in this folder (sourced, not run).
#
# A transcript script runs lesson programs on 127.0.0.1 with ports the system
# picks, and prints what a learner would see, in sections: a line
# "=== NAME" starts the section that scripts/transcripts writes to NAME.txt.
# The notes include NAME.txt in their "What you should see" blocks.
#
# Run-time values are made stable: the ports a server was given by the
# system become the lesson's default port (see `as_port`), other ports
# (a client's) become 50001, 50002, ... in order of appearance, and times of
# day become 12:00:00.

set -euo pipefail

: "${BIN:?BIN must name the folder of the built programs}"
work=$(mktemp -d)
pids=()
port_map=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# start NAME PROGRAM ARGS...: starts a server in the background, its output
# in $work/NAME.out, and waits (at most 10 s) for its `listening on` line.
# Sets ADDR (127.0.0.1:PORT) and PORT.
start() {
    local name=$1 program=$2
    shift 2
    "$BIN/$program" "$@" >"$work/$name.out" 2>&1 &
    pids+=($!)
    ADDR=
    for _ in $(seq 100); do
        ADDR=$(sed -n '1s/^listening on //p' "$work/$name.out")
        [ -n "$ADDR" ] && break
        sleep 0.1
    done
    if [ -z "$ADDR" ]; then
        echo "transcript: $program did not start:" >&2
        cat "$work/$name.out" >&2
        exit 1
    fi
    # shellcheck disable=SC2034 # PORT is for the scripts that source this file.
    PORT=${ADDR##*:}
}

# as_port PORT DEFAULT: PORT will be shown as DEFAULT.
as_port() {
    port_map+=("$1=$2")
}

# stop NAME: stops the server started as NAME (its output stays).
stop() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pids=()
    sleep 0.1
}

# wait_for FILE TEXT: waits (at most 10 s) until FILE contains TEXT.
wait_for() {
    for _ in $(seq 100); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "transcript: $1 never showed \"$2\"" >&2
    cat "$1" >&2
    exit 1
}

# section NAME: starts the section written to NAME.txt.
section() {
    echo "=== $1"
}

# normalize: stdin to stdout, with the stable ports and times described above.
normalize() {
    local mapping=""
    local pair
    for pair in "${port_map[@]}"; do
        mapping+="${pair},"
    done
    awk -v mapping="$mapping" '
        BEGIN {
            n = split(mapping, pairs, ",")
            for (i = 1; i <= n; i++) if (split(pairs[i], kv, "=") == 2) fixed[kv[1]] = kv[2]
            next_port = 50001
        }
        {
            line = $0
            out = ""
            # 127.0.0.1:PORT and [::1]:PORT
            while (match(line, /(127\.0\.0\.1|\[::1\]):[0-9]+/)) {
                addr = substr(line, RSTART, RLENGTH)
                colon = index(addr, "]:") ? index(addr, "]:") + 1 : index(addr, ":")
                host = substr(addr, 1, colon - 1)
                port = substr(addr, colon + 1)
                if (!(port in fixed)) fixed[port] = next_port++
                out = out substr(line, 1, RSTART - 1) host ":" fixed[port]
                line = substr(line, RSTART + RLENGTH)
            }
            line = out line
            # "nc 127.0.0.1 PORT" and similar: a port after the host and a space
            out = ""
            while (match(line, /127\.0\.0\.1 [0-9]+/)) {
                port = substr(line, RSTART + 10, RLENGTH - 10)
                if (port in fixed) {
                    out = out substr(line, 1, RSTART - 1) "127.0.0.1 " fixed[port]
                } else {
                    out = out substr(line, 1, RSTART + RLENGTH - 1)
                }
                line = substr(line, RSTART + RLENGTH)
            }
            line = out line
            gsub(/[0-2][0-9]:[0-5][0-9]:[0-5][0-9]/, "12:00:00", line)
            print line
        }'
}

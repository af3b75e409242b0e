# shellcheck shell=bash
# Helpers for the transcript scripts in this folder (sourced, not run).
#
# A transcript script runs lesson programs on 127.0.0.1 with ports the system
# picks, and prints what a learner would see, in sections: a line
# "=== NAME" starts the section that scripts/transcripts writes to NAME.txt.
# The notes include NAME.txt in their "What you should see" blocks.
#
# Servers run in the background with their output in a file (`start`).
# Clients run either with piped input, or in a terminal of their own (`term`,
# a tmux window 200 columns wide), where their prompts show and what is typed
# is echoed, exactly as at a keyboard; `screen` prints that terminal.
#
# Run-time values are made stable: the ports a server was given by the
# system become the lesson's default port (see `as_port`), other ports
# (a client's) become 50001, 50002, ... in order of appearance, and times of
# day become 12:00:00.

set -euo pipefail

: "${BIN:?BIN must name the folder of the built programs}"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
work=$(mktemp -d)
pids=()
named=()
port_map=()
marks=()
tmux_socket=transcript-$$
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "${terms:-}" ]; then tmux -L "$tmux_socket" kill-server 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# need COMMAND PACKAGE: makes sure COMMAND exists, installing the Debian
# PACKAGE that has it if it can (as root, like CI); otherwise stops.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "transcript: installing $2 (for $1)" >&2
    (apt-get install -y -qq "$2" || { apt-get update -qq && apt-get install -y -qq "$2"; }) \
        >/dev/null 2>&1 || true
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "transcript: $1 is missing and cannot be installed (apt-get install $2)" >&2
    exit 1
}

# start NAME PROGRAM ARGS...: starts a server in the background, its output
# in $work/NAME.out, and waits (at most 10 s) for its `listening on` line.
# Sets ADDR (127.0.0.1:PORT) and PORT.
start() {
    local name=$1 program=$2
    shift 2
    # The file exists before the program starts, so reading it below never
    # races the shell that creates it.
    : >"$work/$name.out"
    "$BIN/$program" "$@" >>"$work/$name.out" 2>&1 &
    pids+=($!)
    named+=("$name=$!")
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

# stop NAME: stops the server started as NAME (its output stays) and waits
# until it has ended, so its port is free again.
stop() {
    local pair
    for pair in "${named[@]}"; do
        [ "${pair%=*}" = "$1" ] || continue
        kill "${pair##*=}" 2>/dev/null || true
        wait "${pair##*=}" 2>/dev/null || true
    done
}

# wait_for FILE TEXT [COUNT]: waits (at most 10 s) until TEXT is on COUNT
# lines of FILE (default 1).
wait_for() {
    local n
    for _ in $(seq 100); do
        n=$(grep -cF -- "$2" "$1" 2>/dev/null || true)
        [ "${n:-0}" -ge "${3:-1}" ] && return 0
        sleep 0.1
    done
    echo "transcript: $1 never showed \"$2\" on ${3:-1} lines" >&2
    cat "$1" >&2
    exit 1
}

# mark FILE: remembers how many lines FILE has now, for `since`.
mark() {
    marks+=("$1=$(wc -l <"$1")")
}

# since FILE: the lines FILE gained after its last `mark`.
since() {
    local pair from=0
    for pair in "${marks[@]}"; do
        [ "${pair%=*}" = "$1" ] && from=${pair##*=}
    done
    tail -n +"$((from + 1))" "$1"
}

# term NAME PROGRAM ARGS...: runs PROGRAM in a terminal of its own, named
# NAME, from the lesson programs' folder (or PROGRAM as is, if it isn't one of
# them: nc, say). The terminal stays readable after the program ends.
terms=
term() {
    local name=$1 program=$2
    shift 2
    need tmux tmux
    [ -x "$BIN/$program" ] && program=$BIN/$program
    if [ -z "$terms" ]; then
        tmux -L "$tmux_socket" -f /dev/null new-session -d -s transcript -x 200 -y 50
        tmux -L "$tmux_socket" set-option -g remain-on-exit on
        tmux -L "$tmux_socket" set-option -g history-limit 5000
    fi
    terms+=" $name"
    # The program runs under a small shell that keeps the terminal open for
    # half a second after it ends: tmux may otherwise mark the pane dead
    # before it has read the program's last lines (a client's final
    # "chat-client: error: ..." was lost that way, one run in three). The
    # trap is a handler, not an ignore, so the program still gets Ctrl-C.
    # The pane's pid is the shell's; `program_pid NAME` gives the program's.
    # shellcheck disable=SC2016 # $@ and $? belong to the inner shell.
    tmux -L "$tmux_socket" new-window -d -t transcript -n "$name" -- \
        sh -c 'trap : INT TERM; "$@"; status=$?; sleep 0.5; exit "$status"' sh "$program" "$@"
}

# program_pid NAME: the pid of the program running in terminal NAME.
program_pid() {
    local shell
    shell=$(tmux -L "$tmux_socket" display-message -p -t "transcript:$1" '#{pane_pid}')
    ps -o pid= --ppid "$shell" | tr -d ' ' | head -n 1
}

# screen NAME: what terminal NAME shows, trailing blank lines left out.
screen() {
    tmux -L "$tmux_socket" capture-pane -p -J -S - -E - -t "transcript:$1" |
        grep -v '^Pane is dead' |
        awk '{ lines[NR] = $0 } NF { last = NR } END { for (i = 1; i <= last; i++) print lines[i] }'
}

# expect NAME TEXT [COUNT]: waits (at most 10 s) until terminal NAME shows
# TEXT on COUNT lines (default 1). Type only after the program asks: a line
# typed early is echoed before the prompt it answers.
expect() {
    local count=${3:-1}
    for _ in $(seq 100); do
        [ "$(screen "$1" | grep -cF -- "$2")" -ge "$count" ] && return 0
        sleep 0.1
    done
    echo "transcript: terminal $1 never showed \"$2\" $count times; it shows:" >&2
    screen "$1" >&2
    exit 1
}

# enter NAME TEXT: types TEXT and Enter into terminal NAME.
enter() {
    tmux -L "$tmux_socket" send-keys -t "transcript:$1" -l -- "$2"
    tmux -L "$tmux_socket" send-keys -t "transcript:$1" Enter
}

# press NAME KEY: presses KEY (C-c, C-d, ...) in terminal NAME.
press() {
    tmux -L "$tmux_socket" send-keys -t "transcript:$1" "$2"
}

# ended NAME: waits (at most 10 s) until the program in terminal NAME has
# ended. (Its exit status is not reliable here: tmux may mark the pane dead
# before it has collected the status. A script that checks one runs the
# program through `sh -c 'PROGRAM; echo $? >FILE'`, as 04-chat-room.sh does.)
ended() {
    for _ in $(seq 100); do
        [ "$(tmux -L "$tmux_socket" display-message -p -t "transcript:$1" '#{pane_dead}')" = 1 ] &&
            return 0
        sleep 0.1
    done
    echo "transcript: the program in terminal $1 did not end; it shows:" >&2
    screen "$1" >&2
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
            sub(/[ \t]+$/, "", line)
            print line
        }'
}

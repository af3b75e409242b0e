#!/usr/bin/env bash
# Lesson 09: http-get against python3's http.server serving a small folder
# (file.txt and docs/index.html, as on the page): the body, -i, -v, a 404
# without and with --fail, an https URL to this plain server, a port where nobody listens, the
# server's log; a redirect without and with -L, and with -i -L; then nc
# playing a server that sends a chunked response, and the request it
# received.
#
# Defined here, as lib.sh has no helper for them: `serve` (python's server,
# which prints "Serving HTTP on ... port PORT" where our servers print
# "listening on ADDR"), `fetch` (http-get with its exit code checked),
# `web` (what varies in python's output: dates, its version, the port in
# its first line).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need python3 python3

# The site of the page's terminal 1. The files' times are fixed, so that
# their Last-Modified headers are the same on every run.
site=$work/site
mkdir -p "$site/docs"
printf 'hello from a file\nsecond line\n' >"$site/file.txt"
printf 'the docs\n' >"$site/docs/index.html"
touch -d '2026-11-22 02:30:21 UTC' "$site/file.txt" "$site/docs/index.html"

# serve: starts `python3 -m http.server` on 127.0.0.1, port 0, serving
# $site; its output (unbuffered: its first line is on stdout, its log on
# stderr) in $work/python.out. Sets PORT.
serve() {
    python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$site" \
        >"$work/python.out" 2>&1 &
    pids+=($!)
    wait_for "$work/python.out" "Serving HTTP on"
    PORT=$(sed -n '1s/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p' "$work/python.out")
    [ -n "$PORT" ] || { cat "$work/python.out" >&2; exit 1; }
}

# fetch CODE ARGS...: runs http-get ARGS, its stdout in $work/stdout and its
# stderr in $work/stderr, and stops the script unless it exits with CODE,
# the exit code the page gives.
fetch() {
    local want=$1 code=0
    shift
    "$BIN/http-get" "$@" </dev/null >"$work/stdout" 2>"$work/stderr" || code=$?
    if [ "$code" -ne "$want" ]; then
        echo "transcript: http-get $* exited with code $code, not $want:" >&2
        cat "$work/stdout" "$work/stderr" >&2
        exit 1
    fi
}

# nothing_on_stdout: stops the script if the last fetch printed a body.
nothing_on_stdout() {
    if [ -s "$work/stdout" ]; then
        echo "transcript: http-get printed a body where the page says it prints none:" >&2
        cat "$work/stdout" >&2
        exit 1
    fi
}

# web: stdin to stdout, with python's run-time values made stable: the CRs
# of a head printed with -i removed (the page says they are there), the
# Date header and the log's dates fixed (normalize fixes the times of day),
# python's version shown as 3.x.y, and the port in python's first line
# shown as the lesson's; then normalize.
web() {
    tr -d '\r' |
        sed -E \
            -e 's/^(< )?Date: .*/\1Date: Sun, 22 Nov 2026 12:00:00 GMT/' \
            -e 's#\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4} #[22/Nov/2026 #' \
            -e 's#Python/3\.[0-9]+\.[0-9]+#Python/3.x.y#' \
            -e "s/ port $PORT / port 8000 /" |
        normalize
}

serve
as_port "$PORT" 8000
url=http://127.0.0.1:$PORT

fetch 0 "$url/file.txt"
section 09-body
web <"$work/stdout"

fetch 0 -i "$url/file.txt"
section 09-include
web <"$work/stdout"

fetch 0 -v "$url/file.txt"
section 09-verbose
web <"$work/stderr"

fetch 0 "$url/missing.txt"
section 09-not-found
web <"$work/stdout"

fetch 1 --fail "$url/missing.txt"
nothing_on_stdout
section 09-fail
web <"$work/stderr"

# A port where nobody listens: one the system just gave out, and took back.
free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_port "$free" 8001
fetch 1 "http://127.0.0.1:$free/"
section 09-refused
web <"$work/stderr"

# Python logs a request before it sends the head, so the log is complete.
section 09-server-log
web <"$work/python.out"

# An https URL to the plain server, after the log above: python logs the
# TLS ClientHello it could not read, random bytes that differ every run.
fetch 1 "https://127.0.0.1:$PORT/"
section 09-https
web <"$work/stderr"

# The redirect: a directory asked for without its final /.
fetch 0 "$url/docs"
nothing_on_stdout
section 09-redirect
web <"$work/stderr"

fetch 0 -L "$url/docs"
section 09-redirect-followed
web <"$work/stdout"

fetch 0 -i -L "$url/docs"
section 09-redirect-include
web <"$work/stdout"

# nc plays the server: the chunked response to the first client, then it
# prints what it received until the client closes. Port 0 too: nc -v says
# which port it got ("Listening on localhost PORT").
need nc netcat-openbsd
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;lang=en\r\n, world\r\n0\r\nExpires: never\r\n\r\n' |
    nc -v -N -l 127.0.0.1 0 >"$work/nc.out" 2>"$work/nc.err" &
nc_pid=$!
pids+=("$nc_pid")
wait_for "$work/nc.err" "Listening on"
nc_port=$(sed -n 's/^Listening on.* \([0-9]*\)$/\1/p' "$work/nc.err")
[ -n "$nc_port" ] || { cat "$work/nc.err" >&2; exit 1; }
as_port "$nc_port" 8001
fetch 0 -i "http://127.0.0.1:$nc_port/hello"
section 09-chunked
web <"$work/stdout"
# nc exits once the client has closed: its output is complete.
for _ in $(seq 100); do
    kill -0 "$nc_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$nc_pid" 2>/dev/null; then
    echo "transcript: nc did not exit after the client closed" >&2
    exit 1
fi
section 09-nc
web <"$work/nc.out"

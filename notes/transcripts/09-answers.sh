#!/usr/bin/env bash
# Lesson 09's exercises, run as the teacher's guide says: the answer to
# exercise 1 (HEAD) and exercise 2 (two GETs on one connection) against
# python3's http.server with -p HTTP/1.1, exercise 2 against its default
# HTTP/1.0, and the answer to exercise 3 (gzip) against lesson 10's answer 3,
# a server that sends gzip. The folder is lesson 09's (file.txt, docs/).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need python3 python3

# The examples are not among the workspace's programs: build them where they are.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p http-get \
        --example answer-09-1 --example answer-09-2 --example answer-09-3 &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p http-server --example answer-10-3)

site=$work/site
mkdir -p "$site/docs"
printf 'hello from a file\nsecond line\n' >"$site/file.txt"
printf 'the docs\n' >"$site/docs/index.html"
for i in $(seq 100); do printf '<p>line %d of a page that says much the same</p>\n' "$i"; done \
    >"$site/page.html"
touch -d '2026-11-22 02:30:21 UTC' "$site/file.txt" "$site/docs/index.html" "$site/page.html"

# python NAME ARGS...: python's http.server on 127.0.0.1, port 0, serving
# $site, with ARGS; its output in $work/NAME.out. Sets PORT.
python() {
    python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$site" "${@:2}" \
        >"$work/$1.out" 2>&1 &
    pids+=($!)
    named+=("$1=$!")
    wait_for "$work/$1.out" "Serving HTTP on"
    PORT=$(sed -n '1s/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p' "$work/$1.out")
    [ -n "$PORT" ] || { cat "$work/$1.out" >&2; exit 1; }
}

# answer CODE NAME ARGS...: runs the example NAME, its stdout in
# $work/stdout and its stderr in $work/stderr, and stops the script unless
# it exits with CODE.
answer() {
    local want=$1 name=$2 code=0
    shift 2
    "$BIN/examples/$name" "$@" </dev/null >"$work/stdout" 2>"$work/stderr" || code=$?
    if [ "$code" -ne "$want" ]; then
        echo "transcript: $name $* exited with code $code, not $want:" >&2
        cat "$work/stdout" "$work/stderr" >&2
        exit 1
    fi
}

# web: what varies from run to run made stable (the CRs of a head, its
# Date, python's version and log dates), then normalize.
web() {
    tr -d '\r' |
        sed -E \
            -e 's/^Date: .*/Date: Sun, 22 Nov 2026 12:00:00 GMT/' \
            -e 's#\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4} #[22/Nov/2026 #' \
            -e 's#Python/3\.[0-9]+\.[0-9]+#Python/3.x.y#' |
        normalize
}

python keep -p HTTP/1.1
as_port "$PORT" 8000
url=http://127.0.0.1:$PORT

answer 0 answer-09-1 "$url/file.txt"
section 09-answer-1
web <"$work/stdout"

answer 0 answer-09-2 "$url/file.txt" "$url/docs/"
section 09-answer-2
web <"$work/stdout"
web <"$work/stderr"
# Python logs each request before its answer: the log is complete.
section 09-answer-2-log
sed 1d "$work/keep.out" | web

stop keep
python close
as_port "$PORT" 8000
answer 1 answer-09-2 "http://127.0.0.1:$PORT/file.txt" "http://127.0.0.1:$PORT/docs/"
section 09-answer-2-http-1-0
web <"$work/stderr"

start gzip examples/answer-10-3 127.0.0.1:0 --dir "$site"
as_port "$PORT" 8000
answer 0 answer-09-3 "http://127.0.0.1:$PORT/page.html"
section 09-answer-3
web <"$work/stderr"
if cmp -s "$work/stdout" "$site/page.html"; then
    echo "stdout: the same $(wc -c <"$site/page.html") bytes as page.html"
fi

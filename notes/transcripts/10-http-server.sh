#!/usr/bin/env bash
# Lesson 10: http-server serving a small folder (hello.txt, docs/index.html,
# 汉字.txt, and a secret.txt beside the folder, outside it): http-get from
# lesson 09, curl for a HEAD, a range, a 304 and a redirect, a listing, two
# ways out of the folder, nc for garbage, two requests on one connection and
# a head too slow to arrive; then the server's log.
#
# Defined here: `web` (what varies in a response: the Date header, the
# times in the log, the folder's place on this machine).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need curl curl
need nc netcat-openbsd

# The page's folder, with fixed file times, so that Last-Modified is the
# same on every run.
site=$work/site
mkdir -p "$site/docs"
printf 'hello from http-server\n' >"$site/hello.txt"
printf '<h1>the docs</h1>\n' >"$site/docs/index.html"
printf '汉字\n' >"$site/汉字.txt"
printf 'not for the web\n' >"$work/secret.txt"
touch -d '2026-11-22 12:00:00 UTC' "$site/hello.txt" "$site/docs/index.html" "$site/汉字.txt"
real_site=$(realpath "$site")

# web: stdin to stdout with the run-time values made stable: CRs removed
# (the page says they are there), the Date header fixed, the log's times
# shown as 0.1ms, the folder shown where the page puts it; then normalize.
web() {
    tr -d '\r' |
        sed -E \
            -e 's/^(< )?Date: .*/\1Date: Sun, 22 Nov 2026 12:00:00 GMT/' \
            -e 's/ [0-9]+\.[0-9]ms$/ 0.1ms/' \
            -e "s#$real_site#/home/you/site#" |
        normalize
}

start server http-server 127.0.0.1:0 --dir "$site"
as_port "$PORT" 8000
url=http://127.0.0.1:$PORT
section 10-start
web <"$work/server.out"

section 10-http-get
"$BIN/http-get" -i "$url/hello.txt" | web

section 10-head
curl -sS -I "$url/hello.txt" | web

section 10-range
curl -sS -i -r 0-4 "$url/hello.txt" | web
echo

section 10-not-modified
curl -sS -i -H 'If-Modified-Since: Sun, 22 Nov 2026 12:00:00 GMT' "$url/hello.txt" | web

section 10-redirect
curl -sS -i "$url/docs" | web

section 10-listing
"$BIN/http-get" "$url/" | web

section 10-chinese
"$BIN/http-get" "$url/%E6%B1%89%E5%AD%97.txt" | web

# curl would tidy ../ away before sending: --path-as-is sends it as typed.
section 10-traversal
curl -sS -i --path-as-is "$url/../secret.txt" | web
curl -sS -i "$url/%2e%2e/secret.txt" | web

section 10-garbage
printf 'HELLO THERE\r\n\r\n' | nc -N 127.0.0.1 "$PORT" | web

# Two requests in one write; the second says it is the last.
section 10-two-requests
printf 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    nc -N 127.0.0.1 "$PORT" | web

# A second server with a head deadline of 1 s, and a request line followed
# by nothing for 2 s (the sleep is the slow client being shown).
start slow http-server 127.0.0.1:0 --dir "$site" --head-timeout 1
as_port "$PORT" 8001
section 10-slow
{
    printf 'GET /hello.txt HTTP/1.1\r\n'
    sleep 2
} | nc 127.0.0.1 "$PORT" | web

# Every request above has been answered, so each has its log line.
wait_for "$work/server.out" " 400 " 1
section 10-server-log
web <"$work/server.out"

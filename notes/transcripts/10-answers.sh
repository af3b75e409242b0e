#!/usr/bin/env bash
# Lesson 10's exercises 2 and 3, run as the teacher's guide says: the
# answer to exercise 2 with --cors (a GET from another origin, then a
# preflight), and the answer to exercise 3 (one text file with and without
# Accept-Encoding: gzip, then decompressed by curl).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need curl curl

# The examples are not among the workspace's programs: build them where they are.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p http-server \
        --example answer-10-2 --example answer-10-3)

site=$work/site
mkdir -p "$site"
printf 'hello from http-server\n' >"$site/hello.txt"
# A page that compresses as pages do: the same words line after line.
for i in $(seq 100); do printf '<p>line %d of a page that says much the same</p>\n' "$i"; done \
    >"$site/page.html"
touch -d '2026-11-22 12:00:00 UTC' "$site/hello.txt" "$site/page.html"

# what varies from run to run: CRs, the Date header.
web() {
    tr -d '\r' | sed -E 's/^Date: .*/Date: Sun, 22 Nov 2026 12:00:00 GMT/' | normalize
}

start cors examples/answer-10-2 127.0.0.1:0 --dir "$site" --cors
as_port "$PORT" 8000
url=http://127.0.0.1:$PORT
section 10-answer-2-get
curl -sS -i -H 'Origin: http://127.0.0.1:8001' "$url/hello.txt" | web
section 10-answer-2-preflight
curl -sS -i -X OPTIONS -H 'Origin: http://127.0.0.1:8001' \
    -H 'Access-Control-Request-Method: GET' -H 'Access-Control-Request-Headers: range' \
    "$url/hello.txt" | web

start gzip examples/answer-10-3 127.0.0.1:0 --dir "$site"
as_port "$PORT" 8000
url=http://127.0.0.1:$PORT
section 10-answer-3-plain
curl -sS -I "$url/page.html" | web
section 10-answer-3-gzip
curl -sS -I -H 'Accept-Encoding: gzip' "$url/page.html" | web
# --compressed asks for gzip and decompresses: the file, byte for byte.
section 10-answer-3-compressed
if curl -sS --compressed "$url/page.html" | cmp - "$site/page.html"; then
    echo "curl --compressed: the same $(wc -c <"$site/page.html") bytes as page.html"
fi
wait_for "$work/gzip.out" "GET /page.html" 1
section 10-answer-3-log
sed -E 's/ [0-9]+\.[0-9]ms$/ 0.1ms/' "$work/gzip.out" | sed "s#$(realpath "$site")#/home/you/site#" | normalize

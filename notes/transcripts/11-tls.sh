#!/usr/bin/env bash
# Lesson 11: http-get over TLS against the example https-server (a CA of its
# own, made at its start, its certificate written to DIR/ca.pem): -v with
# --cacert, the system's store that does not know the course's CA, each
# certificate problem, -k, a body cut without close_notify, http:// sent to
# the https server, and curl against the same servers.
#
# `fetch` is the one of lesson 09's script: http-get with its exit code
# checked. `tls` starts the https-server with its CA in $work/tls, shown as
# /tmp/tls (the folder the page uses).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need curl curl

(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p http-get --example https-server)

# fetch CODE ARGS...: runs http-get ARGS, its stdout in $work/stdout and its
# stderr in $work/stderr, and stops the script unless it exits with CODE.
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

# tls NAME ARGS...: (re)starts the https-server as NAME with ARGS; sets URL
# (https://localhost:PORT) and CA.
tls() {
    local name=$1
    shift
    rm -rf "$work/tls"
    start "$name" examples/https-server 127.0.0.1:0 --dir "$work/tls" "$@"
    as_port "$PORT" 8443
    URL=https://localhost:$PORT
    CA=$work/tls/ca.pem
}

# shown: stdin to stdout, the CA's folder shown as /tmp/tls and the port
# after localhost as 8443; then normalize.
shown() {
    sed -e "s#$work/tls#/tmp/tls#g" -e "s/localhost:$PORT/localhost:8443/g" | normalize
}

tls good
section 11-server
shown <"$work/good.out"

fetch 0 -v --cacert "$CA" "$URL/"
section 11-verbose
cat "$work/stderr" "$work/stdout" | shown

fetch 1 "$URL/"
section 11-system
shown <"$work/stderr"

section 11-curl
curl -sS --cacert "$CA" "$URL/curl" 2>&1 | shown
code=0
curl -sS "$URL/curl" >"$work/curl" 2>&1 || code=$?
shown <"$work/curl"
echo "(curl exited with code $code)"

# http:// to the https server: the seed's mistake the other way round.
fetch 1 "http://127.0.0.1:$PORT/"
section 11-plain
shown <"$work/stderr"
stop good

for kind in expired wrong-name self-signed; do
    tls "$kind" --cert "$kind"
    fetch 1 --cacert "$CA" "$URL/"
    section "11-$kind"
    shown <"$work/stderr"
    stop "$kind"
done

tls insecure --cert self-signed
fetch 0 -k "$URL/"
section 11-insecure
cat "$work/stderr" "$work/stdout" | shown
stop insecure

tls cut --body close --no-close-notify
fetch 1 --cacert "$CA" "$URL/"
section 11-truncated
cat "$work/stdout" "$work/stderr" | shown
section 11-truncated-curl
code=0
curl -sS --cacert "$CA" "$URL/" >"$work/curl" 2>&1 || code=$?
shown <"$work/curl"
echo "(curl exited with code $code)"
stop cut
section 11-server-log
shown <"$work/cut.out"

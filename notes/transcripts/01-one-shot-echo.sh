#!/usr/bin/env bash
# Lesson 01: the one-shot echo server, and the client sending one piped line.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

start server v1-echo-server 127.0.0.1:0
as_port "$PORT" 19527
printf 'hello\n' | "$BIN/v1-echo-client" "$ADDR" >"$work/client.out" 2>&1
wait_for "$work/server.out" "closing"

section 01-server
normalize <"$work/server.out"
section 01-client
normalize <"$work/client.out"

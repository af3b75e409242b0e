#!/usr/bin/env bash
# Lesson 02: the looping echo server and two interactive clients, the second
# waiting in the backlog until the first quits; then nc as a client.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

prompt="message (empty line quits): "

start server v2-echo-server 127.0.0.1:0
as_port "$PORT" 19534

# The first client, typed at a terminal.
term one v2-echo-client "$ADDR"
expect one "$prompt"
enter one "hello"
expect one "$prompt" 2
enter one "你好，世界"
expect one "$prompt" 3
wait_for "$work/server.out" "16 bytes"
section 02-client-one
screen one | normalize
section 02-server
normalize <"$work/server.out"
mark "$work/server.out"

# The second client connects while the first is still being served: its
# connection waits in the backlog, its line in the receive buffer.
term two v2-echo-client "$ADDR"
expect two "$prompt"
enter two "我也在线"
expect two "no answer yet"
section 02-client-two-waiting
screen two | normalize
need ss iproute2
section 02-ss
ss -lnt "sport = :$PORT" | normalize

# The first client quits; the second one is answered at once.
enter one ""
ended one
expect two "$prompt" 2
wait_for "$work/server.out" "13 bytes"
section 02-client-two
screen two | normalize
section 02-server-goes-on
since "$work/server.out" | normalize
enter two ""
ended two

# nc: what the terminal shows is what was typed, and the replies.
need nc netcat-openbsd
term nc nc 127.0.0.1 "$PORT"
wait_for "$work/server.out" "connected"
enter nc "hello"
expect nc "收到你的消息hello"
enter nc "你好"
expect nc "收到你的消息你好"
press nc C-c
ended nc
section 02-nc
screen nc | normalize

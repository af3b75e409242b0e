#!/usr/bin/env bash
# Lesson 07: udp-receiver and the datagrams of udp-sender and nc (one of them
# to a port where nobody listens), ss on the receiver's socket; a receiver
# with an 8-byte buffer; two udp-chat peers typed at terminals, with nc as a
# stranger and a line interrupted half-typed; and the encodings on both sides.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# free_port: sets FREE to a UDP port the system just gave out and that nobody
# holds any more (a udp-receiver on port 0, stopped at once). For the port
# where nobody listens, and for a chat peer that must be named before it runs.
free_port() {
    start free udp-receiver 127.0.0.1:0
    stop free
    FREE=$PORT
}

# typed NAME TEXT: types TEXT into terminal NAME, without Enter.
typed() {
    tmux -L "$tmux_socket" send-keys -t "transcript:$1" -l -- "$2"
}

need nc netcat-openbsd
need ss iproute2

# The receiver, and datagrams from four senders; the last one to nobody.
free_port
nobody=$FREE
as_port "$nobody" 7790
start receiver udp-receiver 127.0.0.1:0
as_port "$PORT" 7789
{
    "$BIN/udp-sender" "$ADDR" hello 你好
    printf 'one\ntwo\n\nlast\n' | "$BIN/udp-sender" "$ADDR"
} >"$work/sender.out" 2>&1
wait_for "$work/receiver.out" "]: last"
echo hello | nc -u -w1 127.0.0.1 "$PORT" &
pids+=($!)
wait_for "$work/receiver.out" 'hello\n'
"$BIN/udp-sender" "$ADDR" "$(printf 'beep\a clear\033[2J')" >>"$work/sender.out" 2>&1
wait_for "$work/receiver.out" "beep"
"$BIN/udp-sender" "127.0.0.1:$nobody" "anyone there?" >>"$work/sender.out" 2>&1
section 07-sender
normalize <"$work/sender.out"
section 07-receiver
normalize <"$work/receiver.out"
section 07-ss
ss -uan "sport = :$PORT" | normalize
stop receiver

# A receiver with an 8-byte buffer; the biggest datagram, and one byte more.
start small udp-receiver 127.0.0.1:0 --buffer 8
as_port "$PORT" 7789
{
    "$BIN/udp-sender" "$ADDR" hello "hello, world" "hello 你好" 0123456789abcdef
    "$BIN/udp-sender" "$ADDR" "$(printf '%*s' 65507 '' | tr ' ' x)"
    "$BIN/udp-sender" "$ADDR" "$(printf '%*s' 65508 '' | tr ' ' x)" || true
} >"$work/small-sender.out" 2>&1
wait_for "$work/small.out" "65507 bytes"
section 07-buffer-sender
normalize <"$work/small-sender.out"
section 07-buffer-receiver
normalize <"$work/small.out"
stop small

# Two chats typed at terminals; the second one's port is chosen first, since
# the first one must name it as its peer.
prompt="type a line and press Enter"
free_port
two_port=$FREE
term one udp-chat --listen 127.0.0.1:0 --peer "127.0.0.1:$two_port"
expect one "$prompt"
one_port=$(screen one | sed -n 's/^listening on 127\.0\.0\.1://p')
as_port "$one_port" 4567
as_port "$two_port" 4568
term two udp-chat --listen "127.0.0.1:$two_port" --peer "127.0.0.1:$one_port"
expect two "$prompt"
enter one "hello from 4567"
expect two "]: hello from 4567"
enter two "hi! 你好"
expect one "]: hi! 你好"
echo hello | nc -u -w1 127.0.0.1 "$one_port" &
pids+=($!)
expect one 'hello\n'
enter one "who was that?"
expect two "]: who was that?"
typed one "half a li"
expect one "half a li"
enter two "interrupting!"
expect one "]: interrupting!"
enter one "ne"
expect two "]: half a line"
press two C-d
ended two
enter one "are you still there?"
expect one "are you still there?"
press one C-d
ended one
section 07-chat-one
screen one | normalize
section 07-chat-two
screen two | normalize
stop nc

# A GBK receiver, a GBK sender and a UTF-8 one.
start gbk udp-receiver 127.0.0.1:0 --encoding gbk
as_port "$PORT" 7789
"$BIN/udp-sender" "$ADDR" --encoding gbk 你好 我是服务器 >/dev/null
wait_for "$work/gbk.out" "我是服务器"
"$BIN/udp-sender" "$ADDR" 你好 我是服务器 >/dev/null
wait_for "$work/gbk.out" "鎴戞槸"
section 07-encoding-gbk
normalize <"$work/gbk.out"
stop gbk

# The other way round: a UTF-8 receiver, a GBK sender.
start utf8 udp-receiver 127.0.0.1:0
as_port "$PORT" 7789
wait_for "$work/utf8.out" "send with:"
mark "$work/utf8.out"
"$BIN/udp-sender" "$ADDR" --encoding gbk 你好 我是服务器 >/dev/null
wait_for "$work/utf8.out" "Ƿ"
section 07-encoding-mismatch
since "$work/utf8.out" | normalize

#!/usr/bin/env bash
# Lesson 04's exercises 1 and 2, run as the teacher's guide says: the answer
# to exercise 1 with alice, bob and carol on chat-client (a private message,
# a name nobody has, then a message to everyone), and the answer to
# exercise 2 with alice and bob (a name taken, a rename, /who, a message).
# Each step waits for its lines in every terminal involved before the next.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

greeting="请输入昵称"

# The examples are not among the workspace's programs: build them where they are.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p chat-server \
        --example answer-04-1 --example answer-04-2)

# join TERMINAL NICK: chat-client in a terminal of its own, joined as NICK.
join() {
    term "$1" chat-client "$ADDR"
    expect "$1" "$greeting"
    enter "$1" "$2"
    expect "$1" "* $2 加入了聊天室"
}

start msg examples/answer-04-1 127.0.0.1:0
as_port "$PORT" 9999
join alice alice
join bob bob
join carol carol
for who in alice bob; do expect "$who" "* carol 加入了聊天室"; done

enter alice "/msg bob the key is under the mat"
for who in alice bob; do expect "$who" "alice -> bob: the key is under the mat"; done
enter alice "/msg dave hi"
expect alice "! nobody called dave is here"
enter alice "hello all"
for who in alice bob carol; do expect "$who" "] alice: hello all"; done

section 04-answer-1-bob
screen bob | normalize
section 04-answer-1-carol
screen carol | normalize
section 04-answer-1-server
normalize <"$work/msg.out"
stop msg

start nick examples/answer-04-2 127.0.0.1:0
as_port "$PORT" 9999
join alice2 alice
join bob2 bob
expect alice2 "* bob 加入了聊天室"

enter bob2 "/nick Alice"
expect bob2 "(Alice is taken)"
enter bob2 "/nick robert"
for who in alice2 bob2; do expect "$who" "* bob 改名为 robert (bob is now robert)"; done
enter alice2 "/who"
expect alice2 "* 在线 (here): alice, robert"
enter bob2 "hi, I am robert now"
for who in alice2 bob2; do expect "$who" "] robert: hi, I am robert now"; done

section 04-answer-2-alice
screen alice2 | normalize
section 04-answer-2-bob
screen bob2 | normalize

#!/usr/bin/env bash
# Lesson 13's exercises 1 and 2, run as the teacher's guide says: the answer
# to exercise 1 with alice and bob on chat-client (a name taken, a rename,
# /who, a message), and the answer to exercise 2 with alice and bob (alice
# pastes eight lines at once: five reach the room, three are refused; a
# second later she may talk again). Each step waits for its lines in every
# terminal involved before the next.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

greeting="请输入昵称"

# The examples are not among the workspace's programs: build them where they are.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p async-chat-server \
        --example answer-13-1 --example answer-13-2)

# join TERMINAL NICK: chat-client in a terminal of its own, joined as NICK.
join() {
    term "$1" chat-client "$ADDR"
    expect "$1" "$greeting"
    enter "$1" "$2"
    expect "$1" "* $2 加入了聊天室"
}

start nick examples/answer-13-1 127.0.0.1:0
as_port "$PORT" 9999
join alice alice
join bob bob
expect alice "* bob 加入了聊天室"

enter bob "/nick Alice"
expect bob "(Alice is taken)"
enter bob "/nick robert"
for who in alice bob; do expect "$who" "* bob 改名为 robert (bob is now robert)"; done
enter alice "/who"
expect alice "* 在线 (here): alice, robert"
enter bob "hi, I am robert now"
for who in alice bob; do expect "$who" "] robert: hi, I am robert now"; done

section 13-answer-1-bob
screen bob | normalize
section 13-answer-1-alice
screen alice | normalize
stop nick

start limit examples/answer-13-2 127.0.0.1:0
as_port "$PORT" 9999
join alice2 alice
join bob2 bob
expect alice2 "* bob 加入了聊天室"

# Eight lines in one go, as a paste arrives: each newline is an Enter.
printf -v paste 'line %s\n' 1 2 3 4 5 6 7 8
tmux -L "$tmux_socket" send-keys -t transcript:alice2 -l -- "$paste"
expect alice2 "! slow down: at most 5 lines a second" 3
expect bob2 "] alice: line 5"
# The limit is in seconds: this waits for the clock itself, past the second
# that began with alice's first line.
sleep 1.1
enter alice2 "sorry, one at a time"
for who in alice2 bob2; do expect "$who" "] alice: sorry, one at a time"; done

section 13-answer-2-alice
screen alice2 | normalize
section 13-answer-2-bob
screen bob2 | normalize

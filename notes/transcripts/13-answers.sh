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

# Exercise 3. A bad value first: one line naming it, exit 2.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p async-chat-server --example answer-13-3)
section 13-answer-3-bad
status=0
"$BIN/examples/answer-13-3" --shutdown-timeout 0 2>&1 || status=$?
echo "(exit status $status)"

# Then the room with a deadline of 1 s: alice on chat-client, carol on nc in a
# shell of its own, stopped with Ctrl-Z; alice says a line; SIGTERM.
start flush examples/answer-13-3 127.0.0.1:0 --shutdown-timeout 1
as_port "$PORT" 9999
server=${pids[-1]}
join alice3 alice
need nc netcat-openbsd
term carol3 env PS1='$ ' bash --norc --noprofile -i
# Type only once the shell asks: a line typed early is echoed before its prompt.
expect carol3 '$ '
enter carol3 "nc 127.0.0.1 $PORT"
expect carol3 "$greeting"
enter carol3 carol
expect carol3 "* carol 加入了聊天室"
expect alice3 "* carol 加入了聊天室"
press carol3 C-z
expect carol3 "Stopped"
enter alice3 "carol, are you there?"
expect alice3 "] alice: carol, are you there?"
kill -s TERM "$server"
status=0
wait "$server" || status=$?
expect alice3 "服务器正在关闭"
# Back in the foreground, nc prints what waited in its socket; it does not
# end when the server closes (it still reads the keyboard): Ctrl-C ends it.
enter carol3 fg
expect carol3 "服务器正在关闭"
press carol3 C-c
expect carol3 '$ ' 2

# The tasks end in any order: their `disconnected` lines are sorted.
section 13-answer-3-server
normalize <"$work/flush.out" >"$work/flush.txt"
grep -v -e ' disconnected$' -e '^every connection closed$' "$work/flush.txt"
grep ' disconnected$' "$work/flush.txt" | sort
grep '^every connection closed$' "$work/flush.txt"
echo "(exit status $status)"
section 13-answer-3-carol
screen carol3 | normalize

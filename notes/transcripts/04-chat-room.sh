#!/usr/bin/env bash
# Lesson 04: the chat room. A full room turning a second client away; then
# alice and bob on chat-client and carol on nc chatting, bob leaving with
# QUIT, carol's nc killed, the server stopped; then a flood with a member who
# has stopped reading.
# Each step waits for its lines in every terminal involved before the next
# one, so the order on each screen is fixed.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

greeting="请输入昵称"

# term_with_status NAME PROGRAM ARGS: as `term`, with the program's exit
# status written to $work/NAME.status when it ends. (tmux itself does not
# always reap a finished program at once, so lib.sh's `ended` may see the
# pane end and print an empty status: a shell in between waits for it.)
term_with_status() {
    local name=$1 program=$2
    shift 2
    # shellcheck disable=SC2016 # $0, $@ and $? are the inner shell's.
    term "$name" sh -c '"$0" "$@"; echo $? >"'"$work/$name.status"'"' "$BIN/$program" "$@"
}

# exits NAME STATUS: waits (at most 10 s) until the program started with
# term_with_status NAME has ended with STATUS, or stops the script.
exits() {
    wait_for "$work/$1.status" ""
    [ "$(cat "$work/$1.status")" = "$2" ] && return 0
    echo "transcript: the program in terminal $1 ended with $(cat "$work/$1.status"), not $2" >&2
    exit 1
}

# A room for one: alice is in, a second client is turned away.
start full chat-server 127.0.0.1:0 --max-clients 1
as_port "$PORT" 9999
term first chat-client "$ADDR"
expect first "$greeting"
enter first "alice"
expect first "* alice 加入了聊天室"
term_with_status second chat-client "$ADDR"
expect second "chat-client: error:"
exits second 1
section 04-room-full
screen second | normalize
stop full

# The room: alice and bob on chat-client, carol on nc.
start server chat-server 127.0.0.1:0
as_port "$PORT" 9999
term_with_status alice chat-client "$ADDR"
expect alice "$greeting"
enter alice "alice"
expect alice "* alice 加入了聊天室"

term_with_status bob chat-client "$ADDR"
expect bob "$greeting"
enter bob "Alice"
expect bob "(Alice is taken)"
enter bob "* bob"
expect bob "(it may not start with *, / or !)"
enter bob "bob"
expect bob "* bob 加入了聊天室"
expect alice "* bob 加入了聊天室"

need nc netcat-openbsd
term carol nc 127.0.0.1 "$PORT"
expect carol "$greeting"
enter carol "carol"
for who in alice bob carol; do expect "$who" "* carol 加入了聊天室"; done

enter alice "hello everyone"
for who in alice bob carol; do expect "$who" "] alice: hello everyone"; done
enter carol "hi, I am on nc"
for who in alice bob carol; do expect "$who" "] carol: hi, I am on nc"; done

enter bob "/who"
expect bob "* 在线 (here): alice, bob, carol"
enter bob "QUIT"
expect bob "* 再见 (bye)"
exits bob 0
for who in alice carol; do expect "$who" "(bob left: QUIT)"; done

press carol C-c
ended carol
expect alice "(carol left: connection closed)"
wait_for "$work/server.out" "disconnected" 2
enter alice "/who"
expect alice "* 在线 (here): alice"

# The server stops (Ctrl-C in its terminal; here a signal).
stop server
expect alice "chat-client: error:"
exits alice 1

section 04-server
normalize <"$work/server.out"
section 04-alice
screen alice | normalize
section 04-bob
screen bob | normalize
section 04-carol
screen carol | normalize

# A member who stops reading: the server again, alice with the flood
# filtered out, carol on nc stopped (as Ctrl-Z stops it), dave flooding.
start server chat-server 127.0.0.1:0
as_port "$PORT" 9999
# shellcheck disable=SC2016 # $0 and $@ are the inner shell's.
term flooded sh -c '"$0" "$@" | grep -v flood' "$BIN/chat-client" "$ADDR"
expect flooded "$greeting"
enter flooded "alice"
expect flooded "* alice 加入了聊天室"
mkfifo "$work/carol.in"
nc 127.0.0.1 "$PORT" <"$work/carol.in" >/dev/null 2>&1 &
carol=$!
# A stopped process ignores lib.sh's kill until it is continued: kill it hard.
trap 'kill -KILL "$carol" 2>/dev/null || true; cleanup' EXIT
exec 3>"$work/carol.in"
echo carol >&3
expect flooded "* carol 加入了聊天室"
kill -STOP "$carol"
need python3 python3
python3 -c "print('dave'); [print('flood', i, 'x' * 1000) for i in range(20000)]" |
    "$BIN/chat-client" "$ADDR" >/dev/null 2>&1
expect flooded "(dave left: QUIT)"
# Disowned first, so the shell doesn't report the kill.
disown "$carol" 2>/dev/null || true
kill -KILL "$carol"
exec 3>&-
section 04-flood
screen flooded | sed -n '/\* alice 加入了聊天室/,$p' | normalize

#!/usr/bin/env bash
# Lesson 13: the pitfalls example (a blocking call, a dropped buffer); then
# the room on tokio: alice and bob on chat-client, carol on nc still choosing
# a nickname, and the server shut down with SIGINT (what Ctrl-C in its
# terminal sends): every member told, every connection closed, exit 0.
# Each step waits for its lines in every terminal involved before the next
# one, so the order on each screen is fixed.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

greeting="请输入昵称"

# The example is not one of the workspace's programs: build it where they are.
(cd "$(dirname "$0")/../.." &&
    CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p async-chat-server --example pitfalls)
section 13-pitfalls
"$BIN/examples/pitfalls"

start server async-chat-server 127.0.0.1:0
as_port "$PORT" 9999
server=${pids[-1]}
section 13-threads
grep '^Threads:' "/proc/$server/status"

term alice chat-client "$ADDR"
expect alice "$greeting"
enter alice "alice"
expect alice "* alice 加入了聊天室"
term bob chat-client "$ADDR"
expect bob "$greeting"
enter bob "bob"
expect alice "* bob 加入了聊天室"
enter bob "one room, three shapes"
for who in alice bob; do expect "$who" "] bob: one room, three shapes"; done

need nc netcat-openbsd
term carol nc 127.0.0.1 "$PORT"
expect carol "$greeting"
wait_for "$work/server.out" " connected" 3

# Ctrl-C in the server's terminal sends SIGINT; here it is sent by kill.
kill -s INT "$server"
status=0
wait "$server" || status=$?
for who in alice bob; do expect "$who" "chat-client: the server shut down"; done
# nc does not end when the server closes: it still reads the keyboard.
expect carol "服务器正在关闭"
press carol C-c
ended carol

# The tasks end in any order: their `disconnected` lines are sorted.
section 13-server
normalize <"$work/server.out" >"$work/server.txt"
grep -v -e ' disconnected$' -e '^every connection closed$' "$work/server.txt"
grep ' disconnected$' "$work/server.txt" | sort
grep '^every connection closed$' "$work/server.txt"
echo "(exit status $status)"
section 13-alice
screen alice | normalize
section 13-carol
screen carol | normalize

#!/usr/bin/env bash
# Lesson 06: --encoding. A GBK echo server and seed 004's sentence from a GBK
# client; a stand-in server in Python that keeps the bytes it received (od
# shows them); a GBK client against a UTF-8 server; UTF-8 datagrams to a GBK
# udp-receiver; an emoji in GBK and in GB18030; a character cut between two
# reads, by nc and by a Python client sending 1,024 bytes at a time.
# All the servers keep running until the end (each has a port of its own).
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

need python3 python3
need iconv libc-bin
need od coreutils
need nc netcat-openbsd

# A name that is not an encoding.
section 06-unknown-encoding
"$BIN/v2-echo-server" 127.0.0.1:0 --encoding big5 2>&1 || echo "exit status $?" >"$work/status"
grep -qx "exit status 2" "$work/status"

# Seed 004's sentence, GBK on both ends.
start gbk v2-echo-server 127.0.0.1:0 --encoding gbk
as_port "$PORT" 19534
gbk_addr=$ADDR gbk_port=$PORT
printf '你好服务端，我是客户端小黑!\n' |
    "$BIN/v2-echo-client" "$gbk_addr" --encoding gbk >"$work/client.out" 2>&1
wait_for "$work/gbk.out" "disconnected"
section 06-client
normalize <"$work/client.out"
section 06-server
normalize <"$work/gbk.out"

# The stand-in: keeps the line it receives, answers with the bytes seed
# 004's client received (the lesson's one-liner, on a port the system picks).
python3 -c "
import socket, sys
s = socket.create_server(('127.0.0.1', 0))
s.settimeout(10)  # every wait is bounded
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(10)
line = c.makefile('rb').readline()
with open(sys.argv[1], 'wb') as f:
    f.write(line)
c.sendall(bytes.fromhex('ced2cac7b7fecef1c6f7') + b'\n')
c.close()
" "$work/x.bin" >"$work/standin.out" &
standin=$!
pids+=("$standin")
for _ in $(seq 100); do
    [ -s "$work/standin.out" ] && break
    sleep 0.1
done
standin_port=$(head -n 1 "$work/standin.out")
[ -n "$standin_port" ] || { echo "transcript: the stand-in did not start" >&2; exit 1; }
as_port "$standin_port" 19534
printf '你好服务端，我是客户端小黑!\n' |
    "$BIN/v2-echo-client" "127.0.0.1:$standin_port" --encoding gbk >"$work/wire.out" 2>&1
wait "$standin"
section 06-wire
{
    cat "$work/wire.out"
    od -An -tx1 "$work/x.bin"
} | normalize

# A GBK client against a UTF-8 server.
start utf8 v2-echo-server 127.0.0.1:0
as_port "$PORT" 19534
utf8_addr=$ADDR utf8_port=$PORT
printf '你好\n' | "$BIN/v2-echo-client" "$utf8_addr" --encoding gbk >"$work/mismatch.out" 2>&1
wait_for "$work/utf8.out" "disconnected"
section 06-mismatch-server
grep ' sent ' "$work/utf8.out" | normalize
section 06-mismatch-client
normalize <"$work/mismatch.out"

# UTF-8 datagrams to a GBK receiver.
start udp udp-receiver 127.0.0.1:0 --encoding gbk
as_port "$PORT" 7789
"$BIN/udp-sender" "$ADDR" 你好 我是服务器 >/dev/null
for _ in $(seq 100); do
    [ "$(grep -c '^\[' "$work/udp.out")" -ge 2 ] && break
    sleep 0.1
done
section 06-udp
normalize <"$work/udp.out"

# An emoji: refused by a GBK client; carried by GB18030 on both ends; and
# from a GB18030 client, decoded by the GBK server but written back as `?`.
printf '笑一个😀\n笑一个\n' |
    "$BIN/v2-echo-client" "$gbk_addr" --encoding gbk >"$work/emoji-gbk.out" 2>&1
section 06-emoji-gbk
normalize <"$work/emoji-gbk.out"
start gb18030 v2-echo-server 127.0.0.1:0 --encoding gb18030
as_port "$PORT" 19534
printf '笑一个😀\n' |
    "$BIN/v2-echo-client" "$ADDR" --encoding gb18030 >"$work/emoji-gb18030.out" 2>&1
wait_for "$work/gb18030.out" "disconnected"
section 06-emoji-gb18030
normalize <"$work/emoji-gb18030.out"
# The prose quotes these in passing: check them, so that they cannot go stale.
grep -qF 'sent 11 bytes: "笑一个😀\n"' "$work/gb18030.out"
printf '笑一个😀\n' | "$BIN/v2-echo-client" "$gbk_addr" --encoding gb18030 2>&1 |
    grep -qx '收到你的消息笑一个?'
wait_for "$work/gbk.out" 'sent 11 bytes: "笑一个😀\n"'

# A character cut between two reads: the second part is sent only once the
# server has answered the first.
mark "$work/gbk.out"
(
    printf 'ab\xc4'
    wait_for "$work/gbk.out" 'sent 3 bytes: "ab"'
    printf '\xe3\n'
) | nc -N 127.0.0.1 "$gbk_port" | iconv -f GBK -t UTF-8 >"$work/cut.out"
wait_for "$work/gbk.out" "disconnected"
section 06-cut-client
normalize <"$work/cut.out"
section 06-cut-server
since "$work/gbk.out" | normalize

# 2,000 你 in pieces of 1,024 bytes to the UTF-8 server (the lesson's
# client, with the port given in the environment).
mark "$work/utf8.out"
section 06-long-client
PORT=$utf8_port python3 - <<'EOF'
import os, socket, time
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
line = ("你" * 2000 + "\n").encode("utf-8")
for i in range(0, len(line), 1024):
    s.sendall(line[i:i + 1024])
    time.sleep(0.05)
s.shutdown(socket.SHUT_WR)
reply = b"".join(iter(lambda: s.recv(65536), b"")).decode("utf-8")
replies = reply.count("收到你的消息")
print(replies, "replies,", reply.count("你") - replies, "你,", reply.count("\ufffd"), "U+FFFD")
EOF
wait_for "$work/utf8.out" "disconnected"
section 06-long-server
since "$work/utf8.out" | normalize

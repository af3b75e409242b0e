#!/usr/bin/env bash
# Lesson 11, exercise 3: an https fetch as tcpdump captures it on the
# loopback interface. http-get --cacert fetches /private/notes.txt from the
# example https-server; the capture shows the handshake's segments with the
# TLS records each one carries (their types and sizes: nothing else of an
# encrypted record can be read), then what each side sent after it; the
# ClientHello's server_name extension (SNI) with `localhost` in clear; and,
# searched in the captured bytes, what can be found and what cannot. The
# same fetch over plain http, from lesson 09's python server, shows the
# request and the answer as text.
#
# Everything runs in a network namespace of its own (unshare --net, as in
# lesson 15's script), whose loopback carries nothing but this script's
# packets. That and tcpdump need root.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

if [ "${1:-}" != inside ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "transcript: lesson 11's capture needs root (tcpdump, a network namespace)" >&2
        exit 1
    fi
    # Installed and built out here: the namespace has no network to fetch from.
    need tcpdump tcpdump
    need python3 python3
    need unshare util-linux
    (cd "$(dirname "$0")/../.." &&
        CARGO_TARGET_DIR=$(dirname "$BIN") cargo build -q -p http-get --example https-server)
    unshare --net bash "$0" inside
    exit 0
fi
ip link set lo up

# The path both fetches ask for: the one thing to look for in the captures.
path=/private/notes.txt

# capture NAME FILTER: starts tcpdump on lo, writing the packets that match
# FILTER to $work/NAME.pcap, and waits until it is capturing.
capture() {
    : >"$work/$1.err"
    tcpdump -i lo -n -U -w "$work/$1.pcap" "$2" 2>"$work/$1.err" &
    pids+=($!)
    named+=("tcpdump-$1=$!")
    wait_for "$work/$1.err" "listening on lo"
}

# closed NAME: waits until the capture NAME shows both FINs and ends with the
# ACK of the second one, the last packet of a connection, then stops tcpdump.
# (tcpdump hands the packets over in blocks, up to a second late.)
closed() {
    local shown
    for _ in $(seq 100); do
        shown=$(tcpdump -r "$work/$1.pcap" -n 2>/dev/null || true)
        if [ "$(grep -cE 'Flags \[F' <<<"$shown")" -ge 2 ] &&
            tail -n 1 <<<"$shown" | grep -qF "Flags [.]"; then
            stop "tcpdump-$1"
            return 0
        fi
        sleep 0.1
    done
    echo "transcript: capture $1 never showed a whole close:" >&2
    printf '%s\n' "$shown" >&2
    exit 1
}

# segments NAME MODE PORT: capture NAME (a server on PORT and one client) as
# tcpdump prints its segments, with what is random or depends on timing
# left out: the time of day, sequence and acknowledgement numbers, windows
# and options; ports as everywhere in the notes (lib.sh's normalize). Over
# TLS, each segment is followed by the records it holds (type and size: a
# record's header is all of it in clear), up to the client's Finished: the
# handshake, whose every step waits for the one before. Left out: the ACKs
# that carry nothing, after TCP's handshake (whether the kernel sends one or
# lets the next data carry it depends on timing), and a segment sent again.
# The server's first flight holds its certificates, whose size changes by a
# byte or two at each start (their signatures' encoding): its sizes are
# shown as N. After the handshake, how the records are cut into segments and
# which side's come first depend on timing too; what each side sends does
# not: one line per side, its records in order, and its FIN. MODE is tls for
# that; with text (plain http), each side's bytes are shown as text, after
# how many there are.
segments() {
    tcpdump -r "$work/$1.pcap" -n -x 2>/dev/null | python3 -c '
import sys

TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
mode, server = sys.argv[1], "." + sys.argv[2]

def records(payload):
    out, i = [], 0
    while i + 5 <= len(payload):
        size = int.from_bytes(payload[i + 3:i + 5], "big")
        out.append([TYPES.get(payload[i], str(payload[i])), str(size)])
        i += 5 + size
    return out

def listed(found):
    """Records as type and size, a type named once for a run of them."""
    out = []
    for i, (kind, size) in enumerate(found):
        out.append(size if i and found[i - 1][0] == kind else kind + " " + size)
    return ", ".join(out)

segments = []
for text in sys.stdin:
    if text.startswith("\t"):
        segments[-1][1].extend(text.split(":", 1)[1].split())
    else:
        segments.append((text, []))

later, order, seen, handshaking = {}, [], set(), mode == "tls"
for head, data in segments:
    ip = bytes.fromhex("".join(data))
    ihl = (ip[0] & 15) * 4
    tcp = ip[ihl:]
    payload = tcp[(tcp[12] >> 4) * 4:int.from_bytes(ip[2:4], "big") - ihl]
    words = head.split()
    src, dst = words[2], words[4].rstrip(":")
    flags = head[head.index("Flags [") + 7:].split("]")[0]
    seq = int.from_bytes(tcp[4:8], "big")
    if (src, seq, len(payload), flags) in seen:
        continue  # sent again
    seen.add((src, seq, len(payload), flags))
    if flags == "." and not payload and len(seen) > 3:
        continue  # an ACK alone: whether one is sent depends on timing
    if handshaking:
        line = f"{src} > {dst}: Flags [{flags}], length {len(payload)}"
        if payload:
            found = records(payload)
            if src.endswith(server) and found[0][0] == "handshake":
                line = line.replace(f"length {len(payload)}", "length N")
                for r in found:
                    if r[0] == "application_data":
                        r[1] = "N"
            line += ": TLS " + listed(found)
            if not src.endswith(server) and found[0][0] == "change_cipher_spec":
                handshaking = False
        print(line)
        continue
    if src not in later:
        later[src] = [dst, bytearray(), False]
        order.append(src)
    later[src][1] += payload
    later[src][2] |= "F" in flags
if mode == "tls":
    print("then each side, its records in order:")
for src in sorted(order, key=lambda s: s.endswith(server)):
    dst, stream, fin = later[src]
    if mode == "tls":
        shown = listed(records(bytes(stream)))
        print(f"{src} > {dst}: TLS {shown}" + (", then FIN" if fin else ""))
    else:
        print(f"{src} > {dst}: {len(stream)} bytes")
        text = bytes(stream).decode("utf-8", "replace").replace("\r\n", "\n")
        for line in text.rstrip("\n").split("\n"):
            print("    " + line)
        if fin:
            print("then FIN")
' "$2" "$3" | sed -E 's/(127\.0\.0\.1)\.([0-9]+)/\1:\2/g' |
        normalize |
        sed -E 's/(127\.0\.0\.1):([0-9]+)/\1.\2/g'
}

# sni NAME: the ClientHello of capture NAME (its first segment with data),
# and in it the server_name extension (type 0, which holds the names, each
# after its type and size), as tcpdump -X shows bytes: the offset, the bytes
# in hex, the same as text (`.` where a byte is not a printable character).
# The offset counts from the extension's first byte: rustls sends its
# extensions in an order it draws at random for each connection, so where
# the extension sits in the packet changes from run to run.
sni() {
    tcpdump -r "$work/$1.pcap" -n -x 2>/dev/null | python3 -c '
import sys

packets, data = [], None
for text in sys.stdin:
    if text.startswith("\t"):
        data += text.split(":", 1)[1].split()
    else:
        data = []
        packets.append(data)
for data in packets:
    ip = bytes.fromhex("".join(data))
    ihl = (ip[0] & 15) * 4
    start = ihl + (ip[ihl + 12] >> 4) * 4
    hello = ip[start:]
    if hello[:1] == b"\x16" and hello[5:6] == b"\x01":
        break
else:
    sys.exit("transcript: no ClientHello in the capture")
# The ClientHello: record header (5), type and size (4), version (2),
# random (32), then the session id, cipher suites and compression methods,
# each after its size; then the extensions.
i = 5 + 4 + 2 + 32
i += 1 + hello[i]
i += 2 + int.from_bytes(hello[i:i + 2], "big")
i += 1 + hello[i]
end = i + 2 + int.from_bytes(hello[i:i + 2], "big")
i += 2
while i < end:
    kind, size = int.from_bytes(hello[i:i + 2], "big"), int.from_bytes(hello[i + 2:i + 4], "big")
    if kind == 0:
        break
    i += 4 + size
else:
    sys.exit("transcript: the ClientHello has no server_name extension")
ext = hello[i:i + 4 + size]
print(f"the server_name extension (SNI) of the ClientHello, {len(ext)} bytes:")
for at in range(0, len(ext), 16):
    chunk = ext[at:at + 16]
    pairs = " ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
    print(f"  0x{at:04x}:  {pairs:<39}  {text}")
'
}

# web: stdin to stdout, python's run-time values made stable as in lesson
# 09's script: the Date header, python's version, the port in the Host
# header; and the size of python's answer, which its version changes.
web() {
    sed -E -e 's/^(    Date: ).*/\1Sun, 22 Nov 2026 12:00:00 GMT/' \
        -e 's/^(127\.0\.0\.1\.8000 > [0-9.]+: )[0-9]+ bytes$/\1N bytes/' \
        -e 's#Python/3\.[0-9]+\.[0-9]+#Python/3.x.y#' \
        -e "s/localhost:$http_port/localhost:8000/"
}

# look NAME TEXT WHAT: says whether TEXT is anywhere in the bytes of
# capture NAME (grep on the capture file itself), TEXT being WHAT; stops the
# script if the capture cannot be read (which is not "not found").
look() {
    local found code=0
    grep -qaF -- "$2" "$work/$1.pcap" || code=$?
    case $code in
        0) found=found ;;
        1) found="not found" ;;
        *) echo "transcript: cannot search the capture $1" >&2 && exit 1 ;;
    esac
    printf '%-5s capture: %-36s %-9s (%s)\n' "$1" "\"$2\"" "$found" "$3"
}

# https: the example server, with the CA it makes at its start.
start https examples/https-server 127.0.0.1:0 --dir "$work/tls"
as_port "$PORT" 8443
https_port=$PORT
capture https "tcp port $PORT"
"$BIN/http-get" --cacert "$work/tls/ca.pem" "https://localhost:$PORT$path" \
    </dev/null >"$work/https.body" 2>"$work/https.stderr" ||
    { echo "transcript: the https fetch failed:" >&2; cat "$work/https.stderr" >&2; exit 1; }
wait_for "$work/https.body" "you asked for $path"
closed https
stop https

# http: lesson 09's python server, serving the same path from a folder.
mkdir -p "$work/site/private"
printf 'the notes, in a file\n' >"$work/site/private/notes.txt"
touch -d '2026-11-22 02:30:21 UTC' "$work/site/private/notes.txt"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/site" \
    >"$work/python.out" 2>&1 &
pids+=($!)
wait_for "$work/python.out" "Serving HTTP on"
PORT=$(sed -n '1s/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p' "$work/python.out")
as_port "$PORT" 8000
http_port=$PORT
capture http "tcp port $PORT"
"$BIN/http-get" "http://localhost:$PORT$path" </dev/null >"$work/http.body" 2>"$work/http.stderr" ||
    { echo "transcript: the http fetch failed:" >&2; cat "$work/http.stderr" >&2; exit 1; }
wait_for "$work/http.body" "the notes, in a file"
closed http

section 11-capture-https
segments https tls "$https_port"
section 11-capture-sni
sni https
section 11-capture-http
segments http text "$http_port" | web
section 11-capture-found
look https "localhost" "the SNI, in the ClientHello"
look https "http/1.1" "the ALPN offer, in the ClientHello"
look https "GET $path" "the request line"
look https "Host: localhost" "a header of the request"
look https "you asked for $path" "the body of the answer"
look http "GET $path" "the request line"
look http "Host: localhost" "a header of the request"
look http "the notes, in a file" "the body of the answer"

#!/usr/bin/env bash
# Lesson 14 on one machine: two udp-listen members of the lesson's group on
# loopback and the beacons of udp-beacon; a listener that hears nothing; a
# broadcast on loopback; chat-server --announce found by chat-client --find,
# one room, then two, then a room by name. (The classroom itself, several hosts in network
# namespaces, is scripts/test-classroom: it needs root.)
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# group: stdin to stdout with the run's group port shown as the lesson's,
# 7814, then normalized as usual (the senders' ports become 50001, ...).
group() {
    sed -E "s/(239\.255\.14\.14|255\.255\.255\.255):$group_port\b/\1:7814/g" | normalize
}

# Two members of the group on this machine, one port for both, and three
# beacons.
start first udp-listen 239.255.14.14:0
group_port=$PORT
start second udp-listen "239.255.14.14:$group_port"
"$BIN/udp-beacon" "239.255.14.14:$group_port" --count 3 --interval 0.2 >"$work/beacon.out"
wait_for "$work/first.out" "]: beacon 3"
wait_for "$work/second.out" "]: beacon 3"
section 14-beacon
group <"$work/beacon.out"
section 14-listen-first
group <"$work/first.out"
section 14-listen-second
group <"$work/second.out"
stop first
stop second

# Nobody sends: the listener gives up after --timeout seconds.
"$BIN/udp-listen" "239.255.14.14:0" --timeout 1 >"$work/silent.out" 2>&1 || echo "(exit status $?)" >>"$work/silent.out"
section 14-silence
sed -E 's/(239\.255\.14\.14):[0-9]+/\1:7814/g' "$work/silent.out" | normalize

# A broadcast: a socket bound to the broadcast address hears it; SO_BROADCAST
# lets the beacon send it. Sent from 127.0.0.1, it stays on loopback.
start bcast udp-listen 255.255.255.255:0
group_port=$PORT
"$BIN/udp-beacon" "255.255.255.255:$group_port" "to everyone" --count 1 >"$work/bbeacon.out"
wait_for "$work/bcast.out" "]: to everyone"
section 14-broadcast-beacon
group <"$work/bbeacon.out"
section 14-broadcast-listen
group <"$work/bcast.out"
stop bcast

# chat-server --announce on loopback, found by chat-client --find; a
# udp-listen on the same group hears the room's beacons too. (The group's
# port is this run's own, shown as 7814.)
start heard udp-listen 239.255.14.14:0
group_port=$PORT
start room chat-server 127.0.0.1:0 --announce --group "239.255.14.14:$group_port"
as_port "$PORT" 9999
wait_for "$work/heard.out" "]: chat-server on"
printf 'alice\nhello, I found you\nQUIT\n' |
    "$BIN/chat-client" --find --group "239.255.14.14:$group_port" >"$work/alice.out" 2>&1
wait_for "$work/room.out" "disconnected"
stop room
stop heard
section 14-announce-server
group <"$work/room.out"
section 14-find-client
group <"$work/alice.out"
section 14-announce-listen
head -n 3 "$work/heard.out" | group

# Two rooms on one group: --find lists both and joins the first heard. Which
# is heard first depends on when each beacon goes out; so that the
# transcript is the same every run, the second room starts once the client
# has heard the first, well within the 1.5 s the client listens on.
start room1 chat-server 127.0.0.1:0 --announce --group "239.255.14.14:$group_port"
as_port "$PORT" 9999
wait_for "$work/room1.out" "announcing on"
# find_then NAME ARGS...: a chat-client --find ARGS... as NAME (stderr in
# $work/NAME.err), and a second room started once it has heard room1; the
# second room's options are in $second.
find_then() {
    local name=$1
    shift
    printf '%s\nQUIT\n' "$name" |
        "$BIN/chat-client" --find "$@" --group "239.255.14.14:$group_port" \
            >"$work/$name.out" 2>"$work/$name.err" &
    local client=$!
    pids+=("$client")
    wait_for "$work/$name.err" "found chat-server on"
    # shellcheck disable=SC2086 # $second is a list of words.
    start room2 chat-server 127.0.0.1:0 --announce --group "239.255.14.14:$group_port" $second
    as_port "$PORT" 9998
    wait "$client" || echo "(exit status $?)" >>"$work/$name.err"
    stop room2
}
second="--encoding gbk"
find_then zoe
section 14-find-two
group <"$work/zoe.err"
# By name: the room of chat-server --room lab2, whichever is heard first.
second="--room lab2"
find_then yan lab2
section 14-find-named
group <"$work/yan.err"
# A name that nobody announces: what was heard, and exit 1.
"$BIN/chat-client" --find lab9 --find-timeout 2 --group "239.255.14.14:$group_port" \
    </dev/null >"$work/lab9.out" 2>&1 || echo "(exit status $?)" >>"$work/lab9.out"
stop room1
section 14-find-missing
group <"$work/lab9.out"

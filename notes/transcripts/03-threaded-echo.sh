#!/usr/bin/env bash
# Lesson 03: a crowd of five connections (v5-echo-client --connections 5)
# against the one-at-a-time v2-echo-server, then against the threaded
# v5-echo-server; then the client's maximum, 1000 connections, against v5;
# then a crowd larger than the client may open files for (ulimit -n).
#
# A crowd's threads race, so some of what it prints changes from run to run;
# the script makes it stable, and the notes say so:
# - measured milliseconds become N (`ms`); against v2, whose answers come one
#   hold apart, the whole seconds stay: 1004 ms shows as 1NNN;
# - connection numbers are renumbered in the order the server took the
#   connections (`renumber`): which of the client's threads connects first
#   is a race;
# - against v5, the client's reports are sorted by connection number and the
#   server's lines by kind (connected, sent, disconnected), then by port
#   (`by_kind`): the threads write in whatever order they run.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# ms [seconds]: the durations "after T ms" become "after N ms"; with
# `seconds`, a duration of a second or more keeps its seconds (4009 -> 4NNN).
ms() {
    awk -v seconds="${1:-}" '{
        line = $0
        out = ""
        while (match(line, /after +[0-9]+ ms/)) {
            field = substr(line, RSTART + 5, RLENGTH - 8)
            t = field + 0
            shown = (seconds != "" && t >= 1000) ? int(t / 1000) "NNN" : "N"
            # The column of the reports ({:>6}) keeps its width; elsewhere, one space.
            width = length(field) >= 7 ? length(field) : length(shown) + 1
            out = out substr(line, 1, RSTART - 1) "after" sprintf("%" width "s", shown) " ms"
            line = substr(line, RSTART + RLENGTH)
        }
        print out line
    }'
}

# renumber: connection numbers become 1, 2, 3... in order of appearance.
renumber() {
    awk '{
        line = $0
        out = ""
        while (match(line, /connection +[0-9]+/)) {
            text = substr(line, RSTART, RLENGTH)
            id = text
            sub(/^connection +/, "", id)
            if (!(id in new)) new[id] = ++count
            spaces = length(text) - length("connection")
            out = out substr(line, 1, RSTART - 1) "connection" sprintf("%" spaces "s", new[id])
            line = substr(line, RSTART + RLENGTH)
        }
        print out line
    }'
}

# sorted_reports: the client's lines "connection N: ..." sorted by N, between
# its first line and its summary.
sorted_reports() {
    local all
    all=$(cat)
    grep -v '^connection ' <<<"$all" | head -n 1
    grep '^connection ' <<<"$all" | sort -k2,2n
    grep -v '^connection ' <<<"$all" | tail -n +2
}

# by_kind: a server log's first two lines, then its connected, sent and
# disconnected lines, each kind sorted by the client's port.
by_kind() {
    awk 'NR <= 2 { print "0 0 " $0; next }
        {
            kind = / connected$/ ? 1 : / sent / ? 2 : / disconnected$/ ? 3 : 4
            port = $1
            sub(/.*:/, "", port)
            print kind " " port " " $0
        }' |
        sort -s -k1,1n -k2,2n | cut -d' ' -f3-
}

# The old server: one client at a time.
start v2 v2-echo-server 127.0.0.1:0
as_port "$PORT" 19534
"$BIN/v5-echo-client" "$ADDR" --connections 5 >"$work/v2-crowd.out" 2>&1
wait_for "$work/v2.out" "disconnected" 5
section 03-v2-crowd
normalize <"$work/v2-crowd.out" | ms seconds | renumber
section 03-v2-server
normalize <"$work/v2.out" | renumber
stop v2

# The threaded server, the very same client command.
start v5 v5-echo-server 127.0.0.1:0
as_port "$PORT" 19534
"$BIN/v5-echo-client" "$ADDR" --connections 5 >"$work/v5-crowd.out" 2>&1
wait_for "$work/v5.out" "disconnected" 5
section 03-v5-crowd
normalize <"$work/v5-crowd.out" | ms | sorted_reports
section 03-v5-server
normalize <"$work/v5.out" | by_kind | renumber

# The client's maximum, against the same server. The notes run it with
# --hold 4, to leave time for a look at the server's threads; the summary
# line is the same with a 1 s hold, which keeps this script fast.
"$BIN/v5-echo-client" "$ADDR" --connections 1000 --hold 1 >"$work/thousand.out" 2>&1
section 03-thousand
tail -n 1 "$work/thousand.out" | ms

# A crowd of 100 in a shell that lets the client open only 64 files. How
# many fail depends on what else the process has open: the count shows as K.
(
    ulimit -n 64
    "$BIN/v5-echo-client" "$ADDR" --connections 100 --hold 2
) >"$work/ulimit.out" 2>&1 || true
section 03-ulimit
tail -n 2 "$work/ulimit.out" | sed -E 's/^(v5-echo-client: error: )[0-9]+ of/\1K of/' | normalize

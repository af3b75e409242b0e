#!/usr/bin/env bash
# Lesson 05: every demonstration of stream-framing in one run, then a name
# that is not a demonstration; then nc sending two lines at once to lesson
# 02's v2-echo-server, which answers them with one reply.
# shellcheck source=notes/transcripts/lib.sh
source "$(dirname "$0")/lib.sh"

# steady: the lines of a full run that depend on timing or on the kernel,
# made the same on every run (the lesson's prose says which, and why).
#   split: a read's size is N, the number of reads R; the reads between the
#          first and the last are left out (...).
#   short-write: what the non-blocking write took is N, the rest M.
#   json: two threads print; the sender's lines are put first.
steady() {
    awk '
        /^== / { demo = $2; sub(/:$/, "", demo) }
        demo == "split" && /^receiver: read [0-9]+ returned / {
            reads++
            if (reads == 1) print "receiver: read 1 returned N bytes (N so far)"
            last = $0
            next
        }
        demo == "split" && reads && !/^receiver: read / {
            if (reads > 1) {
                print "..."
                sub(/read [0-9]+ returned [0-9]+ bytes/, "read R returned N bytes", last)
                print last
            }
            sub(/in [0-9]+ reads/, "in R reads")
            reads = 0
        }
        demo == "short-write" {
            if (match($0, /returned [0-9]+$/)) {
                taken = substr($0, RSTART + 9)
                rest = 67108864 - taken
            }
            if (taken != "") {
                gsub("returned " taken, "returned N")
                gsub("only " taken " bytes", "only N bytes")
                gsub("other " rest " were", "other M were")
                gsub("remaining " rest " bytes", "remaining M bytes")
            }
        }
        demo == "json" && /^receiver: / { held[++nheld] = $0; next }
        demo == "json" && /^=> / {
            for (i = 1; i <= nheld; i++) print held[i]
            nheld = 0
        }
        { print }'
}

"$BIN/stream-framing" >"$work/all.out" 2>&1
section 05-run
# The run ends with an empty line (after the last demonstration): left out.
steady <"$work/all.out" | sed '${/^$/d}'


section 05-unknown
"$BIN/stream-framing" nagle 2>&1 || echo "exit status $?" >"$work/status"
grep -qx "exit status 2" "$work/status"

# v2-echo-server answers each read: nc sends both lines in one write.
need nc netcat-openbsd
start server v2-echo-server 127.0.0.1:0
as_port "$PORT" 19534
printf 'a\nb\n' | nc -N 127.0.0.1 "$PORT" >"$work/nc.out"
wait_for "$work/server.out" "disconnected"
section 05-nc
normalize <"$work/nc.out"
section 05-server
normalize <"$work/server.out"

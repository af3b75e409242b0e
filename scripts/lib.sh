# shellcheck shell=bash
# What the bench scripts share (sourced, not run).

# write_section NAME FILE: puts FILE, a section of BENCHMARKS.md that starts
# with the line <!-- bench-NAME:start --> and ends with <!-- bench-NAME:end -->,
# in place of the earlier section of that name (or at the end, the first
# time), and prints it. The other sections stay as they are.
write_section() {
    local start="<!-- bench-$1:start -->" end="<!-- bench-$1:end -->" section=$2
    local doc=BENCHMARKS.md new
    if [ ! -f "$doc" ]; then
        printf '# Benchmarks\n\nMeasured on the machines this course is built on; see each section for\nthe command. Figures are from one run of that command: compare ratios,\nnot absolute times, across machines.\n' >"$doc"
    fi
    if grep -qxF "$start" "$doc"; then
        new=$(mktemp)
        awk -v file="$section" -v start="$start" -v end="$end" '
            $0 == start { while ((getline line < file) > 0) print line; skip = 1; next }
            $0 == end { skip = 0; next }
            !skip { print }' "$doc" >"$new"
        cat "$new" >"$doc"
        rm -f "$new"
    else
        { echo; cat "$section"; } >>"$doc"
    fi
    echo
    cat "$section"
}

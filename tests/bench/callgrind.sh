#!/bin/bash
# callgrind.sh [NPROCS]: on the host (no VM: instruction counts do not depend
# on emulation speed), the instructions one `guardian rank --json` pass over
# NPROCS processes in one cgroup costs, against `ps -eo pid,rss,oom_score`
# and `cat /proc/[0-9]*/oom_score` over every process of the host.
# Needs root (to create a cgroup in the v2 hierarchy) and valgrind; prints
# one small table, or a line saying why it was skipped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
N=${1:-1000}

skip() { echo; echo "4. callgrind on the host: skipped: $*"; exit 0; }
command -v valgrind >/dev/null || skip "valgrind not installed"
[ "$(id -u)" = 0 ] || skip "needs root to create a cgroup"
ROOT=''
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [ -f "$d/cgroup.procs" ] && [ -f "$d/cgroup.subtree_control" ] &&
       [ "$(stat -f -c %T "$d")" = cgroup2fs ]; then ROOT=$d; break; fi
done
[ -n "$ROOT" ] || skip "no cgroup v2 hierarchy found"
REL=guardian-bench-callgrind-$$
CGDIR=$ROOT/$REL
mkdir "$CGDIR" || skip "cannot create $CGDIR"
TMP=$(mktemp -d)
cleanup() {
    echo 1 > "$CGDIR/cgroup.kill" 2>/dev/null
    for _ in $(seq 50); do rmdir "$CGDIR" 2>/dev/null && break; sleep 0.1; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# In a subshell that exits at once: this shell never reports their deaths.
(
    for _ in $(seq "$N"); do
        build/helpers/memeater --cgroup "$CGDIR" --mb 0 > /dev/null 2>&1 < /dev/null &
    done
)
for _ in $(seq 300); do
    [ "$(wc -l < "$CGDIR/cgroup.procs")" -ge "$N" ] && break
    sleep 0.1
done
in_cg=$(wc -l < "$CGDIR/cgroup.procs")
procs=(/proc/[0-9]*)
total=${#procs[@]}
sleep 0.5

count() {   # count LABEL COMMAND...: instructions (Ir) of one run, children not traced
    local out=$TMP/cg.out log=$TMP/cg.log
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" > /dev/null 2> "$log"
    local ir
    ir=$(grep -m1 -oE 'Collected : [0-9]+' "$log" | grep -oE '[0-9]+$')
    echo "${ir:-0}"
}
g=$(count build/guardian rank --json "$REL")
ps_ir=$(count ps -eo pid,rss,oom_score)
cat_ir=$(count cat /proc/[0-9]*/oom_score)

echo
echo "4. callgrind on the host ($(uname -r), not the VM): instructions of one pass;"
echo "   guardian ranks the $in_cg processes of one cgroup, ps and cat read all $total"
awk -v g="$g" -v p="$ps_ir" -v c="$cat_ir" -v n="$in_cg" -v t="$total" 'BEGIN {
    printf "   %-34s %14.0f Ir  %8.0f Ir/process\n", "guardian rank --json CGROUP", g, g / n
    printf "   %-34s %14.0f Ir  %8.0f Ir/process  guardian/this %.2fx\n", "ps -eo pid,rss,oom_score", p, p / t, g / p
    printf "   %-34s %14.0f Ir  %8.0f Ir/process  guardian/this %.2fx\n", "cat /proc/[0-9]*/oom_score", c, c / t, g / c
}'

#!/bin/bash
# cpu.sh: instructions (callgrind Ir, user space only) of guardian's
# steady-state paths on fixed fixture trees, each beside a floor measured
# in the same run: a plain loop making the same reads and parsing nothing.
# With strace, also the system calls each item costs (under TCG in the VM
# a system call costs far more than the instructions around it).
# Runs tests/bench/cpu_bench (see there) on the host; no root, no VM.
#
# Env: BENCH_CPU_CGROUPS (2000), BENCH_CPU_PROCS (200).
# Prints one small table, or a line saying why it was skipped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
NCG=${BENCH_CPU_CGROUPS:-2000}
NPROCS=${BENCH_CPU_PROCS:-200}
BIN=build/bench/cpu_bench
PHASES=(floor_light light_check workload_find workload_cached floor_fx score_fx
        floor_host score_host enforce floor_watch_add watch_add render_uncached render_cached)

skip() { echo; echo "5. guardian's steady-state paths (callgrind): skipped: $*"; exit 0; }
command -v valgrind >/dev/null || skip "valgrind not installed"
[ -x "$BIN" ] || skip "$BIN missing: make build/bench/cpu_bench"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ARGS=(--cgroups "$NCG" --procs "$NPROCS" --policy "$PWD/examples/mysql-host.yaml")

# One run; each phase zeroed on entry and dumped on return (callgrind
# takes exact names only: no wildcards).
opts=()
for p in "${PHASES[@]}"; do
    opts+=(--zero-before="bench_$p" --dump-after="bench_$p")
done
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "${opts[@]}" \
    "$BIN" "${ARGS[@]}" > "$TMP/items" 2> "$TMP/cg.log" || skip "cpu_bench failed: $(tail -3 "$TMP/cg.log")"
# In dump order (cg.out.1, .2, ... .10): a phase dumped twice (the light
# check's warm-up pass) keeps its last count.
for f in $(ls "$TMP"/cg.out.* | sort -t. -k3 -n); do
    p=$(sed -n 's/^desc: Trigger: --dump-after=bench_//p' "$f")
    ir=$(sed -n 's/^totals: //p' "$f")
    [ -n "$p" ] && echo "$p $ir"
done > "$TMP/ir"

# System calls per item: a run doing the phase 3 times less one doing it
# once (the set-up is the same), over 2 passes; on trees a tenth the size
# (the count per item does not depend on it; strace's does on the set-up).
: > "$TMP/sc"
if command -v strace >/dev/null; then
    for p in floor_light light_check floor_fx score_fx; do
        for reps in 1 3; do
            strace -f -c -o "$TMP/st.$reps" "$BIN" --cgroups $((NCG / 10)) --procs $((NPROCS / 10)) \
                --policy "$PWD/examples/mysql-host.yaml" --only "$p" --reps "$reps" > /dev/null 2>&1
        done
        a=$(awk '$NF == "total" { print $(NF-2) }' "$TMP/st.1")
        b=$(awk '$NF == "total" { print $(NF-2) }' "$TMP/st.3")
        # Scaled back to the full trees' item counts.
        [ -n "$a" ] && [ -n "$b" ] && echo "$p $(((b - a) * 10))" >> "$TMP/sc"
    done
fi

echo
echo "5. guardian's steady-state paths on the host ($(uname -r)), callgrind Ir (user space"
echo "   only) per item; floor = the same reads in a plain loop, no parsing; $NCG fixture"
echo "   cgroups, $NPROCS fixture processes (copies of one real /proc/PID), policy"
echo "   examples/mysql-host.yaml"
awk '
    FNR == 1 { file++ }
    file == 1 && $1 == "phase" { items[$2] = $4 }
    file == 2 { ir[$1] = $2 }
    file == 3 { sc[$1] = $2 }
    # row(phase, label, phase to divide by, what that one is called)
    function row(name, label, floor, fname,   per) {
        if (!(name in ir) || !items[name]) return
        per = ir[name] / items[name]
        printf "   %-48s %7.0f Ir", label, per
        if (floor != "" && (floor in ir) && ir[floor] > 0)
            printf "  %6.2fx %s", ir[name] / ir[floor], fname
        if (name in sc)
            printf "  %5.2f syscalls", sc[name] / (2 * items[name])
        printf "\n"
    }
    END {
        row("floor_light", "light check floor: one pread of memory.current", "", "")
        row("light_check", "light check, per cgroup (PSI triggers armed)", "floor_light", "floor")
        row("workload_find", "workload by cgroup path: policy globs", "", "")
        row("workload_cached", "workload by cgroup path: cached", "workload_find", "globs")
        row("floor_fx", "scoring floor: open/read/close 4 files+readlink", "", "")
        row("score_fx", "scoring, per fixture process (proc_read_info)", "floor_fx", "floor")
        row("floor_host", "scoring floor, host /proc", "", "")
        row("score_host", "scoring, per host process", "floor_host", "floor")
        row("enforce", "enforcement pass, per cgroup (" items["score_fx"] " procs)", "", "")
        row("floor_watch_add", "watch add floor: the same opens, reads, watch", "", "")
        row("watch_add", "watch set built, per cgroup, found by path and wd", "floor_watch_add", "floor")
        row("render_cached", "/metrics, per request, cached (control.h)", "", "")
        row("render_uncached", "/metrics, per request, rendered", "render_cached", "cached")
    }' "$TMP/items" "$TMP/ir" "$TMP/sc"

# The same two natively, for wall time (callgrind runs ~50x slower and
# counts no system call): 3 passes of 5 requests each.
"$BIN" "${ARGS[@]}" --only render --reps 3 2>/dev/null | awk -v n="$NCG" '
    $1 == "wall" { ns[$2] = $4 }
    END {
        if (!ns["render_uncached"]) exit
        c = ns["render_cached"] > 0 ? ns["render_cached"] : 1
        printf "   /metrics at %d cgroups, wall (native): rendered %.1f ms, cached %.2f us: %.0fx\n",
            n, ns["render_uncached"] / 1e6, ns["render_cached"] / 1e3, ns["render_uncached"] / c
    }'

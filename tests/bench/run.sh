#!/bin/bash
# Host side of `make bench`: boots the test VM once and runs
# tests/bench/bench_in_vm.py there (guardian vs the kernel alone, earlyoom and
# oomd), then, on the host, callgrind instruction counts of one rank pass
# and of the steady-state paths on fixture trees (tests/bench/cpu.sh, also
# alone as `make bench-cpu`).
# The report goes to stdout and to build/bench/results.txt; the VM's raw
# numbers and logs stay in build/bench/vm/.
#
# Env: BENCH_REPS (3), BENCH_IDLE_S (20), BENCH_IDLE_COUNTS (200,2000),
# BENCH_NPROCS (1000), BENCH_RANK_REPS (5), BENCH_HOG_TIMEOUT (60),
# BENCH_SECTIONS (reaction,squeeze,idle,rank), BENCH_CONTENDERS
# (kernel,guardian,earlyoom,oomd) are passed into the VM;
# BENCH_CALLGRIND=0 skips the host callgrind counts (BENCH_CPU_CGROUPS and
# BENCH_CPU_PROCS size cpu.sh's trees); BENCH_TIMEOUT (1800)
# bounds the VM.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/bench
mkdir -p "$OUT"
for f in build/guardian build/helpers/memeater; do
    [ -x "$f" ] || { echo "bench: $f missing: make build/guardian helpers" >&2; exit 2; }
done
for t in earlyoom oomd; do
    command -v "$t" >/dev/null || echo "bench: $t not installed (make bench-deps): skipped" >&2
done

envs=()
while IFS='=' read -r name _; do
    envs+=(--env "$name=${!name}")
done < <(env | grep -E '^BENCH_[A-Z_]+=' | grep -vE '^BENCH_(TIMEOUT|CALLGRIND|CPU_[A-Z_]+)=' || true)

rm -f "$OUT/results.txt"
rc=0
tests/vm/vm-run.sh --timeout "${BENCH_TIMEOUT:-1800}" --mem 1024 --cpus 2 --out "$OUT/vm" \
    "${envs[@]}" -- tests/bench/bench_in_vm.py || rc=$?

{
    if [ -s "$OUT/vm/results.txt" ]; then
        cat "$OUT/vm/results.txt"
    else
        echo "bench: the VM produced no results (exit $rc); see $OUT/vm/console.log"
    fi
    if [ "${BENCH_CALLGRIND:-1}" = 1 ]; then
        tests/bench/callgrind.sh "${BENCH_NPROCS:-1000}" || echo "callgrind: failed (optional)"
        tests/bench/cpu.sh || echo "cpu.sh: failed (optional)"
    fi
} > "$OUT/results.txt.tmp"
mv "$OUT/results.txt.tmp" "$OUT/results.txt"

echo
echo "==================== build/bench/results.txt ===================="
cat "$OUT/results.txt"
exit "$rc"

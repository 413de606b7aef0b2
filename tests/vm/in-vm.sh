#!/bin/bash
# Runs inside the VM (see vm-run.sh): every tests/vm/test_* in name order,
# or the ones named as arguments. Each test prints one line per check and a
# "NAME: N passed, M failed" line; this sums them. A test that dies or times
# out without its summary counts as one failure. Under systemd as PID 1
# (vm-run.sh --systemd, GDVM_SYSTEMD=1) the tests are tests/vm/systemd/test_*
# and the summary line is "vm-systemd: ...".
set -uo pipefail
cd "$(dirname "$0")/../.."

# Per-test limit: a hung test must not eat the whole VM's time.
TEST_TIMEOUT=${GDVM_TEST_TIMEOUT:-600}

label=vm dir=tests/vm
if [ "${GDVM_SYSTEMD:-0}" = 1 ]; then label=vm-systemd dir=tests/vm/systemd; fi
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("$dir"/test_*)
passed=0 failed=0
for t in "${tests[@]}"; do
    name=$(basename "$t"); name=${name#test_}; name=${name#[0-9][0-9]_}; name=${name%.*}
    echo "=== vm test $name"
    log=$(mktemp)
    timeout --kill-after=10 "$TEST_TIMEOUT" "$t" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    summary=$(grep -E '^[A-Za-z_-]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    if [ -n "$summary" ]; then
        p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$summary")
        f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$summary")
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "FAIL $name: exited $rc"; failed=$((failed + 1))
        fi
    else
        echo "FAIL $name: no summary line (exit $rc; 124 is a timeout)"
        failed=$((failed + 1))
    fi
    rm -f "$log"
    # Leftovers of one test must not disturb the next (not under systemd,
    # whose slices hold this runner, the journal and the manager's helpers).
    if [ "$label" = vm ]; then
        for cg in /sys/fs/cgroup/*/; do
            [ -e "$cg/cgroup.kill" ] && echo 1 > "$cg/cgroup.kill" 2>/dev/null
        done
    fi
done
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/bin/bash
# Closing line of `make test`: the unit tests' Criterion synthesis, the host
# test's, the deploy checks', the include lint's and both VM boots' counts,
# summed. Exits non-zero
# unless each part ran tests and none failed.
set -euo pipefail
unit_log=$1 host_log=$2 vm_log=$3 deploy_log=$4 lint_log=$5
syn=$(grep -a 'Synthesis: Tested:' "$unit_log" | tail -1)
[ -n "$syn" ] || { echo "summary: no Criterion synthesis in $unit_log"; exit 1; }
u_pass=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$syn")
u_fail=$(sed -E 's/.*Failing: ([0-9]+) \| Crashing: ([0-9]+).*/\1+\2/' <<<"$syn")
u_fail=$((u_fail))
count() {   # count LOG PREFIX -> "passed failed"
    local line
    line=$(grep -aE "^$2: [0-9]+ passed, [0-9]+ failed$" "$1" | tail -1)
    [ -n "$line" ] || { echo "summary: no '$2:' summary in $1" >&2; return 1; }
    sed -E 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$line"
}
read -r h_pass h_fail < <(count "$host_log" hybrid) || exit 1
read -r v_pass v_fail < <(count "$vm_log" vm) || exit 1
# The second boot, systemd as PID 1 (tests/vm/systemd/): the package, the image.
read -r s_pass s_fail < <(count "$vm_log" vm-systemd) || exit 1
read -r d_pass d_fail < <(count "$deploy_log" deploy) || exit 1
read -r l_pass l_fail < <(count "$lint_log" lint) || exit 1
echo "unit: $u_pass passed, $u_fail failed"
echo "host: $h_pass passed, $h_fail failed"
echo "deploy: $d_pass passed, $d_fail failed"
echo "lint: $l_pass passed, $l_fail failed"
echo "vm: $v_pass passed, $v_fail failed"
echo "vm-systemd: $s_pass passed, $s_fail failed"
total_fail=$((u_fail + h_fail + d_fail + l_fail + v_fail + s_fail))
echo "total: $((u_pass + h_pass + d_pass + l_pass + v_pass + s_pass)) passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$u_pass" -gt 0 ] && [ "$h_pass" -gt 0 ] && [ "$d_pass" -gt 0 ] && [ "$l_pass" -gt 0 ] &&
    [ "$v_pass" -gt 0 ] && [ "$s_pass" -gt 0 ]

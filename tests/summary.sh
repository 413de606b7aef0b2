#!/bin/bash
# Closing line of `make test`: the unit tests' Criterion synthesis and the
# VM tests' count, summed. Exits non-zero unless both ran tests and none failed.
set -euo pipefail
unit_log=$1 vm_log=$2
syn=$(grep -a 'Synthesis: Tested:' "$unit_log" | tail -1)
[ -n "$syn" ] || { echo "summary: no Criterion synthesis in $unit_log"; exit 1; }
u_pass=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$syn")
u_fail=$(sed -E 's/.*Failing: ([0-9]+) \| Crashing: ([0-9]+).*/\1+\2/' <<<"$syn")
u_fail=$((u_fail))
vm=$(grep -aE '^vm: [0-9]+ passed, [0-9]+ failed$' "$vm_log" | tail -1)
[ -n "$vm" ] || { echo "summary: no VM test summary in $vm_log"; exit 1; }
v_pass=$(sed -E 's/^vm: ([0-9]+) passed.*/\1/' <<<"$vm")
v_fail=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$vm")
echo "unit: $u_pass passed, $u_fail failed"
echo "vm: $v_pass passed, $v_fail failed"
echo "total: $((u_pass + v_pass)) passed, $((u_fail + v_fail)) failed"
[ $((u_fail + v_fail)) -eq 0 ] && [ "$u_pass" -gt 0 ] && [ "$v_pass" -gt 0 ]

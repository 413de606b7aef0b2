#!/bin/bash
# test_20_act.sh: act/act.c against real races on a real kernel; run
# INSIDE the VM (tests/vm/vm-run.sh -- tests/vm/in-vm.sh tests/vm/test_20_act.sh).
# The checks live in tests/helpers/actrace.c (built by `make helpers`): pid
# reuse, exit before the kill, a move to another cgroup, and a real kill with
# process_mrelease on the reaper thread.
set -uo pipefail

[ "${GDVM:-}" = 1 ] || { echo "test_20_act.sh: run me inside the VM: tests/vm/vm-run.sh -- tests/vm/in-vm.sh $0" >&2; exit 2; }
cd "$(dirname "$0")/../.."

bin=build/helpers/actrace
if [ ! -x "$bin" ]; then
    echo "FAIL act: $bin is missing (make build/helpers/actrace)"
    echo "act: 0 passed, 1 failed"
    exit 1
fi
exec "$bin"

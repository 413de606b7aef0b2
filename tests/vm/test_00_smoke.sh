#!/bin/bash
# test_00_smoke.sh: the VM offers what guardian needs; run INSIDE the VM (tests/vm/vm-run.sh -- tests/vm/test_00_smoke.sh).
# Checks that the VM gives guardian what it needs: cgroup2 with the memory
# controller, PSI triggers, memory.events, cgroup.kill, a real memcg OOM kill
# visible in memory.events and dmesg. One ok/FAIL line per check.
set -euo pipefail

[ "${GDVM:-}" = 1 ] || { echo "test_00_smoke.sh: run me inside the VM: tests/vm/vm-run.sh -- $0" >&2; exit 2; }

CG=/sys/fs/cgroup
pass=0 fail=0
check() {   # check DESCRIPTION COMMAND...
    local d=$1; shift
    if "$@" >/tmp/smoke.err 2>&1; then echo "ok   $d"; pass=$((pass + 1))
    else echo "FAIL $d"; sed 's/^/     | /' /tmp/smoke.err; fail=$((fail + 1)); fi
}
has_word() { grep -qw -- "$2" "$1"; }

check "/sys/fs/cgroup is cgroup2" test "$(stat -f -c %T $CG)" = cgroup2fs
check "memory in cgroup.controllers" has_word $CG/cgroup.controllers memory
check "memory in cgroup.subtree_control" has_word $CG/cgroup.subtree_control memory

T=$CG/gdvm-smoke
rmdir $T 2>/dev/null || true
check "create child cgroup" mkdir $T
check "memory.max=64M" sh -c "echo 64M > $T/memory.max && test \"\$(cat $T/memory.max)\" = 67108864"
check "memory.events exists" test -f $T/memory.events
check "cgroup.kill exists" test -f $T/cgroup.kill
check "memory.pressure exists" test -f $T/memory.pressure

# A PSI trigger: the write is what the host (hybrid mode) refuses. Keep the
# fd open and poll it once so registration is really exercised.
check "PSI trigger on memory.pressure" python3 - "$T/memory.pressure" <<'EOF'
import select, sys
f = open(sys.argv[1], "r+b", buffering=0)
f.write(b"some 150000 1000000\0")
p = select.poll()
p.register(f, select.POLLPRI)
p.poll(10)          # no event expected; must not error
f.close()
EOF

# A real memcg OOM: 200 MB in a 64 MB cgroup (no swap in the VM).
oom_kills() { awk '$1 == "oom_kill" { print $2 }' $T/memory.events; }
before=$(oom_kills)
# python forks the allocator so that the SIGKILL is reported here, not as a
# "Killed" message from bash. Writing 0 to cgroup.procs moves the writer.
check "allocator in the cgroup is SIGKILLed" python3 - "$T" <<'EOF'
import os, signal, sys
pid = os.fork()
if pid == 0:
    with open(sys.argv[1] + "/cgroup.procs", "w") as f:
        f.write("0")
    b = bytearray(200 << 20)   # zero-filled, so every page is touched
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("allocator wait status", st)
sys.exit(0 if os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGKILL else 1)
EOF
after=$(oom_kills)
check "memory.events oom_kill went up ($before -> $after)" test "$after" -ge $((before + 1))
check "dmesg has 'Memory cgroup out of memory'" sh -c "dmesg | grep -q 'Memory cgroup out of memory'"
check "dmesg has the OOM task dump" sh -c "dmesg | grep -q 'Tasks state (memory values in pages)' &&
    dmesg | grep -q 'oom-kill:constraint=CONSTRAINT_MEMCG'"

rmdir $T 2>/dev/null || true
echo "smoke: $pass passed, $fail failed"
[ "$fail" = 0 ]

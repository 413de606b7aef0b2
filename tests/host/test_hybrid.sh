#!/bin/bash
# test_hybrid.sh: `guardian run` on THIS machine's real cgroup setup, no VM.
#
# The developers' and CI machines run cgroups in hybrid mode: /sys/fs/cgroup
# is v1 with a cgroup2 "unified" mount that has no memory controller. guardian
# must start there, say once which signals it goes without and why, watch the
# unified root, run quietly and exit 0 on SIGTERM. On a pure v2 host with the
# memory controller (some other CI machine) the same test checks the other
# branch: no such notice, the memory controller in use.
#
#   tests/host/test_hybrid.sh            (make hosttest)
#   GUARDIAN=build/san/guardian-bin tests/host/test_hybrid.sh
#   RUN_SECONDS=3 (how long guardian runs before the SIGTERM)
#
# Runs `guardian run --dry-run`, so it never kills anything on this machine.
# A sandbox without CAP_SYS_RESOURCE refuses /proc/self/oom_score_adj:
# guardian warns and goes on, and so does this test.
# Prints one line per check and "hybrid: N passed, M failed"; exit 0 when
# nothing failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

GUARDIAN=${GUARDIAN:-build/guardian}
RUN_SECONDS=${RUN_SECONDS:-3}
CHECK_NAME=hybrid
. tests/lib/check.sh

if [ ! -x "$GUARDIAN" ]; then
    check "guardian binary $GUARDIAN exists (make build/guardian)" 1
    finish
fi

# --- What this host is: find the v2 root the way guardian documents it. ---
fstype() { stat -f -c %T "$1" 2>/dev/null; }
root='' mode=''
if [ "$(fstype /sys/fs/cgroup)" = cgroup2fs ]; then
    root=/sys/fs/cgroup mode=v2
elif [ "$(fstype /sys/fs/cgroup/unified)" = cgroup2fs ]; then
    root=/sys/fs/cgroup/unified mode=hybrid
else
    # mountinfo field 5 is the mount point; the fs type follows the " - ".
    root=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' \
           /proc/self/mountinfo | head -1)
    mode=other
fi
if [ -z "$root" ]; then
    check "a cgroup v2 hierarchy is mounted on this host" 1 "none in /proc/self/mountinfo"
    finish
fi
has_memory=0
grep -qw memory "$root/cgroup.controllers" 2>/dev/null && has_memory=1
# Does the kernel accept a PSI trigger here (it refuses them on hybrid and
# unprivileged setups)? The trigger lives as long as the fd: gone right after.
psi_trigger=refused
if [ -e /proc/pressure/memory ] &&
   { echo "some 150000 1000000" > /proc/pressure/memory; } 2>/dev/null; then
    psi_trigger=accepted
fi
echo "info hybrid: cgroup v2 root $root ($mode), memory controller: $([ $has_memory = 1 ] && echo yes || echo no)," \
     "host PSI trigger: $psi_trigger, guardian: $GUARDIAN"

# --- Run guardian for a few seconds, then SIGTERM. ---
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gd-hybrid.XXXXXX")
gpid=''
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
    if [ -n "$gpid" ] && kill -0 "$gpid" 2>/dev/null; then kill -KILL "$gpid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
log=$tmp/guardian.log
audit=$tmp/audit.jsonl

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$GUARDIAN" run --dry-run --audit-log "$audit" \
    > "$log" 2>&1 &
gpid=$!
# Wait for the start-up line (or an early exit), then let it run.
for _ in $(seq 1 100); do
    grep -q 'watching ' "$log" && break
    kill -0 "$gpid" 2>/dev/null || break
    sleep 0.1
done
sleep "$RUN_SECONDS"
alive=1
kill -0 "$gpid" 2>/dev/null || alive=0
check "guardian still running after ${RUN_SECONDS}s" $((1 - alive)) "$(tail -5 "$log")"
rc=''
if [ "$alive" = 1 ]; then
    kill -TERM "$gpid"
    for _ in $(seq 1 100); do
        kill -0 "$gpid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$gpid" 2>/dev/null; then
        kill -KILL "$gpid"
        check "guardian exits within 10s of SIGTERM" 1
    fi
fi
wait "$gpid"; rc=$?
gpid=''

echo "info hybrid: guardian's log:"
sed 's/^/info hybrid:   /' "$log"

check "exit status 0 after SIGTERM" $((rc != 0)) "exit $rc"
! grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|LeakSanitizer|Segmentation fault|core dumped|^guardian: error:' "$log"
check "no crash, no sanitizer report, no error line" $? "$(grep -E 'Sanitizer|runtime error|fault|error:' "$log" | head -3)"
grep -q 'Terminated: exiting' "$log"
check "it says it exits on SIGTERM" $?

watching=$(grep 'watching ' "$log" | head -1)
[ "$(grep -c 'watching ' "$log")" = 1 ]
check "one start-up 'watching' line" $? "$(grep -c 'watching ' "$log") of them"
[[ $watching == *" under $root "* ]]
check "it watched the v2 root $root" $? "$watching"
[[ $watching == *"DRY RUN"* ]]
check "the start-up line says DRY RUN" $? "$watching"

notices=$(grep -c 'no memory controller in the cgroup v2 hierarchy' "$log")
if [ "$has_memory" = 0 ]; then
    [ "$notices" = 1 ]
    check "the log says once that the memory controller is missing" $? "$notices notices"
    note=$(grep 'no memory controller in the cgroup v2 hierarchy' "$log" | head -1)
    [[ $note == *"$root"* && $note == *"memory.events"* && $note == *"pressure"* ]]
    check "... naming the hierarchy and the signals it goes without" $? "$note"
    if [ "$mode" = hybrid ]; then
        [[ $note == *"hybrid"* ]]
        check "... and why (a hybrid cgroup host)" $? "$note"
    fi
    [[ $watching == *"(no memory controller"* ]]
    check "the start-up line says no memory controller" $? "$watching"
else
    [ "$notices" = 0 ]
    check "no 'no memory controller' notice on a v2 host with memory" $? "$notices notices"
    [[ $watching == *"(memory controller"* ]]
    check "the start-up line says memory controller" $? "$watching"
fi

# DESIGN.md: where the kernel refuses PSI triggers, guardian polls the
# averages on a timer "and says so once in the log". The start-up line must
# not claim triggers are armed then.
if [ "$psi_trigger" = refused ]; then
    ! [[ $watching == *"PSI triggers armed"* ]]
    check "the start-up line does not claim PSI triggers armed (the kernel refuses them here)" $? "$watching"
    [ "$(grep -ciE 'refused|polling' "$log")" -ge 1 ]
    check "the log says PSI triggers are refused and averages are polled" $? \
          "no 'refused'/'polling' line"
fi

# Dry run: whatever guardian saw, it killed nothing.
if [ -s "$audit" ]; then
    ! grep -vq '"event":"would-kill' "$audit"
    check "the audit log holds only would-kill records (dry run)" $? "$(head -3 "$audit")"
else
    [ -e "$audit" ]
    check "the audit log was created" $? "no $audit"
fi
finish

#!/bin/bash
# run-cmd.sh: ExecStart= of gdvm-run.service (see tests/vm/stage2-systemd.sh),
# under systemd as PID 1 in the VM. Runs the command the runner wrote to
# /out/cmd with cwd = repo root, its output on the console and in
# /out/output.log, and stores its exit status in /out/status; the unit's
# SuccessAction=/FailureAction= then power the VM off.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

mapfile -d '' cmd < /out/cmd
if [ -f /out/env ]; then
    mapfile -d '' envs < /out/env
    # shellcheck disable=SC2163 # exporting NAME=VALUE strings on purpose
    for e in "${envs[@]}"; do export "$e"; done
fi
export GDVM=1 GDVM_SYSTEMD=1 GDVM_OUT=/out HOME=/root TERM=dumb LANG=C.UTF-8
mkdir -p /root
echo 0 > /proc/sys/kernel/dmesg_restrict 2>/dev/null || true

read -r up _ < /proc/uptime
echo "GDVM: SYSTEMD READY (guest uptime ${up}s, $(systemctl is-system-running 2>&1))" > /dev/console
status=1
if [ ${#cmd[@]} -gt 0 ]; then
    # tee reads a fifo, not a pipe, so that only the command is waited for:
    # what it leaves running (a scope, a container) may hold the fifo open.
    mkfifo /run/gdvm.out
    tee /out/output.log < /run/gdvm.out > /dev/console &
    teepid=$!
    (cd "$REPO" && exec "${cmd[@]}") < /dev/null > /run/gdvm.out 2>&1 &
    wait $!
    status=$?
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$teepid" 2>/dev/null || break; sleep 0.2; done
    kill "$teepid" 2>/dev/null
else
    echo "GDVM: /out/cmd is empty" > /dev/console
fi
echo "$status" > /out/status.tmp && mv /out/status.tmp /out/status
echo "GDVM: EXIT STATUS $status" > /dev/console
sync
exit 0

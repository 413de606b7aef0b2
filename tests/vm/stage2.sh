#!/bin/bash
# stage2.sh: PID 1 inside the VM, after the initramfs switch_root'ed into the
# overlay over the host root. Sets up what guardian needs (cgroup2 with the
# memory controller, PSI), runs the command the runner wrote to /out/cmd with
# cwd = repo root, stores its exit status in /out/status and powers off.
#
# PID 1 must never exit (the kernel would panic) and must not hang: every path
# below ends in poweroff. No `set -e` here: a failed step is reported and we
# still reach the poweroff.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

poweroff_now() {
    sync
    # sysrq poweroff is asynchronous: wait on a sleep started *before* it, as
    # the 9p root (and so exec) may already be gone while the kernel shuts down.
    sleep 10 2>/dev/null & local s=$!
    echo 1 > /proc/sys/kernel/sysrq 2>/dev/null
    echo o > /proc/sysrq-trigger 2>/dev/null
    wait $s
    poweroff -f 2>/dev/null || busybox poweroff -f
    while :; do sleep 60; done      # never let PID 1 exit
}
fail() { echo "GDVM: STAGE2 FAILED: $*"; poweroff_now; }
trap 'fail "stage2 error at line $LINENO"' ERR

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || fail "cannot find repo root"

mnt() {   # mnt TYPE DIR [OPTS]: mount unless something is already there
    mkdir -p "$2"
    mountpoint -q "$2" || mount -t "$1" ${3:+-o "$3"} "$1" "$2" || fail "mount $1 on $2"
}
mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev
mnt devpts /dev/pts gid=5,mode=620
mnt tmpfs /dev/shm mode=1777
# Fresh /tmp and /run (the overlay would show the host's), unless the repo
# itself lives there: a tmpfs would hide it.
case "$REPO/" in /tmp/*) ;; *) mnt tmpfs /tmp mode=1777 ;; esac
case "$REPO/" in /run/*) ;; *) mnt tmpfs /run mode=755 ;; esac
mnt cgroup2 /sys/fs/cgroup
# The lower layer is the *host's* /etc/mtab etc.; make mount(8) and df see ours.
ln -sf /proc/self/mounts /etc/mtab 2>/dev/null || true

# Enable the controllers guardian uses for child cgroups of the root.
ctrls=$(cat /sys/fs/cgroup/cgroup.controllers)
for c in memory pids cpu; do
    case " $ctrls " in
        *" $c "*) echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || fail "enable +$c" ;;
        *) if [ "$c" = memory ]; then fail "no memory controller in cgroup.controllers: $ctrls"; fi ;;
    esac
done

hostname gdvm 2>/dev/null || echo gdvm > /proc/sys/kernel/hostname
if command -v ip >/dev/null; then ip link set lo up 2>/dev/null || true; fi
# Kernel messages (e.g. OOM reports) all stay in dmesg (tests read them); with
# loglevel=4 only errors also reach the console.
echo 0 > /proc/sys/kernel/dmesg_restrict 2>/dev/null || true

[ -f /out/cmd ] || fail "/out/cmd missing (runner did not write the command)"
mapfile -d '' cmd < /out/cmd
[ ${#cmd[@]} -gt 0 ] || fail "/out/cmd is empty"
if [ -f /out/env ]; then
    mapfile -d '' envs < /out/env
    # shellcheck disable=SC2163 # exporting NAME=VALUE strings on purpose
    for e in "${envs[@]}"; do export "$e"; done
fi
export GDVM=1 GDVM_OUT=/out HOME=/root TERM=dumb LANG=C.UTF-8
mkdir -p /root

read -r up _ < /proc/uptime
echo "GDVM: STAGE2 READY (guest uptime ${up}s)"
trap - ERR

# Output to the console and to /out/output.log. tee reads a fifo, not a
# pipe from $(...) so that we know its pid and can wait for it.
mkfifo /run/gdvm.out
tee /out/output.log < /run/gdvm.out > /dev/console &
teepid=$!
(cd "$REPO" && exec "${cmd[@]}") < /dev/null > /run/gdvm.out 2>&1 &
wait $!
status=$?
# Killed from outside (SIGKILL: 137): say by whom, if the kernel did it.
if [ "$status" = 137 ]; then
    echo "GDVM: the test runner was killed; the kernel's OOM lines:"
    dmesg | grep -E "invoked oom-killer|Out of memory|Killed process|oom-kill:" | tail -n 20
fi

# Background processes left by the test may still hold the fifo open (tee
# would never see EOF) or write to /out: stop everything but us and tee.
kill_others() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = 1 ] || [ "$p" = "$teepid" ] || kill "-$1" "$p" 2>/dev/null
    done
}
kill_others TERM; sleep 0.2; kill_others KILL
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$teepid" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$teepid" 2>/dev/null
wait 2>/dev/null

echo "$status" > /out/status.tmp && mv /out/status.tmp /out/status
echo "GDVM: EXIT STATUS $status"
poweroff_now

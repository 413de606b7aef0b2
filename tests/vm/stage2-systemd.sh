#!/bin/bash
# stage2-systemd.sh: PID 1 inside the VM for `vm-run.sh --systemd`, after the
# initramfs switch_root'ed into the overlay over the host root. Where
# stage2.sh runs the test command itself, this one writes two units into the
# overlay's /etc/systemd/system and execs systemd: the boot's default target
# is gdvm.target, whose gdvm-run.service runs the runner's command
# (tests/vm/systemd/run-cmd.sh) and powers the VM off, whatever the outcome.
# So a test sees systemd as PID 1 on the real kernel: units, slices, the
# journal, sd_notify and the watchdog, as on a host.
#
# PID 1 must never exit and must not hang: a failure before the exec is
# reported and ends in a power-off.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

fail() {
    echo "GDVM: STAGE2 FAILED: $*"
    sync
    sleep 10 2>/dev/null & s=$!
    echo 1 > /proc/sys/kernel/sysrq 2>/dev/null
    echo o > /proc/sysrq-trigger 2>/dev/null
    wait $s
    poweroff -f 2>/dev/null || busybox poweroff -f
    while :; do sleep 60; done
}
trap 'fail "stage2-systemd error at line $LINENO"' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || fail "cannot find tests/vm"
REPO=$(cd "$HERE/../.." && pwd) || fail "cannot find repo root"
SYSTEMD=/lib/systemd/systemd
[ -x "$SYSTEMD" ] || fail "$SYSTEMD missing in the host root: apt-get install systemd"
[ -f /out/cmd ] || fail "/out/cmd missing (runner did not write the command)"

# A fresh /tmp (the overlay would show the host's), unless the repo lives
# there. systemd mounts /run, /sys/fs/cgroup (cgroup v2 only:
# systemd.unified_cgroup_hierarchy=1 on the command line) and the rest.
case "$REPO/" in
    /run/*) fail "the repository is in /run, which systemd mounts over: clone it elsewhere" ;;
    /tmp/*)
        # systemd-tmpfiles --boot empties /tmp ("D /tmp" in tmp.conf), and
        # with it the repository: here /tmp is kept, not cleaned.
        mkdir -p /etc/tmpfiles.d
        echo "d /tmp 1777 root root -" > /etc/tmpfiles.d/tmp.conf ;;
    *) mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "mount /tmp" ;;
esac
ln -sf /proc/self/mounts /etc/mtab 2>/dev/null || true
echo gdvm > /etc/hostname

U=/etc/systemd/system
cat > "$U/gdvm.target" <<UNIT
[Unit]
Description=GDVM: the test boot
Requires=basic.target gdvm-run.service
After=basic.target gdvm-run.service
AllowIsolate=yes
UNIT
cat > "$U/gdvm-run.service" <<UNIT
[Unit]
Description=GDVM: the test command
After=basic.target
# Every outcome powers the VM off (the runner reads /out/status).
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/bash $REPO/tests/vm/systemd/run-cmd.sh
StandardInput=null
StandardOutput=journal
StandardError=journal
TimeoutStartSec=infinity
UNIT
ln -sf "$U/gdvm.target" "$U/default.target"
# What the host enabled has no place in a test boot: its timers (apt,
# man-db, ...), its network time, its logins and what its default target
# wants (podman's restart and auto-update) never start here.
shopt -s nullglob
for u in "$U"/timers.target.wants/* "$U"/default.target.wants/* "$U"/sockets.target.wants/* \
         "$U"/multi-user.target.wants/* systemd-timesyncd.service getty@tty1.service \
         serial-getty@ttyS0.service systemd-firstboot.service systemd-repart.service \
         systemd-pstore.service; do
    ln -sf /dev/null "$U/$(basename "$u")"
done

echo "GDVM: STAGE2 SYSTEMD (exec $SYSTEMD)"
trap - ERR
exec "$SYSTEMD" --log-target=kmsg --show-status=no

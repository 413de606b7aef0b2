#!/bin/bash
# vm-run.sh [options] -- COMMAND [ARGS...]
#
# Runs COMMAND (cwd = repo root) as root inside a qemu VM booted from the
# Debian kernel, with the host root mounted read-only under a tmpfs overlay,
# cgroup2 with +memory +pids (+cpu) at /sys/fs/cgroup, PSI on, env GDVM=1
# and GDVM_OUT=/out (a host directory shared writable into the VM).
#
# Options:
#   --timeout SECONDS  kill the VM after this long (default 600) -> exit 124
#   --mem MB           guest memory (default 1024)
#   --cpus N           guest CPUs (default 2)
#   --out DIR          use DIR (kept) as the /out share instead of a temp dir;
#                      holds console.log, output.log, status afterwards
#   --env NAME=VALUE   export NAME=VALUE to COMMAND (repeatable)
#   --quiet            do not stream the console; print COMMAND's output at the
#                      end (and the console tail if the VM failed)
#   --systemd          boot systemd as PID 1 (tests/vm/stage2-systemd.sh):
#                      COMMAND runs in a service of its own once basic.target
#                      is up, and the VM powers off after it
# Exit status: COMMAND's, or 124 on timeout, 125 if the VM failed otherwise
# (boot failure, panic, qemu error). Env: GDVM_CACHE (kernel/initramfs cache,
# default REPO/build/vm), GDVM_ACCEL (qemu accelerator, default tcg: KVM is
# not usable on our machines), GDVM_KEEP=1 keeps the temp results dir.
set -euo pipefail

die() { echo "vm-run: ERROR: $*" >&2; exit 125; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=${GDVM_CACHE:-$REPO/build/vm}
TIMEOUT=600 MEM=1024 CPUS=2 OUTDIR='' QUIET=0 STAGE2=stage2.sh
ENVS=()

while [ $# -gt 0 ]; do
    case $1 in
        --timeout) TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
        --mem)     MEM=${2:?--mem needs a value}; shift 2 ;;
        --cpus)    CPUS=${2:?--cpus needs a value}; shift 2 ;;
        --out)     OUTDIR=${2:?--out needs a value}; shift 2 ;;
        --env)     [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env needs NAME=VALUE, got '${2:-}'"
                   ENVS+=("$2"); shift 2 ;;
        --quiet|-q) QUIET=1; shift ;;
        --systemd) STAGE2=stage2-systemd.sh; shift ;;
        --) shift; break ;;
        *) die "unknown option '$1' (usage: $0 [--timeout S] [--mem MB] [--cpus N] [--out DIR] [--env N=V] [--quiet] [--systemd] -- COMMAND [ARGS...])" ;;
    esac
done
[ $# -gt 0 ] || die "no command given (usage: $0 [options] -- COMMAND [ARGS...])"
for v in "$TIMEOUT" "$MEM" "$CPUS"; do [[ $v =~ ^[1-9][0-9]*$ ]] || die "not a positive integer: '$v'"; done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: apt-get install qemu-system-x86"

# Kernel (apt-get, cached) and initramfs (rebuilt when its recipe or the kernel
# changes; stage2.sh is read from the host root at boot, so it is not baked in).
"$HERE/fetch-kernel.sh" "$CACHE/kernel" >&2 || die "fetch-kernel.sh failed"
KERNEL=$(cat "$CACHE/kernel/kernel")
# The uncompressed ELF boots ~3 s faster under TCG (no in-guest xz decompression).
if [ -s "$CACHE/kernel/vmlinux" ]; then KERNEL=$(cat "$CACHE/kernel/vmlinux"); fi
key=$( { cat "$HERE/mkinitramfs.sh"; cat "$CACHE/kernel/modules"; } | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
    echo "vm-run: building $INITRD" >&2
    rm -f "$CACHE"/initramfs-*.cpio.gz     # stale ones (qemu copies the initrd at start)
    "$HERE/mkinitramfs.sh" "$CACHE/kernel" "$INITRD" || die "mkinitramfs.sh failed"
fi

if [ -n "$OUTDIR" ]; then
    mkdir -p "$OUTDIR"; RES=$(cd "$OUTDIR" && pwd -P)
    rm -f "$RES"/{status,output.log,console.log,cmd,env,qemu.pid,qemu.rc}
else
    RES=$(mktemp -d "${TMPDIR:-/tmp}/gdvm.XXXXXX")
fi
# NUL-separated: any argument survives, unlike on the kernel command line.
printf '%s\0' "$@" > "$RES/cmd"
if [ ${#ENVS[@]} -gt 0 ]; then printf '%s\0' "${ENVS[@]}" > "$RES/env"; fi

QPID=''
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
    # Never leave a qemu behind (Ctrl-C, CI killing us, set -e exit).
    if [ -s "$RES/qemu.pid" ]; then kill -TERM "$(cat "$RES/qemu.pid")" 2>/dev/null || true; fi
    if [ -n "$QPID" ]; then wait "$QPID" 2>/dev/null || true; fi
    if [ -z "$OUTDIR" ] && [ "${GDVM_KEEP:-0}" != 1 ] && [ "${KEEP_RES:-0}" != 1 ]; then rm -rf "$RES"; fi
}
trap cleanup EXIT
trap 'echo "vm-run: interrupted" >&2; exit 130' INT TERM

# The kernel command line is split on blanks: the stage2 path must not have any.
[[ $HERE != *[[:space:]]* ]] || die "the repo path '$REPO' contains blanks; the VM cannot boot from it"
# psi=1: harmless where PSI is on by default, needed on kernels built with
# CONFIG_PSI_DEFAULT_DISABLED. quiet loglevel=4: errors only on the console;
# everything still lands in the ring buffer for dmesg, made big enough
# (log_buf_len) that tests with many OOM task dumps do not lose the early ones.
# mitigations=off: speed only, the VM runs nothing untrusted.
APPEND="console=ttyS0 panic=-1 quiet loglevel=4 gdvm.stage2=$HERE/$STAGE2"
APPEND+=" systemd.unified_cgroup_hierarchy=1 psi=1 log_buf_len=4M mitigations=off"
# systemd's "Job ... running" spinner would share the console with the
# tests' lines (and their "NAME: N passed" summaries): errors only.
if [ "$STAGE2" = stage2-systemd.sh ]; then APPEND+=" systemd.show_status=error"; fi
# qboot (from qemu-system-data) is a minimal firmware: faster than SeaBIOS and
# silent on the serial console.
BIOS=()
if [ -f /usr/share/qemu/qboot.rom ]; then BIOS=(-bios /usr/share/qemu/qboot.rom); fi
QEMU=(qemu-system-x86_64 -nographic -no-reboot -nic none "${BIOS[@]}"
      -accel "${GDVM_ACCEL:-tcg}" -m "$MEM" -smp "$CPUS"
      -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND"
      -pidfile "$RES/qemu.pid"
      -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
      -virtfs "local,path=$RES,mount_tag=out,security_model=none,multidevs=remap")

start=$SECONDS
# In the background so that the INT/TERM trap can run (bash defers traps until
# a foreground job ends). stdin from /dev/null: qemu must not put a terminal
# into raw mode or read keystrokes. timeout: -k in case qemu ignores SIGTERM.
# sed: drop CRs and the terminal resets/clears the firmware and kernel send.
# (|| r=$?: set -e would otherwise end the group before the rc is recorded.)
{ r=0; timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 || r=$?; echo "$r" > "$RES/qemu.rc"; } |
    sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r//g' |
    if [ "$QUIET" = 1 ]; then cat > "$RES/console.log"; else tee "$RES/console.log"; fi &
QPID=$!
wait "$QPID" || true
QPID=''
rm -f "$RES/qemu.pid"   # qemu is gone: never kill a recycled pid in cleanup
elapsed=$((SECONDS - start))
qrc=$(cat "$RES/qemu.rc" 2>/dev/null || echo 125)

if [ -f "$RES/status" ] && status=$(cat "$RES/status") && [[ $status =~ ^[0-9]+$ ]]; then
    [ "$QUIET" = 1 ] && cat "$RES/output.log" 2>/dev/null
    echo "vm-run: exit status $status, ${elapsed}s" >&2
    exit "$status"
fi

KEEP_RES=1   # keep the evidence of a failed VM
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    why="timeout after ${TIMEOUT}s" rc=124
elif msg=$(grep -a -m1 -oE 'GDVM: (BOOT|STAGE2) FAILED: .*|Kernel panic.*' "$RES/console.log"); then
    why=${msg#GDVM: } rc=125
else
    why="no exit status from the VM (qemu exit code $qrc)" rc=125
fi
if [ "$QUIET" = 1 ]; then   # otherwise the console was already streamed
    echo "----- last 80 console lines ($RES/console.log) -----"
    tail -n 80 "$RES/console.log"
fi
echo "GDVM: VM FAILED: $why"
echo "vm-run: results kept in $RES" >&2
exit "$rc"

#!/bin/bash
# mkinitramfs.sh KERNELDIR OUT.cpio.gz
#
# KERNELDIR is a fetch-kernel.sh OUTDIR (holds the files "kernel" and
# "modules"). Builds a busybox-static initramfs whose /init loads the virtio,
# 9p and overlay modules, mounts the host root read-only over virtio-9p with a
# tmpfs overlay on top, mounts the results share at /out and switch_roots into
# the stage2 script named by gdvm.stage2= on the kernel command line.
set -euo pipefail

die() { echo "mkinitramfs: ERROR: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 KERNELDIR OUT.cpio.gz"
KDIR=$1 OUTFILE=$2
[ -s "$KDIR/modules" ] || die "$KDIR/modules missing: run fetch-kernel.sh $KDIR first"
MODDIR=$(cat "$KDIR/modules")
[ -d "$MODDIR" ] || die "modules dir $MODDIR does not exist"

BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
    # Must be static: the initramfs has no libc.
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
[ -n "$BUSYBOX" ] || die "no static busybox found: apt-get install busybox-static"
command -v cpio >/dev/null || die "cpio not found: apt-get install cpio"

# Dependencies first: busybox insmod does not resolve them.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
         netfs fscache 9pnet 9pnet_virtio 9p overlay"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,lib/modules,newroot,lower,rw}
cp "$BUSYBOX" "$STAGE/bin/busybox"
# The kernel needs /dev/console to give /init its stdio (devtmpfs comes later).
mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || true

: > "$STAGE/lib/modules/order"
for m in $MODULES; do
    # modules.builtin lists built-in ones as kernel/.../NAME.ko
    if grep -qE "/$m\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
        echo "mkinitramfs: $m is built in, skipping" >&2; continue
    fi
    f=$(find "$MODDIR/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
    if [ -z "$f" ]; then echo "mkinitramfs: WARNING: module $m not found, skipping" >&2; continue; fi
    # busybox insmod cannot decompress: store every module uncompressed.
    case $f in
        *.xz)  xz -dc "$f" > "$STAGE/lib/modules/$m.ko" || die "cannot decompress $f (xz-utils?)" ;;
        *.zst) zstd -qdc "$f" > "$STAGE/lib/modules/$m.ko" || die "cannot decompress $f (zstd?)" ;;
        *)     cp "$f" "$STAGE/lib/modules/$m.ko" ;;
    esac
    echo "$m" >> "$STAGE/lib/modules/order"
done

cat > "$STAGE/init" <<'EOF'
#!/bin/busybox sh
# GDVM initramfs /init. Any failure prints one GDVM: BOOT FAILED line and
# powers off: a hung VM would only be noticed at the runner's timeout.
# /proc first: busybox --install reads /proc/self/exe to find itself.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

fail() {
    echo "GDVM: BOOT FAILED: $*"
    poweroff -f
    # poweroff should not return; if it does, let the kernel panic
    # (panic=-1 reboots, -no-reboot then ends qemu) rather than hang.
    echo o > /proc/sysrq-trigger 2>/dev/null
    sleep 5; exit 1
}

grep -q ' /proc proc ' /proc/mounts || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
exec </dev/console >/dev/console 2>&1

for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" || fail "insmod $m"
done

stage2=
for w in $(cat /proc/cmdline); do
    case $w in gdvm.stage2=*) stage2=${w#gdvm.stage2=} ;; esac
done
[ -n "$stage2" ] || fail "no gdvm.stage2= on the kernel command line"

# msize: bigger messages mean fewer 9p round trips (each is slow under TCG).
# cache=loose: the host root does not change under a test run.
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /lower \
    || fail "mount 9p hostroot (qemu -virtfs ... mount_tag=hostroot missing?)"
mount -t tmpfs -o mode=755 tmpfs /rw || fail "mount tmpfs for overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
    || fail "mount overlay (see dmesg above)"
mkdir -p /newroot/out
# No cache on the results share: files must reach the host as they are written.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /newroot/out \
    || fail "mount 9p results share (mount_tag=out)"

[ -x /newroot/bin/bash ] || fail "/bin/bash missing in the host root"
[ -f "/newroot$stage2" ] || fail "stage2 $stage2 not found in the host root"

for d in dev proc sys; do
    mkdir -p "/newroot/$d"
    mount --move "/$d" "/newroot/$d" || fail "move /$d"
done
exec switch_root -c /dev/console /newroot /bin/bash "$stage2"
EOF
chmod 755 "$STAGE/init"

mkdir -p "$(dirname "$OUTFILE")"
tmp=$(mktemp "$OUTFILE.XXXXXX")
(cd "$STAGE" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp" || die "cpio failed"
chmod 644 "$tmp"    # mktemp makes it 0600
mv "$tmp" "$OUTFILE"

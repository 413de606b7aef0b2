#!/bin/bash
# fetch-kernel.sh OUTDIR
#
# Fetches the current Debian kernel package (the one linux-image-amd64 depends
# on) with apt-get and unpacks it into OUTDIR/root. Writes:
#   OUTDIR/kernel   absolute path of the vmlinuz
#   OUTDIR/modules  absolute path of lib/modules/VERSION
#   OUTDIR/vmlinux  absolute path of the uncompressed kernel ELF, when it could
#                   be extracted and the kernel has CONFIG_PVH: qemu then boots
#                   it directly (PVH entry), skipping the ~3 s it takes to
#                   decompress vmlinuz under TCG. Optional: absent = use kernel.
# Idempotent: nothing is downloaded when that package is already unpacked.
# Only Debian packages may be relied on, hence apt-get rather than any URL.
set -euo pipefail

die() { echo "fetch-kernel: ERROR: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

# Writes the two pointer files for an unpacked kernel VERSION.
publish() {
    local ver=$1
    [ -f "$OUT/root/boot/vmlinuz-$ver" ] || return 1
    [ -d "$OUT/root/lib/modules/$ver/kernel" ] || return 1
    echo "$OUT/root/boot/vmlinuz-$ver" > "$OUT/kernel.tmp" && mv "$OUT/kernel.tmp" "$OUT/kernel"
    echo "$OUT/root/lib/modules/$ver" > "$OUT/modules.tmp" && mv "$OUT/modules.tmp" "$OUT/modules"
    rm -f "$OUT/vmlinux"
    if [ -s "$OUT/vmlinux-$ver" ] || extract_vmlinux "$ver"; then
        echo "$OUT/vmlinux-$ver" > "$OUT/vmlinux"
    fi
}

# vmlinuz is a bzImage whose payload is an xz stream (CONFIG_KERNEL_XZ on
# Debian); the uncompressed ELF is bootable by qemu only with a PVH note.
extract_vmlinux() {
    local ver=$1 off
    grep -qx 'CONFIG_PVH=y' "$OUT/root/boot/config-$ver" 2>/dev/null || return 1
    command -v xz >/dev/null && command -v python3 >/dev/null || return 1
    off=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(b"\xfd7zXZ\0"))' \
          "$OUT/root/boot/vmlinuz-$ver") || return 1
    [ "$off" -gt 0 ] || return 1
    # xz stops at the end of its stream: tail then gets SIGPIPE, which is fine
    # (hence the process substitution, out of reach of pipefail).
    xz -dc --single-stream < <(tail -c +$((off + 1)) "$OUT/root/boot/vmlinuz-$ver") > "$OUT/vmlinux-$ver.tmp" 2>/dev/null \
        && [ "$(head -c 4 "$OUT/vmlinux-$ver.tmp")" = $'\x7fELF' ] \
        && mv "$OUT/vmlinux-$ver.tmp" "$OUT/vmlinux-$ver" && return 0
    echo "fetch-kernel: note: could not extract vmlinux; booting the compressed kernel (slower)" >&2
    rm -f "$OUT/vmlinux-$ver.tmp"; return 1
}

# "Depends: linux-image-6.1.0-NN-amd64" -> linux-image-6.1.0-NN-amd64
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1 || true)

if [ -z "$pkg" ]; then
    # No apt lists (or an old mirror): a kernel already unpacked is still good.
    if [ -s "$OUT/kernel" ] && [ -f "$(cat "$OUT/kernel")" ] && [ -d "$(cat "$OUT/modules")" ]; then
        echo "fetch-kernel: WARNING: apt-cache does not know linux-image-amd64; using cached $(cat "$OUT/kernel")" >&2
        exit 0
    fi
    die "apt-cache knows no linux-image-amd64 dependency (no package lists?). Run 'apt-get update' and retry."
fi
ver=${pkg#linux-image-}

if publish "$ver"; then
    exit 0       # already unpacked: nothing to do
fi

echo "fetch-kernel: downloading $pkg into $OUT" >&2
# apt-get download writes into the current directory and drops privileges to
# the _apt user; give it a private directory it can write to so there is no
# "unsandboxed download" warning. Falls back to root if _apt does not exist.
dl=$(mktemp -d "$OUT/download.XXXXXX")
trap 'rm -rf "$dl"' EXIT
chmod 755 "$dl"
if id _apt >/dev/null 2>&1; then chown _apt "$dl" 2>/dev/null || true; fi
(cd "$dl" && apt-get download -q "$pkg") || die "apt-get download $pkg failed (run 'apt-get update'? network?)"
debs=("$dl"/*.deb)
deb=${debs[0]}
[ -f "$deb" ] || die "apt-get download produced no .deb for $pkg"

# Unpack into a scratch dir first so an interrupted dpkg -x never leaves a
# half-unpacked tree that publish() would accept next time.
dpkg -x "$deb" "$dl/root" || die "dpkg -x $deb failed"
if [ -d "$OUT/root" ]; then cp -a "$dl/root/." "$OUT/root/"; else mv "$dl/root" "$OUT/root"; fi
# the .deb itself is not kept (70 MB): the unpacked tree is the cache
publish "$ver" || die "$pkg unpacked but vmlinuz-$ver or lib/modules/$ver is missing"
echo "fetch-kernel: kernel $(cat "$OUT/kernel")" >&2

#!/bin/bash
# `make deploytest`: the files under deploy/ checked on this host, no VM,
# no container engine, no cluster (under a minute; the image is built and
# run, and the package installed, in the systemd VM: tests/vm/systemd/):
#   systemd     `make install` puts the unit and slice where it says, with
#               ExecStart= at $(SBINDIR); `systemd-analyze verify` finds
#               nothing to say about them; the offline security score;
#               the invariants guardian depends on (cgroupfs writable, ...)
#   kubernetes  the manifests against the upstream API schemas (strict:
#               unknown fields are errors), and the ConfigMap's policy
#               through `guardian check`
#   container   make static; the Containerfile, statically
#               (tests/deploy/check_containerfile.py); the run line
#               deploy/container/run.txt shown in the README and the
#               DaemonSet agreeing with it (tests/deploy/check_run_args.py)
#   debian      make deb (dpkg-buildpackage -us -uc -b in build/deb/src),
#               what the package holds, lintian without an error
#   all         the capability set is the same in the unit, the DaemonSet,
#               the run line and the README
# Each checker is also shown a broken copy and must reject it.
# Needs: build/guardian, systemd-analyze (Debian: systemd), node and
# tests/deploy/node_modules (`make deploy-deps`, part of `make deps`),
# dpkg-buildpackage, debhelper, lintian and python3-yaml (`make deps`; run
# with Debian's /usr/bin/python3, whose yaml module that package is).
# Prints one line per check and "deploy: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
REPO=$PWD
GUARDIAN=${GUARDIAN:-$REPO/build/guardian}
UNIT=deploy/systemd/guardian.service
SLICE=deploy/systemd/guardian.slice
K8S=deploy/kubernetes/guardian.yaml
CONTAINERFILE=deploy/container/Containerfile
CHECK_NAME=deploy
. tests/lib/check.sh
TMP=$(mktemp -d /tmp/gd-deploytest-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

unit_value() {   # unit_value FILE KEY -> the last assignment's value
    sed -n "s/^$2=//p" "$1" | tail -1
}

[ -x "$GUARDIAN" ] || { check "guardian binary $GUARDIAN exists (make build/guardian)" 1; finish; }

# ---------------------------------------------------------------- systemd
echo "--- systemd"
make -s install DESTDIR="$TMP/root" >"$TMP/install.log" 2>&1
check "make install (DESTDIR)" $? "$(tail -5 "$TMP/install.log")"
UDIR=$TMP/root/usr/local/lib/systemd/system
[ -f "$UDIR/guardian.service" ] && [ -f "$UDIR/guardian.slice" ]
check "make install puts guardian.service and guardian.slice in /usr/local/lib/systemd/system" $?
exec_start=$(unit_value "$UDIR/guardian.service" ExecStart)
[ "$exec_start" = "/usr/local/sbin/guardian run" ] && [ -x "$TMP/root/usr/local/sbin/guardian" ]
check "the installed ExecStart= runs the installed binary (/usr/local/sbin/guardian run)" $? "$exec_start"
make -s install DESTDIR="$TMP/opt" PREFIX=/opt/gd >/dev/null 2>&1
exec_start=$(unit_value "$TMP/opt/opt/gd/lib/systemd/system/guardian.service" ExecStart)
[ "$exec_start" = "/opt/gd/sbin/guardian run" ]
check "PREFIX=/opt/gd: ExecStart= follows SBINDIR" $? "$exec_start"
make -s uninstall DESTDIR="$TMP/opt" PREFIX=/opt/gd >/dev/null 2>&1
[ -z "$(find "$TMP/opt" -type f)" ]
check "make uninstall removes every file install put there" $? "$(find "$TMP/opt" -type f)"

if command -v systemd-analyze >/dev/null; then
    # verify needs ExecStart='s binary to exist: a copy of the installed
    # unit pointing at the installed binary, beside the slice it names.
    mkdir -p "$TMP/verify"
    sed "s|^ExecStart=/usr/local/sbin/guardian|ExecStart=$TMP/root/usr/local/sbin/guardian|" \
        "$UDIR/guardian.service" > "$TMP/verify/guardian.service"
    cp "$UDIR/guardian.slice" "$TMP/verify/"
    out=$(cd "$TMP/verify" && systemd-analyze verify --man=no ./guardian.service ./guardian.slice 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] && [ -z "$out" ]
    check "systemd-analyze verify: the unit and slice load without a warning" $? "rc=$rc: $out"
    # A broken copy: the misspelled key must be reported (else the check
    # above proves nothing).
    sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$TMP/verify/guardian.service" \
        > "$TMP/verify/broken.service"
    out=$(cd "$TMP/verify" && systemd-analyze verify --man=no ./broken.service 2>&1)
    grep -q "Unknown key 'ProtectSytem'" <<<"$out"
    check "systemd-analyze verify reports a broken copy (misspelled key)" $? "$out"
    sec=$(cd "$TMP/verify" && systemd-analyze security --offline=true --no-pager ./guardian.service 2>&1 |
          grep -a "Overall exposure level")
    echo "info deploy: $(sed 's/^→ //' <<<"$sec")"
    grep -Eq "level for guardian.service: [0-9.]+ (OK|SAFE|PERFECT)" <<<"$sec"
    check "systemd-analyze security --offline: OK or better (not MEDIUM, EXPOSED or UNSAFE)" $? "$sec"
    for sc in process_mrelease seccomp; do
        systemd-analyze syscall-filter @known 2>/dev/null | grep -qx "    $sc"
        check "this systemd knows the extra syscall $sc in SystemCallFilter=" $?
    done
else
    check "systemd-analyze is installed (Debian: systemd; make deps)" 1
fi
# What guardian needs of the sandbox, so that a hardening edit cannot
# silently break it.
[ "$(unit_value $UNIT Type)" = notify ] && [ "$(unit_value $UNIT NotifyAccess)" = main ] &&
    [ -n "$(unit_value $UNIT WatchdogSec)" ]
check "unit: Type=notify, NotifyAccess=main, a WatchdogSec= (daemon/sdnotify.c)" $?
unit_value $UNIT ReadWritePaths | grep -qw /sys/fs/cgroup &&
    ! grep -Eq '^ProtectControlGroups=(yes|true|1|on)' $UNIT
check "unit: /sys/fs/cgroup writable (ReadWritePaths=, no ProtectControlGroups=yes)" $?
! grep -Eq '^ProtectProc=(invisible|noaccess|ptraceable)|^ProcSubset=pid' $UNIT
check "unit: every process's /proc visible (ProtectProc=default, ProcSubset=all)" $?
[ "$(unit_value $UNIT OOMScoreAdjust)" = -1000 ] && [ "$(unit_value $UNIT Restart)" = always ] &&
    [ "$(unit_value $UNIT Slice)" = guardian.slice ] && [ -n "$(unit_value $SLICE MemoryMin)" ]
check "unit: OOMScoreAdjust=-1000, Restart=always, MemoryMin= on its own top-level slice" $?

# ------------------------------------------------------------- kubernetes
echo "--- kubernetes"
if ! command -v node >/dev/null || [ ! -d tests/deploy/node_modules/kubernetes-models ]; then
    check "node and tests/deploy/node_modules (make deploy-deps)" 1
else
    out=$(node tests/deploy/check_k8s.js $K8S --extract-configmap guardian-policy guardian.yaml \
          "$TMP/policy.yaml" 2>&1)
    rc=$?
    sed 's/^/info deploy: /' <<<"$out"
    for kind in Namespace ConfigMap DaemonSet; do
        grep -q "^ok $kind/" <<<"$out"
        check "$K8S: the $kind matches the Kubernetes API schema (strict)" $?
    done
    check "$K8S: no document rejected" $rc "$out"
    out=$("$GUARDIAN" check "$TMP/policy.yaml" 2>&1)
    check "the ConfigMap's policy passes guardian check" $? "$out"
    # Where guardian looks by default is where the ConfigMap is mounted.
    dir=$(sed -n 's/^#define POL_DEFAULT_DIR "\(.*\)"/\1/p' policy/source.h)
    grep -q "mountPath: $dir\$" $K8S
    check "the ConfigMap is mounted at guardian's default policy dir ($dir)" $?
    # Broken copies: each must be rejected.
    sed 's/hostPID: true/hostPid: true/' $K8S > "$TMP/typo.yaml"
    out=$(node tests/deploy/check_k8s.js "$TMP/typo.yaml" 2>&1)
    [ $? -ne 0 ] && grep -q "hostPid: unknown field" <<<"$out"
    check "a broken copy is rejected: misspelled field (hostPid)" $? "$out"
    sed 's/memory: 128Mi/memory: 128 MiB/' $K8S > "$TMP/quantity.yaml"
    out=$(node tests/deploy/check_k8s.js "$TMP/quantity.yaml" 2>&1)
    [ $? -ne 0 ] && grep -q 'memory must match format "quantity"' <<<"$out"
    check "a broken copy is rejected: a memory quantity that is not one" $? "$out"
    sed 's/type: RuntimeDefault/type: Runtime/' $K8S > "$TMP/enum.yaml"
    out=$(node tests/deploy/check_k8s.js "$TMP/enum.yaml" 2>&1)
    [ $? -ne 0 ] && grep -q "seccompProfile/type must be equal to one of the allowed values" <<<"$out"
    check "a broken copy is rejected: seccompProfile type not in the enum" $? "$out"
    sed 's/near_limit: 95%/near_limit: 195%/' "$TMP/policy.yaml" > "$TMP/badpolicy.yaml"
    ! "$GUARDIAN" check "$TMP/badpolicy.yaml" >/dev/null 2>&1
    check "a broken ConfigMap policy is rejected by guardian check" $?
fi

# -------------------------------------------------------------- container
echo "--- container"
# What the image holds: make static (the VM test builds the image from it).
make -s build/guardian-static >"$TMP/static.log" 2>&1
check "make static builds build/guardian-static" $? "$(tail -5 "$TMP/static.log")"
out=$(python3 tests/deploy/check_containerfile.py $CONTAINERFILE 2>&1)
rc=$?
sed 's/^/info deploy: /' <<<"$out"
line=$(grep -E '^containerfile: [0-9]+ passed, [0-9]+ failed$' <<<"$out")
p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
[ "$rc" -eq 0 ] && [ "${p:-0}" -gt 0 ]
check "the Containerfile: ${p:-0} static checks pass" $? "$(grep FAIL <<<"$out")"
sed 's|^COPY build/guardian-static |COPY build/guardian-statik |' $CONTAINERFILE > "$TMP/Containerfile"
out=$(python3 tests/deploy/check_containerfile.py "$TMP/Containerfile" 2>&1)
[ $? -ne 0 ] && grep -q "FAIL containerfile: COPY build/guardian-statik: in the build context" <<<"$out"
check "a broken Containerfile is rejected (COPY of a missing source)" $? "$(tail -3 <<<"$out")"
sed 's|^COPY build/guardian-static |COPY build/guardian |' $CONTAINERFILE > "$TMP/Containerfile2"
out=$(python3 tests/deploy/check_containerfile.py "$TMP/Containerfile2" 2>&1)
[ $? -ne 0 ] && grep -q "FAIL containerfile: COPY build/guardian: not excluded by .dockerignore" <<<"$out" &&
    grep -q "FAIL containerfile: COPY build/guardian: a static binary" <<<"$out"
check "a broken Containerfile is rejected (the dynamic binary, ignored by .dockerignore)" $? \
    "$(tail -3 <<<"$out")"

# The run line: one file, the README and the DaemonSet held to it.
out=$(/usr/bin/python3 tests/deploy/check_run_args.py 2>&1)
rc=$?
sed 's/^/info deploy: /' <<<"$out"
line=$(grep -E '^run-args: [0-9]+ passed, [0-9]+ failed$' <<<"$out")
p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
[ "$rc" -eq 0 ] && [ "${p:-0}" -gt 0 ]
check "deploy/container/run.txt: the README shows it, the DaemonSet agrees (${p:-0} checks)" $? \
    "$(grep FAIL <<<"$out")"
sed 's|mountPath: /run/guardian$|mountPath: /run/guardian-elsewhere|' $K8S > "$TMP/k8s-nomount.yaml"
out=$(/usr/bin/python3 tests/deploy/check_run_args.py deploy/container/run.txt "$TMP/k8s-nomount.yaml" 2>&1)
[ $? -ne 0 ] && grep -q "FAIL run-args: --tmpfs /run/guardian:mode=0700: an emptyDir" <<<"$out"
check "a DaemonSet without the run line's /run/guardian mount is rejected" $? "$(grep FAIL <<<"$out")"
sed 's|--read-only |--read-only --privileged |' deploy/container/run.txt > "$TMP/run.txt"
out=$(/usr/bin/python3 tests/deploy/check_run_args.py "$TMP/run.txt" 2>&1)
[ $? -ne 0 ] && grep -q "FAIL run-args: --privileged: a DaemonSet counterpart known" <<<"$out" &&
    grep -q "FAIL run-args: README.md shows deploy/container/run.txt verbatim" <<<"$out"
check "a run line with an argument the check does not know (and not in the README) is rejected" $? \
    "$(grep FAIL <<<"$out")"

# ---------------------------------------------------------- debian package
echo "--- debian package"
make -s deb >"$TMP/deb.log" 2>&1
rc=$?
deb=$(ls build/deb/guardian_*_*.deb 2>/dev/null | grep -v dbgsym)
[ "$rc" -eq 0 ] && [ -n "$deb" ]
check "make deb: dpkg-buildpackage -us -uc -b in build/deb/src builds $deb" $? "$(tail -20 "$TMP/deb.log")"
[ -z "$(find .. -maxdepth 1 -name 'guardian*.deb' -o -maxdepth 1 -name 'guardian*.changes' \
        -o -maxdepth 1 -name 'guardian*.buildinfo')" ]
check "nothing written beside the tree (no ../guardian_*)" $?
if [ -n "$deb" ]; then
    files=$(dpkg-deb -c "$deb" | awk '{print $6}')
    for f in ./usr/sbin/guardian ./lib/systemd/system/guardian.service ./lib/systemd/system/guardian.slice \
             ./usr/share/man/man8/guardian.8.gz ./usr/share/man/man5/guardian.yaml.5.gz \
             ./etc/guardian/policy.d/guardian.yaml ./var/lib/guardian/; do
        grep -qx -- "$f" <<<"$files"
        check "the package holds $f" $?
    done
    conf=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles 2>/dev/null)
    [ "$conf" = /etc/guardian/policy.d/guardian.yaml ]
    check "its one conffile is /etc/guardian/policy.d/guardian.yaml" $? "$conf"
    postinst=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst 2>/dev/null)
    grep -q "deb-systemd-helper enable 'guardian.service'" <<<"$postinst" &&
        grep -q "deb-systemd-invoke \$_dh_action 'guardian.service'" <<<"$postinst"
    check "dh_installsystemd: the postinst enables and starts guardian.service" $?
    if command -v lintian >/dev/null; then
        out=$(lintian --fail-on error "${deb%.deb}.changes" 2>&1)
        rc=$?
        sed 's/^/info deploy: lintian: /' <<<"$out"
        [ "$rc" -eq 0 ] && ! grep -q '^E: ' <<<"$out"
        check "lintian: no errors" $? "$(grep '^E: ' <<<"$out")"
        # A broken copy: a package without a copyright file is an error
        # lintian must report (else the check above proves nothing).
        mkdir -p "$TMP/broken"
        dpkg-deb -R "$deb" "$TMP/broken/pkg" &&
            rm "$TMP/broken/pkg/usr/share/doc/guardian/copyright" &&
            sed -i '/usr\/share\/doc\/guardian\/copyright/d' "$TMP/broken/pkg/DEBIAN/md5sums" &&
            dpkg-deb -b "$TMP/broken/pkg" "$TMP/broken/guardian_0.1.0_amd64.deb" >/dev/null
        out=$(lintian --fail-on error "$TMP/broken/guardian_0.1.0_amd64.deb" 2>&1)
        [ $? -ne 0 ] && grep -q '^E: guardian: no-copyright-file' <<<"$out"
        check "lintian fails a broken copy (no copyright file)" $? "$out"
    else
        check "lintian is installed (make deps)" 1
    fi
fi

# ------------------------------------------------ one capability set for all
echo "--- capabilities"
caps_unit=$(unit_value $UNIT CapabilityBoundingSet | tr ' ' '\n' | sed 's/^CAP_//' | sort | tr '\n' ' ')
caps_k8s=$(sed -n 's/^ *add: \[\(.*\)\]/\1/p' $K8S | tr -d ' ' | tr ',' '\n' | sort | tr '\n' ' ')
caps_cf=$(grep -o -- '--cap-add=[A-Z_]*' deploy/container/run.txt | sed 's/--cap-add=//' | sort | tr '\n' ' ')
caps_readme=$(grep -o -- '--cap-add=[A-Z_]*' README.md | sed 's/--cap-add=//' | sort -u | tr '\n' ' ')
echo "info deploy: capabilities: $caps_unit"
[ -n "$caps_unit" ] && [ "$caps_unit" = "$caps_k8s" ] && [ "$caps_unit" = "$caps_cf" ] &&
    [ "$caps_unit" = "$caps_readme" ]
check "the same capabilities in the unit, the DaemonSet, the run line and the README" $? \
    "unit [$caps_unit] k8s [$caps_k8s] run.txt [$caps_cf] README [$caps_readme]"

finish

#!/bin/bash
# `make deploytest`: the files under deploy/ checked on this host, no VM,
# no container engine, no cluster (a few seconds):
#   systemd     `make install` puts the unit and slice where it says, with
#               ExecStart= at $(SBINDIR); `systemd-analyze verify` finds
#               nothing to say about them; the offline security score;
#               the invariants guardian depends on (cgroupfs writable, ...)
#   kubernetes  the manifests against the upstream API schemas (strict:
#               unknown fields are errors), and the ConfigMap's policy
#               through `guardian check`
#   container   the Containerfile, statically and with its build stage's
#               commands run here (tests/deploy/check_containerfile.py)
#   all         the capability set is the same in the unit, the DaemonSet,
#               the Containerfile's run line and the README
# Each checker is also shown a broken copy and must reject it.
# Needs: build/guardian, systemd-analyze (Debian: systemd), node and
# tests/deploy/node_modules (`make deploy-deps`, part of `make deps`).
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
out=$(python3 tests/deploy/check_containerfile.py $CONTAINERFILE 2>&1)
rc=$?
sed 's/^/info deploy: /' <<<"$out"
line=$(grep -E '^containerfile: [0-9]+ passed, [0-9]+ failed$' <<<"$out")
p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
[ "$rc" -eq 0 ] && [ "${p:-0}" -gt 0 ]
check "the Containerfile: ${p:-0} static and build-stage checks pass" $? "$(grep FAIL <<<"$out")"
sed 's|^COPY policy/ policy/|COPY policies/ policies/|' $CONTAINERFILE > "$TMP/Containerfile"
out=$(python3 tests/deploy/check_containerfile.py "$TMP/Containerfile" --no-build 2>&1)
[ $? -ne 0 ] && grep -q "FAIL containerfile: COPY policies/: in the build context" <<<"$out"
check "a broken Containerfile is rejected (COPY of a missing source)" $? "$(tail -3 <<<"$out")"
grep -v '^COPY policy/ policy/' $CONTAINERFILE > "$TMP/Containerfile2"
out=$(python3 tests/deploy/check_containerfile.py "$TMP/Containerfile2" 2>&1)
[ $? -ne 0 ] && grep -q "FAIL containerfile: build stage RUN succeeds" <<<"$out"
check "a broken Containerfile is rejected (build stage lacks a source dir)" $? "$(tail -3 <<<"$out")"

# ------------------------------------------------ one capability set for all
echo "--- capabilities"
caps_unit=$(unit_value $UNIT CapabilityBoundingSet | tr ' ' '\n' | sed 's/^CAP_//' | sort | tr '\n' ' ')
caps_k8s=$(sed -n 's/^ *add: \[\(.*\)\]/\1/p' $K8S | tr -d ' ' | tr ',' '\n' | sort | tr '\n' ' ')
caps_cf=$(grep -o -- '--cap-add=[A-Z_]*' $CONTAINERFILE | sed 's/--cap-add=//' | sort | tr '\n' ' ')
caps_readme=$(grep -o -- '--cap-add=[A-Z_]*' README.md | sed 's/--cap-add=//' | sort -u | tr '\n' ' ')
echo "info deploy: capabilities: $caps_unit"
[ -n "$caps_unit" ] && [ "$caps_unit" = "$caps_k8s" ] && [ "$caps_unit" = "$caps_cf" ] &&
    [ "$caps_unit" = "$caps_readme" ]
check "the same capabilities in the unit, the DaemonSet, the Containerfile and the README" $? \
    "unit [$caps_unit] k8s [$caps_k8s] Containerfile [$caps_cf] README [$caps_readme]"

finish

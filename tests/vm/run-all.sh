#!/bin/bash
# Host side of `make vmtest`: two VM boots, one after the other (a boot costs
# ~10 s under TCG, so tests share them). The first runs every tests/vm/test_*
# with stage2.sh as PID 1; the second boots systemd as PID 1 (vm-run.sh
# --systemd) for tests/vm/systemd/test_*: the Debian package under the
# shipped unit, the container image built and run with podman, and the
# real runtimes (Docker, containerd, Podman) of test_30_runtimes. Extra
# arguments name single tests; only the boots they need run.
set -uo pipefail
cd "$(dirname "$0")/../.."
plain=() systemd=()
for t in "$@"; do
    case $t in tests/vm/systemd/*) systemd+=("$t") ;; *) plain+=("$t") ;; esac
done
rc=0
if [ $# -eq 0 ] || [ ${#plain[@]} -gt 0 ]; then
    tests/vm/vm-run.sh --timeout "${GDVM_TIMEOUT:-1500}" --mem 1024 -- tests/vm/in-vm.sh "${plain[@]}" || rc=$?
fi
# GD_IDENT_SCENARIO=0: test_30_runtimes leaves out guardian's container
# identity scenario (the runtimes' harness alone).
envs=()
if [ -n "${GD_IDENT_SCENARIO:-}" ]; then envs+=(--env "GD_IDENT_SCENARIO=$GD_IDENT_SCENARIO"); fi
# The systemd boot's limit: it ran 403-571 s on 2026-12-04 (2 cores, TCG,
# the host shared), test_30_runtimes' Docker and Podman 53-150 s of it; a
# limit is for a hung VM, not for a slow host.
if [ $# -eq 0 ] || [ ${#systemd[@]} -gt 0 ]; then
    tests/vm/vm-run.sh --systemd --timeout "${GDVM_SYSTEMD_TIMEOUT:-900}" --mem 1024 "${envs[@]}" -- \
        tests/vm/in-vm.sh "${systemd[@]}" || rc=$?
fi
exit "$rc"

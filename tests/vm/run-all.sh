#!/bin/bash
# Host side of `make vmtest`: one VM boot runs every VM test (a boot costs
# ~10 s under TCG, so tests share it). Extra arguments name single tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec tests/vm/vm-run.sh --timeout "${GDVM_TIMEOUT:-1500}" --mem 1024 -- tests/vm/in-vm.sh "$@"

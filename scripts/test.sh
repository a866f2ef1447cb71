#!/usr/bin/env bash
# Sets everything up (idempotent), builds, and runs the whole test suite:
# unit tests, parity with transformers (tiny models of every family and the
# real SmolLM2-135M), the CLI end to end, and a bounded fuzz run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$FINCH_ROOT/scripts/setup.sh"
bash "$FINCH_ROOT/scripts/build.sh"
cd "$FINCH_BUILD"
ctest --output-on-failure -j "$(nproc)" "$@"

#!/usr/bin/env bash
# Configures (once) and builds finch with CMake, Ninja and ccache.
# Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
torch_dir="$("$FINCH_PYTHON" -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
if [ ! -f "$FINCH_BUILD/build.ninja" ]; then
  cmake -S "$FINCH_ROOT" -B "$FINCH_BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE="${FINCH_BUILD_TYPE:-Release}" \
    -DCMAKE_PREFIX_PATH="$torch_dir" \
    -DFINCH_PYTHON="$FINCH_PYTHON" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
fi
# Two cores and libtorch's heavy headers: one compile job per core, no more.
cmake --build "$FINCH_BUILD" -j "$(nproc)" ${1:+--target "$@"}

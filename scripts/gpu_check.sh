#!/usr/bin/env bash
# On a machine with a CUDA GPU: builds finch against that machine's torch
# (FINCH_PYTHON, default python3, must hold torch, transformers and the test
# references' packages) into build-gpu, runs the forward benchmark on the GPU
# side by side with transformers, then the test suite (the CUDA parity cases
# exist only where a GPU is). Output and results go to FINCH_GPU_OUT (default
# build-gpu/report). Extra arguments go to ctest (e.g. -E to leave tests out).
# Usage: scripts/gpu_check.sh [ctest args...]
set -uo pipefail
export FINCH_PYTHON="$(command -v "${FINCH_PYTHON:-python3}")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FINCH_BUILD="${FINCH_BUILD:-$root/build-gpu}"
source "$root/scripts/env.sh"
out="${FINCH_GPU_OUT:-$FINCH_BUILD/report}"
mkdir -p "$out"
stamp() { echo "== $(date +%T) $*"; }

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$FINCH_PYTHON" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "| transformers", transformers.__version__)'

stamp "build finch"
bash "$root/scripts/build.sh" finch || exit 1
"$FINCH_BUILD/finch" env

stamp "forward benchmark"
models="$FINCH_BUILD/bench-models"
for shape in smollm2-135m llama3.2-1b; do
  [ -d "$models/$shape" ] || "$FINCH_PYTHON" "$root/bench/random_model.py" "$shape" "$models/$shape" >/dev/null 2>&1
  "$FINCH_PYTHON" "$root/bench/forward_bench.py" --finch "$FINCH_BUILD/finch" --model "$models/$shape" \
    --device cuda --dtype bf16 --rows 32 --seq 1024 --batch-size 8 --warmup 2 --repeats "${FINCH_GPU_REPEATS:-2}" \
    --threads 8 | tee "$out/forward_$shape.txt"
done

stamp "build everything"
bash "$root/scripts/build.sh" || exit 1
stamp "tests"
cd "$FINCH_BUILD" && ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@" 2>&1 | tee "$out/ctest.txt"
stamp "done"

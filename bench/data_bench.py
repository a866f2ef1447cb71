"""Dataset preparation + tokenization throughput: `finch data prepare --tokenize`
versus the Python stack doing the same work, one run side by side, cold caches.

Both sides: read a JSONL of N rows (instruction/input/output), build input and
output with the seed's default templates, split 90/5/5 with seed 42
(datasets.train_test_split twice), write the three JSONL splits, and tokenize
every row with the seed's recipe (input ids + output ids + EOS, labels -100 over
the input). Python uses datasets (pyarrow JSON reader, Dataset.map) with the
fast tokenizer batched (its Rust side uses every core); finch uses
data.num_proc threads (default: every core).

Usage: python bench/data_bench.py MODEL_DIR [--rows 1000000] [--finch build/finch]
Prints one table: wall seconds, rows/s, peak RSS, tokens, and finch's ratios.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("the of and to in is was for on that with as by at from his her an were which this be are has had "
         "it not but have they one their all been who would there more when what so if out about up into "
         "time year people way day man thing woman life child world school state family student group "
         "country problem hand part place case week company system program question work government number "
         "night point home water room mother area money story fact month lot right study book eye job word "
         "business issue side kind head house service friend father power hour game line end member law car "
         "city community name president team minute idea kid body information back parent face others level "
         "office door health person art war history party result change morning reason research girl guy "
         "1 2 3 42 100 2024 3.14 , . ; : ? ! ( ) \" ' - Hello World Paris London Python C++").split()


def make_rows(path, n):
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            def text(lo, hi):
                return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))
            f.write(json.dumps({"instruction": text(25, 65), "input": text(0, 80) if i % 3 else "",
                                "output": text(55, 130)}) + "\n")


PYTHON_SIDE = r"""
import json, os, resource, sys, time
import datasets
from transformers import AutoTokenizer
datasets.disable_progress_bars()
data, model, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
tok = AutoTokenizer.from_pretrained(model)
INPUT = "### Instruction:\n{instruction}\n ### Input:\n{input}\n"
OUTPUT = "### Response:\n{output}"
ds = datasets.load_dataset("json", data_files=data, split="train")
ds = ds.map(lambda r: {"input": INPUT.format(**r), "output": OUTPUT.format(**r)},
            remove_columns=ds.column_names)
first = ds.train_test_split(test_size=1 - 0.9, seed=42)
second = first["test"].train_test_split(test_size=0.5, seed=42)
splits = {"training": first["train"], "validation": second["train"], "test": second["test"]}
eos = tok.eos_token_id
def recipe(batch):
    ins = tok(batch["input"], add_special_tokens=True)["input_ids"]
    outs = tok(batch["output"], add_special_tokens=False)["input_ids"]
    ids, labels = [], []
    for a, b in zip(ins, outs):
        b = b + [eos] if not b or b[-1] != eos else b
        ids.append(a + b)
        labels.append([-100] * len(a) + b)
    return {"input_ids": ids, "labels": labels}
tokens = 0
for name, split in splits.items():
    split.to_json(os.path.join(out, name + ".jsonl"), lines=True, force_ascii=False)
    t = split.map(recipe, batched=True, batch_size=1000, remove_columns=["input", "output"])
    tokens += sum(len(x) for x in t["input_ids"])
print(json.dumps({"seconds": time.perf_counter() - t0, "tokens": tokens,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_timed(cmd, env=None):
    """Runs a child; returns (seconds, peak RSS of the child in MB, completed process)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    peak_kb = int(p.stderr.strip().splitlines()[-1])
    return seconds, peak_kb / 1024, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--finch", default=str(ROOT / "build" / "finch"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finch_data_bench_"))
    data = work / "rows.jsonl"
    make_rows(data, args.rows)
    print(f"{args.rows} rows, {data.stat().st_size / 1e6:.0f} MB of JSONL, {os.cpu_count()} cores")

    f_s, f_mb, p = run_timed([args.finch, "data", "prepare", "--hfdc_dataset_name", str(data), "--tokenize",
                              "--hf_model_id", args.model_dir, "--data.datasets_dir", str(work / "finch"),
                              "--data.max_seq_length", "100000"])
    f_tokens = sum(int(line.split(" rows, ")[1].split(" tokens")[0])
                   for line in p.stderr.splitlines() if " rows, " in line and " tokens" in line)
    py_out = work / "python"
    py_out.mkdir()
    env = {**os.environ, "HF_DATASETS_CACHE": str(work / "hf_cache"), "TOKENIZERS_PARALLELISM": "true"}
    py_s, py_mb, p = run_timed([sys.executable, "-c", PYTHON_SIDE, str(data), args.model_dir, str(py_out)], env=env)
    py = json.loads(p.stdout.strip().splitlines()[-1])

    finch_dir = next((work / "finch").rglob("training.jsonl")).parent
    same = all((finch_dir / f"{s}.jsonl").read_bytes().count(b"\n") == (py_out / f"{s}.jsonl").read_bytes().count(b"\n")
               for s in ("training", "validation", "test"))
    print(f"\n| side | wall s | rows/s | peak RSS MB | tokens |\n|---|---|---|---|---|")
    print(f"| finch data prepare --tokenize | {f_s:.1f} | {args.rows / f_s:,.0f} | {f_mb:,.0f} | {f_tokens:,} |")
    print(f"| datasets + fast tokenizer | {py_s:.1f} | {args.rows / py_s:,.0f} | {py_mb:,.0f} | {py['tokens']:,} |")
    print(f"\nfinch / Python: {py_s / f_s:.2f}x rows/s, {f_mb / py_mb:.2f}x peak memory; "
          f"same token count: {f_tokens == py['tokens']}; same split sizes: {same}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

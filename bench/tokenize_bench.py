"""Tokenizer encoding throughput: finch versus HF tokenizers (encode_batch) on
the same text, single thread and all threads, one run side by side.

Usage: python bench/tokenize_bench.py MODEL_DIR [--mb 50] [--finch build/bench/finch_tokenize_bench]
The text is made deterministically from tests/parity/gen/tokenizer_strings.py
(many scripts, code, numbers, whitespace runs), one document per line.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_text(path, mb):
    sys.path.insert(0, str(ROOT / "tests/parity/gen"))
    from tokenizer_strings import make_strings
    pool = [s.replace("\n", " ").replace("\r", " ") for s in make_strings(20000, seed=7)]
    target = int(mb * 1e6)
    with open(path, "w", encoding="utf-8") as f:
        written, i = 0, 0
        while written < target:
            doc = " ".join(pool[(i * 7 + k) % len(pool)] for k in range(40))
            f.write(doc + "\n")
            written += len(doc.encode()) + 1
            i += 1


def hf_run(model_dir, text_file, threads):
    code = f"""
import json, os, time
from tokenizers import Tokenizer
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained({str(model_dir)!r}).backend_tokenizer
tok.no_truncation(); tok.no_padding()
docs = open({str(text_file)!r}, encoding="utf-8").read().split("\\n")[:-1]
mb = sum(len(d.encode()) for d in docs) / 1e6
t = time.perf_counter()
enc = tok.encode_batch(docs, add_special_tokens=False)
s = time.perf_counter() - t
print(json.dumps({{"seconds": s, "mb_per_s": mb / s, "tokens": sum(len(e.ids) for e in enc)}}))
"""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--finch", default=str(ROOT / "build/bench/finch_tokenize_bench"))
    ap.add_argument("--text", default="/tmp/finch_tokenize_bench.txt")
    args = ap.parse_args()
    if not Path(args.text).exists() or abs(Path(args.text).stat().st_size / 1e6 - args.mb) > 1:
        make_text(args.text, args.mb)
    cores = os.cpu_count()
    finch = json.loads(subprocess.run([args.finch, args.model_dir, args.text], capture_output=True, text=True,
                                      check=True).stdout)
    hf1 = hf_run(args.model_dir, args.text, 1)
    hfn = hf_run(args.model_dir, args.text, cores)
    f1, fn = finch["threads_1"], finch[f"threads_{cores}"]
    print(f"model: {args.model_dir}  text: {finch['mb']:.1f} MB, {finch['docs']} docs, {cores} cores")
    print(f"{'':12} {'finch MB/s':>11} {'HF MB/s':>9} {'ratio':>6}  tokens (finch / HF)")
    for name, f, h in [("1 thread", f1, hf1), (f"{cores} threads", fn, hfn)]:
        print(f"{name:12} {f['mb_per_s']:11.2f} {h['mb_per_s']:9.2f} {f['mb_per_s'] / h['mb_per_s']:6.2f}  "
              f"{f['tokens']} / {h['tokens']}")


if __name__ == "__main__":
    main()

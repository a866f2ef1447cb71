"""Generation throughput and peak memory: `finch generate` versus
transformers' generate, side by side on the same machine, model, prompts,
batch, settings (greedy, fp32, CPU) and thread count, in one run.

Each side runs in its own process; throughput is new tokens (up to and
including each row's EOS) per second of generation (model load excluded: finch's
own timing line, HF's wall time around generate). Peak RSS of each process.

Usage: generate_bench.py --finch BUILD/finch --model DIR [--prompts 16] [--batch-size 16]
                         [--max-new-tokens 128] [--threads N]
"""
import argparse
import json
import os
import re
import sys
import tempfile

from forward_bench import timed

HERE = os.path.dirname(os.path.abspath(__file__))

# Instruction-style prompts of mixed lengths (the workload `finch test` runs).
TOPICS = ["the water cycle", "how a bicycle gear works", "the history of the printing press", "photosynthesis",
          "why the sky is blue", "how vaccines train the immune system", "the rules of chess", "compound interest",
          "how a refrigerator cools", "the causes of the seasons", "what a compiler does", "how bees make honey",
          "the difference between weather and climate", "how a lever multiplies force", "plate tectonics",
          "how the internet routes a message"]


def prompts(n):
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        detail = " Use simple words and give one example." * (i % 3)
        out.append({"prompt": f"Explain {topic} to a curious student.{detail}\n"})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--finch", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    with tempfile.TemporaryDirectory() as tmp:
        pfile = os.path.join(tmp, "prompts.jsonl")
        with open(pfile, "w") as f:
            for p in prompts(a.prompts):
                f.write(json.dumps(p) + "\n")
        out = os.path.join(tmp, "out.jsonl")
        _, err, finch_rss = timed([a.finch, "--threads", str(a.threads), "generate", "--model", a.model, "--input", pfile,
                                   "--output", out, "--batch-size", str(a.batch_size), "--max-new-tokens",
                                   str(a.max_new_tokens), "--temperature", "0", "--dtype", "fp32", "--device", "cpu"],
                                  env)
        m = re.search(r"(\d+) new tokens in ([\d.]+) s", err)
        finch_tokens, finch_s = int(m.group(1)), float(m.group(2))
        hf_out, _, hf_rss = timed([sys.executable, os.path.join(HERE, "hf_generate.py"), a.model, pfile,
                                   str(a.batch_size), str(a.max_new_tokens), str(a.threads)], env)
        hf = json.loads(hf_out.strip().splitlines()[-1])
    finch_tps, hf_tps = finch_tokens / finch_s, hf["new_tokens"] / hf["seconds"]
    print(f"model {a.model}; {a.prompts} prompts, batch {a.batch_size}, {a.max_new_tokens} new tokens at most, "
          f"greedy, fp32, CPU, {a.threads} threads")
    print("|              | new tokens | seconds | new tokens/s | peak RSS MiB |")
    print("|--------------|-----------:|--------:|-------------:|-------------:|")
    print(f"| finch        | {finch_tokens:10d} | {finch_s:7.2f} | {finch_tps:12.1f} | {finch_rss:12.0f} |")
    print(f"| transformers | {hf['new_tokens']:10d} | {hf['seconds']:7.2f} | {hf_tps:12.1f} | {hf_rss:12.0f} |")
    print(f"| finch / HF   |            |         | {finch_tps / hf_tps:11.2f}x | {finch_rss / hf_rss:11.2f}x |")


if __name__ == "__main__":
    main()

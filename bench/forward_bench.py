"""Forward throughput and peak memory: finch versus transformers, side by
side on the same machine, model, ids, batch and thread count, in one run.

Each side runs in its own process under /usr/bin/time (peak RSS), loads the
model, makes `--warmup` untimed passes, then times one pass over the input
(model load excluded). Prints a table with the ratios.

Usage: forward_bench.py --finch BUILD/finch --model DIR [--rows 8] [--seq 256]
                        [--batch-size 4] [--threads N] [--warmup 1] [--repeats 3]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, env):
    """Runs cmd under /usr/bin/time; returns (stdout, stderr, peak RSS in MiB)."""
    r = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB %M", *cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stderr}")
    peak = int(re.search(r"PEAK_RSS_KB (\d+)", r.stderr).group(1)) / 1024
    return r.stdout, r.stderr, peak


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--finch", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="runs of each side; the median is reported")
    a = p.parse_args()

    vocab = json.load(open(os.path.join(a.model, "config.json")))["vocab_size"]
    g = torch.Generator().manual_seed(0)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), TQDM_DISABLE="1", HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = os.path.join(tmp, "ids.jsonl")
        with open(ids_file, "w") as f:
            for _ in range(a.rows):
                f.write(json.dumps({"input_ids": torch.randint(0, vocab, (a.seq,), generator=g).tolist()}) + "\n")
        results = {"finch": [], "transformers": []}
        for _ in range(a.repeats):
            out, err, peak = timed([a.finch, "--threads", str(a.threads), "forward", "--model", a.model,
                                    "--ids-file", ids_file, "--batch-size", str(a.batch_size),
                                    "--warmup", str(a.warmup)], env)
            m = re.search(r"forward: (\d+) tokens in ([\d.]+) s", err)
            results["finch"].append((int(m.group(1)) / float(m.group(2)), peak, json.loads(out)["loss"]))
            out, err, peak = timed([sys.executable, os.path.join(HERE, "hf_forward.py"), a.model, ids_file,
                                    str(a.batch_size), str(a.threads), str(a.warmup)], env)
            r = json.loads(out.strip().splitlines()[-1])
            results["transformers"].append((r["tokens"] / r["seconds"], peak, r["loss"]))

    def median(side, k):
        return statistics.median(x[k] for x in results[side])

    print(f"forward, fp32, CPU, {a.threads} threads, {a.rows} rows x {a.seq} tokens, batch {a.batch_size}, "
          f"median of {a.repeats}, model {a.model}")
    print(f"{'':14}{'tokens/s':>12}{'peak RSS MiB':>14}{'loss':>12}")
    for side in ("finch", "transformers"):
        print(f"{side:14}{median(side, 0):12.1f}{median(side, 1):14.0f}{median(side, 2):12.6f}")
    print(f"{'finch / HF':14}{median('finch', 0) / median('transformers', 0):11.2f}x"
          f"{median('finch', 1) / median('transformers', 1):13.2f}x")


if __name__ == "__main__":
    main()

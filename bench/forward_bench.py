"""Forward throughput and peak memory: finch versus transformers, side by
side on the same machine, model, ids, batch, dtype and device, in one run.

Each side runs in its own process (peak RSS from that process's rusage; on a
GPU also the peak bytes held by the CUDA caching allocator), loads the model,
makes `--warmup` untimed passes, then times one pass over the input (model
load excluded). Prints a table with the ratios; on a GPU also the model FLOP
utilisation (MFU) against `--peak-tflops` (989: H100/H200 SXM dense bf16).

Usage: forward_bench.py --finch BUILD/finch --model DIR [--rows 8] [--seq 256]
                        [--batch-size 4] [--threads N] [--warmup 1] [--repeats 3]
                        [--device cpu|cuda] [--dtype fp32|bf16|fp16] [--peak-tflops 989]
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
    """Runs cmd; returns (stdout, stderr, its own peak RSS in MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{stderr}")
    return stdout, stderr, usage.ru_maxrss / 1024


def forward_flops_per_token(config, seq):
    """Matmul FLOPs of one forward per token: 2 x the non-embedding weights
    used per token (plus lm_head), plus causal attention's QK^T and PV."""
    d, L = config["hidden_size"], config["num_hidden_layers"]
    heads, kv = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    hd = config.get("head_dim") or d // heads
    attn = d * heads * hd * 2 + d * kv * hd * 2
    mlp = 3 * d * config["intermediate_size"]
    weights = L * (attn + mlp) + d * config["vocab_size"]
    return 2 * weights + 2 * L * seq * heads * hd  # causal: half of 2 x (2 T hd) per head


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
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    p.add_argument("--peak-tflops", type=float, default=989.0, help="the device's dense peak for --dtype (MFU)")
    a = p.parse_args()

    config = json.load(open(os.path.join(a.model, "config.json")))
    g = torch.Generator().manual_seed(0)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), TQDM_DISABLE="1", HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = os.path.join(tmp, "ids.jsonl")
        with open(ids_file, "w") as f:
            for _ in range(a.rows):
                ids = torch.randint(0, config["vocab_size"], (a.seq,), generator=g).tolist()
                f.write(json.dumps({"input_ids": ids}) + "\n")
        results = {"finch": [], "transformers": []}
        for _ in range(a.repeats):
            out, err, peak = timed([a.finch, "--threads", str(a.threads), "forward", "--model", a.model,
                                    "--ids-file", ids_file, "--batch-size", str(a.batch_size),
                                    "--warmup", str(a.warmup), "--device", a.device, "--dtype", a.dtype], env)
            m = re.search(r"forward: (\d+) tokens in ([\d.]+) s .*peak device memory (\d+) MiB", err)
            results["finch"].append((int(m.group(1)) / float(m.group(2)), peak, json.loads(out)["loss"],
                                     float(m.group(3))))
            out, err, peak = timed([sys.executable, os.path.join(HERE, "hf_forward.py"), a.model, ids_file,
                                    str(a.batch_size), str(a.threads), str(a.warmup), a.device, a.dtype], env)
            r = json.loads(out.strip().splitlines()[-1])
            results["transformers"].append((r["tokens"] / r["seconds"], peak, r["loss"], r["peak_device_mib"]))

    def median(side, k):
        return statistics.median(x[k] for x in results[side])

    gpu = a.device.startswith("cuda")
    where = torch.cuda.get_device_name() if gpu else f"CPU, {a.threads} threads"
    print(f"forward, {a.dtype}, {where}, {a.rows} rows x {a.seq} tokens, batch {a.batch_size}, "
          f"median of {a.repeats}, model {a.model}")
    flops = forward_flops_per_token(config, a.seq)
    print(f"{'':14}{'tokens/s':>12}{'peak RSS MiB':>14}{'peak GPU MiB':>14}{'MFU':>8}{'loss':>12}")
    for side in ("finch", "transformers"):
        mfu = f"{100 * median(side, 0) * flops / (a.peak_tflops * 1e12):7.1f}%" if gpu else f"{'-':>8}"
        print(f"{side:14}{median(side, 0):12.1f}{median(side, 1):14.0f}{median(side, 3):14.0f}{mfu}"
              f"{median(side, 2):12.6f}")
    gpu_ratio = f"{median('finch', 3) / median('transformers', 3):13.2f}x" if gpu else f"{'-':>14}"
    print(f"{'finch / HF':14}{median('finch', 0) / median('transformers', 0):11.2f}x"
          f"{median('finch', 1) / median('transformers', 1):13.2f}x{gpu_ratio}")


if __name__ == "__main__":
    main()

"""Distributed training on the CPU: tokens/s per rank and peak RSS per rank of
`finch train --nproc-per-node N` (Gloo over 127.0.0.1) for N ranks, each
strategy (ddp, fsdp where the build has it) and method (LoRA, full
fine-tuning), on the same data and per-rank batch.

Each run: the launcher starts N ranks (its "attempt" line names their pids);
this script samples every rank's VmHWM from /proc while they run. tokens/s per
rank = the run's trained tokens (all ranks) / N / seconds of the training
loop (rank 0's summary line). OMP_NUM_THREADS = cores / N (the launcher's
default), so N ranks share the machine's cores.

--device cuda: every rank trains on the GPU (LOCAL_RANK's, modulo the GPUs
there are) with bf16 autocast, over NCCL; the table adds rank 0's peak GPU
memory (the CUDA allocator's peak, from its summary line).

Usage: dist_bench.py --finch BUILD/finch --model DIR [--ranks 1,2,4] [--strategies ddp,fsdp]
                     [--methods lora,full] [--steps 6] [--seq 256] [--batch 2]
                     [--device cpu|cuda]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

from train_bench import make_rows


def vm_hwm_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def run(a, data_args, out_dir, ranks, strategy, method):
    settings = {"model.hf_model_id": a.model, "train.output_dir": out_dir, "train.resume": "never",
                "train.device": a.device, "train.max_steps": a.steps, "train.per_device_train_batch_size": a.batch,
                "train.learning_rate": 2e-4, "train.precision": "fp32" if a.device == "cpu" else "bf16", "train.eval_steps": 0, "train.save_steps": 0,
                "train.logging_steps": 1, "train.full_ft": "true" if method == "full" else "false",
                "parallel.strategy": strategy, "parallel.nproc_per_node": ranks, "parallel.max_restarts": 0}
    cmd = [a.finch, "train", *data_args, *(f"--{k}={v}" for k, v in settings.items())]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peaks, pids, lines = {}, {}, []

    def sample():
        while proc.poll() is None:
            for rank, pid in list(pids.items()):
                kib = vm_hwm_kib(pid)
                if kib:
                    peaks[rank] = max(peaks.get(rank, 0), kib)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for line in proc.stdout:
        lines.append(line)
        for rank, pid in re.findall(r"rank (\d+) pid (\d+)", line):
            pids[int(rank)] = int(pid)
        if ranks == 1 and not pids:
            pids[0] = proc.pid
    proc.wait()
    sampler.join()
    out = "".join(lines)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    m = re.search(r"finished at step \d+/\d+ after \S+ \(([\d.]+) s, (\d+) tokens.*?peak memory ([\d.]+) GiB", out)
    seconds, tokens = float(m.group(1)), int(m.group(2))
    return {"gpu_peak_mib": float(m.group(3)) * 1024 if a.device == "cuda" else None,"ranks": ranks, "strategy": strategy, "method": method, "seconds": seconds, "tokens": tokens,
            "tokens_per_s_per_rank": tokens / ranks / seconds,
            "peak_rss_mib": [peaks.get(r, 0) / 1024 for r in range(ranks)]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--finch", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--ranks", default="1,2,4")
    p.add_argument("--strategies", default="ddp,fsdp")
    p.add_argument("--methods", default="lora,full")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        rows = os.path.join(tmp, "rows.jsonl")
        make_rows(rows, a.steps * a.batch * 4 * 10 // 9 + 12, a.seq)
        data_args = [f"--data.dataset_name={rows}", f"--data.datasets_dir={os.path.join(tmp, 'datasets')}",
                     f"--data.max_seq_length={a.seq}", "--data.packing=false"]
        prep = subprocess.run([a.finch, "data", "prepare", "--tokenize", f"--model.hf_model_id={a.model}",
                               *data_args], capture_output=True, text=True)
        if prep.returncode != 0:
            sys.exit(f"finch data prepare failed:\n{prep.stderr}")
        for method in a.methods.split(","):
            for strategy in a.strategies.split(","):
                for n in (int(x) for x in a.ranks.split(",")):
                    r = run(a, data_args, os.path.join(tmp, f"{method}-{strategy}-{n}"), n, strategy, method)
                    results.append(r)
                    print(f"{method:5} {strategy:5} {n} ranks: {r['tokens_per_s_per_rank']:7.1f} tokens/s per rank, "
                          f"peak RSS per rank {', '.join(f'{x:.0f}' for x in r['peak_rss_mib'])} MiB"
                          + (f", rank 0 peak GPU {r['gpu_peak_mib']:.0f} MiB" if r["gpu_peak_mib"] else ""), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

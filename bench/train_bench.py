"""LoRA training throughput and peak memory: `finch train` versus HF Trainer +
PEFT, side by side on the same machine, model, samples, order and settings.

Data: deterministic instruction/input/output rows (a short prompt, an output
long enough that every sample has more than --seq tokens), prepared once by
`finch data prepare --tokenize`. finch trains on the prepared training.jsonl;
bench/hf_train.py reads the same file and tokenizes it with finch's recipe
(same ids, labels -100 over the input, truncated to --seq) and feeds the
samples in finch's order (randperm(n) seeded with the seed, read
sequentially).

Settings on both sides: LoRA r=32, alpha=32, dropout 0.1 on
q/k/v/o/gate/up/down; batch --batch, no accumulation, --steps steps, lr 2e-4,
cosine, no warm-up, clipping at 1.0, no weight decay, fused AdamW, fp32 on the
CPU, activation checkpointing per decoder layer (HF: use_reentrant=False),
padded batches (no padding happens: every sample is --seq long), no
evaluation, no checkpoints (finch still writes final/ after its clock stops),
a log line every step, --threads threads.

Each side runs in its own process; peak RSS is that process's (model load
and data included). tokens/s = trained tokens / seconds of the training loop
(finch: its summary line, from the start of training to its end; HF: the wall
time of trainer.train()). Median of --repeats runs of each side. "other
load" is the average number of cores that other processes kept busy during
a side's run (from /proc/stat): it should be near 0.

On a GPU (--device cuda, the default where torch sees one) both sides train
fp32 weights under bf16 autocast, peak memory is the CUDA allocator's peak
(finch: its summary; Python: torch.cuda.max_memory_allocated), and the table
adds MFU: model FLOPs per second over the card's dense bf16 peak (a table of
known cards, or --peak-tflops). Model FLOPs per trained token, LoRA (no weight
gradients for the frozen base): 4 N + 8 L C S (N base parameters, L layers, C
the attention width heads x head_dim, S tokens per sample; the PaLM appendix B
count, 6 N + 12 L C S, without the frozen weights' gradients); activation
recomputation is not counted. Where the packages are installed and a GPU is
used, HF + Liger (use_liger_kernel) and Unsloth run as more Python sides.

Usage: train_bench.py --finch BUILD/finch --model DIR [--threads N] [--steps 20]
                      [--seq 512] [--batch 4] [--repeats 1] [--no-checkpointing]
                      [--device cpu|cuda] [--peak-tflops T]
"""
import argparse
import importlib.util
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

from data_bench import WORDS

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 42


def busy_ticks():
    """CPU time (clock ticks) the whole machine has spent busy so far, from /proc/stat."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # all but idle and iowait


def timed(cmd, env):
    """Runs cmd; returns (stdout, stderr, its own peak RSS in MiB, the average
    number of cores other processes kept busy meanwhile: a noisy machine
    shows here)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start, ticks = time.monotonic(), busy_ticks()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        others = (busy_ticks() - ticks) / os.sysconf("SC_CLK_TCK") - usage.ru_utime - usage.ru_stime
        others /= time.monotonic() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed:\n{stderr}")
    return stdout, stderr, usage.ru_maxrss / 1024, max(others, 0.0)


def make_rows(path, n, seq):
    """Rows whose output alone is well over seq tokens (a word is >= 1 token)."""
    rng = random.Random(0)

    def text(lo, hi):
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))

    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            f.write(json.dumps({"instruction": text(20, 40), "input": text(0, 30),
                                "output": text(seq + 100, seq + 300)}) + "\n")


# Dense bf16 peak TFLOP/s by device name (the vendors' data sheets, without sparsity).
PEAK_TFLOPS = [("H200", 989.4), ("H100 NVL", 835.0), ("H100 PCIe", 756.0), ("H100", 989.4), ("A100", 312.0),
               ("L40S", 362.0), ("A10G", 70.0), ("A10", 125.0), ("L4", 121.0)]


def run_finch(a, data_args, out_dir, env):
    settings = {"model.hf_model_id": a.model, "train.output_dir": out_dir, "train.resume": "never",
                "train.device": a.device, "train.max_steps": a.steps, "train.per_device_train_batch_size": a.batch,
                "train.gradient_accumulation_steps": 1, "train.learning_rate": 2e-4, "train.warmup_steps": 0,
                "train.lr_scheduler_type": "cosine", "train.max_grad_norm": 1.0, "train.weight_decay": 0,
                "train.precision": "fp32" if a.device == "cpu" else "bf16", "train.seed": SEED,
                "train.activation_checkpointing": "false" if a.no_checkpointing else "true",
                "train.eval_steps": 0, "train.save_steps": 0, "train.logging_steps": 1,
                "lora.rank": 32, "lora.alpha": 32, "lora.dropout": 0.1}
    cmd = [a.finch, "--threads", str(a.threads), "train", *data_args, *(f"--{k}={v}" for k, v in settings.items())]
    _, err, peak, others = timed(cmd, env)
    m = re.search(r"finished at step (\d+)/\d+ after \S+ \(([\d.]+) s, (\d+) tokens, ([\d.]+) tokens/s\), "
                  r"peak memory ([\d.]+) GiB", err)
    if not m or int(m.group(1)) != a.steps:
        sys.exit(f"finch: no summary line for {a.steps} steps in:\n{err}")
    steps = [(float(loss), float(tps)) for loss, tps in
             re.findall(r"step \d+/\d+ \| loss ([\d.]+) \|.*?\| (\d+) tok/s", err)]
    tokens = int(m.group(3))
    return {"tokens": tokens, "seconds": float(m.group(2)), "peak": peak, "others": others,
            "gpu_peak": float(m.group(5)) * 1024 if a.device == "cuda" else None,
            "losses": [s[0] for s in steps], "step_seconds": [tokens / a.steps / s[1] for s in steps]}


def run_python(a, backend, training_jsonl, out_dir, env):
    cmd = [sys.executable, os.path.join(HERE, "hf_train.py"), a.model, training_jsonl, out_dir,
           str(a.threads), str(a.steps), str(a.seq), str(a.batch), str(SEED), "--device", a.device,
           "--backend", backend]
    if a.no_checkpointing:
        cmd.append("--no-checkpointing")
    out, _, peak, others = timed(cmd, env)
    r = json.loads(out.strip().splitlines()[-1])
    if r["shortest_sample"] < a.seq:
        sys.exit(f"a sample has {r['shortest_sample']} tokens, fewer than --seq {a.seq}: padding would differ")
    gpu_peak = r.pop("gpu_peak_bytes")
    return dict(r, peak=peak, others=others, gpu_peak=gpu_peak / 2**20 if gpu_peak else None)


def model_flops_per_token(a):
    """LoRA training FLOPs per token: 4 N + 8 L C S (see the module docstring)."""
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    out = subprocess.run([a.finch, "train", f"--model.hf_model_id={a.model}", "--dry-run",
                          "--lora.rank=32"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"trainable params: ([\d,]+) \|\| all params: ([\d,]+)", out)
    base = int(m.group(2).replace(",", "")) - int(m.group(1).replace(",", ""))
    width = cfg["num_attention_heads"] * cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    return 4 * base + 8 * cfg["num_hidden_layers"] * width * a.seq


def peak_tflops(a):
    if a.peak_tflops:
        return a.peak_tflops
    import torch  # noqa: PLC0415 (only on a GPU)
    name = torch.cuda.get_device_name()
    for key, tflops in PEAK_TFLOPS:
        if key in name:
            return tflops
    sys.exit(f"no peak TFLOP/s known for {name}: pass --peak-tflops")


def python_sides(a):
    """HF Trainer + PEFT always; Liger and Unsloth where installed, on a GPU."""
    sides = [("HF Trainer+PEFT", "hf")]
    if a.device == "cuda":
        for name, backend, module in [("HF+PEFT+Liger", "liger", "liger_kernel"), ("Unsloth", "unsloth", "unsloth")]:
            if importlib.util.find_spec(module):
                sides.append((name, backend))
            else:
                print(f"({name}: {module} is not installed; skipped)")
    return sides


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--finch", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--repeats", type=int, default=1, help="runs of each side; the median is reported")
    p.add_argument("--no-checkpointing", action="store_true", help="activation checkpointing off on both sides")
    p.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda where torch sees a GPU")
    p.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak, for MFU (default: by its name)")
    a = p.parse_args()
    if a.device is None:
        import torch  # noqa: PLC0415
        a.device = "cuda" if torch.cuda.is_available() else "cpu"

    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), TQDM_DISABLE="1", HF_HUB_OFFLINE="1")
    sides = python_sides(a)
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = os.path.join(tmp, "rows.jsonl")
        # 90% of the rows train (the default split): enough for one epoch of steps x batch.
        make_rows(rows_file, a.steps * a.batch * 10 // 9 + 12, a.seq)
        data_args = [f"--data.dataset_name={rows_file}", f"--data.datasets_dir={os.path.join(tmp, 'datasets')}",
                     f"--data.max_seq_length={a.seq}", "--data.packing=false"]
        out, _, _, _ = timed([a.finch, "data", "prepare", "--tokenize", f"--model.hf_model_id={a.model}", *data_args],
                             env)
        training_jsonl = os.path.join(out.strip().splitlines()[-1], "training.jsonl")
        results = {"finch": [], **{name: [] for name, _ in sides}}
        for k in range(a.repeats):
            results["finch"].append(run_finch(a, data_args, os.path.join(tmp, f"finch-{k}"), env))
            for name, backend in sides:
                results[name].append(run_python(a, backend, training_jsonl, os.path.join(tmp, f"{backend}-{k}"), env))

    def median(side, key):
        return statistics.median(key(r) for r in results[side])

    def tps(r):
        return r["tokens"] / r["seconds"]

    gpu = a.device == "cuda"
    memory = (lambda r: r["gpu_peak"]) if gpu else (lambda r: r["peak"])
    flops, peak = (model_flops_per_token(a), peak_tflops(a)) if gpu else (None, None)
    print(f"LoRA training, {'GPU bf16 autocast' if gpu else 'CPU fp32'}, {a.threads} threads, {a.steps} steps x "
          f"batch {a.batch} x {a.seq} tokens, activation checkpointing {'off' if a.no_checkpointing else 'on'}, "
          f"median of {a.repeats}, model {a.model}")
    header = (f"{'':24}{'tokens/s':>10}{'train s':>10}{'tokens':>8}{'peak GPU MiB' if gpu else 'peak RSS MiB':>14}"
              f"{'s/step 2+':>11}{'loss 1':>9}{'final loss':>11}{'other load':>12}" + (f"{'MFU':>8}" if gpu else ""))
    print(header)
    for side in results:
        line = (f"{side:24}{median(side, tps):10.1f}{median(side, lambda r: r['seconds']):10.1f}"
                f"{median(side, lambda r: r['tokens']):8.0f}{median(side, memory):14.0f}"
                f"{median(side, lambda r: statistics.mean(r['step_seconds'][1:] or r['step_seconds'])):11.2f}"
                f"{median(side, lambda r: r['losses'][0]):9.4f}{median(side, lambda r: r['losses'][-1]):11.4f}"
                f"{median(side, lambda r: r['others']):12.2f}")
        if gpu:
            line += f"{median(side, tps) * flops / (peak * 1e12) * 100:7.1f}%"
        print(line)
    for side, _ in sides:
        print(f"{'finch / ' + side:24}{median('finch', tps) / median(side, tps):9.2f}x{'':18}"
              f"{median('finch', memory) / median(side, memory):13.2f}x{'':20}"
              f"{median('finch', lambda r: r['losses'][-1]) / median(side, lambda r: r['losses'][-1]):10.4f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

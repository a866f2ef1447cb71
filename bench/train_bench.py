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

Usage: train_bench.py --finch BUILD/finch --model DIR [--threads N] [--steps 20]
                      [--seq 512] [--batch 4] [--repeats 1] [--no-checkpointing]
"""
import argparse
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


def run_finch(a, data_args, out_dir, env):
    settings = {"model.hf_model_id": a.model, "train.output_dir": out_dir, "train.resume": "never",
                "train.device": "cpu", "train.max_steps": a.steps, "train.per_device_train_batch_size": a.batch,
                "train.gradient_accumulation_steps": 1, "train.learning_rate": 2e-4, "train.warmup_steps": 0,
                "train.lr_scheduler_type": "cosine", "train.max_grad_norm": 1.0, "train.weight_decay": 0,
                "train.precision": "fp32", "train.seed": SEED,
                "train.activation_checkpointing": "false" if a.no_checkpointing else "true",
                "train.eval_steps": 0, "train.save_steps": 0, "train.logging_steps": 1,
                "lora.rank": 32, "lora.alpha": 32, "lora.dropout": 0.1}
    cmd = [a.finch, "--threads", str(a.threads), "train", *data_args, *(f"--{k}={v}" for k, v in settings.items())]
    _, err, peak, others = timed(cmd, env)
    m = re.search(r"finished at step (\d+)/\d+ after \S+ \(([\d.]+) s, (\d+) tokens, ([\d.]+) tokens/s\)", err)
    if not m or int(m.group(1)) != a.steps:
        sys.exit(f"finch: no summary line for {a.steps} steps in:\n{err}")
    steps = [(float(loss), float(tps)) for loss, tps in
             re.findall(r"step \d+/\d+ \| loss ([\d.]+) \|.*?\| (\d+) tok/s", err)]
    tokens = int(m.group(3))
    return {"tokens": tokens, "seconds": float(m.group(2)), "peak": peak, "others": others, "losses": [s[0] for s in steps],
            "step_seconds": [tokens / a.steps / s[1] for s in steps]}


def run_hf(a, training_jsonl, out_dir, env):
    cmd = [sys.executable, os.path.join(HERE, "hf_train.py"), a.model, training_jsonl, out_dir,
           str(a.threads), str(a.steps), str(a.seq), str(a.batch), str(SEED)]
    if a.no_checkpointing:
        cmd.append("--no-checkpointing")
    out, _, peak, others = timed(cmd, env)
    r = json.loads(out.strip().splitlines()[-1])
    if r["shortest_sample"] < a.seq:
        sys.exit(f"a sample has {r['shortest_sample']} tokens, fewer than --seq {a.seq}: padding would differ")
    return dict(r, peak=peak, others=others)


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
    a = p.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), TQDM_DISABLE="1", HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = os.path.join(tmp, "rows.jsonl")
        # 90% of the rows train (the default split): enough for one epoch of steps x batch.
        make_rows(rows_file, a.steps * a.batch * 10 // 9 + 12, a.seq)
        data_args = [f"--data.dataset_name={rows_file}", f"--data.datasets_dir={os.path.join(tmp, 'datasets')}",
                     f"--data.max_seq_length={a.seq}", "--data.packing=false"]
        out, _, _, _ = timed([a.finch, "data", "prepare", "--tokenize", f"--model.hf_model_id={a.model}", *data_args],
                          env)
        training_jsonl = os.path.join(out.strip().splitlines()[-1], "training.jsonl")
        results = {"finch": [], "HF Trainer+PEFT": []}
        for k in range(a.repeats):
            results["finch"].append(run_finch(a, data_args, os.path.join(tmp, f"finch-{k}"), env))
            results["HF Trainer+PEFT"].append(run_hf(a, training_jsonl, os.path.join(tmp, f"hf-{k}"), env))

    def median(side, key):
        return statistics.median(key(r) for r in results[side])

    def tps(r):
        return r["tokens"] / r["seconds"]

    print(f"LoRA training, CPU fp32, {a.threads} threads, {a.steps} steps x batch {a.batch} x {a.seq} tokens, "
          f"activation checkpointing {'off' if a.no_checkpointing else 'on'}, median of {a.repeats}, "
          f"model {a.model}")
    print(f"{'':18}{'tokens/s':>10}{'train s':>10}{'tokens':>8}{'peak RSS MiB':>14}{'s/step 2+':>11}"
          f"{'loss 1':>9}{'loss last':>11}{'other load':>12}")
    for side in results:
        print(f"{side:18}{median(side, tps):10.1f}{median(side, lambda r: r['seconds']):10.1f}"
              f"{median(side, lambda r: r['tokens']):8.0f}{median(side, lambda r: r['peak']):14.0f}"
              f"{median(side, lambda r: statistics.mean(r['step_seconds'][1:])):11.2f}"
              f"{median(side, lambda r: r['losses'][0]):9.4f}{median(side, lambda r: r['losses'][-1]):11.4f}"
              f"{median(side, lambda r: r['others']):12.2f}")
    f, h = "finch", "HF Trainer+PEFT"
    print(f"{'finch / HF':18}{median(f, tps) / median(h, tps):9.2f}x{'':18}"
          f"{median(f, lambda r: r['peak']) / median(h, lambda r: r['peak']):13.2f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

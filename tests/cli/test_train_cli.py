"""End to end through the finch binary: `finch train` on a tiny random Llama
with a tiny byte-level BPE tokenizer (both made here) and a local JSONL
dataset that `finch train` prepares itself.

Checks: the run folder (config.yaml, checkpoints with their manifest, final/
as a PEFT adapter that peft.PeftModel loads, logs/metrics.jsonl, TensorBoard
events read back by TensorBoard's own reader); determinism (two runs, same
seed: identical losses); resume after SIGTERM, after kill -9 at random
moments and during checkpoint writes: the loss curve from then on equals the
uninterrupted run exactly (CPU fp32); early stopping; save_total_limit
rotation; bad settings as one-line errors.

Also the library example examples/train_lora.cpp on the same model and data.

Usage: test_train_cli.py FINCH_BINARY TRAIN_LORA_EXAMPLE
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import torch
from transformers import LlamaForCausalLM

from cli_check import check, expect_error, finish
from tiny_run import make_model, make_rows, write_rows

FINCH, EXAMPLE = sys.argv[1], sys.argv[2]
class Run:
    def __init__(self, work, model, data):
        self.work, self.model, self.data = work, model, data

    def args(self, out, *extra):
        return [FINCH, "train", "--hf_model_id", self.model, "--hfdc_dataset_name", self.data,
                "--data.datasets_dir", os.path.join(self.work, "datasets"), "--output_dir", out,
                "--max_steps", "12", "--per_device_train_batch_size", "2", "--learning_rate", "1e-3",
                "--warmup_steps", "2", "--logging_steps", "1", "--eval_steps", "4", "--save_steps", "4",
                "--data.max_seq_length", "64", "--train.device", "cpu", *extra]

    def run(self, out, *extra, timeout=600):
        return subprocess.run(self.args(out, *extra), capture_output=True, text=True, timeout=timeout, cwd=self.work)

    def start(self, out, *extra):
        return subprocess.Popen(self.args(out, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=self.work)


def metrics(out):
    path = os.path.join(out, "logs", "metrics.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def losses(out):
    return [(m["step"], m["loss"]) for m in metrics(out) if "loss" in m]


def wait_for_step(proc, out, step, timeout=300):
    """Polls metrics.jsonl until `step` was logged (or the process ended)."""
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if any(s >= step for s, _ in losses(out)):
            return True
        time.sleep(0.02)
    return False


def last_line_error(name, result, *fragments):
    lines = result.stderr.strip().splitlines()
    ok = result.returncode == 1 and lines and lines[-1].startswith("finch: error: ") and all(
        f in lines[-1] for f in fragments)
    check(name, ok, f"rc={result.returncode} last line={lines[-1] if lines else ''!r}")


def checkpoints(out):
    return sorted((int(d.split("-")[1]) for d in os.listdir(out) if d.startswith("checkpoint-")))


def main():
    work = tempfile.mkdtemp(prefix="finch_train_")
    rows = make_rows(400)
    data = write_rows(work, rows)
    model = make_model(work, rows)
    run = Run(work, model, data)

    # A whole run.
    a = os.path.join(work, "run_a")
    r = run.run(a)
    check("train exits 0", r.returncode == 0, r.stderr[-2000:])
    check("config.yaml saved", "learning_rate: 0.001" in open(os.path.join(a, "config.yaml")).read())
    check("checkpoints every save_steps", checkpoints(a) == [4, 8, 12], str(checkpoints(a)))
    ck = os.path.join(a, "checkpoint-8")
    check("checkpoint holds adapter, optimizer, scheduler, rng, loader, state, manifest",
          all(os.path.exists(os.path.join(ck, f)) for f in [
              "adapter_model.safetensors", "adapter_config.json", "optimizer.safetensors", "scheduler.json",
              "rng_state.safetensors", "loader.json", "trainer_state.json", "MANIFEST.json"]), str(os.listdir(ck)))
    state = json.load(open(os.path.join(ck, "trainer_state.json")))
    check("trainer_state records the step and the log history",
          state["global_step"] == 8 and any("eval_loss" in h for h in state["log_history"]), str(state)[:300])
    la = losses(a)
    check("a loss per step in metrics.jsonl", [s for s, _ in la] == list(range(1, 13)), str(la))
    check("eval loss logged every eval_steps", [m["step"] for m in metrics(a) if "eval_loss" in m] == [4, 8, 12])
    check("the loss goes down", la[-1][1] < la[0][1], str(la))
    check("progress line", any("step 12/12 | loss" in line and "tok/s" in line and "ETA" in line and "GiB" in line
                               for line in r.stderr.splitlines()), r.stderr[-1500:])
    check("summary at the end", "finished at step 12/12" in r.stderr, r.stderr[-500:])

    # The final adapter loads in PEFT and changes the model's output.
    from peft import PeftModel
    base = LlamaForCausalLM.from_pretrained(model)
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        plain = base(ids).logits
        tuned = PeftModel.from_pretrained(base, os.path.join(a, "final"))(ids).logits
    check("final/ is a PEFT adapter PeftModel loads", not torch.allclose(plain, tuned))

    # TensorBoard's own reader.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(os.path.join(a, "logs"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    check("TensorBoard reads the scalars", all(t in tags for t in [
        "train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s", "train/memory_gib", "eval/loss"]), str(tags))
    tb = [(e.step, e.value) for e in acc.Scalars("train/loss")]
    check("TensorBoard's losses are metrics.jsonl's (float32)",
          [s for s, _ in tb] == [s for s, _ in la] and all(abs(v - l) <= 1e-6 * abs(l) for (_, v), (_, l) in zip(tb, la)))

    # Determinism: a second run with the same seed gives the same losses exactly.
    b = os.path.join(work, "run_b")
    r = run.run(b)
    check("same seed, same losses", r.returncode == 0 and losses(b) == la, f"{losses(b)} vs {la}")

    # SIGTERM: a checkpoint is saved and the process exits cleanly; resuming
    # continues as if never stopped.
    c = os.path.join(work, "run_sigterm")
    p = run.start(c, "--save_steps", "100")
    reached = wait_for_step(p, c, 6)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    check("SIGTERM: exit 0 with a checkpoint", reached and p.returncode == 0 and len(checkpoints(c)) == 1,
          f"rc={p.returncode} {checkpoints(c)} {err[-800:]}")
    check("SIGTERM: says so", "terminated (SIGTERM)" in err, err[-500:])
    r = run.run(c, "--save_steps", "100")
    check("resumed after SIGTERM", r.returncode == 0 and "resumed from" in r.stderr, r.stderr[-800:])
    check("after SIGTERM: the same losses as the uninterrupted run", losses(c) == la, f"{losses(c)} vs {la}")

    # kill -9 at random moments, with a checkpoint every step so that many
    # kills land inside a checkpoint write; each resume must go on exactly.
    d = os.path.join(work, "run_kill")
    rng = random.Random(1)
    kills = 0
    for _ in range(10):
        if kills == 4:
            break
        p = run.start(d, "--save_steps", "1")
        time.sleep(rng.uniform(0.3, 1.5))
        if p.poll() is None:
            p.kill()
            kills += 1
        p.communicate()
    check("kill -9 landed at least twice", kills >= 2, str(kills))
    leftovers = [x for x in os.listdir(d) if x.startswith(".tmp")] if os.path.isdir(d) else []
    r = run.run(d, "--save_steps", "1")
    check(f"resumed after {kills} kill -9", r.returncode == 0, r.stderr[-800:])
    check("after kill -9: the same losses as the uninterrupted run", losses(d) == la, f"{losses(d)} vs {la}")
    check("no temporary checkpoint folder left", not [x for x in os.listdir(d) if x.startswith(".tmp")],
          f"before resume: {leftovers}")

    # A checkpoint torn by hand (a file cut short) is not resumed from: the one before it is.
    e = os.path.join(work, "run_torn")
    shutil.copytree(a, e)
    shutil.rmtree(os.path.join(e, "final"))
    with open(os.path.join(e, "checkpoint-12", "optimizer.safetensors"), "r+b") as f:
        f.truncate(100)
    with open(os.path.join(e, "logs", "metrics.jsonl")) as f:
        pass
    r = run.run(e)
    check("a torn checkpoint is skipped", r.returncode == 0 and "checkpoint-8" in r.stderr
          and losses(e) == la, r.stderr[-1000:])

    # A run folder is not resumed with another method, nor silently restarted.
    last_line_error("resume with other LoRA settings is refused", run.run(a, "--lora_rank", "8", "--max_steps", "16"),
                    "other settings", "train.output_dir")
    last_line_error("resume=never over old checkpoints is refused", run.run(a, "--train.resume", "never"),
                    "train.resume", "earlier run")

    # Early stopping: a threshold nothing beats stops after `patience` evaluations.
    f_ = os.path.join(work, "run_early")
    r = run.run(f_, "--eval_steps", "2", "--early_stopping_patience", "2", "--early_stopping_threshold", "100")
    check("early stopping stops at step 6", r.returncode == 0 and "early stopping" in r.stderr
          and losses(f_)[-1][0] == 6, r.stderr[-800:])
    state = json.load(open(os.path.join(f_, "checkpoint-4", "trainer_state.json")))
    evals = [(m["step"], m["eval_loss"]) for m in metrics(f_) if "eval_loss" in m]
    low = min(evals[:2], key=lambda e: e[1])
    check("the best metric is recorded", state["best_metric"] == low[1] and state["best_step"] == low[0],
          f"{evals} {state['best_metric']} {state['best_step']}")

    # Rotation: at most save_total_limit checkpoints, never the best or the newest.
    g = os.path.join(work, "run_rotate")
    r = run.run(g, "--save_steps", "2", "--eval_steps", "2", "--save_total_limit", "2")
    best = json.load(open(os.path.join(g, f"checkpoint-{checkpoints(g)[-1]}", "trainer_state.json")))
    kept = checkpoints(g)
    check("rotation keeps save_total_limit checkpoints", r.returncode == 0 and len(kept) == 2 and kept[-1] == 12,
          str(kept))
    if best["best_model_checkpoint"]:
        check("rotation keeps the best", os.path.isdir(os.path.join(g, best["best_model_checkpoint"])),
              best["best_model_checkpoint"])

    # Non-finite steps: an absurd learning rate blows the weights up; each
    # non-finite step is skipped and reported, and too many in a row abort.
    r = run.run(os.path.join(work, "run_nan"), "--full_ft", "--learning_rate", "1e30", "--warmup_steps", "0",
                "--train.max_nonfinite_steps", "3", "--save_steps", "0")
    check("non-finite steps are skipped and reported", "update skipped (1 in a row" in r.stderr, r.stderr[-1500:])
    last_line_error("too many non-finite steps in a row abort", r, "3 steps in a row", "train.max_nonfinite_steps")

    # The library example: a Trainer with its own callback.
    prepared = os.path.join(work, "datasets", "pairs", "default", "train=90%-val=5%-test=5%")
    r = subprocess.run([EXAMPLE, model, prepared, os.path.join(work, "run_example")], capture_output=True, text=True,
                       timeout=600)
    check("examples/train_lora runs", r.returncode == 0 and "step 5 loss" in r.stdout
          and os.path.isdir(os.path.join(work, "run_example", "final")), r.stdout[-300:] + r.stderr[-800:])

    # Bad settings: one line naming the key.
    h = os.path.join(work, "run_bad")
    expect_error("negative learning rate", run.run(h, "--learning_rate", "-1"), "train.learning_rate")
    expect_error("rank 0", run.run(h, "--lora_rank", "0"), "lora.rank")
    # Errors that need the model come after the settings table: their last line is the one-line error.
    last_line_error("unknown target module", run.run(h, "--lora_target_modules", "q_proj,nope_proj"),
                    "lora.target_modules", "nope_proj", "q_proj, k_proj")
    last_line_error("missing model", run.run(h, "--hf_model_id", os.path.join(work, "no-such-model")),
                    "no-such-model", "no such model directory")
    r = run.run(h, "--train.no_such_key", "1")
    check("unknown setting", r.returncode != 0 and "no_such_key" in r.stderr, r.stderr)
    finish("train")


if __name__ == "__main__":
    main()

"""What the distributed tests (test_ddp.py, test_fsdp.py) share: a tiny
model and dataset, the finch train arguments of one run, torchrun's
environment, and the checks of a run against one process (every logged loss,
grad norm and eval loss, the final weights) within TOL."""
import json
import os
import socket
import subprocess
import sys

from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_check import check  # noqa: E402
from tiny_run import make_model, make_rows, write_rows  # noqa: E402

TOL = 1e-5
# Every run, the ranks and the one process alike, does its math on one thread,
# so the kernels are the same on any machine: on a 16-core one the launcher gave
# each of 2 ranks 8 threads against the one process's 16, and fp32 full
# fine-tuning at lr 1e-2 drifted 1.4e-5 apart by step 3.
os.environ["OMP_NUM_THREADS"] = "1"
GLOBAL_BATCH = 4  # the one process's batch; n ranks take GLOBAL_BATCH // n each


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_env(rank, n, port):
    return {"RANK": str(rank), "WORLD_SIZE": str(n), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": str(n),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}


def start_ranks(finch, args_of, n, cwd, env_of=None):
    """Starts n finch processes in cwd: args_of(rank) their arguments, each with torchrun's
    variables (or env_of(rank, n, port)) for one rendezvous port."""
    port = free_port()
    procs = []
    for rank in range(n):
        env = dict(os.environ, FINCH_DIST_TIMEOUT="120")
        env.update(env_of(rank, n, port) if env_of else torchrun_env(rank, n, port))
        procs.append(subprocess.Popen([finch, *args_of(rank)], env=env, cwd=cwd, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    return procs


def wait_ranks(procs, timeout=300):
    """Each process's stderr when every one exits 0 (within timeout), else None (printing the failures)."""
    ok, errs = True, []
    for rank, p in enumerate(procs):
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        if p.returncode != 0:
            ok = False
            print(f"--- rank {rank} exited {p.returncode}:\n{err[-3000:]}")
        errs.append(err)
    return errs if ok else None


class Runs:
    """A tiny model and dataset in `work`, and finch train's arguments for one run of them."""

    def __init__(self, work):
        self.work = work
        rows = make_rows(96)
        self.model = make_model(work, rows)
        self.data = write_rows(work, rows)

    def args(self, out, batch, *extra, steps=3):
        return ["train", "--hf_model_id", self.model, "--hfdc_dataset_name", self.data,
                "--data.datasets_dir", os.path.join(self.work, "datasets"), "--output_dir", out,
                "--max_steps", str(steps), "--per_device_train_batch_size", str(batch),
                "--per_device_eval_batch_size", "2", "--learning_rate", "1e-2", "--lr_scheduler_type", "constant",
                "--logging_steps", "1", "--eval_steps", "3", "--save_steps", "2", "--data.max_seq_length", "64",
                "--train.device", "cpu", "--lora_dropout", "0", *extra]


def metrics(out):
    path = os.path.join(out, "logs", "metrics.jsonl")
    return [json.loads(line) for line in open(path)] if os.path.exists(path) else []


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def same_curve(name, out, ref, one_line_per_step=False):
    got, want = metrics(out), metrics(ref)
    pairs = []
    for key in ("loss", "grad_norm", "eval_loss"):
        g = {m["step"]: m[key] for m in got if key in m}
        w = {m["step"]: m[key] for m in want if key in m}
        check(f"{name}: {key} logged at the same steps", sorted(g) == sorted(w) and len(w) > 0,
              f"{sorted(g)} vs {sorted(w)}")
        pairs += [(key, s, g[s], w[s]) for s in w if s in g]
    bad = [p for p in pairs if not close(p[2], p[3])]
    worst = max((abs(p[2] - p[3]) / max(1.0, abs(p[3])) for p in pairs), default=0.0)
    print(f"     {name}: largest difference {worst:.2e}")
    check(f"{name}: loss, grad norm and eval loss within {TOL} of one process", not bad and pairs,
          f"{bad[:4]}")
    if one_line_per_step:
        check(f"{name}: one metrics line per step (rank 0 alone writes)",
              [m["step"] for m in got if "loss" in m] == [1, 2, 3], str([m.get("step") for m in got]))


def same_weights(name, out, ref, file):
    same_tensors(f"{name}: final weights", os.path.join(out, "final", file), os.path.join(ref, "final", file))


def same_tensors(name, path, ref_path):
    """Every tensor of the safetensors file `path` within TOL of `ref_path`'s (the same names)."""
    a, b = load_file(path), load_file(ref_path)
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in b) if a.keys() == b.keys() else float("inf")
    print(f"     {name}: largest difference {worst:.2e}")
    check(f"{name}: within {TOL} of one process", worst <= TOL,
          f"max abs diff {worst}" if a.keys() == b.keys() else f"names differ: {sorted(a)[:3]} vs {sorted(b)[:3]}")

"""`finch train --nproc-per-node 2` end to end: the single-node launcher
around real finch ranks, on the tiny random Llama of tiny_run.py.

Always (no collectives needed): bad launcher settings are one-line errors
before any rank starts; ranks that keep failing exhaust max_restarts and the
launcher exits 1 with one last line naming the rank, its exit code and the
attempt; the settings work as flags and from a YAML file.

With data parallel in the build (src/finch/dist/data_parallel.h exists;
until then this part is skipped, exit 77): a 2-rank run finishes with prefixed
output; `kill -9` of rank 1 mid-run makes the launcher stop rank 0 and
restart both, which resume from the newest checkpoint, and the losses and
the final adapter equal the uninterrupted 2-rank run's exactly (CPU fp32,
the same thread count); SIGTERM to the launcher reaches the ranks, which
save a checkpoint and stop (exit 0), and the next launch resumes from it.

Usage: test_launcher_cli.py FINCH_BINARY SOURCE_ROOT
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from safetensors.torch import load_file

from cli_check import check, expect_error, finish, skip_rest
from tiny_run import make_model, make_rows, write_rows

FINCH, SOURCE_ROOT = sys.argv[1], sys.argv[2]


class Run:
    def __init__(self, work, model, data):
        self.work, self.model, self.data = work, model, data

    def args(self, out, *extra):
        return [FINCH, "train", "--hf_model_id", self.model, "--hfdc_dataset_name", self.data,
                "--data.datasets_dir", os.path.join(self.work, "datasets"), "--output_dir", out,
                "--max_steps", "24", "--per_device_train_batch_size", "2", "--learning_rate", "1e-3",
                "--warmup_steps", "2", "--logging_steps", "1", "--eval_steps", "0", "--save_steps", "4",
                "--data.max_seq_length", "64", "--train.device", "cpu", *extra]

    def run(self, out, *extra, timeout=600):
        return subprocess.run(self.args(out, *extra), capture_output=True, text=True, timeout=timeout, cwd=self.work)

    def start(self, out, *extra):
        return Launched(subprocess.Popen(self.args(out, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, cwd=self.work))


class Launched:
    """A running launcher whose stderr is collected line by line (so its rank pids can be read while it runs)."""

    def __init__(self, proc):
        self.proc, self.lines = proc, []
        self.reader = threading.Thread(target=lambda: self.lines.extend(iter(proc.stderr.readline, "")), daemon=True)
        self.reader.start()
        self.stdout = ""

    def rank_pids(self, attempt, timeout=60):
        """{rank: pid} from the launcher's 'attempt K of M: rank 0 pid P, ...' line."""
        end = time.time() + timeout
        while time.time() < end:
            for line in list(self.lines):
                if line.startswith(f"finch: launcher: attempt {attempt} of "):
                    return {int(r): int(p) for r, p in re.findall(r"rank (\d+) pid (\d+)", line)}
            time.sleep(0.02)
        return {}

    def wait(self, timeout=600):
        # Not communicate(): it would read stderr too, taking lines from the reader thread.
        self.stdout = self.proc.stdout.read()
        self.proc.wait(timeout=timeout)
        self.reader.join()
        return self.proc.returncode

    @property
    def stderr(self):
        return "".join(self.lines)


def metrics(out):
    path = os.path.join(out, "logs", "metrics.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def losses(out):
    return [(m["step"], m["loss"]) for m in metrics(out) if "loss" in m]


def wait_for_step(launched, out, step, timeout=300):
    end = time.time() + timeout
    while time.time() < end and launched.proc.poll() is None:
        if any(s >= step for s, _ in losses(out)):
            return True
        time.sleep(0.01)
    return False


def same_tensors(a, b):
    ta, tb = load_file(a), load_file(b)
    return ta.keys() == tb.keys() and all((ta[k] == tb[k]).all() for k in ta)


def last_line_error(name, stderr, rc, pattern):
    lines = stderr.strip().splitlines()
    last = lines[-1] if lines else ""
    check(name, rc == 1 and re.fullmatch(pattern, last) is not None, f"rc={rc} last line={last!r}")


def has_data_parallel():
    # Not a setting's presence: section "parallel" may come before the engine does.
    return os.path.exists(os.path.join(SOURCE_ROOT, "src", "finch", "dist", "data_parallel.h"))


def main():
    work = tempfile.mkdtemp(prefix="finch_launcher_")
    rows = make_rows(400)
    data = write_rows(work, rows)
    model = make_model(work, rows)
    run = Run(work, model, data)

    # Launcher settings are checked before any rank starts.
    expect_error("nproc_per_node 0 is an error", run.run(os.path.join(work, "x"), "--nproc-per-node", "0"),
                 "parallel.nproc_per_node", ">= 1")
    expect_error("max_restarts -1 is an error", run.run(os.path.join(work, "x"), "--max-restarts", "-1"),
                 "parallel.max_restarts", ">= 0")

    # Ranks that fail every time (no such model): 1 + max_restarts attempts, then one line with the cause.
    missing = os.path.join(work, "no-such-model")
    r = subprocess.run(run.args(os.path.join(work, "fail"), "--nproc-per-node", "2", "--max-restarts", "1",
                                "--hf_model_id", missing), capture_output=True, text=True, timeout=300, cwd=work)
    last_line_error("failing ranks: exit 1 naming rank, exit code and attempt", r.stderr, r.returncode,
                    r"finch: error: rank [01] exited with code 1 on attempt 2 of 2; no restarts left "
                    r"\(parallel\.max_restarts = 1\)")
    check("failing ranks: each attempt announced",
          "finch: launcher: attempt 1 of 2:" in r.stderr and "finch: launcher: attempt 2 of 2:" in r.stderr,
          r.stderr[-1500:])
    check("failing ranks: the restart is announced", re.search(
        r"finch: launcher: rank [01] exited with code 1 on attempt 1 of 2; restarting all 2 ranks \(restart 1 of 1\)",
        r.stderr) is not None, r.stderr[-1500:])
    # Rank 0 loads first (the others wait for it), so it names the cause; the
    # others may report the lost peer or be stopped before they print.
    check("failing ranks: the cause with its rank prefix",
          re.search(r"^\[rank 0\] finch: error: .*no-such-model", r.stderr, re.M) is not None, r.stderr[-1500:])
    unprefixed = [l for l in r.stderr.splitlines() if not l.startswith(("[rank 0] ", "[rank 1] ", "finch: "))]
    check("failing ranks: every line is whole and prefixed", not unprefixed, str(unprefixed[:5]))

    # The same settings from a YAML file.
    cfg = os.path.join(work, "parallel.yaml")
    with open(cfg, "w") as f:
        f.write("parallel:\n  nproc_per_node: 2\n  max_restarts: 0\n")
    r = subprocess.run(run.args(os.path.join(work, "fail_yaml"), "--config", cfg, "--hf_model_id", missing),
                       capture_output=True, text=True, timeout=300, cwd=work)
    last_line_error("settings from YAML: 2 ranks, no restart", r.stderr, r.returncode,
                    r"finch: error: rank [01] exited with code 1 on attempt 1 of 1; no restarts left "
                    r"\(parallel\.max_restarts = 0\)")

    if not has_data_parallel():
        skip_rest("launcher", "this build has no data parallel yet (no src/finch/dist/data_parallel.h)")

    # An uninterrupted 2-rank run.
    a = os.path.join(work, "run_a")
    r = run.run(a, "--nproc-per-node", "2")
    check("2 ranks: exit 0", r.returncode == 0, r.stderr[-2000:])
    check("2 ranks: both ranks' output, prefixed",
          all(re.search(rf"^\[rank {i}\] finch: ", r.stderr, re.M) for i in (0, 1)), r.stderr[-1500:])
    la = losses(a)
    check("2 ranks: a loss per step", [s for s, _ in la] == list(range(1, 25)), str(la))
    final_a = os.path.join(a, "final", "adapter_model.safetensors")
    check("2 ranks: final adapter written", os.path.exists(final_a))

    # kill -9 of rank 1 mid-run: both ranks restart from the newest checkpoint and end as run_a did.
    b = os.path.join(work, "run_kill")
    p = run.start(b, "--nproc-per-node", "2")
    pids = p.rank_pids(1)
    reached = wait_for_step(p, b, 6)
    killed = reached and p.proc.poll() is None and 1 in pids
    if killed:
        os.kill(pids[1], signal.SIGKILL)
    rc = p.wait()
    check("kill -9: the kill landed mid-run", killed, f"pids={pids} reached={reached}")
    check("kill -9: the launcher finishes with exit 0", rc == 0, p.stderr[-2000:])
    check("kill -9: the cause and the restart are announced",
          "finch: launcher: rank 1 was killed by signal 9 (SIGKILL) on attempt 1 of 4; restarting all 2 ranks"
          in p.stderr and "finch: launcher: attempt 2 of 4:" in p.stderr,
          "\n".join(l for l in p.stderr.splitlines() if l.startswith("finch: launcher:")))
    check("kill -9: the ranks resumed from a checkpoint",
          re.search(r"^\[rank 0\] .*resumed from .*checkpoint-\d+", p.stderr, re.M) is not None,
          p.stderr[-2000:])
    check("kill -9: the same losses as the uninterrupted run", losses(b) == la, f"{losses(b)} vs {la}")
    final_b = os.path.join(b, "final", "adapter_model.safetensors")
    check("kill -9: the final adapter equals the uninterrupted run's",
          os.path.exists(final_b) and same_tensors(final_a, final_b))

    # SIGTERM to the launcher: passed on; the ranks save a checkpoint and stop; the next launch resumes.
    c = os.path.join(work, "run_sigterm")
    p = run.start(c, "--nproc-per-node", "2", "--save_steps", "100")
    reached = wait_for_step(p, c, 6)
    p.proc.send_signal(signal.SIGTERM)
    rc = p.wait()
    ckpts = [d for d in os.listdir(c) if d.startswith("checkpoint-")] if os.path.isdir(c) else []
    check("SIGTERM: exit 0 with a checkpoint", reached and rc == 0 and len(ckpts) == 1,
          f"rc={rc} {ckpts} {p.stderr[-1500:]}")
    check("SIGTERM: passed on to the ranks", "finch: launcher: SIGTERM: passing it on to the ranks" in p.stderr
          and "attempt 2 of" not in p.stderr, p.stderr[-6000:])
    r = run.run(c, "--nproc-per-node", "2", "--save_steps", "100")
    check("SIGTERM: the next launch resumes and ends as the uninterrupted run",
          r.returncode == 0 and "resumed from" in r.stderr and losses(c) == la, f"{losses(c)} vs {la}")
    finish("launcher")


if __name__ == "__main__":
    main()

"""Data parallel through the finch binary, on the CPU with Gloo over 127.0.0.1:
N ranks of per_device_train_batch_size b equal one process of batch N*b.

A tiny random Llama and toy rows (tests/cli/tiny_run.py). One process trains 3
steps with a global batch of 4; then the same global batch is spread over 2
and 4 ranks (started here with torchrun's variables and a free port), LoRA and
full fine-tuning, with gradient accumulation and padding too, and through the
launchers themselves: torchrun --no-python, Slurm's variables (what srun
sets), mpirun --oversubscribe (when OpenMPI is installed).

LoRA dropout is off: each rank draws its masks for its own slice, so with
dropout the ranks' masks are not one process's (as under torch DDP).
Equal means: the per-step loss and gradient norm in logs/metrics.jsonl and
the evaluation loss within 1e-5 (relative; fp32 sums over the same tokens in
another grouping differ by a few ulps), and the final weights within 1e-5.
Also: only rank 0 writes the run folder; a run resumed on 2 ranks continues
the curve; a half-set environment and a missing peer are one-line errors.

Usage: test_ddp.py FINCH_BINARY
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time


import dist_check
from cli_check import check, finish
from dist_check import GLOBAL_BATCH, free_port, same_curve, same_weights, start_ranks, torchrun_env, wait_ranks

FINCH = os.path.abspath(sys.argv[1])
TORCHRUN = os.path.join(os.path.dirname(sys.executable), "torchrun")


class Runs(dist_check.Runs):
    def single(self, out, *extra):
        r = subprocess.run([FINCH, *self.args(out, GLOBAL_BATCH, *extra)], capture_output=True, text=True,
                           cwd=self.work, timeout=300)
        if r.returncode != 0:
            print(r.stderr)
        return r.returncode == 0

    def ranks(self, n, out, *extra, env_of=None, steps=3, accumulation=1):
        """n ranks with torchrun's variables (or env_of(rank, n, port)); True when all exit 0."""
        batch = GLOBAL_BATCH // n // accumulation
        extra = (*extra, "--gradient_accumulation_steps", str(accumulation))
        procs = start_ranks(FINCH, lambda rank: self.args(out, batch, *extra, steps=steps), n, self.work, env_of)
        return wait_ranks(procs) is not None


def slurm_env(rank, n, port):
    # What srun sets for task `rank` of a one-node step (the address from the node list).
    return {"SLURM_PROCID": str(rank), "SLURM_NTASKS": str(n), "SLURM_LOCALID": str(rank),
            "SLURM_NTASKS_PER_NODE": str(n), "SLURM_JOB_NODELIST": "localhost", "SLURM_JOB_ID": "4242",
            "MASTER_PORT": str(port)}


def main():
    start = time.time()
    work = tempfile.mkdtemp(prefix="finch-ddp-")
    try:
        runs = Runs(work)
        out = lambda name: os.path.join(work, name)  # noqa: E731
        check("one process, LoRA, batch 4", runs.single(out("lora1")))
        check("one process, full, batch 4", runs.single(out("full1"), "--full_ft"))

        for n in (2, 4):
            check(f"LoRA on {n} ranks runs", runs.ranks(n, out(f"lora{n}")))
            same_curve(f"LoRA {n} ranks", out(f"lora{n}"), out("lora1"), one_line_per_step=True)
            same_weights(f"LoRA {n} ranks", out(f"lora{n}"), out("lora1"), "adapter_model.safetensors")
            check(f"full on {n} ranks runs", runs.ranks(n, out(f"full{n}"), "--full_ft"))
            same_curve(f"full {n} ranks", out(f"full{n}"), out("full1"), one_line_per_step=True)
            same_weights(f"full {n} ranks", out(f"full{n}"), out("full1"), "model.safetensors")

        # Rank 0 alone writes: no temporary folders or second metrics file from the others.
        names = sorted(os.listdir(out("lora2")))
        check("run folder of 2 ranks holds what one process writes", names == sorted(os.listdir(out("lora1"))),
              f"{names}")

        check("LoRA, 2 ranks x batch 1 x 2 accumulation, padded, runs",
              runs.ranks(2, out("acc2"), "--data.packing", "false", accumulation=2))
        check("one process, padded", runs.single(out("pad1"), "--data.packing", "false"))
        same_curve("2 ranks with accumulation (padded)", out("acc2"), out("pad1"), one_line_per_step=True)

        # Resume on every rank from the same checkpoint: steps 1-2, then to 3.
        check("2 ranks stop at step 2", runs.ranks(2, out("resume"), steps=2))
        check("2 ranks resume to step 3", runs.ranks(2, out("resume")))
        same_curve("resumed on 2 ranks", out("resume"), out("lora1"), one_line_per_step=True)

        check("Slurm's variables (srun), 2 ranks", runs.ranks(2, out("slurm"), env_of=slurm_env))
        same_curve("srun 2 ranks", out("slurm"), out("lora1"), one_line_per_step=True)

        if os.path.exists(TORCHRUN):
            r = subprocess.run([TORCHRUN, "--no-python", "--nproc-per-node", "2", "--master-port", str(free_port()),
                                FINCH, *runs.args(out("torchrun"), 2)], capture_output=True, text=True,
                               cwd=work, timeout=300)
            check("torchrun --no-python --nproc-per-node 2 finch train", r.returncode == 0, r.stderr[-2000:])
            same_curve("torchrun 2 ranks", out("torchrun"), out("lora1"), one_line_per_step=True)
        else:
            print(f"skip torchrun: {TORCHRUN} not found")

        mpirun = shutil.which("mpirun")
        if mpirun:
            port = free_port()
            r = subprocess.run([mpirun, "--oversubscribe", "--allow-run-as-root", "-np", "2",
                                "-x", f"MASTER_PORT={port}", "-x", "FINCH_DIST_TIMEOUT=120",
                                FINCH, *runs.args(out("mpirun"), 2)],
                               capture_output=True, text=True, cwd=work, timeout=300)
            check("mpirun --oversubscribe -np 2 finch train", r.returncode == 0, r.stderr[-2000:])
            same_curve("mpirun 2 ranks", out("mpirun"), out("lora1"), one_line_per_step=True)
        else:
            print("skip mpirun: OpenMPI is not installed (apt openmpi-bin)")

        # A half-set environment: one line naming the variable, before any work.
        env = dict(os.environ, RANK="0")
        env.pop("WORLD_SIZE", None)
        r = subprocess.run([FINCH, *runs.args(out("half"), 2)], env=env, capture_output=True, text=True, cwd=work)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        check("RANK without WORLD_SIZE is a one-line error", r.returncode == 1 and last.startswith("finch: error: ")
              and "WORLD_SIZE" in last, f"rc={r.returncode} {last!r}")
        # A missing peer: an error after FINCH_DIST_TIMEOUT, not a hang.
        t0 = time.time()
        env = dict(os.environ, FINCH_DIST_TIMEOUT="2", **torchrun_env(0, 2, free_port()))
        r = subprocess.run([FINCH, *runs.args(out("alone"), 2)], env=env, capture_output=True, text=True, cwd=work,
                           timeout=120)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        check("a missing peer is an error within the timeout",
              r.returncode == 1 and "rendezvous" in last and time.time() - t0 < 60, f"rc={r.returncode} {last!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{time.time() - start:.1f} s")
    finish("dist.ddp")


main()

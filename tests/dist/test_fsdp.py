"""Fully sharded training (parallel.strategy fsdp) through the finch binary, on
the CPU with Gloo over 127.0.0.1: N sharded ranks of per_device_train_batch_size
b equal one process of batch N*b, and each holds about 1/N of the bytes.

A tiny random Llama and toy rows (tests/cli/tiny_run.py), as tests/dist/test_ddp.py.
One process trains 3 steps with a global batch of 4 (LoRA, full fine-tuning);
the same global batch on 2 and 4 fully sharded ranks must give the same
per-step loss, gradient norm and evaluation loss (1e-5, relative) and the same
final weights (1e-5): the consolidated checkpoint one process writes. Each rank
logs the parameter and optimizer-state bytes it holds: at most 1/N of the
single-process figure plus padding (parameters are padded to a multiple of N).
Gradient accumulation with padded batches too. Sharded checkpoints (LoRA and
full): written by 4 ranks, each its own chunk files; resumed on 2 ranks
(re-cut on load) and by one process, both continue the uninterrupted curve;
finch export consolidates the checkpoint into the weights one process saved.

LoRA dropout is off (each rank draws its own masks, as under torch FSDP).

Usage: test_fsdp.py FINCH_BINARY
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


import dist_check
from cli_check import check, finish
from dist_check import GLOBAL_BATCH, same_curve, same_tensors, same_weights, start_ranks, wait_ranks

FINCH = os.path.abspath(sys.argv[1])
HELD = re.compile(r"rank (\d+) holds (\d+) parameter bytes and (\d+) optimizer state bytes")


class Runs(dist_check.Runs):
    def single(self, out, *extra):
        """One process; returns its held bytes (parameters + optimizer state) or None."""
        r = subprocess.run([FINCH, *self.args(out, GLOBAL_BATCH, *extra)], capture_output=True, text=True,
                           cwd=self.work, timeout=300)
        if r.returncode != 0:
            print(r.stderr[-3000:])
            return None
        return held(r.stderr)

    def sharded(self, n, out, *extra, steps=3, accumulation=1):
        """n fully sharded ranks (torchrun's variables); returns {rank: held bytes} or None."""
        extra = ("--gradient_accumulation_steps", str(accumulation), "--parallel.strategy", "fsdp", *extra)
        batch = GLOBAL_BATCH // n // accumulation
        errs = wait_ranks(start_ranks(FINCH, lambda rank: self.args(out, batch, *extra, steps=steps), n, self.work))
        return None if errs is None else {rank: held(err) for rank, err in enumerate(errs)}


def sharded_folder(kind, ckpt, n, file):
    """A sharded checkpoint: each rank's weights, optimizer state and random state, a manifest naming
    the world size and consolidated file, no consolidated weights; each rank's chunk ~1/n of the bytes."""
    names = set(os.listdir(ckpt))
    want = {f"{s}_shard_{r}.safetensors" for s in ("weights", "optimizer") for r in range(n)}
    want |= {f"rng_state_{r}.safetensors" for r in range(n)} | {"shards.json", "MANIFEST.json"}
    check(f"{kind}: the sharded checkpoint holds every rank's files", want <= names, sorted(want - names))
    check(f"{kind}: no consolidated weights or optimizer state in it",
          not names & {file, "optimizer.safetensors"}, sorted(names & {file, "optimizer.safetensors"}))
    manifest = json.load(open(os.path.join(ckpt, "shards.json")))
    check(f"{kind}: shards.json names 4 ranks and {file}",
          manifest.get("world_size") == n and manifest.get("weights_file") == file, str(manifest)[:300])
    sizes = [os.path.getsize(os.path.join(ckpt, f"weights_shard_{r}.safetensors")) for r in range(n)]
    check(f"{kind}: the ranks' weight files are the same size", len(set(sizes)) == 1, str(sizes))


def held(stderr):
    m = HELD.search(stderr)
    return int(m.group(2)) + int(m.group(3)) if m else None


def about_one_nth(name, n, bytes_of, single):
    # Padding: each parameter gains at most n-1 elements (4 bytes) per shard-sized copy (3: weights, 2 moments).
    got = [bytes_of.get(r) for r in range(n)]
    ok = single is not None and all(b is not None for b in got)
    ratio = max(got) / single if ok else float("nan")
    print(f"     {name}: per-rank parameter + optimizer bytes {got}, one process {single}, ratio {ratio:.3f}")
    check(f"{name}: each rank holds about 1/{n} of one process's bytes", ok and ratio <= 1.0 / n * 1.1,
          f"{got} vs {single}")


def main():
    start = time.time()
    work = tempfile.mkdtemp(prefix="finch-fsdp-")
    try:
        runs = Runs(work)
        out = lambda name: os.path.join(work, name)  # noqa: E731
        single = {"lora": runs.single(out("lora1")), "full": runs.single(out("full1"), "--full_ft")}
        check("one process, LoRA and full, batch 4", None not in single.values())
        for n in (2, 4):
            for kind, extra, file in (("lora", (), "adapter_model.safetensors"),
                                      ("full", ("--full_ft",), "model.safetensors")):
                bytes_of = runs.sharded(n, out(f"{kind}{n}"), *extra)
                check(f"{kind} fully sharded on {n} ranks runs", bytes_of is not None)
                if bytes_of is None:
                    continue
                same_curve(f"{kind} fsdp {n} ranks", out(f"{kind}{n}"), out(f"{kind}1"))
                same_weights(f"{kind} fsdp {n} ranks", out(f"{kind}{n}"), out(f"{kind}1"), file)
                about_one_nth(f"{kind} fsdp {n} ranks", n, bytes_of, single[kind])

        # parallel.offload_params: on the CPU the shards are in host memory already, so the run is the same.
        check("full, 2 sharded ranks with parallel.offload_params runs",
              runs.sharded(2, out("offload2"), "--full_ft", "--parallel.offload_params", "true") is not None)
        same_curve("full fsdp 2 ranks with offload_params", out("offload2"), out("full1"))

        # Gradient accumulation: each micro-batch's backward reduces the layers' gradients into the shards.
        check("full, 2 sharded ranks x batch 1 x 2 accumulation, padded, runs",
              runs.sharded(2, out("acc2"), "--full_ft", "--data.packing", "false", accumulation=2) is not None)
        check("one process, full, padded", runs.single(out("pad1"), "--full_ft", "--data.packing", "false") is not None)
        same_curve("full fsdp 2 ranks with accumulation (padded)", out("acc2"), out("pad1"))
        same_weights("full fsdp 2 ranks with accumulation (padded)", out("acc2"), out("pad1"), "model.safetensors")

        # finch's own launcher starts the sharded ranks (the user's entry point).
        r = subprocess.run([FINCH, *runs.args(out("launcher"), 2, "--parallel.strategy", "fsdp"),
                            "--nproc-per-node", "2"], capture_output=True, text=True, cwd=work, timeout=300,
                           env=dict(os.environ, FINCH_DIST_TIMEOUT="120"))
        check("finch train --nproc-per-node 2 --parallel.strategy fsdp", r.returncode == 0, r.stderr[-2000:])
        same_curve("launcher, LoRA fsdp 2 ranks", out("launcher"), out("lora1"))

        # Sharded checkpoints: 4 ranks each write their own chunks; resumed on 2
        # ranks (re-cut on load) and by one process (whole tensors); finch export
        # consolidates them into what one process saves.
        for kind, extra, file in (("full", ("--full_ft",), "model.safetensors"),
                                  ("lora", (), "adapter_model.safetensors")):
            run = out(f"resume-{kind}")
            check(f"{kind}, 4 sharded ranks stop at step 2", runs.sharded(4, run, *extra, steps=2) is not None)
            ckpt = os.path.join(run, "checkpoint-2")
            sharded_folder(kind, ckpt, 4, file)
            one = out(f"resume-{kind}-one")
            shutil.copytree(ckpt, os.path.join(one, "checkpoint-2"))
            shutil.copytree(os.path.join(run, "logs"), os.path.join(one, "logs"))  # the curve's steps 1-2
            exported = out(f"export-{kind}")
            r = subprocess.run([FINCH, "export", "--checkpoint", ckpt, "--dtype", "fp32", "--output", exported,
                                *(("--no-merge",) if kind == "lora" else ())], capture_output=True, text=True,
                               cwd=work, timeout=300)
            check(f"{kind}: finch export of the sharded checkpoint", r.returncode == 0, r.stderr[-2000:])
            if r.returncode == 0:
                same_tensors(f"{kind}: export of the sharded checkpoint-2", os.path.join(exported, file),
                             os.path.join(out(f"{kind}1"), "checkpoint-2", file))
            check(f"{kind}, 2 sharded ranks resume to step 3", runs.sharded(2, run, *extra) is not None)
            same_curve(f"{kind} written at 4 ranks, resumed at 2", run, out(f"{kind}1"))
            same_weights(f"{kind} written at 4 ranks, resumed at 2", run, out(f"{kind}1"), file)
            check(f"{kind}: one process resumes the 4-rank sharded checkpoint", runs.single(one, *extra) is not None)
            same_curve(f"{kind} written at 4 ranks, resumed by one process", one, out(f"{kind}1"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{time.time() - start:.1f} s")
    finish("dist.fsdp")


main()

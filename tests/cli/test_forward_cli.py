"""End to end through the finch binary: `finch forward`, `finch env`, --help,
and the one-line errors users see for bad input.

Usage: test_forward_cli.py FINCH_BINARY TINY_MODELS_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file

from cli_check import check, expect_error, finish

FINCH, TINY = sys.argv[1], sys.argv[2]
def run(*args):
    return subprocess.run([FINCH, *args], capture_output=True, text=True, timeout=300)


def test_forward_matches_reference(tmp):
    model = os.path.join(TINY, "qwen3")
    out = os.path.join(tmp, "logits.safetensors")
    r = run("forward", "--model", model, "--ids-file", os.path.join(model, "ids.jsonl"), "--out", out,
            "--batch-size", "3")
    check("forward exits 0", r.returncode == 0, r.stderr)
    lines = r.stdout.strip().splitlines()
    check("forward prints one JSON line", len(lines) == 1, r.stdout)
    printed = json.loads(lines[0])
    reference = json.load(open(os.path.join(model, "reference.json")))["fp32"]
    check("forward loss matches transformers (1e-5)", abs(printed["loss"] - reference["loss"]) <= 1e-5,
          f"{printed} vs {reference}")
    check("forward token count", printed["tokens"] == reference["tokens"], f"{printed} vs {reference}")
    got, ref = load_file(out), load_file(os.path.join(model, "reference.safetensors"))
    rows = [json.loads(l) for l in open(os.path.join(model, "ids.jsonl"))]
    check("one logits tensor per line", sorted(got) == [f"logits.{i}" for i in range(len(rows))], sorted(got))
    for i, row in enumerate(rows):
        valid = torch.tensor(row.get("attention_mask", [1] * len(row["input_ids"]))).bool()
        diff = (got[f"logits.{i}"] - ref[f"fp32.logits.{i}"])[valid].abs().max().item()
        check(f"logits.{i} match transformers (1e-4)", diff <= 1e-4, f"max diff {diff}")


def test_env_and_help():
    r = run("env")
    check("env exits 0", r.returncode == 0, r.stderr)
    for key in ("finch", "libtorch", "cuda devices", "threads", "features"):
        check(f"env reports {key}", any(l.startswith(key) for l in r.stdout.splitlines()), r.stdout)
    r = run("--help")
    check("--help lists the commands", r.returncode == 0 and "env" in r.stdout and "forward" in r.stdout, r.stdout)
    r = run("forward", "--help")
    check("forward --help documents the options",
          r.returncode == 0 and all(o in r.stdout for o in ("--model", "--ids-file", "--out", "--dtype", "--device")))
    r = run("--threads", "1", "env")
    check("--threads sets the thread count", "threads                1 intra-op" in r.stdout, r.stdout)


def test_errors(tmp):
    model = os.path.join(TINY, "llama3")
    ids = os.path.join(model, "ids.jsonl")
    expect_error("missing model directory", run("forward", "--model", os.path.join(tmp, "nope"), "--ids-file", ids),
                 "nope", "config.json", "not found")
    bad_ids = os.path.join(tmp, "bad.jsonl")
    open(bad_ids, "w").write('{"input_ids": [1, 2]}\n{"input_ids": [1, 500]}\n')
    expect_error("token outside the vocabulary", run("forward", "--model", model, "--ids-file", bad_ids),
                 "bad.jsonl:2", "500", "outside the vocabulary")
    expect_error("bad dtype", run("forward", "--model", model, "--ids-file", ids, "--dtype", "fp8"),
                 "dtype 'fp8'")
    if not torch.cuda.is_available():
        expect_error("cuda without a device", run("forward", "--model", model, "--ids-file", ids, "--device", "cuda"),
                     "no CUDA device")

    other = os.path.join(tmp, "gpt2")
    shutil.copytree(model, other)
    config = json.load(open(os.path.join(other, "config.json")))
    config["architectures"] = ["GPT2LMHeadModel"]
    json.dump(config, open(os.path.join(other, "config.json"), "w"))
    expect_error("unsupported architecture", run("forward", "--model", other, "--ids-file", ids),
                 "GPT2LMHeadModel", "supported: LlamaForCausalLM")

    broken = os.path.join(tmp, "broken")
    shutil.copytree(model, broken)
    weights = os.path.join(broken, "model.safetensors")
    size = os.path.getsize(weights)
    with open(weights, "r+b") as f:
        f.truncate(size - 100)
    expect_error("truncated weights", run("forward", "--model", broken, "--ids-file", ids),
                 "model.safetensors", "not a valid safetensors file")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_forward_matches_reference(tmp)
        test_env_and_help()
        test_errors(tmp)
    finish("cli")


if __name__ == "__main__":
    main()

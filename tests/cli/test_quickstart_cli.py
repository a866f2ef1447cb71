"""The quickstart end to end, shortened (scripts/quickstart_run.sh --short:
fewer rows, steps and test rows, the same commands): the built-in dataset,
prepare, LoRA training, `finch test --compare-base`, both exports. The
fine-tuned model must beat the base model on the built-in test split (higher
BERTScore F1 and more exact matches), every output the summary names must
exist, and the exports must be what transformers and PEFT load (the files;
loading them is cli.export's test).

Usage: test_quickstart_cli.py FINCH_BINARY REPO_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile

from cli_check import check, finish

FINCH, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])

with tempfile.TemporaryDirectory() as work:
    env = dict(os.environ, FINCH_BIN=FINCH, FINCH_QUICKSTART_DIR=work)
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "quickstart_run.sh"), "--short"],
                       env=env, capture_output=True, text=True)
    print(r.stdout[-3000:], r.stderr[-3000:], sep="\n")
    check("quickstart --short exits 0", r.returncode == 0, f"rc={r.returncode}")
    for n in range(1, 7):
        check(f"progress: step {n}/6 announced", f"quickstart [{n}/6," in r.stdout)

    run = os.path.join(work, "run")
    checkpoints = sorted(d for d in os.listdir(run) if d.startswith("checkpoint-") and "." not in d) \
        if os.path.isdir(run) else []
    check("one checkpoint written", len(checkpoints) == 1, str(checkpoints))
    if checkpoints:
        ckpt = os.path.join(run, checkpoints[0])
        metrics = json.load(open(os.path.join(ckpt, "metrics.json")))
        ft, base = metrics["fine_tuned"], metrics["base"]
        print(f"fine-tuned: F1 {ft['bertscore_f1']:.4f} exact {ft['exact_match']:.4f}; "
              f"base: F1 {base['bertscore_f1']:.4f} exact {base['exact_match']:.4f}")
        check("tested on the built-in test split", metrics["samples"] == 12 and "synth" in metrics["test_file"])
        check("fine-tuned beats base: BERTScore F1", ft["bertscore_f1"] > base["bertscore_f1"])
        check("fine-tuned beats base: exact match", ft["exact_match"] > base["exact_match"])
        for name in ["predictions.jsonl", "base_predictions.jsonl"]:
            check(f"{name} has a line per test row", sum(1 for _ in open(os.path.join(ckpt, name))) == 12)
        check("merged HF model exported", os.path.isfile(os.path.join(ckpt + ".hf_model", "config.json")))
        check("PEFT adapter exported", os.path.isfile(os.path.join(ckpt + ".hf_peft", "adapter_config.json")))
        for path in [ckpt + ".hf_model", ckpt + ".hf_peft", os.path.join(ckpt, "metrics.json"),
                     os.path.join(work, "synth.jsonl")]:
            check(f"summary names {os.path.relpath(path, work)}", path in r.stdout)

finish("cli.quickstart")

"""End to end through the finch binary: `finch export` on runs `finch train`
made of a tiny random Llama (tests/cli/tiny_run.py), loaded back by the
reference libraries.

Checks:
- LoRA run, merged export (fp32): transformers' AutoModelForCausalLM loads
  it and gives the logits of PEFT's model (base + the checkpoint's adapter)
  and of `finch forward` on the export, within 1e-4 (fp32 on CPU);
- the default export (bf16, beside the checkpoint as checkpoint-N.hf_model):
  its weights are the fp32 export's rounded to bf16, exactly; config.json
  says bfloat16; tokenizer and generation_config.json are there;
- a tiny --max-shard-size: the shards and index are what transformers'
  save_pretrained (huggingface_hub's shard plan) makes, and transformers
  loads them and gives the same logits;
- --no-merge: a PEFT adapter folder (checkpoint-N.hf_peft) with PEFT's
  config keys and tensor names that PeftModel.from_pretrained loads, with
  the checkpoint's logits;
- an adapter made and saved by PEFT itself (lora_B non-zero) loads into
  finch: finch export merges it and finch forward on the export gives
  PEFT's logits (1e-4); --base-model replaces a base that moved;
- full fine-tuning run of a model with tied embeddings: the export drops the
  tied lm_head as transformers does and loads with the run's logits;
- errors: no results folder, an empty one, a torn checkpoint, a missing
  checkpoint folder, --no-merge on a full model, a bad --max-shard-size;
  no temporary folder is ever left behind.

Usage: test_export_cli.py FINCH_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from huggingface_hub import split_torch_state_dict_into_shards
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from cli_check import check, expect_error, finish
from tiny_run import make_model, make_rows, train_args, write_rows

FINCH = sys.argv[1]
IDS = [[5, 6, 7, 8, 9, 10, 11], [12, 40, 41, 3, 2, 100, 250]]


def finch(*args, cwd=None):
    return subprocess.run([FINCH, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def train(work, model, data, *extra):
    return finch(*train_args(work, model, data, *extra), cwd=work)


def export(*args, cwd=None):
    """Runs finch export; returns (result, its JSON line or None)."""
    r = finch("export", *args, cwd=cwd)
    try:
        return r, json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return r, None


def logits_hf(model):
    with torch.no_grad():
        return model(torch.tensor(IDS)).logits.float()


def logits_finch(model_dir, tmp):
    ids = os.path.join(tmp, "ids.jsonl")
    with open(ids, "w") as f:
        for row in IDS:
            f.write(json.dumps({"input_ids": row}) + "\n")
    out = os.path.join(tmp, "finch_logits.safetensors")
    r = finch("forward", "--model", model_dir, "--ids-file", ids, "--out", out)
    if r.returncode != 0:
        print(r.stderr)
        return None
    got = load_file(out)
    return torch.stack([got[f"logits.{i}"] for i in range(len(IDS))])


def max_diff(a, b):
    return float("inf") if a is None or b is None else (a - b).abs().max().item()


def load_fp32(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)


def last_line_error(name, result, *fragments):
    """A user mistake after warnings (torn checkpoints skipped): exit 1, the last stderr line the error."""
    lines = result.stderr.strip().splitlines()
    ok = result.returncode == 1 and lines and lines[-1].startswith("finch: error: ") and all(
        f in lines[-1] for f in fragments)
    check(name, ok, f"rc={result.returncode} stderr={result.stderr.strip()!r}")


def no_temporaries(folder):
    return [x for x in os.listdir(folder) if x.startswith(".partial-") or x.startswith(".replaced-")]


def test_lora_run(work, model, data):
    r = train(work, model, data)
    check("LoRA run trains", r.returncode == 0, r.stderr[-1500:])
    run = os.path.join(work, "results", "tiny-llama")  # finch train's default run folder for a local model
    ck = os.path.join(run, "checkpoint-4")
    base = load_fp32(model)
    with torch.no_grad():
        peft_logits = logits_hf(PeftModel.from_pretrained(base, ck))
    base = load_fp32(model)
    check("the adapter changes the model", max_diff(peft_logits, logits_hf(base)) > 1e-3)

    # fp32 merged export, found from the model id as finch test finds it.
    out32 = os.path.join(work, "merged-fp32")
    r, info = export("--hf_model_id", model, "--dtype", "fp32", "--output", out32, cwd=work)
    check("export fp32 exits 0", r.returncode == 0 and info is not None, r.stderr[-1500:])
    if info is None:
        return
    check("export reports the newest checkpoint", os.path.samefile(os.path.join(work, info["checkpoint"]), ck), str(info))
    check("export reports what it wrote", info["kind"] == "model" and info["dtype"] == "fp32"
          and info["files"][0] == "model.safetensors" and info["parameters"] == sum(
              p.numel() for p in base.parameters()), str(info))
    check("export says where and what on stderr", "merged model" in r.stderr and "parameters" in r.stderr, r.stderr)
    merged = load_fp32(out32)
    d = max_diff(logits_hf(merged), peft_logits)
    check(f"transformers loads the merged export: PEFT's logits (1e-4; max diff {d:.1e})", d <= 1e-4)
    d = max_diff(logits_finch(out32, work), peft_logits)
    check(f"finch forward on the merged export: PEFT's logits (1e-4; max diff {d:.1e})", d <= 1e-4)
    config = json.load(open(os.path.join(out32, "config.json")))
    check("config.json says float32", config["dtype"] == "float32", str(config.get("dtype")))
    with safe_open(os.path.join(out32, "model.safetensors"), "pt") as f:
        check("metadata format pt", f.metadata() == {"format": "pt"}, str(f.metadata()))

    # Default: bf16, beside the checkpoint.
    r, info = export("--results", run)
    default = os.path.join(run, "checkpoint-4.hf_model")
    check("export defaults to checkpoint-N.hf_model beside the checkpoint",
          r.returncode == 0 and info and os.path.samefile(info["output"], default), r.stderr[-1500:])
    if not os.path.isdir(default):
        return
    for name in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "model.safetensors"]:
        check(f"hf_model holds {name}", os.path.exists(os.path.join(default, name)))
    config = json.load(open(os.path.join(default, "config.json")))
    check("config.json says bfloat16", config["dtype"] == "bfloat16", str(config.get("dtype")))
    bf16, fp32 = load_file(os.path.join(default, "model.safetensors")), load_file(os.path.join(out32, "model.safetensors"))
    check("bf16 export = fp32 export rounded to bf16, exactly",
          bf16.keys() == fp32.keys() and all(bf16[k].dtype == torch.bfloat16 and torch.equal(bf16[k], fp32[k].bfloat16())
                                              for k in fp32))
    m16 = AutoModelForCausalLM.from_pretrained(default)
    check("transformers loads the bf16 export as bf16", m16.dtype == torch.bfloat16, str(m16.dtype))
    d = max_diff(logits_hf(m16), peft_logits)
    check(f"bf16 export's logits near fp32 (5e-2; max diff {d:.1e})", d <= 5e-2)
    gen = json.load(open(os.path.join(default, "generation_config.json")))
    check("generation_config.json is the base's", gen == json.load(open(os.path.join(model, "generation_config.json"))))
    check("the checkpoint folder is not touched", sorted(os.listdir(os.path.join(run, "checkpoint-4"))) == sorted(
        json.load(open(os.path.join(ck, "MANIFEST.json")))["files"].keys() | {"MANIFEST.json"}))
    r, _ = export("--results", run)
    check("exporting again replaces the folder", r.returncode == 0 and os.path.exists(default), r.stderr[-800:])

    # Sharded: huggingface_hub's plan, loadable by transformers.
    sharded = os.path.join(work, "sharded")
    r, info = export("--checkpoint", ck, "--dtype", "fp32", "--max-shard-size", "20KB", "--output", sharded)
    check("sharded export exits 0", r.returncode == 0 and info is not None, r.stderr[-1500:])
    index_path = os.path.join(sharded, "model.safetensors.index.json")
    if os.path.exists(index_path):
        index = json.load(open(index_path))
        plan = split_torch_state_dict_into_shards(merged.state_dict(), max_shard_size="20KB")
        check("shards: as transformers' save_pretrained splits them", index["weight_map"] == plan.tensor_to_filename
              and len(plan.filename_to_tensors) > 2, f"{len(plan.filename_to_tensors)} shards")
        check("index metadata: total_size and total_parameters",
              index["metadata"] == {"total_size": plan.metadata["total_size"],
                                    "total_parameters": merged.num_parameters()}, str(index["metadata"]))
        check("no model.safetensors beside the shards", not os.path.exists(os.path.join(sharded, "model.safetensors")))
        d = max_diff(logits_hf(load_fp32(sharded)), logits_hf(merged))
        check("transformers loads the sharded export: same logits", d == 0, f"max diff {d}")
    else:
        check("sharded export writes an index", False, str(os.listdir(sharded)) if os.path.isdir(sharded) else "")

    # --no-merge: a PEFT adapter folder.
    r, info = export("--results", run, "--no-merge")
    peft_dir = os.path.join(run, "checkpoint-4.hf_peft")
    check("--no-merge writes checkpoint-N.hf_peft", r.returncode == 0 and info and info["kind"] == "adapter"
          and os.path.samefile(info["output"], peft_dir), r.stderr[-1500:])
    if os.path.isdir(peft_dir):
        config = json.load(open(os.path.join(peft_dir, "adapter_config.json")))
        wanted = {"base_model_name_or_path": model, "r": 32, "lora_alpha": 32, "lora_dropout": 0.1, "bias": "none",
                  "task_type": "CAUSAL_LM", "peft_type": "LORA"}
        check("adapter_config.json keys", all(config.get(k) == v for k, v in wanted.items())
              and sorted(config["target_modules"]) == sorted(
                  ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]), str(config))
        ours = load_file(os.path.join(peft_dir, "adapter_model.safetensors"))
        theirs = load_file(os.path.join(ck, "adapter_model.safetensors"))
        check("adapter tensors: PEFT's names, the checkpoint's values (fp32)", ours.keys() == theirs.keys()
              and all(ours[k].dtype == torch.float32 and torch.equal(ours[k], theirs[k]) for k in ours))
        d = max_diff(logits_hf(PeftModel.from_pretrained(load_fp32(model), peft_dir)), peft_logits)
        check(f"PeftModel.from_pretrained loads the adapter export: same logits (1e-6; max diff {d:.1e})", d <= 1e-6)
    check("no temporary folder left in the run", not no_temporaries(run), str(no_temporaries(run)))

    # Errors about the run folder.
    torn = os.path.join(work, "torn")
    os.makedirs(torn)
    shutil.copytree(ck, os.path.join(torn, "checkpoint-4"))
    with open(os.path.join(torn, "checkpoint-4", "adapter_model.safetensors"), "r+b") as f:
        f.truncate(64)
    r = finch("export", "--results", torn)
    last_line_error("a torn checkpoint: not used, said why", r, "no complete checkpoint-N", "checkpoint-4",
                 "adapter_model.safetensors")
    expect_error("a torn checkpoint given: refused", finch("export", "--checkpoint", os.path.join(torn, "checkpoint-4")),
                 "incomplete", "adapter_model.safetensors")
    expect_error("bad --max-shard-size", finch("export", "--results", run, "--max-shard-size", "5XB"),
                 "--max-shard-size", "5XB")


def test_peft_made_adapter(work, model):
    """An adapter PEFT trained and saved (non-zero B), loaded by finch."""
    torch.manual_seed(3)
    base = load_fp32(model)
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "down_proj"],
                        task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    peft_model.eval()
    expected = logits_hf(peft_model)
    adapter = os.path.join(work, "peft-adapter")
    peft_model.save_pretrained(adapter)
    check("PEFT's adapter changes the model", max_diff(expected, logits_hf(load_fp32(model))) > 1e-3)

    out = os.path.join(work, "peft-merged")
    r, info = export("--checkpoint", adapter, "--dtype", "fp32", "--output", out)
    check("finch exports PEFT's adapter", r.returncode == 0 and info is not None, r.stderr[-1500:])
    d = max_diff(logits_finch(out, work), expected)
    check(f"finch forward on it: PEFT's logits (1e-4; max diff {d:.1e})", d <= 1e-4)
    d = max_diff(logits_hf(load_fp32(out)), expected)
    check(f"transformers on it: PEFT's logits (1e-4; max diff {d:.1e})", d <= 1e-4)

    # A base that moved: the recorded path fails, --base-model replaces it.
    moved = os.path.join(work, "moved-adapter")
    shutil.copytree(adapter, moved)
    cfg_path = os.path.join(moved, "adapter_config.json")
    cfg = json.load(open(cfg_path))
    cfg["base_model_name_or_path"] = os.path.join(work, "gone")
    json.dump(cfg, open(cfg_path, "w"))
    expect_error("a base that moved: named", finch("export", "--checkpoint", moved, "--output", out), "gone")
    r, _ = export("--checkpoint", moved, "--base-model", model, "--dtype", "fp32", "--output", out)
    d = max_diff(logits_finch(out, work), expected)
    check("--base-model replaces the recorded base", r.returncode == 0 and d <= 1e-4, f"{r.stderr[-800:]} {d}")
    r, info = export("--checkpoint", adapter, "--no-merge", "--output", os.path.join(work, "peft-again"))
    again = load_file(os.path.join(work, "peft-again", "adapter_model.safetensors")) if r.returncode == 0 else {}
    orig = load_file(os.path.join(adapter, "adapter_model.safetensors"))
    check("--no-merge on PEFT's adapter: the same tensors", again.keys() == orig.keys()
          and all(torch.equal(again[k], orig[k]) for k in orig), r.stderr[-800:])


def test_full_run(work, data, rows):
    model = make_model(work, rows, name="tiny-tied", tie_word_embeddings=True)
    run = os.path.join(work, "full_run")
    r = train(work, model, data, "--full_ft", "--output_dir", run)
    check("full fine-tuning run trains", r.returncode == 0, r.stderr[-1500:])
    ck = os.path.join(run, "checkpoint-4")
    expected = logits_hf(load_fp32(ck))
    check("full fine-tuning changed the model", max_diff(expected, logits_hf(load_fp32(model))) > 1e-3)
    r, info = export("--results", run, "--dtype", "fp32")
    out = os.path.join(run, "checkpoint-4.hf_model")
    check("export of a full run exits 0", r.returncode == 0 and info is not None, r.stderr[-1500:])
    if os.path.isdir(out):
        with safe_open(os.path.join(out, "model.safetensors"), "pt") as f:
            check("the tied lm_head is not stored", "lm_head.weight" not in f.keys(), str(list(f.keys())))
        d = max_diff(logits_hf(load_fp32(out)), expected)
        check(f"transformers loads the full export: the checkpoint's logits (1e-6; max diff {d:.1e})", d <= 1e-6)
        check("tokenizer files copied", os.path.exists(os.path.join(out, "tokenizer.json")))
    expect_error("--no-merge on a full model", finch("export", "--results", run, "--no-merge"),
                 "full fine-tuned model", "--no-merge")


def main():
    work = tempfile.mkdtemp(prefix="finch_export_")
    rows = make_rows(120)
    data = write_rows(work, rows)
    model = make_model(work, rows)

    expect_error("no results folder", finch("export", "--hf_model_id", "org/never-trained", cwd=work),
                 "no results folder", "results/org/never-trained")
    os.makedirs(os.path.join(work, "empty_run"))
    expect_error("no checkpoint in the results folder", finch("export", "--results", os.path.join(work, "empty_run")),
                 "no complete checkpoint-N", "empty_run")
    expect_error("no such checkpoint folder", finch("export", "--checkpoint", os.path.join(work, "nope")),
                 "nope", "no such folder")

    test_lora_run(work, model, data)
    test_peft_made_adapter(work, model)
    test_full_run(work, data, rows)
    check("no temporary folder left in the work folder", not no_temporaries(work), str(no_temporaries(work)))
    shutil.rmtree(work, ignore_errors=True)
    finish("export")


if __name__ == "__main__":
    main()

"""`finch train --dry-run` on every file in configs/, and its parameter
counts against transformers + PEFT.

Why the reference counts are right: transformers builds each model from the
same config.json (AutoModelForCausalLM.from_config on the meta device, so
nothing is allocated) and PEFT's get_peft_model adds LoRA with the config's
resolved lora settings; get_nb_trainable_parameters is what
print_trainable_parameters prints. The config.json files hold the real
published dimensions, and the totals are also checked against the models'
published parameter counts. finch must print exactly these numbers.

What else is checked: every configs/*.yaml (globbed, so new files are
covered) runs with --dry-run offline from a fake Hub cache holding only
config.json, prints the settings exactly as `finch config show` does, the
counts and a memory total, and the total matches the "about X GiB per GPU"
its header comment states. Tiny configs of every architecture cover biases,
q/k norms, tied embeddings, fused projections and LoRA on lm_head. Bad
parallel settings, fsdp training without activation checkpointing and a
model absent from the cache are one-line errors.

Usage: test_configs_cli.py FINCH_BINARY CONFIGS_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import torch
import yaml
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

from cli_check import check, expect_error, finish

FINCH = os.path.abspath(sys.argv[1])
CONFIGS = os.path.abspath(sys.argv[2])

# config.json of every model configs/ names, as published on the Hub (the
# keys that decide the architecture; generation and token ids left out).
_LLAMA3_ROPE = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192, "rope_type": "llama3"}
HUB_CONFIGS = {
    "Qwen/Qwen3-8B": dict(
        architectures=["Qwen3ForCausalLM"], model_type="qwen3", hidden_size=4096, intermediate_size=12288,
        num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128, vocab_size=151936,
        max_position_embeddings=40960, max_window_layers=36, rms_norm_eps=1e-6, rope_theta=1000000,
        rope_scaling=None, attention_bias=False, sliding_window=None, use_sliding_window=False,
        tie_word_embeddings=False, hidden_act="silu", torch_dtype="bfloat16"),
    "meta-llama/Meta-Llama-3-8B": dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
        max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=500000.0, rope_scaling=None,
        attention_bias=False, tie_word_embeddings=False, hidden_act="silu", torch_dtype="bfloat16"),
    "mistralai/Mistral-7B-v0.3": dict(
        architectures=["MistralForCausalLM"], model_type="mistral", hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8, vocab_size=32768,
        max_position_embeddings=32768, rms_norm_eps=1e-5, rope_theta=1000000.0, sliding_window=None,
        tie_word_embeddings=False, hidden_act="silu", torch_dtype="bfloat16"),
    "meta-llama/Llama-3.1-70B": dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=8192, intermediate_size=28672,
        num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8, vocab_size=128256,
        max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0, rope_scaling=_LLAMA3_ROPE,
        attention_bias=False, mlp_bias=False, tie_word_embeddings=False, hidden_act="silu",
        torch_dtype="bfloat16"),
}
# The parameter counts the model cards publish (safetensors metadata).
PUBLISHED_TOTALS = {"Qwen/Qwen3-8B": 8190735360, "meta-llama/Meta-Llama-3-8B": 8030261248,
                    "mistralai/Mistral-7B-v0.3": 7248023552, "meta-llama/Llama-3.1-70B": 70553706496}

COUNTS = re.compile(r"^trainable params: ([\d,]+) \|\| all params: ([\d,]+) \|\| trainable%: ([\d.]+)$", re.M)
TOTAL = re.compile(r"^  total +([\d.]+) GiB  per GPU$", re.M)


def write_hub_cache(hub):
    """The Hub cache layout huggingface_hub writes: refs/main -> a commit, snapshots/{commit}/config.json."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    for repo_id, config in HUB_CONFIGS.items():
        folder = os.path.join(hub, "models--" + repo_id.replace("/", "--"))
        os.makedirs(os.path.join(folder, "refs"), exist_ok=True)
        os.makedirs(os.path.join(folder, "snapshots", commit), exist_ok=True)
        with open(os.path.join(folder, "refs", "main"), "w") as f:
            f.write(commit)
        with open(os.path.join(folder, "snapshots", commit, "config.json"), "w") as f:
            json.dump(config, f, indent=2)


def reference_counts(config_dir, settings):
    """(trainable, all) as PEFT's print_trainable_parameters reports them, and the base model's size."""
    config = AutoConfig.from_pretrained(config_dir)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
        base = sum(p.numel() for p in model.parameters())
        if settings["train"]["full_ft"]:
            return (base, base), base
        lora = settings["lora"]
        model = get_peft_model(model, LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"],
                                                 lora_dropout=lora["dropout"],
                                                 target_modules=list(lora["target_modules"]),
                                                 use_rslora=lora["use_rslora"]))
    return model.get_nb_trainable_parameters(), base


def finch(*args):
    return subprocess.run([FINCH, *args], capture_output=True, text=True, timeout=300)


def check_counts(name, out, expected):
    m = COUNTS.search(out)
    if not m:
        check(f"{name}: prints the counts", False, out[-2000:])
        return
    trainable, total = (int(g.replace(",", "")) for g in m.groups()[:2])
    check(f"{name}: trainable / all equal PEFT's {expected[0]:,} / {expected[1]:,}",
          (trainable, total) == tuple(expected), f"finch {trainable:,} / {total:,}")
    check(f"{name}: trainable% as PEFT prints it",
          m.group(3) == f"{100 * expected[0] / expected[1]:.4f}", m.group(3))


def test_configs(tmp):
    files = sorted(glob.glob(os.path.join(CONFIGS, "*.yaml")))
    check("configs/ holds the five recipes", len(files) >= 5, str(files))
    for path in files:
        name = os.path.basename(path)
        shown = finch("config", "show", "--config", path)
        check(f"{name}: finch config show", shown.returncode == 0, shown.stderr)
        settings = yaml.safe_load(shown.stdout)
        model_id = settings["model"]["hf_model_id"]
        if model_id not in HUB_CONFIGS:
            check(f"{name}: {model_id} has a config.json in this test (add it to HUB_CONFIGS)", False)
            continue
        r = finch("train", "--config", path, "--dry-run")
        check(f"{name}: --dry-run succeeds", r.returncode == 0, r.stderr.strip())
        if r.returncode != 0:
            continue
        print(f"--- {name}\n{r.stdout[len(shown.stdout):]}", end="")
        check(f"{name}: prints the settings as finch config show", r.stdout.startswith(shown.stdout))
        config_dir = os.path.join(tmp, "ref", model_id)
        os.makedirs(config_dir, exist_ok=True)
        with open(os.path.join(config_dir, "config.json"), "w") as f:
            json.dump(HUB_CONFIGS[model_id], f)
        expected, base = reference_counts(config_dir, settings)
        check(f"{name}: {model_id} has its published size", base == PUBLISHED_TOTALS[model_id],
              f"{base:,} != {PUBLISHED_TOTALS[model_id]:,}")
        check_counts(name, r.stdout, expected)
        check(f"{name}: prints the memory breakdown",
              all(re.search(rf"^  {k} +[\d.]+ GiB", r.stdout, re.M) for k in ("weights", "activations", "logits")))
        total = TOTAL.search(r.stdout)
        with open(path) as f:
            header = "".join(line for line in f if line.startswith("#"))
        stated = re.search(r"about ([\d.]+) GiB per GPU", header)
        check(f"{name}: header states the GPUs and the memory per GPU", stated is not None and "GPU" in header)
        if total and stated:
            check(f"{name}: header's {stated.group(1)} GiB matches the estimate {total.group(1)} GiB",
                  abs(float(stated.group(1)) - float(total.group(1))) <= 0.051)


TINY = dict(vocab_size=96, hidden_size=48, intermediate_size=80, num_hidden_layers=3, num_attention_heads=6,
            num_key_value_heads=2, max_position_embeddings=256, bos_token_id=1, eos_token_id=2, pad_token_id=0)
ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# name -> (config.json, finch flags); each exercises a piece of the count.
TINY_CASES = {
    "llama_biases": (dict(architectures=["LlamaForCausalLM"], model_type="llama", attention_bias=True,
                          mlp_bias=True), []),
    "llama_tied": (dict(architectures=["LlamaForCausalLM"], model_type="llama", tie_word_embeddings=True,
                        num_key_value_heads=3), ["--lora.target_modules=q_proj,v_proj", "--lora.rank=4"]),
    "mistral_full": (dict(architectures=["MistralForCausalLM"], model_type="mistral", head_dim=12,
                          sliding_window=5), ["--train.full_ft=true"]),
    "qwen2_qkv_bias": (dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", tie_word_embeddings=False), []),
    "qwen3_norms_lm_head": (dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=16,
                                 attention_bias=True, tie_word_embeddings=False),
                            ["--lora.target_modules=" + ",".join(ALL + ["lm_head"]), "--lora.rank=3"]),
    "qwen3_full": (dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=16,
                        tie_word_embeddings=True), ["--train.full_ft=true"]),
    "phi3_fused": (dict(architectures=["Phi3ForCausalLM"], model_type="phi3", tie_word_embeddings=False),
                   ["--lora.target_modules=qkv_proj,o_proj,gate_up_proj,down_proj"]),
}


def test_tiny(tmp):
    for name, (config, flags) in TINY_CASES.items():
        folder = os.path.join(tmp, "tiny", name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({**TINY, **config}, f)
        args = [f"--model.hf_model_id={folder}", *flags]
        r = finch("train", *args, "--dry-run")
        check(f"tiny {name}: --dry-run succeeds", r.returncode == 0, r.stderr.strip())
        settings = yaml.safe_load(finch("config", "show", *args).stdout)
        check_counts(f"tiny {name}", r.stdout, reference_counts(folder, settings)[0])


def test_errors():
    qwen = os.path.join(CONFIGS, "qwen3-8b-lora.yaml")
    expect_error("parallel.strategy must be none, ddp or fsdp",
                 finch("train", "--config", qwen, "--parallel.strategy=tp", "--dry-run"),
                 "parallel.strategy", "none, ddp or fsdp", "'tp'")
    expect_error("parallel.nproc_per_node must be >= 1",
                 finch("train", "--config", qwen, "--parallel.nproc_per_node=0", "--dry-run"),
                 "parallel.nproc_per_node", ">= 1")
    expect_error("parallel.max_restarts must be >= 0",
                 finch("train", "--config", qwen, "--parallel.max_restarts=-1", "--dry-run"),
                 "parallel.max_restarts", ">= 0")
    expect_error("parallel.offload_params needs fsdp",
                 finch("train", "--config", qwen, "--parallel.offload_params=true", "--dry-run"),
                 "parallel.offload_params", "fsdp")
    expect_error("training with fsdp needs activation checkpointing",
                 finch("train", "--config", qwen, "--parallel.strategy=fsdp", "--parallel.nproc_per_node=2",
                       "--train.activation_checkpointing=false"),
                 "parallel.strategy", "fsdp", "train.activation_checkpointing")
    expect_error("a model absent from the offline cache",
                 finch("train", "--model.hf_model_id=nobody/absent", "--dry-run"),
                 "config.json", "nobody/absent", "not in the cache")
    expect_error("a LoRA target the model lacks",
                 finch("train", "--config", qwen, "--lora.target_modules=c_attn", "--dry-run"),
                 "lora.target_modules", "'c_attn'")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        hub = os.path.join(tmp, "hub")
        write_hub_cache(hub)
        os.environ.update(HF_HUB_CACHE=hub, HF_HUB_OFFLINE="1")
        os.environ.pop("HF_TOKEN", None)
        os.chdir(tmp)  # a dry run writes nothing; run where a stray file would be noticed
        test_configs(tmp)
        test_tiny(tmp)
        test_errors()
        leftovers = sorted(set(os.listdir(tmp)) - {"hub", "ref", "tiny"})
        check("a dry run writes no files", not leftovers, str(leftovers))
    finish("configs dry-run")


if __name__ == "__main__":
    main()

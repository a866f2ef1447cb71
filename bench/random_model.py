"""Writes a randomly initialised HF model of a real model's shape, for
benchmarks on machines that cannot download weights (throughput and memory
do not depend on the values).

Usage: random_model.py {smollm2-135m,llama3.2-1b,qwen3-1.7b} OUT_DIR [--dtype bf16]
                       [--tokenizer DIR]

--tokenizer copies a tokenizer's files (tokenizer.json, tokenizer_config.json,
chat_template.jinja, special_tokens_map.json where present) from DIR into
OUT_DIR, for the benchmarks that tokenize text; its vocabulary must fit the
shape's (every id below vocab_size).
"""
import argparse
import json
import os
import shutil

import torch
from transformers import AutoConfig, AutoModelForCausalLM

SHAPES = {
    # SmolLM2-135M-Instruct's config.json.
    "smollm2-135m": dict(model_type="llama", hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                         num_attention_heads=9, num_key_value_heads=3, vocab_size=49152, rms_norm_eps=1e-5,
                         rope_theta=100000.0, max_position_embeddings=8192, tie_word_embeddings=True),
    # Llama-3.2-1B's shape (rope scaling left out: it does not change the work).
    "llama3.2-1b": dict(model_type="llama", hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                        num_attention_heads=32, num_key_value_heads=8, head_dim=64, vocab_size=128256,
                        rms_norm_eps=1e-5, rope_theta=500000.0, max_position_embeddings=131072,
                        tie_word_embeddings=True),
    # Qwen3-1.7B's shape.
    "qwen3-1.7b": dict(model_type="qwen3", hidden_size=2048, intermediate_size=6144, num_hidden_layers=28,
                       num_attention_heads=16, num_key_value_heads=8, head_dim=128, vocab_size=151936,
                       rms_norm_eps=1e-6, rope_theta=1000000.0, max_position_embeddings=40960,
                       tie_word_embeddings=True),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shape", choices=sorted(SHAPES))
    p.add_argument("out")
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--tokenizer", help="a folder whose tokenizer files are copied in")
    a = p.parse_args()
    shape = dict(SHAPES[a.shape])
    config = AutoConfig.for_model(shape.pop("model_type"), **shape)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    # Initialised on the GPU where there is one: a 1B model's random init takes a minute on a CPU.
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    model.save_pretrained(a.out)
    if a.tokenizer:
        with open(os.path.join(a.tokenizer, "tokenizer.json"), encoding="utf-8") as f:
            vocab = len(json.load(f)["model"]["vocab"])
        if vocab > config.vocab_size:
            raise SystemExit(f"{a.tokenizer}: {vocab} tokens, more than the shape's vocab_size {config.vocab_size}")
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"):
            if os.path.exists(os.path.join(a.tokenizer, name)):
                shutil.copy(os.path.join(a.tokenizer, name), a.out)
    print(f"{a.shape}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters -> {a.out}")


if __name__ == "__main__":
    main()

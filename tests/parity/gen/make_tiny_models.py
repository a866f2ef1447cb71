"""Makes tiny random models of every architecture finch supports and the
reference logits and loss transformers computes for them.

Why these values are right: the models are built and run by transformers
itself (the reference finch must match), in fp32, bf16 and fp16, on a batch with
left-padded, right-padded and unpadded rows and a shorter row run alone.
Weights are drawn wider than HF's default init (and norms and biases are
randomised) so logits are O(1) and every parameter matters to the result.

Usage: make_tiny_models.py OUT_DIR
Writes OUT_DIR/<name>/{config.json, model.safetensors, ids.jsonl, reference.safetensors, reference.json}.
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Phi3Config,
                          Phi3ForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

from common import probe_loss, write_ids_file

VOCAB = 96
COMMON = dict(vocab_size=VOCAB, hidden_size=48, intermediate_size=80, num_hidden_layers=3,
              num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256,
              initializer_range=0.15, bos_token_id=1, eos_token_id=2, pad_token_id=0)

# name -> (config class, model class, overrides). Each exercises something non-default.
MODELS = {
    # Llama 3.1-style rope scaling that bites at these lengths, biases on attention.
    "llama3": (LlamaConfig, LlamaForCausalLM, dict(
        attention_bias=True, rope_parameters=dict(rope_type="llama3", rope_theta=5000.0, factor=4.0,
                                                  low_freq_factor=1.0, high_freq_factor=2.0,
                                                  original_max_position_embeddings=16))),
    # Llama 2-style linear scaling, tied embeddings, MLP bias, MHA-less GQA (3 groups).
    "llama_tied": (LlamaConfig, LlamaForCausalLM, dict(
        tie_word_embeddings=True, mlp_bias=True, num_key_value_heads=3,
        rope_parameters=dict(rope_type="linear", rope_theta=10000.0, factor=2.0))),
    # A sliding window shorter than the rows, and a head_dim that is not hidden/heads.
    "mistral": (MistralConfig, MistralForCausalLM, dict(sliding_window=5, head_dim=12)),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, dict(rope_parameters=dict(rope_type="default", rope_theta=1e6))),
    "qwen3": (Qwen3Config, Qwen3ForCausalLM, dict(head_dim=16, attention_bias=True)),
    # Fused projections, partial rotary.
    "phi3": (Phi3Config, Phi3ForCausalLM, dict(
        rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.5),
        sliding_window=None)),
}


def probe_rows():
    g = torch.Generator().manual_seed(7)
    ids = lambda n: torch.randint(3, VOCAB, (n,), generator=g).tolist()
    return [
        {"input_ids": ids(12)},
        {"input_ids": [0, 0, 0] + ids(9), "attention_mask": [0, 0, 0] + [1] * 9},   # left padding
        {"input_ids": ids(8) + [0] * 4, "attention_mask": [1] * 8 + [0] * 4},        # right padding
        {"input_ids": ids(7)},                                                         # shorter, run alone
    ]


def reference_logits(path, model_cls, rows, dtype):
    """fp32 logits per row; equal-length rows go through HF as one padded batch.
    The model is loaded in `dtype` as users load it (model.to(bf16) would also
    round the rotary inverse frequencies, which from_pretrained keeps in fp32)."""
    model = model_cls.from_pretrained(path, dtype=dtype, attn_implementation="sdpa").eval()
    out = [None] * len(rows)
    groups = {}
    for i, row in enumerate(rows):
        groups.setdefault(len(row["input_ids"]), []).append(i)
    with torch.no_grad():
        for idx in groups.values():
            ids = torch.tensor([rows[i]["input_ids"] for i in idx])
            mask = torch.tensor([rows[i].get("attention_mask", [1] * ids.shape[1]) for i in idx])
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            for k, i in enumerate(idx):
                out[i] = logits[k]
    return out


def randomise(model):
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def save_random_model(out_dir, name, config_cls, model_cls, overrides, **save_kwargs):
    """A tiny model of the family, seeded random weights, saved as OUT_DIR/NAME; returns the path."""
    torch.manual_seed(0)
    config = config_cls(**{**COMMON, **overrides})
    config._attn_implementation = "sdpa"
    model = model_cls(config).eval()
    randomise(model)
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path, **save_kwargs)
    return path


def make(out_dir, name, config_cls, model_cls, overrides):
    # qwen2 is saved in shards with an index, as large checkpoints are.
    path = save_random_model(out_dir, name, config_cls, model_cls, overrides,
                             max_shard_size="150KB" if name == "qwen2" else "5GB")
    rows = probe_rows()
    write_ids_file(os.path.join(path, "ids.jsonl"), rows)
    tensors, summary = {}, {}
    for tag, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
        logits = reference_logits(path, model_cls, rows, dtype)
        loss, tokens = probe_loss(logits, rows)
        summary[tag] = {"loss": loss, "tokens": tokens}
        for i, l in enumerate(logits):
            tensors[f"{tag}.logits.{i}"] = l.contiguous()
    save_file(tensors, os.path.join(path, "reference.safetensors"))
    scale = max(t.abs().max().item() for k, t in tensors.items() if k.startswith("fp32"))
    assert scale > 1.0, f"{name}: logits too small ({scale}) for the comparison to mean anything"
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump(summary, f, indent=1)
    losses = ", ".join(f"{tag} {v['loss']:.6f}" for tag, v in summary.items())
    print(f"{name}: loss {losses}; max |logit| {scale:.2f}")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name, (config_cls, model_cls, overrides) in MODELS.items():
        make(out_dir, name, config_cls, model_cls, overrides)


if __name__ == "__main__":
    main()

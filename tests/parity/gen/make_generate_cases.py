"""Greedy generation references: transformers' generate on the tiny random
models of every family (made by make_tiny_models.py) and on SmolLM2-135M.

Why these values are right: transformers' own generate decodes them (fp32,
CPU, do_sample=False, its KV cache, a left-padded batch of prompts of mixed
lengths, EOS handling from the generation config). For each step it also
records the gap between the two largest logits, so the C++ test can tell a
real mismatch from a near-tie that rounding may flip.

Sampling: transformers' own warpers (TemperatureLogitsWarper,
TopKLogitsWarper, TopPLogitsWarper, in the order generate applies them) on
random logits for several settings, and torch.multinomial's draws from a
seeded generator (finch must draw the same tokens from the same
probabilities and seed).

Usage: make_generate_cases.py TINY_DIR SMOLLM2_DIR OUT_DIR
Writes OUT_DIR/<name>.json: {"model": dir, "eos": [...], "max_new_tokens": N,
"prompts": [[ids]], "tokens": [[new ids]], "gaps": [[top-2 gap per step]]},
and OUT_DIR/sampling.safetensors + sampling.json.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.generation.logits_process import (LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)

NEW_TOKENS = 64
TINY = ["llama3", "llama_tied", "mistral", "qwen2", "qwen3", "phi3"]
SMOLLM2_PROMPTS = [
    "The capital of France is",
    "Write a haiku about the sea.",
    "def fibonacci(n):",
    "Once upon a time, in a small village at the edge of a great forest, there lived",
    "Q: What is 12 times 7?\nA:",
    "List three primary colors:",
]


def run(model_dir, prompts, pad_id, eos):
    """Greedy generate on one left-padded batch; returns new tokens (up to and
    including EOS) and the top-2 logit gaps per step, per row."""
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa").eval()
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=NEW_TOKENS,
                             min_new_tokens=0, eos_token_id=eos, pad_token_id=pad_id, num_beams=1,
                             repetition_penalty=1.0, temperature=None, top_k=None, top_p=None,
                             output_scores=True, return_dict_in_generate=True)
    scores = torch.stack(out.scores, 1)  # [B, steps, V]
    top2 = scores.topk(2, -1).values
    gaps = (top2[..., 0] - top2[..., 1]).tolist()
    tokens, row_gaps = [], []
    for b in range(len(prompts)):
        new = out.sequences[b, width:].tolist()
        n = len(new)
        for i, t in enumerate(new):
            if t in eos:
                n = i + 1
                break
        tokens.append(new[:n])
        row_gaps.append(gaps[b][:n])
    return tokens, row_gaps


def write(out_dir, name, model_dir, prompts, pad_id, eos):
    tokens, gaps = run(model_dir, prompts, pad_id, eos)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump({"model": os.path.abspath(model_dir), "eos": eos, "max_new_tokens": NEW_TOKENS, "prompts": prompts,
                   "tokens": tokens, "gaps": gaps}, f)
    lengths = [len(t) for t in tokens]
    print(f"{name}: {len(prompts)} prompts of {[len(p) for p in prompts]} tokens -> {lengths} new tokens, "
          f"smallest top-2 gap {min(min(g) for g in gaps):.2e}")


# (temperature, top_k, top_p); 0 / 1.0 switch a warper off as generate does.
SAMPLING = [(0.7, 0, 1.0), (1.0, 5, 1.0), (1.0, 0, 0.9), (0.5, 20, 0.95), (1.3, 3, 0.5), (0.1, 0, 0.95)]


def sampling_cases(out_dir):
    g = torch.Generator().manual_seed(9)
    logits = torch.randn(4, 96, generator=g) * 3
    tensors, settings = {"logits": logits}, []
    for i, (t, k, p) in enumerate(SAMPLING):
        warpers = LogitsProcessorList()
        if t != 1.0:
            warpers.append(TemperatureLogitsWarper(t))
        if k != 0:
            warpers.append(TopKLogitsWarper(k))
        if p < 1.0:
            warpers.append(TopPLogitsWarper(p))
        tensors[f"warped.{i}"] = warpers(None, logits.clone())
        settings.append({"temperature": t, "top_k": k, "top_p": p})
    # Draws: 50 rounds from softmax(logits) with a generator seeded 1234 (torch.manual_seed's stream).
    gen = torch.Generator().manual_seed(1234)
    probs = logits.softmax(-1)
    tensors["draws"] = torch.stack([torch.multinomial(probs, 1, generator=gen).squeeze(1) for _ in range(50)])
    save_file(tensors, os.path.join(out_dir, "sampling.safetensors"))
    with open(os.path.join(out_dir, "sampling.json"), "w") as f:
        json.dump({"settings": settings, "seed": 1234}, f)


def main():
    tiny_dir, smollm2_dir, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    sampling_cases(out_dir)
    g = torch.Generator().manual_seed(5)
    for name in TINY:
        # Mixed lengths, one longer than the sliding window; ids >= 3 keep BOS/EOS/PAD out of prompts.
        prompts = [torch.randint(3, 96, (n,), generator=g).tolist() for n in (9, 3, 14, 1, 6)]
        write(out_dir, name, os.path.join(tiny_dir, name), prompts, pad_id=0, eos=[2])
    tok = AutoTokenizer.from_pretrained(smollm2_dir)
    prompts = [tok(p)["input_ids"] for p in SMOLLM2_PROMPTS]
    write(out_dir, "smollm2", smollm2_dir, prompts, pad_id=2, eos=[2])


if __name__ == "__main__":
    main()

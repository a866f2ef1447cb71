"""References for finch's training samples and sampler.

1. The recipe (src/finch/data/samples.h), reimplemented here on transformers'
   AutoTokenizer, for several real tokenizers over rows that exercise its
   rules: a chat-rendered input that already starts with the BOS text (encoded
   without special tokens: one BOS, not two), an output already ending in EOS
   (no second EOS), an empty output, an empty input, unicode, and rows long
   enough that truncation cuts the output or leaves no target (dropped).
   Why these values are right: the ids come from HF's tokenizer, and the
   labels from token spans exactly as the recipe states them.
2. The sampler: torch.utils.data.DistributedSampler itself (seed + epoch
   generator, padding or dropping to a multiple of the world size), for
   several sizes, worlds, ranks, seeds and epochs.

Usage: make_sample_cases.py OUT_DIR SMOLLM2_DIR SHARED_DIR
Writes OUT_DIR/cases.json, OUT_DIR/<tokenizer>/{data.jsonl, expected.json}, OUT_DIR/sampler.json.
"""
import json
import os
import shutil
import sys

import torch
from torch.utils.data.distributed import DistributedSampler
from transformers import AutoTokenizer

# (max_seq_length, train_on_inputs); 0 = no truncation.
VARIANTS = [(0, False), (0, True), (24, False), (24, True), (8, False), (1, True)]


def rows_for(tok):
    eos, bos = tok.eos_token, tok.bos_token
    if tok.chat_template:
        rendered = tok.apply_chat_template([{"role": "user", "content": "Hi there, who are you?"}], tokenize=False,
                                           add_generation_prompt=True)
    else:
        rendered = f"{bos}[INST] Hi there, who are you? [/INST]"
    assert bos and rendered.startswith(bos), "the chat-rendered row must start with the BOS text"
    long_text = " ".join(["the quick brown fox jumps over the lazy dog"] * 6)
    return [
        {"input": "What is the capital of France?", "output": "Paris."},
        {"input": "Traduis : «bonjour» 👋 — naïve café", "output": "hello 👋\n"},
        {"input": "Say nothing.", "output": ""},
        {"input": "Finish with the end token.", "output": "Done." + eos},
        {"input": rendered, "output": "I am a small model." + eos},
        {"input": rendered, "output": "No EOS here"},
        {"input": rendered, "output": "A chat turn ends with its marker." + eos + "\n"},
        {"input": long_text, "output": "short"},
        {"input": "Tell me a story.", "output": long_text},
        {"input": "", "output": "from nothing"},
        {"input": "  leading spaces\n\ttab", "output": " leading space"},
    ]


def recipe(tok, row):
    rendered = tok.bos_token is not None and row["input"].startswith(tok.bos_token)
    in_ids = tok(row["input"], add_special_tokens=not rendered)["input_ids"]
    out_ids = tok(row["output"], add_special_tokens=False)["input_ids"]
    # EOS ends every output, once: not added when the output text already ends with the EOS token
    # (trailing whitespace aside, as after a chat template's end-of-turn marker).
    if not row["output"].rstrip(" \t\r\n").endswith(tok.eos_token):
        out_ids = out_ids + [tok.eos_token_id]
    return in_ids + out_ids, len(in_ids)


def sample(ids, input_length, max_seq_length, train_on_inputs):
    n = min(len(ids), max_seq_length) if max_seq_length > 0 else len(ids)
    labelled_from = 0 if train_on_inputs else min(input_length, n)
    # A target is a label at position >= 1: the shifted causal loss never reads position 0.
    if n - max(labelled_from, 1) <= 0:
        return None
    return {"input_ids": ids[:n], "labels": [-100] * labelled_from + ids[labelled_from:n]}


def make_tokenizer_cases(out_dir, name, tok_dir):
    tok = AutoTokenizer.from_pretrained(tok_dir)
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    rows = rows_for(tok)
    with open(os.path.join(path, "data.jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tokenized = [recipe(tok, row) for row in rows]
    expected = {"rows": [{"ids": ids, "input_length": n} for ids, n in tokenized], "variants": []}
    for max_len, on_inputs in VARIANTS:
        samples = [sample(ids, n, max_len, on_inputs) for ids, n in tokenized]
        expected["variants"].append({"max_seq_length": max_len, "train_on_inputs": on_inputs, "samples": samples})
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump(expected, f)
    dropped = [sum(s is None for s in v["samples"]) for v in expected["variants"]]
    print(f"{name}: {len(rows)} rows, dropped per variant {dropped}")
    return {"name": name, "dir": os.path.abspath(tok_dir)}


def sampler_cases():
    cases = []
    for n, world, drop_last in [(10, 1, False), (10, 3, False), (10, 3, True), (7, 4, False), (3, 5, False),
                                (12, 4, True), (1000, 8, False)]:
        for seed in (0, 42):
            for epoch in (0, 1, 5):
                for rank in range(world):
                    s = DistributedSampler(list(range(n)), num_replicas=world, rank=rank, shuffle=True, seed=seed,
                                           drop_last=drop_last)
                    s.set_epoch(epoch)
                    cases.append({"n": n, "world_size": world, "rank": rank, "drop_last": drop_last, "seed": seed,
                                  "epoch": epoch, "indices": list(iter(s))})
    return cases


def main():
    out_dir, smollm2_dir, shared_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    candidates = [("smollm2", smollm2_dir),
                  ("llama-tokenizer", os.path.join(shared_dir, "fixtures/hf_tokenizers/llama-tokenizer")),
                  ("gpt2", os.path.join(shared_dir, "fixtures/hf_tokenizers/gpt2"))]
    tokenizers = [make_tokenizer_cases(out_dir, name, d) for name, d in candidates
                  if os.path.exists(os.path.join(d, "tokenizer.json"))]
    assert tokenizers, "no tokenizer found"
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"tokenizers": tokenizers}, f, indent=1)
    with open(os.path.join(out_dir, "sampler.json"), "w") as f:
        json.dump(sampler_cases(), f)


if __name__ == "__main__":
    main()

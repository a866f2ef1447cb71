"""References for packed batches: transformers' forward on one row holding
several samples, position_ids restarting at 0 for each and no attention_mask
(what DataCollatorWithFlattening produces), for tiny random models.

Why these values are right: transformers 5 detects the restarting
position_ids (masking_utils.find_packed_sequence_indices) and masks attention
block-diagonally, sliding-window layers included; the script checks that each
sample's packed logits equal the sample run alone (so the reference really is
per-sample) before writing them. transformers only looks for packed rows
when there is no KV cache, so the forward runs with use_cache=False (with
the config's default use_cache=True it builds a DynamicCache and attends
across samples: a packed training run in transformers must turn it off). The loss is HF's own (labels with the first
label of every sample -100, mean over the shifted targets).

Usage: make_packed_cases.py OUT_DIR
Writes OUT_DIR/<model>/{config.json, model.safetensors, packed.json, reference.safetensors}.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from make_tiny_models import MODELS, VOCAB, save_random_model  # noqa: E402

# mistral has a sliding window of 5, shorter than two of the samples.
NAMES = ["llama3", "mistral", "qwen3", "phi3"]
LENGTHS = [7, 9, 4]


def make(out_dir, name):
    config_cls, model_cls, overrides = MODELS[name]
    path = save_random_model(out_dir, name, config_cls, model_cls, overrides)
    model = model_cls.from_pretrained(path, dtype=torch.float32, attn_implementation="sdpa").eval()

    g = torch.Generator().manual_seed(3)
    samples = [torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in LENGTHS]
    ids = [t for s in samples for t in s]
    positions = [i for s in samples for i in range(len(s))]
    labels = [t for s in samples for t in [-100] + s[1:]]
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), position_ids=torch.tensor([positions]),
                    labels=torch.tensor([labels]), use_cache=False)
        logits = out.logits[0].float()
        start = 0
        for s in samples:
            alone = model(input_ids=torch.tensor([s])).logits[0].float()
            diff = (alone - logits[start:start + len(s)]).abs().max().item()
            assert diff < 1e-5, f"{name}: packed logits differ from the sample alone by {diff}"
            start += len(s)
    save_file({"logits": logits.contiguous()}, os.path.join(path, "reference.safetensors"))
    with open(os.path.join(path, "packed.json"), "w") as f:
        json.dump({"input_ids": ids, "position_ids": positions, "labels": labels, "loss": out.loss.item()}, f)
    print(f"{name}: packed loss {out.loss.item():.6f}, max |logit| {logits.abs().max().item():.2f}")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name in NAMES:
        make(out_dir, name)


if __name__ == "__main__":
    main()

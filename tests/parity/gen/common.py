"""Shared helpers for the reference generators: the probe file format that
`finch forward` reads, and the loss definition it prints."""
import json

import torch


def write_ids_file(path, rows):
    """rows: list of dicts with input_ids and optional attention_mask."""
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def probe_loss(logits_per_row, rows):
    """Summed NLL of next-token predictions whose input and target positions are
    both unmasked, divided by their count (the `finch forward` definition),
    computed in float64 from fp32 logits."""
    nll, count = 0.0, 0
    for logits, row in zip(logits_per_row, rows):
        ids = torch.tensor(row["input_ids"])
        mask = torch.tensor(row.get("attention_mask", [1] * len(ids))).bool()
        logprobs = torch.log_softmax(logits[:-1].double(), -1)
        picked = -logprobs.gather(-1, ids[1:, None]).squeeze(-1)
        counted = mask[:-1] & mask[1:]
        nll += picked[counted].sum().item()
        count += int(counted.sum())
    return nll / count, count

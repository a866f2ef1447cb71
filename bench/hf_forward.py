"""The Python baseline for bench/forward_bench.py: transformers' forward over
the same ids file, batched and padded exactly as `finch forward` does.
Prints one JSON line {"tokens", "seconds", "loss", "peak_device_mib"}.

Usage: hf_forward.py MODEL_DIR IDS_FILE BATCH_SIZE THREADS WARMUP [DEVICE [DTYPE]]
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def batches(rows, size, device):
    for first in range(0, len(rows), size):
        chunk = rows[first:first + size]
        T = max(len(r["input_ids"]) for r in chunk)
        ids = torch.zeros(len(chunk), T, dtype=torch.long)
        mask = torch.zeros(len(chunk), T, dtype=torch.long)
        for b, r in enumerate(chunk):
            ids[b, :len(r["input_ids"])] = torch.tensor(r["input_ids"])
            mask[b, :len(r["input_ids"])] = 1
        yield ids.to(device), mask.to(device)


def run(model, rows, batch_size, device):
    nll, count = 0.0, 0
    for ids, mask in batches(rows, batch_size, device):
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
        logprobs = torch.log_softmax(logits[:, :-1].double(), -1)
        picked = -logprobs.gather(-1, ids[:, 1:, None]).squeeze(-1)
        counted = mask[:, :-1].bool() & mask[:, 1:].bool()
        nll += picked[counted].sum().item()
        count += int(counted.sum())
    return nll / count


def main():
    model_dir, ids_file, batch_size, threads, warmup = sys.argv[1:6]
    device = sys.argv[6] if len(sys.argv) > 6 else "cpu"
    dtype = DTYPES[sys.argv[7] if len(sys.argv) > 7 else "fp32"]
    torch.set_num_threads(int(threads))
    rows = [json.loads(line) for line in open(ids_file)]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, attn_implementation="sdpa").to(device).eval()
    with torch.inference_mode():
        for _ in range(int(warmup)):
            run(model, rows, int(batch_size), device)
        start = time.perf_counter()
        loss = run(model, rows, int(batch_size), device)
        seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else 0.0
    print(json.dumps({"tokens": sum(len(r["input_ids"]) for r in rows), "seconds": seconds, "loss": loss,
                      "peak_device_mib": peak}))


if __name__ == "__main__":
    main()

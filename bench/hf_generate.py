"""The Python baseline of generate_bench.py: transformers' generate on the
same prompts, batches and settings as `finch generate`. Prints one JSON line
{"seconds", "new_tokens"} (model load and tokenization excluded; new tokens
counted up to and including each row's EOS, as finch counts them).

Usage: hf_generate.py MODEL_DIR PROMPTS.jsonl BATCH MAX_NEW_TOKENS THREADS
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    model_dir, prompts_file, batch, max_new, threads = sys.argv[1:6]
    batch, max_new = int(batch), int(max_new)
    torch.set_num_threads(int(threads))
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    prompts = [json.loads(line)["prompt"] for line in open(prompts_file)]
    ids = [tok(p)["input_ids"] for p in prompts]
    # The batches finch makes: shortest prompts together.
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    pad = model.generation_config.pad_token_id
    new_tokens, seconds = 0, 0.0
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            rows = [ids[i] for i in order[start:start + batch]]
            width = max(len(r) for r in rows)
            input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
            t0 = time.perf_counter()
            out = model.generate(input_ids=input_ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new,
                                 pad_token_id=pad)
            seconds += time.perf_counter() - t0
            for seq in out[:, width:].tolist():
                n = len(seq)
                for i, t in enumerate(seq):
                    if t in eos:
                        n = i + 1
                        break
                new_tokens += n
    print(json.dumps({"seconds": seconds, "new_tokens": new_tokens}))


if __name__ == "__main__":
    main()

"""The Python baseline for bench/train_bench.py: LoRA training with HF Trainer
+ PEFT on finch's prepared training.jsonl, with finch's recipe, settings and
sample order. Prints one JSON line {"tokens", "seconds", "callback_seconds",
"losses", "step_seconds", "shortest_sample", "gpu_peak_bytes"}.

--device cuda: fp32 weights with bf16 autocast (TrainingArguments bf16=True,
what finch's train.precision auto does on a GPU). --backend liger: the same
with Liger's kernels (use_liger_kernel=True); --backend unsloth: the model and
adapters from Unsloth's FastLanguageModel (its own kernels and checkpointing),
then the same Trainer. Both need a GPU and the package installed.

Usage: hf_train.py MODEL_DIR TRAINING_JSONL OUT_DIR THREADS STEPS SEQ BATCH SEED
                   [--no-checkpointing] [--device cpu|cuda] [--backend hf|liger|unsloth]
"""
import json
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def recipe(tok, input_text, output_text, seq):
    """finch's recipe (data/samples.cpp): input with the tokenizer's specials
    unless it is already rendered (starts with the BOS text), output without,
    EOS unless the output ends with it; labels -100 over the input; truncated."""
    bos, eos = tok.bos_token or "", tok.eos_token
    ids = tok(input_text, add_special_tokens=not (bos and input_text.startswith(bos)))["input_ids"]
    n_input = len(ids)
    ids = ids + tok(output_text, add_special_tokens=False)["input_ids"]
    if not output_text.rstrip(" \t\r\n").endswith(eos):
        ids.append(tok.eos_token_id)
    full = len(ids)
    ids = ids[:seq]
    labels = [-100] * min(n_input, len(ids)) + ids[n_input:]
    return {"input_ids": ids, "labels": labels}, full


class PadRight:
    """Right padding to the longest sample: pad id, labels -100, mask 0 (finch's padded collate)."""

    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __call__(self, samples):
        T = max(len(s["input_ids"]) for s in samples)
        ids = torch.full((len(samples), T), self.pad_id, dtype=torch.long)
        labels = torch.full((len(samples), T), -100, dtype=torch.long)
        mask = torch.zeros((len(samples), T), dtype=torch.long)
        for b, s in enumerate(samples):
            n = len(s["input_ids"])
            ids[b, :n] = torch.tensor(s["input_ids"])
            labels[b, :n] = torch.tensor(s["labels"])
            mask[b, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


class Clock(TrainerCallback):
    """Wall time between on_train_begin and on_train_end (finch's summary
    measures that span), and each step's end time."""

    def __init__(self):
        self.begin = self.end = 0.0
        self.steps = []

    def on_train_begin(self, args, state, control, **kw):
        self.begin = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.steps.append(time.perf_counter())

    def on_train_end(self, args, state, control, **kw):
        self.end = time.perf_counter()


def option(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def load_model(model_dir, backend, seq, checkpointing):
    """The model with LoRA r=32 alpha=32 dropout 0.1 on the seven projections."""
    if backend == "unsloth":
        from unsloth import FastLanguageModel  # noqa: PLC0415 (optional, GPU only)
        model, _ = FastLanguageModel.from_pretrained(model_dir, max_seq_length=seq, dtype=torch.bfloat16,
                                                     load_in_4bit=False)
        return FastLanguageModel.get_peft_model(model, r=32, lora_alpha=32, lora_dropout=0.1,
                                                target_modules=TARGETS, use_gradient_checkpointing=
                                                "unsloth" if checkpointing else False)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
    return get_peft_model(model, LoraConfig(r=32, lora_alpha=32, lora_dropout=0.1, target_modules=TARGETS,
                                            task_type="CAUSAL_LM"))


CKPT = ("activation_checkpointing" if "activation_checkpointing" in TrainingArguments.__dataclass_fields__
        else "gradient_checkpointing")


def main():
    model_dir, data_file, out_dir = sys.argv[1:4]
    threads, steps, seq, batch, seed = (int(x) for x in sys.argv[4:9])
    checkpointing = "--no-checkpointing" not in sys.argv[9:]
    device, backend = option("--device", "cpu"), option("--backend", "hf")
    cuda = device == "cuda"
    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = [json.loads(line) for line in open(data_file, encoding="utf-8")]
    made = [recipe(tok, r["input"], r["output"], seq) for r in rows]
    samples = [m[0] for m in made]
    # finch's order: randperm(n) from a CPU generator seeded with seed + epoch
    # (epoch 0), as DistributedSampler; HF then reads the permuted list in order.
    order = torch.randperm(len(samples), generator=torch.Generator().manual_seed(seed)).tolist()
    samples = [samples[i] for i in order]
    if steps * batch > len(samples):
        sys.exit(f"{steps} steps x batch {batch} need {steps * batch} samples; the split has {len(samples)}")

    torch.manual_seed(seed)  # LoRA A's initialisation
    model = load_model(model_dir, backend, seq, checkpointing)
    args = TrainingArguments(
        output_dir=out_dir, use_cpu=not cuda, bf16=cuda, use_liger_kernel=backend == "liger", seed=seed, max_steps=steps, per_device_train_batch_size=batch,
        gradient_accumulation_steps=1, learning_rate=2e-4, warmup_steps=0, lr_scheduler_type="cosine",
        max_grad_norm=1.0, weight_decay=0.0, optim="adamw_torch_fused",
        # transformers 5's default for these kwargs is use_reentrant=False (set here so it is explicit).
        # The option is activation_checkpointing from transformers 5.2x, gradient_checkpointing before.
        **{CKPT: checkpointing and backend != "unsloth",
           CKPT + "_kwargs": {"use_reentrant": False} if checkpointing else None},
        eval_strategy="no", save_strategy="no", logging_steps=1, report_to="none", disable_tqdm=True,
        dataloader_num_workers=0, train_sampling_strategy="sequential")
    clock = Clock()
    trainer = Trainer(model=model, args=args, train_dataset=samples, data_collator=PadRight(
        tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id), callbacks=[clock])
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.train()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    ends = [clock.begin] + clock.steps
    print(json.dumps({
        "tokens": sum(len(s["input_ids"]) for s in samples[:steps * batch]),  # no padding: every row is seq long
        "seconds": seconds, "callback_seconds": clock.end - clock.begin, "losses": losses,
        "step_seconds": [b - a for a, b in zip(ends, ends[1:])],
        "shortest_sample": min(m[1] for m in made),
        "gpu_peak_bytes": torch.cuda.max_memory_allocated() if cuda else None}))


if __name__ == "__main__":
    main()

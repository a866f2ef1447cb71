"""Makes the reference runs for finch's training-engine parity test: the Hugging
Face Trainer (transformers 5.23) with PEFT LoRA, or full fine-tuning, on a tiny
random Llama, 20 optimizer steps in fp32 on the CPU, and everything finch must
reproduce from the same start: the logged loss / grad_norm / learning_rate of
every step and the trained weights.

Why these values are right: the run is the reference stack itself, driven by
its own Trainer. Each claim below about how that Trainer works was read in
site-packages/transformers/trainer.py (and trainer_optimizer.py,
training_args.py, optimization.py, loss/loss_utils.py, accelerate's
clip_grad_norm_) and is checked by an assertion in this script on every run:

1. Optimizer. TrainingArguments.optim defaults to "adamw_torch_fused" (torch
   >= 2.8), i.e. torch.optim.AdamW(lr, betas=(adam_beta1, adam_beta2),
   eps=adam_epsilon, fused=True); on the CPU that is torch's fused CPU AdamW
   kernel (foreach is not used). AdamW is decoupled: p *= 1 - lr*wd, then
   p -= lr * m_hat / (sqrt(v_hat) + eps), with bias corrections 1 - beta^t.
   Two parameter groups: weight_decay for every trainable parameter whose name
   matches none of "bias", "layernorm", "rmsnorm", "(^|.)norm($|.)",
   "_norm($|.)" (and is not in an nn.LayerNorm), 0.0 for the rest. For LoRA all
   lora_A/lora_B weights decay; for full fine-tuning the RMSNorm weights
   (input_layernorm, post_attention_layernorm, model.norm) do not, embeddings
   and lm_head do. reference.json lists both groups by name.
2. Loss under accumulation. The Trainer pulls the gradient_accumulation_steps
   micro-batches of an optimizer step first and counts num_items_in_batch =
   sum over them of (labels[..., 1:] != -100), i.e. the target tokens after
   the causal shift (position 0 of a row is never a target). The model
   accepts loss kwargs, so each micro-batch's forward gets num_items_in_batch
   and returns sum-of-token-NLL(micro-batch) / num_items_in_batch
   (ForCausalLMLoss, reduction "sum", logits upcast to fp32). Because of that
   the Trainer does NOT divide by gradient_accumulation_steps, and nothing
   multiplies by it (average_tokens_across_devices multiplies by the number
   of processes, 1 here). backward() runs on that value per micro-batch, so
   the accumulated gradient is the gradient of the token-mean NLL over the
   whole optimizer step.
3. Logged "loss" (logging_steps=1): the sum of the micro-batch values above,
   i.e. the token-mean NLL over all micro-batches of the step, computed with
   the weights before that step's update. (In general: sum over the logging
   window's micro-batches / number of optimizer steps in the window.)
4. Logged "grad_norm": the total L2 norm over all trainable parameters'
   gradients, BEFORE clipping (torch.nn.utils.clip_grad_norm_'s return value).
   Clipping then multiplies every gradient by min(1, max_grad_norm /
   (grad_norm + 1e-6)) (always multiplied, also when the factor is 1).
5. Logged "learning_rate" at step k: the lr the optimizer used for step k's
   update (read after optimizer.step(), before lr_scheduler.step()). The
   cosine schedule is LambdaLR with lambda(i) = i / warmup for i < warmup,
   else 0.5 * (1 + cos(pi * (i - warmup) / (max_steps - warmup))), and step k
   (1-based) uses lr * lambda(k - 1): step 1 has lr 0.0. That step still
   advances AdamW's state (step count, moments) while leaving the weights
   unchanged (weight decay is scaled by lr too).
6. Packed rows (DataCollatorWithFlattening): a micro-batch is one row of the
   concatenated samples with position_ids restarting at 0 per sample and no
   attention_mask; the first label of each sample is replaced by -100 (so no
   target crosses a boundary), and transformers' mask builder turns the
   position_ids restarts into a block-diagonal causal mask. With the samples
   of this script (label 0 is always -100) the counts and losses equal the
   padded run's.

Usage: make_train_cases.py OUT_DIR
Writes OUT_DIR/base/{config.json, model.safetensors} (fp32 tiny Llama) and for
each case in lora, lora_accum4, full, lora_packed, OUT_DIR/<case>/:
  samples.jsonl   one {"input_ids": [...], "labels": [...]} per line, in the
                  order the Trainer consumed them (exactly max_steps * batch *
                  accumulation samples)
  init_adapter/   (LoRA cases) PEFT's adapter right after get_peft_model
  final/          adapter_config.json + adapter_model.safetensors (LoRA), or
                  config.json + model.safetensors (full), after max_steps
  reference.json  {"base_dir": "../base", "settings": {...}, "collator":
                  "padded"|"packed", "notes": {...}, "decay_parameters": [...],
                  "no_decay_parameters": [...], "steps": [{"step", "loss",
                  "grad_norm", "learning_rate", "num_items_in_batch",
                  "micro_batch_losses"}]}
"""
import json
import math
import os
import shutil
import sys
import tempfile
import warnings

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file
from transformers import (DataCollatorWithFlattening, LlamaConfig, LlamaForCausalLM, PrinterCallback, Trainer,
                          TrainingArguments, logging as hf_logging)

from make_tiny_models import save_random_model

VOCAB = 256
PAD = 0
MODEL = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, initializer_range=0.15)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
COMMON = dict(max_steps=20, per_device_train_batch_size=2, weight_decay=0.01, warmup_steps=3,
              lr_scheduler_type="cosine", max_grad_norm=1.0, adam_beta1=0.9, adam_beta2=0.999,
              adam_epsilon=1e-8, seed=42)
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=TARGETS, bias="none")
# case -> (lora?, learning_rate, gradient_accumulation_steps, collator)
CASES = {
    "lora": (True, 1e-3, 1, "padded"),
    "lora_accum4": (True, 1e-3, 4, "padded"),
    "full": (False, 1e-4, 1, "padded"),
    "lora_packed": (True, 1e-3, 1, "packed"),
}

NOTES = {
    "optimizer": "TrainingArguments.optim default in 5.23 is 'adamw_torch_fused' (torch >= 2.8): "
                 "torch.optim.AdamW(lr, betas=(adam_beta1, adam_beta2), eps=adam_epsilon, fused=True), "
                 "the fused CPU kernel here (foreach unused); decoupled decay p *= 1 - lr*wd, then "
                 "p -= lr * m_hat / (sqrt(v_hat) + eps). Two groups: weight_decay for names matching none of "
                 "bias|layernorm|rmsnorm|(^|.)norm($|.)|_norm($|.), 0.0 for the rest (see decay_parameters).",
    "num_items_in_batch": "Counted once per optimizer step over all its micro-batches: "
                          "sum(labels[..., 1:] != -100) (targets after the causal shift).",
    "loss_normalisation": "Each micro-batch forward gets num_items_in_batch and returns "
                          "sum(token NLL of the micro-batch) / num_items_in_batch (fp32 logits). backward() runs on "
                          "that; the Trainer does not divide by gradient_accumulation_steps (the loss is already "
                          "scaled because the model accepts loss kwargs) and nothing multiplies by it. The "
                          "accumulated gradient is that of the token-mean NLL over the whole optimizer step.",
    "logged_loss": "With logging_steps=1: sum of the micro-batch values = token-mean NLL over all micro-batches of "
                   "the optimizer step, from the weights before that step's update (micro_batch_losses lists the "
                   "addends). Generally: sum over the logging window / optimizer steps in the window.",
    "logged_grad_norm": "L2 norm over all trainable gradients BEFORE clipping (clip_grad_norm_'s return: the norm "
                        "of the per-tensor fp32 norms; frozen parameters have no gradient). Then every gradient "
                        "*= min(1, max_grad_norm / (grad_norm + 1e-6)), also when that factor is 1.",
    "logged_learning_rate": "The lr used for this step's update (read after optimizer.step(), before "
                            "lr_scheduler.step()). Step k (1-based) uses lr * lambda(k-1), lambda(i) = i/warmup for "
                            "i < warmup else 0.5*(1+cos(pi*(i-warmup)/(max_steps-warmup))); step 1 has lr 0, which "
                            "still advances AdamW's step count and moments but leaves the weights unchanged.",
    "order": "train_sampling_strategy='sequential': samples.jsonl is consumed in file order, "
             "per_device_train_batch_size consecutive samples per micro-batch.",
    "padded_collator": "Right-pads input_ids with pad id 0 and labels with -100 to the longest row of the "
                       "micro-batch; attention_mask 1 on real tokens, 0 on padding; no position_ids passed.",
    "packed_collator": "DataCollatorWithFlattening: the micro-batch's samples concatenated into one row, "
                       "labels[0] of each sample replaced by -100, position_ids restarting at 0 per sample, no "
                       "attention_mask (transformers builds a block-diagonal causal mask from the restarts; it "
                       "looks for them only when there is no attention_mask and no KV cache, as in training).",
    "lora": "PEFT LoRA on all 7 projections, scaling alpha/r = 2, no dropout, no bias; B starts at zero and A "
            "as in init_adapter/, so step 1 gives A no gradient. Only lora_A/lora_B train (all decayed).",
}


def make_samples(n):
    """n samples, lengths 8..40, a prompt prefix of 1..len/2 tokens with label -100."""
    g = torch.Generator().manual_seed(3)
    out = []
    for _ in range(n):
        length = int(torch.randint(8, 41, (1,), generator=g))
        ids = torch.randint(3, VOCAB, (length,), generator=g).tolist()
        prompt = int(torch.randint(1, length // 2 + 1, (1,), generator=g))
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


def pad_collate(features):
    width = max(len(f["input_ids"]) for f in features)
    ids, labels, mask = [], [], []
    for f in features:
        n = len(f["input_ids"])
        ids.append(f["input_ids"] + [PAD] * (width - n))
        labels.append(f["labels"] + [-100] * (width - n))
        mask.append([1] * n + [0] * (width - n))
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


class RecordingTrainer(Trainer):
    """The stock Trainer; it only records what passes through for the checks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = {"num_items": [], "micro_losses": [], "pre_clip_norms": [], "batches": []}

    def get_batch_samples(self, epoch_iterator, num_batches, device):
        batches, num_items = super().get_batch_samples(epoch_iterator, num_batches, device)
        self.record["num_items"].append(int(num_items))
        self.record["micro_losses"].append([])
        self.record["batches"].append([{k: v.clone() for k, v in b.items()} for b in batches])
        return batches, num_items

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.record["micro_losses"][-1].append(loss.item())
        return loss

    def _clip_grad_norm(self, model):
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        self.record["pre_clip_norms"].append(torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())
        return super()._clip_grad_norm(model)


class SnapshotAfterFirstStep:
    """A callback: trainable weights right after step 1 (lr 0 there, so they must equal the start)."""

    def __init__(self):
        self.weights = None

    def __getattr__(self, name):
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step == 1:
            self.weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def token_nll_sum(model, batch):
    """Independent reference: summed NLL of shifted targets, float64. use_cache=False as in
    training: with a cache transformers does not look for packed rows in position_ids."""
    with torch.no_grad():
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logits = model(**inputs, use_cache=False).logits[..., :-1, :].double()
        targets = batch["labels"][..., 1:]
        keep = targets != -100
        logprobs = torch.log_softmax(logits, -1).gather(-1, targets.clamp(min=0)[..., None]).squeeze(-1)
        return -logprobs[keep].sum().item(), int(keep.sum())


def run_case(out_dir, base_dir, name, all_samples):
    lora, lr, accum, collator_kind = CASES[name]
    case_dir = os.path.join(out_dir, name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    samples = all_samples[:COMMON["max_steps"] * COMMON["per_device_train_batch_size"] * accum]
    with open(os.path.join(case_dir, "samples.jsonl"), "w") as f:
        for s in samples:
            f.write(json.dumps(s) + "\n")

    torch.manual_seed(COMMON["seed"])
    model = LlamaForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation="sdpa")
    if lora:
        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **LORA))
        model.save_pretrained(os.path.join(case_dir, "init_adapter"))
    start = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    # The step-1 loss from the start weights, computed here independently of the Trainer.
    collate = pad_collate if collator_kind == "padded" else DataCollatorWithFlattening(return_tensors="pt")
    first = [collate(samples[i:i + 2]) for i in range(0, 2 * accum, 2)]
    model.eval()
    sums = [token_nll_sum(model, b) for b in first]
    expected_first_loss = sum(s for s, _ in sums) / sum(n for _, n in sums)

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, learning_rate=lr, gradient_accumulation_steps=accum, logging_steps=1,
            save_strategy="no", eval_strategy="no", report_to="none", use_cpu=True, bf16=False, fp16=False,
            dataloader_drop_last=False, remove_unused_columns=False,
            dataloader_num_workers=0, train_sampling_strategy="sequential", disable_tqdm=True, **COMMON)
        snapshot = SnapshotAfterFirstStep()
        trainer = RecordingTrainer(model=model, args=args, train_dataset=samples, data_collator=collate,
                                   callbacks=[snapshot])
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    rec = trainer.record
    optim = trainer.optimizer
    inner = getattr(optim, "optimizer", optim)

    # The claims of the docstring, checked.
    assert args.optim == "adamw_torch_fused" and type(inner) is torch.optim.AdamW, (args.optim, type(inner))
    assert inner.defaults["fused"] is True and not inner.defaults.get("foreach"), inner.defaults
    assert len(logs) == COMMON["max_steps"] and len(rec["num_items"]) == COMMON["max_steps"]
    consumed = [row for step in rec["batches"] for b in step for row in unbatch(b, collator_kind)]
    assert consumed == [s["input_ids"] for s in samples], f"{name}: the Trainer did not read samples in order"
    for log, num_items, micro, norm, batches in zip(logs, rec["num_items"], rec["micro_losses"],
                                                    rec["pre_clip_norms"], rec["batches"]):
        assert len(micro) == accum
        assert num_items == sum(int((b["labels"][..., 1:] != -100).sum()) for b in batches)
        assert math.isclose(log["loss"], sum(micro), rel_tol=1e-6), (log["loss"], micro)
        assert math.isclose(log["grad_norm"], norm, rel_tol=1e-5), (log["grad_norm"], norm)
        k = log["step"] - 1
        warm, total = COMMON["warmup_steps"], COMMON["max_steps"]
        factor = k / warm if k < warm else 0.5 * (1 + math.cos(math.pi * (k - warm) / (total - warm)))
        assert math.isclose(log["learning_rate"], lr * factor, rel_tol=1e-12, abs_tol=1e-15), log
    assert math.isclose(logs[0]["loss"], expected_first_loss, rel_tol=1e-5), (logs[0]["loss"], expected_first_loss)
    assert logs[0]["learning_rate"] == 0.0
    assert all(torch.equal(snapshot.weights[n], start[n]) for n in start), "step 1 (lr 0) changed the weights"
    assert any(log["grad_norm"] > COMMON["max_grad_norm"] for log in logs), f"{name}: clipping never bites"
    assert any(not torch.equal(p, start[n]) for n, p in model.named_parameters() if p.requires_grad)

    final_dir = os.path.join(case_dir, "final")
    model.save_pretrained(final_dir)
    decay = set(trainer.get_decay_parameter_names(model))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    settings = {**COMMON, "learning_rate": lr, "gradient_accumulation_steps": accum, "optim": args.optim,
                "optimizer_class": "torch.optim.AdamW", "fused": True, "lr_scheduler_num_cycles": 0.5,
                "logging_steps": 1, "dtype": "float32", "device": "cpu", "attn_implementation": "sdpa",
                "gradient_checkpointing": False, "dataloader_drop_last": False, "remove_unused_columns": False,
                "train_sampling_strategy": "sequential", "packing": collator_kind == "packed",
                "padding": "right" if collator_kind == "padded" else None, "pad_token_id": PAD,
                "label_pad_id": -100, "method": "lora" if lora else "full"}
    if lora:
        settings.update(r=LORA["r"], alpha=LORA["lora_alpha"], dropout=LORA["lora_dropout"], targets=TARGETS,
                        lora_bias="none", init_lora_weights=True, use_rslora=False)
    reference = {
        "base_dir": "../base", "settings": settings, "collator": collator_kind, "notes": NOTES,
        "decay_parameters": [n for n in trainable if n in decay],
        "no_decay_parameters": [n for n in trainable if n not in decay],
        "steps": [{"step": log["step"], "loss": log["loss"], "grad_norm": log["grad_norm"],
                   "learning_rate": log["learning_rate"], "num_items_in_batch": num_items,
                   "micro_batch_losses": micro}
                  for log, num_items, micro in zip(logs, rec["num_items"], rec["micro_losses"])],
    }
    with open(os.path.join(case_dir, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
    saved = load_file(os.path.join(final_dir, "adapter_model.safetensors" if lora else "model.safetensors"))
    print(f"{name}: loss {logs[0]['loss']:.5f} -> {logs[-1]['loss']:.5f}, grad_norm max "
          f"{max(l['grad_norm'] for l in logs):.3f}, {len(saved)} tensors in final/")
    return reference


def unbatch(batch, kind):
    """The samples' input_ids a collated micro-batch holds."""
    if kind == "padded":
        return [row[mask.bool()].tolist() for row, mask in zip(batch["input_ids"], batch["attention_mask"])]
    ids, pos = batch["input_ids"][0].tolist(), batch["position_ids"][0].tolist()
    starts = [i for i, p in enumerate(pos) if p == 0] + [len(ids)]
    return [ids[a:b] for a, b in zip(starts, starts[1:])]


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)  # the models are tiny: more threads only spin (3x slower on a busy 2-core box)
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=FutureWarning)  # 5.23's own gradient_checkpointing renames
    base_dir = save_random_model(out_dir, "base", LlamaConfig, LlamaForCausalLM, MODEL)
    samples = make_samples(max(COMMON["max_steps"] * COMMON["per_device_train_batch_size"] * accum
                               for _, _, accum, _ in CASES.values()))
    refs = {name: run_case(out_dir, base_dir, name, samples) for name in CASES}
    # Packing changes the batch layout, not the numbers: same counts, losses equal to fp32 noise.
    for a, b in zip(refs["lora"]["steps"], refs["lora_packed"]["steps"]):
        assert a["num_items_in_batch"] == b["num_items_in_batch"]
        assert math.isclose(a["loss"], b["loss"], rel_tol=1e-4), (a, b)


if __name__ == "__main__":
    main()

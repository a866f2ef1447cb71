"""Makes LoRA adapters with PEFT on a tiny random Llama and what PEFT computes
with them, for tests/parity/lora_parity_test.cpp.

Why these values are right: PEFT itself (the reference finch must match)
injects the adapters, runs the adapted model and merges it, in fp32. lora_B is
overwritten with random values (PEFT starts it at zero, where the adapter would
change nothing), so every adapter matters to the logits.

Cases: "lora" (r=4, alpha=8, the seven Llama projections), "rslora" (the same
with use_rslora, scaling alpha/sqrt(r)) and "dropout" (lora_dropout 0.25 on q, v,
gate and up projections, with logits in training mode after torch.manual_seed:
the masks are drawn in forward order, so this also checks that order).

Usage: make_lora_cases.py OUT_DIR
Writes OUT_DIR/base/ (the model) and OUT_DIR/<case>/{adapter/, reference.safetensors, reference.json}:
  init.<name>     lora_A as PEFT drew it after torch.manual_seed(INIT_SEED) (PEFT's names)
  logits          eval-mode logits [B, T, V] on the ids in reference.json
  train_logits    training-mode logits after torch.manual_seed(DROPOUT_SEED) ("dropout" only)
  merged.<name>   merge_and_unload()'s state dict (HF names)
"""
import json
import os
import shutil
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

from make_tiny_models import VOCAB, save_random_model

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
CASES = {
    "lora": dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=ALL),
    "rslora": dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=ALL, use_rslora=True),
    "dropout": dict(r=4, lora_alpha=8, lora_dropout=0.25, target_modules=["q_proj", "v_proj", "gate_proj", "up_proj"]),
}
INIT_SEED = 1234
DROPOUT_SEED = 99


def peft_names(state):
    """PEFT's in-memory names carry the adapter name; its files do not."""
    return {k.replace(".default", ""): v for k, v in state.items() if "lora_" in k}


def make(out_dir, base, name, settings, ids):
    model = LlamaForCausalLM.from_pretrained(base, dtype=torch.float32, attn_implementation="sdpa")
    torch.manual_seed(INIT_SEED)
    peft_model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **settings))
    tensors = {f"init.{k}": v.detach().clone() for k, v in peft_names(peft_model.state_dict()).items()
               if "lora_A" in k}
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for k, p in peft_model.named_parameters():
            if "lora_B" in k:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    case_dir = os.path.join(out_dir, name)
    shutil.rmtree(case_dir, ignore_errors=True)
    peft_model.save_pretrained(os.path.join(case_dir, "adapter"))

    peft_model.eval()
    with torch.no_grad():
        tensors["logits"] = peft_model(input_ids=ids).logits
        if settings["lora_dropout"] > 0:
            peft_model.train()
            torch.manual_seed(DROPOUT_SEED)
            tensors["train_logits"] = peft_model(input_ids=ids).logits
            assert (tensors["train_logits"] - tensors["logits"]).abs().max() > 1e-3, "dropout changed nothing"
            peft_model.eval()
        merged = peft_model.merge_and_unload()
        tensors.update({f"merged.{k}": v.clone() for k, v in merged.state_dict().items()})
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(case_dir, "reference.safetensors"))
    with open(os.path.join(case_dir, "reference.json"), "w") as f:
        json.dump({"input_ids": ids.tolist(), "init_seed": INIT_SEED, "dropout_seed": DROPOUT_SEED}, f)
    print(f"{name}: max |logit| {tensors['logits'].abs().max():.2f}")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    base = save_random_model(out_dir, "base", LlamaConfig, LlamaForCausalLM, dict(attention_bias=True))
    ids = torch.randint(3, VOCAB, (2, 10), generator=torch.Generator().manual_seed(3))
    for name, settings in CASES.items():
        make(out_dir, base, name, settings, ids)


if __name__ == "__main__":
    main()

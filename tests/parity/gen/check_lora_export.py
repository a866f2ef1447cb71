"""Checks that PEFT loads the adapters finch exported (lora_parity_test's
ExportsTheAdapter writes OUT_DIR/<case>/finch_adapter) unchanged: the same
settings as PEFT's own adapter, every tensor of finch's file loaded under
PEFT's names, and the logits PEFT computed with its own adapter (fp32, 1e-5).

Usage: check_lora_export.py OUT_DIR   (the make_lora_cases.py output folder)
"""
import json
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

from make_lora_cases import CASES

SETTINGS = ["r", "lora_alpha", "lora_dropout", "use_rslora", "bias", "fan_in_fan_out", "peft_type", "task_type"]


def check(out_dir, name):
    case_dir = os.path.join(out_dir, name)
    exported = os.path.join(case_dir, "finch_adapter")
    assert os.path.exists(os.path.join(exported, "adapter_config.json")), f"{exported}: run lora_parity_test first"
    with open(os.path.join(case_dir, "adapter", "adapter_config.json")) as f:
        theirs = json.load(f)
    with open(os.path.join(exported, "adapter_config.json")) as f:
        ours = json.load(f)
    for key in SETTINGS:
        assert ours.get(key) == theirs.get(key), f"{name}: {key} is {ours.get(key)!r}, PEFT wrote {theirs.get(key)!r}"
    assert sorted(ours["target_modules"]) == sorted(theirs["target_modules"]), f"{name}: target_modules differ"

    base = LlamaForCausalLM.from_pretrained(os.path.join(out_dir, "base"), dtype=torch.float32,
                                            attn_implementation="sdpa")
    model = PeftModel.from_pretrained(base, exported).eval()
    loaded = {k.replace(".default", ""): v for k, v in model.state_dict().items() if "lora_" in k}
    written = load_file(os.path.join(exported, "adapter_model.safetensors"))
    assert set(written) == set(loaded), f"{name}: finch wrote {sorted(set(written) ^ set(loaded))[:4]} ..."
    for k, v in written.items():
        assert torch.equal(loaded[k], v), f"{name}: {k} was not loaded as written"

    reference = load_file(os.path.join(case_dir, "reference.safetensors"))
    with open(os.path.join(case_dir, "reference.json")) as f:
        ids = torch.tensor(json.load(f)["input_ids"])
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    diff = (logits - reference["logits"]).abs().max().item()
    assert diff <= 1e-5, f"{name}: PEFT's logits with finch's adapter differ by {diff}"
    print(f"{name}: PEFT loads finch's adapter; max |logit diff| {diff:.2e}")


def main():
    torch.set_num_threads(1)
    for name in CASES:
        check(sys.argv[1], name)


if __name__ == "__main__":
    main()

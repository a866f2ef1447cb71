"""GGUF test files for `finch import-gguf`, written with gguf-py's GGUFWriter.

1. dequant/types.gguf (alignment 32) and dequant/types_align64.gguf
   (general.alignment 64): one tensor per ggml type finch decodes (F32, F16,
   BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). The quantised ones
   hold random block bytes with finite, modest fp16 scales (every code path of
   the unpacking is hit), plus tensors made by gguf.quants.quantize where gguf-py
   implements it. dequant/reference.safetensors holds gguf-py's
   `gguf.quants.dequantize` of every tensor as read back by GGUFReader (the path
   transformers takes): finch must reproduce these bits exactly. types.gguf also
   carries metadata of every value type, incl. arrays of strings and nested
   arrays, that the C++ test reads back.
2. tiny_bpe.gguf and tiny_spm.gguf: tiny random Llama models (hidden 64, 2
   layers, 4 heads over 2 KV heads, head dim 16, FFN 256) with Q8_0 / Q4_K /
   Q5_K / Q6_K / Q4_0 / Q5_1 / F16 / BF16 / F32 tensors; q and k rows permuted
   the way llama.cpp's converter does. tiny_bpe has a byte-level BPE vocabulary
   (gpt2 tokenizer, trained here with `tokenizers`) with merges, CONTROL and
   USER_DEFINED tokens, a ChatML template, and an untied output.weight;
   tiny_spm a SentencePiece-style vocabulary (llama tokenizer: <unk>, <s>, </s>,
   byte tokens, scored pieces, no merges) and tied embeddings.

Why the references are right: gguf-py is the format's reference
implementation, and transformers itself is the oracle for the imports (the CLI
test loads these files with `from_pretrained(..., gguf_file=...)`).

Usage: make_gguf_cases.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize
from safetensors.numpy import save_file

from builtin_text import BUILTIN_TEXT

RNG = np.random.default_rng(1234)

# Byte offsets of the fp16 scale fields inside one block of each type.
FP16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
QUANTIZABLE = [T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1]


def random_blocks(qtype, rows, cols, scale=0.02):
    """Random bytes for a (rows, cols) tensor of `qtype`, with finite fp16 scales."""
    block, size = GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block
    raw = RNG.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for offset in FP16_FIELDS[qtype]:
        values = (RNG.standard_normal(n_blocks) * scale).astype(np.float16)
        raw[:, offset:offset + 2] = values.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(rows, cols // block * size)


def encode(weights, qtype):
    """float32 (rows, cols) -> (array, raw_dtype) for GGUFWriter.add_tensor."""
    if qtype == T.F32:
        return weights.astype(np.float32), None
    if qtype == T.F16:
        return weights.astype(np.float16), None
    if qtype in QUANTIZABLE or qtype == T.BF16:
        return quantize(weights.astype(np.float32), qtype), qtype
    # K types: gguf-py has no quantiser; random blocks with small scales.
    return random_blocks(qtype, *weights.shape, scale=0.002), qtype


def write_types(path, alignment=None):
    w = GGUFWriter(path, arch="finchtest")
    if alignment:
        w.add_custom_alignment(alignment)
    # Metadata of every value type (read back by the C++ test).
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float32("test.f32", 0.1)
    w.add_float64("test.f64", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "h\u00e9llo \U0001F600")
    w.add_array("test.strings", ["a", "", "\u2581b c"])
    w.add_array("test.ints", [1, -2, 3])
    w.add_array("test.nested", [[1, 2], [3], [4, 5, 6]])
    tensors = {}
    for qtype in (T.F32, T.F16, T.BF16):
        if qtype == T.BF16:
            raw = RNG.integers(0, 2**16, size=(3, 64), dtype=np.uint16)  # every bit pattern decodes exactly
            w.add_tensor("bf16.random", raw.view(np.uint8), raw_dtype=T.BF16)
        else:
            data = (RNG.standard_normal((3, 64)) * 10).astype(np.float32)
            if qtype == T.F16:  # finite fp16 incl. subnormals, zeros and infinities
                data = data.astype(np.float16)
                data[0, :6] = [0.0, -0.0, 6e-8, -3e-5, np.inf, -np.inf]
            w.add_tensor(f"{qtype.name.lower()}.random", data)
    for qtype in FP16_FIELDS:
        w.add_tensor(f"{qtype.name.lower()}.random", random_blocks(qtype, 4, 512), raw_dtype=qtype)
    for qtype in QUANTIZABLE:
        data = RNG.standard_normal((2, 3, 64)).astype(np.float32)
        w.add_tensor(f"{qtype.name.lower()}.quantized", quantize(data, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    reader = GGUFReader(path)
    for t in reader.tensors:
        tensors[t.name] = np.ascontiguousarray(dequantize(t.data, t.tensor_type).astype(np.float32))
    return tensors


# ---- tiny Llama models ----------------------------------------------------------------------------

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN = 64, 2, 4, 2, 16, 256
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
CORPUS = BUILTIN_TEXT + [
    "def main():\n    print('hello, world')  # 42\n\treturn 0\n",
    "Der schnelle braune Fuchs springt \u00fcber den faulen Hund. \u00c9t\u00e9 \u00e0 Paris, caf\u00e9 cr\u00e8me.",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u4e2d\u6587\u6587\u672c\u3002 \u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442. \U0001F600\U0001F680",
    "numbers 1234567890 3.14159 -17 1e-5, and    runs   of spaces\n\n\nand new lines",
]


def llama_permute(w, heads):
    """HF rows -> llama.cpp rows (the converter's permute): [h][2][d/2] -> [h][d/2][2]."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def add_llama_metadata(w, vocab_size, name):
    w.add_name(name)
    w.add_context_length(256)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab_size)


def add_llama_tensors(w, vocab_size, tied, plan):
    """Random weights; plan maps a GGUF tensor suffix to its ggml type per layer."""
    g = torch.Generator().manual_seed(7)

    def rand(*shape, std=0.08):
        return (torch.randn(*shape, generator=g) * std).numpy()

    emb, t = encode(rand(vocab_size, HIDDEN, std=0.5), T.Q8_0)
    w.add_tensor("token_embd.weight", emb, raw_dtype=t)
    w.add_tensor("output_norm.weight", (1 + rand(HIDDEN, std=0.1)).astype(np.float32))
    if not tied:
        out, t = encode(rand(vocab_size, HIDDEN, std=0.2), T.F16)
        w.add_tensor("output.weight", out, raw_dtype=t)
    for layer in range(LAYERS):
        shapes = {
            "attn_q": (HEADS * HEAD_DIM, HIDDEN), "attn_k": (KV_HEADS * HEAD_DIM, HIDDEN),
            "attn_v": (KV_HEADS * HEAD_DIM, HIDDEN), "attn_output": (HIDDEN, HEADS * HEAD_DIM),
            "ffn_gate": (FFN, HIDDEN), "ffn_up": (FFN, HIDDEN), "ffn_down": (HIDDEN, FFN),
        }
        w.add_tensor(f"blk.{layer}.attn_norm.weight", (1 + rand(HIDDEN, std=0.1)).astype(np.float32))
        w.add_tensor(f"blk.{layer}.ffn_norm.weight", (1 + rand(HIDDEN, std=0.1)).astype(np.float32))
        for part, shape in shapes.items():
            weights = rand(*shape)
            if part == "attn_q":
                weights = llama_permute(weights, HEADS)
            elif part == "attn_k":
                weights = llama_permute(weights, KV_HEADS)
            data, t = encode(weights, plan[part][layer])
            w.add_tensor(f"blk.{layer}.{part}.weight", data, raw_dtype=t)


def train_bpe(byte_level, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    if byte_level:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
        alphabet = []
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=alphabet, show_progress=False)
    tok.train_from_iterator(CORPUS * 3, trainer)
    state = tok.model.__getstate__()
    import json
    model = json.loads(state)
    vocab = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    return [t for t, _ in vocab], merges


def write_tiny_bpe(path):
    tokens, merges = train_bpe(byte_level=True, vocab_size=600)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = specials + tokens + ["<think>", "</think>"]
    types = [3, 3, 3] + [1] * (len(tokens) - 5) + [4, 4]
    w = GGUFWriter(path, arch="llama")
    add_llama_metadata(w, len(tokens), "tiny bpe")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(2)
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)
    plan = {
        "attn_q": [T.Q8_0, T.F16], "attn_k": [T.Q4_0, T.Q8_0], "attn_v": [T.Q5_1, T.BF16],
        "attn_output": [T.Q8_0, T.Q4_1], "ffn_gate": [T.Q8_0, T.Q5_0], "ffn_up": [T.F32, T.Q8_0],
        "ffn_down": [T.Q4_K, T.Q6_K],
    }
    add_llama_tensors(w, len(tokens), tied=False, plan=plan)
    finish(w)


def write_tiny_spm(path):
    pieces, _ = train_bpe(byte_level=False, vocab_size=500)
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokens = ["<unk>", "<s>", "</s>"] + byte_tokens + [p for p in pieces if p not in byte_tokens]
    scores = [0.0] * (3 + 256) + [-float(i) for i in range(len(tokens) - 259)]
    types = [2, 3, 3] + [6] * 256 + [1] * (len(tokens) - 259)
    w = GGUFWriter(path, arch="llama")
    add_llama_metadata(w, len(tokens), "tiny spm")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    plan = {
        "attn_q": [T.Q4_0, T.Q8_0], "attn_k": [T.F16, T.Q5_0], "attn_v": [T.Q8_0, T.Q8_0],
        "attn_output": [T.Q5_1, T.F32], "ffn_gate": [T.Q8_0, T.Q4_1], "ffn_up": [T.BF16, T.Q8_0],
        "ffn_down": [T.Q5_K, T.Q4_K],
    }
    add_llama_tensors(w, len(tokens), tied=True, plan=plan)
    finish(w)


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "dequant"), exist_ok=True)
    reference = {}
    for name, alignment in (("types", None), ("types_align64", 64)):
        tensors = write_types(os.path.join(out, "dequant", f"{name}.gguf"), alignment)
        reference.update({f"{name}/{k}": v for k, v in tensors.items()})
    save_file(reference, os.path.join(out, "dequant", "reference.safetensors"))
    write_tiny_bpe(os.path.join(out, "tiny_bpe.gguf"))
    write_tiny_spm(os.path.join(out, "tiny_spm.gguf"))
    print(f"gguf cases: {len(reference)} reference tensors, 2 tiny models -> {out}")


if __name__ == "__main__":
    main()

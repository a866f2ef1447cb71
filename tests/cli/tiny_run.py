"""A tiny run for the CLI tests: rows of a toy task, a byte-level BPE
tokenizer trained on them and a random Llama of its vocabulary (made here,
in seconds, so no test needs the network)."""
import json
import os
import random

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()


def make_rows(n, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 12))]
        rows.append({"instruction": f"Repeat {i % 7}", "input": " ".join(words), "output": " ".join(reversed(words))})
    return rows


def make_model(work, rows, name="tiny-llama", tie_word_embeddings=False):
    """A byte-level BPE tokenizer trained on the rows, and a random Llama of its vocabulary."""
    model_dir = os.path.join(work, name)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([" ".join(r.values()) for r in rows], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.save_pretrained(model_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
                         tie_word_embeddings=tie_word_embeddings)
    LlamaForCausalLM(config).save_pretrained(model_dir)
    return model_dir


def write_rows(work, rows, name="pairs.jsonl"):
    """The rows as a local JSON Lines dataset in `work`; returns its path."""
    path = os.path.join(work, name)
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def train_args(work, model, data, *extra):
    """`finch train` arguments for a 4-step LoRA run of `model` on `data` (run it with cwd=work):
    checkpoints at steps 2 and 4 in results/<model name>, datasets prepared under work/datasets."""
    return ["train", "--hf_model_id", model, "--hfdc_dataset_name", data, "--data.datasets_dir",
            os.path.join(work, "datasets"), "--max_steps", "4", "--per_device_train_batch_size", "2",
            "--learning_rate", "1e-2", "--warmup_steps", "0", "--logging_steps", "1", "--eval_steps", "0",
            "--save_steps", "2", "--data.max_seq_length", "64", "--train.device", "cpu", *extra]

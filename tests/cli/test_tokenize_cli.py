"""End to end through the finch binary: `finch tokenize` against transformers
(ids, chat templates, decoding) and the one-line errors for bad input.

Usage: test_tokenize_cli.py FINCH_BINARY TOKENIZER_CASES_DIR
(TOKENIZER_CASES_DIR is what tests/parity/gen/make_tokenizer_cases.py wrote;
its _work/smollm2-gguf holds SmolLM2's tokenizer with a chat template.)
"""
import json
import os
import subprocess
import sys
import tempfile

from transformers import AutoTokenizer

from cli_check import check, expect_error, finish

FINCH, CASES = sys.argv[1], sys.argv[2]
MODEL = os.path.join(CASES, "_work", "smollm2-gguf")
def run(*args):
    return subprocess.run([FINCH, "tokenize", "--model", MODEL, *args], capture_output=True, text=True, timeout=300)


def main():
    hf = AutoTokenizer.from_pretrained(MODEL)
    texts = ["Hello world", "  spaces\tand\nnewlines  ", "<|im_start|>user\nhi<|im_end|>", "数字 12345 😀", ""]
    conversations = [
        [{"role": "user", "content": "What is 2+2?"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}],
    ]
    with tempfile.TemporaryDirectory() as tmp:
        r = run("--text", texts[0])
        check("--text prints HF's ids", r.returncode == 0 and json.loads(r.stdout) == hf(texts[0])["input_ids"],
              r.stdout + r.stderr)
        r = run("--text", texts[0], "--no-special")
        check("--no-special", json.loads(r.stdout) == hf(texts[0], add_special_tokens=False)["input_ids"], r.stdout)

        path = os.path.join(tmp, "in.jsonl")
        with open(path, "w") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps(t if i % 2 else {"text": t}) + "\n")
        r = run("--file", path)
        got = [json.loads(line) for line in r.stdout.splitlines()]
        check("--file: one line per input, HF's ids", got == [hf(t)["input_ids"] for t in texts], r.stdout + r.stderr)

        for add in (False, True):
            for conv in conversations:
                args = ["--chat", "--text", json.dumps(conv)] + (["--add-generation-prompt"] if add else [])
                r = run(*args)
                out = json.loads(r.stdout) if r.returncode == 0 else {}
                text = hf.apply_chat_template(conv, tokenize=False, add_generation_prompt=add)
                ids = hf.apply_chat_template(conv, tokenize=True, add_generation_prompt=add, return_dict=False)
                check(f"--chat (generation prompt {add}) text and ids equal apply_chat_template",
                      out.get("text") == text and out.get("ids") == list(ids), f"{out} vs {text!r} {ids}")

        # A template that reads reasoning and tools (Qwen3's, from the fixtures) on SmolLM2's vocabulary.
        qwen3 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/fixtures/chat_templates/Qwen-Qwen3-0.6B.jinja")
        if os.path.exists(qwen3):
            model = os.path.join(tmp, "qwen3-template")
            os.makedirs(model)
            for name in ("tokenizer.json", "tokenizer_config.json"):
                with open(os.path.join(MODEL, name)) as src, open(os.path.join(model, name), "w") as dst:
                    dst.write(src.read())
            with open(qwen3) as src, open(os.path.join(model, "chat_template.jinja"), "w") as dst:
                dst.write(src.read())
            hq = AutoTokenizer.from_pretrained(model)
            conv = [{"role": "user", "content": "Is 7 prime?"},
                    {"role": "assistant", "content": "Yes.", "reasoning": "Only 1 and 7 divide it.", "tool_calls": None}]
            r = subprocess.run([FINCH, "tokenize", "--model", model, "--chat", "--text", json.dumps(conv)],
                               capture_output=True, text=True)
            out = json.loads(r.stdout) if r.returncode == 0 else {}
            text = hq.apply_chat_template(conv, tokenize=False)
            check("--chat aliases reasoning fields and drops null keys as transformers",
                  out.get("text") == text and "Only 1 and 7" in text, f"{out} vs {text!r} {r.stderr}")
            tools = [{"type": "function", "function": {"name": "get_time", "description": "Current time",
                                                        "parameters": {"type": "object", "properties": {}}}}]
            conv = [{"role": "user", "content": "Time?"},
                    {"role": "assistant", "content": "", "tool_calls": [
                        {"type": "function", "function": {"name": "get_time", "arguments": {"zone": "UTC"}}}]},
                    {"role": "tool", "content": "12:00"}]
            r = subprocess.run([FINCH, "tokenize", "--model", model, "--chat", "--add-generation-prompt", "--text",
                                json.dumps({"messages": conv, "tools": tools})], capture_output=True, text=True)
            out = json.loads(r.stdout) if r.returncode == 0 else {}
            text = hq.apply_chat_template(conv, tools=tools, tokenize=False, add_generation_prompt=True)
            check("--chat with tools and tool calls equals apply_chat_template",
                  out.get("text") == text and "get_time" in text, f"{out} vs {text!r} {r.stderr}")
        else:
            print("skip Qwen3 template check: ../shared/fixtures absent")

        ids = hf("Hello <|im_end|> world")["input_ids"]
        r = run("--decode", "--text", json.dumps(ids))
        check("--decode", json.loads(r.stdout) == hf.decode(ids), r.stdout)
        r = run("--decode", "--no-special", "--text", json.dumps(ids))
        check("--decode --no-special skips special tokens",
              json.loads(r.stdout) == hf.decode(ids, skip_special_tokens=True), r.stdout)

        bad = os.path.join(tmp, "bad.jsonl")
        with open(bad, "w") as f:
            f.write('"fine"\n{"txt": 1}\n')
        expect_error("bad --file line names file and line", run("--file", bad), "bad.jsonl line 2",
                     'expected a JSON string or {"text"')
        expect_error("--decode wants ids", run("--decode", "--text", '["a"]'), "--text", "token ids")
        expect_error("--chat wants messages", run("--chat", "--text", '"hi"'), "messages")
        r = subprocess.run([FINCH, "tokenize", "--model", tmp, "--text", "x"], capture_output=True, text=True)
        expect_error("missing tokenizer.json", r, "no tokenizer.json")
        expect_error("neither --text nor --file", run(), "--text or --file")
    finish("tokenize")


if __name__ == "__main__":
    main()

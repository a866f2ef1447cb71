"""End to end through the finch binary: `finch data prepare` against a Python
reimplementation of the seed tools' HFDatasetConfig recipe:

    ds = datasets.load_dataset(<format>, data_files=FILE, split="train")
    rows -> {"input": input_template.format(**fields), "output": output_template.format(**fields)}
        where fields = the row's columns, with field_mapping's placeholders -> columns
    first = ds.train_test_split(test_size=1 - train_split_ratio, seed=seed)
    second = first["test"].train_test_split(test_size=val_test_split_ratio, seed=seed)
    training, validation, test = first["train"], second["train"], second["test"]

(the seed left its split unseeded; finch always seeds, 42 by default). The
files must match exactly, line by line. Also: the folder layout, reuse and
--force, determinism, bad rows, path safety, concurrent preparers, the chat
form against transformers' apply_chat_template.

Usage: test_data_prepare_cli.py FINCH_BINARY TOKENIZER_CASES_DIR
"""
import json
import os
import random
import subprocess
import sys
import tempfile

import datasets
from transformers import AutoTokenizer

from cli_check import check, finish

FINCH, CASES = sys.argv[1], sys.argv[2]
CHAT_MODEL = os.path.join(CASES, "_work", "smollm2-gguf")
DEFAULT_INPUT = "### Instruction:\n{instruction}\n ### Input:\n{input}\n"
DEFAULT_OUTPUT = "### Response:\n{output}"
SPLIT_DIR = "train=90%-val=5%-test=5%"
datasets.disable_progress_bars()


def prepare(workdir, *args, env=None):
    return subprocess.run([FINCH, "data", "prepare", "--data.datasets_dir", os.path.join(workdir, "datasets"), *args],
                          capture_output=True, text=True, timeout=600, cwd=workdir, env=env)


def expect_error(name, result, *fragments):
    """A user mistake: exit status 1 and a last stderr line 'finch: error: ...' (one line) holding every
    fragment; the lines before it are the resolved settings and progress."""
    lines = result.stderr.strip().splitlines()
    ok = (result.returncode == 1 and lines and lines[-1].startswith("finch: error: ")
          and all(f in lines[-1] for f in fragments))
    check(name, ok, f"rc={result.returncode} stderr={lines[-1] if lines else ''!r}")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def reference(builder, path, input_template, output_template, mapping=None, train=0.9, val_test=0.5, seed=42,
              render=None):
    ds = datasets.load_dataset(builder, data_files=path, split="train")

    def fmt(row):
        if render:
            return render(row)
        fields = dict(row)
        for placeholder, column in (mapping or {}).items():
            fields[placeholder] = row[column]
        return {"input": input_template.format(**fields), "output": output_template.format(**fields)}

    ds = ds.map(fmt, remove_columns=ds.column_names)
    first = ds.train_test_split(test_size=1 - train, seed=seed)
    second = first["test"].train_test_split(test_size=val_test, seed=seed)
    return {"training": first["train"].to_list(), "validation": second["train"].to_list(),
            "test": second["test"].to_list()}


def same_as_reference(name, out_dir, ref):
    for split in ("training", "validation", "test"):
        got = read_jsonl(os.path.join(out_dir, f"{split}.jsonl"))
        first_diff = next((i for i, (a, b) in enumerate(zip(got, ref[split])) if a != b), None)
        check(f"{name}: {split}.jsonl equals the Python recipe ({len(ref[split])} rows)",
              len(got) == len(ref[split]) and first_diff is None,
              f"len {len(got)} vs {len(ref[split])}, first difference at {first_diff}")


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def make_rows(n, seed=0):
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "数字", "😀", "tab\there", "new\nline", "{braces}", "quote's", '"dq"']
    return [{"instruction": " ".join(rng.choice(words) for _ in range(rng.randint(1, 8))),
             "input": "" if rng.random() < 0.3 else " ".join(rng.choice(words) for _ in range(rng.randint(1, 5))),
             "output": " ".join(rng.choice(words) for _ in range(rng.randint(1, 12))),
             "score": rng.choice([0.1, 1.0, 2.5e-7, 1e16, 3.0]), "n": rng.randint(-5, 10**6),
             "ok": rng.random() < 0.5, "tags": [rng.choice(words)], "meta": {"k": rng.randint(0, 3)}}
            for _ in range(n)]


def main():
    work = tempfile.mkdtemp(prefix="finch_prepare_")
    data = os.path.join(work, "my_data.jsonl")
    write_rows(data, make_rows(1000))

    # The seed's defaults: templates, 90/5/5, seed 42.
    r = prepare(work, "--hfdc_dataset_name", data)
    out = os.path.join(work, "datasets", "my_data", "default", SPLIT_DIR)
    check("prepare succeeds", r.returncode == 0, r.stderr)
    check("prints the prepared folder", r.stdout.strip() == os.path.join(work, "datasets", "my_data", "default",
                                                                         SPLIT_DIR), r.stdout)
    check(".data_ready written", os.path.exists(os.path.join(out, ".data_ready")))
    same_as_reference("defaults", out, reference("json", data, DEFAULT_INPUT, DEFAULT_OUTPUT))
    check("the resolved settings are saved", "dataset_name:" in open(os.path.join(out, "data_config.yaml")).read())

    # A second run is a no-op; --force redoes it.
    before = os.stat(os.path.join(out, "training.jsonl")).st_mtime_ns
    r = prepare(work, "--hfdc_dataset_name", data)
    check("second run reuses", r.returncode == 0 and "already prepared" in r.stderr
          and os.stat(os.path.join(out, "training.jsonl")).st_mtime_ns == before, r.stderr)
    r = prepare(work, "--hfdc_dataset_name", data, "--force")
    check("--force prepares again", r.returncode == 0 and "already prepared" not in r.stderr, r.stderr)
    # The folder remembers what made it: other settings never silently reuse it.
    expect_error("reuse under another seed is refused", prepare(work, "--hfdc_dataset_name", data, "--data.seed", "1"),
                 "data.seed = 42, not 1", "--force")
    expect_error("bad setting range", prepare(work, "--hfdc_dataset_name", data, "--data.max_seq_length", "0"),
                 "data.max_seq_length")

    # Templates from the command line (escapes unescaped), mapping, other types, other ratios and seed.
    tmpl_in, tmpl_out = "Q: {question}\\n[{n}|{score}|{ok}|{tags}|{meta}]\\n", "A:\\t{output}"
    args = ["--hfdc_dataset_name", data, "--hfdc_input_template", tmpl_in, "--hfdc_output_template", tmpl_out,
            "--hfdc_field_mapping", "question=instruction", "--hfdc_train_split_ratio", "0.8",
            "--hfdc_val_test_split_ratio", "0.3", "--data.seed", "7", "--hfdc_dataset_config", "custom"]
    r = prepare(work, *args)
    out2 = os.path.join(work, "datasets", "my_data", "custom", "train=80%-val=14%-test=6%")
    check("custom settings succeed", r.returncode == 0 and os.path.isdir(out2), r.stderr + r.stdout)
    same_as_reference("custom templates/mapping/ratios/seed", out2,
                      reference("json", data, tmpl_in.replace("\\n", "\n").replace("\\t", "\t"),
                                tmpl_out.replace("\\t", "\t"), {"question": "instruction"}, 0.8, 0.3, 7))

    # A YAML file, overridden by one flag without resetting the others.
    cfg = os.path.join(work, "cfg.yaml")
    with open(cfg, "w") as f:
        f.write(f"data:\n  dataset_name: {data}\n  dataset_config: yaml\n  output_template: \"R: {{output}}\"\n"
                "  seed: 3\n")
    r = prepare(work, "--config", cfg, "--data.seed", "5")
    out3 = os.path.join(work, "datasets", "my_data", "yaml", SPLIT_DIR)
    check("YAML config + flag", r.returncode == 0, r.stderr)
    same_as_reference("YAML config + flag", out3, reference("json", data, DEFAULT_INPUT, "R: {output}", seed=5))

    # --tokenize builds each split's token cache beside its JSONL once, then reuses it.
    r = prepare(work, "--hfdc_dataset_name", data, "--tokenize", "--hf_model_id", CHAT_MODEL)
    caches = sorted(f for f in os.listdir(out) if ".tokens-" in f)
    check("--tokenize writes three token caches", r.returncode == 0 and len(caches) == 3
          and "training: 900 rows" in r.stderr, r.stderr[-500:] + str(caches))
    r = prepare(work, "--hfdc_dataset_name", data, "--tokenize", "--hf_model_id", CHAT_MODEL)
    check("--tokenize reuses the caches", r.returncode == 0 and r.stderr.count("(cached)") == 3, r.stderr[-500:])

    # Determinism: the same settings elsewhere give the same bytes.
    other = tempfile.mkdtemp(prefix="finch_prepare_again_")
    prepare(other, "--hfdc_dataset_name", data)
    again = os.path.join(other, "datasets", "my_data", "default", SPLIT_DIR)
    check("deterministic across runs", all(
        open(os.path.join(out, f), "rb").read() == open(os.path.join(again, f), "rb").read()
        for f in ("training.jsonl", "validation.jsonl", "test.jsonl")))

    # Parquet and CSV sources give the same as datasets' loaders.
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = make_rows(300, seed=1)
    pq_path = os.path.join(work, "pq_data.parquet")
    pq.write_table(pa.Table.from_pylist(rows), pq_path, row_group_size=64, compression="zstd")
    r = prepare(work, "--hfdc_dataset_name", pq_path)
    check("parquet source", r.returncode == 0, r.stderr)
    same_as_reference("parquet source", os.path.join(work, "datasets", "pq_data", "default", SPLIT_DIR),
                      reference("parquet", pq_path, DEFAULT_INPUT, DEFAULT_OUTPUT))
    csv_path = os.path.join(work, "csv_data.csv")
    import csv
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["instruction", "input", "output"])
        for row in rows:
            w.writerow([row["instruction"], row["input"] or "x", row["output"]])
    r = prepare(work, "--hfdc_dataset_name", csv_path)
    check("csv source", r.returncode == 0, r.stderr)
    same_as_reference("csv source", os.path.join(work, "datasets", "csv_data", "default", SPLIT_DIR),
                      reference("csv", csv_path, DEFAULT_INPUT, DEFAULT_OUTPUT))

    # Bad rows: an error naming the row and its columns, or counted with skip_bad_rows.
    bad = os.path.join(work, "bad.jsonl")
    good_rows = make_rows(50, seed=2)
    with open(bad, "w", encoding="utf-8") as f:
        for i, row in enumerate(good_rows):
            if i == 10:
                f.write(json.dumps({"instruction": "x", "output": "y"}) + "\n")  # no `input`
            f.write(json.dumps(row) + "\n")
    r = prepare(work, "--hfdc_dataset_name", bad)
    expect_error("missing template field names the row and the columns", r, "bad.jsonl:11", "'input'",
                 "instruction, output")
    r = prepare(work, "--hfdc_dataset_name", bad, "--data.skip_bad_rows")
    ready = json.load(open(os.path.join(work, "datasets", "bad", "default", SPLIT_DIR, ".data_ready")))
    check("skip_bad_rows counts and reports", r.returncode == 0 and ready["bad_rows"] == 1
          and "skipped 1 bad row" in r.stderr, r.stderr)
    truncated = os.path.join(work, "truncated.jsonl")
    with open(truncated, "w") as f:
        f.write(json.dumps(good_rows[0]) + "\n" + json.dumps(good_rows[1])[:-7] + "\n")
    expect_error("truncated line", prepare(work, "--hfdc_dataset_name", truncated), "truncated.jsonl:2")
    empty = os.path.join(work, "empty.jsonl")
    open(empty, "w").close()
    expect_error("empty file", prepare(work, "--hfdc_dataset_name", empty), "no usable rows")
    expect_error("bad template", prepare(work, "--hfdc_dataset_name", data, "--hfdc_input_template", "{a"),
                 "data.input_template")
    tiny = os.path.join(work, "tiny.jsonl")
    write_rows(tiny, make_rows(3))
    expect_error("too few rows for the split", prepare(work, "--hfdc_dataset_name", tiny), "rows")

    # Names cannot leave the datasets folder.
    r = prepare(work, "--hfdc_dataset_name", data, "--hfdc_dataset_config", "../../../escaped")
    inside = [os.path.join(d, x) for d, _, xs in os.walk(os.path.join(work, "datasets")) for x in xs]
    check("'..' in the config name stays inside datasets/", r.returncode == 0
          and not os.path.exists(os.path.join(work, "escaped"))
          and os.path.realpath(r.stdout.strip()).startswith(os.path.realpath(os.path.join(work, "datasets")))
          and any("escaped" in p for p in inside), r.stdout + r.stderr)

    # Ranks started together: one prepares, the others wait and reuse it.
    shared = tempfile.mkdtemp(prefix="finch_ranks_")
    procs = [subprocess.Popen([FINCH, "data", "prepare", "--data.datasets_dir", os.path.join(shared, "datasets"),
                               "--hfdc_dataset_name", data], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "RANK": str(rank)}) for rank in range(4)]
    results = [p.communicate(timeout=600) for p in procs]
    prepared = sum("prepared 1000 rows" in err for _, err in results)
    check("4 concurrent ranks: all succeed, exactly one prepares",
          all(p.returncode == 0 for p in procs) and prepared == 1, str([e for _, e in results]))

    # --force under a launcher: rank 0 prepares again, the others wait for its result of this run.
    procs = [subprocess.Popen([FINCH, "data", "prepare", "--data.datasets_dir", os.path.join(shared, "datasets"),
                               "--hfdc_dataset_name", data, "--force"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "RANK": str(rank), "TORCHELASTIC_RUN_ID": "run-2"})
             for rank in (3, 2, 1, 0)]
    results = [p.communicate(timeout=600) for p in procs]
    ready = json.load(open(os.path.join(shared, "datasets", "my_data", "default", SPLIT_DIR, ".data_ready")))
    check("--force with 4 ranks: rank 0 alone prepares, the others reuse its result",
          all(p.returncode == 0 for p in procs) and ready["launch"] == "run-2"
          and [("prepared 1000 rows" in err) for _, err in results] == [False, False, False, True],
          str([e[-300:] for _, e in results]))

    # The chat form: messages rendered with the model's chat template, the last assistant turn is the output.
    tok = AutoTokenizer.from_pretrained(CHAT_MODEL)
    rng = random.Random(5)
    convs = []
    for i in range(200):
        msgs = [{"role": "system", "content": "Be brief."}] if i % 3 == 0 else []
        for t in range(rng.randint(1, 3)):
            msgs += [{"role": "user", "content": f"question {i}.{t} {rng.choice(['a', '数', 'b c'])}"},
                     {"role": "assistant", "content": f"answer {i}.{t}"}]
        convs.append({"conversation": msgs, "id": i})
    chat = os.path.join(work, "chat.jsonl")
    write_rows(chat, convs)

    def render_chat(row):
        msgs = row["conversation"]
        prompt = tok.apply_chat_template(msgs[:-1], add_generation_prompt=True, tokenize=False)
        full = tok.apply_chat_template(msgs, tokenize=False)
        assert full.startswith(prompt)
        return {"input": prompt, "output": full[len(prompt):]}

    r = prepare(work, "--hfdc_dataset_name", chat, "--data.format", "chat", "--hfdc_field_mapping",
                "messages=conversation", "--hf_model_id", CHAT_MODEL)
    check("chat form succeeds", r.returncode == 0, r.stderr)
    same_as_reference("chat form", os.path.join(work, "datasets", "chat", "default", SPLIT_DIR),
                      reference("json", chat, None, None, render=render_chat))
    r = prepare(work, "--hfdc_dataset_name", chat, "--data.format", "chat", "--hf_model_id", CHAT_MODEL,
                "--force")
    expect_error("chat form without the messages column", r, "chat.jsonl:1", "'messages'", "conversation, id")
    finish("data prepare")


if __name__ == "__main__":
    main()

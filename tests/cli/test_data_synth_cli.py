"""End to end through the finch binary: `finch data synth`, the built-in
default dataset. Every answer is recomputed here from the row's input with
Python's own tools (decimal for unit conversions, datetime for dates,
json.loads for field extraction, the word problem's numbers for arithmetic)
and must equal the row's output; the file is deterministic (byte-identical
for the same seed and rows; another seed differs), the four families are
interleaved and balanced, and `finch data prepare` takes the file as a local
dataset.

Usage: test_data_synth_cli.py FINCH_BINARY
"""
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from decimal import Decimal

from cli_check import check, expect_error, finish

FINCH = os.path.abspath(sys.argv[1])
# sha256 of the default file (--rows 2400 --seed 0): the bytes must not change
# between machines or builds; change it only with a deliberate change of the data.
DEFAULT_SHA256 = "5f4a28ccf925d83458ea5c1a9eac57a06caebe13b31f1cb9ebb8536b40f852b0"
FAMILIES = ["unit conversion", "date reformatting", "field extraction", "arithmetic"]

# Written independently of synth.cpp: value in `from` * factor = value in `to`.
FACTORS = {("km", "m"): Decimal(1000), ("m", "cm"): Decimal(100), ("cm", "mm"): Decimal(10),
           ("kg", "g"): Decimal(1000), ("L", "mL"): Decimal(1000), ("h", "min"): Decimal(60),
           ("min", "s"): Decimal(60), ("m", "km"): Decimal("0.001"), ("g", "kg"): Decimal("0.001"),
           ("mL", "L"): Decimal("0.001"), ("mm", "cm"): Decimal("0.1")}
DATE_FORMS = {"Rewrite the date in the form Month D, YYYY.": lambda d: f"{d:%B} {d.day}, {d.year}",
              "Rewrite the date in the form DD/MM/YYYY.": lambda d: d.strftime("%d/%m/%Y"),
              "Rewrite the date in the form D Month YYYY.": lambda d: f"{d.day} {d:%B} {d.year}"}
N = r"(?P<n>[A-Z][a-z]+)"
WORD_PROBLEMS = [
    (rf"{N} has (?P<a>\d+) apples and buys (?P<b>\d+) more\. How many apples does (?P=n) have now\?",
     lambda a, b: a + b),
    (rf"{N} had (?P<a>\d+) stickers and gave away (?P<b>\d+)\. How many stickers are left\?", lambda a, b: a - b),
    (r"A classroom has (?P<a>\d+) rows with (?P<b>\d+) chairs in each row\. How many chairs are there\?",
     lambda a, b: a * b),
    (rf"{N} had (?P<a>\d+) coins, found (?P<b>\d+) more, then spent (?P<c>\d+)\. How many coins does (?P=n) have "
     r"now\?", lambda a, b, c: a + b - c),
    (r"A shop packs (?P<a>\d+) boxes of (?P<b>\d+) eggs and has (?P<c>\d+) loose eggs\. How many eggs are there in "
     r"total\?", lambda a, b, c: a * b + c),
]


def synth(*args):
    return subprocess.run([FINCH, "data", "synth", *args], capture_output=True, text=True, timeout=120)


def plain(d):
    """A Decimal as the shortest exact decimal text: 3500, 3.5, 0.25."""
    return format(d.normalize(), "f")


def unit_answer(row):
    m = re.fullmatch(r"(\d+(?:\.\d+)?) (\S+) to (\S+)", row["input"])
    if not m or (m[2], m[3]) not in FACTORS or m[1] != plain(Decimal(m[1])):
        return None
    return f"{plain(Decimal(m[1]) * FACTORS[(m[2], m[3])])} {m[3]}"


def date_answer(row):
    form = DATE_FORMS.get(row["instruction"])
    if form is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["input"]):
        return None
    return form(datetime.datetime.strptime(row["input"], "%Y-%m-%d"))  # raises on an invalid date


def field_answer(row):
    m = re.fullmatch(r'Read the JSON object and give the value of its "(\w+)" field\. Reply with the value only\.',
                     row["instruction"])
    obj = json.loads(row["input"])
    if not m or sorted(obj) != ["age", "city", "job", "name"]:
        return None
    return str(obj[m[1]])


def arithmetic_answer(row):
    for pattern, solve in WORD_PROBLEMS:
        m = re.fullmatch(pattern, row["input"])
        if m:
            numbers = {k: int(v) for k, v in m.groupdict().items() if k != "n"}
            answer = solve(**numbers)
            return str(answer) if answer >= 0 else None
    return None


ANSWER = [unit_answer, date_answer, field_answer, arithmetic_answer]


def main():
    work_dir = tempfile.TemporaryDirectory(prefix="finch-synth-")  # removed at exit
    work = work_dir.name
    path = os.path.join(work, "synth.jsonl")

    r = synth("--out", path)
    check("synth exits 0", r.returncode == 0, r.stderr)
    lines = r.stdout.strip().splitlines()
    check("one summary line naming every family's count and the path",
          len(lines) == 1 and path in lines[0] and all(f"600 {f}" in lines[0] for f in FAMILIES), r.stdout)
    with open(path, "rb") as f:
        default_bytes = f.read()
    rows = [json.loads(line) for line in default_bytes.decode("utf-8").splitlines()]
    check("default: at least 2000 rows", len(rows) >= 2000, str(len(rows)))
    check("every row has exactly instruction, input, output (strings)",
          all(list(row) == ["instruction", "input", "output"] and all(isinstance(v, str) and v for v in row.values())
              for row in rows))

    # Every answer recomputed from the input, family by family (row i is family i % 4).
    wrong = []
    for i, row in enumerate(rows):
        try:
            expected = ANSWER[i % 4](row)
        except (ValueError, KeyError, json.JSONDecodeError) as e:
            expected = f"<{e}>"
        if expected != row["output"]:
            wrong.append((i, row, expected))
    check("every output equals the answer recomputed in Python", not wrong, str(wrong[:3]))
    for f, name in enumerate(FAMILIES):
        family = rows[f::4]
        check(f"{name}: a quarter of the rows, varied", len(family) == len(rows) // 4
              and len({r["input"] for r in family}) > len(family) // 2)
    check("a few fixed instruction phrasings per family",
          all(1 <= len({r["instruction"] for r in rows[f::4]}) <= 4 for f in range(4)))
    check("every date form, unit pair, field and word problem occurs",
          {r["instruction"] for r in rows[1::4]} == set(DATE_FORMS)
          and {tuple(r["input"].split()[1::2]) for r in rows[0::4]} == set(FACTORS)
          and len({r["instruction"] for r in rows[2::4]}) == 4
          and all(any(re.fullmatch(p, r["input"]) for r in rows[3::4]) for p, _ in WORD_PROBLEMS))

    # Deterministic: same seed and rows -> same bytes; prefix-stable; another seed differs.
    again = os.path.join(work, "again.jsonl")
    check("default file: the pinned bytes", hashlib.sha256(default_bytes).hexdigest() == DEFAULT_SHA256,
          hashlib.sha256(default_bytes).hexdigest())
    check("same seed: byte-identical", synth("--out", again, "--seed", "0").returncode == 0
          and open(again, "rb").read() == default_bytes)
    short = os.path.join(work, "short.jsonl")
    r = synth("--out", short, "--rows", "10")
    check("--rows 10: the first 10 rows of the default file", r.returncode == 0
          and open(short, "rb").read() == b"".join(default_bytes.splitlines(keepends=True)[:10]), r.stderr)
    other = os.path.join(work, "other.jsonl")
    r = synth("--out", other, "--seed", "7", "--rows", "2400")
    other_rows = [json.loads(line) for line in open(other, encoding="utf-8")]
    check("another seed: different rows, still correct", r.returncode == 0 and open(other, "rb").read() != default_bytes
          and all(ANSWER[i % 4](row) == row["output"] for i, row in enumerate(other_rows)))

    # finch data prepare takes it like any local dataset.
    datasets_dir = os.path.join(work, "datasets")
    r = subprocess.run([FINCH, "data", "prepare", "--hfdc_dataset_name", path, "--data.datasets_dir", datasets_dir],
                       capture_output=True, text=True, timeout=300, cwd=work)
    check("finch data prepare accepts the file", r.returncode == 0, r.stderr[-2000:])
    split_dir = os.path.join(datasets_dir, "synth", "default", "train=90%-val=5%-test=5%")
    prepared = {}
    for name in ("training", "validation", "test"):
        file = os.path.join(split_dir, f"{name}.jsonl")
        prepared[name] = [json.loads(line) for line in open(file, encoding="utf-8")] if os.path.exists(file) else []
    counts = [len(prepared[n]) for n in ("training", "validation", "test")]
    check("train/validation/test written (90/5/5 of 2400)", counts == [2160, 120, 120], str(counts))
    templated = {("### Instruction:\n{instruction}\n ### Input:\n{input}\n".format(**row),
                  "### Response:\n{output}".format(**row)) for row in rows}
    check("every prepared row is a synth row through the default templates",
          all((e["input"], e["output"]) in templated for split in prepared.values() for e in split))

    # Bad --rows: one line naming --rows.
    for bad in ("0", "-3"):
        expect_error(f"--rows {bad}: one-line error naming --rows", synth("--out", os.path.join(work, "x.jsonl"),
                                                                          "--rows", bad), "--rows")
    check("nothing written for a bad --rows", not os.path.exists(os.path.join(work, "x.jsonl")))
    r = synth("--out", os.path.join(work, "y.jsonl"), "--rows", "many")
    check("--rows many: refused, naming --rows", r.returncode != 0 and "--rows" in r.stderr, r.stderr)
    r = synth("--rows", "5")
    check("no --out: refused, naming --out", r.returncode != 0 and "--out" in r.stderr, r.stderr)

    finish("data synth")


if __name__ == "__main__":
    main()

"""The text the real-model parity tests score: builtin_text.jsonl beside this
file, one JSON string per line."""

import json
from pathlib import Path

BUILTIN_TEXT = [json.loads(line) for line in
                (Path(__file__).resolve().parent / "builtin_text.jsonl").read_text().splitlines() if line]

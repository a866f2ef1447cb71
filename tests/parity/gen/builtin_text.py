"""The built-in text the quickstart and the real-model parity test score:
scripts/quickstart_text.jsonl, one JSON string per line (the quickstart reads
the same file with `finch tokenize --file`)."""

import json
from pathlib import Path

BUILTIN_TEXT = [json.loads(line) for line in
                (Path(__file__).resolve().parents[3] / "scripts/quickstart_text.jsonl").read_text().splitlines() if line]

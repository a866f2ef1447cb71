"""Table reader references: data files in every format finch reads, each with
the rows Hugging Face `datasets` gives for it.

For each case NAME.EXT this writes NAME.EXT.expected.jsonl holding
`datasets.load_dataset(<format>, data_files=NAME.EXT, split="train").to_list()`,
one row per line (for a Parquet file datasets cannot load, such as one with a
dictionary column, pyarrow's `read_table(...).to_pylist()`, which is what
datasets' rows come from). tests/parity/table_parity_test.cpp reads every case
with finch::data::read_table and compares row by row, types and floats exact.

Python values JSON lacks are written as finch gives them (parquet_reader.h):
datetime, date, time, timedelta, Decimal -> str(value); bytes -> base64; and
NaN / +-inf -> {"__float__": "nan" | "inf" | "-inf"} (JSON has no such numbers).

Usage: make_table_cases.py OUT_DIR
"""
import base64
import datetime
import decimal
import json
import math
import os
import sys

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
datasets.disable_progress_bars()
CACHE = os.path.join(OUT, "hf_cache")


def to_json(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return {"__float__": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time, datetime.timedelta, decimal.Decimal)):
        return str(v)
    if type(v).__name__ in ("Timestamp", "Timedelta"):  # pandas, for nanoseconds
        return str(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v


def expect(path, fmt):
    try:
        rows = datasets.load_dataset(fmt, data_files=path, split="train", cache_dir=CACHE).to_list()
    except Exception:
        if fmt != "parquet":
            raise
        rows = pq.read_table(path).to_pylist()
    with open(path + ".expected.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(to_json(row), ensure_ascii=False, allow_nan=False) + "\n")


def text_case(name, text, fmt):
    path = os.path.join(OUT, name)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(text)
    expect(path, fmt)


# --- JSON Lines and JSON: pyarrow's column unification as datasets applies it.
text_case("basic.jsonl", '{"a":1,"b":"x","c":true}\n{"a":2,"b":"y\\u00e9\\ud83d\\ude00","c":false}\n', "json")
text_case("promote.jsonl", '{"a":1,"b":"x"}\n{"a":2.5,"b":null}\n{"a":-3}\n', "json")
text_case("missing_keys.jsonl", '{"a":1}\n\n   \n{"b":2}\r\n{"b":3,"a":4}\n', "json")
text_case("nested_struct.jsonl", '{"m":{"x":1,"y":"a"}}\n{"m":{"y":"s","x":2.5}}\n{"m":null}\n', "json")
text_case("mixed_struct.jsonl", '{"m":{"x":1}}\n{"m":{"y":"s"}}\n{"m":{}}\n', "json")
text_case("mixed_kinds.jsonl", '{"a":1,"b":true}\n{"a":"s","b":1}\n{"a":[1],"b":null}\n', "json")
text_case("lists.jsonl", '{"a":[1,2],"b":[[1],[2.5]]}\n{"a":[3.5],"b":[]}\n{"a":null,"b":[[{"k":1}]]}\n{"a":[]}\n', "json")
text_case("list_of_structs.jsonl",
          '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}\n'
          '{"messages":[{"content":"x","role":"user"}]}\n', "json")
text_case("big_numbers.jsonl", '{"a":1,"b":9223372036854775807,"c":1e300}\n{"a":18446744073709551615,"b":-9223372036854775808,"c":-0.0}\n', "json")
text_case("floats.jsonl", '{"f":0.1}\n{"f":1e-320}\n{"f":3.141592653589793238}\n{"f":123456789012345678901234567890}\n', "json")
text_case("all_null.jsonl", '{"a":null,"b":1}\n{"a":null,"b":2}\n', "json")
text_case("bom.jsonl", '\ufeff{"a":1}\n{"a":2}', "json")
text_case("array.json", '[{"a":1,"b":"x"},\n {"b":"y","a":2.5}]', "json")
text_case("array_of_strings.json", '["x", "y"]', "json")
text_case("one_object.json", '{\n  "data": [{"a": 1}, {"a": 2}],\n  "v": "1.0"\n}\n', "json")
text_case("lines.json", '{"a":1}\n{"a":2}\n', "json")

# --- CSV: pandas.read_csv's defaults, then Arrow.
text_case("basic.csv", 'a,b,c,d\n1,x,1.5,True\n2,"y,z",,false\n-3,"",2,TRUE\n', "csv")
text_case("int_with_null.csv", 'a,b\n1,\n,2\n3,4\n', "csv")
text_case("bool_with_null.csv", 'a,b\nTrue,x\n,NA\nFALSE,null\n', "csv")
text_case("quotes.csv", 'a,b\r\n"he said ""hi""","line1\nline2"\r\n" 7",8\r\n"x"y,"a\r\nb"\r\n', "csv")
text_case("mixed.csv", 'a,b,c\n1,1,True\nx,2.5,yes\n', "csv")
text_case("whitespace.csv", 'a,b,c\n 1, 2.5, x\n3 ,4 , y \n', "csv")
text_case("short_rows.csv", 'a,b,c\n1,2\n3,4,5\n', "csv")
text_case("names.csv", 'a,a,,a.1,b\n1,2,3,4,5\n', "csv")
text_case("blank_lines.csv", 'a,b\n\n1,2\n\n\n3,4', "csv")
text_case("floats.csv", 'a\n0.1\n1e5\n-0\ninf\n-Infinity\nnan\n1.7976931348623157e308\n3.141592653589793238\n1.\n.5\n1e-400\n', "csv")
text_case("big_ints.csv", 'a,b\n9223372036854775807,1\n18446744073709551615,-9223372036854775808\n', "csv")
text_case("signs.csv", 'a\n+1\n-2\n007\n', "csv")
text_case("na_strings.csv", 'a,b\n#N/A,1\nN/A,2\nNULL,3\nNone,4\nn/a,5\n-NaN,6\n<NA>,7\nhello,8\n', "csv")
text_case("cr_only.csv", 'a,b\r1,2\r3,x\r', "csv")
text_case("bom.csv", '\ufeffa,b\n1,\u00e9\n', "csv")
text_case("not_numbers.csv", 'a,b\n0x1F,1_000\n1e,--1\n', "csv")
text_case("unicode.csv", 'name,text\n\u00e9,"caf\u00e9 \U0001F600"\n', "csv")


# --- Parquet: every type datasets users meet, several codecs and row groups.
def parquet_case(name, table, **kwargs):
    path = os.path.join(OUT, name)
    pq.write_table(table, path, **kwargs)
    expect(path, "parquet")


n = 1000
scalars = pa.table({
    "i8": pa.array([(i % 256) - 128 if i % 7 else None for i in range(n)], pa.int8()),
    "i16": pa.array([i * 37 - 20000 for i in range(n)], pa.int16()),
    "i32": pa.array([i * 1234567 - 2**31 + 5 for i in range(n)], pa.int32()),
    "i64": pa.array([(i * 0x9E3779B97F4A7C15) % 2**64 - 2**63 for i in range(n)], pa.int64()),
    "u8": pa.array([i % 256 for i in range(n)], pa.uint8()),
    "u32": pa.array([i * 4000007 % 2**32 for i in range(n)], pa.uint32()),
    "u64": pa.array([(i * 0x9E3779B97F4A7C15) % 2**64 for i in range(n)], pa.uint64()),
    "f32": pa.array([i / 7 if i % 11 else None for i in range(n)], pa.float32()),
    "f64": pa.array([[math.nan, math.inf, -math.inf, -0.0, 1e-310][i] if i < 5 else i / 3 for i in range(n)]),
    "b": pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(n)]),
    "s": pa.array([None if i % 13 == 0 else f"row {i} \u00e9\U0001F600" * (i % 4) for i in range(n)]),
    "ls": pa.array([f"large {i}" for i in range(n)], pa.large_string()),
})
for codec in ("snappy", "zstd", "gzip", "none"):
    parquet_case(f"scalars_{codec}.parquet", scalars, compression=codec, row_group_size=128)

parquet_case("dictionary.parquet", pa.table({
    "label": pa.array(["pos", "neg", None, "pos", "neutral"] * 40).dictionary_encode(),
    "id": pa.array(range(200), pa.int32()),
}), row_group_size=64)

struct_t = pa.struct([("role", pa.string()), ("content", pa.string())])
parquet_case("nested.parquet", pa.table({
    "ints": pa.array([[1, 2], [], None, [3, None]], pa.list_(pa.int64())),
    "messages": pa.array([[{"role": "user", "content": "hi"}], [], None,
                          [{"role": "assistant", "content": None}, None]], pa.list_(struct_t)),
    "meta": pa.array([{"a": 1, "tags": ["x"]}, None, {"a": None, "tags": []}, {"a": 4, "tags": None}],
                     pa.struct([("a", pa.int32()), ("tags", pa.list_(pa.string()))])),
    "large": pa.array([[0.5], [1.5, 2.5], None, []], pa.large_list(pa.float64())),
    "fixed": pa.array([[1, 2], [3, 4], None, [5, 6]], pa.list_(pa.int16(), 2)),
    "map": pa.array([[("k", 1)], [], None, [("a", 2), ("b", None)]], pa.map_(pa.string(), pa.int64())),
    "deep": pa.array([[[1], [2, 3]], [[]], None, [None, [4]]], pa.list_(pa.list_(pa.int8()))),
}), compression="zstd")

parquet_case("temporal.parquet", pa.table({
    "date": pa.array([datetime.date(2024, 1, 31), datetime.date(1969, 12, 31), None, datetime.date(1, 1, 1)]),
    "ts_s": pa.array([0, -1, None, 1706700000], pa.timestamp("s")),
    "ts_ms": pa.array([1706700000123, -1, None, 0], pa.timestamp("ms")),
    "ts_us": pa.array([1706700000123456, -1, None, 5], pa.timestamp("us")),
    "ts_ns": pa.array([1706700000123456789, 1706700000123456000, None, 0], pa.timestamp("ns")),
    "ts_utc": pa.array([1706700000123456, 0, None, 1], pa.timestamp("us", tz="UTC")),
    "ts_offset": pa.array([1706700000, 0, None, -86400], pa.timestamp("s", tz="+05:30")),
    "time": pa.array([0, 49500250000, None, 86399999999], pa.time64("us")),
    "time_s": pa.array([0, 49500, None, 86399], pa.time32("s")),
    "dur": pa.array([0, 93784000005, None, -1], pa.duration("us")),
    "dec": pa.array([decimal.Decimal("1.50"), decimal.Decimal("-0.01"), None, decimal.Decimal("123456.78")],
                    pa.decimal128(10, 2)),
    "bin": pa.array([b"", b"\x00\xff", None, b"abcd"], pa.binary()),
    "null": pa.array([None] * 4, pa.null()),
}))

parquet_case("empty.parquet", pa.table({"a": pa.array([], pa.int64()), "s": pa.array([], pa.string())}))
print(f"table cases written to {OUT}")

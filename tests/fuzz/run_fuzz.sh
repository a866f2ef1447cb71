#!/usr/bin/env bash
# Builds the safetensors header fuzz target with clang's libFuzzer (ASan +
# UBSan) and runs it for a bounded time from a small seed corpus.
# Usage: run_fuzz.sh SOURCE_DIR FMT_INCLUDE_DIR WORK_DIR [SECONDS]
set -euo pipefail
src="$1" fmt_include="$2" work="$3" seconds="${4:-20}"
mkdir -p "$work/corpus"
$(command -v ccache || true) clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DFMT_HEADER_ONLY=1 -I"$src/src" -isystem "$fmt_include" \
  "$src/tests/fuzz/safetensors_header_fuzz.cpp" "$src/src/finch/io/safetensors_header.cpp" \
  "$src/src/finch/core/error.cpp" -o "$work/safetensors_header_fuzz"
# Seeds: a valid two-tensor file and an empty header.
header='{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]}}'
{ printf "$(printf '\\x%02x' ${#header} 0 0 0 0 0 0 0)"; printf '%s' "$header"; head -c 12 /dev/zero; } > "$work/corpus/valid"
{ printf '\x02\x00\x00\x00\x00\x00\x00\x00{}'; } > "$work/corpus/empty"
"$work/safetensors_header_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=5 "$work/corpus" 2>&1 | tail -n 3

#!/usr/bin/env bash
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for a
# bounded time from a small seed corpus.
# Usage: run_fuzz.sh TARGET SOURCE_DIR FMT_INCLUDE_DIR WORK_DIR [SECONDS]
# TARGET: safetensors_header | tokenizer_json | chat_template | gguf | jsonl | csv
set -euo pipefail
target="$1" src="$2" fmt_include="$3" work="$4/$1" seconds="${5:-20}"
mkdir -p "$work/corpus"
finch="$src/src/finch"
case "$target" in
  safetensors_header)
    sources=("$finch/io/safetensors_header.cpp" "$finch/core/error.cpp")
    libs=()
    # Seeds: a valid two-tensor file and an empty header.
    header='{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]}}'
    { printf "$(printf '\\x%02x' ${#header} 0 0 0 0 0 0 0)"; printf '%s' "$header"; head -c 12 /dev/zero; } > "$work/corpus/valid"
    { printf '\x02\x00\x00\x00\x00\x00\x00\x00{}'; } > "$work/corpus/empty"
    ;;
  tokenizer_json)
    sources=("$finch"/tokenizer/{unicode,regex,pipeline,normalizers,pre_tokenizers,decoders,model,bpe,tokenizer}.cpp
             "$finch/io/json_config.cpp" "$finch/core/error.cpp" "$finch/core/files.cpp")
    libs=(-lpcre2-8 -lutf8proc)
    # Seeds: a byte-level BPE with a split regex and a WordPiece with a BERT pipeline.
    printf '%s' '{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"<0x41>":3,"<unk>":4},"merges":["a b"],"byte_fallback":true,"unk_token":"<unk>"},"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}{1,3}|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},"decoder":{"type":"ByteLevel"},"added_tokens":[{"id":5,"content":"<s>","special":true,"normalized":false,"lstrip":true}]}' > "$work/corpus/bpe"
    printf '%s' '{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1,"##b":2},"unk_token":"[UNK]"},"normalizer":{"type":"BertNormalizer","lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"BertProcessing","sep":["[UNK]",0],"cls":["[UNK]",0]},"decoder":{"type":"WordPiece"}}' > "$work/corpus/wordpiece"
    ;;
  chat_template)
    sources=("$finch/tokenizer/chat_template.cpp" "$finch"/tokenizer/jinja/*.cpp "$finch/tokenizer/unicode.cpp")
    libs=(-lutf8proc)
    # Seeds: two real chat templates and one that uses most of the language.
    cp "$src/../shared/fixtures/chat_templates/Qwen-Qwen3-0.6B.jinja" "$work/corpus/qwen3" 2>/dev/null || true
    cp "$src/../shared/fixtures/chat_templates/meta-llama-Llama-3.1-8B-Instruct.jinja" "$work/corpus/llama31" 2>/dev/null || true
    printf '%s' "{%- set ns = namespace(n=0) -%}{% macro m(a, b='x') %}{{ a ~ b }}{% endmacro %}{% for msg in messages if msg.role != 'tool' %}{% set ns.n = ns.n + 1 %}{{ loop.index }}{{ msg['content'] | string | trim | upper }}{{ m(msg.role) }}{% if msg.tool_calls is defined %}{{ msg.tool_calls | tojson(indent=2) }}{% endif %}{% endfor %}{{ tools | map(attribute='function') | selectattr('name', 'equalto', 'f') | list | length }}{{ '%s' % ns.n }}{{ 'a,b'.split(',')[::-1] | join('-') }}{% raw %}{{ raw }}{% endraw %}{# c #}{{ raise_exception('x') if false }}" > "$work/corpus/constructs"
    ;;
  gguf)
    sources=("$finch/io/gguf.cpp" "$finch/core/error.cpp" "$finch/core/files.cpp")
    libs=()
    # Seed: a v3 file with metadata of several types (an array of strings, a nested array) and an F32
    # tensor (4 floats) at offset 0 of the data area, which starts at byte 160 (alignment 32).
    {
      printf 'GGUF\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00'
      printf '\x01\x00\x00\x00\x00\x00\x00\x00a\x04\x00\x00\x00\x02\x00\x00\x00'
      printf '\x01\x00\x00\x00\x00\x00\x00\x00s\x09\x00\x00\x00\x08\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00'
      printf '\x01\x00\x00\x00\x00\x00\x00\x00x\x02\x00\x00\x00\x00\x00\x00\x00yz'
      printf '\x01\x00\x00\x00\x00\x00\x00\x00n\x09\x00\x00\x00\x09\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00'
      printf '\x05\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00'
      printf '\x01\x00\x00\x00\x00\x00\x00\x00t\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00'
      printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
      head -c 1 /dev/zero
      printf '\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40'
    } > "$work/corpus/valid"
    ;;
  jsonl)
    sources=("$finch"/data/{table_reader,fast_json,json_shape,text_util}.cpp "$finch/core/error.cpp"
             "$finch/tokenizer/unicode.cpp")
    libs=(-lutf8proc)
    # Seeds: JSON Lines with unification (promotion, missing keys, mixed kinds), and a JSON array.
    printf '%s\n' '{"a":1,"m":{"x":1,"y":[1,2]},"l":[{"r":"u"}]}' '' '{"a":2.5,"b":"\u00e9","m":{"y":[3.5],"x":null}}' '{"a":"s","c":[[1],[2]]}' > "$work/corpus/lines"
    printf '%s' '[{"a":1,"b":true},{"b":null,"a":1e300}]' > "$work/corpus/array"
    ;;
  csv)
    sources=("$finch"/data/{csv_reader,table_reader,fast_json,text_util,json_shape}.cpp "$finch/core/error.cpp"
             "$finch/tokenizer/unicode.cpp")
    libs=(-lutf8proc)
    # Seed: quotes, escaped quotes, embedded CRLF, typed columns with nulls, repeated names.
    printf 'a,b,a,,c\r\n1,"x ""y""",1.5,True,NA\r\n2,"l1\r\nl2",,false,7\r\n-3,z,inf,,\r\n' > "$work/corpus/typed"
    ;;
  *) echo "run_fuzz.sh: unknown target $target" >&2; exit 2 ;;
esac
$(command -v ccache || true) clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DFMT_HEADER_ONLY=1 -I"$src/src" -isystem "$fmt_include" \
  "$src/tests/fuzz/${target}_fuzz.cpp" "${sources[@]}" "${libs[@]}" -o "$work/${target}_fuzz"
"$work/${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 "$work/corpus" 2>&1 | tail -n 3

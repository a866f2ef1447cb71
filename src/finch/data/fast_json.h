// A fast path for nlohmann::ordered_json::parse on data files: a plain
// recursive-descent parser that builds the same DOM (same value types, key
// order and bytes) about ten times faster, because it scans strings in bulk
// instead of through nlohmann's per-character lexer. It only has to be right
// where it says yes: on anything it is not sure of (every input nlohmann
// rejects, and a few it accepts: duplicate keys, a byte order mark, numbers
// out of range, nesting deeper than 256) it returns false, and the caller
// parses with nlohmann, which gives the value or the exact error message.
// Proven equal to nlohmann by tests/unit/data/fast_json_test.cpp and the
// jsonl fuzz target.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>
#include <vector>

namespace finch::data {

// One JSON value with optional surrounding JSON whitespace, into `out`.
// True: `out` is what nlohmann::ordered_json::parse(text) gives. False: `out`
// is unspecified and nlohmann must decide.
bool fast_parse_json(std::string_view text, nlohmann::ordered_json& out);

// The same, except that string values (not keys) come back empty: all that
// inferring column shapes needs, without copying the text.
bool fast_parse_json_skeleton(std::string_view text, nlohmann::ordered_json& out);

// The elements of a top-level array (with their surrounding whitespace), found
// by brackets, quotes and commas alone, so that they can be parsed apart (in
// parallel). Nothing inside an element is checked: the document is valid, and
// its value the array of the elements' values, only if each element parses.
// False if the text does not look like one array.
bool split_json_array(std::string_view text, std::vector<std::string_view>& elements);

}  // namespace finch::data

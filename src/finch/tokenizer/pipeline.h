// The stages of a tokenizer.json pipeline, each built from its JSON object:
//   text -> normalizer -> pre-tokenizer (splits) -> model (ids) -> post-processor
//   ids -> tokens -> decoder -> text
// A stage is a plain function; a Sequence is the composition of its parts.
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace finch::tokenizer {

// A piece of text on its way through pre-tokenization. `at_start` is true for
// the piece that begins the input (Metaspace's "first" prepend scheme).
struct Split {
  std::string text;
  bool at_start = false;
};

using Normalizer = std::function<void(std::string&)>;
using PreTokenizer = std::function<void(std::vector<Split>&)>;
using Decoder = std::function<void(std::vector<std::string>&)>;  // decode_chain, in place
// Adds special tokens around one sequence of ids.
using PostProcessor = std::function<std::vector<int32_t>(std::vector<int32_t>)>;

// `where` is the path used in errors, e.g. "tokenizer.json: normalizer".
// A null JSON value gives an empty function (stage absent).
Normalizer make_normalizer(const nlohmann::json& j, const std::string& where);
PreTokenizer make_pre_tokenizer(const nlohmann::json& j, const std::string& where);
Decoder make_decoder(const nlohmann::json& j, const std::string& where);
PostProcessor make_post_processor(const nlohmann::json& j, const std::string& where);

class Regex;
// A Split or Replace pattern: {"String": literal} or {"Regex": pattern}.
std::shared_ptr<Regex> make_pattern(const nlohmann::json& j, const std::string& where);
std::string replace_all(const Regex& pattern, const std::string& s, const std::string& content);

// GPT-2's reversible byte <-> printable character map used by ByteLevel.
const std::string& byte_to_unicode(uint8_t byte);
// Appends the bytes behind a ByteLevel string; false, with nothing appended,
// when a character is outside the map.
bool append_unicode_bytes(std::string& out, const std::string& text);

[[noreturn]] void throw_type_error(const std::string& where, const char* key, const char* got);
const nlohmann::json& required(const nlohmann::json& j, const char* key, const std::string& where);

// The "type" of a stage object (an error when `j` is not an object).
std::string stage_type(const nlohmann::json& j, const std::string& where);

// The stages of a Sequence: each element of j[key] built by `make`; absent ones are dropped.
template <typename Stage, typename Make>
std::vector<Stage> sequence_parts(const nlohmann::json& j, const char* key, const std::string& where, Make&& make) {
  std::vector<Stage> parts;
  const auto& list = required(j, key, where);
  for (std::size_t i = 0; i < list.size(); ++i)
    if (Stage part = make(list[i], fmt::format("{}.{}[{}]", where, key, i))) parts.push_back(std::move(part));
  return parts;
}

// Reads key `key` of object `j`, or `fallback` when absent or null; a wrong
// type is an error naming where/key.
template <typename T>
T value_or(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_type_error(where, key, it->type_name());
  }
}

}  // namespace finch::tokenizer

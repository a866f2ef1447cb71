// The column types pyarrow infers when datasets reads JSON, as a small lattice
// per path: `none` (only nulls so far) < bool | integer < floating | string |
// object (one fixed key set) | array (of one element shape); any other mix is
// `mixed`, which datasets keeps as the original JSON values (its Json feature).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace finch::data {

struct JsonShape {
  enum class Kind : uint8_t { none, boolean, integer, floating, string, object, array, mixed };
  Kind kind = Kind::none;
  std::vector<std::pair<std::string, std::unique_ptr<JsonShape>>> fields;  // object: first row's key order
  std::unique_ptr<JsonShape> element;                                     // array

  // Widens the shape to admit `value`.
  void merge(const nlohmann::ordered_json& value);
  // Merges a top-level row: keys are the union in order of first appearance.
  void merge_row(const nlohmann::ordered_json& row);
  // Widens the shape to admit what `later` admits: the same as merging the
  // values `later` saw into this shape after its own (the readers infer
  // shapes per block of rows in parallel, then merge them in file order).
  void merge(JsonShape&& later);
  void merge_rows(JsonShape&& later);  // top-level shapes, like merge_row
  // `value` as pyarrow + datasets give it back under this shape.
  nlohmann::ordered_json apply(nlohmann::ordered_json&& value) const;
  nlohmann::ordered_json apply_row(nlohmann::ordered_json&& row) const;

 private:
  JsonShape* field(const std::string& key);
};

}  // namespace finch::data

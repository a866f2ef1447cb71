#include "finch/data/json_shape.h"

#include <cstdint>
#include <limits>

namespace finch::data {
namespace {

using json = nlohmann::ordered_json;
using Kind = JsonShape::Kind;

Kind kind_of(const json& value) {
  switch (value.type()) {
    case json::value_t::boolean: return Kind::boolean;
    case json::value_t::number_integer: return Kind::integer;
    // pyarrow parses integers as int64; a larger one makes the column float.
    case json::value_t::number_unsigned:
      return value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()) ? Kind::floating : Kind::integer;
    case json::value_t::number_float: return Kind::floating;
    case json::value_t::string: return Kind::string;
    case json::value_t::object: return Kind::object;
    case json::value_t::array: return Kind::array;
    default: return Kind::none;
  }
}

bool numeric(Kind k) { return k == Kind::integer || k == Kind::floating; }

}  // namespace

JsonShape* JsonShape::field(const std::string& key) {
  for (auto& [name, shape] : fields)
    if (name == key) return shape.get();
  return nullptr;
}

void JsonShape::merge(const json& value) {
  if (value.is_null() || kind == Kind::mixed) return;
  const Kind k = kind_of(value);
  if (kind == Kind::none) {
    kind = k;
    if (k == Kind::object) {
      // datasets keeps an empty struct as JSON.
      if (value.empty()) {
        kind = Kind::mixed;
        return;
      }
      for (const auto& [key, child] : value.items()) {
        fields.emplace_back(key, std::make_unique<JsonShape>());
        fields.back().second->merge(child);
      }
    } else if (k == Kind::array) {
      element = std::make_unique<JsonShape>();
      for (const auto& item : value) element->merge(item);
    }
    return;
  }
  if (numeric(kind) && numeric(k)) {
    if (k == Kind::floating) kind = Kind::floating;
    return;
  }
  if (kind != k) {
    *this = JsonShape{Kind::mixed, {}, nullptr};
    return;
  }
  if (k == Kind::object) {
    // Structs must have one key set over the column, else the column is JSON.
    bool same = value.size() == fields.size();
    for (auto it = value.begin(); same && it != value.end(); ++it) same = field(it.key()) != nullptr;
    if (!same) {
      *this = JsonShape{Kind::mixed, {}, nullptr};
      return;
    }
    for (const auto& [key, child] : value.items()) field(key)->merge(child);
  } else if (k == Kind::array) {
    for (const auto& item : value) element->merge(item);
  }
}

void JsonShape::merge_row(const json& row) {
  kind = Kind::object;
  for (const auto& [key, child] : row.items()) {
    JsonShape* shape = field(key);
    if (shape == nullptr) {
      fields.emplace_back(key, std::make_unique<JsonShape>());
      shape = fields.back().second.get();
    }
    shape->merge(child);
  }
}

void JsonShape::merge(JsonShape&& later) {
  if (kind == Kind::mixed || later.kind == Kind::none) return;
  if (kind == Kind::none || later.kind == Kind::mixed) {
    *this = std::move(later);
    return;
  }
  if (numeric(kind) && numeric(later.kind)) {
    if (later.kind == Kind::floating) kind = Kind::floating;
    return;
  }
  if (kind != later.kind) {
    *this = JsonShape{Kind::mixed, {}, nullptr};
    return;
  }
  if (kind == Kind::object) {
    // As in merge(value): the later objects must have this key set.
    bool same = later.fields.size() == fields.size();
    for (auto it = later.fields.begin(); same && it != later.fields.end(); ++it) same = field(it->first) != nullptr;
    if (!same) {
      *this = JsonShape{Kind::mixed, {}, nullptr};
      return;
    }
    for (auto& [key, child] : later.fields) field(key)->merge(std::move(*child));
  } else if (kind == Kind::array) {
    element->merge(std::move(*later.element));
  }
}

void JsonShape::merge_rows(JsonShape&& later) {
  kind = Kind::object;
  for (auto& [key, child] : later.fields) {
    if (JsonShape* shape = field(key))
      shape->merge(std::move(*child));
    else
      fields.emplace_back(key, std::move(child));
  }
}

json JsonShape::apply(json&& value) const {
  if (value.is_null()) return std::move(value);
  switch (kind) {
    case Kind::floating:
      if (value.is_number_integer()) return json(value.get<double>());
      return std::move(value);
    case Kind::object: {
      bool in_order = true;
      size_t i = 0;
      for (auto it = value.begin(); it != value.end(); ++it, ++i) in_order = in_order && it.key() == fields[i].first;
      json out = json::object();
      if (in_order) {
        i = 0;
        for (auto& item : value.items()) out[fields[i].first] = fields[i].second->apply(std::move(item.value())), ++i;
      } else {
        for (const auto& [key, shape] : fields) out[key] = shape->apply(std::move(value[key]));
      }
      return out;
    }
    case Kind::array:
      if (element->kind == Kind::floating || element->kind == Kind::object || element->kind == Kind::array)
        for (auto& item : value) item = element->apply(std::move(item));
      return std::move(value);
    default: return std::move(value);
  }
}

json JsonShape::apply_row(json&& row) const {
  json out = json::object();
  for (const auto& [key, shape] : fields) {
    auto it = row.find(key);
    out[key] = it == row.end() ? json() : shape->apply(std::move(it.value()));
  }
  return out;
}

}  // namespace finch::data

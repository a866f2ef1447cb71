// The seed's templates: Python's `template.format(**row)`, so a template that
// worked with the seed tools gives the same text here. Supported: `{name}`
// placeholders and the `{{` / `}}` escapes; a value is written as Python's
// str() writes it (True, None, 1.0, ['a', 'b'], {'k': 1}).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace finch::data {

class Template {
 public:
  // `setting` names the config key in errors (e.g. "data.input_template").
  Template(const std::string& text, const std::string& setting);

  // The placeholders, in order of first appearance.
  const std::vector<std::string>& fields() const { return fields_; }

  // values[i] is the value of fields()[i].
  std::string render(const std::vector<const nlohmann::ordered_json*>& values) const;

 private:
  struct Piece {
    std::string literal;
    int field = -1;  // index into fields_, or -1 for a literal
  };
  std::vector<Piece> pieces_;
  std::vector<std::string> fields_;
};

// Python's str(value) for a JSON value.
std::string python_str(const nlohmann::ordered_json& value);

}  // namespace finch::data

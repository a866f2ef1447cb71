#include "finch/data/template.h"

#include <gtest/gtest.h>

#include "finch/core/error.h"

namespace finch::data {
namespace {

using nlohmann::ordered_json;

std::string render(const std::string& text, const ordered_json& row) {
  Template t(text, "data.input_template");
  std::vector<const ordered_json*> values;
  for (const auto& f : t.fields()) values.push_back(&row.at(f));
  return t.render(values);
}

TEST(Template, FormatsLikePythonStrFormat) {
  const ordered_json row = {{"a", "x"}, {"n", 3}, {"f", 1.0}, {"b", true}, {"z", nullptr}};
  EXPECT_EQ(render("{a}-{n}-{f}-{b}-{z}-{a}", row), "x-3-1.0-True-None-x");
  EXPECT_EQ(render("{{a}} {{{a}}}", row), "{a} {x}");
  Template t("### Instruction:\n{instruction}\n ### Input:\n{input}\n{instruction}", "k");
  EXPECT_EQ(t.fields(), (std::vector<std::string>{"instruction", "input"}));
}

TEST(Template, PythonStrOfValues) {
  // Expected values are what CPython 3 prints for str(x).
  EXPECT_EQ(python_str(0.1), "0.1");
  EXPECT_EQ(python_str(1e16), "1e+16");
  EXPECT_EQ(python_str(1e-5), "1e-05");
  EXPECT_EQ(python_str(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(python_str(0.0001), "0.0001");
  EXPECT_EQ(python_str(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(python_str(1.5e300), "1.5e+300");
  EXPECT_EQ(python_str(ordered_json::parse(R"(["a", "it's", 1, null, {"k": [true]}])")),
            R"(['a', "it's", 1, None, {'k': [True]}])");
  EXPECT_EQ(python_str(ordered_json("a\nb")), "a\nb");
  EXPECT_EQ(python_str(ordered_json::parse(R"(["a\nb\\"])")), R"(['a\nb\\'])");
}

TEST(Template, BadTemplatesAreOneLineErrors) {
  for (const char* bad : {"{", "a}", "{}", "{0}", "{a:>4}", "{a!r}", "{a[0]}", "{a.b}"}) {
    try {
      Template(bad, "data.input_template");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("data.input_template: ", 0), 0u) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace finch::data

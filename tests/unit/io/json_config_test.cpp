#include "finch/io/json_config.h"

#include "../test_util.h"

namespace finch {
namespace {

JsonConfig parse(const std::string& text) { return JsonConfig("config.json", nlohmann::json::parse(text)); }

TEST(JsonConfig, ReadsTypedValuesAndDefaults) {
  const auto c = parse(R"({"a": 3, "b": 0.5, "c": true, "d": "x", "e": ["p", "q"], "n": null, "o": {"k": 1}})");
  EXPECT_EQ(c.get_int("a"), 3);
  EXPECT_DOUBLE_EQ(c.get_float("b"), 0.5);
  EXPECT_DOUBLE_EQ(c.get_float("a"), 3.0);  // an integer is a number
  EXPECT_TRUE(c.get_bool("c"));
  EXPECT_EQ(c.get_string("d"), "x");
  EXPECT_EQ(c.get_strings("e"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(c.get_int("n", 7), 7);  // null is absent
  EXPECT_EQ(c.get_int("missing", 9), 9);
  EXPECT_EQ(c.get_object("o")->get_int("k"), 1);
  EXPECT_FALSE(c.get_object("missing").has_value());
}

TEST(JsonConfig, WrongTypesNameTheFileAndKey) {
  const auto c = parse(R"({"a": "3", "b": 1.5, "o": {"k": "v"}})");
  test::expect_error([&] { c.get_int("a"); }, {"config.json", "'a'", "expected an integer", "\"3\""});
  test::expect_error([&] { c.get_int("b"); }, {"'b'", "expected an integer"});
  test::expect_error([&] { c.get_bool("a"); }, {"'a'", "expected true or false"});
  test::expect_error([&] { c.get_int("missing"); }, {"'missing'", "required"});
  test::expect_error([&] { c.get_object("o")->get_int("k"); }, {"'o.k'"});
}

TEST(JsonConfig, LoadReportsMissingAndMalformedFiles) {
  test::TempDir dir;
  test::expect_error([&] { JsonConfig::load(dir / "none.json"); }, {"none.json", "not found"});
  std::ofstream(dir / "bad.json") << "{oops";
  test::expect_error([&] { JsonConfig::load(dir / "bad.json"); }, {"bad.json", "not valid JSON"});
  std::ofstream(dir / "list.json") << "[1]";
  test::expect_error([&] { JsonConfig::load(dir / "list.json"); }, {"list.json", "JSON object"});
}

}  // namespace
}  // namespace finch

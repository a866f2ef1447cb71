#include "finch/core/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "finch/core/error.h"
#include "finch/data/config.h"

namespace finch::config {
namespace {

struct Example {
  std::string name = "a";
  bool flag = false;
  int64_t count = 3;
  double ratio = 0.9;
  std::vector<std::string> targets{"q_proj", "v_proj"};
  std::map<std::string, std::string> mapping;
  Registry registry;

  Example() {
    auto s = registry.section("ex", "an example");
    s.add("name", name, "a name").alias("seed_name").unescaped();
    s.add("flag", flag, "a flag");
    s.add("count", count, "a count");
    s.add("ratio", ratio, "a ratio");
    s.add("targets", targets, "modules");
    s.add("mapping", mapping, "a mapping");
  }
};

std::filesystem::path write_yaml(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / "finch_config_test.yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsComeFromTheStruct) {
  Example e;
  EXPECT_EQ(e.registry.find("ex.count")->default_text, "3");
  EXPECT_EQ(e.registry.find("ex.ratio")->default_text, "0.9");
  EXPECT_EQ(e.registry.find("ex.targets")->default_text, "[q_proj, v_proj]");
  EXPECT_EQ(e.registry.find("seed_name")->key, "ex.name");
}

TEST(Config, FlagsParseEachTypeAndRecordTheirSource) {
  Example e;
  e.registry.set_from_flag("seed_name", "x\\ny", "--seed_name");
  e.registry.set_from_flag("ex.flag", "true", "--ex.flag");
  e.registry.set_from_flag("ex.count", "12", "--ex.count");
  e.registry.set_from_flag("ex.ratio", "1e-3", "--ex.ratio");
  e.registry.set_from_flag("ex.targets", "a, b,c", "--ex.targets");
  e.registry.set_from_flag("ex.mapping", "instruction=question, input=context", "--ex.mapping");
  EXPECT_EQ(e.name, "x\ny");  // unescaped on the command line
  EXPECT_TRUE(e.flag);
  EXPECT_EQ(e.count, 12);
  EXPECT_DOUBLE_EQ(e.ratio, 1e-3);
  EXPECT_EQ(e.targets, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(e.mapping.at("input"), "context");
  EXPECT_EQ(e.registry.find("ex.name")->source, "--seed_name");
  e.registry.set_from_flag("ex.mapping", "{a: b}", "--ex.mapping");
  EXPECT_EQ(e.mapping, (std::map<std::string, std::string>{{"a", "b"}}));
}

TEST(Config, BadFlagValuesNameTheFlag) {
  Example e;
  EXPECT_THROW(
      {
        try {
          e.registry.set_from_flag("ex.count", "1.5", "--ex.count");
        } catch (const Error& err) {
          EXPECT_STREQ(err.what(), "--ex.count: expected an integer, got '1.5'");
          throw;
        }
      },
      Error);
  EXPECT_THROW(e.registry.set_from_flag("ex.flag", "maybe", "--ex.flag"), Error);
  EXPECT_THROW(e.registry.set_from_flag("ex.ratio", "nan", "--ex.ratio"), Error);
  EXPECT_THROW(e.registry.set_from_flag("ex.mapping", "novalue", "--ex.mapping"), Error);
  EXPECT_THROW(e.registry.set_from_flag("ex.nope", "1", "--ex.nope"), Error);
}

TEST(Config, YamlLayersUnderFlagsAndIsStrict) {
  Example e;
  e.registry.load_yaml_file(write_yaml("ex:\n  name: \"tab\\there\"\n  count: 7\n  targets: [x, y]\n"
                                       "  mapping: {k: v}\n"));
  EXPECT_EQ(e.name, "tab\there");
  EXPECT_EQ(e.count, 7);
  EXPECT_EQ(e.targets, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(e.registry.find("ex.ratio")->source, "default");
  e.registry.set_from_flag("ex.count", "8", "--ex.count");
  EXPECT_EQ(e.count, 8);
  EXPECT_EQ(e.targets.size(), 2u);  // a flag overrides one key, not the section
  for (const char* bad : {"ex:\n  bogus: 1\n", "other:\n  a: 1\n", "ex:\n  count: [1]\n", "ex: [1]\n",
                          "ex:\n  count: x\n", "ex:\n  name: {a: 1}\n", "ex: {a\n"})
    EXPECT_THROW(e.registry.load_yaml_file(write_yaml(bad)), Error) << bad;
  EXPECT_THROW(e.registry.load_yaml_file("/nonexistent/finch.yaml"), Error);
}

TEST(Config, ResolvedYamlReadsBackToTheSameValues) {
  Example a;
  a.registry.set_from_flag("ex.name", "line\\n\"quoted\" | pipe", "--ex.name");
  a.registry.set_from_flag("ex.ratio", "0.1", "--ex.ratio");
  a.registry.set_from_flag("ex.mapping", "{a: 'b: c'}", "--ex.mapping");
  Example b;
  b.registry.load_yaml_file(write_yaml(a.registry.to_yaml()));
  EXPECT_EQ(b.name, a.name);
  EXPECT_EQ(b.ratio, a.ratio);
  EXPECT_EQ(b.mapping, a.mapping);
  EXPECT_EQ(b.targets, a.targets);
}

TEST(Config, DataDefaultsAreTheSeeds) {
  data::DataConfig d;
  Registry r;
  d.describe(r);
  EXPECT_EQ(r.find("hfdc_dataset_name")->default_text, "cognitivecomputations/dolphin");
  EXPECT_EQ(d.input_template, "### Instruction:\n{instruction}\n ### Input:\n{input}\n");
  r.set_from_flag("hfdc_output_template", "A:\\n{answer}", "--hfdc_output_template");
  EXPECT_EQ(d.output_template, "A:\n{answer}");
  EXPECT_NE(r.markdown().find("`--hfdc_val_test_split_ratio`"), std::string::npos);
}

}  // namespace
}  // namespace finch::config

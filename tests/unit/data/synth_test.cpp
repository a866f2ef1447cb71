// The built-in dataset generator: pinned rows (so a change of compiler,
// platform or code that alters the bytes is caught), families interleaved,
// the file written whole, and the --rows error. The answers themselves are
// recomputed in Python by tests/cli/test_data_synth_cli.py.
#include "finch/data/synth.h"

#include <algorithm>

#include "../test_util.h"
#include "finch/core/error.h"
#include "finch/core/files.h"

namespace finch::data {
namespace {

TEST(Synth, PinnedRowsForSeedZero) {
  const SynthRow r0 = synth_row(0, 0), r1 = synth_row(0, 1), r2 = synth_row(0, 2), r3 = synth_row(0, 3);
  EXPECT_EQ(r0.input + " -> " + r0.output, R"(822 L to mL -> 822000 mL)");
  EXPECT_EQ(r1.input + " -> " + r1.output, R"(2008-04-29 -> 29 April 2008)");
  EXPECT_EQ(r2.input + " -> " + r2.output, R"({"name": "Lena", "age": 61, "city": "Perth", "job": "plumber"} -> 61)");
  EXPECT_EQ(r3.input + " -> " + r3.output, R"(Yusuf had 75 stickers and gave away 20. How many stickers are left? -> 55)");
}

TEST(Synth, RowsDependOnSeedAndIndexOnly) {
  EXPECT_EQ(synth_row(5, 17).input, synth_row(5, 17).input);
  EXPECT_NE(synth_row(5, 17).input, synth_row(6, 17).input);
  EXPECT_NE(synth_row(5, 17).input, synth_row(5, 21).input);
}

TEST(Synth, WritesInterleavedFamilies) {
  test::TempDir dir;
  const SynthSummary s = write_synth_jsonl(dir / "sub" / "s.jsonl", {.rows = 10, .seed = 3});
  EXPECT_EQ(s.rows, 10);
  EXPECT_EQ(s.per_family, (std::array<int64_t, kSynthFamilies>{3, 3, 2, 2}));
  const std::string text = read_text_file(dir / "sub" / "s.jsonl");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
  EXPECT_EQ(text.substr(0, text.find('\n')).rfind(R"({"instruction":"Convert)", 0), 0u) << text;
}

TEST(Synth, RejectsRowsBelowOne) {
  test::TempDir dir;
  try {
    write_synth_jsonl(dir / "s.jsonl", {.rows = 0});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--rows must be at least 1, got 0");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "s.jsonl"));
}

}  // namespace
}  // namespace finch::data

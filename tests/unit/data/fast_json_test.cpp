// fast_parse_json against nlohmann (the reference): where the fast parser says
// yes, its value is nlohmann's exactly (types, key order, bytes, the sign of
// zero); where nlohmann rejects the text, the fast parser says no. Checked on
// hand-picked edge cases and on 20k random mutations of valid documents. The
// multi-block readers are checked against the plain sequential reader.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "finch/core/error.h"
#include "finch/data/fast_json.h"
#include "finch/data/json_shape.h"
#include "finch/data/table_reader.h"

namespace finch::data {
namespace {

using json = nlohmann::ordered_json;

// Equal in type too: 1, 1u, 1.0 and -0.0 vs 0.0 differ.
bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
        if (x.key() != y.key() || !same(x.value(), y.value())) return false;
      return true;
    }
    case json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
      return true;
    }
    case json::value_t::number_float: {
      const double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    default: return a == b;
  }
}

// The skeleton nlohmann's value should have: string values emptied, keys kept.
json skeleton(const json& v) {
  if (v.is_string()) return "";
  json out = v;
  if (v.is_object())
    for (auto& item : out.items()) item.value() = skeleton(item.value());
  if (v.is_array())
    for (auto& item : out) item = skeleton(item);
  return out;
}

// Returns whether the fast parser took `text`, after checking it against nlohmann.
bool check(const std::string& text) {
  const json reference = json::parse(text, nullptr, /*allow_exceptions=*/false);
  json fast, bones;
  const bool ok = fast_parse_json(text, fast);
  const bool bones_ok = fast_parse_json_skeleton(text, bones);
  EXPECT_EQ(ok, bones_ok) << text;
  if (reference.is_discarded()) {
    EXPECT_FALSE(ok) << "nlohmann rejects, the fast parser took: " << text;
    return false;
  }
  if (ok) {
    EXPECT_TRUE(same(fast, reference)) << text << "\n fast: " << fast.dump() << "\n nlohmann: " << reference.dump();
  }
  if (bones_ok) {
    EXPECT_TRUE(same(bones, skeleton(reference))) << text;
  }
  return ok;
}

TEST(FastJson, EdgeCasesMatchNlohmann) {
  // Texts the fast parser must take (and get right).
  for (const std::string& text : std::vector<std::string>{
           "{}", "[]", " \t\r\n{\"a\" : [ 1 , 2 ] }\n", "0", "-0", "-0.0", "0.5", "1e5", "1E+5", "-1.25e-3", "123456789",
        "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
        "9223372036854775808", "123456789012345678901234567890", "0.1000000000000000055511151231257827",
        "true", "false", "null", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u0000\\u0041\\u00e9\\u20AC\"",
        "\"\\ud83d\\ude00\"", "\"caf\xc3\xa9 \xe6\x95\xb0 \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"",
        "\"\x7f\"", "{\"\\u0061\":1,\"b\":{\"c\":[null,true,{\"d\":\"e\"}]}}",
        "\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\\\"\"", "[[[[[[[[[[1]]]]]]]]]]"})
    EXPECT_TRUE(check(text)) << text;
  // Texts nlohmann rejects, or the fast parser leaves to it.
  for (const std::string& text : std::vector<std::string>{
           "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "+1", "1e", "1e+",
        "--1", "1e400", "-1e400", "1e-400", "tru", "truex", "nul", "[1] 2", "{\"a\":1} x", "\"abc", "\"a\\\"", "\"\\x\"",
        "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\x01\"",
        std::string("\"a\0b\"", 5), "\"\xc0\x80\"", "\"\xc3\"", "\"\xe0\x80\x80\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\x80\"", "\"\xff\xfe\"", "\xef\xbb\xbf{}",
        "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}", "\"\\\xc3\xa9\"", "\"\\\x01\"",
        std::string(300, '[') + std::string(300, ']')})
    EXPECT_FALSE(check(text)) << text;
}

// A random valid document: objects, arrays, escapes, non-ASCII, numbers at the edges.
std::string random_value(std::mt19937& rng, int depth) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  static const char* const atoms[] = {"0", "-0", "1", "-1", "2.5", "-1e-7", "1E10", "18446744073709551615",
                                      "18446744073709551616", "-9223372036854775809", "true", "false", "null"};
  static const char* const pieces[] = {"a", "b c", "\\n", "\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9",
                                       "\xe6\x95\xb0", "\xf0\x9f\x98\x80", "0123456789abcdefghij", "\\/", "\\t"};
  const auto string = [&] {
    std::string s = "\"";
    for (int i = pick(6); i > 0; --i) s += pieces[pick(13)];
    return s + "\"";
  };
  const int kind = depth > 3 ? pick(2) : pick(4);
  if (kind == 0) return atoms[pick(13)];
  if (kind == 1) return string();
  std::string out = kind == 2 ? "[" : "{";
  const int n = pick(5);
  for (int i = 0; i < n; ++i) {
    if (i) out += pick(2) ? "," : " , ";
    if (kind == 3) out += "\"k" + std::to_string(i) + (pick(4) ? "" : "\\u00e9") + "\":";
    out += random_value(rng, depth + 1);
  }
  return out + (kind == 2 ? "]" : "}");
}

TEST(FastJson, RandomMutationsMatchNlohmann) {
  std::mt19937 rng(1234);
  int taken = 0, valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = random_value(rng, 0);
    if (i % 2) {
      // Mutate: overwrite, insert or delete a few bytes.
      for (int m = 1 + static_cast<int>(rng() % 3); m > 0 && !text.empty(); --m) {
        const size_t at = rng() % text.size();
        static const char bytes[] = "{}[]\",:\\u0e-+.\x01\x80\xc3\xed\xff 7";
        const char b = bytes[rng() % (sizeof bytes - 1)];
        switch (rng() % 3) {
          case 0: text[at] = b; break;
          case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), b); break;
          default: text.erase(at, 1);
        }
      }
    }
    valid += !json::parse(text, nullptr, false).is_discarded();
    taken += check(text);
    if (::testing::Test::HasFailure()) break;
  }
  // The fast path must actually be used: every generated document is one it takes.
  EXPECT_GT(taken, 10000);
  EXPECT_GE(valid, taken);
}

TEST(FastJson, SplitArraysParseLikeTheWhole) {
  std::mt19937 rng(99);
  int taken = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string text = i % 7 ? " [" : "[";
    for (int n = static_cast<int>(rng() % 6), k = 0; k < n; ++k) text += (k ? ",\n" : "") + random_value(rng, 1);
    text += i % 5 ? "]" : " ]\n";
    if (i % 2) {
      for (int m = 1 + static_cast<int>(rng() % 2); m > 0; --m) {
        static const char bytes[] = "{}[]\",:\\ x";
        text[rng() % text.size()] = bytes[rng() % (sizeof bytes - 1)];
      }
    }
    std::vector<std::string_view> elements;
    if (!split_json_array(text, elements)) continue;
    json::array_t values(elements.size());
    bool ok = true;
    for (size_t k = 0; k < elements.size() && ok; ++k) ok = fast_parse_json(elements[k], values[k]);
    if (!ok) continue;
    ++taken;
    const json reference = json::parse(text, nullptr, false);
    ASSERT_FALSE(reference.is_discarded()) << text;
    ASSERT_TRUE(same(json(values), reference)) << text;
  }
  EXPECT_GT(taken, 2500);
}

// The readers before parallel blocks: nlohmann, one JsonShape over all rows, sequentially.
std::vector<std::pair<json, std::string>> reference_json_lines(const std::string& text) {
  std::vector<std::pair<json, std::string>> rows;
  JsonShape shape;
  shape.kind = JsonShape::Kind::object;
  size_t pos = 0;
  for (int64_t number = 1; pos < text.size(); ++number) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    json row = json::parse(line, nullptr, false);
    if (!row.is_object()) continue;  // bad rows (skipped)
    shape.merge_row(row);
    rows.emplace_back(std::move(row), "m.jsonl:" + std::to_string(number));
  }
  for (auto& [row, where] : rows) row = shape.apply_row(std::move(row));
  return rows;
}

TEST(FastJson, ManyBlocksReadLikeOne) {
  // ~5 MB: several 1 MB blocks read on all threads. Types widen late (an int
  // column turns float in the last block, a struct turns mixed), a key first
  // appears late, keys come in other orders; bad rows sit in two blocks.
  std::string text;
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    if (i == 15000 || i == 50000) text += "{bad row\n";
    if (i % 1000 == 7) text += "\n";
    if (i == n - 3) text += R"({"id": 2.5, "s": {"x": 1, "y": 2}, "late": [1, 2.5]})" "\n";
    else if (i % 2) text += fmt::format(R"({{"s": {{"x": {}}}, "id": {}, "t": "row \u00e9 {}\n"}})" "\n", i, i, i);
    else text += fmt::format(R"({{"id": {}, "t": "{}", "s": {{"x": -{}}}}})" "\n", i, std::string(i % 50, 'z'), i);
  }
  const auto expected = reference_json_lines(text);
  std::vector<std::pair<json, std::string>> got;
  ReadStats stats = read_json_lines("m.jsonl", text, {.skip_bad_rows = true},
                                    [&](Row&& row, const std::string& where) { got.emplace_back(std::move(row), where); });
  EXPECT_EQ(stats.bad_rows, 2);
  EXPECT_NE(stats.first_bad_row.find("m.jsonl:15016:"), std::string::npos) << stats.first_bad_row;
  ASSERT_EQ(got.size(), expected.size());
  ASSERT_EQ(stats.rows, static_cast<int64_t>(got.size()));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].second, expected[i].second);
    ASSERT_TRUE(same(got[i].first, expected[i].first)) << got[i].first.dump() << " vs " << expected[i].first.dump();
  }
  EXPECT_TRUE(got[0].first["id"].is_number_float());
  EXPECT_TRUE(got[0].first["late"].is_null());
  // Without skip_bad_rows the first bad row fails the read, before any row reaches the sink.
  int seen = 0;
  try {
    read_json_lines("m.jsonl", text, {}, [&](Row&&, const std::string&) { ++seen; });
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("m.jsonl:15016: not valid JSON"), std::string::npos) << e.what();
  }
  EXPECT_EQ(seen, 0);
  // A sink that throws stops the read cleanly.
  seen = 0;
  EXPECT_THROW(read_json_lines("m.jsonl", text, {.skip_bad_rows = true},
                               [&](Row&&, const std::string&) {
                                 if (++seen == 20000) throw std::runtime_error("sink");
                               }),
               std::runtime_error);
}

}  // namespace
}  // namespace finch::data

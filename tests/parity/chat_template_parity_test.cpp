// Chat-template parity: every fixture template rendered by finch over the
// conversations of gen/make_chat_references.py must give exactly the text
// transformers' apply_chat_template gives, and must fail where it failed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "finch/core/error.h"
#include "finch/tokenizer/chat_template.h"

namespace finch::tokenizer {
namespace {

const std::filesystem::path kReferences = std::filesystem::path(FINCH_PARITY_DIR) / "chat" / "references.json";

TEST(ChatTemplateParity, RendersEveryFixtureLikeTransformers) {
  if (!std::filesystem::exists(kReferences)) GTEST_SKIP() << "no references at " << kReferences << " (run the generator)";
  std::ifstream in(kReferences);
  auto references = nlohmann::ordered_json::parse(in);
  if (references.is_object() && references.contains("skipped"))
    GTEST_SKIP() << references["skipped"].get<std::string>();

  int cases = 0, passed = 0;
  for (const auto& entry : references) {
    const std::string name = entry["name"];
    SCOPED_TRACE(name);
    std::unique_ptr<ChatTemplate> tpl;
    try {
      tpl = std::make_unique<ChatTemplate>(entry["source"].get<std::string>(), name);
    } catch (const Error& e) {
      // Right only where jinja2 refused to compile it too.
      for (const auto& c : entry["cases"]) {
        ++cases;
        EXPECT_TRUE(c.contains("error")) << "finch cannot parse it: " << e.what();
        passed += c.contains("error");
      }
      continue;
    }
    for (const auto& c : entry["cases"]) {
      ++cases;
      const std::string conversation = c["conversation"];
      std::string text, error;
      try {
        text = tpl->render(c["context"]);
      } catch (const Error& e) {
        error = e.what();
      }
      if (c.contains("error")) {
        EXPECT_FALSE(error.empty()) << conversation << ": transformers raised " << c["error"]
                                    << " but finch rendered:\n" << text;
        passed += !error.empty();
      } else {
        EXPECT_TRUE(error.empty()) << conversation << ": finch raised " << error;
        EXPECT_EQ(text, c["text"].get<std::string>()) << conversation;
        passed += error.empty() && text == c["text"].get<std::string>();
      }
    }
  }
  std::cout << "chat templates: " << passed << " of " << cases << " (template, conversation) cases match transformers, "
            << references.size() << " templates\n";
  EXPECT_GT(cases, 0);
}

}  // namespace
}  // namespace finch::tokenizer

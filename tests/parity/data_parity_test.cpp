// Parity of the training-data pipeline with the Python stack:
//   * samples: the recipe's ids, labels and dropped rows equal a Python
//     reimplementation on transformers' AutoTokenizer (gen/make_sample_cases.py),
//     exactly, for every tokenizer and truncation / train_on_inputs variant;
//   * sampler: each rank's indices equal torch's DistributedSampler's, exactly;
//   * packed forward: a packed row (restarting position_ids, no attention mask)
//     gives transformers' logits (fp32, max |diff| <= 1e-4, the forward parity
//     bar) and loss (<= 1e-5) (gen/make_packed_cases.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "finch/data/batches.h"
#include "finch/data/loader.h"
#include "finch/data/samples.h"
#include "finch/io/safetensors.h"
#include "finch/model/load.h"

namespace finch::data {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(FINCH_PARITY_DIR) / "data";

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << ": no references; run through ctest";
  return nlohmann::json::parse(in);
}

TEST(SamplesParity, RecipeMatchesPython) {
  const auto cases = read_json(kDir / "samples" / "cases.json");
  ASSERT_GE(cases["tokenizers"].size(), 2u);
  for (const auto& t : cases["tokenizers"]) {
    const std::string name = t["name"];
    SCOPED_TRACE(name);
    const auto tokenizer = tokenizer::PretrainedTokenizer::from_dir(t["dir"].get<std::string>());
    const fs::path dir = kDir / "samples" / name;
    const auto expected = read_json(dir / "expected.json");
    // Tokenized twice from scratch: one thread in chunks of 3 rows, then all threads at once.
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".bin") fs::remove(e.path());  // a cache left by an earlier run
    std::shared_ptr<const TokenizedSplit> split;
    for (const TokenizeOptions options : {TokenizeOptions{1, 3}, TokenizeOptions{}}) {
      CacheReport report;
      split = std::make_shared<const TokenizedSplit>(TokenizedSplit::load(
          dir / "data.jsonl", tokenizer, tokenizer_fingerprint(t["dir"].get<std::string>()), options, &report));
      EXPECT_TRUE(report.rebuilt);
      fs::remove(report.cache_file);
    }
    ASSERT_EQ(split->size(), expected["rows"].size());
    for (std::size_t r = 0; r < split->size(); ++r) {
      const auto ids = split->ids(r);
      EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.end()), expected["rows"][r]["ids"].get<std::vector<int32_t>>())
          << "row " << r;
      EXPECT_EQ(split->input_length(r), expected["rows"][r]["input_length"].get<int64_t>()) << "row " << r;
    }
    for (const auto& v : expected["variants"]) {
      SampleOptions options{v["max_seq_length"].get<int64_t>(), v["train_on_inputs"].get<bool>()};
      SCOPED_TRACE(v["max_seq_length"].dump() + (options.train_on_inputs ? " train_on_inputs" : ""));
      const SampleSet set(split, options);
      std::size_t kept = 0;
      int64_t dropped = 0;
      for (std::size_t r = 0; r < v["samples"].size(); ++r) {
        const auto& want = v["samples"][r];
        if (want.is_null()) {
          ++dropped;
          continue;
        }
        ASSERT_LT(kept, set.size());
        ASSERT_EQ(set.row(kept), r);
        const Sample s = set.get(kept++);
        EXPECT_EQ(s.input_ids, want["input_ids"].get<std::vector<int64_t>>()) << "row " << r;
        EXPECT_EQ(s.labels, want["labels"].get<std::vector<int64_t>>()) << "row " << r;
      }
      EXPECT_EQ(set.size(), kept);
      EXPECT_EQ(set.dropped(), dropped);
    }
  }
}

TEST(SamplerParity, MatchesDistributedSampler) {
  const auto cases = read_json(kDir / "samples" / "sampler.json");
  ASSERT_GT(cases.size(), 100u);
  for (const auto& c : cases) {
    SamplerOptions o;
    o.seed = c["seed"];
    o.rank = c["rank"];
    o.world_size = c["world_size"];
    o.drop_last = c["drop_last"];
    const Sampler sampler(c["n"], o);
    EXPECT_EQ(sampler.epoch_indices(c["epoch"]), c["indices"].get<std::vector<int64_t>>()) << c.dump();
  }
}

TEST(PackedForwardParity, MatchesTransformers) {
  // Where a GPU is present the same rows also run on it, against the CPU references.
  std::vector<at::Device> devices{at::kCPU};
  if (torch::cuda::is_available()) devices.emplace_back(at::kCUDA);
  for (const at::Device device : devices) {
    for (const char* name : {"llama3", "mistral", "qwen3", "phi3"}) {
      SCOPED_TRACE(std::string(name) + " on " + device.str());
      const fs::path dir = kDir / "packed" / name;
      const auto packed = read_json(dir / "packed.json");
      model::CausalLM lm = model::load_causal_lm(dir, {at::kFloat, device});
      auto row = [&](const char* key) {
        return at::tensor(packed[key].get<std::vector<int64_t>>(), at::kLong).unsqueeze(0).to(device);
      };
      at::Tensor logits;
      {
        at::NoGradGuard no_grad;
        logits = lm->forward(row("input_ids"), {}, row("position_ids"));
      }
      const auto reference = safetensors::TensorStore::open_file(dir / "reference.safetensors");
      const double diff = (logits[0].cpu() - reference.get("logits")).abs().max().item<double>();
      EXPECT_LE(diff, 1e-4);
      const double loss = causal_lm_loss(logits, row("labels")).item<double>();
      EXPECT_NEAR(loss, packed["loss"].get<double>(), 1e-5);
      std::cout << name << " " << device << ": packed max |logit diff| " << diff << ", loss " << loss << "\n";
    }
  }
}

}  // namespace
}  // namespace finch::data

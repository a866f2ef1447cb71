// Encoding throughput of finch's tokenizer on a text file (one document per
// line), single-threaded and on all threads. Prints one JSON line; the
// Python side (tokenize_bench.py) runs HF tokenizers on the same file.
// Usage: finch_tokenize_bench MODEL_DIR TEXT_FILE
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "finch/core/error.h"
#include "finch/tokenizer/tokenizer_config.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: finch_tokenize_bench MODEL_DIR TEXT_FILE\n");
    return 2;
  }
  try {
    const auto tok = finch::tokenizer::PretrainedTokenizer::from_dir(argv[1]);
    std::ifstream in(argv[2]);
    std::vector<std::string> docs;
    std::size_t bytes = 0;
    for (std::string line; std::getline(in, line);) {
      bytes += line.size();
      docs.push_back(std::move(line));
    }
    nlohmann::json out{{"mb", bytes / 1e6}, {"docs", docs.size()}};
    for (int threads : {1, static_cast<int>(std::thread::hardware_concurrency())}) {
      const auto start = std::chrono::steady_clock::now();
      const auto ids = tok.tokenizer.encode_batch(docs, /*add_special_tokens=*/false, threads);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::size_t n = 0;
      for (const auto& v : ids) n += v.size();
      out[fmt::format("threads_{}", threads)] = {{"seconds", seconds}, {"mb_per_s", bytes / 1e6 / seconds}, {"tokens", n}};
    }
    fmt::print("{}\n", out.dump());
  } catch (const std::exception& e) {
    fmt::print(stderr, "finch_tokenize_bench: {}\n", e.what());
    return 1;
  }
}

// Tensors saved in per-rank chunks: the fully sharded checkpoint format.
//
// A tensor of m elements saved by a run of n ranks is flattened, padded with
// zeros to n * c elements (c = ceil(m / n), dist/fully_sharded.h's chunk) and
// cut in n; rank r's file of a set holds chunk r, a 1-D tensor of c elements
// under the tensor's name. A set is one kind of state: "weights" (the
// trainable weights, under the names their consolidated file uses: PEFT's
// for an adapter, HF's for a full model) and "optimizer" (AdamW's state).
// Rank r writes "{set}_shard_{r}.safetensors" for each set; rank 0 writes
// shards.json, which names the world size, the file the weights consolidate
// into and every tensor's full shape:
//
//   {"format": "finch-sharded-1", "world_size": 4,
//    "weights_file": "adapter_model.safetensors",
//    "tensors": {"weights": {"base_model.model....lora_A.weight": [8, 64], ...},
//                "optimizer": {"exp_avg.model....lora_A.weight": [8, 64], ...}}}
//
// Reading at another world size re-cuts the chunks: any rank's chunk of any
// world size is read from the saved files it overlaps (mapped, so a rank
// reads only its part), which is how a run resumes at another size.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "finch/io/safetensors.h"

namespace finch::io::sharded {

inline constexpr const char* kManifestFile = "shards.json";

// Elements per rank of a tensor of `numel` elements over `world` ranks.
int64_t chunk_numel(int64_t numel, int64_t world);
// "{set}_shard_{rank}.safetensors".
std::string rank_file(const std::string& set, int64_t rank);
// Whether `dir` holds a fully sharded checkpoint (a shards.json).
bool is_sharded(const std::filesystem::path& dir);

struct Manifest {
  int64_t world_size = 1;
  std::string weights_file;  // adapter_model.safetensors | model.safetensors
  // set: (tensor name, full shape), in saving order.
  std::map<std::string, std::vector<std::pair<std::string, std::vector<int64_t>>>> tensors;
};
void write_manifest(const std::filesystem::path& dir, const Manifest& manifest);

class Reader {
 public:
  // Reads dir/shards.json; one-line errors name the file and the fault.
  explicit Reader(const std::filesystem::path& dir);
  const Manifest& manifest() const { return manifest_; }
  std::vector<std::string> names(const std::string& set) const;
  bool contains(const std::string& set, const std::string& name) const;
  // The whole tensor, in its full shape (consolidated from every rank's file).
  at::Tensor full(const std::string& set, const std::string& name) const;
  // Chunk `rank` of `world` (any world size), 1-D, padded with zeros.
  at::Tensor chunk(const std::string& set, const std::string& name, int64_t rank, int64_t world) const;
  // A metadata value of rank 0's file of `set` (empty when absent).
  std::string metadata(const std::string& set, const std::string& key) const;

 private:
  const std::vector<int64_t>& shape(const std::string& set, const std::string& name) const;
  // Elements [start, start + length) of the flattened tensor (length > 0, within its numel).
  at::Tensor range(const std::string& set, const std::string& name, int64_t start, int64_t length) const;
  const safetensors::File& file(const std::string& set, int64_t rank) const;

  std::filesystem::path dir_;
  Manifest manifest_;
  mutable std::map<std::pair<std::string, int64_t>, std::unique_ptr<safetensors::File>> files_;
};

// Writes into `out` the consolidated weights (manifest's weights_file) and a
// copy of every other file of `checkpoint` except the shards, the random
// states and the manifests: a plain checkpoint folder export and test read.
void consolidate(const std::filesystem::path& checkpoint, const std::filesystem::path& out);

}  // namespace finch::io::sharded

// safetensors files and sharded HF checkpoints as libtorch tensors.
//
// Reading maps the file copy-on-write and returns tensors that view it: no
// copy, no read until a page is touched. Writing is atomic per file.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "finch/core/files.h"
#include "finch/io/safetensors_header.h"

namespace finch::safetensors {

at::ScalarType to_torch(DType dtype);
DType from_torch(at::ScalarType dtype);  // error for a dtype safetensors lacks

class File {
 public:
  explicit File(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return mapping_->path(); }
  const Header& header() const { return header_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  std::vector<std::string> names() const;
  const TensorInfo& info(const std::string& name) const;
  // A CPU tensor viewing the mapped bytes (copied only if misaligned for its dtype).
  at::Tensor get(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> mapping_;
  Header header_;
  std::map<std::string, size_t> index_;
};

// Every tensor of a model directory: `model.safetensors`, or the shards
// listed by `model.safetensors.index.json`; or one given file.
class TensorStore {
 public:
  static TensorStore open_model_dir(const std::filesystem::path& dir);
  static TensorStore open_file(const std::filesystem::path& path);

  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  std::vector<std::string> names() const;
  at::Tensor get(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;

 private:
  std::vector<std::unique_ptr<File>> files_;
  std::map<std::string, const File*> where_;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The stored tensors for `wanted` (names and the tensors they will fill, for
// their shapes), in wanted's order. Missing, unexpected (those `ignore` does
// not accept) and mis-shaped tensors are one error: "<what>: ... do not match
// the model; missing N: a, b; unexpected ...".
std::vector<at::Tensor> match_tensors(const TensorStore& store, const NamedTensors& wanted,
                                      const std::function<bool(const std::string&)>& ignore,
                                      const std::string& what);

// Writes one file atomically. Tensors are written contiguous, on the CPU.
void save_file(const std::filesystem::path& path, const NamedTensors& tensors,
               const std::map<std::string, std::string>& metadata = {});

// "5GB", "150KB", "1.5MB", "10TB" (decimal units, as huggingface_hub's
// parse_size_to_int) or a plain byte count, as an integer number of bytes.
// Anything else is an error naming `what` (the option it came from).
uint64_t parse_size(std::string_view text, std::string_view what);

// How huggingface_hub's split_torch_state_dict_into_shards groups tensors
// (transformers' save_pretrained uses it): in the given order, a tensor is
// never split, a shard is closed when the next tensor would take it past
// `max_shard_bytes`, and a tensor larger than that alone gets a shard of its
// own, placed before the one still being filled. Returns the tensor indices
// of each shard, in file order.
std::vector<std::vector<size_t>> plan_shards(const std::vector<uint64_t>& tensor_bytes, uint64_t max_shard_bytes);

// Writes a model's tensors into `dir` the way HF's save_pretrained does:
// `model.safetensors` when they fit in one shard (plan_shards), else
// `model-0000K-of-0000N.safetensors` plus `model.safetensors.index.json`
// ({"metadata": {"total_parameters", "total_size"}, "weight_map"}, keys
// sorted). Each file is written atomically, the index last; weight files of
// an earlier save into `dir` that this one does not replace are removed.
// Returns the weight files written, in order.
std::vector<std::string> save_model_dir(const std::filesystem::path& dir, const NamedTensors& tensors,
                                        uint64_t max_shard_bytes,
                                        const std::map<std::string, std::string>& metadata = {});

}  // namespace finch::safetensors

// Fully sharded parameters (PyTorch FSDP's FULL_SHARD, sharded per parameter
// as FSDP2 does): every parameter is flattened, padded to a multiple of the
// world size and cut into equal chunks; rank r keeps chunk r (the shard) and
// the module's parameter object holds an empty tensor until its unit is
// gathered. Per-parameter chunks keep every parameter's name, dtype and
// optimizer group (weight decay or not) on its shard, element for element.
//
// A unit is a group of parameters gathered and freed together (a decoder
// layer; the root: embeddings, final norm, head). gather(u) all-gathers its
// shards and points the parameters at the full values (set_data, so modules
// and autograd see the same parameter objects); release(u) points them at
// empty tensors again. reduce_gradients(u) sums the full gradients the
// backward left in the parameters' .grad across ranks, adds this rank's
// chunk of the sum into the shard's .grad, and drops the full gradient.
// Reduce-scatter on NCCL; all-reduce then the own chunk on Gloo, whose
// reduce-scatter libtorch does not offer everywhere.
//
// Every rank calls these in the same order (collectives).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "finch/dist/world.h"

namespace finch::dist {

class FullySharded {
 public:
  using Named = std::vector<std::pair<std::string, at::Tensor>>;

  // `units`: the parameters of each unit, (name, the module's parameter);
  // each is sharded now (all ranks hold the same full values) and freed.
  FullySharded(std::shared_ptr<const World> world, std::vector<Named> units);

  size_t num_units() const { return units_.size(); }
  void gather(size_t unit);
  void release(size_t unit);
  void gather_all();
  void release_all();
  bool gathered(size_t unit) const { return units_[unit].gathered; }
  void reduce_gradients(size_t unit);
  // Writes the gathered parameters' values back into the shards (after a
  // load into the full parameters; every rank loaded the same values).
  void reshard_all();

  // The shards that train (their parameter required grad): (name, shard),
  // each a leaf that requires grad and receives .grad from reduce_gradients.
  Named trainable_shards() const;
  // The full tensor of `full_like` (a shard of the parameter named `name`,
  // e.g. an optimizer state), gathered across ranks; and the reverse.
  at::Tensor gather_full(const std::string& name, const at::Tensor& shard) const;
  at::Tensor own_chunk(const std::string& name, const at::Tensor& full) const;
  // The full shape of the parameter named `name`.
  const std::vector<int64_t>& shape(const std::string& name) const { return find(name).shape; }
  // Bytes of parameter storage this rank holds: shards (and any unit still gathered).
  int64_t shard_bytes() const;

 private:
  struct Param {
    std::string name;
    at::Tensor param;  // the module's parameter object
    at::Tensor shard;  // [chunk], this rank's part (padding zeros at the end)
    std::vector<int64_t> shape;
    int64_t numel = 0, chunk = 0;
    bool trainable = false;
  };
  struct Unit {
    std::vector<Param> params;
    bool gathered = false;
  };
  const Param& find(const std::string& name) const;
  at::Tensor all_gather_flat(const Param& p, const at::Tensor& shard) const;

  std::shared_ptr<const World> world_;
  std::vector<Unit> units_;
};

}  // namespace finch::dist

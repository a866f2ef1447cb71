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
// empty tensors again. prefetch(u) starts that all-gather without waiting,
// so the next layer's weights travel while this one computes (FSDP's
// forward and backward prefetch); gather(u) then only waits. reduce_gradients(u)
// sums the full gradients the backward left in the parameters' .grad across
// ranks, adds this rank's chunk of the sum into the shard's .grad, and drops
// the full gradient. Reduce-scatter on NCCL; all-reduce then the own chunk on
// Gloo, whose reduce-scatter libtorch does not offer everywhere.
//
// Each collective moves a whole unit: the unit's shards of one dtype travel
// as one flat buffer (rank r's part: its chunk of every parameter, in order),
// so a layer costs one all-gather and one reduction per dtype, not one per
// parameter.
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
  // The shards and the gathered values live on the world's device, wherever
  // the parameters were (a model loaded on the CPU puts only its shards on
  // the GPU).
  // `offload`: the shards (and so their gradients and optimizer state) live
  // in CPU memory; a gather copies them to the parameters' device first, and
  // the reduced gradient chunks come back (FSDP's CPUOffload). On a CPU run
  // nothing moves.
  FullySharded(std::shared_ptr<const World> world, std::vector<Named> units, bool offload = false);

  size_t num_units() const { return units_.size(); }
  void prefetch(size_t unit);
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
  // This rank's chunk of `full`, a full tensor of the parameter named `name`
  // (e.g. a saved optimizer state).
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
  // A unit's all-gather in flight: per dtype group, the [ranks, chunks] buffer and its work.
  struct Pending {
    std::vector<at::Tensor> inputs, buffers;  // inputs: kept alive until the works complete
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
  };
  struct Unit {
    std::vector<Param> params;
    std::vector<std::vector<size_t>> groups;  // indices into params, one list per dtype
    bool gathered = false;
    std::unique_ptr<Pending> pending;
  };
  const Param& find(const std::string& name) const;

  std::shared_ptr<const World> world_;
  std::vector<Unit> units_;
  at::Device device_{at::kCPU};  // where the parameters compute
  bool offload_ = false;
};

}  // namespace finch::dist

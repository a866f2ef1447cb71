#include "finch/train/fully_sharded.h"

#include <torch/torch.h>

#include <set>

#include "finch/train/checkpointing.h"

namespace finch::train {

std::shared_ptr<dist::FullySharded> shard_model(model::CausalLM& model, std::shared_ptr<const dist::World> world,
                                                bool offload) {
  const int64_t layers = static_cast<int64_t>(model->model->layers->size());
  std::vector<dist::FullySharded::Named> units(static_cast<size_t>(layers) + 1);
  std::set<const void*> seen;  // a tied head is the embedding's tensor: sharded once
  for (const auto& p : model->named_parameters()) {
    if (!seen.insert(p.value().unsafeGetTensorImpl()).second) continue;
    size_t unit = static_cast<size_t>(layers);
    const std::string& name = p.key();
    const std::string prefix = "model.layers.";
    if (name.rfind(prefix, 0) == 0) unit = std::stoul(name.substr(prefix.size(), name.find('.', prefix.size())));
    units[unit].emplace_back(name, p.value());
  }
  auto sharded = std::make_shared<dist::FullySharded>(std::move(world), std::move(units), offload);
  std::weak_ptr<dist::FullySharded> weak = sharded;
  model->set_layer_runner([weak, layers](int64_t index, const model::CausalLMImpl::LayerFn& fn,
                                         const at::Tensor& hidden) {
    const auto fsdp = weak.lock();
    const auto unit = static_cast<size_t>(index);
    fsdp->gather(unit);
    // The next layer's weights travel while this one computes (forward order up, backward down).
    if (index + 1 < layers) fsdp->prefetch(unit + 1);
    RecomputeHooks hooks;
    hooks.before_recompute = [weak, unit] {
      const auto f = weak.lock();
      f->gather(unit);
      if (unit > 0) f->prefetch(unit - 1);
    };
    hooks.after_backward = [weak, unit] {
      const auto f = weak.lock();
      f->reduce_gradients(unit);
      f->release(unit);
    };
    at::Tensor out = checkpoint(fn, hidden, std::move(hooks));
    fsdp->release(unit);
    return out;
  });
  return sharded;
}

}  // namespace finch::train

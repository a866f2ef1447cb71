#include "finch/train/checkpointing.h"

#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <array>
#include <mutex>

namespace finch::train {
namespace {

using LayerFn = model::CausalLMImpl::LayerFn;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The layer function travels to backward in ctx->saved_data, which holds IValues.
struct LayerFnHolder : torch::CustomClassHolder {
  LayerFnHolder(LayerFn f, RecomputeHooks h) : fn(std::move(f)), hooks(std::move(h)) {}
  LayerFn fn;
  RecomputeHooks hooks;
};

at::Tensor rng_state(at::Device device) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_rng_state(at::Device device, const at::Tensor& state) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// torch.random.fork_rng: the generators take the given states for this
// scope and get back their own at its end.
class ForkRng {
 public:
  explicit ForkRng(std::vector<std::pair<at::Device, at::Tensor>> states) {
    for (const auto& [device, state] : states) {
      restore_.emplace_back(device, rng_state(device));
      set_rng_state(device, state);
    }
  }
  ~ForkRng() {
    for (const auto& [device, state] : restore_) set_rng_state(device, state);
  }
  ForkRng(const ForkRng&) = delete;
  ForkRng& operator=(const ForkRng&) = delete;

 private:
  std::vector<std::pair<at::Device, at::Tensor>> restore_;
};

// Autocast as it was during forward (backward usually runs outside it, and on
// CUDA on another thread). The weight-cast cache stays off: the recompute's
// casts must come from the current weights, and caching changes no value.
class AutocastAs {
 public:
  using Saved = ska::flat_hash_map<std::string, at::IValue>;

  explicit AutocastAs(const Saved& saved) {
    cache_ = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
    for (const auto type : kTypes) {
      previous_.push_back({at::autocast::is_autocast_enabled(type), at::autocast::get_autocast_dtype(type)});
      const std::string key = c10::DeviceTypeName(type, true);
      at::autocast::set_autocast_enabled(type, saved.at(key + ".enabled").toBool());
      at::autocast::set_autocast_dtype(type, saved.at(key + ".dtype").toScalarType());
    }
  }
  ~AutocastAs() {
    for (size_t i = 0; i < kTypes.size(); ++i) {
      at::autocast::set_autocast_enabled(kTypes[i], previous_[i].first);
      at::autocast::set_autocast_dtype(kTypes[i], previous_[i].second);
    }
    at::autocast::set_autocast_cache_enabled(cache_);
  }
  AutocastAs(const AutocastAs&) = delete;
  AutocastAs& operator=(const AutocastAs&) = delete;

  static void capture(Saved& saved) {
    for (const auto type : kTypes) {
      const std::string key = c10::DeviceTypeName(type, true);
      saved[key + ".enabled"] = at::autocast::is_autocast_enabled(type);
      saved[key + ".dtype"] = at::autocast::get_autocast_dtype(type);
    }
  }

 private:
  static constexpr std::array<at::DeviceType, 2> kTypes{at::kCPU, at::kCUDA};
  std::vector<std::pair<bool, at::ScalarType>> previous_;
  bool cache_;
};

// torch.utils.checkpoint's CheckpointFunction (use_reentrant=True,
// preserve_rng_state=True). `anchor` holds a leaf that requires grad when x
// does not: without it the Function would not join the graph and the
// layer's parameters would get no grads (torch's reentrant checkpoint then
// warns and drops them, e.g. LoRA over frozen embeddings).
class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const LayerFn& fn, const RecomputeHooks& hooks,
                            at::TensorList anchor) {
    ctx->saved_data["anchored"] = !anchor.empty();
    ctx->saved_data["fn"] = at::IValue::make_capsule(c10::make_intrusive<LayerFnHolder>(fn, hooks));
    ctx->saved_data["cpu_rng"] = rng_state(at::kCPU);
    if (x.is_cuda()) ctx->saved_data["cuda_rng"] = rng_state(x.device());
    AutocastAs::capture(ctx->saved_data);
    ctx->save_for_backward({x});
    return fn(x);  // Function::apply runs forward with grad off: no intermediates kept
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const auto holder = c10::static_intrusive_pointer_cast<LayerFnHolder>(ctx->saved_data["fn"].toCapsule());
    std::vector<std::pair<at::Device, at::Tensor>> states{{at::kCPU, ctx->saved_data["cpu_rng"].toTensor()}};
    if (x.is_cuda()) states.emplace_back(x.device(), ctx->saved_data["cuda_rng"].toTensor());
    const bool input_grad = ctx->needs_input_grad(0);

    at::Tensor input = x.detach();
    input.requires_grad_(input_grad);
    if (holder->hooks.before_recompute) holder->hooks.before_recompute();
    at::Tensor output;
    {
      ForkRng fork(std::move(states));
      AutocastAs autocast(ctx->saved_data);
      at::AutoGradMode grad(true);
      output = holder->fn(input);
    }
    // Parameters' grads accumulate here, as in torch's reentrant backward.
    if (output.requires_grad()) torch::autograd::backward({output}, {grad_outputs[0]});
    output = at::Tensor();  // the recompute's graph goes before the hook frees what it used
    if (holder->hooks.after_backward) holder->hooks.after_backward();
    // One grad per input: x, fn and hooks (not tensors), then the anchor if passed.
    variable_list grads{input_grad ? input.grad() : at::Tensor(), at::Tensor(), at::Tensor()};
    if (ctx->saved_data["anchored"].toBool()) grads.emplace_back();
    return grads;
  }
};

}  // namespace

at::Tensor checkpoint(const LayerFn& fn, const at::Tensor& x, RecomputeHooks hooks) {
  if (!at::GradMode::is_enabled()) return fn(x);  // nothing to save memory on
  // A list, as autograd Functions take no undefined tensor: empty, or the anchor.
  std::vector<at::Tensor> anchor;
  if (!x.requires_grad()) anchor.push_back(at::empty({0}).requires_grad_(true));
  return CheckpointFunction::apply(x, fn, hooks, at::TensorList(anchor));
}

void set_activation_checkpointing(model::CausalLM& model, bool on) {
  if (on)
    model->set_layer_runner([](int64_t, const LayerFn& fn, const at::Tensor& hidden) { return checkpoint(fn, hidden); });
  else
    model->set_layer_runner({});
}

}  // namespace finch::train

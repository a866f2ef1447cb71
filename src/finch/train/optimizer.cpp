#include "finch/train/optimizer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "finch/core/error.h"
#include "finch/io/safetensors.h"

namespace finch::train {
namespace {

// Tensors grouped by (device, dtype) in order of first appearance, as
// torch.optim's _group_tensors_by_device_and_dtype: the fused and foreach
// kernels take one device and dtype per call.
template <typename Key>
struct Groups {
  std::vector<Key> keys;
  std::vector<std::vector<size_t>> members;
  void add(const Key& key, size_t index) {
    const auto it = std::find(keys.begin(), keys.end(), key);
    if (it != keys.end()) {
      members[it - keys.begin()].push_back(index);
      return;
    }
    keys.push_back(key);
    members.push_back({index});
  }
};

std::vector<at::Tensor> pick(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& indices) {
  std::vector<at::Tensor> out;
  out.reserve(indices.size());
  for (const size_t i : indices) out.push_back(tensors[i]);
  return out;
}

}  // namespace

// Trainer.get_decay_parameter_names matches these patterns against the
// lower-cased name: r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)"
// (a component that is exactly "norm") and r"_norm(?:$|\.)" (a component
// ending in "_norm"). Its other rule, parameters of nn.LayerNorm modules,
// never applies: finch's models have no LayerNorm.
bool decays(const std::string& parameter_name) {
  std::string name = parameter_name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"bias", "layernorm", "rmsnorm"})
    if (name.find(word) != std::string::npos) return false;
  size_t begin = 0;
  while (begin <= name.size()) {
    const size_t end = std::min(name.find('.', begin), name.size());
    const std::string_view component(name.data() + begin, end - begin);
    if (component == "norm" || component.ends_with("_norm")) return false;
    begin = end + 1;
  }
  return true;
}

AdamW::AdamW(std::vector<NamedParameter> parameters, const AdamWOptions& options)
    : parameters_(std::move(parameters)), options_(options) {
  for (const auto& p : parameters_) {
    FINCH_CHECK(p.tensor.defined() && p.tensor.requires_grad(), "AdamW: parameter {} does not require grad", p.name);
    // torch.optim.AdamW's state: zeros shaped and laid out like the parameter.
    exp_avg_.push_back(at::zeros_like(p.tensor, at::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(at::zeros_like(p.tensor, at::MemoryFormat::Preserve));
  }
}

// torch.optim.AdamW(fused=True).step(): per parameter group, the step
// counters (float32 tensors on the parameter's device) are incremented and
// at::_fused_adamw_ updates parameters, exp_avg and exp_avg_sq in place. The
// counter here is shared: every parameter with a grad has taken the same
// number of steps (torch counts per parameter; they differ only if a
// parameter went without a grad for some step).
void AdamW::step(double lr) {
  ++steps_;
  at::NoGradGuard no_grad;
  using Key = std::tuple<bool, at::Device, at::ScalarType>;
  Groups<Key> groups;
  std::vector<at::Tensor> params, grads;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const at::Tensor& p = parameters_[i].tensor;
    params.push_back(p);
    grads.push_back(p.grad());
    if (p.grad().defined()) groups.add(Key{decays(parameters_[i].name), p.device(), p.scalar_type()}, i);
  }
  for (size_t g = 0; g < groups.keys.size(); ++g) {
    const auto& [decay, device, dtype] = groups.keys[g];
    const auto& members = groups.members[g];
    // float(steps_) is exact below 2^24 steps, as is torch's float32 counter.
    const at::Tensor counters =
        at::full({static_cast<int64_t>(members.size())}, static_cast<double>(steps_),
                 at::TensorOptions().dtype(at::kFloat).device(device));
    at::_fused_adamw_(pick(params, members), pick(grads, members), pick(exp_avg_, members),
                      pick(exp_avg_sq_, members), /*max_exp_avg_sqs=*/{}, counters.unbind(0), lr, options_.beta1,
                      options_.beta2, decay ? options_.weight_decay : 0.0, options_.eps, /*amsgrad=*/false,
                      /*maximize=*/false);
  }
}

// HF's Trainer calls model.zero_grad(), which sets grads to None.
void AdamW::zero_grad() {
  for (auto& p : parameters_) p.tensor.mutable_grad().reset();
}

void AdamW::save(const std::filesystem::path& file) const {
  safetensors::NamedTensors tensors;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    tensors.emplace_back("exp_avg." + parameters_[i].name, exp_avg_[i].to(at::kCPU).contiguous());
    tensors.emplace_back("exp_avg_sq." + parameters_[i].name, exp_avg_sq_[i].to(at::kCPU).contiguous());
  }
  safetensors::save_file(file, tensors, {{"step", std::to_string(steps_)}});
}

int64_t AdamW::state_bytes() const {
  int64_t bytes = 0;
  for (size_t i = 0; i < exp_avg_.size(); ++i) bytes += static_cast<int64_t>(exp_avg_[i].nbytes() + exp_avg_sq_[i].nbytes());
  return bytes;
}

void AdamW::load(const std::filesystem::path& file, const TensorMap& map) {
  const safetensors::File state(file);
  const auto& metadata = state.header().metadata;
  const auto step = metadata.find("step");
  if (step == metadata.end()) fail("{}: no 'step' in the metadata", file.string());
  load(state.names(), [&](const std::string& name, const std::string& parameter) {
    return map ? map(parameter, state.get(name)) : state.get(name);
  }, step->second, file.string());
}

void AdamW::load(const std::vector<std::string>& names, const StateGetter& get, const std::string& step,
                 const std::string& where) {
  int64_t steps = -1;
  try {
    size_t used = 0;
    steps = std::stoll(step, &used);
    if (used != step.size()) steps = -1;
  } catch (const std::exception&) {
  }
  if (steps < 0) fail("{}: metadata step '{}' is not a step count", where, step);

  std::map<std::string, std::pair<at::Tensor*, std::string>> wanted;  // tensor name: (state, parameter)
  for (size_t i = 0; i < parameters_.size(); ++i) {
    wanted["exp_avg." + parameters_[i].name] = {&exp_avg_[i], parameters_[i].name};
    wanted["exp_avg_sq." + parameters_[i].name] = {&exp_avg_sq_[i], parameters_[i].name};
  }
  const std::set<std::string> held(names.begin(), names.end());
  for (const auto& name : names)
    if (!wanted.count(name)) fail("{}: tensor {} belongs to no trainable parameter", where, name);
  std::vector<std::pair<at::Tensor*, at::Tensor>> loaded;
  for (const auto& [name, entry] : wanted) {
    at::Tensor* target = entry.first;
    if (!held.count(name)) fail("{}: tensor {} is missing", where, name);
    at::Tensor value = get(name, entry.second);
    if (value.sizes() != target->sizes() || value.scalar_type() != target->scalar_type())
      fail("{}: tensor {} is {} {}, expected {} {}", where, name, c10::toString(value.scalar_type()),
           fmt::join(value.sizes(), "x"), c10::toString(target->scalar_type()), fmt::join(target->sizes(), "x"));
    loaded.emplace_back(target, std::move(value));
  }
  // Only once every tensor checked out: a failed load leaves the state as it was.
  at::NoGradGuard no_grad;
  for (auto& [target, value] : loaded) target->copy_(value);
  steps_ = steps;
}

// torch.nn.utils.clip_grad_norm_(parameters, max_norm) on its foreach path,
// op for op: per-tensor norms by _foreach_norm (in the grads' dtype), their
// norm on the first grad's device, clip_coef = (total + 1e-6).reciprocal() *
// max_norm (Python's `max_norm / tensor` is __rdiv__), clamped to 1 and
// multiplied into every grad, also when it is 1.
double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters)
    if (p.tensor.grad().defined()) grads.push_back(p.tensor.grad());
  if (grads.empty()) return 0.0;
  using Key = std::tuple<at::Device, at::ScalarType>;
  Groups<Key> groups;
  for (size_t i = 0; i < grads.size(); ++i) groups.add(Key{grads[i].device(), grads[i].scalar_type()}, i);

  const at::Device first_device = grads.front().device();
  std::vector<at::Tensor> norms;
  for (const auto& members : groups.members)
    for (const auto& norm : at::_foreach_norm(pick(grads, members), at::Scalar(2.0))) norms.push_back(norm.to(first_device));
  const at::Tensor total = at::linalg_vector_norm(at::stack(norms), at::Scalar(2.0));
  if (max_norm > 0) {
    const at::Tensor coef = at::clamp((total + 1e-6).reciprocal() * max_norm, std::nullopt, 1.0);
    for (size_t g = 0; g < groups.keys.size(); ++g)
      at::_foreach_mul_(pick(grads, groups.members[g]), coef.to(std::get<0>(groups.keys[g])));
  }
  return total.item<double>();
}

double clip_grad_norm(const std::vector<NamedParameter>& shards, double max_norm,
                      const std::function<void(at::Tensor&)>& sum_across) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : shards)
    if (p.tensor.grad().defined()) grads.push_back(p.tensor.grad());
  // Every rank takes part in the sum, also one whose shards got no gradient.
  const at::Device device = shards.empty() ? at::Device(at::kCPU) : shards.front().tensor.device();
  at::Tensor squares = at::zeros({1}, at::TensorOptions(at::kFloat).device(device));
  for (const auto& norm : grads.empty() ? std::vector<at::Tensor>{} : at::_foreach_norm(grads, at::Scalar(2.0)))
    squares += norm.to(device, at::kFloat).square();
  sum_across(squares);
  const at::Tensor total = squares.sqrt().squeeze(0);
  if (max_norm > 0 && !grads.empty()) {
    const at::Tensor coef = at::clamp((total + 1e-6).reciprocal() * max_norm, std::nullopt, 1.0);
    at::_foreach_mul_(grads, coef);
  }
  return total.item<double>();
}

}  // namespace finch::train

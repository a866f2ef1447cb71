// AdamW exactly as torch.optim.AdamW computes it (the fused kernel where
// libtorch has one, as HF Trainer's default optim "adamw_torch_fused"), with
// HF Trainer's parameter groups: weight decay on every trainable parameter
// except biases and normalisation weights. Its state saves to and loads from
// safetensors (no pickles).
#pragma once

#include <filesystem>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace finch::train {

struct NamedParameter {
  std::string name;
  at::Tensor tensor;  // requires_grad
};

// HF's get_decay_parameter_names: true unless the name is a bias or belongs to a normalisation layer.
bool decays(const std::string& parameter_name);

struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

class AdamW {
 public:
  AdamW(std::vector<NamedParameter> parameters, const AdamWOptions& options);
  // One update with learning rate `lr` from the parameters' .grad (a parameter without grad is skipped).
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return steps_; }
  const std::vector<NamedParameter>& parameters() const { return parameters_; }
  // exp_avg.<name>, exp_avg_sq.<name> tensors (as this optimizer keeps them:
  // a sharded run's are its chunks) and {"step": N} metadata.
  void save(const std::filesystem::path& file) const;
  // Errors name the file and tensor. `map` (parameter name, stored tensor)
  // turns each stored tensor into what this optimizer keeps (a fully sharded
  // run resuming a consolidated checkpoint: the full tensor to its chunk).
  using TensorMap = std::function<at::Tensor(const std::string& parameter, const at::Tensor&)>;
  void load(const std::filesystem::path& file, const TensorMap& map = {});
  // From any store of saved state: `names`, every tensor it holds; `get`
  // (tensor name, its parameter's name), that tensor as this optimizer keeps
  // it (a sharded run: this rank's chunk); `step`, the saved step count as
  // written. Errors name `where`.
  using StateGetter = std::function<at::Tensor(const std::string& name, const std::string& parameter)>;
  void load(const std::vector<std::string>& names, const StateGetter& get, const std::string& step,
            const std::string& where);
  int64_t state_bytes() const;

 private:
  std::vector<NamedParameter> parameters_;
  AdamWOptions options_;
  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
  int64_t steps_ = 0;
};

// torch.nn.utils.clip_grad_norm_(params, max_norm): returns the total L2 norm
// before clipping (non-finite when a gradient is); scales grads by
// max_norm / (norm + 1e-6) when that is < 1. max_norm <= 0: only the norm.
double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm);

// The same over parameters sharded across ranks: the total norm is the square
// root of the sum over ranks of the shards' squared norms (`sum_across`
// all-reduces a one-element tensor in place); every rank clips its shards.
double clip_grad_norm(const std::vector<NamedParameter>& shards, double max_norm,
                      const std::function<void(at::Tensor&)>& sum_across);

}  // namespace finch::train

#include "finch/infer/packed_linear.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <optional>

namespace finch::infer {
namespace {

std::optional<c10::OperatorHandle> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchema({name, ""});
}

class PackedLinear final : public model::LinearKernel {
 public:
  PackedLinear(const c10::OperatorHandle& reorder, c10::OperatorHandle linear, const at::Tensor& weight,
               at::Tensor bias)
      : linear_(std::move(linear)), bias_(std::move(bias)) {
    torch::jit::Stack stack{weight.detach().contiguous(), std::optional<int64_t>()};
    reorder.callBoxed(stack);
    packed_ = stack.front().toTensor();
  }

  at::Tensor forward(const at::Tensor& x) override {
    // [..., in] -> [N, in] -> [N, out] -> [..., out]
    std::vector<int64_t> shape = x.sizes().vec();
    const at::Tensor flat = x.reshape({-1, shape.back()}).contiguous();
    torch::jit::Stack stack{flat, packed_, bias_.defined() ? std::optional<at::Tensor>(bias_) : std::nullopt,
                            std::string("none"), c10::List<std::optional<at::Scalar>>(), std::optional<std::string>()};
    linear_.callBoxed(stack);
    at::Tensor y = stack.front().toTensor();
    shape.back() = y.size(-1);
    return y.view(shape);
  }

 private:
  c10::OperatorHandle linear_;
  at::Tensor packed_, bias_;
};

}  // namespace

bool pack_linear_weights(model::CausalLMImpl& model, bool release_originals) {
  const at::Tensor& embed = model.model->embed_tokens->weight;
  if (!embed.device().is_cpu() || embed.scalar_type() != at::kFloat || !at::hasMKLDNN()) return false;
  const auto reorder = find_op("mkldnn::_reorder_linear_weight");
  const auto linear = find_op("mkldnn::_linear_pointwise");
  if (!reorder || !linear) return false;
  bool packed_any = false;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    auto* layer = module->as<model::LinearImpl>();
    if (!layer || layer->kernel) continue;
    layer->kernel = std::make_shared<PackedLinear>(*reorder, *linear, layer->weight, layer->bias);
    if (release_originals) layer->weight.set_data(at::empty({0}, layer->weight.options()));
    packed_any = true;
  }
  if (!model.lm_head && packed_any)
    model.set_tied_head_kernel(std::make_shared<PackedLinear>(*reorder, *linear, embed, at::Tensor()));
  return true;
}

}  // namespace finch::infer

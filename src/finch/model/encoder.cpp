#include "finch/model/encoder.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "finch/core/error.h"
#include "finch/io/safetensors.h"

namespace finch::model {
namespace {

// A module that only groups children, for HF's nested names (attention.self.query).
std::shared_ptr<torch::nn::Module> group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

}  // namespace

LayerNormImpl::LayerNormImpl(int64_t dim, double eps_, const at::TensorOptions& options) : eps(eps_) {
  weight = register_parameter("weight", at::empty({dim}, options));
  bias = register_parameter("bias", at::empty({dim}, options));
}

at::Tensor LayerNormImpl::forward(const at::Tensor& x) { return at::layer_norm(x, {weight.size(0)}, weight, bias, eps); }

EncoderLayerImpl::EncoderLayerImpl(const EncoderConfig& c, const at::TensorOptions& options)
    : num_heads_(c.num_heads), tanh_gelu_(c.tanh_gelu) {
  const int64_t C = c.hidden_size;
  auto attention = group(*this, "attention");
  auto self = group(*attention, "self");
  query = self->register_module("query", Linear(C, C, true, options));
  key = self->register_module("key", Linear(C, C, true, options));
  value = self->register_module("value", Linear(C, C, true, options));
  auto attention_output = group(*attention, "output");
  attention_dense = attention_output->register_module("dense", Linear(C, C, true, options));
  attention_norm = attention_output->register_module("LayerNorm", LayerNorm(C, c.layer_norm_eps, options));
  intermediate = group(*this, "intermediate")->register_module("dense", Linear(C, c.intermediate_size, true, options));
  auto output = group(*this, "output");
  output_dense = output->register_module("dense", Linear(c.intermediate_size, C, true, options));
  output_norm = output->register_module("LayerNorm", LayerNorm(C, c.layer_norm_eps, options));
}

at::Tensor EncoderLayerImpl::forward(const at::Tensor& x, const at::Tensor& mask) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), D = C / num_heads_;
  auto heads = [&](const at::Tensor& t) { return t.view({B, T, num_heads_, D}).transpose(1, 2); };  // [B, H, T, D]
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  // Every query row has at least one real key (a row's first token is real),
  // so the boolean key mask equals HF's additive one.
  const at::Tensor context =
      at::scaled_dot_product_attention(heads(query(x)), heads(key(x)), heads(value(x)), mask, 0.0, false, scale);
  const at::Tensor attended = attention_norm(attention_dense(context.transpose(1, 2).reshape({B, T, C})) + x);
  const at::Tensor inner = at::gelu(intermediate(attended), tanh_gelu_ ? "tanh" : "none");
  return output_norm(output_dense(inner) + attended);
}

EncoderImpl::EncoderImpl(EncoderConfig config, const at::TensorOptions& options, std::optional<int64_t> num_layers)
    : config_(std::move(config)) {
  const auto& c = config_;
  auto embeddings = group(*this, "embeddings");
  word_embeddings = embeddings->register_module("word_embeddings", Embedding(c.vocab_size, c.hidden_size, options));
  position_embeddings = embeddings->register_module(
      "position_embeddings", Embedding(c.max_position_embeddings, c.hidden_size, options));
  token_type_embeddings = embeddings->register_module(
      "token_type_embeddings", Embedding(c.type_vocab_size, c.hidden_size, options));
  embeddings_norm = embeddings->register_module("LayerNorm", LayerNorm(c.hidden_size, c.layer_norm_eps, options));
  const int64_t n = num_layers.value_or(c.num_layers);
  FINCH_CHECK(n >= 0 && n <= c.num_layers, "{} layers requested of {}", n, c.num_layers);
  torch::nn::ModuleList list;
  for (int64_t i = 0; i < n; ++i) {
    layers_.emplace_back(c, options);
    list->push_back(layers_.back());
  }
  group(*this, "encoder")->register_module("layer", list);
}

at::Tensor EncoderImpl::embed(const at::Tensor& input_ids) {
  const int64_t T = input_ids.size(1);
  at::Tensor positions;
  if (config_.family == EncoderConfig::Family::kRoberta) {
    // RoBERTa counts positions over non-padding ids from padding_idx + 1;
    // padding ids sit at padding_idx (create_position_ids_from_input_ids).
    const at::Tensor real = input_ids.ne(config_.pad_token_id).to(at::kLong);
    positions = real.cumsum(1) * real + config_.pad_token_id;
  } else {
    positions = at::arange(T, input_ids.options()).unsqueeze(0);
  }
  const int64_t last = T == 0 ? 0 : positions.max().item<int64_t>();
  if (last >= config_.max_position_embeddings)
    fail("{} tokens need position {} but the model has {} positions (max_position_embeddings)", T, last,
         config_.max_position_embeddings);
  const at::Tensor types = at::zeros_like(input_ids);
  return embeddings_norm(word_embeddings(input_ids) + token_type_embeddings(types) + position_embeddings(positions));
}

at::Tensor EncoderImpl::run(const at::Tensor& input_ids, const at::Tensor& attention_mask, int64_t layer,
                            std::vector<at::Tensor>* all) {
  FINCH_CHECK(input_ids.dim() == 2, "input_ids must be [B, T], got {} dims", input_ids.dim());
  if (layer < 0 || layer > built_layers())
    fail("layer {} is out of range: this encoder has {} layers (0 is the embeddings' output)", layer,
         built_layers());
  at::Tensor key_mask;  // [B, 1, 1, T] bool
  if (attention_mask.defined()) key_mask = attention_mask.to(at::kBool).view({input_ids.size(0), 1, 1, -1});
  at::Tensor h = embed(input_ids);
  if (all) all->push_back(h);
  for (int64_t i = 0; i < layer; ++i) {
    h = layers_[static_cast<size_t>(i)]->forward(h, key_mask);
    if (all) all->push_back(h);
  }
  return h;
}

std::vector<at::Tensor> EncoderImpl::hidden_states(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                                   std::optional<int64_t> up_to_layer) {
  std::vector<at::Tensor> all;
  run(input_ids, attention_mask, up_to_layer.value_or(built_layers()), &all);
  return all;
}

at::Tensor EncoderImpl::hidden_state(const at::Tensor& input_ids, const at::Tensor& attention_mask, int64_t layer) {
  return run(input_ids, attention_mask, layer, nullptr);
}

Encoder load_encoder(const std::filesystem::path& dir, const EncoderLoadOptions& options) {
  const EncoderConfig config = read_encoder_config(JsonConfig::load(dir / "config.json"));
  if (options.num_layers && (*options.num_layers < 0 || *options.num_layers > config.num_layers))
    fail("{}: layer {} is out of range: the model has {} layers (0 is the embeddings' output)",
         (dir / "config.json").string(), *options.num_layers, config.num_layers);
  Encoder encoder(config, at::TensorOptions().dtype(options.dtype), options.num_layers);
  const auto store = safetensors::TensorStore::open_model_dir(dir);
  // *ForMaskedLM checkpoints put the encoder under the model's base prefix.
  std::string prefix;
  for (const char* p : {"bert.", "roberta."})
    if (store.contains(std::string(p) + "embeddings.word_embeddings.weight")) prefix = p;
  torch::NoGradGuard no_grad;
  safetensors::NamedTensors wanted;
  std::vector<at::Tensor> params;
  for (auto& item : encoder->named_parameters()) {
    std::string name = prefix + item.key();
    // Checkpoints converted from TensorFlow name LayerNorm parameters gamma and beta.
    if (!store.contains(name) && name.ends_with("LayerNorm.weight")) {
      const std::string old = name.substr(0, name.size() - 6) + "gamma";
      if (store.contains(old)) name = old;
    } else if (!store.contains(name) && name.ends_with("LayerNorm.bias")) {
      const std::string old = name.substr(0, name.size() - 4) + "beta";
      if (store.contains(old)) name = old;
    }
    wanted.emplace_back(name, item.value());
    params.push_back(item.value());
  }
  const int64_t built = encoder->built_layers();
  auto ignore = [&](const std::string& name) {
    // Heads (pooler, cls.*, lm_head.*), buffers, and layers not built.
    if (!name.starts_with(prefix)) return true;
    const std::string rest = name.substr(prefix.size());
    if (rest == "embeddings.position_ids" || rest == "embeddings.token_type_ids") return true;
    if (!rest.starts_with("embeddings.") && !rest.starts_with("encoder.")) return true;
    if (rest.starts_with("encoder.layer.")) {
      const int64_t index = std::atoll(rest.c_str() + std::string("encoder.layer.").size());
      return index >= built && index < config.num_layers;
    }
    return false;
  };
  const auto stored = safetensors::match_tensors(store, wanted, ignore, dir.string() + ": weights");
  for (size_t i = 0; i < params.size(); ++i) params[i].set_data(stored[i].to(options.dtype));
  encoder->to(options.device);
  encoder->eval();
  return encoder;
}

}  // namespace finch::model

#include "finch/train/checkpointing.h"

#include "../test_util.h"
#include "finch/model/registry.h"

namespace finch::train {
namespace {

using LayerFn = model::CausalLMImpl::LayerFn;

// A residual block with dropout, standing in for a decoder layer.
struct Block {
  at::Tensor w1, w2;
  double dropout = 0.0;
  LayerFn fn() const {
    return [w1 = w1, w2 = w2, p = dropout](const at::Tensor& x) {
      return x + at::linear(at::dropout(at::tanh(at::linear(x, w1)), p, /*train=*/true), w2);
    };
  }
};

struct Net {
  at::Tensor embedding;
  std::vector<Block> blocks;
};

Net make_net(bool embedding_grad, bool w1_grad, double dropout) {
  at::manual_seed(7);
  Net net{at::randn({10, 6}).requires_grad_(embedding_grad), {}};
  for (int i = 0; i < 3; ++i)
    net.blocks.push_back({at::randn({8, 6}).mul_(0.3).requires_grad_(w1_grad), at::randn({6, 8}).mul_(0.3).requires_grad_(true),
                          dropout});
  return net;
}

// Forward (checkpointed or not) and backward from seed 11; the grads of every
// leaf and the next random draw (backward must leave the generator as the
// plain run does).
std::vector<at::Tensor> run(Net& net, bool checkpointed) {
  at::manual_seed(11);
  at::Tensor h = net.embedding.index_select(0, at::tensor({1, 4, 4, 9}));
  for (const auto& block : net.blocks) h = checkpointed ? checkpoint(block.fn(), h) : block.fn()(h);
  (h * at::arange(6)).pow(2).sum().backward();
  std::vector<at::Tensor> out{at::rand({4})};
  for (auto* t : {&net.embedding}) out.push_back(t->grad());
  for (const auto& b : net.blocks) {
    out.push_back(b.w1.grad());
    out.push_back(b.w2.grad());
  }
  return out;
}

void expect_same_grads(bool embedding_grad, bool w1_grad, double dropout) {
  Net plain = make_net(embedding_grad, w1_grad, dropout);
  Net checkpointed = make_net(embedding_grad, w1_grad, dropout);
  const auto want = run(plain, false);
  const auto got = run(checkpointed, true);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].defined(), got[i].defined()) << i;
    if (want[i].defined()) EXPECT_TRUE(at::equal(want[i], got[i])) << i;  // bit-identical
  }
  // The block's output projections always train: they must have grads.
  EXPECT_TRUE(got.back().defined());
}

TEST(Checkpointing, FullFineTuningGradsEqualPlain) { expect_same_grads(true, true, 0.0); }

TEST(Checkpointing, FrozenInputAndSomeFrozenWeightsStillTrain) {
  // As LoRA over a frozen embedding: the first layer's input does not require grad.
  expect_same_grads(false, false, 0.0);
}

TEST(Checkpointing, DropoutRecomputesTheSameMask) {
  expect_same_grads(true, true, 0.3);
  expect_same_grads(false, false, 0.3);
}

TEST(Checkpointing, KeepsOnlyTheInputAndRunsPlainWithoutGradMode) {
  Net net = make_net(true, true, 0.0);
  const at::Tensor x = at::randn({2, 6}).requires_grad_(true);
  int calls = 0;
  const LayerFn counted = [&, fn = net.blocks[0].fn()](const at::Tensor& h) {
    ++calls;
    return fn(h);
  };
  const at::Tensor y = checkpoint(counted, x);
  EXPECT_EQ(calls, 1);
  y.sum().backward();
  EXPECT_EQ(calls, 2) << "backward recomputes the layer";
  {
    at::NoGradGuard no_grad;
    EXPECT_FALSE(checkpoint(counted, x).requires_grad());
    EXPECT_EQ(calls, 3);
  }
}

TEST(Checkpointing, ModelGradsEqualPlain) {
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 16}, {"hidden_size", 8},
                            {"intermediate_size", 12}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                            {"num_key_value_heads", 1}};
  // frozen_embedding: the first layer's input does not require grad (LoRA's case).
  auto grads = [&](bool on, bool frozen_embedding) {
    at::manual_seed(3);
    model::CausalLM lm(model::read_decoder_config(JsonConfig("config.json", j)), at::TensorOptions());
    {
      at::NoGradGuard no_grad;
      for (auto& p : lm->parameters()) p.normal_(0, 0.3);
    }
    lm->model->embed_tokens->weight.requires_grad_(!frozen_embedding);
    set_activation_checkpointing(lm, on);
    const at::Tensor ids = at::tensor({3, 1, 4, 1, 5, 9, 2, 6}).view({2, 4});
    lm->forward(ids).logsumexp(-1).sum().backward();
    std::vector<at::Tensor> out;
    for (const auto& p : lm->parameters()) out.push_back(p.grad());
    return out;
  };
  for (const bool frozen : {false, true}) {
    const auto want = grads(false, frozen), got = grads(true, frozen);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].defined(), got[i].defined()) << i;
      if (want[i].defined()) EXPECT_TRUE(at::equal(want[i], got[i])) << i << (frozen ? " frozen embedding" : "");
    }
    EXPECT_EQ(got.front().defined(), !frozen);  // embed_tokens comes first
  }
}

}  // namespace
}  // namespace finch::train

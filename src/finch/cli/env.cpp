// finch env: what this build and this machine offer.
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <functional>

#include "finch/cli/commands.h"
#include "finch/git_revision.h"
#include "finch/version.h"

#ifdef FINCH_CUDA
#include <torch/csrc/cuda/nccl.h>
#endif

namespace finch::cli {
namespace {

// CUDA hooks throw when libtorch has no CUDA library loaded.
std::string cuda_query(const std::function<long()>& query) {
  try {
    const long v = query();
    return v > 0 ? std::to_string(v) : "none";
  } catch (const std::exception&) {
    return "none";
  }
}

void print_env() {
  const auto line = [](std::string_view key, const std::string& value) { fmt::print("{:<22} {}\n", key, value); };
  line("finch", fmt::format("{} ({})", FINCH_VERSION, FINCH_GIT_REVISION));
  line("libtorch", TORCH_VERSION);
  const auto& hooks = at::detail::getCUDAHooks();
  line("cuda runtime", cuda_query([&] { return hooks.versionCUDART(); }));
  line("cudnn", cuda_query([&] { return hooks.versionCuDNN(); }));
#ifdef FINCH_CUDA
  try {
    const uint64_t v = torch::cuda::nccl::version();  // major << 32 | minor << 16 | patch
    line("nccl", fmt::format("{}.{}.{}", v >> 32, (v >> 16) & 0xffff, v & 0xffff));
  } catch (const std::exception&) {
    line("nccl", "none");
  }
#else
  line("nccl", "none (built without CUDA)");
#endif
  const bool cuda = torch::cuda::is_available();
  line("cuda devices", std::to_string(cuda ? torch::cuda::device_count() : 0));
  line("threads", fmt::format("{} intra-op, {} inter-op", at::get_num_threads(), at::get_num_interop_threads()));
  std::vector<std::string> features;
#ifdef FINCH_CUDA
  features.push_back("cuda");
#endif
  if (at::hasMKL()) features.push_back("mkl");
  if (at::hasMKLDNN()) features.push_back("mkldnn");
  if (at::hasOpenMP()) features.push_back("openmp");
  line("features", fmt::format("{}", fmt::join(features, " ")));
}

}  // namespace

void add_env_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("env", "Print versions, devices, threads and compiled-in features");
  cmd->callback(print_env);
}

}  // namespace finch::cli

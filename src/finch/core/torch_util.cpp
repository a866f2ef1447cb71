#include "finch/core/torch_util.h"

#include <torch/cuda.h>

#include "finch/core/error.h"

namespace finch {

at::ScalarType parse_float_dtype(std::string_view name) {
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  if (name == "fp16" || name == "float16") return at::kHalf;
  fail("dtype '{}' is not one of fp32, bf16, fp16", name);
}

std::string float_dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "fp32";
    case at::kBFloat16: return "bf16";
    case at::kHalf: return "fp16";
    default: return c10::toString(dtype);
  }
}

at::Device parse_device(std::string_view name) {
  if (name == "cpu") return at::Device(at::kCPU);
  if (name == "cuda" || name.starts_with("cuda:")) {
    if (!torch::cuda::is_available())
      fail("device '{}' requested but no CUDA device is available (finch env shows what is)", name);
    try {
      return at::Device(std::string(name));
    } catch (const c10::Error&) {
    }
  }
  fail("device '{}' is not one of cpu, cuda, cuda:N", name);
}

}  // namespace finch

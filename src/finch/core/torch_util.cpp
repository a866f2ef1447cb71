#include "finch/core/torch_util.h"

#include <torch/cuda.h>
#ifdef FINCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

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
  if (name == "auto") return torch::cuda::is_available() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  if (name == "cpu") return at::Device(at::kCPU);
  if (name == "cuda" || name.starts_with("cuda:")) {
    if (!torch::cuda::is_available())
      fail("device '{}' requested but no CUDA device is available (finch env shows what is)", name);
    try {
      return at::Device(std::string(name));
    } catch (const c10::Error&) {
    }
  }
  fail("device '{}' is not one of auto, cpu, cuda, cuda:N", name);
}

int64_t peak_device_memory(at::Device device) {
#ifdef FINCH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  }
#endif
  (void)device;
  return 0;
}

void reset_peak_device_memory(at::Device device) {
#ifdef FINCH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
  (void)device;
}

}  // namespace finch

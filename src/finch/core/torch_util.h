// dtype and device names as users write them on the command line.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <string_view>

namespace finch {

// "fp32" | "bf16" | "fp16" (also "float32", "bfloat16", "float16").
at::ScalarType parse_float_dtype(std::string_view name);
std::string float_dtype_name(at::ScalarType dtype);
// "cpu" | "cuda" | "cuda:N" | "auto" (cuda:0 when a CUDA device is usable,
// else cpu); cuda is an error when no CUDA device is usable.
at::Device parse_device(std::string_view name);

// Peak bytes held by libtorch's CUDA caching allocator on `device` since the
// last reset (tensors, not the allocator's reserve); 0 on the CPU or in a
// build without CUDA. Benchmarks and the training progress line report it.
int64_t peak_device_memory(at::Device device);
void reset_peak_device_memory(at::Device device);

}  // namespace finch

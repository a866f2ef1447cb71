// ggml block formats -> float32, bit-exact with gguf-py's `gguf.quants.dequantize`.
//
// Each format stores blocks of `block_size` values; a block's scale (and
// minimum) are fp16, converted exactly to fp32, and every value is one fp32
// multiply (and one add or subtract) of its integer code, in gguf-py's order.
// This file is compiled with floating-point contraction off, so a*b+c is never
// fused into an fma that would round differently from numpy.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "finch/io/gguf.h"

namespace finch::gguf {

// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
bool can_dequantize(uint32_t type);

// Decodes `n` values (a whole number of blocks) of `type` from `src` into `dst`.
void dequantize_row(uint32_t type, const uint8_t* src, float* dst, uint64_t n);

// The tensor as a float32 CPU tensor in PyTorch order (dims reversed); an
// unsupported type is an error naming the type, the tensor and the file.
at::Tensor dequantize(const File& file, const TensorInfo& info);

float fp16_to_fp32(uint16_t h);

}  // namespace finch::gguf

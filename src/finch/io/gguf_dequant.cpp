#include "finch/io/gguf_dequant.h"

#include <ATen/Parallel.h>

#include <cstring>

#include "finch/core/error.h"

namespace finch::gguf {
namespace {

constexpr uint64_t QK = 32;    // elements per block of the simple formats
constexpr uint64_t QK_K = 256;  // elements per super-block of the K formats

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) { return u16(p) | (static_cast<uint32_t>(u16(p + 2)) << 16); }
float f16(const uint8_t* p) { return fp16_to_fp32(u16(p)); }

// Q4_0: fp16 d, 16 bytes of nibbles. Value j<16 is the low nibble of byte j,
// value j>=16 the high nibble of byte j-16; x = d * (q - 8).
void q4_0(const uint8_t* b, float* y) {
  const float d = f16(b);
  const uint8_t* qs = b + 2;
  for (uint64_t j = 0; j < QK / 2; ++j) {
    y[j] = d * static_cast<float>(static_cast<int>(qs[j] & 0x0F) - 8);
    y[j + QK / 2] = d * static_cast<float>(static_cast<int>(qs[j] >> 4) - 8);
  }
}

// Q4_1: fp16 d, fp16 m, nibbles as Q4_0; x = d * q + m.
void q4_1(const uint8_t* b, float* y) {
  const float d = f16(b), m = f16(b + 2);
  const uint8_t* qs = b + 4;
  for (uint64_t j = 0; j < QK / 2; ++j) {
    y[j] = d * static_cast<float>(qs[j] & 0x0F) + m;
    y[j + QK / 2] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

// Q5_0: fp16 d, u32 of fifth bits (bit j for value j), nibbles as Q4_0; x = d * (q - 16).
void q5_0(const uint8_t* b, float* y) {
  const float d = f16(b);
  const uint32_t qh = u32(b + 2);
  const uint8_t* qs = b + 6;
  for (uint64_t j = 0; j < QK; ++j) {
    const int low = j < QK / 2 ? (qs[j] & 0x0F) : (qs[j - QK / 2] >> 4);
    const int q = low | static_cast<int>(((qh >> j) & 1) << 4);
    y[j] = d * static_cast<float>(q - 16);
  }
}

// Q5_1: fp16 d, fp16 m, u32 fifth bits, nibbles; x = d * q + m.
void q5_1(const uint8_t* b, float* y) {
  const float d = f16(b), m = f16(b + 2);
  const uint32_t qh = u32(b + 4);
  const uint8_t* qs = b + 8;
  for (uint64_t j = 0; j < QK; ++j) {
    const int low = j < QK / 2 ? (qs[j] & 0x0F) : (qs[j - QK / 2] >> 4);
    const int q = low | static_cast<int>(((qh >> j) & 1) << 4);
    y[j] = d * static_cast<float>(q) + m;
  }
}

// Q8_0: fp16 d, 32 int8; x = q * d.
void q8_0(const uint8_t* b, float* y) {
  const float d = f16(b);
  for (uint64_t j = 0; j < QK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// The 12 packed bytes of 6-bit scales and mins of Q4_K / Q5_K, 8 sub-blocks:
// bytes 0-3 hold scale 0-3 (low 6 bits) and the top 2 bits of scale 4-7,
// bytes 4-7 the same for the mins, bytes 8-11 the low 4 bits of scale 4-7
// (low nibble) and of min 4-7 (high nibble).
void scale_min_k4(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int i = 0; i < 4; ++i) {
    sc[i] = s[i] & 0x3F;
    mn[i] = s[4 + i] & 0x3F;
    sc[4 + i] = static_cast<uint8_t>((s[8 + i] & 0x0F) | ((s[i] >> 2) & 0x30));
    mn[4 + i] = static_cast<uint8_t>((s[8 + i] >> 4) | ((s[4 + i] >> 2) & 0x30));
  }
}

// Q4_K: fp16 d, fp16 dmin, 12 scale bytes, 128 bytes of nibbles. Sub-block s
// (32 values) takes the low (s even) or high (s odd) nibbles of bytes
// 32*(s/2) .. +32; x = (d*sc[s]) * q - (dmin*mn[s]).
void q4_k(const uint8_t* b, float* y) {
  const float d = f16(b), dmin = f16(b + 2);
  uint8_t sc[8], mn[8];
  scale_min_k4(b + 4, sc, mn);
  const uint8_t* qs = b + 16;
  for (int s = 0; s < 8; ++s) {
    const float ds = d * static_cast<float>(sc[s]);
    const float ms = dmin * static_cast<float>(mn[s]);
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = (s % 2) * 4;
    for (int l = 0; l < 32; ++l) y[32 * s + l] = ds * static_cast<float>((q[l] >> shift) & 0x0F) - ms;
  }
}

// Q5_K: as Q4_K with 32 bytes of fifth bits before the nibbles: value l of
// sub-block s takes bit s of byte l.
void q5_k(const uint8_t* b, float* y) {
  const float d = f16(b), dmin = f16(b + 2);
  uint8_t sc[8], mn[8];
  scale_min_k4(b + 4, sc, mn);
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + 48;
  for (int s = 0; s < 8; ++s) {
    const float ds = d * static_cast<float>(sc[s]);
    const float ms = dmin * static_cast<float>(mn[s]);
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = (s % 2) * 4;
    for (int l = 0; l < 32; ++l) {
      const int v = ((q[l] >> shift) & 0x0F) | (((qh[l] >> s) & 1) << 4);
      y[32 * s + l] = ds * static_cast<float>(v) - ms;
    }
  }
}

// Q6_K: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales,
// fp16 d. Value f (0..255) in half h = f/128: low 4 bits from nibble
// (f%128)/64 of ql[64h + f%64], high 2 bits from pair (f%128)/32 of
// qh[32h + f%32]; x = (d*scale[f/16]) * (q - 32).
void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16(b + 208);
  for (int f = 0; f < 256; ++f) {
    const int h = f / 128, r = f % 128;
    const int low = (ql[64 * h + r % 64] >> (4 * (r / 64))) & 0x0F;
    const int high = (qh[32 * h + r % 32] >> (2 * (r / 32))) & 0x03;
    const float ds = d * static_cast<float>(scales[f / 16]);
    y[f] = ds * static_cast<float>((low | (high << 4)) - 32);
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

struct Decoder {
  uint32_t type;
  BlockFn fn;
};

constexpr Decoder kBlockDecoders[] = {
    {ggml::Q4_0, q4_0}, {ggml::Q4_1, q4_1}, {ggml::Q5_0, q5_0}, {ggml::Q5_1, q5_1}, {ggml::Q8_0, q8_0},
    {ggml::Q4_K, q4_k}, {ggml::Q5_K, q5_k}, {ggml::Q6_K, q6_k},
};

BlockFn block_decoder(uint32_t type) {
  for (const auto& d : kBlockDecoders)
    if (d.type == type) return d.fn;
  return nullptr;
}

}  // namespace

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000 | (mantissa << 13);  // inf, or nan with its payload kept
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((mantissa & 0x3FF) << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

bool can_dequantize(uint32_t type) {
  return type == ggml::F32 || type == ggml::F16 || type == ggml::BF16 || block_decoder(type) != nullptr;
}

void dequantize_row(uint32_t type, const uint8_t* src, float* dst, uint64_t n) {
  if (type == ggml::F32) {
    std::memcpy(dst, src, n * 4);
  } else if (type == ggml::F16) {
    for (uint64_t i = 0; i < n; ++i) dst[i] = f16(src + 2 * i);
  } else if (type == ggml::BF16) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint32_t bits = static_cast<uint32_t>(u16(src + 2 * i)) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
  } else {
    const BlockFn fn = block_decoder(type);
    const GgmlType* t = find_ggml_type(type);
    FINCH_CHECK(fn && t && n % t->block_size == 0, "cannot decode {} values of {}", n, ggml_type_name(type));
    for (uint64_t i = 0; i < n / t->block_size; ++i) fn(src + i * t->type_size, dst + i * t->block_size);
  }
}

at::Tensor dequantize(const File& file, const TensorInfo& info) {
  if (!can_dequantize(info.type))
    fail("{}: unsupported ggml type {} for tensor '{}' (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
         "Q4_K, Q5_K, Q6_K)",
         file.path().string(), ggml_type_name(info.type), info.name);
  const GgmlType* t = find_ggml_type(info.type);
  at::Tensor out = at::empty(info.torch_shape(), at::kFloat);
  const uint8_t* src = file.tensor_data(info);
  float* dst = out.data_ptr<float>();
  // Blocks are independent: decode in parallel chunks of whole blocks.
  const int64_t blocks = static_cast<int64_t>(info.n_elements / t->block_size);
  at::parallel_for(0, blocks, 1024, [&](int64_t begin, int64_t end) {
    dequantize_row(info.type, src + begin * t->type_size, dst + begin * t->block_size,
                   static_cast<uint64_t>(end - begin) * t->block_size);
  });
  return out;
}

}  // namespace finch::gguf

// libFuzzer target for the safetensors header parser: any byte string must
// either parse or raise finch::Error; a crash, hang, sanitizer report or any
// other exception (a failed FINCH_CHECK) is a bug.
#include <cstddef>
#include <cstdint>

#include "finch/core/error.h"
#include "finch/io/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header = finch::safetensors::parse_header("fuzz.safetensors", data, size);
    uint64_t end = header.data_start;
    for (const auto& t : header.tensors) end = header.data_start + t.end;
    if (end > size) __builtin_trap();  // validated offsets must lie inside the input
  } catch (const finch::Error&) {
  }
  return 0;
}

// libFuzzer target for the GGUF reader: any byte string must either parse or
// raise finch::Error; a crash, hang, sanitizer report or any other exception
// (a failed FINCH_CHECK) is a bug. Every tensor a parse accepts must lie
// inside the input: its first and last bytes are read (ASan reports a read
// past the buffer).
#include <cstddef>
#include <cstdint>

#include "finch/core/error.h"
#include "finch/io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const finch::gguf::File file("fuzz.gguf", data, size);
    volatile uint8_t sink = 0;
    for (const auto& t : file.tensors()) {
      const uint8_t* p = file.tensor_data(t);
      if (t.n_bytes == 0 || p < data || p + t.n_bytes > data + size) __builtin_trap();
      sink = sink + p[0] + p[t.n_bytes - 1];
    }
    for (const auto& [key, value] : file.metadata()) sink = sink + static_cast<uint8_t>(key.size());
  } catch (const finch::Error&) {
  }
  return 0;
}

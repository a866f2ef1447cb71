// Render limits of the Jinja interpreter.
#pragma once

#include <cstddef>

namespace finch::tokenizer::jinja {

// Bounds that keep a hostile or broken template from hanging or exhausting
// memory (jinja2 itself has Python's recursion limit and range()'s 100000 cap).
struct Limits {
  std::size_t max_output_bytes = 64u << 20;       // also caps any one string or list
  std::size_t max_loop_iterations = 5'000'000;    // summed over all loops of a render
  int max_call_depth = 100;                       // macro calls nested in each other
};

}  // namespace finch::tokenizer::jinja

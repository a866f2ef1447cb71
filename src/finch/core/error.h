// Errors. A user mistake or bad input is a finch::Error: one line naming the
// file, key or row and what was expected. A broken invariant is FINCH_CHECK.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace finch {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] void check_failed(const char* file, int line, const char* condition,
                               const std::string& message);

}  // namespace finch

#define FINCH_CHECK(condition, ...)                                                      \
  do {                                                                                   \
    if (!(condition))                                                                    \
      ::finch::check_failed(__FILE__, __LINE__, #condition, ::fmt::format(__VA_ARGS__)); \
  } while (0)

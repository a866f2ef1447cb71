// Progress and diagnostics go to stderr, so stdout stays machine-readable.
#pragma once

#include <fmt/format.h>

#include <cstdio>

namespace finch {

template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "finch: {}\n", fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void log_warning(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "finch: warning: {}\n", fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace finch

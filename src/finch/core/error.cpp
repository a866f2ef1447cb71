#include "finch/core/error.h"

namespace finch {

void check_failed(const char* file, int line, const char* condition, const std::string& message) {
  throw std::logic_error(
      fmt::format("internal error at {}:{}: check '{}' failed: {}", file, line, condition, message));
}

}  // namespace finch

// finch tokenize (placeholder until the tokenizer lands).
#include "finch/cli/commands.h"

namespace finch::cli {

void add_tokenize_command(CLI::App& app) { (void)app; }

}  // namespace finch::cli

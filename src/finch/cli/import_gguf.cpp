// finch import-gguf: GGUF file -> HF model directory (placeholder until the GGUF importer lands).
#include "finch/cli/commands.h"

namespace finch::cli {

void add_import_gguf_command(CLI::App& app) { (void)app; }

}  // namespace finch::cli

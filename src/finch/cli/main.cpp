// finch: fine-tune large language models in one native program.
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>

#include "finch/cli/commands.h"
#include "finch/core/error.h"

#include "finch/version.h"

int main(int argc, char** argv) {
  CLI::App app{"finch: fine-tune LLMs (LoRA or full) with Hugging Face parity, in one native program."};
  app.set_version_flag("--version", std::string("finch ") + FINCH_VERSION);
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for tensor math (default: libtorch's, one per core)")
      ->check(CLI::NonNegativeNumber);
  app.parse_complete_callback([&] {
    if (threads > 0) at::set_num_threads(threads);
  });
  finch::cli::add_env_command(app);
  finch::cli::add_forward_command(app);
  finch::cli::add_tokenize_command(app);
  finch::cli::add_import_gguf_command(app);
  finch::cli::add_data_command(app);
  finch::cli::add_config_command(app);
  finch::cli::add_download_command(app);
  finch::cli::add_train_command(app);
  finch::cli::add_generate_command(app);
  finch::cli::add_bertscore_command(app);
  finch::cli::add_export_command(app);
  finch::cli::add_test_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const finch::Error& e) {
    fmt::print(stderr, "finch: error: {}\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "finch: error: {}\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "finch: {}\n", e.what());
    return 2;
  }
  return 0;
}

// Every subcommand, one file each: declare options, call one library function.
#pragma once

#include <CLI/CLI.hpp>

namespace finch::cli {

void add_env_command(CLI::App& app);
void add_forward_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_import_gguf_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_config_command(CLI::App& app);
void add_download_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_bertscore_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_test_command(CLI::App& app);

}  // namespace finch::cli

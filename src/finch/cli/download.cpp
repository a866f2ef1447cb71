// finch download: Hub repo files -> the Hugging Face cache; prints the local path, like `hf download`.
#include "finch/cli/commands.h"
#include "finch/data/source.h"
#include "finch/io/hub.h"

namespace finch::cli {
namespace {

struct DownloadOptions {
  std::string repo_id;
  std::vector<std::string> files;
  std::string repo_type = "model";
  std::string revision = "main";
  bool dataset_files = false;
  std::string config;
  std::string split = "train";
};

void run_download(const DownloadOptions& o) {
  if (o.dataset_files) {
    auto resolved = data::resolve_dataset_files(o.repo_id, o.config, o.split, o.revision);
    fmt::print(stderr, "finch: {}\n", resolved.description);
    for (const auto& f : resolved.files) fmt::print("{}\n", f.string());
    return;
  }
  io::hub::Client client;
  io::hub::Repo repo{o.repo_id, io::hub::parse_repo_type(o.repo_type)};
  if (o.files.size() == 1) {
    fmt::print("{}\n", client.download_file(repo, o.files[0], o.revision).string());
  } else {
    fmt::print("{}\n", client.download_snapshot(repo, o.revision, o.files).string());
  }
}

}  // namespace

void add_download_command(CLI::App& app) {
  auto options = std::make_shared<DownloadOptions>();
  auto* cmd = app.add_subcommand("download", "download Hub repo files into the Hugging Face cache; print the path");
  cmd->add_option("REPO_ID", options->repo_id, "the repo (org/name); with --dataset-files, a dataset name or local path")
      ->required();
  cmd->add_option("FILES", options->files, "files to download (default: the whole repo)");
  cmd->add_option("--repo-type", options->repo_type, "model or dataset")->check(CLI::IsMember({"model", "dataset"}));
  cmd->add_option("--revision", options->revision, "branch, tag, ref or commit (default: main)");
  cmd->add_flag("--dataset-files", options->dataset_files,
                "resolve a dataset split to local files (parquet conversion, else the repo's data files) and print "
                "one per line");
  cmd->add_option("--config", options->config, "with --dataset-files: the dataset config (default: default)");
  cmd->add_option("--split", options->split, "with --dataset-files: the split (default: train)");
  cmd->footer(
      "One file prints its path; several files or none (the whole repo) print the snapshot folder. Reads "
      "HF_ENDPOINT, HF_TOKEN (else the token file under HF_HOME), HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE as "
      "huggingface_hub does, and shares its cache. See docs/download.md.");
  cmd->callback([options] { run_download(*options); });
}

}  // namespace finch::cli

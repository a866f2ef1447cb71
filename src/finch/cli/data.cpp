// finch data prepare: a Hugging Face or local dataset -> templated
// train/validation/test JSONL (see data/prepare.h); finch data synth: the
// built-in default dataset (see data/synth.h).
#include <memory>

#include "finch/cli/commands.h"
#include "finch/cli/settings.h"
#include "finch/core/log.h"
#include "finch/data/prepare.h"
#include "finch/data/synth.h"
#include "finch/io/hub.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::cli {

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Prepare datasets, or write the built-in default one");
  data->require_subcommand(1);
  auto* prepare = data->add_subcommand(
      "prepare",
      "Download or read a dataset, build each row's input and output from the templates (or the chat template), "
      "and write a seeded train/validation/test split as JSONL under "
      "{datasets_dir}/{dataset_name}/{config}/train=T%-val=V%-test=S%/. A second run reuses it.");
  auto settings = std::make_shared<Settings>();
  auto flags = std::make_shared<SettingsFlags>(*prepare, *settings);
  auto force = std::make_shared<bool>(false);
  prepare->add_flag("--force", *force, "prepare again even if the folder is complete (.data_ready)");
  auto tokenize = std::make_shared<bool>(false);
  prepare->add_flag("--tokenize", *tokenize,
                    "also tokenize the splits with model.hf_model_id's tokenizer into their token caches "
                    "(otherwise training does it on first use)");
  prepare->callback([settings, flags, force, tokenize] {
    flags->resolve();
    log_info("settings:\n{}", settings->registry.table());
    data::PrepareOptions options;
    options.force = *force;
    options.config_yaml = settings->registry.to_yaml();
    std::unique_ptr<tokenizer::PretrainedTokenizer> tok;
    std::filesystem::path model_dir;
    if (settings->data.format == "chat" || *tokenize) {
      model_dir = io::hub::model_dir(settings->model.hf_model_id, /*tokenizer_only=*/true);
      tok = std::make_unique<tokenizer::PretrainedTokenizer>(tokenizer::PretrainedTokenizer::from_dir(model_dir));
      if (settings->data.format == "chat") {
        options.chat = tok.get();
        options.chat_model = settings->model.hf_model_id;
      }
    }
    const auto r = data::prepare_dataset(settings->data, options);
    if (r.reused)
      log_info("already prepared (--force to redo): {}", r.dir.string());
    else
      log_info("prepared {} rows: {} train, {} validation, {} test{}", r.rows, r.train, r.validation, r.test,
               r.bad_rows ? fmt::format(", {} bad rows skipped", r.bad_rows) : "");
    if (*tokenize) {
      for (const auto& t : data::tokenize_prepared(r.dir, settings->data, *tok, model_dir))
        log_info("{}: {} rows, {} tokens{}{}", t.split, t.rows, t.tokens,
                 t.dropped ? fmt::format(", {} dropped (no output token within max_seq_length)", t.dropped) : "",
                 t.reused ? " (cached)" : "");
    }
    fmt::print("{}\n", r.dir.string());
  });

  auto* synth = data->add_subcommand(
      "synth",
      "Write the built-in default dataset: deterministic instruction/input/output rows in four task families "
      "(unit conversion, date reformatting, field extraction, arithmetic word problems), interleaved, as JSONL "
      "that `finch data prepare --hfdc_dataset_name FILE` takes.");
  auto out = std::make_shared<std::string>();
  auto options = std::make_shared<data::SynthOptions>();
  synth->add_option("--out", *out, "the JSONL file to write (replaced atomically)")->required();
  synth->add_option("--rows", options->rows, "number of rows; row i is family i % 4")->capture_default_str();
  synth->add_option("--seed", options->seed, "generator seed; the same seed and rows give the same bytes")
      ->capture_default_str();
  synth->callback([out, options] {
    const auto s = data::write_synth_jsonl(*out, *options);
    std::string families;
    for (int f = 0; f < data::kSynthFamilies; ++f)
      families += fmt::format("{}{} {}", f ? ", " : "", s.per_family[f], data::synth_family_name(f));
    fmt::print("wrote {} rows ({}) to {}\n", s.rows, families, *out);
  });
}

}  // namespace finch::cli

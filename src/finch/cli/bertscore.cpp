// finch bertscore: candidates + references (text files, a sentence a line) -> P/R/F1.
#include "finch/cli/commands.h"
#include "finch/core/torch_util.h"
#include "finch/eval/bertscore_run.h"

namespace finch::cli {
namespace {

struct BertScoreOptions {
  eval::BertScoreSettings settings;
  eval::BertScoreFiles files;
  int64_t num_layers = -1;
  std::string device = "cpu";
};

}  // namespace

void add_bertscore_command(CLI::App& app) {
  auto o = std::make_shared<BertScoreOptions>();
  auto* cmd = app.add_subcommand("bertscore", "BERTScore of candidates against references (bert-score's numbers)");
  cmd->add_option("--model", o->settings.model, "HF encoder directory or Hub id (BERT, RoBERTa, XLM-RoBERTa)")
      ->capture_default_str();
  cmd->add_option("--cands", o->files.cands, "candidates, one a line")->required();
  cmd->add_option("--refs", o->files.refs, "references, one a line (as many as candidates)")->required();
  cmd->add_option("--num-layers", o->num_layers,
                  "hidden state to score (0 = embeddings); default: bert-score's for known Hub ids (roberta-large: 17)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--idf", o->settings.idf, "weight tokens by idf over the references");
  cmd->add_option("--baseline", o->settings.baseline, "bert-score baseline file (LAYER,P,R,F rows) to rescale with");
  cmd->add_option("--batch-size", o->settings.batch_size, "sentences per forward pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--output", o->files.output, "write per-pair scores here as JSON Lines {precision, recall, f1}");
  cmd->footer("Prints the means as bert-score's CLI does: '<model>_L<n>_<idf> P: ... R: ... F1: ...'.");
  cmd->callback([o] {
    if (o->num_layers >= 0) o->settings.num_layers = o->num_layers;
    eval::run_bertscore(o->settings, parse_device(o->device), o->files);
  });
}

}  // namespace finch::cli

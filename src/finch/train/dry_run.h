// `finch train --dry-run`: what a run would train and hold, from config.json
// alone (no weights, no data): the parameter counts and the memory estimate
// per GPU (train/estimate.h).
#pragma once

#include <string>

#include "finch/train/run.h"

namespace finch::train {

// The report printed after the resolved settings: model, method, PEFT's
// "trainable params: ... || all params: ... || trainable%: ..." line, and the
// memory breakdown with its total in GiB.
std::string dry_run_report(const RunSettings& settings);

}  // namespace finch::train

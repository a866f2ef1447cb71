#include "finch/train/run.h"


#include <torch/cuda.h>

#include <csignal>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/data/prepare.h"
#include "finch/data/samples.h"
#include "finch/dist/world.h"
#include "finch/io/checkpoint_dir.h"
#include "finch/io/hub.h"
#include "finch/model/load.h"
#include "finch/tokenizer/tokenizer_config.h"
#include "finch/train/callbacks.h"
#include "finch/train/checkpointing.h"
#include "finch/train/trainer.h"

namespace finch::train {
namespace fs = std::filesystem;

namespace {

// The first SIGTERM/SIGINT asks for a checkpoint and a clean stop; a second one kills as usual.
extern "C" void on_stop_signal(int sig) {
  Trainer::signal_flag().store(sig);
  std::signal(sig, SIG_DFL);
}

}  // namespace

fs::path run_dir(const RunSettings& s) {
  if (!s.train.output_dir.empty()) return s.train.output_dir;
  return io::default_run_dir(s.model.hf_model_id);
}

void validate_run(const RunSettings& s, bool dry_run) {
  s.data.validate();
  s.train.validate();
  if (!s.train.full_ft) s.lora.validate();
  s.parallel.validate();
  // The sharded engine gathers a layer again for its backward through the
  // checkpointing recompute; a kept forward graph would hold every layer's
  // gathered weights.
  if (!dry_run && s.parallel.strategy == "fsdp" && !s.train.activation_checkpointing)
    fail("parallel.strategy: fsdp needs train.activation_checkpointing: true");
}

void run_training(const RunSettings& s) {
  validate_run(s);
  // The ranks first: a half-set launch environment or a missing peer fails
  // before minutes of loading.
  const dist::LaunchEnv env = dist::launch_env();
  at::Device device = parse_device(s.train.device);
  // One GPU per rank on a node: LOCAL_RANK's, unless the settings name an index.
  if (device.is_cuda() && env.distributed() && (s.train.device == "auto" || s.train.device == "cuda"))
    device = at::Device(at::kCUDA, static_cast<at::DeviceIndex>(env.local_rank % std::max<int64_t>(1, static_cast<int64_t>(torch::cuda::device_count()))));
  const auto world = dist::World::init(env, device);
  if (world->distributed())
    log_info("rank {} of {} (local rank {}, {}), {}: {}{}", world->rank(), world->size(), world->local_rank(),
             env.launcher, world->backend_name(), s.parallel.strategy == "fsdp" ? "fully sharded" : "data parallel",
             s.parallel.strategy == "none" ? " (parallel.strategy none with several ranks)" : "");
  else if (s.parallel.strategy == "ddp")
    log_info("parallel.strategy ddp in a single process: nothing to spread (start ranks with torchrun, srun or mpirun)");

  // Downloads, dataset preparation and token caches: rank 0 first, then the
  // others find them made (one barrier each side).
  if (!world->is_main()) world->barrier();
  const fs::path model_dir = io::hub::model_dir(s.model.hf_model_id);
  const auto tokenizer = tokenizer::PretrainedTokenizer::from_dir(model_dir);

  // Full fine-tuning keeps fp32 master weights (bf16 autocast computes on a
  // GPU); LoRA's frozen base is bf16 on a GPU, its adapters fp32.
  model::LoadOptions load;
  // Fully sharded: on the CPU, mapped from the model's files (no copy where the
  // dtype is the stored one), so that each rank moves only its shards to its GPU.
  load.device = s.parallel.strategy == "fsdp" ? at::Device(at::kCPU) : device;
  const bool bf16 = device.is_cuda() && s.train.precision != "fp32";
  load.dtype = bf16 && !s.train.full_ft ? at::kBFloat16 : at::kFloat;
  model::CausalLM model = model::load_causal_lm(model_dir, load);
  if (!s.train.full_ft) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(s.train.seed));
    const auto adapted = peft::inject_lora(model, s.lora, generator);
    if (world->is_main()) log_info("LoRA r={} alpha={} on {} linear layers", s.lora.rank, s.lora.alpha, adapted.size());
  }
  fs::path data_dir = s.train.data_dir;
  if (data_dir.empty()) {
    data::PrepareOptions prepare;
    prepare.config_yaml = s.config_yaml;
    if (s.data.format == "chat") {
      prepare.chat = &tokenizer;
      prepare.chat_model = s.model.hf_model_id;
    }
    data_dir = data::prepare_dataset(s.data, prepare).dir;
  }
  if (!fs::exists(data_dir / "training.jsonl"))
    fail("train.data_dir: {} has no training.jsonl (run finch data prepare, or point data_dir at a prepared folder)",
         data_dir.string());
  TrainerData data;
  data.train = data::load_samples(data_dir / "training.jsonl", s.data, tokenizer, model_dir);
  if (data.train->size() == 0) fail("{}: no training samples", (data_dir / "training.jsonl").string());
  if (s.train.eval_steps > 0) {
    const fs::path validation = data_dir / "validation.jsonl";
    if (fs::exists(validation)) data.eval = data::load_samples(validation, s.data, tokenizer, model_dir);
    if (!data.eval || data.eval->size() == 0) {
      if (s.train.early_stopping_patience > 0)
        fail("train.early_stopping_patience: needs validation samples, and {} has none", validation.string());
      log_warning("{}: no validation samples; evaluation is off", validation.string());
      data.eval = nullptr;
    }
  }
  data.collate = {s.data.packing, data::pad_token_id(tokenizer)};
  if (world->is_main()) world->barrier();
  if (world->is_main())
    log_info("data: {} training samples, {} validation samples from {}", data.train->size(),
             data.eval ? data.eval->size() : 0, data_dir.string());

  set_activation_checkpointing(model, s.train.activation_checkpointing);

  const fs::path out = run_dir(s);
  fs::create_directories(out);
  if (world->is_main()) write_file_atomic(out / "config.yaml", s.config_yaml);
  Trainer trainer(s.train, s.lora, model, data, {s.model.hf_model_id, model_dir}, out, world,
                  s.parallel.strategy == "fsdp", s.parallel.offload_params);
  add_default_callbacks(trainer);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  trainer.train();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace finch::train

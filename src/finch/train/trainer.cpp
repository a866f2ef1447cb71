#include "finch/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cmath>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/dist/checkpoint.h"
#include "finch/dist/data_parallel.h"
#include "finch/dist/fully_sharded.h"
#include "finch/train/fully_sharded.h"
#include "finch/io/json_config.h"
#include "finch/io/safetensors.h"
#include "finch/io/checkpoint_dir.h"
#include "finch/io/sharded_state.h"
#include "finch/train/rng_state.h"

namespace finch::train {
namespace fs = std::filesystem;

namespace {

// bf16 autocast on CUDA for the forward pass (torch.autocast("cuda", torch.bfloat16)).
class Autocast {
 public:
  explicit Autocast(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
  }

 private:
  bool on_;
};


data::Batch to_device(data::Batch b, at::Device device) {
  b.input_ids = b.input_ids.to(device);
  b.labels = b.labels.to(device);
  b.position_ids = b.position_ids.to(device);
  if (b.attention_mask.defined()) b.attention_mask = b.attention_mask.to(device);
  return b;
}

int64_t input_tokens(const data::Batch& b) {
  return b.attention_mask.defined() ? b.attention_mask.sum().item<int64_t>() : b.input_ids.numel();
}

const char* const kModelFiles[] = {"config.json",          "generation_config.json", "tokenizer.json",
                                   "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"};

}  // namespace

nlohmann::json TrainerState::to_json() const {
  nlohmann::json j = {{"global_step", global_step},
                      {"best_metric", best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr)},
                      {"best_step", best_step},
                      {"best_model_checkpoint", best_checkpoint.empty() ? nlohmann::json(nullptr)
                                                                         : nlohmann::json(best_checkpoint)},
                      {"evals_without_improvement", evals_without_improvement},
                      {"skipped_steps", skipped_steps},
                      {"nonfinite_in_row", nonfinite_in_row},
                      {"tokens_seen", tokens_seen},
                      {"log_history", log_history},
                      {"callbacks", callbacks}};
  return j;
}

TrainerState TrainerState::from_json(const nlohmann::json& j, const std::string& where) {
  TrainerState s;
  try {
    s.global_step = j.at("global_step").get<int64_t>();
    if (!j.at("best_metric").is_null()) s.best_metric = j.at("best_metric").get<double>();
    s.best_step = j.at("best_step").get<int64_t>();
    if (!j.at("best_model_checkpoint").is_null()) s.best_checkpoint = j.at("best_model_checkpoint").get<std::string>();
    s.evals_without_improvement = j.at("evals_without_improvement").get<int64_t>();
    s.skipped_steps = j.at("skipped_steps").get<int64_t>();
    s.nonfinite_in_row = j.at("nonfinite_in_row").get<int64_t>();
    s.tokens_seen = j.at("tokens_seen").get<int64_t>();
    s.log_history = j.at("log_history");
    s.callbacks = j.at("callbacks");
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a finch trainer state: {}", where, e.what());
  }
  return s;
}

std::atomic<int>& Trainer::signal_flag() {
  static std::atomic<int> flag{0};
  return flag;
}

Trainer::Trainer(TrainSettings settings, peft::LoraSettings lora, model::CausalLM model, TrainerData data,
                 ModelSource source, fs::path output_dir, std::shared_ptr<const dist::World> world,
                 bool fully_sharded, bool offload_params)
    : settings_(std::move(settings)),
      lora_(std::move(lora)),
      model_(std::move(model)),
      data_(std::move(data)),
      source_(std::move(source)),
      output_dir_(std::move(output_dir)),
      device_(at::kCPU),
      world_(world ? std::move(world) : std::make_shared<const dist::World>()) {
  settings_.validate();
  if (!data_.train || data_.train->size() == 0) fail("no training samples: the training split is empty");
  // Fully sharded: the model may sit on the CPU (mapped from its files); the shards go to the world's device.
  device_ = fully_sharded ? world_->device() : model_->parameters().front().device();
  bf16_ = device_.is_cuda() && settings_.precision != "fp32";
  if (settings_.precision == "bf16" && !device_.is_cuda())
    fail("train.precision: bf16 autocast needs a GPU; this run is on the CPU (use fp32 or auto)");
  if (fully_sharded) {
    sharded_ = shard_model(model_, world_, offload_params);
    model_->to(device_);  // the buffers (the parameters are empty until gathered, on device_)
    root_unit_ = sharded_->num_units() - 1;
    // The optimizer steps the shards: each rank updates its 1/N of every parameter.
    for (auto& [name, shard] : sharded_->trainable_shards()) trainable_.push_back({name, shard});
  } else {
    for (const auto& p : model_->named_parameters())
      if (p.value().requires_grad()) trainable_.push_back({p.key(), p.value()});
  }
  if (trainable_.empty()) fail("nothing to train: every parameter of the model is frozen");
  AdamWOptions adam;
  adam.lr = settings_.learning_rate;
  adam.beta1 = settings_.adam_beta1;
  adam.beta2 = settings_.adam_beta2;
  adam.eps = settings_.adam_epsilon;
  adam.weight_decay = settings_.weight_decay;
  optimizer_ = std::make_unique<AdamW>(trainable_, adam);
  schedule_ = Schedule{settings_.lr_scheduler_type, settings_.warmup_steps, settings_.max_steps};
  data::SamplerOptions sampler;
  sampler.batch_size = settings_.per_device_train_batch_size;
  sampler.shuffle = data_.shuffle;
  sampler.seed = static_cast<uint64_t>(settings_.seed);
  sampler.rank = world_->rank();
  sampler.world_size = world_->size();
  loader_ = std::make_unique<data::Loader>(data_.train, sampler, data_.collate);
  if (world_->distributed() && !sharded_) {
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (const auto& p : trainable_) params.emplace_back(p.name, p.tensor);
    grad_sync_ = std::make_unique<dist::GradientSync>(world_, std::move(params));
  }
}

Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<Callback> callback) { callbacks_.push_back(std::move(callback)); }

void Trainer::request_stop(const std::string& reason) {
  if (stop_reason_.empty()) stop_reason_ = reason;
}

StepLog Trainer::train_step() {
  const auto start = std::chrono::steady_clock::now();
  model_->train();
  StepLog log;
  std::vector<data::Batch> micro;
  for (int64_t i = 0; i < settings_.gradient_accumulation_steps; ++i) {
    micro.push_back(loader_->next());
    log.targets += micro.back().num_targets;
    log.tokens += input_tokens(micro.back());
  }
  if (world_->distributed()) {
    // The whole global batch's counts: each rank's loss sum is divided by all of its targets.
    const auto sums = world_->sum({static_cast<double>(log.targets), static_cast<double>(log.tokens)});
    log.targets = static_cast<int64_t>(sums[0]);
    log.tokens = static_cast<int64_t>(sums[1]);
  }
  // The root unit stays gathered from the first forward to the last backward.
  if (sharded_) sharded_->gather(root_unit_);
  at::Tensor total = at::zeros({}, at::TensorOptions(at::kFloat).device(device_));
  const double denominator = static_cast<double>(std::max<int64_t>(log.targets, 1));
  for (size_t i = 0; i < micro.size(); ++i) {
    const data::Batch b = to_device(micro[i], device_);
    // Only the last backward's gradients are final (DDP's no_sync before it).
    if (grad_sync_ && i + 1 == micro.size()) grad_sync_->arm();
    at::Tensor loss;
    {
      Autocast autocast(bf16_);
      const at::Tensor logits = model_->forward(b.input_ids, b.attention_mask, b.position_ids);
      loss = data::causal_lm_loss_sum(logits, b.labels) / denominator;
    }
    loss.backward();
    total += loss.detach();
  }
  if (grad_sync_) grad_sync_->finish();
  if (sharded_) {
    sharded_->reduce_gradients(root_unit_);
    sharded_->release(root_unit_);
  }
  log.loss = total.item<double>();
  // Whether to stop after this step: the same answer on every rank.
  stop_signal_ = signal_flag().load();
  if (world_->distributed()) {
    const auto sums = world_->sum({log.loss, stop_signal_ != 0 ? 1.0 : 0.0});
    log.loss = sums[0];  // the partial means add up to the global batch's mean
    if (stop_signal_ == 0 && sums[1] > 0) stop_signal_ = SIGTERM;
  }
  // (Offloaded shards' squared norms are summed on the CPU; the collective runs where the world's tensors live.)
  log.grad_norm = sharded_ ? clip_grad_norm(trainable_, settings_.max_grad_norm,
                                             [this](at::Tensor& t) {
                                               at::Tensor here = t.to(world_->device());
                                               world_->all_reduce(here);
                                               t.copy_(here);
                                             })
                           : clip_grad_norm(trainable_, settings_.max_grad_norm);
  log.learning_rate = settings_.learning_rate * schedule_.multiplier(state_.global_step);
  if (std::isfinite(log.loss) && std::isfinite(log.grad_norm)) {
    optimizer_->step(log.learning_rate);
    state_.nonfinite_in_row = 0;
  } else {
    log.skipped = true;
    ++state_.skipped_steps;
    ++state_.nonfinite_in_row;
    log_warning("step {}: non-finite {} ({}); update skipped ({} in a row, {} in all)", state_.global_step + 1,
             std::isfinite(log.loss) ? "gradient norm" : "loss",
             std::isfinite(log.loss) ? log.grad_norm : log.loss, state_.nonfinite_in_row, state_.skipped_steps);
    if (state_.nonfinite_in_row >= settings_.max_nonfinite_steps)
      fail("{} steps in a row had a non-finite loss or gradient (train.max_nonfinite_steps); stopping at step {}",
           state_.nonfinite_in_row, state_.global_step + 1);
  }
  optimizer_->zero_grad();
  state_.tokens_seen += log.tokens;
  log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return log;
}

double Trainer::evaluate() {
  FINCH_CHECK(data_.eval != nullptr, "evaluate() without a validation set");
  torch::NoGradGuard no_grad;
  model_->eval();
  if (sharded_) sharded_->gather(root_unit_);
  const int64_t n = settings_.max_eval_samples > 0
                        ? std::min<int64_t>(settings_.max_eval_samples, static_cast<int64_t>(data_.eval->size()))
                        : static_cast<int64_t>(data_.eval->size());
  double weighted = 0;
  int64_t rows = 0;
  // Ranks take turns over the batches one process would make, so the loss is
  // exactly that process's, whatever the world size.
  const int64_t size = settings_.per_device_eval_batch_size, batches = (n + size - 1) / size;
  // Fully sharded: every forward gathers layers with all ranks, so each rank
  // runs one forward per round; a rank with no batch left in the last round
  // runs the round's first batch and discards it.
  const int64_t rounds = (batches + world_->size() - 1) / world_->size();
  for (int64_t round = 0; round < rounds; ++round) {
    int64_t batch = round * world_->size() + world_->rank();
    const bool mine = batch < batches;
    if (!mine && !sharded_) continue;
    if (!mine) batch = round * world_->size();
    std::vector<data::Sample> samples;
    for (int64_t i = batch * size; i < std::min(n, (batch + 1) * size); ++i)
      samples.push_back(data_.eval->get(static_cast<size_t>(i)));
    const data::Batch b = to_device(data::collate(samples, data_.collate), device_);
    if (b.num_targets == 0 && !sharded_) continue;
    Autocast autocast(bf16_);
    const at::Tensor logits = model_->forward(b.input_ids, b.attention_mask, b.position_ids);
    if (!mine || b.num_targets == 0) continue;
    const double mean = (data::causal_lm_loss_sum(logits, b.labels) / static_cast<double>(b.num_targets)).item<double>();
    // HF's evaluation loop repeats each batch's mean loss once per row of input_ids, then averages.
    weighted += mean * static_cast<double>(b.input_ids.size(0));
    rows += b.input_ids.size(0);
  }
  if (sharded_) sharded_->release(root_unit_);
  model_->train();
  if (world_->distributed()) {
    const auto sums = world_->sum({weighted, static_cast<double>(rows)});
    weighted = sums[0];
    rows = static_cast<int64_t>(sums[1]);
  }
  FINCH_CHECK(rows > 0, "no validation targets");
  return weighted / static_cast<double>(rows);
}

void Trainer::write_model(const fs::path& dir) {
  if (!settings_.full_ft) {
    peft::save_adapter(model_, lora_, dir, source_.name);
  } else {
    safetensors::NamedTensors tensors;
    const bool tied = !model_->lm_head;
    for (const auto& p : model_->named_parameters()) {
      if (tied && p.key() == "lm_head.weight") continue;
      tensors.emplace_back(p.key(), p.value().detach().to(at::kCPU).contiguous());
    }
    safetensors::save_file(dir / "model.safetensors", tensors, {{"format", "pt"}});
  }
  write_model_files(dir);
}

void Trainer::write_model_files(const fs::path& dir) {
  if (!settings_.full_ft) peft::save_adapter_config(lora_, dir, source_.name);
  for (const char* name : kModelFiles) {
    const fs::path from = source_.dir / name;
    if (fs::exists(from) && !(!settings_.full_ft && std::string(name) == "config.json"))
      fs::copy_file(from, dir / name, fs::copy_options::overwrite_existing);
  }
}

// The name a trainable weight has in the consolidated file: PEFT's for an
// adapter (base_model.model.<module>.lora_A.weight), HF's for a full model.
std::string Trainer::published_name(const std::string& name) const {
  return settings_.full_ft ? name : "base_model.model." + name;
}

fs::path Trainer::save_checkpoint() {
  const std::string name = "checkpoint-" + std::to_string(state_.global_step);
  const fs::path dir = output_dir_ / name;
  if (state_.best_metric && state_.best_step == state_.global_step) state_.best_checkpoint = name;
  const int64_t rank = world_->rank();
  dist::write_checkpoint_together(
      *world_, dir, ++checkpoints_written_,
      // Each rank, in parallel: its random states (dropout differs per rank)
      // and, fully sharded, its chunks of the weights and optimizer state.
      [&](const fs::path& tmp) {
        save_rng_state(*world_, tmp);
        if (!sharded_) return;
        safetensors::NamedTensors weights;
        for (const auto& p : trainable_) weights.emplace_back(published_name(p.name), p.tensor.detach().to(at::kCPU));
        safetensors::save_file(tmp / io::sharded::rank_file("weights", rank), weights);
        optimizer_->save(tmp / io::sharded::rank_file("optimizer", rank));
      },
      // Rank 0: the rest (every rank holds the same weights when not sharded).
      [&](const fs::path& tmp) {
        if (sharded_) {
          write_model_files(tmp);
          io::sharded::write_manifest(tmp, shard_manifest());
        } else {
          write_model(tmp);
          optimizer_->save(tmp / "optimizer.safetensors");
        }
        write_file_atomic(tmp / "scheduler.json", nlohmann::json{{"type", schedule_.type},
                                                                 {"warmup_steps", schedule_.warmup_steps},
                                                                 {"total_steps", schedule_.total_steps},
                                                                 {"last_step", state_.global_step}}
                                                      .dump(2));
        write_file_atomic(tmp / "loader.json", loader_->state().to_json().dump(2));
        nlohmann::json state = state_.to_json();
        state["run"] = run_identity();
        write_file_atomic(tmp / "trainer_state.json", state.dump(2));
      });
  if (is_main()) log_info("saved {}", dir.string());
  for (auto& c : callbacks_) c->on_save(*this, dir);
  return dir;
}

io::sharded::Manifest Trainer::shard_manifest() const {
  io::sharded::Manifest m;
  m.world_size = world_->size();
  m.weights_file = settings_.full_ft ? "model.safetensors" : "adapter_model.safetensors";
  for (const auto& p : trainable_) {
    const auto& shape = sharded_->shape(p.name);
    m.tensors["weights"].emplace_back(published_name(p.name), shape);
    m.tensors["optimizer"].emplace_back("exp_avg." + p.name, shape);
    m.tensors["optimizer"].emplace_back("exp_avg_sq." + p.name, shape);
  }
  return m;
}

fs::path Trainer::save_final() {
  const fs::path dir = output_dir_ / "final";
  if (sharded_) sharded_->gather_all();
  if (is_main()) io::write_checkpoint_dir(dir, [&](const fs::path& tmp) { write_model(tmp); });
  if (sharded_) sharded_->release_all();
  world_->barrier();
  if (is_main()) log_info("saved {}", dir.string());
  return dir;
}

// What a checkpoint must share with the settings to be resumed: the model and the method.
nlohmann::json Trainer::run_identity() const {
  nlohmann::json j = {{"model", source_.name}, {"full_ft", settings_.full_ft}};
  if (!settings_.full_ft)
    j["lora"] = {{"rank", lora_.rank}, {"alpha", lora_.alpha}, {"use_rslora", lora_.use_rslora},
                 {"target_modules", lora_.target_modules}};
  return j;
}

void Trainer::restore(const fs::path& checkpoint) {
  if (const std::string why = io::verify_checkpoint_dir(checkpoint); !why.empty())
    fail("cannot resume from {}: {}", checkpoint.string(), why);
  const auto saved = read_json_file(checkpoint / "trainer_state.json");
  if (saved.value("run", nlohmann::json()) != run_identity())
    fail("cannot resume from {}: it was trained with other settings ({} there, {} now); use another "
         "train.output_dir or --train.resume=never in an empty one",
         checkpoint.string(), saved.value("run", nlohmann::json()).dump(), run_identity().dump());
  if (io::sharded::is_sharded(checkpoint)) {
    restore_shards(checkpoint);
  } else {
    restore_consolidated(checkpoint);
  }
  if (const fs::path rng = rng_state_file(*world_, checkpoint); !rng.empty())
    load_rng_state(rng);
  else
    log_warning("{}: no random state for rank {} (saved by fewer ranks): its dropout masks start from the seed",
             checkpoint.string(), world_->rank());
  loader_->restore(data::LoaderState::from_json(read_json_file(checkpoint / "loader.json")));
  state_ = TrainerState::from_json(saved, (checkpoint / "trainer_state.json").string());
  if (is_main()) log_info("resumed from {} (step {})", checkpoint.string(), state_.global_step);
}

// A checkpoint one process wrote (or a consolidated one): the full weights are
// loaded into the model (fully sharded: gathered, then each rank keeps its
// chunks, re-sharding for this run's world size).
void Trainer::restore_consolidated(const fs::path& checkpoint) {
  if (sharded_) sharded_->gather_all();
  if (!settings_.full_ft) {
    peft::load_adapter_weights(model_, checkpoint / "adapter_model.safetensors");
  } else {
    // Copied into the parameters where they live (on their device, in their dtype).
    torch::NoGradGuard no_grad;
    const auto store = safetensors::TensorStore::open_file(checkpoint / "model.safetensors");
    safetensors::NamedTensors params;
    for (const auto& p : model_->named_parameters())
      if (!(p.key() == "lm_head.weight" && !model_->lm_head)) params.emplace_back(p.key(), p.value());
    const auto stored =
        safetensors::match_tensors(store, params, nullptr, (checkpoint / "model.safetensors").string() + ": weights");
    for (size_t i = 0; i < params.size(); ++i) params[i].second.copy_(stored[i]);
  }
  if (sharded_) {
    sharded_->reshard_all();
    sharded_->release_all();
    optimizer_->load(checkpoint / "optimizer.safetensors", [this](const std::string& parameter, const at::Tensor& full) {
      return sharded_->own_chunk(parameter, full);
    });
  } else {
    optimizer_->load(checkpoint / "optimizer.safetensors");
  }
}

// A fully sharded checkpoint (io/sharded_state.h), written by any number of
// ranks: a sharded run reads its own chunk of every tensor (re-cut for this
// world size), any other run the whole tensors.
void Trainer::restore_shards(const fs::path& checkpoint) {
  const io::sharded::Reader reader(checkpoint);
  const std::string where = (checkpoint / io::sharded::kManifestFile).string();
  const int64_t rank = world_->rank(), size = world_->size();
  auto read = [&](const std::string& set, const std::string& name) {
    return sharded_ ? reader.chunk(set, name, rank, size) : reader.full(set, name);
  };
  std::vector<std::pair<at::Tensor, at::Tensor>> loaded;
  for (const auto& p : trainable_) {
    const std::string name = published_name(p.name);
    if (!reader.contains("weights", name)) fail("{}: no weights {} (trained with other settings?)", where, name);
    const at::Tensor value = read("weights", name);
    if (value.sizes() != p.tensor.sizes() || value.scalar_type() != p.tensor.scalar_type())
      fail("{}: weights {} are {} {}, this run's {} {}", where, name, c10::toString(value.scalar_type()),
           fmt::join(value.sizes(), "x"), c10::toString(p.tensor.scalar_type()), fmt::join(p.tensor.sizes(), "x"));
    loaded.emplace_back(p.tensor, value);
  }
  {
    torch::NoGradGuard no_grad;
    for (auto& [target, value] : loaded) target.copy_(value);
  }
  optimizer_->load(
      reader.names("optimizer"), [&](const std::string& name, const std::string&) { return read("optimizer", name); },
      reader.metadata("optimizer", "step"), where);
}

void Trainer::resume() {
  if (settings_.resume == "never") {
    if (!io::list_checkpoints(output_dir_).empty())
      fail("train.resume: never, but {} holds checkpoints of an earlier run: choose another train.output_dir or "
           "remove them",
           output_dir_.string());
    return;
  }
  if (settings_.resume != "auto") return restore(settings_.resume);
  if (const auto newest = io::newest_checkpoint(output_dir_)) restore(newest->dir);
}

void Trainer::train() {
  fs::create_directories(output_dir_);
  torch::manual_seed(static_cast<uint64_t>(settings_.seed));
  resume();
  // The same start on every rank (seeded initialisation gives it already;
  // this makes it a fact, as DDP's constructor does).
  // (Fully sharded: each rank's shards were cut from the same full values.)
  if (world_->distributed() && !sharded_) {
    std::vector<at::Tensor> params;
    for (const auto& p : trainable_) params.push_back(p.tensor);
    dist::broadcast_from_main(*world_, params);
  }
  for (auto& c : callbacks_) c->on_train_begin(*this);
  while (state_.global_step < settings_.max_steps && !stop_requested()) {
    const StepLog log_entry = [&] {
      StepLog l = train_step();
      l.step = ++state_.global_step;
      return l;
    }();
    if (data_.eval && settings_.eval_steps > 0 && state_.global_step % settings_.eval_steps == 0 &&
        stop_signal_ == 0) {
      const double loss = evaluate();
      // Early stopping compares with the best before this evaluation (HF's
      // EarlyStoppingCallback); the best itself follows every improvement.
      // A non-finite loss never improves (HF starts the best at +inf).
      const bool improved = std::isfinite(loss) &&
                            (!state_.best_metric || *state_.best_metric - loss > settings_.early_stopping_threshold);
      state_.evals_without_improvement = improved ? 0 : state_.evals_without_improvement + 1;
      if (std::isfinite(loss) && (!state_.best_metric || loss < *state_.best_metric)) {
        state_.best_metric = loss;
        state_.best_step = state_.global_step;
      }
      for (auto& c : callbacks_) c->on_evaluate(*this, loss);
    }
    for (auto& c : callbacks_) c->on_step_end(*this, log_entry);
    if (const int sig = stop_signal_; sig != 0)
      request_stop(sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
  }
  for (auto& c : callbacks_) c->on_train_end(*this);
  const auto [parameter_bytes, optimizer_bytes] = held_bytes();
  log_info("rank {} holds {} parameter bytes and {} optimizer state bytes{}", world_->rank(), parameter_bytes,
           optimizer_bytes, sharded_ ? " (fully sharded)" : "");
}

std::pair<int64_t, int64_t> Trainer::held_bytes() const {
  int64_t parameters = 0;
  if (sharded_) {
    parameters = sharded_->shard_bytes();
  } else {
    for (const auto& p : model_->parameters()) parameters += static_cast<int64_t>(p.nbytes());
  }
  return {parameters, optimizer_->state_bytes()};
}

}  // namespace finch::train

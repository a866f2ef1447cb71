#include "finch/dist/env.h"

#include <cstdlib>

#include "finch/core/error.h"

namespace finch::dist {

namespace {

int64_t parse_int(const std::string& name, const std::string& value) {
  int64_t v = 0;
  size_t used = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || v < 0)
    fail("{}={}: expected a non-negative integer", name, value.empty() ? "''" : value);
  return v;
}

std::optional<int64_t> get_int(const EnvLookup& env, const std::string& name) {
  const auto v = env(name);
  if (!v) return std::nullopt;
  return parse_int(name, *v);
}

// A rank and a size that travel together: both set or neither, rank < size, size >= 1.
void rank_and_size(const EnvLookup& env, const std::string& rank_var, const std::string& size_var, int64_t& rank,
                   int64_t& size, const char* launcher) {
  const auto r = get_int(env, rank_var);
  const auto s = get_int(env, size_var);
  if (r && !s) fail("{} is set but {} is not ({} sets both)", rank_var, size_var, launcher);
  if (s && !r) fail("{} is set but {} is not ({} sets both)", size_var, rank_var, launcher);
  if (*s < 1) fail("{}={}: expected at least 1", size_var, *s);
  if (*r >= *s) fail("{}={} is not below {}={}", rank_var, *r, size_var, *s);
  rank = *r;
  size = *s;
}

void local_rank_and_size(const EnvLookup& env, const std::string& rank_var, const std::string& size_var,
                         LaunchEnv& e) {
  const auto lr = get_int(env, rank_var);
  // A size only when it is one number (Slurm writes "4(x2)" for uneven nodes).
  std::optional<int64_t> ls;
  if (const auto v = env(size_var); v && !v->empty() && v->find_first_not_of("0123456789") == std::string::npos)
    ls = parse_int(size_var, *v);
  e.local_rank = lr ? *lr : e.rank;
  e.local_world_size = ls ? *ls : e.world_size;  // unknown: as if one node
  if (ls && *ls < 1) fail("{}={}: expected at least 1", size_var, *ls);
  if (lr && ls && *lr >= *ls) fail("{}={} is not below {}={}", rank_var, *lr, size_var, *ls);
  if (lr && *lr > e.rank) fail("{}={} is above the global rank {}", rank_var, *lr, e.rank);
}

void master_port(const EnvLookup& env, LaunchEnv& e, int64_t fallback) {
  e.master_port = fallback;
  if (const auto p = get_int(env, "MASTER_PORT")) e.master_port = *p;
  if (e.master_port < 1 || e.master_port > 65535) fail("MASTER_PORT={}: expected a port in 1..65535", e.master_port);
}

LaunchEnv torchrun(const EnvLookup& env) {
  LaunchEnv e;
  e.launcher = "torchrun";
  rank_and_size(env, "RANK", "WORLD_SIZE", e.rank, e.world_size, "torchrun");
  local_rank_and_size(env, "LOCAL_RANK", "LOCAL_WORLD_SIZE", e);
  if (e.world_size > 1) {
    const auto addr = env("MASTER_ADDR");
    if (!addr || addr->empty()) fail("MASTER_ADDR is not set, but WORLD_SIZE={} (torchrun sets both)", e.world_size);
    if (!env("MASTER_PORT")) fail("MASTER_PORT is not set, but WORLD_SIZE={} (torchrun sets both)", e.world_size);
    e.master_addr = *addr;
  }
  master_port(env, e, 29500);
  e.agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  if (const auto n = get_int(env, "TORCHELASTIC_RESTART_COUNT")) e.restart_count = *n;
  return e;
}

LaunchEnv openmpi(const EnvLookup& env) {
  LaunchEnv e;
  e.launcher = "openmpi";
  rank_and_size(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", e.rank, e.world_size, "mpirun");
  local_rank_and_size(env, "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE", e);
  if (const auto addr = env("MASTER_ADDR"); addr && !addr->empty()) {
    e.master_addr = *addr;
  } else if (e.world_size > 1 && e.local_world_size != e.world_size) {
    fail("MASTER_ADDR is not set: mpirun started {} ranks on more than one node, so name rank 0's host "
         "(mpirun -x MASTER_ADDR=host ...)",
         e.world_size);
  }
  master_port(env, e, 29500);
  return e;
}

LaunchEnv slurm(const EnvLookup& env) {
  LaunchEnv e;
  e.launcher = "slurm";
  rank_and_size(env, "SLURM_PROCID", "SLURM_NTASKS", e.rank, e.world_size, "srun");
  local_rank_and_size(env, "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE", e);
  if (const auto addr = env("MASTER_ADDR"); addr && !addr->empty()) {
    e.master_addr = *addr;
  } else if (const auto nodes = env("SLURM_STEP_NODELIST") ? env("SLURM_STEP_NODELIST") : env("SLURM_JOB_NODELIST");
             nodes && !nodes->empty()) {
    e.master_addr = first_slurm_host(*nodes);
  } else if (const auto ip = env("SLURM_LAUNCH_NODE_IPADDR"); ip && !ip->empty()) {
    e.master_addr = *ip;
  } else if (e.world_size > 1) {
    fail("SLURM_JOB_NODELIST is not set (nor MASTER_ADDR or SLURM_LAUNCH_NODE_IPADDR): cannot tell where rank 0 runs");
  }
  const auto job = get_int(env, "SLURM_JOB_ID");
  master_port(env, e, job ? 15000 + *job % 10000 : 29500);
  return e;
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at a comma outside brackets; a bracket holds ranges "03-05,07".
  std::string host;
  for (size_t i = 0; i < nodelist.size(); ++i) {
    const char c = nodelist[i];
    if (c == ',') break;
    if (c != '[') {
      host += c;
      continue;
    }
    const size_t close = nodelist.find(']', i);
    if (close == std::string::npos) fail("SLURM_JOB_NODELIST={}: unbalanced '['", nodelist);
    const std::string ranges = nodelist.substr(i + 1, close - i - 1);
    host += ranges.substr(0, ranges.find_first_of(",-"));
    i = close;
  }
  if (host.empty()) fail("SLURM_JOB_NODELIST={}: no host in it", nodelist);
  return host;
}

LaunchEnv parse_launch_env(const EnvLookup& env) {
  if (env("RANK") || env("WORLD_SIZE")) return torchrun(env);
  if (env("OMPI_COMM_WORLD_RANK") || env("OMPI_COMM_WORLD_SIZE")) return openmpi(env);
  // SLURM_NTASKS alone is an salloc / sbatch shell, not a task: one process.
  if (env("SLURM_PROCID")) return slurm(env);
  return LaunchEnv{};
}

LaunchEnv launch_env() {
  return parse_launch_env([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

}  // namespace finch::dist

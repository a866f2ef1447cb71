// Who this process is in a multi-process run, read from the environment that
// the launcher sets. Three launchers, looked for in this order:
//
//   torchrun   RANK, WORLD_SIZE (both, or neither), LOCAL_RANK, LOCAL_WORLD_SIZE,
//              MASTER_ADDR, MASTER_PORT (required when WORLD_SIZE > 1); also
//              TORCHELASTIC_USE_AGENT_STORE (its agent hosts the store) and
//              TORCHELASTIC_RESTART_COUNT.
//   OpenMPI    OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_LOCAL_RANK,
//              OMPI_COMM_WORLD_LOCAL_SIZE; MASTER_ADDR (default 127.0.0.1 when
//              every rank is on one node, required otherwise), MASTER_PORT
//              (default 29500).
//   Slurm      SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE;
//              MASTER_ADDR, else the first host of SLURM_STEP_NODELIST /
//              SLURM_JOB_NODELIST (task 0 runs there), else
//              SLURM_LAUNCH_NODE_IPADDR; MASTER_PORT, else 15000 + SLURM_JOB_ID % 10000
//              (so two jobs sharing a node do not collide).
//
// torchrun first: it may itself run under srun or mpirun, and its variables
// describe the processes it started. OpenMPI before Slurm: mpirun inside a
// Slurm allocation leaves the batch step's SLURM_PROCID in every rank's
// environment, while OMPI_COMM_WORLD_* are mpirun's own. Slurm is keyed on
// SLURM_PROCID (set in srun's tasks): SLURM_NTASKS alone is an salloc or
// sbatch shell, one process. (An sbatch script's own shell also has
// SLURM_PROCID=0: start finch there through srun.) None of them set:
// one process (world size 1). A launcher's variables half set (a rank without
// a size, a rank not below the size, a number that is not one) is a one-line
// error naming the variable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace finch::dist {

struct LaunchEnv {
  std::string launcher = "none";  // none | torchrun | openmpi | slurm
  int64_t rank = 0, world_size = 1;
  int64_t local_rank = 0, local_world_size = 1;  // on this node
  std::string master_addr = "127.0.0.1";  // where rank 0 (or torchrun's agent) hosts the store
  int64_t master_port = 29500;
  bool agent_store = false;  // torchrun's agent serves the store at MASTER_ADDR:MASTER_PORT: every rank is a client
  int64_t restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: store keys of each attempt are kept apart

  bool distributed() const { return world_size > 1; }
};

// Looks a variable up: its value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

LaunchEnv parse_launch_env(const EnvLookup& env);
// The same, from this process's environment.
LaunchEnv launch_env();

// The first host of a Slurm node list: "gpu[03-05,07],cpu1" -> "gpu03".
std::string first_slurm_host(const std::string& nodelist);

}  // namespace finch::dist

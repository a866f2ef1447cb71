// The launch environment: torchrun's, OpenMPI's and Slurm's variables, their
// precedence, the defaults, and a half-set environment as a one-line error
// naming the variable. The same parsing drives every multi-process test in
// tests/dist/, which start real ranks.
#include <map>

#include "finch/dist/env.h"
#include "../test_util.h"

namespace finch::dist {
namespace {

using Vars = std::map<std::string, std::string>;

LaunchEnv parse(const Vars& vars) {
  return parse_launch_env([&](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(LaunchEnv, NothingSetIsOneProcess) {
  const LaunchEnv e = parse({});
  EXPECT_EQ(e.launcher, "none");
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
  EXPECT_FALSE(e.distributed());
  // An salloc / sbatch shell: SLURM_NTASKS without a task id is one process too.
  EXPECT_EQ(parse({{"SLURM_NTASKS", "8"}, {"SLURM_JOB_ID", "5"}}).launcher, "none");
}

TEST(LaunchEnv, Torchrun) {
  const LaunchEnv e = parse({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
                             {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29400"},
                             {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  EXPECT_EQ(e.launcher, "torchrun");
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 4);
  EXPECT_EQ(e.master_addr, "node7");
  EXPECT_EQ(e.master_port, 29400);
  EXPECT_TRUE(e.agent_store);
  EXPECT_EQ(e.restart_count, 2);
  EXPECT_TRUE(e.distributed());
  // World size 1 needs no rendezvous address.
  const LaunchEnv one = parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  EXPECT_FALSE(one.distributed());
  EXPECT_FALSE(one.agent_store);
  // No LOCAL_RANK: one node, the local rank is the rank.
  EXPECT_EQ(parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}).local_rank, 1);
}

TEST(LaunchEnv, OpenMPI) {
  const LaunchEnv e = parse({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"},
                             {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  EXPECT_EQ(e.launcher, "openmpi");
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "127.0.0.1");  // one node: the documented default
  EXPECT_EQ(e.master_port, 29500);
  const LaunchEnv multi = parse({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                                 {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                 {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "23456"}});
  EXPECT_EQ(multi.master_addr, "10.0.0.1");
  EXPECT_EQ(multi.master_port, 23456);
}

TEST(LaunchEnv, Slurm) {
  const LaunchEnv e = parse({{"SLURM_PROCID", "6"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "2"},
                             {"SLURM_NTASKS_PER_NODE", "4"}, {"SLURM_JOB_NODELIST", "gpu[03-05,07],cpu1"},
                             {"SLURM_LAUNCH_NODE_IPADDR", "10.1.1.1"}, {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(e.launcher, "slurm");
  EXPECT_EQ(e.rank, 6);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 2);
  EXPECT_EQ(e.local_world_size, 4);
  EXPECT_EQ(e.master_addr, "gpu03");  // task 0's node, not where srun was typed
  EXPECT_EQ(e.master_port, 15000 + 123456 % 10000);
  // MASTER_ADDR / MASTER_PORT win; without a node list, the launch node's address.
  const LaunchEnv set = parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "n1"},
                               {"MASTER_ADDR", "head"}, {"MASTER_PORT", "4000"}});
  EXPECT_EQ(set.master_addr, "head");
  EXPECT_EQ(set.master_port, 4000);
  EXPECT_EQ(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_LAUNCH_NODE_IPADDR", "10.1.1.1"}}).master_addr,
            "10.1.1.1");
  // Uneven nodes ("4(x2),3"): the local size is unknown, taken as the world's.
  EXPECT_EQ(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "11"}, {"SLURM_NTASKS_PER_NODE", "4(x2),3"},
                   {"SLURM_JOB_NODELIST", "n[1-3]"}})
                .local_world_size,
            11);
}

TEST(LaunchEnv, Precedence) {
  // torchrun under srun / mpirun: torchrun's variables describe this process.
  const Vars both = {{"RANK", "3"},          {"WORLD_SIZE", "4"},           {"MASTER_ADDR", "h"},
                     {"MASTER_PORT", "1234"}, {"SLURM_PROCID", "0"},        {"SLURM_NTASKS", "1"},
                     {"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}};
  EXPECT_EQ(parse(both).launcher, "torchrun");
  EXPECT_EQ(parse(both).rank, 3);
  // mpirun inside a Slurm allocation: the batch step's SLURM_PROCID is inherited, OMPI's is the rank.
  const LaunchEnv mpi = parse({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"SLURM_PROCID", "0"},
                               {"SLURM_NTASKS", "1"}});
  EXPECT_EQ(mpi.launcher, "openmpi");
  EXPECT_EQ(mpi.rank, 1);
}

TEST(LaunchEnv, HalfSetIsAnError) {
  using finch::test::expect_error;
  expect_error([] { parse({{"RANK", "0"}}); }, {"RANK is set but WORLD_SIZE is not"});
  expect_error([] { parse({{"WORLD_SIZE", "2"}}); }, {"WORLD_SIZE is set but RANK is not"});
  expect_error([] { parse({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}); },
               {"RANK=2 is not below WORLD_SIZE=2"});
  expect_error([] { parse({{"RANK", "x"}, {"WORLD_SIZE", "2"}}); }, {"RANK=x", "non-negative integer"});
  expect_error([] { parse({{"RANK", "0"}, {"WORLD_SIZE", "0"}}); }, {"WORLD_SIZE=0", "at least 1"});
  expect_error([] { parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}); }, {"MASTER_ADDR is not set"});
  expect_error([] { parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}}); }, {"MASTER_PORT is not set"});
  expect_error([] { parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}}); },
               {"MASTER_PORT=70000"});
  expect_error(
      [] {
        parse({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"},
               {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}});
      },
      {"LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2"});
  expect_error([] { parse({{"OMPI_COMM_WORLD_RANK", "0"}}); },
               {"OMPI_COMM_WORLD_RANK is set but OMPI_COMM_WORLD_SIZE is not"});
  expect_error([] { parse({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "2"}}); },
               {"OMPI_COMM_WORLD_RANK=3 is not below OMPI_COMM_WORLD_SIZE=2"});
  expect_error(
      [] {
        parse({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
               {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
      },
      {"MASTER_ADDR is not set", "more than one node"});
  expect_error([] { parse({{"SLURM_PROCID", "0"}}); }, {"SLURM_PROCID is set but SLURM_NTASKS is not"});
  expect_error([] { parse({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_NODELIST", "n1"}}); },
               {"SLURM_PROCID=4 is not below SLURM_NTASKS=4"});
  expect_error([] { parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}); }, {"SLURM_JOB_NODELIST is not set"});
}

TEST(LaunchEnv, FirstSlurmHost) {
  EXPECT_EQ(first_slurm_host("node1"), "node1");
  EXPECT_EQ(first_slurm_host("node1,node2"), "node1");
  EXPECT_EQ(first_slurm_host("gpu[003-010]"), "gpu003");
  EXPECT_EQ(first_slurm_host("gpu[7,9-10],cpu[1-2]"), "gpu7");
  EXPECT_EQ(first_slurm_host("rack[1-2]-n[05-06]"), "rack1-n05");
  finch::test::expect_error([] { first_slurm_host("gpu[1-2"); }, {"unbalanced"});
}

}  // namespace
}  // namespace finch::dist

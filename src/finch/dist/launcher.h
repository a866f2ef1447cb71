// The single-node launcher behind `finch train --nproc-per-node N`: what
// torchrun does for one node, and Ray Train's restart-on-failure, in-process.
//
// It starts N copies of a command (finch re-executing itself) with torchrun's
// environment (RANK = LOCAL_RANK = i, WORLD_SIZE = LOCAL_WORLD_SIZE = N,
// MASTER_ADDR = 127.0.0.1, MASTER_PORT = a port free at that attempt, and
// FINCH_RESTART_COUNT / TORCHELASTIC_RESTART_COUNT), streams each rank's
// stdout and stderr line by line as "[rank i] ..." (whole lines only, so ranks
// never interleave inside a line), and forwards SIGINT and SIGTERM to the
// ranks (finch train saves a checkpoint on them). When a rank fails (a
// non-zero exit or a signal) the others get SIGTERM, then SIGKILL after a
// grace period, and all ranks start again; finch train resumes from the
// newest complete checkpoint by default (train.resume: auto). After
// max_restarts restarts the launcher gives up with one line naming the rank,
// its exit code or signal, and the attempt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace finch::dist {

struct LaunchOptions {
  std::string program;            // the executable each rank runs (a path: no PATH search)
  std::vector<std::string> argv;  // its arguments, argv[0] included
  int64_t nproc_per_node = 2;
  int64_t max_restarts = 3;
  double stop_grace_s = 30;       // SIGTERM to SIGKILL, when stopping ranks after a failure
  std::string master_addr = "127.0.0.1";
  int out_fd = 1;  // where the ranks' stdout lines go
  int err_fd = 2;  // where the ranks' stderr lines and the launcher's own messages go
};

// Runs the ranks until all of them exit 0 (returns), or fails (finch::Error)
// once max_restarts restarts are spent or after a forwarded stop signal left
// a rank failed. One launch at a time per process (it owns SIGINT, SIGTERM
// and SIGCHLD while it runs, and restores them after).
void launch(const LaunchOptions& options);

// True when a launcher (torchrun, finch itself) started this process: RANK is
// set. Such a process never launches ranks of its own.
bool launched_rank();

// This process's command line, from /proc/self/cmdline: what each rank runs
// again, with "/proc/self/exe" as the program.
std::vector<std::string> own_command_line();

// A TCP port on `address` that is free now (the kernel's choice), for MASTER_PORT.
int free_port(const std::string& address = "127.0.0.1");

// "exited with code 3" or "was killed by signal 9 (SIGKILL)", from a waitpid status.
std::string describe_exit(int status);

}  // namespace finch::dist

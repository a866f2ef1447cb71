// Ranks as threads of one test process: each gets its own World over Gloo on
// 127.0.0.1 (torchrun's environment, a free port, 30 s timeouts).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "finch/dist/world.h"

namespace finch::dist::test_ranks {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline LaunchEnv rank_env(int64_t rank, int64_t size, int port) {
  LaunchEnv e;
  e.launcher = "torchrun";
  e.rank = e.local_rank = rank;
  e.world_size = e.local_world_size = size;
  e.master_addr = "127.0.0.1";
  e.master_port = port;
  return e;
}

// Runs fn on `size` threads, each with its own World, and joins them.
inline void run_ranks(int64_t size, const std::function<void(std::shared_ptr<World>)>& fn) {
  const int port = free_port();
  std::vector<std::thread> threads;
  for (int64_t r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      WorldOptions o;
      o.rendezvous_timeout = o.collective_timeout = std::chrono::seconds(30);
      fn(World::init(rank_env(r, size, port), at::kCPU, o));
    });
  for (auto& t : threads) t.join();
}

}  // namespace finch::dist::test_ranks

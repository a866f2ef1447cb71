#include "finch/dist/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>

#include "finch/core/error.h"

extern char** environ;

namespace finch::dist {

bool launched_rank() { return std::getenv("RANK") != nullptr; }

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::string> args;
  for (size_t b = 0; b < all.size();) {
    const size_t e = all.find('\0', b);
    args.push_back(all.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  FINCH_CHECK(!args.empty(), "/proc/self/cmdline is empty");
  return args;
}

int free_port(const std::string& address) {
  const int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) fail("cannot open a socket to find a free port: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) addr.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof addr;
  const bool ok = bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  close(sock);
  if (!ok) fail("cannot find a free TCP port on {}: {}", address, std::strerror(err));
  return ntohs(addr.sin_port);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return fmt::format("was killed by signal {} (SIG{})", sig, abbrev ? abbrev : "?");
  }
  return fmt::format("ended with wait status {}", status);
}

namespace {

using Clock = std::chrono::steady_clock;

// Signals reach the launcher's loop through a pipe: the handler only writes
// the signal number, whichever thread it runs on.
int g_wake[2] = {-1, -1};
std::atomic<bool> g_launching{false};

extern "C" void on_launcher_signal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = write(g_wake[1], &byte, 1);
  errno = saved;
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGCHLD};

class SignalScope {
 public:
  SignalScope() {
    FINCH_CHECK(!g_launching.exchange(true), "dist::launch is already running in this process");
    FINCH_CHECK(pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2: {}", std::strerror(errno));
    struct sigaction action {};
    action.sa_handler = on_launcher_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &action, &saved_[i]);
  }
  ~SignalScope() {
    for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &saved_[i], nullptr);
    close(g_wake[0]);
    close(g_wake[1]);
    g_wake[0] = g_wake[1] = -1;
    g_launching = false;
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

  int fd() const { return g_wake[0]; }

 private:
  struct sigaction saved_[std::size(kSignals)] {};
};

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n >= 0) {
      text.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 100);
    } else if (errno != EINTR) {
      return;  // the output is gone (a closed pipe): the ranks run on regardless
    }
  }
}

// One rank's stdout or stderr: the read end of its pipe and the unfinished line.
struct Stream {
  int fd = -1;  // -1 once closed
  int to = -1;
  std::string prefix;
  std::string partial;
};

// A rank that prints a very long line without a newline still shows up.
constexpr size_t kMaxLine = 1 << 16;

// Writes the complete lines of s.partial, each with the prefix, in one write.
void emit_lines(Stream& s, bool at_end) {
  std::string out;
  size_t start = 0;
  for (size_t nl; (nl = s.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    out += s.prefix;
    out.append(s.partial, start, nl + 1 - start);
  }
  s.partial.erase(0, start);
  if (!s.partial.empty() && (at_end || s.partial.size() >= kMaxLine)) {
    out += s.prefix + s.partial + '\n';
    s.partial.clear();
  }
  write_all(s.to, out);
}

// Reads once (or, with `drain`, until the pipe is empty); closes at end of file.
void pump(Stream& s, bool drain) {
  char buf[1 << 16];
  while (s.fd >= 0) {
    const ssize_t n = read(s.fd, buf, sizeof buf);
    if (n > 0) {
      s.partial.append(buf, static_cast<size_t>(n));
      emit_lines(s, false);
      if (!drain) return;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {  // end of file, or an error that ends the stream all the same
      emit_lines(s, true);
      close(s.fd);
      s.fd = -1;
    }
  }
}

struct Rank {
  pid_t pid = -1;
  bool running = false;
  int status = 0;
  Stream out, err;
};

// Environment variables the launcher sets for each rank (torchrun's names, and finch's).
constexpr std::string_view kRankVariables[] = {
    "RANK",        "LOCAL_RANK",    "WORLD_SIZE",      "LOCAL_WORLD_SIZE",           "GROUP_RANK",
    "ROLE_RANK",   "ROLE_WORLD_SIZE", "MASTER_ADDR",   "MASTER_PORT",                "TORCHELASTIC_RESTART_COUNT",
    "TORCHELASTIC_MAX_RESTARTS", "FINCH_RESTART_COUNT"};

std::vector<std::string> rank_environment(const LaunchOptions& o, int rank, int port, int attempt,
                                          int omp_threads) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    if (std::find(std::begin(kRankVariables), std::end(kRankVariables), name) == std::end(kRankVariables))
      env.emplace_back(entry);
  }
  const auto set = [&env](std::string_view name, auto value) { env.push_back(fmt::format("{}={}", name, value)); };
  set("RANK", rank);
  set("LOCAL_RANK", rank);
  set("GROUP_RANK", 0);
  set("ROLE_RANK", rank);
  set("WORLD_SIZE", o.nproc_per_node);
  set("LOCAL_WORLD_SIZE", o.nproc_per_node);
  set("ROLE_WORLD_SIZE", o.nproc_per_node);
  set("MASTER_ADDR", o.master_addr);
  set("MASTER_PORT", port);
  set("TORCHELASTIC_RESTART_COUNT", attempt);
  set("TORCHELASTIC_MAX_RESTARTS", o.max_restarts);
  set("FINCH_RESTART_COUNT", attempt);
  if (omp_threads > 0) set("OMP_NUM_THREADS", omp_threads);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Starts one rank in its own process group (a terminal's Ctrl-C reaches the
// launcher only, which forwards it once), stdin from /dev/null, stdout and
// stderr into pipes. Returns the exec error (0 when the program runs).
int start_rank(const LaunchOptions& o, std::vector<std::string> env, Rank& r, int index) {
  int out_pipe[2], err_pipe[2], exec_pipe[2];
  FINCH_CHECK(pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0 && pipe2(exec_pipe, O_CLOEXEC) == 0,
              "pipe2: {}", std::strerror(errno));
  std::vector<std::string> args = o.argv;
  const std::vector<char*> argv = c_strings(args), envp = c_strings(env);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  FINCH_CHECK(pid >= 0, "fork: {}", std::strerror(errno));
  if (pid == 0) {  // the child: async-signal-safe calls only, until execve
    for (int sig : kSignals) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setpgid(0, 0);
    // A launcher killed with SIGKILL takes its ranks with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(o.program.c_str(), argv.data(), envp.data());
    const int err = errno;
    [[maybe_unused]] const ssize_t n = write(exec_pipe[1], &err, sizeof err);
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so that signals sent right away reach the group
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(exec_pipe[1]);
  int exec_error = 0;
  ssize_t n;
  while ((n = read(exec_pipe[0], &exec_error, sizeof exec_error)) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);
  if (n != static_cast<ssize_t>(sizeof exec_error)) exec_error = 0;
  r = Rank{};
  r.pid = pid;
  r.running = true;
  const std::string prefix = fmt::format("[rank {}] ", index);
  r.out = Stream{out_pipe[0], o.out_fd, prefix, {}};
  r.err = Stream{err_pipe[0], o.err_fd, prefix, {}};
  for (int fd : {out_pipe[0], err_pipe[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return exec_error;
}

// What one attempt ended with: the first rank that failed (-1: none) and its
// wait status, and the stop signal forwarded during it (0: none).
struct Outcome {
  int failed_rank = -1;
  int status = 0;
  int stop_signal = 0;
};

class Attempt {
 public:
  Attempt(const LaunchOptions& o, int attempt, int omp_threads, int wake_fd)
      : o_(o), attempt_(attempt), omp_threads_(omp_threads), wake_fd_(wake_fd), ranks_(o.nproc_per_node) {}

  Outcome run() {
    start();
    while (std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& r) { return r.running; })) {
      wait_for_events();
      reap();
      if (Clock::now() >= kill_at_) {
        for (auto& r : ranks_)
          if (r.running) {
            note("rank {} did not stop within {} s: SIGKILL", &r - ranks_.data(), o_.stop_grace_s);
            kill(-r.pid, SIGKILL);
          }
        kill_at_ = kNever;
      }
    }
    return outcome_;
  }

  template <typename... Args>
  void note(fmt::format_string<Args...> format, Args&&... args) {
    write_all(o_.err_fd, fmt::format("finch: launcher: {}\n", fmt::format(format, std::forward<Args>(args)...)));
  }

 private:
  void start() {
    const int port = free_port(o_.master_addr);
    std::string pids;
    for (size_t i = 0; i < ranks_.size(); ++i) {
      const int index = static_cast<int>(i);
      if (const int err = start_rank(o_, rank_environment(o_, index, port, attempt_, omp_threads_), ranks_[i], index)) {
        outcome_.failed_rank = index;  // the error below says it all: no note from reap()
        stop_all(SIGKILL);
        while (std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& r) { return r.running; })) {
          reap();
          if (std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& r) { return r.running; })) usleep(10000);
        }
        fail("cannot start rank {}: {}: {}", i, o_.program, std::strerror(err));
      }
      pids += fmt::format("{}rank {} pid {}", i ? ", " : "", i, ranks_[i].pid);
    }
    note("attempt {} of {}: {} (MASTER_ADDR {}, MASTER_PORT {})", attempt_ + 1, o_.max_restarts + 1, pids,
         o_.master_addr, port);
  }

  void stop_all(int sig) {
    for (auto& r : ranks_)
      if (r.running) kill(-r.pid, sig);
  }

  void forward(int sig) {
    if (outcome_.stop_signal == 0) note("SIG{}: passing it on to the ranks", sigabbrev_np(sig));
    outcome_.stop_signal = sig;
    stop_all(sig);
  }

  void wait_for_events() {
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
    std::vector<Stream*> streams;
    for (auto& r : ranks_)
      for (Stream* s : {&r.out, &r.err})
        if (s->fd >= 0) {
          fds.push_back({s->fd, POLLIN, 0});
          streams.push_back(s);
        }
    // The pipe wakes us on SIGCHLD; the timeout is only a safety net and the SIGKILL deadline.
    int timeout_ms = 1000;
    if (kill_at_ != kNever) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at_ - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, timeout_ms));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    if (fds[0].revents & POLLIN) {
      unsigned char sigs[64];
      const ssize_t n = read(wake_fd_, sigs, sizeof sigs);
      for (ssize_t i = 0; i < n; ++i)
        if (sigs[i] == SIGINT || sigs[i] == SIGTERM) forward(sigs[i]);
    }
    for (size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents != 0) pump(*streams[i - 1], false);
  }

  void reap() {
    std::vector<int> exited;
    for (auto& r : ranks_) {
      if (!r.running) continue;
      int status = 0;
      pid_t got;
      while ((got = waitpid(r.pid, &status, WNOHANG)) < 0 && errno == EINTR) {
      }
      if (got != r.pid) continue;
      // Its last lines are in the pipes: show them before saying it ended.
      pump(r.out, true);
      pump(r.err, true);
      // Whatever else still holds the pipes (a process the rank started) is not waited for.
      for (Stream* s : {&r.out, &r.err})
        if (s->fd >= 0) {
          emit_lines(*s, true);
          close(s->fd);
          s->fd = -1;
        }
      r.running = false;
      r.status = status;
      exited.push_back(static_cast<int>(&r - ranks_.data()));
    }
    if (outcome_.failed_rank >= 0) return;
    // Ranks that ended together (the launcher was not scheduled in between):
    // one killed by a signal is the cause, the others failed because their
    // peer vanished (a rank that exits on its own needs time to notice).
    std::stable_sort(exited.begin(), exited.end(),
                     [&](int a, int b) { return WIFSIGNALED(ranks_[a].status) > WIFSIGNALED(ranks_[b].status); });
    for (const int index : exited) {
      const int status = ranks_[index].status;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
      outcome_.failed_rank = index;
      outcome_.status = status;
      if (std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& x) { return x.running; }))
        note("rank {} {}: stopping the other ranks", index, describe_exit(status));
      // Ranks already told to stop by a forwarded signal are not asked again
      // (a second SIGTERM kills finch train at once); they get the grace period.
      if (outcome_.stop_signal == 0) stop_all(SIGTERM);
      kill_at_ = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.stop_grace_s * 1000));
      break;
    }
  }

  const LaunchOptions& o_;
  int attempt_, omp_threads_, wake_fd_;
  std::vector<Rank> ranks_;
  Outcome outcome_;
  static constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point kill_at_ = kNever;  // when the ranks still running get SIGKILL
};

// A SIGINT or SIGTERM that came after the last attempt ended (0: none).
int pending_stop_signal(int wake_fd) {
  int sig = 0;
  unsigned char sigs[64];
  for (ssize_t n; (n = read(wake_fd, sigs, sizeof sigs)) > 0;)
    for (ssize_t i = 0; i < n; ++i)
      if (sigs[i] == SIGINT || sigs[i] == SIGTERM) sig = sigs[i];
  return sig;
}

// N ranks on C cores: C / N math threads each, unless OMP_NUM_THREADS says otherwise (0: leave it).
int threads_per_rank(int64_t ranks) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return 0;
  cpu_set_t set;
  const int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return std::max<int>(1, cores / static_cast<int>(ranks));
}

}  // namespace

void launch(const LaunchOptions& o) {
  FINCH_CHECK(o.nproc_per_node >= 1 && o.max_restarts >= 0 && !o.argv.empty(), "bad launch options");
  SignalScope signals;
  const int omp_threads = threads_per_rank(o.nproc_per_node);
  for (int attempt = 0;; ++attempt) {
    Attempt run(o, attempt, omp_threads, signals.fd());
    if (attempt == 0 && omp_threads > 0)
      run.note("OMP_NUM_THREADS={} for each of the {} ranks (the cores divided among them)", omp_threads,
               o.nproc_per_node);
    const Outcome r = run.run();
    if (r.failed_rank < 0) {
      if (r.stop_signal != 0) run.note("every rank stopped cleanly after SIG{}", sigabbrev_np(r.stop_signal));
      return;
    }
    const std::string cause = fmt::format("rank {} {} on attempt {} of {}", r.failed_rank, describe_exit(r.status),
                                          attempt + 1, o.max_restarts + 1);
    if (r.stop_signal != 0) fail("stopped by SIG{}: {}", sigabbrev_np(r.stop_signal), cause);
    if (attempt >= o.max_restarts)
      fail("{}; no restarts left (parallel.max_restarts = {})", cause, o.max_restarts);
    if (const int sig = pending_stop_signal(signals.fd()))
      fail("stopped by SIG{} before restarting: {}", sigabbrev_np(sig), cause);
    run.note("{}; restarting all {} ranks (restart {} of {})", cause, o.nproc_per_node, attempt + 1, o.max_restarts);
  }
}

}  // namespace finch::dist

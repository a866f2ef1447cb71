// The launcher with bash scripts as ranks: torchrun's environment, whole
// prefixed lines, restarts, giving up after max_restarts, SIGKILL after the
// grace period, SIGTERM passed on, a program that cannot start.
#include "finch/dist/launcher.h"
#include "finch/dist/settings.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "../test_util.h"
#include "finch/core/error.h"

namespace finch::dist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs `script` (bash; $1 is the test's folder) as each of `ranks` ranks;
// the ranks' stdout goes to dir/out, their stderr and the launcher's notes to dir/err.
struct ScriptLaunch {
  test::TempDir dir;
  LaunchOptions options;

  ScriptLaunch(const std::string& script, int64_t ranks, int64_t max_restarts) {
    options.program = "/bin/bash";
    options.argv = {"bash", "-c", script, "rank", dir.path().string()};
    options.nproc_per_node = ranks;
    options.max_restarts = max_restarts;
    options.stop_grace_s = 5;
  }
  // Launches; the error message if it failed, "" if it returned.
  std::string run() {
    const int out = open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err = open((dir / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    options.out_fd = out;
    options.err_fd = err;
    std::string error;
    try {
      launch(options);
    } catch (const Error& e) {
      error = e.what();
    }
    close(out);
    close(err);
    return error;
  }
  std::string out() const { return read_text(dir / "out"); }
  std::string err() const { return read_text(dir / "err"); }
};

TEST(Launcher, TorchrunEnvironmentAndWholePrefixedLines) {
  ScriptLaunch l(
      "echo \"env $RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $GROUP_RANK $MASTER_ADDR $MASTER_PORT "
      "$FINCH_RESTART_COUNT $TORCHELASTIC_RESTART_COUNT $TORCHELASTIC_MAX_RESTARTS\"\n"
      "echo \"to stderr\" >&2\n"
      // A line written in pieces stays one line.
      "printf 'first half'; sleep 0.05; printf ' second half\\n'\n"
      // Many long lines from every rank at once: none is cut or mixed with another.
      "for i in $(seq 300); do printf \"r$RANK-%0500d\\n\" $i; done\n"
      "printf 'no newline at the end'\n",
      3, 3);
  ASSERT_EQ(l.run(), "");
  const std::string out = l.out(), err = l.err();
  std::smatch m;
  std::string port;
  for (int r = 0; r < 3; ++r) {
    const std::regex env("\\[rank " + std::to_string(r) + "\\] env " + std::to_string(r) + " " + std::to_string(r) +
                         " 3 3 0 127\\.0\\.0\\.1 ([0-9]+) 0 0 3\n");
    ASSERT_TRUE(std::regex_search(out, m, env)) << out.substr(0, 2000);
    if (r == 0) port = m[1];
    EXPECT_EQ(m[1], port) << "every rank gets the same MASTER_PORT";
    const std::string p = "[rank " + std::to_string(r) + "] ";
    EXPECT_TRUE(contains(out, p + "first half second half\n"));
    EXPECT_TRUE(contains(out, p + "no newline at the end\n"));
    EXPECT_TRUE(contains(err, p + "to stderr\n"));
    EXPECT_FALSE(contains(out, p + "to stderr"));
  }
  const std::regex line("\\[rank ([0-2])\\] (env .*|first half second half|no newline at the end|r\\1-[0-9]{500})");
  const auto lines = lines_of(out);
  EXPECT_EQ(lines.size(), 3u * 303);
  for (const auto& s : lines) ASSERT_TRUE(std::regex_match(s, line)) << s.substr(0, 200);
  EXPECT_TRUE(contains(err, "finch: launcher: attempt 1 of 4: rank 0 pid ")) << err;
}

TEST(Launcher, RestartsAllRanksAfterAFailure) {
  // Rank 1 fails on the first attempt while rank 0 is still busy: rank 0 is
  // stopped (SIGTERM) and both start again with FINCH_RESTART_COUNT=1.
  ScriptLaunch l(
      "echo \"attempt $FINCH_RESTART_COUNT port $MASTER_PORT\"\n"
      "if [ $FINCH_RESTART_COUNT = 0 ]; then if [ $RANK = 1 ]; then exit 3; fi; sleep 60; fi\n",
      2, 3);
  const auto start = Clock::now();
  ASSERT_EQ(l.run(), "") << l.err();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20)) << "rank 0 was not stopped";
  const std::string out = l.out(), err = l.err();
  for (const char* want : {"[rank 0] attempt 0", "[rank 1] attempt 0", "[rank 0] attempt 1", "[rank 1] attempt 1"})
    EXPECT_TRUE(contains(out, want)) << want << " not in " << out;
  EXPECT_FALSE(contains(out, "attempt 2"));
  EXPECT_TRUE(contains(err, "rank 1 exited with code 3 on attempt 1 of 4; restarting all 2 ranks (restart 1 of 3)"))
      << err;
  EXPECT_TRUE(contains(err, "attempt 2 of 4: rank 0 pid"));
}

TEST(Launcher, GivesUpAfterMaxRestartsNamingRankSignalAndAttempt) {
  ScriptLaunch l("echo \"attempt $FINCH_RESTART_COUNT\"\nif [ $RANK = 1 ]; then kill -9 $$; fi\nsleep 60\n", 2, 2);
  const std::string error = l.run();
  EXPECT_EQ(error,
            "rank 1 was killed by signal 9 (SIGKILL) on attempt 3 of 3; no restarts left (parallel.max_restarts = 2)");
  const std::string out = l.out();
  EXPECT_TRUE(contains(out, "[rank 0] attempt 2"));
  EXPECT_FALSE(contains(out, "attempt 3"));
}

TEST(Launcher, NoRestartsWhenMaxRestartsIsZero) {
  ScriptLaunch l("exit $((RANK + 1))\n", 2, 0);
  const std::string error = l.run();
  EXPECT_TRUE(std::regex_match(error, std::regex("rank [01] exited with code [12] on attempt 1 of 1; no restarts left "
                                                 "\\(parallel.max_restarts = 0\\)")))
      << error;
}

TEST(Launcher, KillsARankThatIgnoresSigtermAfterTheGracePeriod) {
  ScriptLaunch l("if [ $RANK = 1 ]; then sleep 0.2; exit 1; fi\ntrap '' TERM\nwhile :; do sleep 0.05; done\n", 2, 0);
  l.options.stop_grace_s = 0.5;
  const auto start = Clock::now();
  const std::string error = l.run();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(contains(error, "rank 1 exited with code 1 on attempt 1 of 1")) << error;
  EXPECT_TRUE(contains(l.err(), "rank 0 did not stop within 0.5 s: SIGKILL")) << l.err();
}

// Sends `sig` to this process once every rank has written its ready file.
std::thread signal_when_ready(const fs::path& dir, int ranks, int sig) {
  return std::thread([dir, ranks, sig] {
    const auto end = Clock::now() + std::chrono::seconds(30);
    for (int r = 0; r < ranks && Clock::now() < end;)
      if (fs::exists(dir / ("ready." + std::to_string(r))))
        ++r;
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    kill(getpid(), sig);
  });
}

TEST(Launcher, PassesSigtermOnAndReturnsWhenEveryRankStopsCleanly) {
  ScriptLaunch l("trap 'echo \"saved and stopped\"; exit 0' TERM\ntouch \"$1/ready.$RANK\"\n"
                 "while :; do sleep 0.05; done\n",
                 2, 3);
  std::thread signaller = signal_when_ready(l.dir.path(), 2, SIGTERM);
  const std::string error = l.run();
  signaller.join();
  EXPECT_EQ(error, "");
  EXPECT_TRUE(contains(l.out(), "[rank 0] saved and stopped"));
  EXPECT_TRUE(contains(l.out(), "[rank 1] saved and stopped"));
  EXPECT_TRUE(contains(l.err(), "SIGTERM: passing it on to the ranks")) << l.err();
  EXPECT_FALSE(contains(l.err(), "attempt 2")) << "no restart after a stop signal";
}

TEST(Launcher, AfterSigintARankThatFailsIsTheCauseAndNothingRestarts) {
  ScriptLaunch l("trap 'exit $((RANK * 5))' INT\ntouch \"$1/ready.$RANK\"\nwhile :; do sleep 0.05; done\n", 2, 3);
  std::thread signaller = signal_when_ready(l.dir.path(), 2, SIGINT);
  const std::string error = l.run();
  signaller.join();
  EXPECT_EQ(error, "stopped by SIGINT: rank 1 exited with code 5 on attempt 1 of 4");
}

TEST(Launcher, AProgramThatCannotStartIsAnErrorAtOnce) {
  ScriptLaunch l("", 2, 3);
  l.options.program = "/nonexistent/finch";
  EXPECT_EQ(l.run(), "cannot start rank 0: /nonexistent/finch: No such file or directory");
}

TEST(Launcher, SignalHandlersAreRestoredAfterwards) {
  struct sigaction before {}, after {};
  sigaction(SIGTERM, nullptr, &before);
  ScriptLaunch l("true\n", 2, 0);
  ASSERT_EQ(l.run(), "");
  sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(before.sa_handler, after.sa_handler);
}

TEST(Launcher, Helpers) {
  EXPECT_EQ(describe_exit(3 << 8), "exited with code 3");
  EXPECT_EQ(describe_exit(SIGKILL), "was killed by signal 9 (SIGKILL)");
  const int port = free_port();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
  EXPECT_FALSE(own_command_line().empty());
  ParallelSettings s;
  EXPECT_EQ(s.nproc_per_node, 1);
  EXPECT_EQ(s.max_restarts, 3);
  s.offload_params = true;
  test::expect_error([&] { s.validate(); }, {"parallel.offload_params", "fsdp"});
  s.offload_params = false;
  s.nproc_per_node = 0;
  test::expect_error([&] { s.validate(); }, {"parallel.nproc_per_node", ">= 1", "0"});
  s.nproc_per_node = 2;
  s.max_restarts = -1;
  test::expect_error([&] { s.validate(); }, {"parallel.max_restarts", ">= 0"});
}

}  // namespace
}  // namespace finch::dist

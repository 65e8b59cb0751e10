// impl/isolation.hpp, process groups and signals: each child runs in a group of its own, and
// whatever it forked dies with it (verdict, crash or timeout), so nothing holds the caller's
// stdout open after ropecheck has ended; SIGINT, SIGTERM and SIGHUP to the parent reach the
// children's groups and the parent then dies of the signal; a child starts with the parent's
// original dispositions (ignored stays ignored) and never stops on the terminal.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "impl/isolation.hpp"

namespace ropecheck::impl {
namespace {

using End = ChildOutcome::End;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// True once `pid` no longer runs (gone, or a zombie nobody has reaped yet), within `seconds`.
bool ends_within(pid_t pid, double seconds) {
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// True if the read end `fd` reaches EOF within `seconds` (every write end is closed).
bool eof_within(int fd, double seconds) {
  const auto start = Clock::now();
  char buf[256];
  while (seconds_since(start) < seconds) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n == 0) return true;
    }
  }
  return false;
}

// Forks a grandchild that sleeps 600 s with the inherited descriptors open (as a kernel that
// starts a helper would) and writes its pid to the channel.
pid_t fork_sleeper(const ChildChannel& ch) {
  const pid_t g = ::fork();
  if (g == 0) {
    ::signal(SIGINT, SIG_IGN);  // only SIGKILL ends it
    ::signal(SIGTERM, SIG_IGN);
    ::sleep(600);
    ::_exit(0);
  }
  ch.write(std::to_string(g));
  return g;
}

TEST(IsolationGroup, ChildRunsInAProcessGroupOfItsOwn) {
  const ChildOutcome o = run_supervised([](const ChildChannel&) { return ::getpgrp() == ::getpid() ? 1 : 0; });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 1);
}

// Fault 19: `check` exited 0 while a kernel's grandchild held its stdout, and a caller capturing
// that output waited 10 minutes for EOF.
TEST(IsolationGroup, GrandchildHoldingStdoutDiesWithItsChild) {
  int held[2];
  ASSERT_EQ(::pipe(held), 0);  // stands for the caller's capture of ropecheck's stdout
  const auto start = Clock::now();
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    fork_sleeper(ch);
    return 0;
  });
  EXPECT_LT(seconds_since(start), 5.0);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  ::close(held[1]);
  EXPECT_TRUE(eof_within(held[0], 5.0)) << "a grandchild still holds the pipe";
  ::close(held[0]);
  const pid_t grandchild = std::stoi(o.output);
  EXPECT_TRUE(ends_within(grandchild, 5.0)) << "grandchild " << grandchild << " still runs";
}

TEST(IsolationGroup, GrandchildOfACrashedChildDiesToo) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    fork_sleeper(ch);
    ::raise(SIGSEGV);
    return 0;
  });
  ASSERT_EQ(o.end, End::kSignal) << o.describe();
  EXPECT_TRUE(ends_within(std::stoi(o.output), 5.0));
}

TEST(IsolationGroup, GrandchildOfAHungChildDiesAtTheTimeout) {
  SuperviseOptions opt;
  opt.overall_timeout = 0.5;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        fork_sleeper(ch);
        for (;;) ::pause();
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kTimeout) << o.describe();
  EXPECT_TRUE(ends_within(std::stoi(o.output), 5.0));
}

// A grandchild that writes to the captured stdout after its child has ended does not keep the
// parent waiting for EOF.
TEST(IsolationGroup, GrandchildHoldingTheCaptureDoesNotDelayTheOutcome) {
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  const auto start = Clock::now();
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        std::printf("child\n");
        fork_sleeper(ch);
        return 0;
      },
      opt);
  EXPECT_LT(seconds_since(start), 5.0);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.kernel_output, "child\n");
  EXPECT_TRUE(ends_within(std::stoi(o.output), 5.0));
}

// Ctrl-C reaches the foreground group: the parent alone, now that children have groups of their
// own.  It must pass the signal on (the children and what they forked die, even when they
// ignore it) and die of it itself, as a shell expects (status 128 + signal).
class IsolationSignal : public ::testing::TestWithParam<int> {};

TEST_P(IsolationSignal, SignalToTheParentKillsEveryChildGroupAndThenTheParent) {
  const int sig = GetParam();
  int pids[2];
  ASSERT_EQ(::pipe(pids), 0);
  std::fflush(nullptr);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    ::close(pids[0]);
    // As from an interactive shell (ctest may run tests with some of these ignored).
    for (int s : {SIGINT, SIGTERM, SIGHUP}) ::signal(s, SIG_DFL);
    run_supervised_pool(
        2, 2,
        [&](size_t, const ChildChannel& ch) {
          ::signal(SIGINT, SIG_IGN);  // a child that ignores the signal still goes
          const pid_t g = fork_sleeper(ch);
          const std::string line = std::to_string(::getpid()) + " " + std::to_string(g) + "\n";
          if (::write(pids[1], line.data(), line.size()) < 0) ::_exit(1);
          for (;;) ::pause();
          return 0;
        },
        SuperviseOptions{}, [](size_t, ChildOutcome) {});
    ::_exit(0);  // not reached: the signal ends this process
  }
  ::close(pids[1]);
  // Two children, each with a grandchild.
  std::string text;
  const auto start = Clock::now();
  while (std::count(text.begin(), text.end(), '\n') < 2 && seconds_since(start) < 10) {
    char buf[256];
    const ssize_t n = ::read(pids[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(pids[0]);
  ::kill(parent, sig);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
      << "the parent must die of " << signal_description(sig) << ", status " << status;
  std::istringstream in(text);
  int seen = 0;
  for (pid_t p; in >> p; ++seen) EXPECT_TRUE(ends_within(p, 5.0)) << "process " << p << " survived";
  EXPECT_EQ(seen, 4) << text;
}

INSTANTIATE_TEST_SUITE_P(Forwarded, IsolationSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& p) { return std::string(sigabbrev_np(p.param)); });

// The parent's handlers are gone in the child (a kernel runs with the dispositions the process
// had), an ignored signal stays ignored (nohup), and terminal stops are ignored.
TEST(IsolationGroup, ChildStartsWithTheOriginalDispositions) {
  struct sigaction old_hup {}, ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGHUP, &ign, &old_hup);
  struct sigaction old_int {}, dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, &old_int);
  const ChildOutcome o = run_supervised([](const ChildChannel&) {
    auto handler = [](int sig) {
      struct sigaction a {};
      ::sigaction(sig, nullptr, &a);
      return a.sa_handler;
    };
    int bits = 0;
    if (handler(SIGINT) == SIG_DFL) bits |= 1;
    if (handler(SIGHUP) == SIG_IGN) bits |= 2;
    if (handler(SIGTTOU) == SIG_IGN) bits |= 4;
    if (handler(SIGTTIN) == SIG_IGN) bits |= 8;
    return bits;
  });
  ::sigaction(SIGHUP, &old_hup, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 15) << "SIGINT default: 1, SIGHUP ignored: 2, SIGTTOU ignored: 4, SIGTTIN ignored: 8";
}

// The parent's handlers are only there while children run.
TEST(IsolationGroup, ParentDispositionsAreRestoredAfterwards) {
  struct sigaction before {};
  ::sigaction(SIGTERM, nullptr, &before);
  run_supervised([](const ChildChannel&) { return 0; });
  struct sigaction after {};
  ::sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace ropecheck::impl

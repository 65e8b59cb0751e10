// impl/isolation.hpp: a supervised child is classified by how it really ended — a verdict
// only when the function returned, a signal by its name, an exit() without a verdict, a hang
// by inactivity or by the overall limit — and the parent drains a child that writes a lot.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "impl/isolation.hpp"

namespace ropecheck::impl {
namespace {

using End = ChildOutcome::End;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(Isolation, ReturnedVerdictAndOutput) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    ch.write("hello ");
    ch.write("world");
    return 7;
  });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 7);
  EXPECT_EQ(o.output, "hello world");
  EXPECT_FALSE(o.kernel_fault());
  EXPECT_FALSE(o.internal_fault());
}

TEST(Isolation, SegfaultIsASignalNamedInTheSharedWording) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    ch.write("before the crash\n");
    ::raise(SIGSEGV);
    return 0;
  });
  ASSERT_EQ(o.end, End::kSignal) << o.describe();
  EXPECT_EQ(o.signal, SIGSEGV);
  EXPECT_EQ(o.describe(), "crashed with SIGSEGV (segmentation fault)");
  EXPECT_EQ(o.output, "before the crash\n");  // nothing written before the crash is lost
  EXPECT_TRUE(o.kernel_fault());
}

TEST(Isolation, AbortIsASignalToo) {
  const ChildOutcome o = run_supervised([](const ChildChannel&) -> int { std::abort(); });
  ASSERT_EQ(o.end, End::kSignal) << o.describe();
  EXPECT_EQ(o.describe(), "crashed with SIGABRT (abort)");
}

// exit(0) is the status of a clean run: only the verdict tells a finished function apart.
TEST(Isolation, ExitZeroWithoutVerdictIsNotAVerdict) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) -> int {
    ch.write(".");
    std::exit(0);
  });
  ASSERT_EQ(o.end, End::kExited) << o.describe();
  EXPECT_EQ(o.exit_status, 0);
  EXPECT_EQ(o.describe(), "exited with status 0");
  EXPECT_EQ(o.output, ".");
  EXPECT_TRUE(o.kernel_fault());
}

TEST(Isolation, UnderscoreExitWithAStatusIsNotAVerdict) {
  const ChildOutcome o = run_supervised([](const ChildChannel&) -> int { ::_exit(1); });
  ASSERT_EQ(o.end, End::kExited) << o.describe();
  EXPECT_EQ(o.exit_status, 1);
}

TEST(Isolation, VerdictIsNotTheExitStatus) {
  // A verdict of 3 from a function that returned is a verdict, not "exited with status 3".
  const ChildOutcome o = run_supervised([](const ChildChannel&) { return 3; });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 3);
}

TEST(Isolation, HangWithoutHeartbeatIsKilledAfterTheInactivityLimit) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 1;
  const auto start = std::chrono::steady_clock::now();
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        ch.write("..");
        for (;;) ::pause();
        return 0;
      },
      opt);
  const double s = seconds_since(start);
  ASSERT_EQ(o.end, End::kTimeout) << o.describe();
  EXPECT_TRUE(o.inactivity);
  EXPECT_EQ(o.limit_seconds, 1);
  EXPECT_EQ(o.describe(), "hung: no progress for 1 s (killed)");
  EXPECT_EQ(o.output, "..");  // what it wrote before it hung
  EXPECT_TRUE(o.kernel_fault());
  EXPECT_GE(s, 1.0);
  EXPECT_LT(s, 10.0);
}

TEST(Isolation, HeartbeatsKeepAChildAliveUntilTheOverallLimit) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 1;  // never reached: a beat every 50 ms
  opt.overall_timeout = 1.5;
  const auto start = std::chrono::steady_clock::now();
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        for (;;) {
          ch.write(".");
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return 0;
      },
      opt);
  const double s = seconds_since(start);
  ASSERT_EQ(o.end, End::kTimeout) << o.describe();
  EXPECT_FALSE(o.inactivity);
  EXPECT_EQ(o.limit_seconds, 1.5);
  EXPECT_EQ(o.describe(), "hung: no result within 1.5 s (killed)");
  EXPECT_GE(o.output.size(), 10u);  // ~30 beats
  EXPECT_GE(s, 1.5);
  EXPECT_LT(s, 10.0);
}

TEST(Isolation, OverallLimitAloneKillsASilentHang) {
  SuperviseOptions opt;
  opt.overall_timeout = 1;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel&) {
        for (;;) ::pause();
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kTimeout) << o.describe();
  EXPECT_FALSE(o.inactivity);
}

TEST(Isolation, ChildThatFinishesInTimeIsNotAHang) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 1;
  opt.overall_timeout = 3;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        for (int i = 0; i < 10; ++i) {  // 1.5 s in all, a beat every 150 ms
          ch.write(".");
          std::this_thread::sleep_for(std::chrono::milliseconds(150));
        }
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.output, std::string(10, '.'));
}

// Far more than a pipe holds (64 KiB): the child would block forever if the parent did not
// read while it writes.
TEST(Isolation, ChildThatWritesALotIsDrainedAndKeptWhole) {
  constexpr size_t kBytes = 8u << 20;
  SuperviseOptions opt;
  opt.inactivity_timeout = 5;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        std::string block(4096, '\0');
        for (size_t at = 0; at < kBytes; at += block.size()) {
          for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>('a' + (at + i) % 26);
          if (!ch.write(block)) return 1;
        }
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 0);
  ASSERT_EQ(o.output.size(), kBytes);
  for (size_t i = 0; i < kBytes; i += 4093) ASSERT_EQ(o.output[i], static_cast<char>('a' + i % 26)) << i;
}

TEST(Isolation, OutputCanBeStreamedInsteadOfKept) {
  SuperviseOptions opt;
  opt.keep_output = false;
  size_t streamed = 0;
  opt.on_output = [&streamed](std::string_view piece) { streamed += piece.size(); };
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        const std::string block(1000, 'x');
        for (int i = 0; i < 1000; ++i) ch.write(block);
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_TRUE(o.output.empty());
  EXPECT_EQ(streamed, 1000u * 1000u);
}

TEST(Isolation, ExceptionIsReportedAsInternalNotAsAVerdict) {
  const ChildOutcome o = run_supervised([](const ChildChannel&) -> int { throw std::runtime_error("boom"); });
  ASSERT_EQ(o.end, End::kException) << o.describe();
  EXPECT_EQ(o.error, "boom");
  EXPECT_TRUE(o.internal_fault());
  EXPECT_FALSE(o.kernel_fault());
}

// A child that execs (as `ropecheck fuzz` runs libFuzzer): its pipe closes at exec, and its
// exit status is what the program returned.
TEST(Isolation, ExecdProgramEndsWithItsExitStatus) {
  for (const auto& [prog, status] : {std::pair<const char*, int>{"/bin/true", 0}, {"/bin/false", 1}}) {
    const ChildOutcome o = run_supervised([prog = prog](const ChildChannel&) -> int {
      ::execl(prog, prog, static_cast<char*>(nullptr));
      ::_exit(127);
    });
    ASSERT_EQ(o.end, End::kExited) << prog << ": " << o.describe();
    EXPECT_EQ(o.exit_status, status) << prog;
  }
}

TEST(Isolation, PoolRunsEveryJobOnceAndAtMostParallelAtATime) {
  std::vector<int> verdicts(6, -1);
  std::vector<int> calls(6, 0);
  SuperviseOptions opt;
  opt.inactivity_timeout = 5;
  const auto start = std::chrono::steady_clock::now();
  run_supervised_pool(
      6, 2,
      [](size_t job, const ChildChannel& ch) {
        ch.write(std::to_string(job));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        if (job == 4) ::raise(SIGSEGV);
        return static_cast<int>(job) * 10;
      },
      opt,
      [&](size_t job, ChildOutcome o) {
        ASSERT_LT(job, 6u);
        ++calls[job];
        EXPECT_EQ(o.output, std::to_string(job));
        if (job == 4) {
          EXPECT_EQ(o.end, End::kSignal) << o.describe();
        } else {
          EXPECT_EQ(o.end, End::kVerdict) << o.describe();
          verdicts[job] = o.verdict;
        }
      });
  // Three rounds of two 300 ms children: at least 0.9 s (not six at once).
  EXPECT_GE(seconds_since(start), 0.85);
  for (size_t j = 0; j < 6; ++j) {
    EXPECT_EQ(calls[j], 1) << j;
    if (j != 4) {
      EXPECT_EQ(verdicts[j], static_cast<int>(j) * 10) << j;
    }
  }
}

TEST(Isolation, PoolLeftByAnExceptionKillsAndReapsItsChildren) {
  EXPECT_THROW(run_supervised_pool(
                   3, 3,
                   [](size_t job, const ChildChannel&) {
                     if (job != 0) {
                       for (;;) ::pause();
                     }
                     return 0;
                   },
                   SuperviseOptions{},
                   [](size_t, ChildOutcome) { throw std::runtime_error("stop"); }),
               std::runtime_error);
  // No child is left, running or as a zombie.
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Isolation, SignalDescriptions) {
  EXPECT_EQ(signal_description(SIGBUS), "SIGBUS (bus error)");
  EXPECT_EQ(signal_description(SIGFPE), "SIGFPE (arithmetic exception)");
  EXPECT_EQ(signal_description(SIGILL), "SIGILL (illegal instruction)");
  EXPECT_EQ(signal_description(SIGTERM), "signal " + std::to_string(SIGTERM) + " (Terminated)");
}

// Ropecheck's own long work in a child (judging a call of 65539 tokens) is not a hang: with
// OwnWorkHeartbeat the inactivity timeout counts only time inside a kernel's code.
TEST(Isolation, OwnWorkOutsideKernelCallsIsNotAHang) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 0.5;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        const OwnWorkHeartbeat own_work(ch, 0.1);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // 3x the limit, no kernel running
        return 7;
      },
      opt);
  EXPECT_EQ(o.end, ChildOutcome::End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 7);
}

TEST(Isolation, AKernelCallThatDoesNotReturnIsStillAHang) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 0.5;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        const OwnWorkHeartbeat own_work(ch, 0.1);
        const KernelCallScope in_kernel;
        std::this_thread::sleep_for(std::chrono::seconds(30));
        return 7;
      },
      opt);
  EXPECT_EQ(o.end, ChildOutcome::End::kTimeout) << o.describe();
  EXPECT_TRUE(o.inactivity);
}

}  // namespace
}  // namespace ropecheck::impl

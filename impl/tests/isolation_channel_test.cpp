// impl/isolation.hpp, the child's channel: it lives in shared memory, so a child that closes
// every file descriptor still reports; several threads' writes arrive whole; the note survives a
// crash and is the last complete one; a kernel's stdout/stderr can be captured apart from
// ropecheck's output, bounded, and printing is not a heartbeat.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "impl/isolation.hpp"

namespace ropecheck::impl {
namespace {

using End = ChildOutcome::End;

// Closes every descriptor, as a hostile kernel may (close_range(0, ~0U, 0), or a loop).
void close_every_descriptor() {
  if (::close_range(0, ~0U, 0) != 0) {
    for (int fd = 0; fd < 4096; ++fd) ::close(fd);
  }
}

TEST(IsolationChannel, ChildThatClosesEveryDescriptorStillReportsItsOutputNoteAndVerdict) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    ch.write("before ");
    close_every_descriptor();
    ch.note("the case after the close");
    return ch.write("after") ? 5 : 6;
  });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 5);
  EXPECT_EQ(o.output, "before after");
  EXPECT_EQ(o.note, "the case after the close");
}

TEST(IsolationChannel, HeartbeatsStillCountAfterTheChildClosedEveryDescriptor) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 1;  // 2 s of work, a beat every 100 ms
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        close_every_descriptor();
        for (int i = 0; i < 20; ++i) {
          ch.write(".");
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.output, std::string(20, '.'));
}

// One write is one piece: lines written by several threads never interleave.
TEST(IsolationChannel, WritesFromSeveralThreadsArriveWhole) {
  constexpr int kThreads = 4, kLines = 3000;
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&ch, t] {
        for (int i = 0; i < kLines; ++i) {
          // 200 bytes: "<thread> <line> xxxx...\n"
          std::string line = std::to_string(t) + " " + std::to_string(i) + " ";
          line.resize(199, static_cast<char>('a' + t));
          ch.write(line + "\n");
        }
      });
    }
    for (std::thread& th : threads) th.join();
    return 0;
  });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  std::istringstream lines(o.output);
  std::vector<int> next(kThreads, 0);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ASSERT_EQ(line.size(), 199u) << "line " << count << " is cut or mixed: " << line.substr(0, 40);
    const int t = line[0] - '0';
    ASSERT_TRUE(t >= 0 && t < kThreads) << line.substr(0, 40);
    EXPECT_EQ(line.find_first_not_of(static_cast<char>('a' + t), line.find(' ', 2) + 1), std::string::npos)
        << line.substr(0, 40);
    EXPECT_EQ(std::stoi(line.substr(2)), next[static_cast<size_t>(t)]++) << "lines of one thread out of order";
  }
  EXPECT_EQ(count, kThreads * kLines);
}

TEST(IsolationChannel, NoteSurvivesACrashAndIsTheLastOne) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    ch.note("case 1");
    ch.note("case 2, longer than the first");
    ch.note("case 3");
    ::raise(SIGSEGV);
    return 0;
  });
  ASSERT_EQ(o.end, End::kSignal) << o.describe();
  EXPECT_EQ(o.note, "case 3");
  EXPECT_FALSE(o.note_truncated);
  EXPECT_TRUE(o.output.empty()) << "a note is not output";
}

TEST(IsolationChannel, NoNoteIsAnEmptyNote) {
  const ChildOutcome o = run_supervised([](const ChildChannel&) { return 0; });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_TRUE(o.note.empty());
  EXPECT_FALSE(o.note_truncated);
}

TEST(IsolationChannel, NoteLongerThanTheLimitIsCutAndSaysSo) {
  const ChildOutcome o = run_supervised([](const ChildChannel& ch) {
    std::string big(kChildNoteMaxBytes + 10, 'n');
    big[0] = 'F';
    return ch.note(big) ? 1 : 0;
  });
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 0) << "note() must say it cut the note";
  EXPECT_TRUE(o.note_truncated);
  ASSERT_EQ(o.note.size(), kChildNoteMaxBytes);
  EXPECT_EQ(o.note[0], 'F');
}

// The notes are not a heartbeat: a child that only updates its note hangs.
TEST(IsolationChannel, NoteIsNotAHeartbeat) {
  SuperviseOptions opt;
  opt.inactivity_timeout = 0.5;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        for (int i = 0;; ++i) {
          ch.note("case " + std::to_string(i));
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kTimeout) << o.describe();
  EXPECT_EQ(o.note.rfind("case ", 0), 0u) << o.note;
}

// Reads what arrived on a pipe so far (non-blocking).
std::string read_available(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  return got;
}

// Runs `fn` supervised with this process's stdout and stderr pointing at a pipe; returns the
// outcome and, in *leaked, what reached them.
ChildOutcome run_with_stdio_watched(const ChildFunction& fn, const SuperviseOptions& opt, std::string* leaked) {
  std::fflush(nullptr);
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  const int saved_out = ::dup(STDOUT_FILENO), saved_err = ::dup(STDERR_FILENO);
  ::dup2(p[1], STDOUT_FILENO);
  ::dup2(p[1], STDERR_FILENO);
  ::close(p[1]);
  ChildOutcome o = run_supervised(fn, opt);
  std::fflush(nullptr);
  ::dup2(saved_out, STDOUT_FILENO);
  ::dup2(saved_err, STDERR_FILENO);
  ::close(saved_out);
  ::close(saved_err);
  *leaked = read_available(p[0]);
  ::close(p[0]);
  return o;
}

TEST(IsolationChannel, CapturedKernelOutputIsReturnedApartAndNotPrinted) {
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  std::string leaked;
  const ChildOutcome o = run_with_stdio_watched(
      [](const ChildChannel& ch) {
        std::printf("kernel says hello on stdout\n");
        std::fprintf(stderr, "kernel complains on stderr\n");
        ::write(STDOUT_FILENO, "raw write\n", 10);
        ch.write("ropecheck's own text");
        return 0;
      },
      opt, &leaked);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(leaked, "") << "the kernel's output reached ropecheck's stdout/stderr";
  EXPECT_EQ(o.output, "ropecheck's own text");
  EXPECT_NE(o.kernel_output.find("kernel says hello on stdout\n"), std::string::npos) << o.kernel_output;
  EXPECT_NE(o.kernel_output.find("kernel complains on stderr\n"), std::string::npos) << o.kernel_output;
  EXPECT_NE(o.kernel_output.find("raw write\n"), std::string::npos) << o.kernel_output;
  EXPECT_EQ(o.kernel_output_bytes, o.kernel_output.size());
}

// Without the option, the child prints where the parent prints (what callers had before).
TEST(IsolationChannel, UncapturedKernelOutputGoesToTheParentsStdout) {
  std::string leaked;
  const ChildOutcome o = run_with_stdio_watched(
      [](const ChildChannel&) {
        std::printf("straight through\n");
        return 0;
      },
      SuperviseOptions{}, &leaked);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(leaked, "straight through\n");
  EXPECT_TRUE(o.kernel_output.empty());
}

// A line printed (line-buffered stdout) before a crash is kept.
TEST(IsolationChannel, CapturedLinesBeforeACrashAreKept) {
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel&) {
        std::printf("last words\n");
        ::raise(SIGSEGV);
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kSignal) << o.describe();
  EXPECT_EQ(o.kernel_output, "last words\n");
}

TEST(IsolationChannel, CapturedOutputIsBoundedAndSaysHowMuchWasCut) {
  constexpr size_t kPrinted = size_t{1} << 20;
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel&) {
        std::string block(4096, '\0');
        for (size_t at = 0; at < kPrinted; at += block.size()) {
          for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>('a' + (at + i) % 26);
          if (::write(STDOUT_FILENO, block.data(), block.size()) != static_cast<ssize_t>(block.size())) return 1;
        }
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 0);
  EXPECT_EQ(o.kernel_output_bytes, kPrinted);
  ASSERT_GT(o.kernel_output.size(), opt.kernel_output_limit);
  for (size_t i = 0; i < opt.kernel_output_limit; i += 997) {
    ASSERT_EQ(o.kernel_output[i], static_cast<char>('a' + i % 26)) << i;
  }
  EXPECT_EQ(o.kernel_output.substr(opt.kernel_output_limit),
            "\n[ropecheck: kernel output truncated: 1048576 bytes printed, the first 65536 kept]\n");
}

TEST(IsolationChannel, PrintingIsNotAHeartbeat) {
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  opt.inactivity_timeout = 0.5;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel&) {
        for (;;) {
          std::printf("still busy\n");
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return 0;
      },
      opt);
  ASSERT_EQ(o.end, End::kTimeout) << o.describe();
  EXPECT_TRUE(o.inactivity);
  EXPECT_EQ(o.kernel_output.rfind("still busy\n", 0), 0u);
}

// The channel is not on fd 1 or 2: a kernel that closes them, or points them elsewhere, does
// not touch it, and a captured child's channel works as well.
TEST(IsolationChannel, CapturedChildThatClosesItsStdioStillReports) {
  SuperviseOptions opt;
  opt.capture_kernel_output = true;
  const ChildOutcome o = run_supervised(
      [](const ChildChannel& ch) {
        std::printf("before\n");
        std::fflush(stdout);
        ::close(STDOUT_FILENO);
        ::close(STDERR_FILENO);
        ch.write("still here");
        return 2;
      },
      opt);
  ASSERT_EQ(o.end, End::kVerdict) << o.describe();
  EXPECT_EQ(o.verdict, 2);
  EXPECT_EQ(o.output, "still here");
  EXPECT_EQ(o.kernel_output, "before\n");
}

}  // namespace
}  // namespace ropecheck::impl

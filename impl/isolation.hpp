// Running untrusted kernel code in a child process, supervised by the parent.
//
// Every command that calls a kernel it does not trust (check, report, repro, fuzz, and the
// fuzz replay and driver) forks a child through this file: the child runs a function, may
// write heartbeats and text to the parent through a pipe, and ends with a verdict — the
// function's return value — stored in memory shared with the parent.  Only this file's child
// wrapper writes the verdict, after the function has returned, so a kernel that calls exit(),
// _exit() or crashes ends the child without one: the parent tells "finished with verdict V"
// from "the process ended on its own" whatever the exit status says.
//
// The parent reads the pipe as the child writes (the child never blocks on a full pipe), kills
// the child (SIGKILL: every thread of it) when it has written nothing for
// `inactivity_timeout` seconds or has run for `overall_timeout` seconds, reaps it, and
// classifies how it ended, once, for every caller.  poll, read, write and waitpid are retried
// on EINTR.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ropecheck::impl {

// The child's end of the pipe to the parent.
class ChildChannel {
 public:
  explicit ChildChannel(int fd) : fd_(fd) {}
  int fd() const { return fd_; }
  // Writes all of `text` (a heartbeat is any byte); false if the parent is gone.  Writes of
  // up to PIPE_BUF bytes arrive whole, even from several threads.
  bool write(std::string_view text) const;

 private:
  int fd_;
};

struct SuperviseOptions {
  double inactivity_timeout = 0;  // s without a byte from the child: a hang (0: no limit)
  double overall_timeout = 0;     // s since the child started: a hang (0: no limit)
  bool keep_output = true;        // keep what the child writes in ChildOutcome::output
  // Called in the parent with each piece of output as it arrives (e.g. to echo it).
  std::function<void(std::string_view)> on_output;
};

// How a supervised child ended.  The first that applies: kTimeout (the parent killed it),
// kSignal, kException / kVerdict (the function threw / returned), kExited.
struct ChildOutcome {
  enum class End {
    kVerdict,    // the function returned `verdict`
    kExited,     // the process ended with `exit_status` before the function returned: exit()
    kSignal,     // killed by `signal` (a crash; not by the parent)
    kTimeout,    // killed by the parent: no byte for `limit_seconds` (inactivity) or ran too long
    kException,  // the function let an exception out (`error`): a bug of the caller's
    kNoChild,    // no child: pipe, mmap or fork failed (`error`)
  };
  End end = End::kNoChild;
  int verdict = 0;
  int exit_status = 0;
  int signal = 0;
  bool inactivity = false;   // kTimeout: the inactivity limit (else the overall one)
  double limit_seconds = 0;  // kTimeout: the limit that was reached
  std::string error;
  std::string output;        // what the child wrote to its channel (if keep_output)

  // The kernel's doing: a crash, an exit() or a hang.
  bool kernel_fault() const { return end == End::kSignal || end == End::kExited || end == End::kTimeout; }
  // ropecheck's doing: an exception out of the function, or no child at all.
  bool internal_fault() const { return end == End::kException || end == End::kNoChild; }

  // "crashed with SIGSEGV (segmentation fault)", "exited with status 1", "hung: no progress
  // for 20 s (killed)", "hung: no result within 20 s (killed)", "returned 0", "threw: ...",
  // "could not start a child process: ...".
  std::string describe() const;
};

// "SIGSEGV (segmentation fault)", "SIGABRT (abort)", ..., "signal 40 (Real-time signal 6)".
std::string signal_description(int sig);

// The function a child runs; its return value is the verdict.  It must return (or throw),
// never leave the process through the caller's code.
using ChildFunction = std::function<int(const ChildChannel&)>;
using PoolFunction = std::function<int(size_t job, const ChildChannel&)>;

// Runs `fn` in a child and returns how it ended.
ChildOutcome run_supervised(const ChildFunction& fn, const SuperviseOptions& opt = {});

// Jobs 0 .. count-1, each in a child of its own, at most `parallel` at a time (the options,
// timeouts included, apply to each).  `done(job, outcome)` is called in the parent as each
// ends, in the order they end.  If `done` or `on_output` throws, the children still running
// are killed and reaped before the exception leaves.
void run_supervised_pool(size_t count, int parallel, const PoolFunction& fn, const SuperviseOptions& opt,
                         const std::function<void(size_t job, ChildOutcome outcome)>& done);

}  // namespace ropecheck::impl

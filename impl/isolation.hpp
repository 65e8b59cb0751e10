// Running untrusted kernel code in a child process, supervised by the parent.
//
// Every command that calls a kernel it does not trust (check, report, repro, fuzz, the fuzz
// replay and driver, and the plugin loader's probe) forks a child through this file: the child
// runs a function, may send the parent text (heartbeats, progress, results) and a note (what it
// is doing now), and ends with a verdict — the function's return value.  Only this file's child
// wrapper writes the verdict, after the function has returned, so a kernel that calls exit(),
// _exit() or crashes ends the child without one: the parent tells "finished with verdict V"
// from "the process ended on its own" whatever the exit status says.
//
// Everything the child tells the parent goes through one page of memory shared with it
// (MAP_SHARED), never through a file descriptor: a kernel that closes every descriptor it can
// (close_range(0, ~0U)), or redirects its stdout, cannot cut the child off.  The parent takes
// the child's text as it comes (a child never waits long on a full buffer), kills the child when
// it has sent nothing for `inactivity_timeout` seconds or has run for `overall_timeout` seconds,
// reaps it, and classifies how it ended, once, for every caller.
//
// Each child runs in a process group of its own, and when it ends (verdict, crash, exit or
// timeout) the whole group is killed (SIGKILL) before the child is reaped: nothing a kernel
// forks outlives its child to hold ropecheck's stdout open.  Being out of the terminal's
// foreground group, children do not see the terminal's Ctrl-C; while children run, the parent
// catches SIGINT, SIGTERM, SIGHUP and SIGQUIT (unless they are ignored), passes the signal on to
// every live child group, kills the groups, and then dies of the signal itself with its previous
// disposition (so a shell sees "killed by SIGINT").  A child also dies with its parent
// (PR_SET_PDEATHSIG), and never stops on the terminal (SIGTTOU and SIGTTIN are ignored in it: a
// background write goes through even under `stty tostop`, a background read fails).  A
// grandchild that leaves the group itself (setsid, setpgid) escapes all this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ropecheck::impl {

struct SharedPage;  // isolation.cpp: verdict, text buffer and note of one child

// The longest note a child can leave (ChildChannel::note); a longer one is cut.
inline constexpr size_t kChildNoteMaxBytes = size_t{4} << 20;

// The child's end of its channel to the parent.  Made by run_supervised for the function it runs.
class ChildChannel {
 public:
  // Appends `text` to what the parent collects (ChildOutcome::output, on_output); any byte is
  // a heartbeat.  A write is never interleaved with another thread's write.  Waits while the
  // buffer (1 MiB) is full, which the parent empties within milliseconds; false if the parent
  // is gone.
  bool write(std::string_view text) const;
  // Replaces the child's note — e.g. the case it is about to run — which the parent finds in
  // ChildOutcome::note however the child ends: a crash in the middle of note() leaves the
  // previous note whole.  Not a heartbeat.  False if `text` is longer than kChildNoteMaxBytes
  // (the note is then its first kChildNoteMaxBytes bytes, and ChildOutcome::note_truncated).
  bool note(std::string_view text) const;

 private:
  friend struct ChildChannelAccess;
  explicit ChildChannel(SharedPage* page) : page_(page) {}
  SharedPage* page_;
};

struct SuperviseOptions {
  double inactivity_timeout = 0;  // s without a byte from the child: a hang (0: no limit)
  double overall_timeout = 0;     // s since the child started: a hang (0: no limit)
  bool keep_output = true;        // keep what the child writes in ChildOutcome::output
  // Called in the parent with each piece of output as it arrives (e.g. to echo it); the pool's
  // on_job_output also says which job's child wrote it.
  std::function<void(std::string_view)> on_output;
  std::function<void(size_t job, std::string_view)> on_job_output;
  // Redirects the child's stdout and stderr (fd 1 and 2) to a pipe the parent reads: what the
  // kernel (or anything in the child) prints lands in ChildOutcome::kernel_output instead of
  // ropecheck's own output.  stdout is line-buffered in the child, so lines printed before a
  // crash are kept.  Printing is never a heartbeat.
  bool capture_kernel_output = false;
  size_t kernel_output_limit = 64 * 1024;  // bytes of kernel_output kept; the rest is counted
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
    kNoChild,    // no child: mmap, pipe or fork failed (`error`)
  };
  End end = End::kNoChild;
  int verdict = 0;
  int exit_status = 0;
  int signal = 0;
  bool inactivity = false;   // kTimeout: the inactivity limit (else the overall one)
  double limit_seconds = 0;  // kTimeout: the limit that was reached
  std::string error;
  std::string output;        // what the child wrote to its channel (if keep_output)
  // The child's last complete ChildChannel::note (empty if it left none), and whether it was cut.
  std::string note;
  bool note_truncated = false;
  // capture_kernel_output: what the child printed on stdout and stderr, in the order it arrived,
  // at most kernel_output_limit bytes; when more was printed, followed by the line
  // "[ropecheck: kernel output truncated: N bytes printed, the first L kept]".
  std::string kernel_output;
  uint64_t kernel_output_bytes = 0;  // everything printed, kept or not

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

// Thrown by run_supervised(_pool) when SIGINT, SIGTERM, SIGHUP or SIGQUIT arrived while children
// ran and the process had a handler of its own for it (which has run): the children are killed
// and reaped, and none of their outcomes is reported.  (With the default disposition the process
// dies of the signal instead.)
class SupervisionInterrupted : public std::runtime_error {
 public:
  explicit SupervisionInterrupted(int sig);
  int signal() const { return signal_; }

 private:
  int signal_;
};

// The function a child runs; its return value is the verdict.  It must return (or throw),
// never leave the process through the caller's code.
using ChildFunction = std::function<int(const ChildChannel&)>;
using PoolFunction = std::function<int(size_t job, const ChildChannel&)>;

// Runs `fn` in a child and returns how it ended.
ChildOutcome run_supervised(const ChildFunction& fn, const SuperviseOptions& opt = {});

// Jobs 0 .. count-1, each in a child of its own, at most `parallel` at a time (the options,
// timeouts included, apply to each).  `done(job, outcome)` is called in the parent as each
// ends, in the order they end.  If `done`, `on_output` or `on_job_output` throws, the
// children still running are killed and reaped before the exception leaves (a caller stops
// the pool early that way).
void run_supervised_pool(size_t count, int parallel, const PoolFunction& fn, const SuperviseOptions& opt,
                         const std::function<void(size_t job, ChildOutcome outcome)>& done);

// Marks the process as running a kernel's code (prepare, a call, release) while it lives;
// scopes nest and may be taken on several threads.  OwnWorkHeartbeat reads it.
class KernelCallScope {
 public:
  KernelCallScope();
  ~KernelCallScope();
  KernelCallScope(const KernelCallScope&) = delete;
  KernelCallScope& operator=(const KernelCallScope&) = delete;
};
bool kernel_call_in_flight();

// In a supervised child: a thread that writes a heartbeat byte (".") to the channel every
// `period` seconds while no KernelCallScope is alive.  The inactivity timeout then measures the
// kernel alone: ropecheck's own long work (building a cos/sin cache for 65539 positions,
// judging the four million pairs of one call) is never taken for a kernel that hangs, and a
// kernel that does not return still is.
class OwnWorkHeartbeat {
 public:
  explicit OwnWorkHeartbeat(const ChildChannel& channel, double period = 0.5);
  ~OwnWorkHeartbeat();
  OwnWorkHeartbeat(const OwnWorkHeartbeat&) = delete;
  OwnWorkHeartbeat& operator=(const OwnWorkHeartbeat&) = delete;

 private:
  struct State;
  State* state_;
};

// Catches what this process prints on stdout and stderr (fd 1 and 2) between begin() and
// end(): a kernel's own printing, kept apart from ropecheck's output (`ropecheck report`
// measures in one child and prints from it, so the child's fds cannot simply go to a pipe).
// The buffer is an anonymous file made by the constructor: a parent that constructs it and
// then forks can still read, after the child crashed, what the child's kernel printed.
class OutputCapture {
 public:
  OutputCapture();  // throws std::runtime_error when no anonymous file can be made
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  void begin();  // flushes stdio; fd 1 and 2 write into the (emptied) buffer
  void end();    // flushes stdio; fd 1 and 2 are what they were before begin()
  // What was printed since the last begin(): at most the last `limit` bytes (cut at a line
  // start), and in *bytes everything printed.
  std::string text(size_t limit, uint64_t* bytes) const;

 private:
  int fd_ = -1;
  int saved_out_ = -1, saved_err_ = -1;
};

// "\n  the kernel printed N bytes DURING (last lines):\n    | line ..." for a finding's message
// or a report's run: the last ~2 KiB, so the lines before a crash are there; "" if nothing.
std::string printed_lines(const std::string& text, uint64_t bytes, const std::string& during);

}  // namespace ropecheck::impl

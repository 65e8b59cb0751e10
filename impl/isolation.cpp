#include "impl/isolation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace ropecheck::impl {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kReturned = 0x52435644;
constexpr uint32_t kThrew = 0x52435445;
constexpr size_t kRingBytes = size_t{1} << 20;

}  // namespace

// The memory one child shares with its parent (MAP_SHARED | MAP_ANONYMOUS: zero-filled, and only
// the pages touched cost memory).  `state` is set by the child wrapper only, after the function
// has returned or thrown.  The text ring holds bytes [tail, head) of everything written: only
// the child moves `head`, only the parent moves `tail`, so neither needs a lock across processes;
// the child's threads take turns with `write_lock`.  Lock-free 32- and 64-bit atomics are
// address-free, so they work between processes.
struct SharedPage {
  std::atomic<uint32_t> state;
  std::atomic<int32_t> verdict;
  char error[4000];  // kThrew: what(), NUL-terminated
  pid_t parent;      // the supervising process: a child that finds another parent has lost it
  std::atomic<uint32_t> write_lock;
  std::atomic<uint32_t> note_lock;
  std::atomic<uint64_t> head;
  std::atomic<uint64_t> tail;
  // Two note slots: note() fills the one not in use, then publishes it, so a crash while
  // filling one leaves the other — the last complete note — in place.  0: no note yet.
  std::atomic<uint32_t> note_slot;
  struct Note {
    uint64_t size;       // bytes kept
    uint32_t truncated;  // 1: the note given was longer
    char text[kChildNoteMaxBytes];
  } notes[2];
  char ring[kRingBytes];
};

struct ChildChannelAccess {
  static ChildChannel make(SharedPage* page) { return ChildChannel(page); }
};

namespace {

static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free,
              "the shared page needs address-free atomics");

// A spin lock between the child's threads (a kernel may call back from several): held for a
// memcpy at most, or while the parent empties a full ring.
class SpinGuard {
 public:
  explicit SpinGuard(std::atomic<uint32_t>& word) : word_(word) {
    while (word_.exchange(1, std::memory_order_acquire) != 0) ::sched_yield();
  }
  ~SpinGuard() { word_.store(0, std::memory_order_release); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  std::atomic<uint32_t>& word_;
};

// ---- signals: forwarding to the children's process groups ----------------------------------

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr size_t kNumForwarded = sizeof kForwarded / sizeof kForwarded[0];
constexpr size_t kMaxGroups = 1024;  // live children of every pool of this process

// Read by the signal handler: only lock-free atomics and data written before the handler is
// installed.
std::atomic<pid_t> g_groups[kMaxGroups];
struct sigaction g_previous[kNumForwarded];
bool g_ours[kNumForwarded];             // our handler is installed for kForwarded[i]
std::atomic<int> g_interrupted{0};      // the last forwarded signal (0: none)
std::atomic_flag g_install_lock = ATOMIC_FLAG_INIT;
int g_users = 0;                        // pools running (installs on 0 -> 1, restores on 1 -> 0)

void kill_group(pid_t pgid) {
  if (pgid <= 1) return;  // kill(-1) would be every process we may signal
  ::kill(-pgid, SIGKILL);
  ::kill(pgid, SIGKILL);  // in case the child never got its own group
}

extern "C" void forward_signal(int sig) {
  const int saved_errno = errno;
  g_interrupted.store(sig);
  // What a child would have got from the terminal, then SIGKILL for whatever ignores it.
  for (std::atomic<pid_t>& slot : g_groups) {
    if (const pid_t g = slot.load(); g > 0) ::kill(-g, sig);
  }
  for (std::atomic<pid_t>& slot : g_groups) {
    if (const pid_t g = slot.load(); g > 0) kill_group(g);
  }
  // The signal is blocked while this handler runs: raised again, it is delivered when the
  // handler returns, with the disposition the process had before — by default, death by it.
  for (size_t i = 0; i < kNumForwarded; ++i) {
    if (kForwarded[i] == sig && g_ours[i]) ::sigaction(sig, &g_previous[i], nullptr);
  }
  ::raise(sig);
  errno = saved_errno;
}

void lock_install() {
  while (g_install_lock.test_and_set(std::memory_order_acquire)) ::sched_yield();
}
void unlock_install() { g_install_lock.clear(std::memory_order_release); }

// Installs forward_signal for each forwarded signal the process does not ignore (an ignored
// one stays ignored, in the children too: `nohup` keeps working).
void install_forwarding() {
  lock_install();
  if (g_users++ == 0) {
    g_interrupted.store(0);
    for (size_t i = 0; i < kNumForwarded; ++i) {
      struct sigaction current {};
      ::sigaction(kForwarded[i], nullptr, &current);
      g_ours[i] = current.sa_handler != SIG_IGN;
      if (!g_ours[i]) continue;
      g_previous[i] = current;
      struct sigaction ours {};
      ours.sa_handler = forward_signal;
      sigfillset(&ours.sa_mask);  // no other signal in the middle of the handler
      ours.sa_flags = SA_RESTART;
      ::sigaction(kForwarded[i], &ours, nullptr);
    }
  }
  unlock_install();
}

void uninstall_forwarding() {
  lock_install();
  if (--g_users == 0) {
    for (size_t i = 0; i < kNumForwarded; ++i) {
      if (g_ours[i]) ::sigaction(kForwarded[i], &g_previous[i], nullptr);
      g_ours[i] = false;
    }
  }
  unlock_install();
}

// Restores, in a new child, the dispositions the process had before any pool: the kernel runs
// as it would in the parent.  The child's copy of the group table is its parent's; it forgets it.
void reset_signals_in_child() {
  for (size_t i = 0; i < kNumForwarded; ++i) {
    if (g_ours[i]) ::sigaction(kForwarded[i], &g_previous[i], nullptr);
    g_ours[i] = false;
  }
  for (std::atomic<pid_t>& slot : g_groups) slot.store(0);
  g_users = 0;
  g_install_lock.clear();
  g_interrupted.store(0);
  // A child is not in the terminal's foreground group: writing to the terminal under
  // `stty tostop`, or reading from it, would stop it (SIGTTOU, SIGTTIN) until it timed out.
  // Ignored, the write goes through and the read fails with EIO.
  ::signal(SIGTTOU, SIG_IGN);
  ::signal(SIGTTIN, SIG_IGN);
}

bool register_group(pid_t pgid) {
  for (std::atomic<pid_t>& slot : g_groups) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pgid)) return true;
  }
  return false;  // more than kMaxGroups live children: this one is not forwarded signals
}

void unregister_group(pid_t pgid) {
  for (std::atomic<pid_t>& slot : g_groups) {
    pid_t expected = pgid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

sigset_t forwarded_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  return set;
}

// ---- children ----------------------------------------------------------------------------

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by default
#else
  (void)pid;
  return -1;
#endif
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string seconds_text(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

struct Child {
  size_t job = 0;
  pid_t pid = -1;  // also its process group
  bool reaped = false;
  SharedPage* page = nullptr;
  uint64_t taken = 0;    // bytes of the ring the parent has taken (its own count: the page is
                         // writable by the child and may be garbage)
  int pidfd = -1;        // readable when the child has ended (-1: not available, poll waitid)
  int capture_fd = -1;   // capture_kernel_output: read end of the child's fd 1 and 2
  bool capture_eof = false;
  std::string kernel_output;
  uint64_t kernel_output_bytes = 0;
  Clock::time_point start, last_byte;
  bool timed_out = false, inactivity = false;
  double limit = 0;
  std::string output;

  void release() {
    if (pidfd >= 0) ::close(pidfd);
    if (capture_fd >= 0) ::close(capture_fd);
    if (page != nullptr) ::munmap(page, sizeof(SharedPage));
    pidfd = capture_fd = -1;
    page = nullptr;
  }
};

ChildOutcome no_child(const char* what, int err) {
  ChildOutcome o;
  o.end = ChildOutcome::End::kNoChild;
  o.error = std::string(what) + ": " + std::strerror(err);
  return o;
}

[[noreturn]] void child_main(const PoolFunction& fn, size_t job, SharedPage* page, int capture_write,
                             const std::vector<int>& others_fds, const sigset_t& old_mask) {
  ::setpgid(0, 0);  // also done by the parent: whichever runs first
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != page->parent) ::_exit(127);  // the parent died before PDEATHSIG was set
  reset_signals_in_child();
  for (int fd : others_fds) ::close(fd);  // siblings' pipes and pidfds are none of its business
  if (capture_write >= 0) {
    ::dup2(capture_write, STDOUT_FILENO);
    ::dup2(capture_write, STDERR_FILENO);
    ::close(capture_write);
    // Line-buffered (a pipe would make it fully buffered): lines printed before a crash arrive.
    // setvbuf is only valid before a stream's first use, and the parent has used stdout: a new
    // stream on fd 1 replaces it (glibc documents stdout as an assignable variable).  The old
    // one is empty (the parent flushed every stream before fork); std::cout keeps writing to it.
    if (FILE* line_buffered = ::fdopen(STDOUT_FILENO, "w")) {
      std::setvbuf(line_buffered, nullptr, _IOLBF, BUFSIZ);
      stdout = line_buffered;
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  int verdict = 0;
  std::string error;
  bool threw = false;
  try {
    verdict = fn(job, ChildChannelAccess::make(page));
  } catch (const std::exception& e) {
    threw = true;
    error = e.what();
  } catch (...) {
    threw = true;
    error = "an exception that is not a std::exception";
  }
  std::fflush(nullptr);
  if (threw) {
    const size_t n = std::min(error.size(), sizeof page->error - 1);
    std::memcpy(page->error, error.data(), n);
    page->error[n] = '\0';
  }
  page->verdict.store(verdict, std::memory_order_relaxed);
  page->state.store(threw ? kThrew : kReturned, std::memory_order_release);
  ::_exit(0);
}

// Forks the child of `c.job`; on failure the kNoChild outcome.  `running`: the pool's other
// children, whose descriptors the new child closes.
std::optional<ChildOutcome> start(Child& c, const PoolFunction& fn, const SuperviseOptions& opt,
                                  const std::vector<Child>& running) {
  void* mem = ::mmap(nullptr, sizeof(SharedPage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return no_child("mmap failed", errno);
  c.page = new (mem) SharedPage;  // default-initialised: the zero pages stay untouched
  c.page->parent = ::getpid();
  int capture[2] = {-1, -1};
  if (opt.capture_kernel_output && ::pipe2(capture, O_CLOEXEC) != 0) {
    const int err = errno;
    c.release();
    return no_child("pipe failed", err);
  }
  std::vector<int> others_fds;
  for (const Child& o : running) {
    if (o.pidfd >= 0) others_fds.push_back(o.pidfd);
    if (o.capture_fd >= 0) others_fds.push_back(o.capture_fd);
  }
  // No forwarded signal between fork and the group's registration: it would miss this child.
  sigset_t block = forwarded_set(), old_mask;
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (capture[0] >= 0) {
      ::close(capture[0]);
      ::close(capture[1]);
    }
    c.release();
    return no_child("fork failed", err);
  }
  if (pid == 0) {
    if (capture[0] >= 0) ::close(capture[0]);
    child_main(fn, c.job, c.page, capture[1], others_fds, old_mask);
  }
  ::setpgid(pid, pid);  // also done by the child: no kill(-pid) can find no group
  register_group(pid);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  // Children forked later need not see this page (a wild write there could forge a verdict).
  ::madvise(c.page, sizeof(SharedPage), MADV_DONTFORK);
  c.pid = pid;
  c.pidfd = pidfd_open(pid);
  if (capture[0] >= 0) {
    ::close(capture[1]);
    ::fcntl(capture[0], F_SETFL, ::fcntl(capture[0], F_GETFL) | O_NONBLOCK);
    c.capture_fd = capture[0];
  }
  c.start = c.last_byte = Clock::now();
  return std::nullopt;
}

// Takes what the child has written since the last call; returns the number of bytes.
size_t drain(Child& c, const SuperviseOptions& opt) {
  const uint64_t head = c.page->head.load(std::memory_order_acquire);
  if (head == c.taken) return 0;
  if (head - c.taken > kRingBytes) {  // not something write() does: skip it, never read beyond the ring
    c.taken = head;
    c.page->tail.store(head, std::memory_order_release);
    return 0;
  }
  const size_t n = static_cast<size_t>(head - c.taken);
  const size_t at = static_cast<size_t>(c.taken % kRingBytes), first = std::min(n, kRingBytes - at);
  std::string piece(c.page->ring + at, first);
  piece.append(c.page->ring, n - first);
  c.taken = head;
  c.page->tail.store(head, std::memory_order_release);  // the child may write again
  c.last_byte = Clock::now();
  if (opt.keep_output) c.output += piece;
  if (opt.on_output) opt.on_output(piece);
  if (opt.on_job_output) opt.on_job_output(c.job, piece);
  return n;
}

// Reads what the child printed (capture_kernel_output), keeping the first kernel_output_limit
// bytes.  `everything`: until EOF or nothing more (the child has ended); otherwise at most
// 1 MiB, so that one chatty child cannot starve the others.
void drain_capture(Child& c, const SuperviseOptions& opt, bool everything) {
  if (c.capture_fd < 0 || c.capture_eof) return;
  char buf[65536];
  for (int round = 0; everything || round < 16; ++round) {
    const ssize_t n = ::read(c.capture_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more for now
    if (n == 0) {
      c.capture_eof = true;
      return;
    }
    const size_t room = opt.kernel_output_limit - std::min(opt.kernel_output_limit, c.kernel_output.size());
    c.kernel_output.append(buf, std::min(room, static_cast<size_t>(n)));
    c.kernel_output_bytes += static_cast<uint64_t>(n);
  }
}

// Seconds until the child's nearest limit (may be negative: over it); +inf without limits.
double seconds_left(const Child& c, const SuperviseOptions& opt, Clock::time_point now, bool* inactivity,
                    double* limit) {
  double left = INFINITY;
  if (opt.inactivity_timeout > 0) {
    left = opt.inactivity_timeout - std::chrono::duration<double>(now - c.last_byte).count();
    *inactivity = true;
    *limit = opt.inactivity_timeout;
  }
  if (opt.overall_timeout > 0) {
    const double overall = opt.overall_timeout - std::chrono::duration<double>(now - c.start).count();
    if (overall < left) {
      left = overall;
      *inactivity = false;
      *limit = opt.overall_timeout;
    }
  }
  return left;
}

// True if the child has ended, without reaping it: its zombie keeps the process group's id
// taken until the group has been killed.
bool has_ended(Child& c) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(c.pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
    // ECHILD: reaped behind our back (its pid, and so its group's id, may be taken already).
    if (errno == ECHILD) c.reaped = true;
    return c.reaped;
  }
  return info.si_pid == c.pid;
}

// Kills the child's group, reaps the child and takes everything it left.
int finish(Child& c, const SuperviseOptions& opt) {
  int status = 0;
  if (!c.reaped) {
    kill_group(c.pid);
    status = wait_for(c.pid);
    c.reaped = true;
  }
  unregister_group(c.pid);
  drain(c, opt);  // may throw (on_output): the child is reaped, ~RunningChildren only releases it
  drain_capture(c, opt, true);
  return status;
}

ChildOutcome classify(Child& c, int status, const SuperviseOptions& opt) {
  ChildOutcome o;
  o.output = std::move(c.output);
  const uint32_t state = c.page->state.load(std::memory_order_acquire);
  if (c.timed_out) {
    o.end = ChildOutcome::End::kTimeout;
    o.inactivity = c.inactivity;
    o.limit_seconds = c.limit;
  } else if (WIFSIGNALED(status)) {
    o.end = ChildOutcome::End::kSignal;
    o.signal = WTERMSIG(status);
  } else if (state == kThrew) {
    o.end = ChildOutcome::End::kException;
    o.error = std::string(c.page->error, strnlen(c.page->error, sizeof c.page->error));
  } else if (state == kReturned) {
    o.end = ChildOutcome::End::kVerdict;
    o.verdict = c.page->verdict.load(std::memory_order_relaxed);
  } else {
    o.end = ChildOutcome::End::kExited;
    o.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const uint32_t slot = c.page->note_slot.load(std::memory_order_acquire);
  if (slot == 1 || slot == 2) {
    const SharedPage::Note& n = c.page->notes[slot - 1];
    o.note.assign(n.text, static_cast<size_t>(std::min<uint64_t>(n.size, kChildNoteMaxBytes)));
    o.note_truncated = n.truncated != 0;
  }
  o.kernel_output = std::move(c.kernel_output);
  o.kernel_output_bytes = c.kernel_output_bytes;
  if (c.kernel_output_bytes > o.kernel_output.size()) {
    o.kernel_output += "\n[ropecheck: kernel output truncated: " + std::to_string(c.kernel_output_bytes) +
                       " bytes printed, the first " + std::to_string(opt.kernel_output_limit) + " kept]\n";
  }
  c.release();
  return o;
}

// Kills and reaps the children still running when the pool is left by an exception, and
// gives the signals back.
struct RunningChildren {
  std::vector<Child> list;
  RunningChildren() { install_forwarding(); }
  ~RunningChildren() {
    for (Child& c : list) {
      if (!c.reaped) {
        kill_group(c.pid);
        wait_for(c.pid);
        unregister_group(c.pid);
      }
      c.release();
    }
    uninstall_forwarding();
  }
  RunningChildren(const RunningChildren&) = delete;
  RunningChildren& operator=(const RunningChildren&) = delete;
};

// How long the parent sleeps when nothing happens: short while the child fills its ring (it
// waits on a full one), longer when it is quiet.  A child's end wakes the parent at once through
// its pidfd; without pidfds (old kernels, seccomp) the parent looks every 10 ms.
constexpr double kBusyTick = 0.001;
constexpr double kQuietTick = 0.05, kQuietTickWithoutPidfd = 0.01;

}  // namespace

bool ChildChannel::write(std::string_view text) const {
  SharedPage& p = *page_;
  SpinGuard guard(p.write_lock);
  size_t done = 0;
  while (done < text.size()) {
    const uint64_t head = p.head.load(std::memory_order_relaxed);
    const uint64_t used = head - p.tail.load(std::memory_order_acquire);
    if (used >= kRingBytes) {  // full: the parent takes it within a few ms
      if (::getppid() != p.parent) return false;
      const timespec pause{0, 100 * 1000};
      ::nanosleep(&pause, nullptr);
      continue;
    }
    const size_t n = std::min(text.size() - done, static_cast<size_t>(kRingBytes - used));
    const size_t at = static_cast<size_t>(head % kRingBytes), first = std::min(n, kRingBytes - at);
    std::memcpy(p.ring + at, text.data() + done, first);
    std::memcpy(p.ring, text.data() + done + first, n - first);
    p.head.store(head + n, std::memory_order_release);
    done += n;
  }
  return true;
}

bool ChildChannel::note(std::string_view text) const {
  SharedPage& p = *page_;
  SpinGuard guard(p.note_lock);
  const uint32_t slot = p.note_slot.load(std::memory_order_relaxed) == 1 ? 2 : 1;
  SharedPage::Note& n = p.notes[slot - 1];
  const size_t kept = std::min(text.size(), kChildNoteMaxBytes);
  std::memcpy(n.text, text.data(), kept);
  n.size = kept;
  n.truncated = kept < text.size() ? 1 : 0;
  p.note_slot.store(slot, std::memory_order_release);
  return kept == text.size();
}

SupervisionInterrupted::SupervisionInterrupted(int sig)
    : std::runtime_error("interrupted by " + signal_description(sig) + " while kernels ran in child processes"),
      signal_(sig) {}

std::string signal_description(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (segmentation fault)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic exception)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGABRT: return "SIGABRT (abort)";
    case SIGKILL: return "SIGKILL";
    default: return "signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
}

std::string ChildOutcome::describe() const {
  switch (end) {
    case End::kVerdict: return "returned " + std::to_string(verdict);
    case End::kExited: return "exited with status " + std::to_string(exit_status);
    case End::kSignal: return "crashed with " + signal_description(signal);
    case End::kTimeout:
      return inactivity ? "hung: no progress for " + seconds_text(limit_seconds) + " s (killed)"
                        : "hung: no result within " + seconds_text(limit_seconds) + " s (killed)";
    case End::kException: return "let an exception out: " + error;
    case End::kNoChild: return "could not start a child process: " + error;
  }
  return "";
}

void run_supervised_pool(size_t count, int parallel, const PoolFunction& fn, const SuperviseOptions& opt,
                         const std::function<void(size_t, ChildOutcome)>& done) {
  const size_t slots = static_cast<size_t>(std::max(1, parallel));
  RunningChildren running;
  std::vector<Child>& list = running.list;
  size_t next = 0;
  double tick = kBusyTick;
  while (next < count || !list.empty()) {
    // The process had a handler of its own for a forwarded signal, which has run: the
    // children are dead, their outcomes meaningless (~RunningChildren reaps them).
    if (const int sig = g_interrupted.load()) throw SupervisionInterrupted(sig);
    while (list.size() < slots && next < count) {
      Child c;
      c.job = next++;
      if (std::optional<ChildOutcome> failed = start(c, fn, opt, list)) {
        done(c.job, std::move(*failed));
        continue;
      }
      list.push_back(std::move(c));
    }
    if (list.empty()) continue;
    // Sleep until a child ends (pidfd), prints (capture pipe), the nearest limit, or the tick.
    std::vector<pollfd> pfds;
    double wait = tick;
    const auto now = Clock::now();
    bool all_pidfds = true;
    for (const Child& c : list) {
      if (c.pidfd >= 0) pfds.push_back(pollfd{c.pidfd, POLLIN, 0});
      all_pidfds = all_pidfds && c.pidfd >= 0;
      if (c.capture_fd >= 0 && !c.capture_eof) pfds.push_back(pollfd{c.capture_fd, POLLIN, 0});
      bool inactivity = false;
      double limit = 0;
      wait = std::min(wait, std::max(0.0, seconds_left(c, opt, now, &inactivity, &limit)));
    }
    ::poll(pfds.data(), pfds.size(), static_cast<int>(std::ceil(wait * 1000)));  // EINTR: look again
    bool busy = false;
    for (size_t i = 0; i < list.size();) {
      Child& c = list[i];
      busy = drain(c, opt) >= kRingBytes / 8 || busy;
      drain_capture(c, opt, false);
      bool inactivity = false;
      double limit = 0;
      bool ended = has_ended(c);
      if (!ended && seconds_left(c, opt, Clock::now(), &inactivity, &limit) < 0) {
        c.timed_out = true;
        c.inactivity = inactivity;
        c.limit = limit;
        ended = true;
      }
      if (!ended) {
        ++i;
        continue;
      }
      const int status = finish(c, opt);
      ChildOutcome o = classify(c, status, opt);
      const size_t job = c.job;
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
      done(job, std::move(o));
    }
    tick = busy ? kBusyTick : std::min(tick * 2, all_pidfds ? kQuietTick : kQuietTickWithoutPidfd);
  }
}

ChildOutcome run_supervised(const ChildFunction& fn, const SuperviseOptions& opt) {
  ChildOutcome result;
  run_supervised_pool(
      1, 1, [&fn](size_t, const ChildChannel& ch) { return fn(ch); }, opt,
      [&result](size_t, ChildOutcome o) { result = std::move(o); });
  return result;
}

namespace {
std::atomic<int> g_kernel_calls{0};
}  // namespace

KernelCallScope::KernelCallScope() { g_kernel_calls.fetch_add(1, std::memory_order_acq_rel); }
KernelCallScope::~KernelCallScope() { g_kernel_calls.fetch_sub(1, std::memory_order_acq_rel); }
bool kernel_call_in_flight() { return g_kernel_calls.load(std::memory_order_acquire) > 0; }

struct OwnWorkHeartbeat::State {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;
};

OwnWorkHeartbeat::OwnWorkHeartbeat(const ChildChannel& channel, double period) : state_(new State) {
  State* st = state_;
  const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(period));
  st->thread = std::thread([st, &channel, step] {
    std::unique_lock<std::mutex> lock(st->mu);
    while (!st->cv.wait_for(lock, step, [st] { return st->stop; })) {
      if (!kernel_call_in_flight()) channel.write(".");
    }
  });
}

OwnWorkHeartbeat::~OwnWorkHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
  delete state_;
}

OutputCapture::OutputCapture() {
  fd_ = static_cast<int>(::syscall(SYS_memfd_create, "ropecheck-kernel-output", 1u /* MFD_CLOEXEC */));
  if (fd_ < 0) throw std::runtime_error(std::string("cannot make a buffer for the kernel's output: ") + std::strerror(errno));
}

OutputCapture::~OutputCapture() {
  end();
  ::close(fd_);
}

void OutputCapture::begin() {
  end();
  std::fflush(nullptr);
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) return;  // then nothing is caught
  saved_out_ = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  saved_err_ = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (saved_out_ < 0 || saved_err_ < 0) {  // no way back: catch nothing rather than lose stdout
    if (saved_out_ >= 0) ::close(saved_out_);
    if (saved_err_ >= 0) ::close(saved_err_);
    saved_out_ = saved_err_ = -1;
    return;
  }
  ::dup2(fd_, 1);
  ::dup2(fd_, 2);
}

void OutputCapture::end() {
  if (saved_out_ < 0 && saved_err_ < 0) return;
  std::fflush(nullptr);
  if (saved_out_ >= 0) ::dup2(saved_out_, 1), ::close(saved_out_);
  if (saved_err_ >= 0) ::dup2(saved_err_, 2), ::close(saved_err_);
  saved_out_ = saved_err_ = -1;
}

std::string OutputCapture::text(size_t limit, uint64_t* bytes) const {
  const off_t size = ::lseek(fd_, 0, SEEK_END);
  if (bytes != nullptr) *bytes = size > 0 ? static_cast<uint64_t>(size) : 0;
  if (size <= 0) return "";
  const size_t n = std::min(limit, static_cast<size_t>(size));
  std::string out(n, '\0');
  const ssize_t got = ::pread(fd_, out.data(), n, size - static_cast<off_t>(n));
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  if (n < static_cast<size_t>(size)) {  // cut: start at a whole line
    const size_t nl = out.find('\n');
    if (nl != std::string::npos) out.erase(0, nl + 1);
  }
  return out;
}

std::string printed_lines(const std::string& text, uint64_t bytes, const std::string& during) {
  if (bytes == 0) return "";
  constexpr size_t kShown = 2048;
  std::string tail = text.size() > kShown ? text.substr(text.size() - kShown) : text;
  if (text.size() > kShown) tail = "..." + tail.substr(tail.find('\n') == std::string::npos ? 0 : tail.find('\n'));
  std::string indented;
  for (size_t at = 0; at < tail.size();) {
    const size_t nl = tail.find('\n', at);
    indented += "\n    | " + tail.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? tail.size() : nl + 1;
  }
  return "\n  the kernel printed " + std::to_string(bytes) + " bytes " + during + " (last lines):" + indented;
}

}  // namespace ropecheck::impl

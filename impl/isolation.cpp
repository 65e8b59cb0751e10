#include "impl/isolation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <sstream>
#include <vector>

namespace ropecheck::impl {

namespace {

using Clock = std::chrono::steady_clock;

// The verdict page, shared by parent and child (MAP_SHARED): `state` is set by the child
// wrapper only, after the function has returned or thrown.
constexpr uint32_t kReturned = 0x52435644;
constexpr uint32_t kThrew = 0x52435445;
struct VerdictPage {
  volatile uint32_t state;
  volatile int32_t verdict;
  char error[4000];  // kThrew: what(), NUL-terminated
};

[[noreturn]] void child_main(const PoolFunction& fn, size_t job, int fd, VerdictPage* page) {
  int verdict = 0;
  std::string error;
  bool threw = false;
  try {
    verdict = fn(job, ChildChannel(fd));
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
  page->verdict = verdict;
  __sync_synchronize();
  page->state = threw ? kThrew : kReturned;
  ::_exit(0);
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
  pid_t pid = -1;
  int fd = -1;
  VerdictPage* page = nullptr;
  Clock::time_point start, last_byte;
  bool eof = false;
  bool timed_out = false, inactivity = false;
  double limit = 0;
  std::string output;

  void release() {
    if (fd >= 0) ::close(fd);
    if (page != nullptr) ::munmap(page, sizeof(VerdictPage));
    fd = -1;
    page = nullptr;
  }
};

ChildOutcome no_child(const char* what, int err) {
  ChildOutcome o;
  o.end = ChildOutcome::End::kNoChild;
  o.error = std::string(what) + ": " + std::strerror(err);
  return o;
}

// Forks the child of `c.job`; on failure the kNoChild outcome.
std::optional<ChildOutcome> start(Child& c, const PoolFunction& fn) {
  void* mem = ::mmap(nullptr, sizeof(VerdictPage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return no_child("mmap failed", errno);
  c.page = static_cast<VerdictPage*>(mem);  // zero-filled
  int fds[2];
  // Close-on-exec: a child that execs (libFuzzer) closes its end, and the parent sees EOF.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const int err = errno;
    c.release();
    return no_child("pipe failed", err);
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    c.release();
    return no_child("fork failed", err);
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fn, c.job, fds[1], c.page);
  }
  ::close(fds[1]);
  // Non-blocking: the parent reads what is there, never waits on a pipe that a grandchild
  // may hold open after the child has ended.
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  c.pid = pid;
  c.fd = fds[0];
  c.start = c.last_byte = Clock::now();
  return std::nullopt;
}

// Reads what the child has written.  `everything`: until EOF or nothing more (the child has
// ended); otherwise at most 1 MiB, so that one busy child cannot starve the others.
void drain(Child& c, const SuperviseOptions& opt, bool everything) {
  char buf[65536];
  for (int round = 0; everything || round < 16; ++round) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more for now
    if (n == 0) {
      c.eof = true;
      return;
    }
    c.last_byte = Clock::now();
    if (opt.keep_output) c.output.append(buf, static_cast<size_t>(n));
    if (opt.on_output) opt.on_output(std::string_view(buf, static_cast<size_t>(n)));
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

ChildOutcome classify(Child& c, int status) {
  ChildOutcome o;
  o.output = std::move(c.output);
  const uint32_t state = c.page->state;
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
    o.verdict = c.page->verdict;
  } else {
    o.end = ChildOutcome::End::kExited;
    o.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  c.release();
  return o;
}

// Kills and reaps the children still running when the pool is left by an exception.
struct RunningChildren {
  std::vector<Child> list;
  ~RunningChildren() {
    for (Child& c : list) {
      ::kill(c.pid, SIGKILL);
      wait_for(c.pid);
      c.release();
    }
  }
};

}  // namespace

bool ChildChannel::write(std::string_view text) const {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

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
  while (next < count || !list.empty()) {
    while (list.size() < slots && next < count) {
      Child c;
      c.job = next++;
      if (std::optional<ChildOutcome> failed = start(c, fn)) {
        done(c.job, std::move(*failed));
        continue;
      }
      list.push_back(std::move(c));
    }
    if (list.empty()) continue;
    // Wait for output until the nearest limit, and at most 200 ms: waitpid below notices a
    // child that ended while something it started still holds its pipe.  A child whose pipe
    // is at EOF is about to end (or has exec'd): look again soon.
    std::vector<pollfd> pfds;
    double wait = 0.2;
    const auto now = Clock::now();
    for (const Child& c : list) {
      pfds.push_back(pollfd{c.eof ? -1 : c.fd, POLLIN, 0});
      if (c.eof) wait = std::min(wait, 0.002);
      bool inactivity = false;
      double limit = 0;
      wait = std::min(wait, std::max(0.0, seconds_left(c, opt, now, &inactivity, &limit)));
    }
    if (::poll(pfds.data(), pfds.size(), static_cast<int>(std::ceil(wait * 1000))) < 0) {
      for (pollfd& p : pfds) p.revents = 0;  // EINTR: look at the limits, poll again
    }
    for (size_t i = 0; i < list.size();) {
      Child& c = list[i];
      if (pfds[i].revents != 0) drain(c, opt, false);
      int status = 0;
      bool ended = false;
      bool inactivity = false;
      double limit = 0;
      const pid_t w = ::waitpid(c.pid, &status, WNOHANG);
      if (w == c.pid || (w < 0 && errno == ECHILD)) {  // ECHILD: reaped behind our back
        drain(c, opt, true);
        ended = true;
      } else if (seconds_left(c, opt, Clock::now(), &inactivity, &limit) < 0) {
        ::kill(c.pid, SIGKILL);
        status = wait_for(c.pid);
        drain(c, opt, true);  // what it wrote before it hung
        c.timed_out = true;
        c.inactivity = inactivity;
        c.limit = limit;
        ended = true;
      }
      if (!ended) {
        ++i;
        continue;
      }
      ChildOutcome o = classify(c, status);
      const size_t job = c.job;
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
      pfds.erase(pfds.begin() + static_cast<std::ptrdiff_t>(i));
      done(job, std::move(o));
    }
  }
}

ChildOutcome run_supervised(const ChildFunction& fn, const SuperviseOptions& opt) {
  ChildOutcome result;
  run_supervised_pool(
      1, 1, [&fn](size_t, const ChildChannel& ch) { return fn(ch); }, opt,
      [&result](size_t, ChildOutcome o) { result = std::move(o); });
  return result;
}

}  // namespace ropecheck::impl

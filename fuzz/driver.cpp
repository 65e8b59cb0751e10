#include "fuzz/driver.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "fuzz/decode.hpp"
#include "fuzz/fuzz_common.hpp"

namespace ropecheck::fuzz {

namespace {

constexpr size_t kMaxInput = 1 << 16;

// Shared between the parent and the child running the target.
struct Shared {
  volatile uint64_t execs;  // inputs finished
  volatile uint32_t size;   // the input now running
  uint8_t data[kMaxInput];
};

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// Byte patterns worth planting: float specials (f32 and f64 NaN, Inf, subnormal, -0, huge,
// 2^k) and int64 edge positions.
const std::vector<std::vector<uint8_t>>& interesting() {
  static const std::vector<std::vector<uint8_t>> v = [] {
    std::vector<std::vector<uint8_t>> out;
    auto add = [&](const void* p, size_t n) {
      const auto* b = static_cast<const uint8_t*>(p);
      out.emplace_back(b, b + n);
    };
    for (float f : {0.0f, -0.0f, 1.0f, 0x1p-149f, 0x1p-126f, 0x1.fffffep127f, 65504.0f, 0x1p24f,
                    __builtin_nanf(""), __builtin_inff(), -__builtin_inff()}) {
      add(&f, 4);
    }
    for (double d : {0x1p-1074, 0x1p1023, __builtin_nan(""), 0x1p53}) add(&d, 8);
    for (int64_t t : {int64_t{1} << 24, (int64_t{1} << 31) - 1, int64_t{1} << 31, int64_t{1} << 53, INT64_MAX,
                      int64_t{-1}, int64_t{65535}}) {
      add(&t, 8);
    }
    return out;
  }();
  return v;
}

std::vector<uint8_t> mutate(const std::vector<std::vector<uint8_t>>& corpus, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  if (corpus.empty() || rng() % 16 == 0) {  // fresh random bytes
    std::vector<uint8_t> r(64 + pick(2048));
    for (uint8_t& b : r) b = static_cast<uint8_t>(rng());
    return r;
  }
  std::vector<uint8_t> in = corpus[pick(corpus.size())];
  const int n = 1 + static_cast<int>(pick(8));
  for (int m = 0; m < n; ++m) {
    if (in.empty()) in.push_back(0);
    // A quarter of the mutations hit the last 48 bytes: the shape (spec, positions, value
    // format).  Not more: every new spec costs a fresh oracle and kernel preparation.
    const size_t at = rng() % 4 == 0 ? in.size() - 1 - pick(std::min<size_t>(48, in.size())) : pick(in.size());
    switch (pick(7)) {
      case 0: in[at] ^= static_cast<uint8_t>(1u << pick(8)); break;
      case 1: in[at] = static_cast<uint8_t>(rng()); break;
      case 2: in[at] = static_cast<uint8_t>(std::vector<int>{0, 1, 0x7F, 0x80, 0xFF}[pick(5)]); break;
      case 3: {
        const auto& p = interesting()[pick(interesting().size())];
        for (size_t k = 0; k < p.size() && at + k < in.size(); ++k) in[at + k] = p[k];
        break;
      }
      case 4: {  // splice a piece of another input
        const auto& o = corpus[pick(corpus.size())];
        const size_t from = pick(o.size()), len = pick(64);
        for (size_t k = 0; k < len && from + k < o.size() && at + k < in.size(); ++k) in[at + k] = o[from + k];
        break;
      }
      case 5: in.insert(in.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng())); break;
      default: in.erase(in.begin() + static_cast<std::ptrdiff_t>(at)); break;
    }
  }
  if (in.size() > kMaxInput) in.resize(kMaxInput);
  return in;
}

}  // namespace

DriveResult drive_in_process(const DriveOptions& opt) {
  DriveResult res;
  const TargetFn fn = find_target(opt.target);
  if (fn == nullptr) {
    res.kind = DriveResult::Kind::kInternal;
    res.detail = "unknown target " + opt.target;
    return res;
  }
  void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    res.kind = DriveResult::Kind::kInternal;
    res.detail = "mmap failed";
    return res;
  }
  auto* sh = static_cast<Shared*>(mem);
  sh->execs = 0;
  sh->size = 0;
  const std::string prefix = opt.out_dir + "/" + opt.target + "-";
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    // Child: fuzz until the deadline.  Exit 0 clean, 1 violation (reproducer written), 4 internal.
    std::mt19937_64 rng(opt.seed);
    while (elapsed() < opt.seconds) {
      const std::vector<uint8_t> in = mutate(opt.seeds, rng);
      std::memcpy(sh->data, in.data(), in.size());
      sh->size = static_cast<uint32_t>(in.size());
      Result r;
      try {
        r = fn(in.data(), in.size(), RunOptions{});
      } catch (const std::exception& e) {
        const std::string path = prefix + "internal-" + short_hash(in);
        write_file(path, in.data(), in.size());
        std::fprintf(stderr, "ropecheck fuzz: internal error on %s: %s\n", path.c_str(), e.what());
        _exit(4);
      }
      if (r.outcome == Outcome::kViolation) {
        const std::string path = prefix + "violation-" + short_hash(in);
        write_file(path, in.data(), in.size());
        _exit(1);  // the parent replays the file for the report
      }
      sh->execs = sh->execs + 1;
    }
    std::fflush(nullptr);
    _exit(0);
  }
  if (pid < 0) {
    res.kind = DriveResult::Kind::kInternal;
    res.detail = "fork failed";
    munmap(mem, sizeof(Shared));
    return res;
  }
  // Parent: wait, watching for a hang (no input finished for hang_seconds).
  uint64_t last_execs = 0;
  auto last_progress = std::chrono::steady_clock::now();
  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (sh->execs != last_execs) {
      last_execs = sh->execs;
      last_progress = std::chrono::steady_clock::now();
    } else if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_progress).count() >
               opt.hang_seconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      res.kind = DriveResult::Kind::kHang;
      res.detail = "one input ran longer than " + std::to_string(opt.hang_seconds) + " s";
      break;
    }
  }
  res.execs = sh->execs;
  res.seconds = elapsed();
  const std::vector<uint8_t> last(sh->data, sh->data + std::min<size_t>(sh->size, kMaxInput));
  if (res.kind == DriveResult::Kind::kHang) {
    res.reproducer = prefix + "timeout-" + short_hash(last);
    write_file(res.reproducer, last.data(), last.size());
  } else if (WIFSIGNALED(status)) {
    res.kind = DriveResult::Kind::kCrash;
    res.detail = std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    res.reproducer = prefix + "crash-" + short_hash(last);
    write_file(res.reproducer, last.data(), last.size());
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
    res.kind = DriveResult::Kind::kViolation;
    res.reproducer = prefix + "violation-" + short_hash(last);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 4) {
    res.kind = DriveResult::Kind::kInternal;
    res.reproducer = prefix + "internal-" + short_hash(last);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    res.kind = DriveResult::Kind::kCrash;
    res.detail = "exited with status " + std::to_string(WEXITSTATUS(status));
    res.reproducer = prefix + "crash-" + short_hash(last);
    write_file(res.reproducer, last.data(), last.size());
  }
  munmap(mem, sizeof(Shared));
  return res;
}

}  // namespace ropecheck::fuzz

#include "fuzz/driver.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "fuzz/decode.hpp"
#include "impl/isolation.hpp"

namespace ropecheck::fuzz {

namespace {

constexpr size_t kMaxInput = 1 << 16;

// Shared between the parent and the child running the target; followed in the mapping by one
// uint64_t per kernel: the inputs on which something was checked on it.
struct Shared {
  volatile uint64_t execs;    // inputs finished
  volatile uint64_t checked;  // of those, inputs on which something was checked
  volatile uint32_t running;  // 1 while the input in `data` runs
  volatile uint32_t size;     // the input now running (or last run)
  char skip_example[1024];    // why the latest input that checked nothing did not (NUL-terminated)
  char kernel_skips[4096];    // per kernel never checked: "index<TAB>reasons<LF>", written at the end
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

// A skip reason with its numbers replaced by N, so that "head_dim 64 outside ..." and
// "head_dim 80 outside ..." count as one reason.
std::string reason_kind(const std::string& why) {
  std::string k;
  for (size_t i = 0; i < why.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(why[i]))) {
      if (k.empty() || k.back() != 'N') k += 'N';
    } else {
      k += why[i];
    }
  }
  return k;
}

// "reason (N inputs), ..." : the three commonest.
std::string top_reasons(const std::map<std::string, uint64_t>& counts) {
  std::vector<std::pair<uint64_t, std::string>> v;
  for (const auto& [why, n] : counts) v.emplace_back(n, why);
  std::sort(v.rbegin(), v.rend());
  std::string out;
  for (size_t i = 0; i < v.size() && i < 3; ++i) {
    out += (i ? ", " : "") + v[i].second + " (" + std::to_string(v[i].first) + " inputs)";
  }
  return out;
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
    res.finding = props::Finding::kInternal;
    res.detail = "unknown target " + opt.target;
    return res;
  }
  const size_t n_kernels = target_kernels().size();
  const size_t bytes = sizeof(Shared) + n_kernels * sizeof(uint64_t);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    res.finding = props::Finding::kInternal;
    res.detail = "mmap failed";
    return res;
  }
  auto* sh = static_cast<Shared*>(mem);  // zero-filled by mmap
  auto* kernel_checked = reinterpret_cast<volatile uint64_t*>(static_cast<char*>(mem) + sizeof(Shared));
  const std::string prefix = opt.out_dir + "/" + opt.target + "-";
  auto reproducer = [&](const char* kind, const std::vector<uint8_t>& in) {
    return prefix + kind + "-" + short_hash(in);
  };
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  // The child fuzzes until the deadline and returns its verdict, the finding of the input
  // that ended it (kPass: none); a finding writes its reproducer first.  A heartbeat per
  // finished input: one that runs longer than hang_seconds is a hang.
  impl::SuperviseOptions supervise;
  supervise.inactivity_timeout = opt.hang_seconds;
  supervise.keep_output = false;
  supervise.capture_kernel_output = true;
  const impl::ChildOutcome child = impl::run_supervised(
      [&](const impl::ChildChannel& ch) -> int {
        std::vector<std::map<std::string, uint64_t>> skips(n_kernels);  // per kernel: reason kind -> inputs
        auto finish = [&](props::Finding f) {
          std::string lines;
          for (size_t n = 0; n < n_kernels; ++n) {
            if (kernel_checked[n] == 0 && !skips[n].empty()) lines += std::to_string(n) + "\t" + top_reasons(skips[n]) + "\n";
          }
          lines.resize(std::min(lines.size(), sizeof sh->kernel_skips - 1));
          std::memcpy(sh->kernel_skips, lines.c_str(), lines.size() + 1);
          return static_cast<int>(f);
        };
        std::mt19937_64 rng(opt.seed);
        for (size_t i = 0; elapsed() < opt.seconds; ++i) {
          std::vector<uint8_t> in = i < opt.seeds.size() ? opt.seeds[i] : mutate(opt.seeds, rng);
          if (in.size() > kMaxInput) in.resize(kMaxInput);
          std::memcpy(sh->data, in.data(), in.size());
          sh->size = static_cast<uint32_t>(in.size());
          sh->running = 1;
          Result r;
          try {
            r = fn(in.data(), in.size(), RunOptions{});
          } catch (const std::exception& e) {
            r = Result(props::Finding::kInternal, e.what());
          }
          if (r.finding != props::Finding::kPass && r.finding != props::Finding::kSkip) {
            // The input was run and judged: it counts.  The parent replays the file for the report.
            const std::string path = reproducer(props::to_string(r.finding), in);
            write_file(path, in.data(), in.size());
            // (An internal error's message comes from the parent's replay of `path`.)
            sh->checked = sh->checked + 1;
            sh->execs = sh->execs + 1;
            sh->running = 0;
            return finish(r.finding);
          }
          for (size_t n = 0; n < r.checked.size() && n < n_kernels; ++n) {
            if (r.checked[n]) {
              kernel_checked[n] = kernel_checked[n] + 1;
            } else if (n < r.skipped.size() && kernel_checked[n] == 0) {
              ++skips[n][reason_kind(r.skipped[n])];
            }
          }
          if (r.finding == props::Finding::kPass) {
            sh->checked = sh->checked + 1;
          } else {
            const size_t len = std::min(r.report.size(), sizeof sh->skip_example - 1);
            std::memcpy(sh->skip_example, r.report.data(), len);
            sh->skip_example[len] = '\0';
          }
          sh->running = 0;
          sh->execs = sh->execs + 1;
          ch.write(".");
        }
        return finish(props::Finding::kPass);
      },
      supervise);
  if (child.internal_fault()) {
    res.finding = props::Finding::kInternal;
    res.detail = child.describe();
    munmap(mem, bytes);
    return res;
  }
  const std::vector<uint8_t> last(sh->data, sh->data + std::min<size_t>(sh->size, kMaxInput));
  if (child.end == impl::ChildOutcome::End::kVerdict) {
    res.finding = static_cast<props::Finding>(child.verdict);
    res.judged = res.finding != props::Finding::kPass;
    if (res.judged) res.reproducer = reproducer(props::to_string(res.finding), last);
  } else {
    // The child ended without its verdict: a hang, a signal, or a kernel ended the process.
    res.finding = props::Finding::kCrash;
    if (child.end == impl::ChildOutcome::End::kTimeout) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", opt.hang_seconds);  // "30", not "30.000000"
      res.detail = std::string("one input ran longer than ") + limit + " s";
    } else if (child.end == impl::ChildOutcome::End::kSignal) {
      res.detail = child.describe();
    } else {
      res.detail = "the kernel exited the process with status " + std::to_string(child.exit_status) +
                   " (a kernel must return, never exit)";
    }
    if (sh->running) {
      // The input it was running is the finding: it was run, and the kernel's end judged it.
      res.reproducer = reproducer(child.end == impl::ChildOutcome::End::kTimeout ? "timeout" : "crash", last);
      write_file(res.reproducer, last.data(), last.size());
      sh->execs = sh->execs + 1;
      sh->checked = sh->checked + 1;
    } else {
      res.detail += ", between inputs (no input to keep)";
    }
  }
  res.kernel_output = child.kernel_output;
  res.kernel_output_bytes = child.kernel_output_bytes;
  res.execs = sh->execs;
  res.checked = sh->checked;
  for (size_t n = 0; n < n_kernels; ++n) res.kernel_checked.push_back(uint64_t{kernel_checked[n]});
  res.skip_example = std::string(sh->skip_example, strnlen(sh->skip_example, sizeof sh->skip_example));
  res.kernel_skips.assign(n_kernels, "");
  std::istringstream lines(std::string(sh->kernel_skips, strnlen(sh->kernel_skips, sizeof sh->kernel_skips)));
  for (std::string line; std::getline(lines, line);) {
    const size_t tab = line.find('\t');
    const size_t n = std::strtoul(line.c_str(), nullptr, 10);
    if (tab != std::string::npos && n < n_kernels) res.kernel_skips[n] = line.substr(tab + 1);
  }
  res.seconds = elapsed();
  munmap(mem, bytes);
  return res;
}

}  // namespace ropecheck::fuzz

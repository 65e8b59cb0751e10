// `ropecheck report`: the accuracy report of issue 8 — the gate's agreement harness run in
// report mode (reports/sweep.hpp) over positions × frequency pairs for every kernel × spec,
// the paper checks, and the JSON / Markdown / HTML writers (reports/writers.hpp).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <mutex>
#include <functional>
#include <stdexcept>
#include <thread>

#include "args.hpp"
#include "command_errors.hpp"
#include "commands.hpp"
#include "properties/exit_codes.hpp"
#include "impl/isolation.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/case.hpp"
#include "properties/gate.hpp"
#include "reference/builtin_specs.hpp"
#include "reference/fast_oracle.hpp"
#include "reports/emulated_kernels.hpp"
#include "reports/paper_checks.hpp"
#include "reports/sweep.hpp"
#include "reports/writers.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kReportHelp = R"HELP(Usage:
  ropecheck report --out DIR [--kernel NAME]... [--plugin LIB.so]...
                   [--spec FILE]... [--hf-config FILE]... [--positions SWEEP]
                   [--pairs N] [--threads N] [--seed N] [--no-paper]
                   [--case-timeout S] [--no-isolation]

Measures how accurate each kernel is against exact mathematics, as a function of position
and frequency, and whether that is within the bound its declared recipe allows.  For every
kernel x spec it runs the kernel on one random head per position (inputs uniform in
[-1, 1)) and measures every pair with the gate's own agreement harness, in two views:
  exact   against exact mathematics (fast oracle; every reported worst case re-judged by
          the MPFR exact reference),
  recipe  against an exact rotation by the angle the kernel's declared recipe forms
          (theta^ inferred from the kernel at powers of two): its rotation arithmetic alone.
Errors are in ulp of the pair norm.  Positions: SWEEP plus the spec's edge positions up to
each kernel's declared maximum.

Writes DIR/report.json (schema: reports/SCHEMA.md), DIR/report.md (tables "Max = X ulp
(RMS = Y)" per position band x frequency band, worst cases with reproducer commands),
DIR/report.html (self-contained, plots drawn by gnuplot and inlined), DIR/specs/ (the specs
the reproducers read), DIR/cases/ (worst cases, replayable with `ropecheck repro FILE`),
DIR/data/ and DIR/plots/.

Options:
  --out DIR          output directory (created).  Required.
  --kernel NAME      a kernel to report on (repeatable; default: every built-in kernel and
                     every kernel of the --plugin libraries).
  --plugin LIB.so    load kernels from a shared library (repeatable).
  --spec FILE        a ropecheck spec JSON (repeatable).
  --hf-config FILE   a HuggingFace config.json (repeatable).  Without --spec/--hf-config three
                     of the gate's default specs are used: default d128 base 1e4;
                     Llama-3.1-8B (llama3); YaRN d128 s16 (reference/specs/yarn-d128.json).
  --positions SWEEP  A:B:log[:N] (N log-spaced samples, default 4096), A:B:all (every
                     position), A:B:lin:N, or a comma list; positions as 2^k[+-n] or
                     integers.  Default 0:2^20:log.
  --pairs N          measure N frequency pairs evenly spread (first and last included)
                     instead of every pair.
  --threads N        worker threads (default: hardware threads, at most 8).
  --seed N           input seed, an integer in [0, 2^64-1] (default 1).
  --no-paper         skip the paper checks (shift-invariance table, RoFormer decay).
  --case-timeout S   the measurement runs in a child process; if it makes no progress for S
                     seconds (default 120) the kernel is taken to hang: exit 3.
  --no-isolation     measure in this process (a kernel that crashes ends ropecheck).
  --help             this text.

Examples:
  ropecheck report --out report/
  ropecheck report --kernel scalar_f32_hf --kernel table_f32 --positions 0:2^20:all --out r/
  ropecheck report --plugin ./libmykernel.so --kernel my_rope --hf-config config.json --out r/

Exit codes: 0 report written and every kernel within its exact-view bound; 1 report written
but some kernel exceeded its bound or failed a run; 2 bad usage, spec or plugin, or a kernel
that declares none of the specs (nothing measured); 3 a kernel crashed, hung or ended the
process (no report is written; `ropecheck check` finds and saves the case); 4 internal error.
)HELP";

struct SpecChoice {
  RopeSpec spec;
  std::string label, origin;
};

// The gate's default specs marked in_report in reference/specs/gate/index.json, so `check` and
// `report` judge the same specs; each is labelled by its stable id.
std::vector<SpecChoice> default_specs() {
  std::vector<SpecChoice> out;
  for (const BuiltinSpec& b : builtin_gate_specs()) {
    if (b.in_report) out.push_back({b.spec, b.id, b.origin});
  }
  return out;
}

// "dir/llama-3.1-8b.config.json" -> "llama-3.1-8b" (only the extensions go, not the version).
std::string basename_noext(const std::string& path) {
  std::string b = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (const std::string ext : {".json", ".config"}) {
    if (b.size() > ext.size() && b.compare(b.size() - ext.size(), ext.size(), ext) == 0) b.resize(b.size() - ext.size());
  }
  return b;
}

// ---- isolation: the measurement runs in a child process -------------------------------
// The child sends the parent "L<label>\n" when a run starts and "." per measured chunk (a
// heartbeat).  Its verdict, the command's exit code, goes through impl/isolation.hpp, which a
// kernel that crashes, hangs or calls exit() cannot forge.
const impl::ChildChannel* g_channel = nullptr;  // the child's channel; null when not isolated

void beat(const std::string& msg) {
  if (g_channel != nullptr) g_channel->write(msg);
}

// The label of the last whole "L<label>\n" line the child sent.
std::string last_label(const std::string& output) {
  std::string label = "start-up", line;
  bool in_line = false;
  for (const char c : output) {
    if (!in_line) {
      in_line = c == 'L';
    } else if (c == '\n') {
      label = line;
      line.clear();
      in_line = false;
    } else {
      line += c;
    }
  }
  return label;
}

// Runs `measure` in a child and returns its exit code, or kExitCrash (with a message) when a
// kernel crashed, hung or ended the process.
int measure_isolated(const std::function<int()>& measure, double timeout_seconds) {
  impl::SuperviseOptions opt;
  opt.inactivity_timeout = timeout_seconds;
  const impl::ChildOutcome o = impl::run_supervised(
      [&measure](const impl::ChildChannel& ch) {
        g_channel = &ch;
        return exit_code_of("report", measure);  // the code main would give, from the child
      },
      opt);
  if (o.end == impl::ChildOutcome::End::kVerdict) return o.verdict;
  if (o.internal_fault()) throw std::runtime_error(o.describe());
  const std::string what = o.end == impl::ChildOutcome::End::kExited
                               ? "ended the process (exit status " + std::to_string(o.exit_status) +
                                     ") before the report was done"
                               : o.describe();
  std::fprintf(stderr,
               "ropecheck report: CRASH: a kernel %s during %s; no report was written.\n"
               "  `ropecheck check` with the same --plugin/--kernel and spec finds the case and saves a reproducer.\n",
               what.c_str(), last_label(o.output).c_str());
  return kExitCrash;
}

// A one-line progress bar on stderr, redrawn every 200 ms, only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(int64_t total) : total_(total), on_(::isatty(2) != 0), start_(std::chrono::steady_clock::now()) {
    if (on_) thread_ = std::thread([this] { loop(); });
  }
  ~Progress() { stop(); }
  void set_label(const std::string& s) {
    beat("L" + s + "\n");
    std::lock_guard<std::mutex> lock(mu_);
    label_ = s;
  }
  void add(int64_t n) {
    beat(".");
    done_ += n;
  }
  void stop() {
    if (!on_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::fputs("\r\033[K", stderr);
    on_ = false;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      const double f = total_ > 0 ? std::min(1.0, static_cast<double>(done_.load()) / static_cast<double>(total_)) : 0;
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      char bar[41];
      const int filled = static_cast<int>(f * 40);
      for (int i = 0; i < 40; ++i) bar[i] = i < filled ? '#' : '.';
      bar[40] = 0;
      std::fprintf(stderr, "\r\033[K[%s] %5.1f%% %6.1f s  %s", bar, 100 * f, secs, label_.c_str());
      std::fflush(stderr);
      cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  int64_t total_;
  std::atomic<int64_t> done_{0};
  bool on_;
  bool stop_ = false;
  std::chrono::steady_clock::time_point start_;
  std::string label_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};


int run_report_in_process(const Args& argv) {
  const ParsedArgs args(argv,
                        {"--out", "--kernel", "--plugin", "--spec", "--hf-config", "--positions", "--pairs",
                         "--threads", "--seed", "--case-timeout"},
                        {"--help", "--no-paper", "--no-isolation"}, {"--kernel", "--plugin", "--spec", "--hf-config"});
  if (args.flag("--help")) {
    std::fputs(kReportHelp, stdout);
    return kExitOk;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional().front() + "'");
  if (!args.has("--out")) throw UsageError("--out DIR is required (see --help)");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out_dir = args.get("--out");
  {  // before minutes of measuring: the report must have somewhere to go
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    const std::string probe = out_dir + "/.ropecheck-write-test";
    const bool writable = !ec && std::filesystem::is_directory(out_dir, ec) && std::ofstream(probe).good();
    std::filesystem::remove(probe, ec);
    if (!writable) throw UsageError("cannot write the report into --out " + out_dir);
  }

  impl::KernelSet set = impl::KernelSet::with_builtins();
  std::vector<std::pair<std::string, std::string>> plugin_of;
  for (const std::string& p : args.all("--plugin")) {
    const size_t before = set.all().size();
    impl::load_plugin(set, p);
    for (size_t i = before; i < set.all().size(); ++i) plugin_of.push_back({set.all()[i].desc->name, set.all()[i].origin});
  }
  std::vector<const rc_kernel_desc*> kernels;
  if (args.has("--kernel")) {
    for (const std::string& name : args.all("--kernel")) {
      const impl::Kernel* k = set.find(name);
      if (!k) throw UsageError("unknown kernel '" + name + "' (ropecheck kernels lists them)");
      if (std::find(kernels.begin(), kernels.end(), k->desc) == kernels.end()) kernels.push_back(k->desc);
    }
  } else {
    for (const impl::Kernel& k : set.all()) kernels.push_back(k.desc);
  }

  if (const std::string why = props::reject_implausible(kernels); !why.empty()) throw UsageError(why);

  std::vector<SpecChoice> specs;
  for (const std::string& f : args.all("--spec")) specs.push_back({load_spec_file(f), basename_noext(f), "--spec " + f});
  for (const std::string& f : args.all("--hf-config")) {
    specs.push_back({load_hf_config_file(f), basename_noext(f), "--hf-config " + f});
  }
  if (specs.empty()) specs = default_specs();
  std::vector<std::string> warnings;  // also written into the report
  for (const SpecChoice& s : specs) {
    std::string w = props::conditioning_warning(s.spec, kernels);
    if (w.empty()) continue;
    std::fprintf(stderr, "ropecheck report: warning: %s\n", w.c_str());
    warnings.push_back(std::move(w));
  }
  for (size_t i = 0; i < specs.size(); ++i) {  // labels must be unique (file names)
    for (size_t k = 0; k < i; ++k) {
      if (specs[k].label == specs[i].label) specs[i].label += "-" + std::to_string(i);
    }
  }

  report::SweepOptions opt;
  const std::string positions_text = args.get("--positions", "0:2^20:log");
  opt.positions = report::parse_position_sweep(positions_text);
  opt.pair_limit = args.has("--pairs") ? parse_int(args.get("--pairs"), "--pairs", 1, 1 << 20) : 0;
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opt.threads = args.has("--threads") ? parse_int(args.get("--threads"), "--threads", 1, 256) : std::min(hw, 8);
  opt.seed = args.has("--seed") ? parse_unsigned("--seed", args.get("--seed"), 0, UINT64_MAX) : 1;

  const double case_timeout =
      args.has("--case-timeout") ? parse_int(args.get("--case-timeout"), "--case-timeout", 1, 86400) : 120;

  // From here on kernels are called: in a child process unless --no-isolation.
  const auto measure = [&]() -> int {
    // Oracles per spec (construction uses the ExactReference: main thread only).
    std::vector<std::shared_ptr<const ref::FastOracle>> oracles;
    int64_t total = 0;
    for (const SpecChoice& s : specs) {
      oracles.push_back(std::make_shared<const ref::FastOracle>(s.spec));
      for (const rc_kernel_desc* k : kernels) total += report::sweep_size(*k, s.spec, opt);
    }
    Progress progress(total);
    opt.progress = [&progress](int64_t n) { progress.add(n); };

    report::ReportData data;
    data.positions_text = positions_text;
    data.warnings = warnings;
    data.threads = opt.threads;
    data.plugins = plugin_of;
    data.command = "ropecheck report";
    for (const std::string& a : argv) data.command += " " + a;
    bool violation = false;
    for (size_t si = 0; si < specs.size(); ++si) {
      data.specs.push_back({specs[si].label, specs[si].spec, specs[si].origin, "specs/" + specs[si].label + ".json"});
      for (const rc_kernel_desc* k : kernels) {
        progress.set_label(std::string(k->name) + " / " + specs[si].label);
        report::SweepResult r = report::run_sweep(*k, specs[si].spec, specs[si].label, oracles[si], opt);
        if (r.skipped.rfind("kernel failed", 0) == 0) violation = true;
        if (r.skipped.empty() && !(r.exact.overall.max_ratio <= 1)) violation = true;
        data.runs.push_back(std::move(r));
      }
    }
    if (!args.flag("--no-paper")) {
      progress.set_label("paper checks");
      const RopeSpec ps = report::paper_spec();
      const ref::FastOracle po(ps);
      std::vector<std::pair<const rc_kernel_desc*, std::string>> pk;
      if (const impl::Kernel* k = set.find("scalar_f32_hf")) pk.push_back({k->desc, "fp32 (HF recipe, built-in)"});
      if (const impl::Kernel* k = set.find("table_bf16")) {
        pk.push_back({k->desc, "bf16 storage, fp32 cos/sin, exact angle (built-in)"});
      }
      pk.push_back({&report::kEmulBf16SincosKernel, "EMULATION: fp32 angle, bf16 cos/sin"});
      pk.push_back({&report::kEmulBf16AngleKernel, "EMULATION: bf16 inv_freq, position and angle"});
      data.shift = report::shift_invariance_table(pk, po, 256, opt.seed);
      data.decay = report::roformer_decay(po, 65536);
      data.has_paper = true;
    }
    progress.stop();
    data.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string warning = report::write_report(data, out_dir);
    if (!warning.empty()) std::fprintf(stderr, "ropecheck report: warning: %s\n", warning.c_str());
    std::printf("ropecheck report: %zu kernel x spec runs in %.1f s -> %s/report.{md,html,json}\n", data.runs.size(),
                data.seconds, out_dir.c_str());
    for (const report::SweepResult& r : data.runs) {
      if (!r.skipped.empty()) {
        std::printf("  %-18s %-22s skipped: %s\n", r.kernel.c_str(), r.spec_label.c_str(), r.skipped.c_str());
      } else {
        std::printf("  %-18s %-22s exact %-34s bound ratio %-8.3g recipe %s\n", r.kernel.c_str(), r.spec_label.c_str(),
                    report::cell_text(r.exact.overall).c_str(), r.exact.overall.max_ratio,
                    r.recipe.available ? report::cell_text(r.recipe.overall).c_str() : "unavailable");
      }
    }
    if (violation) return kExitViolation;
    // A kernel none of whose runs was measured (it declares none of the specs) must not look
    // like "within its bound".
    bool unmeasured = false;
    for (const rc_kernel_desc* k : kernels) {
      const report::SweepResult* skipped = nullptr;
      bool measured = false;
      for (const report::SweepResult& r : data.runs) {
        if (r.kernel != k->name) continue;
        measured |= r.skipped.empty();
        if (!r.skipped.empty() && !skipped) skipped = &r;
      }
      if (!measured) {
        std::fprintf(stderr, "ropecheck report: nothing was measured for %s: %s\n", k->name,
                     skipped ? skipped->skipped.c_str() : "no run");
        unmeasured = true;
      }
    }
    return unmeasured ? kExitUsage : kExitOk;
  };
  return args.flag("--no-isolation") ? measure() : measure_isolated(measure, case_timeout);
}

}  // namespace

int run_report(const Args& argv) { return run_report_in_process(argv); }

}  // namespace ropecheck::cli

#include "reports/campaign.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "impl/isolation.hpp"
#include "impl/registry.hpp"
#include "properties/counterexample.hpp"
#include "properties/judge.hpp"
#include "properties/output_file.hpp"
#include "reference/fast_oracle.hpp"
#include "reports/emulated_kernels.hpp"
#include "reports/paper_checks.hpp"

namespace ropecheck::report {

namespace {

// ---- what the measuring child tells the parent ------------------------------------------
// "L<kind><text>\n" when a phase starts, "." per measured chunk (a heartbeat).  kind 'K': a
// kernel runs from now on, text "KERNEL\tSPEC"; 'P': the paper checks (built-in kernels and
// the emulations); 'O': ropecheck's own work, text what it is.  A child that dies is blamed on
// the kernel only if one was running.
struct Phase {
  char kind = 'O';
  std::string text = "starting up";
  std::string kernel() const {
    if (kind == 'P') return "a built-in kernel during the paper checks";
    return kind == 'K' ? text.substr(0, text.find('\t')) : "ropecheck (" + text + ")";
  }
  std::string spec() const {
    if (kind == 'P') return paper_spec().name;
    const size_t tab = text.find('\t');
    return kind == 'K' && tab != std::string::npos ? text.substr(tab + 1) : "";
  }
  // "kernel K on spec S", as messages name it.
  std::string what() const { return kind == 'K' ? "kernel " + kernel() + " on spec " + spec() : kernel(); }
};

// The last whole phase line of the child's output.
Phase last_phase(const std::string& output) {
  Phase phase;
  size_t at = 0;
  while ((at = output.find('L', at)) != std::string::npos) {
    const size_t end = output.find('\n', at);
    if (end == std::string::npos || end == at + 1) break;
    phase.kind = output[at + 1];
    phase.text = output.substr(at + 2, end - at - 2);
    at = end + 1;
  }
  return phase;
}

// A one-line progress bar on stderr, redrawn every 200 ms, only when stderr is a terminal;
// and the heartbeats to the parent (when measuring in a child).
class Progress {
 public:
  Progress(int64_t total, const impl::ChildChannel* channel)
      : total_(total), channel_(channel), on_(::isatty(2) != 0), start_(std::chrono::steady_clock::now()) {
    // Its own stderr: while a kernel runs, fd 2 goes to the kernel-output capture.
    if (on_) tty_ = ::fdopen(::fcntl(2, F_DUPFD_CLOEXEC, 3), "w");
    on_ = tty_ != nullptr;
    if (on_) thread_ = std::thread([this] { loop(); });
  }
  ~Progress() {
    stop();
    if (tty_ != nullptr) std::fclose(tty_);
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void phase(char kind, const std::string& text, const std::string& label) {
    beat("L" + std::string(1, kind) + text + "\n");
    std::lock_guard<std::mutex> lock(mu_);
    label_ = label;
  }
  void add(int64_t n) {
    beat(".");
    done_ += n;
  }
  void beat(const std::string& msg) const {
    if (channel_ != nullptr) channel_->write(msg);
  }
  void stop() {
    if (!on_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::fputs("\r\033[K", tty_);
    std::fflush(tty_);
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
      std::fprintf(tty_, "\r\033[K[%s] %5.1f%% %6.1f s  %s", bar, 100 * f, secs, label_.c_str());
      std::fflush(tty_);
      cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  int64_t total_;
  const impl::ChildChannel* channel_;
  std::atomic<int64_t> done_{0};
  bool on_;
  std::FILE* tty_ = nullptr;
  bool stop_ = false;
  std::chrono::steady_clock::time_point start_;
  std::string label_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

// Bytes of a run's kernel output kept (the last ones).
constexpr size_t kKernelOutputKept = 64 * 1024;

const rc_kernel_desc* builtin(const char* name) {
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    if (std::string(d->name) == name) return d;
  }
  return nullptr;
}

// Saves the counterexample of each finding of the judge (violation or crash) under DIR/cases/
// and tallies it; a file that cannot be written is named, and the finding still stands.
void record_findings(const std::vector<KernelChoice>& kernels, const std::string& out_dir, CampaignOutcome& o) {
  std::set<std::string> taken;
  for (const SweepResult& r : o.report.runs) {
    if (!r.finding) continue;
    const props::Judgement& j = r.finding->judgement;
    props::tally(o.tally, j.finding);
    ReportFinding f{r.kernel, r.spec_label, j, ""};
    if (j.failed() && !r.finding->c.positions.empty()) {
      props::Counterexample cx;
      cx.kernel = r.kernel;
      for (const KernelChoice& k : kernels) {
        if (r.kernel == k.desc->name) cx.plugin = k.plugin;
      }
      cx.property = j.property;
      cx.finding = j.finding;
      cx.reason = j.reason;
      cx.detail = j.detail;
      cx.worst_ratio = j.worst_ratio;
      cx.c = r.finding->c;
      try {
        f.case_file = props::save_counterexample(out_dir + "/cases", cx, taken);
      } catch (const OutputError& e) {
        o.errors.push_back(std::string("counterexample not saved: ") + e.what());
        o.tally.output_failed = true;
      }
    }
    o.report.findings.push_back(std::move(f));
  }
}

// Measures every kernel × spec, runs the paper checks and writes the report: everything that
// calls a kernel, in the child when isolated.
void measure_and_write(const std::vector<KernelChoice>& kernels, const std::vector<SpecChoice>& specs,
                       const CampaignOptions& opt, const impl::ChildChannel* channel, impl::OutputCapture* capture,
                       CampaignOutcome& o) {
  const auto t0 = std::chrono::steady_clock::now();
  int64_t total = 0;
  for (const SpecChoice& s : specs) {
    for (const KernelChoice& k : kernels) total += sweep_size(*k.desc, s.spec, opt.sweep);
  }
  Progress progress(total, channel);
  SweepOptions sweep = opt.sweep;
  sweep.progress = [&progress](int64_t n) { progress.add(n); };
  props::Judge judge;  // the runners and oracles of the sweeps, and their verdicts
  judge.before_case = [&progress](const props::Case&, const char*) { progress.beat("."); };

  ReportData& data = o.report;
  data.positions_text = opt.positions_text;
  data.warnings = opt.warnings;
  data.threads = sweep.threads;
  data.command = opt.command;
  for (const KernelChoice& k : kernels) {
    if (!k.plugin.empty()) data.plugins.push_back({k.desc->name, k.plugin});
  }
  for (const SpecChoice& s : specs) {
    data.specs.push_back({s.label, s.spec, s.origin, "specs/" + s.label + ".json"});
    for (const KernelChoice& k : kernels) {
      progress.phase('K', std::string(k.desc->name) + "\t" + s.label, std::string(k.desc->name) + " / " + s.label);
      SweepResult r;
      {
        // Ended however the run ends: an exception must not leave ropecheck's own messages in
        // the capture.
        struct Capturing {
          impl::OutputCapture* c;
          explicit Capturing(impl::OutputCapture* capture) : c(capture) {
            if (c != nullptr) c->begin();
          }
          ~Capturing() {
            if (c != nullptr) c->end();
          }
        } capturing(capture);
        r = run_sweep(*k.desc, s.spec, s.label, judge, sweep, s.axis);
      }
      if (capture != nullptr) r.kernel_output = capture->text(kKernelOutputKept, &r.kernel_output_bytes);
      data.runs.push_back(std::move(r));
    }
  }
  if (opt.paper) {
    progress.phase('P', "", "paper checks");
    const RopeSpec ps = paper_spec();
    const ref::FastOracle po(ps);
    std::vector<std::pair<const rc_kernel_desc*, std::string>> pk;
    if (const rc_kernel_desc* k = builtin("scalar_f32_hf")) pk.push_back({k, "fp32 (HF recipe, built-in)"});
    if (const rc_kernel_desc* k = builtin("table_bf16")) pk.push_back({k, "bf16 storage, fp32 cos/sin, exact angle (built-in)"});
    pk.push_back({&kEmulBf16SincosKernel, "EMULATION: fp32 angle, bf16 cos/sin"});
    pk.push_back({&kEmulBf16AngleKernel, "EMULATION: bf16 inv_freq, position and angle"});
    data.shift = shift_invariance_table(pk, po, 256, sweep.seed);
    data.decay = roformer_decay(po, 65536);
    data.has_paper = true;
  }
  progress.stop();

  // A kernel none of whose runs was measured (it declares none of the specs) must not look
  // like "within its bound"; one whose runs failed has its finding instead.
  for (const KernelChoice& k : kernels) {
    const SweepResult* skipped = nullptr;
    bool measured = false, found = false;
    for (const SweepResult& r : data.runs) {
      if (r.kernel != k.desc->name) continue;
      measured |= r.skipped.empty();
      found |= r.finding.has_value();
      if (!r.skipped.empty() && !skipped) skipped = &r;
    }
    if (!measured && !found) {
      o.unmeasured.push_back(std::string(k.desc->name) + ": " + (skipped ? skipped->skipped : "no run"));
      o.tally.nothing_checked = true;
    }
  }

  progress.phase('O', "writing the report", "writing the report");
  record_findings(kernels, opt.out_dir, o);
  data.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  o.warning = write_report(data, opt.out_dir);
  o.written = true;
}

// Labels are file names: unique ones.
void make_labels_unique(std::vector<SpecChoice>& specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (specs[k].label == specs[i].label) specs[i].label += "-" + std::to_string(i);
    }
  }
}

// Before minutes of measuring: the report must have somewhere to go.
std::string unwritable_reason(const std::string& dir) {
  const std::string probe = dir + "/.ropecheck-write-test";
  try {
    write_output_file(probe, "");
  } catch (const OutputError& e) {
    return "cannot write the report into --out " + dir + " (" + e.what() + ")";
  }
  std::error_code ec;
  std::filesystem::remove(probe, ec);
  return "";
}

}  // namespace

int run_campaign(const std::vector<KernelChoice>& kernels, std::vector<SpecChoice> specs,
                 const CampaignOptions& options, const std::function<void(const CampaignOutcome&)>& print) {
  make_labels_unique(specs);
  CampaignOutcome o;
  if (const std::string why = unwritable_reason(options.out_dir); !why.empty()) {
    o.errors.push_back(why);
    o.tally.output_failed = true;
    print(o);
    return o.tally.exit_code();
  }
  // What a kernel prints goes to this buffer, not among ropecheck's lines (made before the
  // child, so that the output of a kernel that crashed it can still be read).
  std::unique_ptr<impl::OutputCapture> capture;
  try {
    capture = std::make_unique<impl::OutputCapture>();
  } catch (const std::runtime_error& e) {
    o.errors.push_back(std::string("internal error: ") + e.what());
    o.tally.internal = true;
    print(o);
    return o.tally.exit_code();
  }
  // Ropecheck's own failures end the campaign as an internal error, reported like the rest.
  const auto measure = [&](const impl::ChildChannel* channel) {
    try {
      measure_and_write(kernels, specs, options, channel, capture.get(), o);
    } catch (const OutputError& e) {  // "cannot write FILE: why"
      o.errors.push_back(e.what());
      o.tally.output_failed = true;
    } catch (const std::exception& e) {
      o.errors.push_back(std::string("internal error: ") + e.what());
      o.tally.internal = true;
    }
    print(o);
    return o.tally.exit_code();
  };
  if (!options.isolate) return measure(nullptr);

  impl::SuperviseOptions supervise;
  supervise.inactivity_timeout = options.case_timeout;
  const impl::ChildOutcome child =
      impl::run_supervised([&measure](const impl::ChildChannel& ch) { return measure(&ch); }, supervise);
  if (child.end == impl::ChildOutcome::End::kVerdict) return child.verdict;
  // The child ended without a verdict: the kernel it was running crashed, exited or hung, or
  // (no kernel was running) ropecheck itself failed.
  const Phase phase = last_phase(child.output);
  props::Judgement j = props::finding_of_child(child, phase.what());
  if (j.finding == props::Finding::kCrash && phase.kind == 'O') j.finding = props::Finding::kInternal;
  if (phase.kind == 'K') {
    uint64_t bytes = 0;
    const std::string text = capture->text(kKernelOutputKept, &bytes);
    j.detail += impl::printed_lines(text, bytes, "before it ended");
  }
  props::tally(o.tally, j.finding);
  o.child_died = true;
  o.report.findings.push_back({phase.kernel(), phase.spec(), j, ""});
  print(o);
  return o.tally.exit_code();
}

}  // namespace ropecheck::report

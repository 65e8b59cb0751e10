#include "gate/campaign.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <rapidcheck/detail/Configuration.h>

#include "gate/protocol.hpp"
#include "impl/isolation.hpp"
#include "properties/counterexample.hpp"
#include "properties/output_file.hpp"

namespace ropecheck::gate {

std::string Cell::status() const {
  if (crashed) return "CRASH";
  if (failed) return "FAIL";
  if (checked > 0) return "pass";
  return "n/a";
}

namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

struct Unit {
  const impl::Kernel* kernel;
  RopeSpec spec;
  bool random_specs = false;
  bool many_tokens = false;  // the kernel's first unit also judges a call of 65539 tokens
  std::string spec_name() const { return random_specs ? "(generated specs)" : (spec.name.empty() ? to_string(spec.type) : spec.name); }
};

struct Finished {
  UnitRun run;
  std::optional<Case> crash_case;
  std::string crash_property;
};

// In the child: run the unit, a note with the case before every kernel call (a crash leaves it
// for the parent: it names the case), a heartbeat '.' after it, the result JSON at the end.
int run_unit_in_child(const Unit& u, const GateOptions& base, const impl::ChildChannel& ch) {
  GateOptions opt = base;
  opt.random_specs = u.random_specs;
  opt.many_tokens = u.many_tokens;
  opt.before_case = [&](const Case& c, const char* property) {
    // Test hook: an internal error of ropecheck's own, on demand, for the one property named
    // in ROPECHECK_TEST_INTERNAL_ERROR, so that gate_test can see how one is reported (no
    // input from outside provokes one).  It can only turn a unit into exit 4, never a pass.
    if (const char* injected = std::getenv("ROPECHECK_TEST_INTERNAL_ERROR");
        injected != nullptr && std::strcmp(injected, property) == 0) {
      throw std::logic_error("internal error injected by ROPECHECK_TEST_INTERNAL_ERROR");
    }
    ch.note(std::string(property) + "\n" + props::case_to_json(c, -1));
    ch.write(".");
  };
  UnitResult result;
  {
    const impl::OwnWorkHeartbeat own_work(ch);  // only a kernel that does not return is a hang
    result = run_unit(*u.kernel->desc, u.spec, opt);
  }
  ch.write("\n" + unit_to_json(result).dump() + "\n");
  return 0;
}

Finished reap(const Unit& u, const impl::ChildOutcome& o) {
  Finished f;
  f.run.result.kernel = u.kernel->desc->name;
  f.run.result.spec_name = u.spec_name();
  f.run.kernel_output = o.kernel_output;
  f.run.kernel_output_bytes = o.kernel_output_bytes;
  if (o.end == impl::ChildOutcome::End::kVerdict) {
    const size_t nl = o.output.rfind('\n', o.output.size() >= 2 ? o.output.size() - 2 : 0);
    try {
      f.run.result = unit_from_json(json::parse(o.output.substr(nl == std::string::npos ? 0 : nl + 1)));
    } catch (const std::exception& e) {
      f.run.result.internal_error = std::string("unreadable result from the unit's child: ") + e.what();
    }
    return f;
  }
  const props::Judgement j = props::finding_of_child(o, std::string("the kernel"));
  if (j.finding != props::Finding::kCrash) {
    f.run.result.internal_error = j.reason;
    return f;
  }
  f.run.crash = o.describe();
  if (o.end == impl::ChildOutcome::End::kExited) {
    f.run.crash = "ended the process (exit status " + std::to_string(o.exit_status) + "); a kernel must return, never exit";
  }
  const std::string& text = o.note;
  const size_t eol = text.find('\n');
  if (eol != std::string::npos) {
    f.crash_property = text.substr(0, eol);
    try {
      f.crash_case = props::case_from_json(text.substr(eol + 1));
    } catch (const std::exception&) {
    }
  }
  return f;
}

// Runs every unit, up to `jobs` children at a time; a child that sends no heartbeat for
// `case_timeout` s is killed.
std::vector<Finished> run_isolated(const std::vector<Unit>& units, const GateOptions& opt, int jobs, double case_timeout,
                                   const std::function<void(size_t, const Unit&)>& progress) {
  std::vector<Finished> done(units.size());
  impl::SuperviseOptions supervise;
  supervise.inactivity_timeout = case_timeout;
  // What a kernel prints is kept apart from ropecheck's own output and shown with its unit.
  supervise.capture_kernel_output = true;
  size_t finished = 0;
  impl::run_supervised_pool(
      units.size(), jobs, [&](size_t i, const impl::ChildChannel& ch) { return run_unit_in_child(units[i], opt, ch); },
      supervise,
      [&](size_t i, impl::ChildOutcome o) {
        done[i] = reap(units[i], o);
        progress(++finished, units[i]);
      });
  return done;
}

std::vector<Finished> run_in_process(const std::vector<Unit>& units, const GateOptions& opt,
                                     const std::function<void(size_t, const Unit&)>& progress,
                                     const std::function<void(UnitResult&)>& after_unit) {
  // Without isolation a kernel that calls exit() ends the gate: say so and exit 3, never 0.
  static std::atomic<bool> gate_running{false};
  gate_running = true;
  std::atexit([] {
    if (!gate_running) return;
    std::fputs("ropecheck check: CRASH: a kernel ended the process (exit) during the gate (--no-isolation); "
               "run without --no-isolation to find which case\n",
               stderr);
    std::_Exit(kExitCrash);
  });
  std::vector<Finished> results;
  size_t done = 0;
  for (const Unit& u : units) {
    GateOptions o = opt;
    o.random_specs = u.random_specs;
    o.many_tokens = u.many_tokens;
    Finished f;
    f.run.result = run_unit(*u.kernel->desc, u.spec, o);
    if (after_unit) after_unit(f.run.result);
    results.push_back(std::move(f));
    progress(++done, u);
  }
  gate_running = false;
  return results;
}

// RapidCheck announces its configuration on stderr the first time it is read; read it here
// once, quietly, so the children inherit it instead of each printing it.
void quiet_rapidcheck_configuration() {
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int devnull = ::open("/dev/null", O_WRONLY);
  if (saved >= 0 && devnull >= 0) ::dup2(devnull, 2);
  rc::detail::configuration();
  std::fflush(stderr);
  if (saved >= 0) {
    ::dup2(saved, 2);
    ::close(saved);
  }
  if (devnull >= 0) ::close(devnull);
}

// What the kernel printed during its unit (captured in the child), as the tail of a finding's
// message: the last lines, so the ones before a crash are there.
std::string kernel_output_text(const UnitRun& u) {
  return impl::printed_lines(u.kernel_output, u.kernel_output_bytes, "during this unit");
}

std::string ratio_text(double r) {
  std::ostringstream os;
  os.precision(3);
  os << r << "x";
  return os.str();
}

}  // namespace

CampaignResult run_campaign(const CampaignOptions& a) {
  CampaignResult res;
  // Units (kernel × spec, plus generated specs with the defaults), then the shard.
  std::vector<Unit> units;
  for (const impl::Kernel* k : a.kernels) {
    for (const RopeSpec& s : a.specs) units.push_back(Unit{k, s, false, a.many_tokens && &s == &a.specs.front()});
    if (a.generated_specs && !a.specs.empty()) units.push_back(Unit{k, a.specs.front(), true});
  }
  res.total_units = units.size();
  std::vector<Unit> mine;
  for (size_t i = 0; i < units.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(a.shard_count)) == a.shard_index) mine.push_back(units[i]);
  }
  // The kernels this shard runs units of: the only ones it reports on (another shard reports
  // the rest; none of them is "unchecked" here).
  for (const impl::Kernel* k : a.kernels) {
    if (std::any_of(mine.begin(), mine.end(), [&](const Unit& u) { return u.kernel == k; })) {
      res.kernels.push_back(k->desc->name);
    }
  }

  GateOptions opt;
  opt.seed = a.seed;
  opt.max_cases = a.cases;
  opt.properties = a.properties;
  opt.shrink_seconds = a.shrink_seconds;
  opt.shrink = a.shrink;
  opt.sweep = a.sweep;
  opt.before_case = a.before_case;  // in process only: a child sets its own
  // Without --cases, each unit gets an equal share of the budget across the parallel jobs.
  if (a.cases < 0 && !mine.empty()) {
    const double parallel = a.isolation ? std::min<double>(a.jobs, static_cast<double>(mine.size())) : 1.0;
    opt.unit_budget_seconds = a.budget_seconds * parallel / static_cast<double>(mine.size());
  }
  const auto start = Clock::now();
  auto progress = [&](size_t done, const Unit& u) {
    if (a.progress) a.progress(done, mine.size(), u.kernel->desc->name, u.spec_name());
  };
  quiet_rapidcheck_configuration();
  const std::vector<Finished> results =
      a.isolation ? run_isolated(mine, opt, a.jobs, a.case_timeout, progress) : run_in_process(mine, opt, progress, a.after_unit);
  res.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Aggregate kernel × property, save counterexamples.
  std::set<std::string> saved_paths;
  auto save = [&](const impl::Kernel& kernel, const std::string& property, bool crash, const std::string& reason,
                  const std::string& detail, double ratio, const Case& c, const std::string& differed_on = "") -> std::string {
    props::Counterexample cx;
    cx.differed_on = differed_on;
    cx.kernel = kernel.desc->name;
    cx.plugin = kernel.origin == "built-in" ? "" : kernel.origin;
    cx.property = property;
    cx.finding = crash ? props::Finding::kCrash : props::Finding::kViolation;
    cx.reason = reason;
    cx.detail = detail;
    cx.worst_ratio = ratio;
    cx.c = c;
    try {
      return a.replay_command + " " + props::save_counterexample(a.out_dir, cx, saved_paths);
    } catch (const OutputError& e) {
      res.messages.push_back(std::string("counterexample not saved: ") + e.what() + " (--out-dir " + a.out_dir + ")");
      res.tally.output_failed = true;
      return "";
    }
  };
  for (size_t ui = 0; ui < results.size(); ++ui) {
    const Finished& f = results[ui];
    const impl::Kernel& kernel = *mine[ui].kernel;
    const std::string& kname = f.run.result.kernel;
    if (!f.run.result.internal_error.empty()) {
      res.tally.internal = true;
      res.messages.push_back("INTERNAL ERROR (" + kname + ", " + f.run.result.spec_name + "): " + f.run.result.internal_error);
      res.internal_errors[kname].push_back(f.run.result.spec_name + ": " + f.run.result.internal_error);
    }
    if (!f.run.result.refusal.empty()) res.refusals.push_back({kname, f.run.result.spec_name, f.run.result.refusal});
    for (const PropertyOutcome& o : f.run.result.properties) {
      Cell& c = res.cells[kname][o.property];
      c.checked += o.checked;
      c.skipped += o.skipped;
      c.generated += o.generated;
      if (!o.skip_reason.empty()) c.skip_reason = o.skip_reason;
      if (o.checked == 0 && !o.failed && o.skip_reason.rfind(props::kRecipeUnavailable, 0) == 0 &&
          !res.recipe_notes.count(kname)) {
        res.recipe_notes[kname] = o.property + " not checked: " + o.skip_reason;
      }
      c.seconds += f.run.result.seconds / static_cast<double>(std::max<size_t>(1, f.run.result.properties.size()));
      if (o.worst_ratio > c.worst_ratio || std::isnan(o.worst_ratio)) {
        c.worst_ratio = o.worst_ratio;
        c.worst_capped = o.worst_capped;
      }
      res.tally.violation |= o.failed && !o.crash_class;
      res.tally.crash |= o.crash_class;
      if (!o.failed || c.failed || c.crashed) continue;
      c.failed = !o.crash_class;
      c.crashed = o.crash_class;
      c.reason = o.reason;
      const std::string named = o.finding_property.empty() ? o.property : o.finding_property;
      c.repro = o.counterexample ? save(kernel, named, o.crash_class, o.reason, o.detail, o.failure_ratio,
                                        *o.counterexample, o.differed_on)
                                 : "";
      std::string m = std::string(o.crash_class ? "CRASH" : "FAIL") + ": " + kname + " violates " + named +
                      " (spec: " + f.run.result.spec_name + ")\n  " + o.reason + "\n" + o.detail;
      if (o.worst_failure) {
        const std::string worst = save(kernel, named + "-worst", o.crash_class, o.reason, o.worst_failure_detail,
                                       o.worst_failure_ratio, *o.worst_failure);
        m += "\n  largest excess seen: " + ratio_text(o.worst_failure_ratio) + " the bound, on " +
             props::describe(*o.worst_failure) + " (the case above is the smallest failing one, " +
             ratio_text(o.failure_ratio) + ")" + (worst.empty() ? "" : "\n  worst case: " + worst);
      }
      if (o.shrink_cut) m += "\n  shrinking stopped at its deadline: the case may not be minimal";
      m += kernel_output_text(f.run);
      if (!c.repro.empty()) m += "\n  reproduce: " + c.repro;
      res.messages.push_back(std::move(m));
    }
    if (!f.run.crash.empty()) {
      res.tally.crash = true;
      const std::string prop = f.crash_property.empty() ? "(kernel call)" : f.crash_property;
      Cell& c = res.cells[kname][prop];
      c.crashed = true;
      c.reason = f.run.crash;
      c.repro = f.crash_case ? save(kernel, prop, true, f.run.crash, "", 0, *f.crash_case) : "";
      res.messages.push_back("CRASH: " + kname + " " + f.run.crash + " (spec: " + f.run.result.spec_name + ", property " +
                             prop + ")" + (f.crash_case ? "\n  case: " + props::describe(*f.crash_case) : "") +
                             kernel_output_text(f.run) + (c.repro.empty() ? "" : "\n  reproduce: " + c.repro));
    }
  }
  for (size_t i = 0; i < results.size(); ++i) res.units.push_back(results[i].run);

  // Kernels that checked nothing (they support none of the specs) must not look like a pass.
  for (const std::string& k : res.kernels) {
    int total = 0;
    for (const auto& [p, c] : res.cells[k]) total += c.checked + (c.failed || c.crashed);
    if (total == 0) res.unchecked.push_back(k);
  }
  res.tally.nothing_checked = !res.unchecked.empty();
  return res;
}

}  // namespace ropecheck::gate

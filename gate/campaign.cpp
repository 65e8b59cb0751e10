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
#include "properties/runner.hpp"

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
  size_t spec_index = 0;     // in CampaignOptions::specs (the generated specs: after them)
  std::string spec_name() const { return random_specs ? "(generated specs)" : (spec.name.empty() ? to_string(spec.type) : spec.name); }
};

struct Finished {
  UnitRun run;
  std::optional<Case> crash_case;
  std::string crash_property;
};

// One run of a unit in a child (or in this process): its sweep, its generated cases, or both.
struct Job {
  size_t unit;  // index into the campaign's units
  GateOptions options;
};

// Thrown out of the pool's callbacks to stop it (--fail-fast): the children are killed.
struct StopCampaign {};

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// Tells each finding as it is confirmed (CampaignOptions::on_finding), before any shrinking;
// the full message with the shrunk case comes with the campaign's result.
struct FindingStream {
  const CampaignOptions& a;
  Clock::time_point start;

  std::string head() const { return "[" + seconds_text(std::chrono::duration<double>(Clock::now() - start).count()) + "] "; }
  std::string then() const {
    return a.fail_fast ? "stopping (--fail-fast): reported as found, unshrunk"
                       : (a.shrink ? "shrinking it: the smallest failing case and a reproducer follow" : "details follow");
  }
  void violation(const Unit& u, const PropertyOutcome& o) const {
    if (!a.on_finding) return;
    const std::string named = o.finding_property.empty() ? o.property : o.finding_property;
    a.on_finding(head() + (o.crash_class ? "CRASH" : "FAIL") + " found: " + u.kernel->desc->name + " violates " + named +
                 " (spec: " + u.spec_name() + "): " + o.reason +
                 (o.counterexample ? "\n  on " + props::describe(*o.counterexample) : "") + "\n  " +
                 (o.crash_class ? "" : "confirmed by the exact reference; ") + then());
  }
  void crash(const Unit& u, const Finished& f) const {
    if (!a.on_finding) return;
    a.on_finding(head() + "CRASH found: " + u.kernel->desc->name + " " + f.run.crash + " (spec: " + u.spec_name() +
                 ", property " + (f.crash_property.empty() ? "(kernel call)" : f.crash_property) + ")" +
                 (f.crash_case ? "\n  case: " + props::describe(*f.crash_case) : "") + "\n  " +
                 (a.fail_fast ? "stopping (--fail-fast)" : "details follow"));
  }
};

bool has_finding(const Finished& f) {
  return !f.run.crash.empty() ||
         std::any_of(f.run.result.properties.begin(), f.run.result.properties.end(), [](const PropertyOutcome& o) { return o.failed; });
}

// In the child: run the unit, a note with the case before every kernel call (a crash leaves it
// for the parent: it names the case), a heartbeat '.' after it, the result JSON at the end.
int run_unit_in_child(const Unit& u, const GateOptions& base, const impl::ChildChannel& ch) {
  GateOptions opt = base;
  opt.random_specs = u.random_specs;
  opt.many_tokens = u.many_tokens;
  // Each confirmed failure at once, a line of its own (the parent prints it as it arrives).
  opt.on_violation = [&](const PropertyOutcome& o) { ch.write(violation_message(o)); };
  opt.before_case = [&](const Case& c, const char* property) {
    // Test hook: an internal error of ropecheck's own, on demand, for the one property named
    // in ROPECHECK_TEST_INTERNAL_ERROR, so that gate_test can see how one is reported (no
    // input from outside provokes one).  It can only turn a unit into exit 4, never a pass.
    if (const char* injected = std::getenv("ROPECHECK_TEST_INTERNAL_ERROR");
        injected != nullptr && std::strcmp(injected, property) == 0) {
      throw std::logic_error("internal error injected by ROPECHECK_TEST_INTERNAL_ERROR");
    }
    ch.note(std::string(property) + "\n" + props::case_to_note(c));
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
      f.crash_case = props::case_from_note(std::string_view(text).substr(eol + 1));
    } catch (const std::exception&) {
    }
  }
  return f;
}

// Runs every job, up to `parallel` children at a time; a child that sends no heartbeat for
// `case_timeout` s is killed.  Failures are told as the children confirm them; with fail_fast
// the first finding stops the pool (the job that found it gets that failure, unshrunk, as its
// result; the jobs still running get none).  `done` is called as each job ends.
std::vector<std::optional<Finished>> run_isolated(const std::vector<Unit>& units, const std::vector<Job>& jobs, int parallel,
                                                  double case_timeout, const FindingStream& findings, bool fail_fast,
                                                  const std::function<void(size_t, const Finished&)>& done, bool* stopped) {
  std::vector<std::optional<Finished>> out(jobs.size());
  std::vector<ViolationStream> streams(jobs.size());
  std::vector<std::optional<PropertyOutcome>> first(jobs.size());
  impl::SuperviseOptions supervise;
  supervise.inactivity_timeout = case_timeout;
  // What a kernel prints is kept apart from ropecheck's own output and shown with its unit.
  supervise.capture_kernel_output = true;
  supervise.on_job_output = [&](size_t i, std::string_view piece) {
    std::vector<PropertyOutcome> confirmed;
    try {
      confirmed = streams[i].feed(piece);
    } catch (const std::exception&) {
      return;  // unreadable: the unit's result at its end is what counts
    }
    for (PropertyOutcome& o : confirmed) {
      findings.violation(units[jobs[i].unit], o);
      if (!first[i]) first[i] = std::move(o);
      if (fail_fast) throw StopCampaign{};
    }
  };
  try {
    impl::run_supervised_pool(
        jobs.size(), parallel,
        [&](size_t i, const impl::ChildChannel& ch) { return run_unit_in_child(units[jobs[i].unit], jobs[i].options, ch); },
        supervise,
        [&](size_t i, impl::ChildOutcome o) {
          out[i] = reap(units[jobs[i].unit], o);
          if (!out[i]->run.crash.empty()) findings.crash(units[jobs[i].unit], *out[i]);
          done(i, *out[i]);
          if (fail_fast && has_finding(*out[i])) throw StopCampaign{};
        });
  } catch (const StopCampaign&) {
    *stopped = true;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (out[i] || !first[i]) continue;
      Finished f;
      f.run.result.kernel = units[jobs[i].unit].kernel->desc->name;
      f.run.result.spec_name = units[jobs[i].unit].spec_name();
      f.run.result.properties.push_back(std::move(*first[i]));
      out[i] = std::move(f);
    }
  }
  return out;
}

std::vector<std::string> to_generate(const Finished& f);
void merge(Finished& into, Finished&& more);

std::vector<std::optional<Finished>> run_in_process(const std::vector<Unit>& units, const std::vector<Job>& jobs,
                                                    const FindingStream& findings, bool fail_fast,
                                                    const std::function<void(UnitResult&)>& after_unit,
                                                    const std::function<void(size_t, const Finished&)>& done, bool* stopped) {
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
  std::vector<std::optional<Finished>> results(jobs.size());
  for (size_t i = 0; i < jobs.size() && !*stopped; ++i) {
    const Unit& u = units[jobs[i].unit];
    GateOptions o = jobs[i].options;
    o.random_specs = u.random_specs;
    o.many_tokens = u.many_tokens;
    o.on_violation = [&](const PropertyOutcome& v) { findings.violation(u, v); };
    Finished f;
    if (o.phase != GateOptions::Phase::kAll || u.random_specs) {
      f.run.result = run_unit(*u.kernel->desc, u.spec, o);
    } else {
      // As in children: the sweep of every property first, then generated cases for those it did
      // not fail, in what is left of the unit's share of the budget (each property its slice of
      // that).  In one run, a property whose sweep is slow (agreement's call of 65539 tokens
      // through a Python kernel) used up its own slice and the next one's, and got no generated
      // case at all.
      GateOptions sweep = o;
      sweep.phase = GateOptions::Phase::kSweep;
      f.run.result = run_unit(*u.kernel->desc, u.spec, sweep);
      GateOptions more = o;
      more.phase = GateOptions::Phase::kGenerated;
      more.properties = to_generate(f);
      if (o.unit_budget_seconds >= 0) more.unit_budget_seconds = o.unit_budget_seconds - f.run.result.seconds;
      const bool none = more.properties.empty() || o.max_cases == 0 || (fail_fast && has_finding(f)) ||
                        (o.unit_budget_seconds >= 0 && more.unit_budget_seconds <= 0);
      if (!none) {
        Finished g;
        g.run.result = run_unit(*u.kernel->desc, u.spec, more);
        merge(f, std::move(g));
      }
    }
    if (after_unit) after_unit(f.run.result);
    *stopped = fail_fast && has_finding(f);
    done(i, f);
    results[i] = std::move(f);
  }
  gate_running = false;
  return results;
}

// The properties whose generated cases are still to run after a unit's sweep ended as `f`:
// those it did not fail, up to an internal error (the property that had it is the last: the
// unit ran nothing after it, and with the sweep and generated cases in one run the properties
// before it had their generated cases).
std::vector<std::string> to_generate(const Finished& f) {
  const UnitResult& r = f.run.result;
  std::vector<std::string> out;
  if (!f.run.crash.empty() || !r.refusal.empty()) return out;
  const size_t n = r.properties.size() - (r.internal_error.empty() || r.properties.empty() ? 0 : 1);
  for (size_t i = 0; i < n; ++i) {
    if (!r.properties[i].failed) out.push_back(r.properties[i].property);
  }
  return out;
}

// A unit's generated cases (`more`) added to its sweep (`into`): counts add up, the largest
// ratio is kept, a failure is the generated phase's (the sweep hands on no failed property).
void merge(Finished& into, Finished&& more) {
  UnitResult& r = into.run.result;
  r.seconds += more.run.result.seconds;
  if (r.internal_error.empty()) r.internal_error = more.run.result.internal_error;
  for (PropertyOutcome& o : more.run.result.properties) {
    const auto same = std::find_if(r.properties.begin(), r.properties.end(),
                                   [&](const PropertyOutcome& p) { return p.property == o.property; });
    if (same == r.properties.end()) {
      r.properties.push_back(std::move(o));
      continue;
    }
    PropertyOutcome& p = *same;
    o.checked += p.checked;
    o.skipped += p.skipped;
    o.generated += p.generated;
    if (o.skip_reason.empty()) o.skip_reason = p.skip_reason;
    // NaN ranks highest, as in the unit.
    if (!(o.worst_ratio > p.worst_ratio || (std::isnan(o.worst_ratio) && !std::isnan(p.worst_ratio)))) {
      o.worst_ratio = p.worst_ratio;
      o.worst_capped = p.worst_capped;
    }
    p = std::move(o);
  }
  into.run.kernel_output += more.run.kernel_output;
  into.run.kernel_output_bytes += more.run.kernel_output_bytes;
  if (!more.run.crash.empty()) {
    into.run.crash = more.run.crash;
    into.crash_case = more.crash_case;
    into.crash_property = more.crash_property;
  }
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
    for (const RopeSpec& s : a.specs) {
      units.push_back(Unit{k, s, false, a.many_tokens && &s == &a.specs.front(), static_cast<size_t>(&s - a.specs.data())});
    }
    if (a.generated_specs && !a.specs.empty()) units.push_back(Unit{k, a.specs.front(), true, false, a.specs.size()});
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

  const auto start = Clock::now();
  GateOptions opt;
  opt.seed = a.seed;
  opt.max_cases = a.cases;
  opt.properties = a.properties;
  opt.shrink_seconds = a.shrink_seconds;
  opt.shrink = a.shrink;
  opt.sweep = a.sweep;
  opt.fail_fast = a.fail_fast;
  opt.before_case = a.before_case;  // in process only: a child sets its own
  // Without --cases, each unit gets an equal share of the budget across the parallel jobs; no
  // generated case starts after the budget, no shrink candidate after the budget plus
  // shrink_seconds (the sweep always runs whole).
  if (a.cases < 0 && !mine.empty()) {
    const double parallel = a.isolation ? std::min<double>(a.jobs, static_cast<double>(mine.size())) : 1.0;
    opt.unit_budget_seconds = a.budget_seconds * parallel / static_cast<double>(mine.size());
    const auto at = [&](double s) { return start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
    opt.deadline = at(a.budget_seconds);
    opt.hard_deadline = at(a.budget_seconds + a.shrink_seconds);
  }
  size_t units_done = 0;
  auto progress = [&](const Unit& u) {
    if (a.progress) a.progress(++units_done, mine.size(), u.kernel->desc->name, u.spec_name());
  };
  const FindingStream findings{a, start};
  quiet_rapidcheck_configuration();
  std::vector<std::optional<Finished>> results(mine.size());
  bool stopped = false;
  if (!a.isolation) {
    // One unit after another, each its sweep and then its generated cases, in this process
    // (`ropecheck judge` amends each unit's result as it ends: after_unit).
    std::vector<Job> jobs;
    for (size_t i = 0; i < mine.size(); ++i) jobs.push_back(Job{i, opt});
    results = run_in_process(mine, jobs, findings, a.fail_fast, a.after_unit,
                             [&](size_t i, const Finished&) { progress(mine[jobs[i].unit]); }, &stopped);
  } else {
    // 1. The edge-position sweep of every unit before any generated case: the cheapest checks
    // and the ones that find most bugs.  Spec by spec, every kernel's first: each kernel's
    // sweep on the first spec starts at once.
    std::vector<Job> sweeps;
    for (size_t i = 0; i < mine.size(); ++i) {
      if (mine[i].random_specs) continue;  // nothing to sweep
      GateOptions o = opt;
      o.phase = GateOptions::Phase::kSweep;
      sweeps.push_back(Job{i, o});
    }
    std::stable_sort(sweeps.begin(), sweeps.end(),
                     [&](const Job& x, const Job& y) { return mine[x.unit].spec_index < mine[y.unit].spec_index; });
    const auto swept = run_isolated(
        mine, sweeps, a.jobs, a.case_timeout, findings, a.fail_fast,
        [&](size_t j, const Finished& f) {
          if (to_generate(f).empty()) progress(mine[sweeps[j].unit]);
        },
        &stopped);
    for (size_t j = 0; j < sweeps.size(); ++j) results[sweeps[j].unit] = swept[j];
    // 2. Generated cases, for the properties the sweep did not fail, in what is left of each
    // unit's share of the budget.
    std::vector<Job> generated;
    for (size_t i = 0; i < mine.size() && !stopped; ++i) {
      GateOptions o = opt;
      o.phase = GateOptions::Phase::kGenerated;
      if (!mine[i].random_specs) {
        if (!results[i]) continue;
        o.properties = to_generate(*results[i]);
        if (o.properties.empty()) continue;
        if (opt.unit_budget_seconds >= 0) o.unit_budget_seconds = opt.unit_budget_seconds - results[i]->run.result.seconds;
        if (a.cases == 0 || (opt.unit_budget_seconds >= 0 && o.unit_budget_seconds <= 0)) {  // no case would run
          progress(mine[i]);
          continue;
        }
      }
      generated.push_back(Job{i, o});
    }
    auto more = run_isolated(
        mine, generated, a.jobs, a.case_timeout, findings, a.fail_fast,
        [&](size_t j, const Finished&) { progress(mine[generated[j].unit]); }, &stopped);
    for (size_t j = 0; j < generated.size(); ++j) {
      std::optional<Finished>& into = results[generated[j].unit];
      if (!more[j]) continue;
      if (into) {
        merge(*into, std::move(*more[j]));
      } else {
        into = std::move(more[j]);
      }
    }
  }
  res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  res.stopped = stopped;
  for (const auto& f : results) res.unfinished_units += f ? 0 : 1;

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
    if (!results[ui]) continue;  // stopped (--fail-fast) before it ended
    const Finished& f = *results[ui];
    const impl::Kernel& kernel = *mine[ui].kernel;
    const std::string& kname = f.run.result.kernel;
    if (!f.run.result.internal_error.empty()) {
      res.tally.internal = true;
      res.messages.push_back("INTERNAL ERROR (" + kname + ", " + f.run.result.spec_name + "): " + f.run.result.internal_error);
      res.internal_errors[kname].push_back(f.run.result.spec_name + ": " + f.run.result.internal_error);
    }
    if (!f.run.result.refusal.empty()) res.refusals.push_back({kname, f.run.result.spec_name, f.run.result.refusal});
    if (!mine[ui].random_specs) {
      if (std::string why = props::spec_unsupported_reason(*kernel.desc, mine[ui].spec); !why.empty()) {
        res.not_declared.push_back({kname, f.run.result.spec_name, std::move(why)});
      }
    }
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
      if (o.shrink_cut) {
        m += a.fail_fast ? "\n  not shrunk (--fail-fast): the case it was found on"
                         : "\n  shrinking stopped at its deadline: the case may not be minimal";
      }
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
  for (const auto& f : results) {
    if (f) res.units.push_back(f->run);
  }

  // Kernels that checked nothing (they support none of the specs) must not look like a pass;
  // after --fail-fast stopped the gate, nothing more can be said of them.
  for (const std::string& k : stopped ? std::vector<std::string>{} : res.kernels) {
    int total = 0;
    for (const auto& [p, c] : res.cells[k]) total += c.checked + (c.failed || c.crashed);
    if (total == 0) res.unchecked.push_back(k);
  }
  res.tally.nothing_checked = !res.unchecked.empty();
  return res;
}

}  // namespace ropecheck::gate

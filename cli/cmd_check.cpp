// `ropecheck check`: the CI correctness gate.
//
// Work is split into units (kernel × spec).  Each unit runs in a child process (fork), so a
// kernel that segfaults, aborts or hangs becomes a finding that names the kernel, the case
// and the signal — never a crash of the gate.  Before every kernel call the child writes the
// case it is about to run to a file, and a heartbeat byte to its pipe; the parent kills a
// child whose heartbeat stops for --case-timeout seconds (impl/isolation.hpp).  Buffers are
// surrounded by canaries (properties/runner.cpp), so out-of-bounds writes are findings too.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <rapidcheck/detail/Configuration.h>

#include "args.hpp"
#include "commands.hpp"
#include "kernel_selection.hpp"
#include "properties/exit_codes.hpp"
#include "impl/isolation.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/case.hpp"
#include "properties/counterexample.hpp"
#include "properties/output_file.hpp"
#include "properties/gate.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::cli {

namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr const char* kCheckHelp = R"(Usage:
  ropecheck check [--kernel NAME|all]... [--plugin LIB.so]... [--spec FILE | --hf-config FILE]...
                  [--budget-seconds N | --cases N] [--seed S] [--property ID]...
                  [--junit FILE] [--json FILE] [--out-dir DIR] [--shard i/n] [--jobs N]
                  [--case-timeout S] [--no-isolation] [--quiet]

The correctness gate: for every selected kernel and spec, a deterministic sweep of the edge
positions (0, 1, 255-257, ..., 2^31±1, 2^32, 2^53, each scaling's L0±1, the kernel's declared
maximum), then generated cases within the time budget, through the whole property catalogue
(`ropecheck check --list-properties`).  Bounds come from each kernel's declared accuracy
contract; every reported violation is confirmed by the exact reference.  A violation is shrunk
to the smallest failing case, saved to --out-dir, and printed with a one-line reproducer.

Options:
  --kernel NAME      check this kernel (repeatable); `all` = built-ins and plugins.  Default:
                     the plugins' kernels if --plugin is given, else the built-in kernels.
  --plugin LIB.so    load kernels from a shared library (the C ABI in impl/ropecheck_kernel.h).
  --spec FILE        a ropecheck spec JSON (repeatable).
  --hf-config FILE   a HuggingFace config.json (repeatable).
                     Default specs: every variant and both layouts (default, partial, linear,
                     ntk, dynamic, yarn x2, llama3, longrope) plus generated specs.
  --budget-seconds N time for generated cases, shared by all units (default 20).
  --cases N          instead of a time budget: N generated cases per property and unit.
  --seed S           seed of the generated cases, an integer in [0, 2^64-1] (default 1); the
                     same seed, kernels and specs give the same cases.
  --property ID      check only this property (repeatable).
  --list-properties  print the catalogue and exit.
  --junit FILE       write JUnit XML (a testcase per kernel x property).
  --json FILE        write the full results as JSON (with "warnings": ill-conditioned specs,
                     also printed on stderr and in the JUnit suites' properties).
  --out-dir DIR      where counterexamples are saved (default: ropecheck-failures).
  --shard i/n        run only units with index = i mod n (0 <= i < n); default from
                     GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS when set.
  --jobs N           units run in parallel (default 2).
  --case-timeout S   a kernel call that takes longer is a hang (default 20).
  --no-isolation     run kernels in this process (faster to debug; a crash ends the gate).
  --quiet            no progress bar and no summary table.
  --help             this text.

Examples:
  ropecheck check
  ropecheck check --plugin ./libmyrope.so --hf-config config.json --junit rope.xml
  ropecheck check --kernel simd_table_f32 --cases 200 --seed 7 --shard 0/4

Exit codes: 0 every check held; 1 a kernel violated a property; 2 bad usage, spec or plugin,
or a kernel supports none of the specs (nothing was checked); 3 a kernel crashed, hung or
wrote out of bounds; 4 internal error.
)";

// ---- serialization of unit results (child → parent) ----------------------------------

// JSON has no infinity or NaN (nlohmann writes them as null, which then does not read back
// as a number): an unbounded excess travels as the string "inf".
json ratio_to_json(double r) {
  if (std::isfinite(r)) return r;
  return std::isnan(r) ? "nan" : (r > 0 ? "inf" : "-inf");
}
double ratio_from_json(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "inf") return INFINITY;
  if (s == "-inf") return -INFINITY;
  if (s == "nan") return NAN;
  throw std::runtime_error("worst_ratio: not a number: " + s);
}

json outcome_to_json(const props::PropertyOutcome& o) {
  json j;
  j["property"] = o.property;
  j["checked"] = o.checked;
  j["skipped"] = o.skipped;
  j["failed"] = o.failed;
  j["crash"] = o.crash_class;
  j["worst_ratio"] = ratio_to_json(o.worst_ratio);
  if (o.failed) {
    j["finding_property"] = o.finding_property;
    j["reason"] = o.reason;
    j["detail"] = o.detail;
    if (o.counterexample) j["case"] = json::parse(props::case_to_json(*o.counterexample, -1));
  }
  return j;
}

props::PropertyOutcome outcome_from_json(const json& j) {
  props::PropertyOutcome o;
  o.property = j.at("property");
  o.checked = j.at("checked");
  o.skipped = j.at("skipped");
  o.failed = j.at("failed");
  o.crash_class = j.at("crash");
  o.worst_ratio = ratio_from_json(j.at("worst_ratio"));
  if (o.failed) {
    o.finding_property = j.at("finding_property");
    o.reason = j.at("reason");
    o.detail = j.at("detail");
    if (j.contains("case")) o.counterexample = props::case_from_json(j.at("case").dump());
  }
  return o;
}

json unit_to_json(const props::UnitResult& u) {
  json j;
  j["kernel"] = u.kernel;
  j["spec"] = u.spec_name;
  j["seconds"] = u.seconds;
  j["internal_error"] = u.internal_error;
  json ps = json::array();
  for (const auto& o : u.properties) ps.push_back(outcome_to_json(o));
  j["properties"] = ps;
  return j;
}

props::UnitResult unit_from_json(const json& j) {
  props::UnitResult u;
  u.kernel = j.at("kernel");
  u.spec_name = j.at("spec");
  u.seconds = j.at("seconds");
  u.internal_error = j.at("internal_error");
  for (const json& o : j.at("properties")) u.properties.push_back(outcome_from_json(o));
  return u;
}

// ---- units and isolation ---------------------------------------------------------------

struct Unit {
  const impl::Kernel* kernel;
  RopeSpec spec;
  bool random_specs = false;
};

struct Finished {
  props::UnitResult result;
  std::string crash;  // non-empty: the child crashed or hung (what happened)
  std::optional<props::Case> crash_case;
  std::string crash_property;
};

// In the child: run the unit, heartbeat '.' before every case, result JSON at the end.
int run_unit_in_child(const Unit& u, const props::GateOptions& base, const impl::ChildChannel& ch,
                      const std::string& case_file) {
  props::GateOptions opt = base;
  opt.random_specs = u.random_specs;
  opt.before_case = [&](const props::Case& c, const char* property) {
    // Test hook: an internal error of ropecheck's own, on demand, for the one property named
    // in ROPECHECK_TEST_INTERNAL_ERROR, so that gate_test can see how one is reported (no
    // input from outside provokes one).  It can only turn a unit into exit 4, never a pass.
    if (const char* injected = std::getenv("ROPECHECK_TEST_INTERNAL_ERROR");
        injected != nullptr && std::strcmp(injected, property) == 0) {
      throw std::logic_error("internal error injected by ROPECHECK_TEST_INTERNAL_ERROR");
    }
    {
      std::ofstream f(case_file, std::ios::trunc);
      f << property << "\n" << props::case_to_json(c, -1);
    }
    ch.write(".");
  };
  ch.write("\n" + unit_to_json(props::run_unit(*u.kernel->desc, u.spec, opt)).dump() + "\n");
  return 0;
}

std::string read_file_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Finished reap(const Unit& u, const impl::ChildOutcome& o, const std::string& case_file) {
  Finished f;
  f.result.kernel = u.kernel->desc->name;
  f.result.spec_name = u.random_specs ? "(generated specs)" : (u.spec.name.empty() ? to_string(u.spec.type) : u.spec.name);
  switch (o.end) {
    case impl::ChildOutcome::End::kNoChild:
      throw std::runtime_error(o.describe());
    case impl::ChildOutcome::End::kException:
      f.result.internal_error = "exception: " + o.error;
      return f;
    case impl::ChildOutcome::End::kVerdict: {
      const size_t nl = o.output.rfind('\n', o.output.size() >= 2 ? o.output.size() - 2 : 0);
      try {
        f.result = unit_from_json(json::parse(o.output.substr(nl == std::string::npos ? 0 : nl + 1)));
      } catch (const std::exception& e) {
        f.result.internal_error = std::string("unreadable result from child: ") + e.what();
      }
      return f;
    }
    default:
      break;
  }
  f.crash = o.describe();
  const std::string text = read_file_text(case_file);
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
std::vector<Finished> run_isolated(const std::vector<Unit>& units, const props::GateOptions& opt, int jobs,
                                   double case_timeout, const std::function<void(size_t, const Unit&)>& progress) {
  std::vector<Finished> done(units.size());
  const std::string case_stem =
      std::filesystem::temp_directory_path().string() + "/ropecheck-case-" + std::to_string(::getpid()) + "-";
  impl::SuperviseOptions supervise;
  supervise.inactivity_timeout = case_timeout;
  size_t finished = 0;
  impl::run_supervised_pool(
      units.size(), jobs,
      [&](size_t i, const impl::ChildChannel& ch) {
        return run_unit_in_child(units[i], opt, ch, case_stem + std::to_string(i));
      },
      supervise,
      [&](size_t i, impl::ChildOutcome o) {
        const std::string case_file = case_stem + std::to_string(i);
        done[i] = reap(units[i], o, case_file);
        std::remove(case_file.c_str());
        progress(++finished, units[i]);
      });
  return done;
}

// ---- reporting ---------------------------------------------------------------------------

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') o += ' ';
        else o += c;
    }
  }
  return o;
}

// Status of one kernel × property over all its units.
struct Cell {
  int checked = 0, skipped = 0;
  bool failed = false, crashed = false;
  std::string reason;
  std::string repro;  // the reproducer command of the first failure
  double seconds = 0;
  std::string status() const {
    if (crashed) return "CRASH";
    if (failed) return "FAIL";
    if (checked > 0) return "pass";
    return "n/a";
  }
};

// The parsed command line of `ropecheck check`.
struct CheckOptions {
  std::vector<std::string> kernels, plugins, specs, hf_configs, properties;
  double budget = 20;
  int cases = -1;
  uint64_t seed = 1;
  std::string junit, json_out, out_dir = "ropecheck-failures";
  int shard_index = 0, shard_count = 1;
  int jobs = 2;
  double case_timeout = 20;
  bool isolation = true, quiet = false;
};

}  // namespace

int run_check(const Args& argv) {
  CheckOptions a;
  {  // options (a UsageError or SpecError reaches main: exit 2)
    const ParsedArgs args(argv,
                          {"--kernel", "--plugin", "--spec", "--hf-config", "--budget-seconds", "--cases", "--seed",
                           "--property", "--junit", "--json", "--out-dir", "--shard", "--jobs", "--case-timeout"},
                          {"--help", "--no-isolation", "--quiet", "--list-properties"},
                          {"--kernel", "--plugin", "--spec", "--hf-config", "--property"});
    if (args.flag("--help")) {
      std::fputs(kCheckHelp, stdout);
      return kExitOk;
    }
    if (args.flag("--list-properties")) {
      for (const auto& p : props::catalogue()) std::printf("%-48s %s\n", p.id, p.summary);
      return kExitOk;
    }
    if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional().front() + "'");
    a.kernels = args.all("--kernel");
    a.plugins = args.all("--plugin");
    a.specs = args.all("--spec");
    a.hf_configs = args.all("--hf-config");
    a.properties = args.all("--property");
    if (args.has("--budget-seconds") && args.has("--cases")) {
      throw UsageError("give --budget-seconds or --cases, not both");
    }
    if (args.has("--budget-seconds")) a.budget = parse_int(args.get("--budget-seconds"), "--budget-seconds", 0, 86400);
    if (args.has("--cases")) a.cases = parse_int(args.get("--cases"), "--cases", 0, 100000000);
    if (args.has("--seed")) a.seed = parse_unsigned("--seed", args.get("--seed"), 0, UINT64_MAX);
    a.junit = args.get("--junit");
    a.json_out = args.get("--json");
    a.out_dir = args.get("--out-dir", a.out_dir);
    a.jobs = args.has("--jobs") ? parse_int(args.get("--jobs"), "--jobs", 1, 64) : 2;
    if (args.has("--case-timeout")) a.case_timeout = parse_int(args.get("--case-timeout"), "--case-timeout", 1, 3600);
    a.isolation = !args.flag("--no-isolation");
    a.quiet = args.flag("--quiet");
    std::string shard = args.get("--shard");
    if (shard.empty() && std::getenv("GTEST_TOTAL_SHARDS") && std::getenv("GTEST_SHARD_INDEX")) {
      shard = std::string(std::getenv("GTEST_SHARD_INDEX")) + "/" + std::getenv("GTEST_TOTAL_SHARDS");
    }
    if (!shard.empty()) {
      const size_t slash = shard.find('/');
      if (slash == std::string::npos) throw UsageError("--shard must be i/n, got '" + shard + "'");
      a.shard_count = parse_int(shard.substr(slash + 1), "--shard n", 1, 1 << 20);
      a.shard_index = parse_int(shard.substr(0, slash), "--shard i", 0, a.shard_count - 1);
    }
    for (const std::string& p : a.properties) {
      if (!props::find_property(p)) throw UsageError("unknown property '" + p + "' (see --list-properties)");
    }
  }

  // Kernels.
  const KernelSelection sel = select_kernels(a.plugins, a.kernels);
  const std::vector<const impl::Kernel*>& selected = sel.kernels;
  const std::vector<const rc_kernel_desc*> descs = sel.descs();

  // Specs.
  std::vector<RopeSpec> specs;
  for (const std::string& f : a.specs) specs.push_back(load_spec_file(f));
  for (const std::string& f : a.hf_configs) specs.push_back(load_hf_config_file(f));
  const bool default_specs = specs.empty();
  if (default_specs) specs = props::default_gate_specs();
  // An ill-conditioned spec is still checked (the bound admits what any faithful kernel may
  // do there), but the user should know why some pairs' bounds are wide.
  // Also in the JSON ("warnings") and the JUnit XML (a "warning" property of each suite).
  std::vector<std::string> warnings;
  for (const RopeSpec& s : specs) {
    std::string w = props::conditioning_warning(s, descs);
    if (w.empty()) continue;
    std::fprintf(stderr, "ropecheck check: warning: %s\n", w.c_str());
    warnings.push_back(std::move(w));
  }

  // Units (kernel × spec, plus generated specs with the defaults), then the shard.
  std::vector<Unit> units;
  for (const impl::Kernel* k : selected) {
    for (const RopeSpec& s : specs) units.push_back(Unit{k, s, false});
    if (default_specs) units.push_back(Unit{k, specs.front(), true});
  }
  std::vector<Unit> mine;
  for (size_t i = 0; i < units.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(a.shard_count)) == a.shard_index) mine.push_back(units[i]);
  }
  // The kernels this shard runs units of: the only ones it reports on (another shard reports
  // the rest; none of them is "unchecked" here).
  std::vector<const impl::Kernel*> in_shard;
  for (const impl::Kernel* k : selected) {
    if (std::any_of(mine.begin(), mine.end(), [&](const Unit& u) { return u.kernel == k; })) in_shard.push_back(k);
  }

  props::GateOptions opt;
  opt.seed = a.seed;
  opt.max_cases = a.cases;
  opt.properties = a.properties;
  // Without --cases, each unit gets an equal share of the budget across the parallel jobs.
  if (a.cases < 0 && !mine.empty()) {
    opt.unit_budget_seconds = a.budget * (a.isolation ? a.jobs : 1) / static_cast<double>(mine.size());
  }
  const auto start = Clock::now();
  const bool tty = ::isatty(2) && !a.quiet;
  auto progress = [&](size_t done, const Unit& u) {
    if (!tty) return;
    const int width = 30;
    const int filled = static_cast<int>(width * done / std::max<size_t>(1, mine.size()));
    std::fprintf(stderr, "\r[%s%s] %zu/%zu  %-20.20s %-30.30s", std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(), done, mine.size(), u.kernel->desc->name,
                 u.random_specs ? "(generated specs)" : u.spec.name.c_str());
    if (done == mine.size()) std::fprintf(stderr, "\n");
  };

  // RapidCheck announces its configuration on stderr the first time it is read; read it here
  // once, quietly, so the children inherit it instead of each printing it.
  {
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
  std::vector<Finished> results;
  if (a.isolation) {
    results = run_isolated(mine, opt, a.jobs, a.case_timeout, progress);
  } else {
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
    size_t done = 0;
    for (const Unit& u : mine) {
      props::GateOptions o = opt;
      o.random_specs = u.random_specs;
      Finished f;
      f.result = props::run_unit(*u.kernel->desc, u.spec, o);
      results.push_back(std::move(f));
      progress(++done, u);
    }
    gate_running = false;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  // Aggregate kernel × property, write counterexamples.
  std::map<std::string, std::map<std::string, Cell>> cells;
  bool any_fail = false, any_crash = false, any_internal = false;
  std::vector<std::string> messages;
  std::error_code ec;
  // Saves a counterexample; returns the command that replays it, or "" (with a message on
  // stderr) if it cannot be written.  Each finding of this run gets its own file: a second
  // crash of the same kernel and property in another unit is "<kernel>__<property>-2.json".
  std::set<std::string> saved_paths;
  bool save_failed = false;
  auto save = [&](const std::string& kernel, const std::string& property, bool crash, const std::string& reason,
                  const std::string& detail, const props::Case& c) -> std::string {
    props::Counterexample cx;
    cx.kernel = kernel;
    cx.plugin = sel.plugin_of(kernel);
    cx.property = property;
    cx.finding = crash ? props::Finding::kCrash : props::Finding::kViolation;
    cx.reason = reason;
    cx.detail = detail;
    cx.c = c;
    try {
      return "ropecheck repro " + props::save_counterexample(a.out_dir, cx, saved_paths);
    } catch (const OutputError& e) {
      std::fprintf(stderr, "ropecheck check: counterexample not saved: %s (--out-dir %s)\n", e.what(), a.out_dir.c_str());
      save_failed = true;
      return "";
    }
  };
  std::map<std::string, std::vector<std::string>> internal_errors;  // by kernel: also in the JUnit XML
  for (const Finished& f : results) {
    const std::string& kname = f.result.kernel;
    if (!f.result.internal_error.empty()) {
      any_internal = true;
      messages.push_back("INTERNAL ERROR (" + kname + ", " + f.result.spec_name + "): " + f.result.internal_error);
      internal_errors[kname].push_back(f.result.spec_name + ": " + f.result.internal_error);
    }
    for (const auto& o : f.result.properties) {
      Cell& c = cells[kname][o.property];
      c.checked += o.checked;
      c.skipped += o.skipped;
      c.seconds += f.result.seconds / static_cast<double>(std::max<size_t>(1, f.result.properties.size()));
      if (o.failed && !c.failed && !c.crashed) {
        c.failed = !o.crash_class;
        c.crashed = o.crash_class;
        c.reason = o.reason;
        c.repro = o.counterexample ? save(kname, o.finding_property.empty() ? o.property : o.finding_property,
                                          o.crash_class, o.reason, o.detail, *o.counterexample)
                                   : "";
        messages.push_back(std::string(o.crash_class ? "CRASH" : "FAIL") + ": " + kname + " violates " +
                           (o.finding_property.empty() ? o.property : o.finding_property) +
                           " (spec: " + f.result.spec_name + ")\n  " + o.reason + "\n" + o.detail +
                           (c.repro.empty() ? "" : "\n  reproduce: " + c.repro));
      }
      any_fail |= o.failed && !o.crash_class;
      any_crash |= o.crash_class;
    }
    if (!f.crash.empty()) {
      any_crash = true;
      const std::string prop = f.crash_property.empty() ? "(kernel call)" : f.crash_property;
      Cell& c = cells[kname][prop];
      c.crashed = true;
      c.reason = f.crash;
      c.repro = f.crash_case ? save(kname, prop, true, f.crash, "", *f.crash_case) : "";
      messages.push_back("CRASH: " + kname + " " + f.crash + " (spec: " + f.result.spec_name + ", property " + prop +
                         ")" + (f.crash_case ? "\n  case: " + props::describe(*f.crash_case) : "") +
                         (c.repro.empty() ? "" : "\n  reproduce: " + c.repro));
    }
  }

  // Kernels that checked nothing (supports none of the specs) must not look like a pass.
  std::vector<std::string> unchecked;
  for (const impl::Kernel* k : in_shard) {
    int total = 0;
    for (const auto& [p, c] : cells[k->desc->name]) total += c.checked + (c.failed || c.crashed);
    if (total == 0) unchecked.push_back(k->desc->name);
  }

  for (const std::string& m : messages) std::fprintf(stdout, "%s\n\n", m.c_str());
  if (!a.quiet) {
    int width = 10;  // a column per kernel, as wide as the longest name
    for (const impl::Kernel* k : in_shard) width = std::max(width, static_cast<int>(std::strlen(k->desc->name)));
    std::printf("%-44s", "property \\ kernel");
    for (const impl::Kernel* k : in_shard) std::printf(" %-*s", width, k->desc->name);
    std::printf("\n");
    const auto& cat = props::catalogue();
    for (const auto& p : cat) {
      if (!a.properties.empty() && std::find(a.properties.begin(), a.properties.end(), p.id) == a.properties.end()) continue;
      std::printf("%-44.44s", p.id);
      for (const impl::Kernel* k : in_shard) {
        const Cell& c = cells[k->desc->name][p.id];
        const std::string s = c.status() == "pass" ? "pass " + std::to_string(c.checked) : c.status();
        std::printf(" %-*s", width, s.c_str());
      }
      std::printf("\n");
    }
    std::printf("\n%zu unit(s) (kernel x spec) of %zu, shard %d/%d, %.1f s\n", mine.size(), units.size(), a.shard_index,
                a.shard_count, elapsed);
  }

  // Output files: their directories are created; a file that cannot be written is an error
  // (a CI job must not believe it has a JUnit report it does not have).
  bool write_failed = false;
  auto open_output = [&](const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    std::ofstream f(path);
    if (!f) {
      std::fprintf(stderr, "ropecheck check: cannot write %s\n", path.c_str());
      write_failed = true;
    }
    return f;
  };
  if (!a.junit.empty()) {
    std::ofstream x = open_output(a.junit);
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ropecheck\">\n";
    for (const impl::Kernel* k : in_shard) {
      const auto& row = cells[k->desc->name];
      const std::vector<std::string>& internal = internal_errors[k->desc->name];
      int failures = 0, errors = internal.empty() ? 0 : 1, skipped = 0;
      for (const auto& [p, c] : row) {
        failures += c.failed;
        errors += c.crashed;
        skipped += c.status() == "n/a";
      }
      x << "  <testsuite name=\"" << xml_escape(k->desc->name) << "\" tests=\"" << row.size() + !internal.empty()
        << "\" failures=\""
        << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\">\n";
      if (!warnings.empty()) {
        x << "    <properties>\n";
        for (const std::string& w : warnings) x << "      <property name=\"warning\" value=\"" << xml_escape(w) << "\"/>\n";
        x << "    </properties>\n";
      }
      for (const auto& [p, c] : row) {
        x << "    <testcase classname=\"ropecheck." << xml_escape(k->desc->name) << "\" name=\"" << xml_escape(p)
          << "\" time=\"" << c.seconds << "\">";
        if (c.crashed) {
          x << "<error message=\"" << xml_escape(c.reason) << "\">" << xml_escape(c.repro) << "</error>";
        } else if (c.failed) {
          x << "<failure message=\"" << xml_escape(c.reason) << "\">" << xml_escape(c.repro) << "</failure>";
        } else if (c.status() == "n/a") {
          // After an internal error a unit stops: its properties may be unreached, not n/a.
          x << "<skipped message=\""
            << (internal.empty() ? "not applicable to this kernel's declared capabilities"
                                 : "no case checked: not applicable to this kernel's declared capabilities, or not "
                                   "reached after the internal error (see ropecheckInternalError)")
            << "\"/>";
        } else {
          x << "<system-out>" << c.checked << " cases checked</system-out>";
        }
        x << "</testcase>\n";
      }
      if (!internal.empty()) {  // ropecheck failed: nothing above is a complete verdict (exit 4)
        std::string all;
        for (const std::string& e : internal) all += e + "\n";
        x << "    <testcase classname=\"ropecheck." << xml_escape(k->desc->name)
          << "\" name=\"ropecheckInternalError\"><error message=\"ropecheck internal error (please report)\">"
          << xml_escape(all) << "</error></testcase>\n";
      }
      x << "  </testsuite>\n";
    }
    x << "</testsuites>\n";
  }
  if (!a.json_out.empty()) {
    json j;
    j["seed"] = a.seed;
    j["shard"] = std::to_string(a.shard_index) + "/" + std::to_string(a.shard_count);
    j["seconds"] = elapsed;
    json us = json::array();
    for (const Finished& f : results) {
      json u = unit_to_json(f.result);
      if (!f.crash.empty()) u["crash"] = f.crash;
      us.push_back(u);
    }
    j["units"] = us;
    j["warnings"] = warnings;
    std::ofstream out = open_output(a.json_out);
    out << j.dump(2) << "\n";
  }

  if (any_crash) return kExitCrash;
  if (any_fail) return kExitViolation;
  if (any_internal) return kExitInternal;
  if (write_failed || save_failed) return kExitUsage;
  if (!unchecked.empty()) {
    std::string names;
    for (const auto& n : unchecked) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "ropecheck check: nothing was checked for %s: it supports none of the specs\n", names.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace ropecheck::cli

// `ropecheck check`: the CI correctness gate.  This file parses the options, picks kernels and
// specs, runs the gate campaign (gate/campaign.hpp: units in supervised children, judged by
// properties/judge.hpp) and prints what it found; the exit code is the campaign's Tally.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "gate/campaign.hpp"
#include "kernel_selection.hpp"
#include "properties/case.hpp"
#include "properties/exit_codes.hpp"
#include "properties/gate.hpp"
#include "properties/output_file.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kCheckHelp = R"(Usage:
  ropecheck check [--kernel NAME|all]... [--plugin LIB.so]... [--spec FILE | --hf-config FILE]...
                  [--budget-seconds N | --cases N] [--seed S] [--property ID]...
                  [--junit FILE] [--json FILE] [--out-dir DIR] [--shard i/n] [--jobs N]
                  [--shrink-seconds S] [--case-timeout S] [--fail-fast] [--no-isolation]
                  [--quiet]

The correctness gate: for every selected kernel and spec, a deterministic sweep of the edge
positions (0, 1, 255-257, ..., 2^31±1, 2^32, 2^53, each scaling's L0±1, the kernel's declared
maximum), then generated cases within the time budget, through the whole property catalogue
(`ropecheck check --list-properties`).  Bounds come from each kernel's declared accuracy
contract; every reported violation is confirmed by the exact reference.  The sweep of every
kernel and spec runs before any generated case, and each finding is printed as soon as it is
confirmed ("[1.2 s] FAIL found: ..."); the violation is then shrunk to the smallest failing
case, saved to --out-dir, and printed again at the end with a one-line reproducer.

Options:
  --kernel NAME      check this kernel (repeatable); `all` = built-ins and plugins.  Default:
                     the plugins' kernels if --plugin is given, else the built-in kernels.
  --plugin LIB.so    load kernels from a shared library (the C ABI in impl/ropecheck_kernel.h).
  --spec FILE        a ropecheck spec JSON (repeatable).
  --hf-config FILE   a HuggingFace config.json (repeatable): one spec per layer type with
                     rope (README.md, "HF configs").
                     Default specs (reference/specs/gate): every variant and both layouts
                     (default, partial, linear, ntk, dynamic, yarn x2, llama3 x2, longrope,
                     proportional, M-RoPE chunked and interleaved, N-D per axis and dealt)
                     plus generated specs.
  --budget-seconds N time for generated cases and shrinking, shared by all units (default
                     20): each unit stops generating, and a shrink stops (saying so), when its
                     share is used.  The edge-position sweep always runs whole, first.
  --cases N          instead of a time budget: N generated cases per property and unit.
  --seed S           seed of the generated cases, an integer in [0, 2^64-1] (default 1).  Case
                     i of a property is a function of the seed alone; the summary says how
                     many ran, and --cases N --seed S runs exactly those again.
  --shrink-seconds S at most S seconds to shrink one failure (default 10); a shrink cut short
                     says so.  No shrink goes on past --budget-seconds + S: with a budget,
                     the gate ends within budget + S (unless the sweep alone takes longer).
  --fail-fast        stop at the first finding (a confirmed violation or a crash): print it,
                     stop the other units, save it unshrunk, write --junit/--json with what
                     ended, exit 1 (3 for a crash).
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
  --quiet            no progress bar and no summary table; specs a kernel does not declare
                     are counted in one line per kernel instead of named one by one.
  --help             this text.

Examples:
  ropecheck check
  ropecheck check --plugin ./libmyrope.so --hf-config config.json --junit rope.xml
  ropecheck check --kernel simd_table_f32 --cases 200 --seed 7 --shard 0/4

Exit codes: 0 every check held; 1 a kernel violated a property (a failure that does not
reproduce when run again is reported as kernelIsDeterministic); 2 bad usage, spec or plugin,
an output file that could not be written, or a kernel supports none of the specs (nothing
was checked); 3 a kernel crashed, hung, exited, threw through the C ABI or wrote out of
bounds; 4 internal error.
)";

// "pass 1234", "pass 1234 r=0.44" (largest error/bound; "*" when that pair's bound is capped).
std::string cell_text(const gate::Cell& c) {
  if (c.status() != "pass") return c.status();
  std::string s = "pass " + std::to_string(c.checked);
  if (c.worst_ratio > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " r=%.2g%s", c.worst_ratio, c.worst_capped ? "*" : "");
    s += buf;
  }
  return s;
}

void print_summary(const gate::CampaignResult& r, const gate::CampaignOptions& o) {
  size_t id_width = 17;  // "property \ kernel", and every property name whole
  for (const auto& p : props::catalogue()) id_width = std::max(id_width, std::string(p.id).size());
  int width = 10;  // a column per kernel, as wide as the longest name or cell
  for (const std::string& k : r.kernels) width = std::max(width, static_cast<int>(k.size()));
  int min_generated = -1, max_generated = 0;
  for (const auto& [k, row] : r.cells) {
    for (const auto& [p, c] : row) width = std::max(width, static_cast<int>(cell_text(c).size()));
  }
  for (const gate::UnitRun& u : r.units) {
    for (const gate::PropertyOutcome& po : u.result.properties) {
      if (po.failed) continue;  // a failure ends the property's generated cases early
      min_generated = min_generated < 0 ? po.generated : std::min(min_generated, po.generated);
      max_generated = std::max(max_generated, po.generated);
    }
  }
  std::printf("%-*s", static_cast<int>(id_width), "property \\ kernel");
  for (const std::string& k : r.kernels) std::printf(" %-*s", width, k.c_str());
  std::printf("\n");
  bool capped = false, any_pass = false;
  for (const auto& p : props::catalogue()) {
    if (!o.properties.empty() && std::find(o.properties.begin(), o.properties.end(), p.id) == o.properties.end()) continue;
    std::printf("%-*s", static_cast<int>(id_width), p.id);
    for (const std::string& k : r.kernels) {
      const auto row = r.cells.find(k);
      const gate::Cell c = row == r.cells.end() || !row->second.count(p.id) ? gate::Cell{} : row->second.at(p.id);
      capped |= c.status() == "pass" && c.worst_capped;
      any_pass |= c.status() == "pass";
      std::printf(" %-*s", width, cell_text(c).c_str());
    }
    std::printf("\n");
  }
  if (any_pass) std::printf("\npass N: N cases checked; r: the largest error/bound measured");
  if (capped) std::printf(" (*: on a pair whose bound is capped at 2.02*a|x|: any output of the right norm passes there)");
  std::printf("\n\n%zu unit(s) (kernel x spec) of %zu, shard %d/%d, %.1f s", r.units.size(), r.total_units, o.shard_index,
              o.shard_count, r.seconds);
  if (max_generated > 0) {
    std::printf("; %d-%d generated cases per property and unit (seed %llu; --cases N --seed %llu replays them)",
                min_generated, max_generated, static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.seed));
  }
  std::printf("\n");
  std::map<std::string, uint64_t> printed;
  for (const gate::UnitRun& u : r.units) printed[u.result.kernel] += u.kernel_output_bytes;
  for (const auto& [k, bytes] : printed) {
    if (bytes > 0) {
      std::printf("note: %s printed %llu bytes on stdout/stderr during its checks: kept apart (findings show the last "
                  "lines; --json has units[].kernel_output)\n",
                  k.c_str(), static_cast<unsigned long long>(bytes));
    }
  }
}

}  // namespace

int run_check(const Args& argv) {
  gate::CampaignOptions o;
  std::vector<std::string> kernel_names, plugins, spec_files, hf_configs;
  std::string junit, json_out;
  bool quiet = false;
  {  // options (a UsageError or SpecError reaches main: exit 2)
    const ParsedArgs args(argv,
                          {"--kernel", "--plugin", "--spec", "--hf-config", "--budget-seconds", "--cases", "--seed",
                           "--property", "--junit", "--json", "--out-dir", "--shard", "--jobs", "--case-timeout",
                           "--shrink-seconds"},
                          {"--help", "--no-isolation", "--quiet", "--list-properties", "--fail-fast"},
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
    kernel_names = args.all("--kernel");
    plugins = args.all("--plugin");
    spec_files = args.all("--spec");
    hf_configs = args.all("--hf-config");
    o.properties = args.all("--property");
    if (args.has("--budget-seconds") && args.has("--cases")) throw UsageError("give --budget-seconds or --cases, not both");
    if (args.has("--budget-seconds")) o.budget_seconds = parse_int(args.get("--budget-seconds"), "--budget-seconds", 0, 86400);
    if (args.has("--cases")) o.cases = parse_int(args.get("--cases"), "--cases", 0, 100000000);
    if (args.has("--seed")) o.seed = parse_unsigned("--seed", args.get("--seed"), 0, UINT64_MAX);
    if (args.has("--shrink-seconds")) o.shrink_seconds = parse_int(args.get("--shrink-seconds"), "--shrink-seconds", 0, 86400);
    junit = args.get("--junit");
    json_out = args.get("--json");
    if (args.has("--junit") && junit.empty()) throw UsageError("--junit needs a file name");
    if (args.has("--json") && json_out.empty()) throw UsageError("--json needs a file name");
    o.out_dir = args.get("--out-dir", o.out_dir);
    o.jobs = args.has("--jobs") ? parse_int(args.get("--jobs"), "--jobs", 1, 64) : 2;
    if (args.has("--case-timeout")) o.case_timeout = parse_int(args.get("--case-timeout"), "--case-timeout", 1, 3600);
    o.isolation = !args.flag("--no-isolation");
    o.fail_fast = args.flag("--fail-fast");
    quiet = args.flag("--quiet");
    std::string shard = args.get("--shard");
    if (shard.empty() && std::getenv("GTEST_TOTAL_SHARDS") && std::getenv("GTEST_SHARD_INDEX")) {
      shard = std::string(std::getenv("GTEST_SHARD_INDEX")) + "/" + std::getenv("GTEST_TOTAL_SHARDS");
    }
    if (!shard.empty()) {
      const size_t slash = shard.find('/');
      if (slash == std::string::npos) throw UsageError("--shard must be i/n, got '" + shard + "'");
      o.shard_count = parse_int(shard.substr(slash + 1), "--shard n", 1, 1 << 20);
      o.shard_index = parse_int(shard.substr(0, slash), "--shard i", 0, o.shard_count - 1);
    }
    for (const std::string& p : o.properties) {
      if (!props::find_property(p)) throw UsageError("unknown property '" + p + "' (see --list-properties)");
    }
  }

  const KernelSelection sel = select_kernels(plugins, kernel_names, true, o.case_timeout);
  o.kernels = sel.kernels;
  for (const std::string& f : spec_files) o.specs.push_back(load_spec_file(f));
  for (const std::string& f : hf_configs) {
    // One spec per layer type with rope (Gemma 3: sliding_attention and full_attention).
    const HfModelRopes model = load_hf_config_ropes(f);
    for (const HfLayerRope& r : model.ropes) o.specs.push_back(r.spec);
    if (!model.nope_note().empty() && !quiet) std::printf("note: %s: %s\n", f.c_str(), model.nope_note().c_str());
  }
  o.generated_specs = o.specs.empty();
  if (o.generated_specs) o.specs = props::default_gate_specs();
  // An ill-conditioned spec is still checked (the bound admits what any faithful kernel may
  // do there), but the user should know why some pairs' bounds are wide.  Also in the JSON
  // ("warnings") and the JUnit XML (a "warning" property of each suite).
  std::vector<std::string> warnings;
  for (const RopeSpec& s : o.specs) {
    std::string w = props::conditioning_warning(s, sel.descs());
    if (w.empty()) continue;
    std::fprintf(stderr, "ropecheck check: warning: %s\n", w.c_str());
    warnings.push_back(std::move(w));
  }
  if (::isatty(2) && !quiet) {
    o.progress = [](size_t done, size_t total, const std::string& kernel, const std::string& spec) {
      const int width = 30;
      const int filled = static_cast<int>(width * done / std::max<size_t>(1, total));
      std::fprintf(stderr, "\r[%s%s] %zu/%zu  %-20.20s %-30.30s", std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(width - filled), '.').c_str(), done, total, kernel.c_str(),
                   spec.c_str());
      if (done == total) std::fprintf(stderr, "\n");
    };
  }

  // Each finding as soon as it is confirmed (before shrinking), on a line of its own.
  const bool bar = static_cast<bool>(o.progress);
  o.on_finding = [bar](const std::string& text) {
    if (bar) std::fprintf(stderr, "\r%*s\r", 90, "");  // the progress bar's line
    std::printf("%s\n\n", text.c_str());
    std::fflush(stdout);
  };
  gate::CampaignResult r = gate::run_campaign(o);
  if (r.stopped) {
    std::printf("stopped at the first finding (--fail-fast) after %.1f s: %zu of %zu unit(s) did not finish and are "
                "not reported\n\n",
                r.seconds, r.unfinished_units, r.units.size() + r.unfinished_units);
  }
  for (const std::string& m : r.messages) std::printf("%s\n\n", m.c_str());
  for (const auto& [kernel, note] : r.recipe_notes) std::printf("note: %s: %s\n\n", kernel.c_str(), note.c_str());
  for (const gate::Refusal& f : r.refusals) {
    std::printf("REFUSED: %s refused spec %s in prepare: %s (nothing checked on it)\n", f.kernel.c_str(), f.spec.c_str(),
                f.reason.c_str());
  }
  if (!r.refusals.empty()) std::printf("\n");
  if (quiet) {
    // One line per kernel (a plugin declaring few rope types has a line per default spec else).
    std::map<std::string, size_t> per_kernel;
    for (const gate::Refusal& f : r.not_declared) ++per_kernel[f.kernel];
    for (const auto& [kernel, n] : per_kernel) {
      std::printf("NOT CHECKED: %s on %zu spec(s) it does not declare (which and why: without --quiet, or --json's "
                  "not_declared)\n",
                  kernel.c_str(), n);
    }
  } else {
    for (const gate::Refusal& f : r.not_declared) {
      std::printf("NOT CHECKED: %s on spec %s: %s (nothing checked on it)\n", f.kernel.c_str(), f.spec.c_str(),
                  f.reason.c_str());
    }
  }
  if (!r.not_declared.empty()) std::printf("\n");
  if (!quiet) print_summary(r, o);
  std::fflush(stdout);
  // A file that cannot be written is an error: a CI job must not believe it has a report it
  // does not have.
  for (const auto& [path, text] : {std::make_pair(junit, gate::junit_xml(r, warnings)),
                                   std::make_pair(json_out, gate::gate_json(r, o, warnings))}) {
    if (path.empty()) continue;
    try {
      write_output_file(path, text);
    } catch (const OutputError& e) {
      std::fprintf(stderr, "ropecheck check: %s\n", e.what());
      r.tally.output_failed = true;
    }
  }
  for (const std::string& k : r.unchecked) {
    std::string why;
    for (const auto& [p, c] : r.cells[k]) {
      if (why.empty() && !c.skip_reason.empty()) why = " (e.g. " + c.skip_reason + ")";
    }
    std::fprintf(stderr, "ropecheck check: nothing was checked for %s: it supports none of the specs%s\n", k.c_str(),
                 why.c_str());
  }
  return r.tally.exit_code();
}

}  // namespace ropecheck::cli

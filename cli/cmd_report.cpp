// `ropecheck report`: the accuracy report of issue 8.  This file parses the options, selects
// the kernels (kernel_selection.hpp, the rule every command follows) and the specs, hands them
// to the report campaign (reports/campaign.hpp: the measuring child, the sweeps, the paper
// checks, the writers and the verdict) and prints what it found.
#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "args.hpp"
#include "gate/npz.hpp"
#include "commands.hpp"
#include "kernel_selection.hpp"
#include "impl/isolation.hpp"
#include "properties/case.hpp"
#include "properties/exit_codes.hpp"
#include "reference/builtin_specs.hpp"
#include "reports/campaign.hpp"
#include "report_specs.hpp"
#include "vectors_files.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kReportHelp = R"HELP(Usage:
  ropecheck report --out DIR [--kernel NAME]... [--plugin LIB.so]...
                   [--spec FILE]... [--hf-config FILE]... [--positions SWEEP]
                   [--pairs N] [--threads N] [--seed N] [--no-paper]
                   [--case-timeout S] [--no-isolation]
  ropecheck report --from CASES.npz OUTPUTS.npz --out DIR [--plugin LIB.so]...
                   [--threads N] [--no-paper]

Measures how accurate each kernel is against exact mathematics, as a function of position
and frequency, and whether that is within the bound its declared recipe allows.  For every
kernel x spec it runs the kernel on one random head per position (inputs uniform in
[-1, 1)) and measures every pair with the gate's own agreement harness, in two views:
  exact   against exact mathematics (fast oracle; every reported worst case re-judged by
          the MPFR exact reference),
  recipe  against an exact rotation by the angle the kernel's declared recipe forms
          (theta^ inferred from the kernel at powers of two): its rotation arithmetic alone.
Errors are in ulp of the pair norm.  Positions: SWEEP plus the spec's edge positions up to
each kernel's declared maximum.  Verdicts come from the judge that `check` uses: a worst
case or pair over its bound, re-measured alone, is judged there, and so is one whose value
alone differs from the sweep's (an output that depends on the batch) and a call the kernel
fails; a finding is printed and saved under DIR/cases/ for `ropecheck repro FILE`.

Writes DIR/report.json (schema: reports/SCHEMA.md), DIR/report.md (tables "Max = X ulp
(RMS = Y)" per position band x frequency band, worst cases with reproducer commands),
DIR/report.html (self-contained, plots drawn by gnuplot and inlined), DIR/specs/ (the specs
the reproducers read), DIR/cases/ (worst cases, replayable with `ropecheck repro FILE`),
DIR/data/ and DIR/plots/.

Options:
  --out DIR          output directory (created).  Required.
  --kernel NAME      a kernel to report on (repeatable; `all`: every built-in kernel and
                     every kernel of the --plugin libraries).  Default: the kernels of the
                     --plugin libraries if any are given, else every built-in kernel (as in
                     check and fuzz).
  --plugin LIB.so    load kernels from a shared library (repeatable).
  --spec FILE        a ropecheck spec JSON (repeatable).
  --hf-config FILE   a HuggingFace config.json (repeatable; one spec per layer type with
                     rope, labelled FILE-LAYER_TYPE).  Without --spec/--hf-config the
                     gate's default specs marked for the report in
                     reference/specs/gate/index.json: default-d128-half-split (base 1e4),
                     yarn-s16-d128 (design.md's YaRN check spec) and llama3-llama-3.1-8b.
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
  --from CASES.npz OUTPUTS.npz
                     the report of outputs computed anywhere, from golden vectors
                     (`ropecheck vectors` records the report's calls too): the same report,
                     measured by the same code, each kernel call answered from OUTPUTS.npz.
                     Kernel (the contract), specs, positions, pairs and seed come from
                     CASES.npz (--plugin: the contract's plugin when it is not built in).
                     The measurement runs in this process.  A call the report needs that
                     the file does not hold (a worst case re-measured in a window of a
                     batch, after outputs that depend on the batch) is named: exit 2.
  --help             this text.

Examples:
  ropecheck report --out report/
  ropecheck report --kernel scalar_f32_hf --kernel table_f32 --positions 0:2^20:all --out r/
  ropecheck report --plugin ./libmykernel.so --kernel my_rope --hf-config config.json --out r/
  ropecheck report --from cases.npz outputs.npz --out r/

Exit codes: 0 report written and every kernel within its exact-view bound; 1 a kernel
violated its bound or another property (the judge's finding, saved); 2 bad usage, spec or
plugin, a kernel that declares none of the specs (nothing measured), or a report file that
could not be written (the message names it); 3 a kernel crashed, threw through the C ABI or
wrote out of bounds (saved), or hung or ended the process (then no report is written;
`ropecheck check` finds and saves the case); 4 internal error.  With --from, also 2 for a
malformed or missing report section of CASES.npz (it names meta.report) or a call the report
needed that the file does not hold.
)HELP";

using report::SpecChoice;

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

void print_outcome(const report::CampaignOutcome& o, const std::string& out_dir) {
  for (const report::ReportFinding& f : o.report.findings) {
    const props::Judgement& j = f.judgement;
    if (j.finding == props::Finding::kInternal) {
      std::printf("INTERNAL ERROR%s: %s\n\n", f.spec_label.empty() ? "" : (" (" + f.kernel + ", " + f.spec_label + ")").c_str(),
                  j.reason.c_str());
    } else if (o.child_died) {
      std::printf("CRASH: %s; no report was written.\n  `ropecheck check` with the same --plugin/--kernel and spec "
                  "finds the case and saves a reproducer.\n\n",
                  j.reason.c_str());
    } else {  // as `ropecheck check` prints a finding
      std::printf("%s: %s violates %s (spec: %s)\n  %s\n%s%s\n\n", j.finding == props::Finding::kCrash ? "CRASH" : "FAIL",
                  f.kernel.c_str(), j.property.c_str(), f.spec_label.c_str(), j.reason.c_str(), j.detail.c_str(),
                  f.case_file.empty() ? "" : ("\n  reproduce: ropecheck repro " + f.case_file).c_str());
    }
  }
  for (const std::string& e : o.errors) std::fprintf(stderr, "ropecheck report: %s\n", e.c_str());
  if (!o.warning.empty()) std::fprintf(stderr, "ropecheck report: warning: %s\n", o.warning.c_str());
  if (o.written) {
    std::printf("ropecheck report: %zu kernel x spec runs in %.1f s -> %s/report.{md,html,json}\n", o.report.runs.size(),
                o.report.seconds, out_dir.c_str());
  } else if (!o.report.runs.empty()) {
    std::printf("ropecheck report: %zu kernel x spec runs measured; the report was NOT written whole\n",
                o.report.runs.size());
  }
  for (const report::SweepResult& r : o.report.runs) {
    if (!r.refusal.empty()) {
      std::printf("  %-18s %-22s REFUSED in prepare: %s\n", r.kernel.c_str(), r.spec_label.c_str(), r.refusal.c_str());
    } else if (!r.skipped.empty()) {
      std::printf("  %-18s %-22s %s\n", r.kernel.c_str(), r.spec_label.c_str(),
                  (r.finding ? r.skipped : "skipped: " + r.skipped).c_str());
    } else {
      std::printf("  %-18s %-22s exact %-34s bound ratio %-8.3g recipe %s\n", r.kernel.c_str(), r.spec_label.c_str(),
                  report::cell_text(r.exact.overall).c_str(), r.exact.overall.max_ratio,
                  r.recipe.available ? report::cell_text(r.recipe.overall).c_str() : "unavailable");
    }
    if (r.kernel_output_bytes > 0) {
      std::printf("%s\n", impl::printed_lines(r.kernel_output, r.kernel_output_bytes, "during this run").substr(1).c_str());
    }
  }
  for (const std::string& u : o.unmeasured) std::fprintf(stderr, "ropecheck report: nothing was measured for %s\n", u.c_str());
  std::fflush(stdout);
}

// Printed now, before minutes of measuring; also in the report.
std::vector<std::string> spec_warnings(const std::vector<SpecChoice>& specs, const std::vector<const rc_kernel_desc*>& kernels) {
  std::vector<std::string> out;
  for (const SpecChoice& s : specs) {
    std::string w = props::conditioning_warning(s.spec, kernels);
    if (s.spec.n_axes() > 1) {
      // The sweep is over one position per token: for M-RoPE and N-D, text tokens (every axis
      // alike), then each axis alone (report_specs); other mixes of positions per axis are judged
      // by `ropecheck check`, not measured here.
      if (s.axis >= 0) continue;  // said once per spec
      w += std::string(w.empty() ? "" : "; ") + "spec " + s.spec.name + ": multi-axis (" +
           (s.spec.axes_dims.empty() ? "mrope_section" : "axes_dims") + "): the report measures text tokens " +
           "(every axis at the swept position) and each axis alone (runs " + s.label + "-axisA, the other axes at 0); " +
           "`ropecheck check` judges other positions per axis";
    }
    if (w.empty()) continue;
    std::fprintf(stderr, "ropecheck report: warning: %s\n", w.c_str());
    out.push_back(std::move(w));
  }
  return out;
}

// `report --from CASES.npz OUTPUTS.npz`: the report campaign on the replay adapter of the
// file's contract (gate::replay_calls), with the options `vectors` recorded.
int run_report_from(const ParsedArgs& args, const Args& argv) {
  for (const char* o : {"--kernel", "--spec", "--hf-config", "--positions", "--pairs", "--seed"}) {
    if (args.has(o)) throw UsageError(std::string(o) + " comes from the cases file with --from");
  }
  if (args.positional().size() != 1) throw UsageError("--from CASES.npz OUTPUTS.npz: give the outputs file after the cases file");
  const std::string cases_path = args.get("--from"), outputs_path = args.positional().front();
  const gate::VectorCases cases = read_vector_files(cases_path, outputs_path);
  const gate::ReportRecord& rec = cases.report;
  if (!rec.present) {
    throw npz::NpzError(cases_path + ":meta.report", "missing: these cases hold no report calls (written with --no-report, or a "
                                                     "narrowing round); write them again with `ropecheck vectors`");
  }
  report::CampaignOptions opt;
  opt.out_dir = args.get("--out");
  opt.positions_text = rec.positions_text;
  try {
    opt.sweep.positions = report::parse_position_sweep(rec.positions_text);
  } catch (const SpecError& e) {
    throw npz::NpzError(cases_path + ":meta.report", std::string("positions: ") + e.what());
  }
  opt.sweep.pair_limit = rec.pairs;
  opt.sweep.seed = rec.seed;
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opt.sweep.threads = args.has("--threads") ? parse_int(args.get("--threads"), "--threads", 1, 256) : std::min(hw, 8);
  opt.paper = !args.flag("--no-paper");
  opt.isolate = false;  // the replay adapter lives in this process
  opt.command = "ropecheck report";
  for (const std::string& a : argv) opt.command += " " + a;
  std::vector<SpecChoice> specs;
  for (const gate::ReportSpec& s : rec.specs) specs.push_back({s.spec, s.label, s.origin, s.axis});

  const KernelSelection sel = contract_selection(cases, args.all("--plugin"));
  const impl::Kernel* contract = sel.set.find(cases.kernel);
  opt.warnings = spec_warnings(specs, {contract->desc});
  int code = kExitInternal;
  const gate::ReplayCounts counts = gate::replay_calls(cases, *contract, [&](const impl::Kernel& adapter) {
    code = report::run_campaign({{adapter.desc, sel.plugin_of(cases.kernel)}}, specs, opt,
                                [&](const report::CampaignOutcome& o) { print_outcome(o, opt.out_dir); });
  });
  std::printf("ropecheck report --from: %llu calls answered from %s\n", static_cast<unsigned long long>(counts.answered),
              outputs_path.c_str());
  if (counts.missed > 0) {
    // What the report said about those calls (refused) is not the kernel's answer.
    std::fprintf(stderr,
                 "ropecheck report: %llu call(s) the report needed are not in %s (first: %s): the report's verdict on "
                 "them is not your kernel's; measure it live (`ropecheck report`) or judge the cases (`ropecheck judge`)\n",
                 static_cast<unsigned long long>(counts.missed), cases_path.c_str(), counts.first_missed.c_str());
    return kExitUsage;
  }
  return code;
}

}  // namespace

std::vector<SpecChoice> report_specs(const std::vector<std::string>& spec_files, const std::vector<std::string>& hf_configs,
                                     const char* who) {
  std::vector<SpecChoice> specs;
  for (const std::string& f : spec_files) specs.push_back({load_spec_file(f), basename_noext(f), "--spec " + f});
  for (const std::string& f : hf_configs) {
    HfModelRopes model = load_hf_config_ropes(f);
    if (!model.nope_note().empty()) std::fprintf(stderr, "%s: %s: %s\n", who, f.c_str(), model.nope_note().c_str());
    for (HfLayerRope& r : model.ropes) {  // one spec per layer type with rope, and the NoPE layers'
      const std::string label = basename_noext(f) + (r.spec.type == RopeType::kNone ? "-nope"
                                                     : r.layer_type.empty()         ? ""
                                                                                    : "-" + r.layer_type);
      specs.push_back({std::move(r.spec), label, "--hf-config " + f});
    }
  }
  if (specs.empty()) specs = default_specs();
  // A multi-axis spec (M-RoPE, N-D) is measured on text tokens (every axis at the swept
  // position) and then on each axis alone (the others at 0), a run of its own labelled
  // LABEL-axisA: the error against the position of that axis, its pairs only.
  std::vector<SpecChoice> out;
  for (const SpecChoice& s : specs) {
    out.push_back(s);
    for (int a = 0; a < s.spec.n_axes() && s.spec.n_axes() > 1; ++a) {
      out.push_back({s.spec, s.label + "-axis" + std::to_string(a), s.origin, a});
    }
  }
  return out;
}

int run_report(const Args& argv) {
  const ParsedArgs args(argv,
                        {"--out", "--kernel", "--plugin", "--spec", "--hf-config", "--positions", "--pairs",
                         "--threads", "--seed", "--case-timeout", "--from"},
                        {"--help", "--no-paper", "--no-isolation"}, {"--kernel", "--plugin", "--spec", "--hf-config"});
  if (args.flag("--help")) {
    std::fputs(kReportHelp, stdout);
    return kExitOk;
  }
  if (!args.has("--out")) throw UsageError("--out DIR is required (see --help)");
  if (args.has("--from")) return run_report_from(args, argv);
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional().front() + "'");

  const double case_timeout =
      args.has("--case-timeout") ? parse_int(args.get("--case-timeout"), "--case-timeout", 1, 86400) : 120;
  const KernelSelection sel =
      select_kernels(args.all("--plugin"), args.all("--kernel"), true, std::min(case_timeout, impl::kPluginProbeSeconds));
  std::vector<report::KernelChoice> kernels;
  for (const impl::Kernel* k : sel.kernels) kernels.push_back({k->desc, sel.plugin_of(k->desc->name)});

  const std::vector<SpecChoice> specs = report_specs(args.all("--spec"), args.all("--hf-config"), "ropecheck report");

  report::CampaignOptions opt;
  opt.out_dir = args.get("--out");
  opt.warnings = spec_warnings(specs, sel.descs());
  opt.positions_text = args.get("--positions", "0:2^20:log");
  opt.sweep.positions = report::parse_position_sweep(opt.positions_text);
  opt.sweep.pair_limit = args.has("--pairs") ? parse_int(args.get("--pairs"), "--pairs", 1, 1 << 20) : 0;
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opt.sweep.threads = args.has("--threads") ? parse_int(args.get("--threads"), "--threads", 1, 256) : std::min(hw, 8);
  opt.sweep.seed = args.has("--seed") ? parse_unsigned("--seed", args.get("--seed"), 0, UINT64_MAX) : 1;
  opt.case_timeout = case_timeout;
  opt.paper = !args.flag("--no-paper");
  opt.isolate = !args.flag("--no-isolation");
  opt.command = "ropecheck report";
  for (const std::string& a : argv) opt.command += " " + a;
  return report::run_campaign(kernels, specs, opt, [&](const report::CampaignOutcome& o) { print_outcome(o, opt.out_dir); });
}

}  // namespace ropecheck::cli

// `ropecheck vectors`: writes the gate's cases for one contract to cases.npz (golden vectors,
// gate/vectors.hpp).  This file parses the options, records, and writes the files.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "gate/vectors.hpp"
#include "gate/vectors_file.hpp"
#include "kernel_selection.hpp"
#include "properties/exit_codes.hpp"
#include "properties/gate.hpp"
#include "properties/counterexample.hpp"
#include "properties/output_file.hpp"
#include "reference/input_file.hpp"
#include "reference/rope_spec.hpp"
#include "report_specs.hpp"
#include "reports/sweep.hpp"
#include "properties/judge.hpp"
#include "properties/runner.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kVectorsHelp = R"help(Usage:
  ropecheck vectors --contract NAME [--plugin LIB.so]... [--spec FILE | --hf-config FILE]...
                    [--cases N] [--seed S] [--no-many-tokens] --out CASES.npz
                    [--outputs OUTPUTS.npz] [--out-dir DIR] [--quiet]
                    [--report-positions SWEEP] [--report-pairs N] [--no-report]
  ropecheck vectors --narrow FAILURE.json [--contract NAME] [--plugin LIB.so]... --out CASES.npz

Golden vectors: the gate's cases written to a numpy .npz any runtime can read (numpy.load,
and so torch, JAX, MLX), for kernels ropecheck cannot call -- Metal, a remote GPU, XLA, an
FPGA simulator.  Run the cases there, write outputs.npz, and `ropecheck judge` judges them
with the same judge, catalogue, bounds and exit codes as `ropecheck check`.

The file holds every call `ropecheck check --kernel NAME --cases N --seed S` makes: the
edge-position sweep and N generated cases per property for every spec (and a unit of
generated specs with the default specs), recorded while NAME's own kernel answers them (a
built-in kernel passes everything: the file follows the whole passing path).  Your outputs
are judged under NAME's accuracy contract (`ropecheck kernels` lists them): choose the
contract your kernel honours, or wrap a kernel with your contract as a plugin.
A contract whose kernel reads a cos/sin cache gets the rows its calls read, in its convention
and cache dtype (cache_position, cache_cos, cache_sin).  The file also holds the calls of
`ropecheck report` (its sweep over --report-positions on
the report's specs -- the --spec/--hf-config ones, else the report's defaults -- each sample
also alone, and the recipe view's calls), so that `ropecheck report --from CASES.npz
OUTPUTS.npz` writes the error-bound report from the same files.
reports/VECTORS.md documents every array; README.md ("Golden vectors") the workflow.

Options:
  --contract NAME    the kernel whose contract (dtypes, features, max position, accuracy)
                     the outputs are judged under, and which answers while recording.
  --plugin LIB.so    load kernels from a shared library (repeatable), for --contract.
  --spec FILE        a ropecheck spec JSON (repeatable).
  --hf-config FILE   a HuggingFace config.json (repeatable).  Default: the gate's default
                     specs plus generated specs, as `ropecheck check`.
  --cases N          generated cases per property and unit (default 20).
  --seed S           seed of the generated cases (default 1).
  --no-many-tokens   leave out the call of 65539 tokens check makes on the first spec (it
                     is most of the file's size).
  --report-positions SWEEP
                     the report's positions (as `ropecheck report --positions`; default
                     0:2^20:log), with --seed as its input seed.
  --report-pairs N   the report measures N pairs evenly spread (default: every pair).
  --no-report        leave out the report's calls (`report --from` then refuses the file).
  --out FILE         the cases file to write (required).
  --outputs FILE     also write the recording kernel's own answers as an outputs file (what
                     a correct kernel of this contract gives; `judge` passes it).
  --out-dir DIR      counterexamples, if the recording kernel itself fails (default:
                     ropecheck-failures).
  --narrow FILE      shrinking without the kernel: FILE is a failing case `ropecheck judge`
                     saved (--out-dir); writes the cases one round of shrinking would try
                     around it (each token alone, a head less, no padding, positions 0, 1 and
                     powers of two below, one pair alone), smallest first, for its property
                     only.  Run them, judge them: the smallest failing one is reported and
                     saved; narrow again from it until it stops shrinking (a few rounds).
                     The contract is the file's kernel unless --contract is given.
  --quiet            print nothing but errors.
  --help             this text.

Examples:
  ropecheck vectors --contract scalar_f64 --out cases.npz
  python3 python/examples/numpy_rope.py cases.npz outputs.npz
  ropecheck judge cases.npz outputs.npz --junit rope.xml
  ropecheck vectors --narrow ropecheck-failures/scalar_f64__agreesWithExactReferenceWithinContract.json \
                    --out round2.npz

Exit codes: 0 written; 1 / 3 written, but the recording kernel itself violated a property /
crashed (its calls are in the file; say which with --outputs); 2 bad usage, spec, plugin or
contract, or a file not written;
4 internal error.
)help";

}  // namespace

int run_vectors(const Args& argv) {
  gate::RecordOptions o;
  std::vector<std::string> plugins, spec_files, hf_configs;
  std::string contract, out, outputs, narrow, report_positions = "0:2^20:log";
  int report_pairs = 0;
  bool quiet = false, with_report = true;
  {
    const ParsedArgs args(argv, {"--contract", "--plugin", "--spec", "--hf-config", "--cases", "--seed", "--out", "--outputs", "--out-dir",
                                 "--narrow", "--report-positions", "--report-pairs"},
                          {"--help", "--no-many-tokens", "--quiet", "--no-report"}, {"--plugin", "--spec", "--hf-config"});
    if (args.flag("--help")) {
      std::fputs(kVectorsHelp, stdout);
      return kExitOk;
    }
    if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional().front() + "'");
    contract = args.get("--contract");
    narrow = args.get("--narrow");
    if (args.has("--narrow") && narrow.empty()) throw UsageError("--narrow needs a file name");
    if (!narrow.empty() && (args.has("--spec") || args.has("--hf-config") || args.has("--cases") || args.has("--seed"))) {
      throw UsageError("--narrow takes its spec and case from the failure: no --spec, --hf-config, --cases or --seed");
    }
    if (contract.empty() && narrow.empty()) throw UsageError("--contract NAME is required (see `ropecheck kernels`)");
    out = args.get("--out");
    if (out.empty()) throw UsageError("--out FILE is required");
    outputs = args.get("--outputs");
    if (args.has("--outputs") && outputs.empty()) throw UsageError("--outputs needs a file name");
    plugins = args.all("--plugin");
    spec_files = args.all("--spec");
    hf_configs = args.all("--hf-config");
    if (args.has("--cases")) o.cases = parse_int(args.get("--cases"), "--cases", 0, 100000);
    if (args.has("--seed")) o.seed = parse_unsigned("--seed", args.get("--seed"), 0, UINT64_MAX);
    o.many_tokens = !args.flag("--no-many-tokens");
    o.out_dir = args.get("--out-dir", o.out_dir);
    quiet = args.flag("--quiet");
    with_report = !args.flag("--no-report") && narrow.empty();
    if (!narrow.empty() && (args.has("--report-positions") || args.has("--report-pairs"))) {
      throw UsageError("--narrow records no report calls: no --report-positions or --report-pairs");
    }
    report_positions = args.get("--report-positions", report_positions);
    if (args.has("--report-pairs")) report_pairs = parse_int(args.get("--report-pairs"), "--report-pairs", 1, 1 << 20);
  }
  if (!narrow.empty()) {
    const auto cx = props::parse_counterexample(read_input_file(narrow, "failure file"), narrow);
    if (!cx) throw UsageError(narrow + " is not a failing case saved by `ropecheck judge` or `check`");
    if (contract.empty()) contract = cx->kernel;
    if (plugins.empty() && !cx->plugin.empty()) plugins.push_back(cx->plugin);
    const props::Property* p = props::find_property(cx->property);
    if (p == nullptr) throw UsageError(narrow + ": unknown property '" + cx->property + "'");
    o.narrow_property = p->id;
    o.narrow_cases = gate::narrowing_candidates(cx->c, p->needs_two_tokens ? 2 : 1);
  }
  const KernelSelection sel = select_kernels(plugins, {contract});
  o.kernel = sel.kernels.front();
  for (const std::string& f : spec_files) o.specs.push_back(load_spec_file(f));
  for (const std::string& f : hf_configs) {
    for (const HfLayerRope& r : load_hf_config_ropes(f).ropes) o.specs.push_back(r.spec);
  }
  o.generated_specs = o.specs.empty();
  if (o.generated_specs) o.specs = props::default_gate_specs();

  // The report's calls: its sweeps (reports/sweep.hpp, as `ropecheck report` runs them in
  // measure_and_write: one judge, spec after spec) through the recording adapter, one thread so
  // the file's order is reproducible; then every sample alone, the call the report makes to
  // re-measure a worst case, wherever another kernel's worst case falls.
  gate::ReportRecord report_record;
  std::vector<report::SpecChoice> report_choices;
  if (with_report) {
    report_choices = report_specs(spec_files, hf_configs, "ropecheck vectors");
    report_record.present = true;
    report_record.positions_text = report_positions;
    report_record.pairs = report_pairs;
    report_record.seed = o.seed;
    for (const report::SpecChoice& s : report_choices) report_record.specs.push_back({s.spec, s.label, s.origin, s.axis});
    report::SweepOptions sweep;
    sweep.positions = report::parse_position_sweep(report_positions);
    sweep.pair_limit = report_pairs;
    sweep.seed = o.seed;
    sweep.threads = 1;
    o.also_record = [report_choices, sweep](const impl::Kernel& adapter, const std::function<void(const RopeSpec&)>& judging) {
      props::Judge judge;
      for (const report::SpecChoice& s : report_choices) {
        judging(s.spec);
        const report::SweepResult r = report::run_sweep(*adapter.desc, s.spec, s.label, judge, sweep, s.axis);
        if (r.samples.empty()) continue;  // the contract does not take the spec: no calls
        const props::KernelRunner& runner = judge.runner(*adapter.desc, s.spec);
        for (size_t i = 0; i < r.samples.size(); ++i) {
          try {
            (void)runner.run(report::sweep_call_case(*adapter.desc, r, i, i + 1));
          } catch (const props::KernelThrew&) {
            // recorded as the call it was; the report judges it from the file
          }
        }
      }
    };
  }

  gate::CampaignResult run;
  gate::VectorCases cases = gate::record_vectors(o, &run);
  cases.report = report_record;
  const std::vector<unsigned char> bytes = gate::cases_npz(cases);
  write_output_file(out, std::string(bytes.begin(), bytes.end()));
  if (!outputs.empty()) {
    const std::vector<unsigned char> ob = gate::outputs_npz(cases);
    write_output_file(outputs, std::string(ob.begin(), ob.end()));
  }
  if (!quiet && !narrow.empty()) {
    std::printf("wrote %s: %zu cases around the failure of %s in %s (smallest first; %zu calls, %.1f MiB, cases_hash %s).\n"
                "Run them and `ropecheck judge %s OUTPUTS.npz`: the smallest failing one is reported and saved; narrow "
                "again from it.\n",
                out.c_str(), cases.narrow_cases.size(), o.narrow_property.c_str(), narrow.c_str(), cases.calls.size(),
                static_cast<double>(bytes.size()) / (1 << 20), cases.hash.c_str(), out.c_str());
  } else if (!quiet) {
    std::printf("wrote %s: %zu calls of %zu specs (%zu unit(s) as `ropecheck check --kernel %s --cases %d --seed %llu` runs them), "
                "contract %s, %.1f MiB, cases_hash %s\n",
                out.c_str(), cases.calls.size(), cases.call_specs.size(), run.units.size(), cases.kernel.c_str(), cases.cases,
                static_cast<unsigned long long>(cases.seed), cases.kernel.c_str(), static_cast<double>(bytes.size()) / (1 << 20),
                cases.hash.c_str());
    if (!outputs.empty()) std::printf("wrote %s: %s's own answers\n", outputs.c_str(), cases.kernel.c_str());
  }
  // The recording kernel's own findings: the file follows its path, which the user's kernel
  // may leave (calls after a failure were never made).
  for (const std::string& m : run.messages) std::fprintf(stderr, "ropecheck vectors: while recording: %s\n\n", m.c_str());
  return run.tally.exit_code();
}

}  // namespace ropecheck::cli

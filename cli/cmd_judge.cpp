// `ropecheck judge`: judges outputs made anywhere for the cases of `ropecheck vectors`, by the
// gate's own campaign and judge replaying them (gate/vectors.hpp).  This file parses the
// options, reads the files, runs judge_vectors and prints as `ropecheck check` does.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "gate/vectors.hpp"
#include "gate/vectors_file.hpp"
#include "kernel_selection.hpp"
#include "vectors_files.hpp"
#include "properties/exit_codes.hpp"
#include "properties/output_file.hpp"
#include "reference/input_file.hpp"

namespace ropecheck::cli {

namespace {

constexpr const char* kJudgeHelp = R"help(Usage:
  ropecheck judge CASES.npz OUTPUTS.npz [--plugin LIB.so]... [--junit FILE] [--json FILE]
                  [--out-dir DIR] [--quiet]

Judges outputs computed anywhere (a Metal or CUDA box, JAX, an FPGA simulator) for the
golden vectors `ropecheck vectors` wrote.  The gate runs again exactly as it did when the
cases were written -- same contract, specs, seed, edge sweep, generated cases and catalogue --
and every kernel call is answered from OUTPUTS.npz (matched by content: spec, positions, input
bits, heads, strides).  So each property is judged by the same judge and bounds as under
`ropecheck check`, with the same exit codes, JUnit and JSON.

What recorded outputs cannot show is listed as "not applicable (needs a live kernel)", never
skipped silently: determinism (a replay answers the same call the same way), and a property
that needs a call the file does not hold (inverseUndoesRotation's second call is made from
the first call's output).  Failures are not shrunk: the failing case is printed as found,
with the index of its calls in the file (call_* arrays), like check prints its cases.
Writes outside the vectors (out-of-bounds) cannot be seen in outputs: run check on a live
kernel for those.

OUTPUTS.npz: cases_hash (copied from CASES.npz), status (int32, one per call: 0 answered,
1-6 an rc_status refusal) and y (the outputs, laid out as x, in the contract's output
dtype).  reports/VECTORS.md documents every array; python/examples/numpy_rope.py writes one.

Options:
  --plugin LIB.so    load the contract's kernel from a plugin (when it is not built in).
  --junit FILE       write JUnit XML (a testcase per property).
  --json FILE        write the results as JSON (check's, plus "golden_vectors").
  --out-dir DIR      where failing cases are saved (default: ropecheck-failures).
  --quiet            no summary table.
  --help             this text.

Examples:
  ropecheck vectors --contract scalar_f64 --out cases.npz
  python3 python/examples/numpy_rope.py cases.npz outputs.npz
  ropecheck judge cases.npz outputs.npz --junit rope.xml

Exit codes: 0 every judged property held; 1 a property failed on the recorded outputs (the
message names it and the call); 2 bad usage, or a malformed, truncated or tampered file,
outputs for another cases file, a wrong dtype or shape, a NaN where none is allowed (the
message names the array); 4 internal error.
)help";

}  // namespace

int run_judge(const Args& argv) {
  std::vector<std::string> plugins;
  std::string cases_path, outputs_path, junit, json_out, out_dir = "ropecheck-failures";
  bool quiet = false;
  {
    const ParsedArgs args(argv, {"--plugin", "--junit", "--json", "--out-dir"}, {"--help", "--quiet"}, {"--plugin"});
    if (args.flag("--help")) {
      std::fputs(kJudgeHelp, stdout);
      return kExitOk;
    }
    if (args.positional().size() != 2) throw UsageError("give CASES.npz and OUTPUTS.npz (see --help)");
    cases_path = args.positional()[0];
    outputs_path = args.positional()[1];
    plugins = args.all("--plugin");
    junit = args.get("--junit");
    json_out = args.get("--json");
    if (args.has("--junit") && junit.empty()) throw UsageError("--junit needs a file name");
    if (args.has("--json") && json_out.empty()) throw UsageError("--json needs a file name");
    out_dir = args.get("--out-dir", out_dir);
    quiet = args.flag("--quiet");
  }
  gate::VectorCases cases = read_vector_files(cases_path, outputs_path);
  const KernelSelection sel = contract_selection(cases, plugins);
  const impl::Kernel* contract = sel.set.find(cases.kernel);

  gate::JudgeResult j = gate::judge_vectors(cases, *contract, out_dir);
  gate::CampaignResult& r = j.result;
  std::vector<std::string> warnings;
  for (const gate::NotApplicable& na : j.not_applicable) {
    warnings.push_back("not applicable (needs a live kernel): " + na.property + ": " + na.why);
  }
  if (!cases.narrow_cases.empty()) {
    std::printf("narrowing round: %zu cases around a failure of %s, smallest first; the first that fails is reported\n",
                cases.narrow_cases.size(), cases.properties.front().c_str());
  }
  std::printf("judging %s against %s (contract %s, seed %llu, %d generated cases per property and unit): %llu calls "
              "answered from the file\n\n",
              outputs_path.c_str(), cases_path.c_str(), cases.kernel.c_str(), static_cast<unsigned long long>(cases.seed),
              cases.cases, static_cast<unsigned long long>(j.answered));
  for (const std::string& m : r.messages) std::printf("%s\n\n", m.c_str());
  for (const std::string& w : warnings) std::printf("%s\n", w.c_str());
  if (!warnings.empty()) std::printf("\n");
  if (!quiet) {
    for (const auto& p : props::catalogue()) {
      const bool in_file = std::find(cases.properties.begin(), cases.properties.end(), p.id) != cases.properties.end();
      std::string cell = in_file || gate::live_only_properties().count(p.id)
                             ? "n/a (needs a live kernel)"
                             : "not in this file (a narrowing round of " + cases.properties.front() + ")";
      const auto row = r.cells.find(cases.kernel);
      if (row != r.cells.end() && row->second.count(p.id)) {
        const gate::Cell& c = row->second.at(p.id);
        cell = c.status() == "pass" ? "pass " + std::to_string(c.checked) : c.status();
        if (c.status() == "n/a" && !c.skip_reason.empty()) cell += " (" + c.skip_reason + ")";
      }
      std::printf("%-48s %s\n", p.id, cell.c_str());
    }
    std::printf("\n");
  }
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(gate::gate_json(r, j.options, warnings));
  nlohmann::ordered_json na = nlohmann::ordered_json::array();
  for (const gate::NotApplicable& n : j.not_applicable) na.push_back({{"property", n.property}, {"why", n.why}});
  doc["golden_vectors"] = {{"cases", cases_path},      {"outputs", outputs_path},     {"cases_hash", cases.hash},
                           {"contract", cases.kernel}, {"calls", cases.calls.size()}, {"answered", j.answered},
                           {"not_in_file", j.missed},  {"not_applicable", na}};
  for (const auto& [path, text] : {std::make_pair(junit, gate::junit_xml(r, warnings)), std::make_pair(json_out, doc.dump(2) + "\n")}) {
    if (path.empty()) continue;
    try {
      write_output_file(path, text);
    } catch (const OutputError& e) {
      std::fprintf(stderr, "ropecheck judge: %s\n", e.what());
      r.tally.output_failed = true;
    }
  }
  return r.tally.exit_code();
}

}  // namespace ropecheck::cli

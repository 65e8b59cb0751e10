// The fuzz campaign behind `ropecheck fuzz`: fuzz the kernels of target_kernels() with the
// differential and metamorphic targets for a time each, and end with one verdict.
//
// Two engines run the same targets: the libFuzzer binaries of a clang fuzz build (coverage
// guided, ASan + UBSan; find_fuzzer_dir), or, when there are none, the in-process driver of
// driver.hpp (the seeds, then random mutations of them, in a forked child).  Either way a
// finding leaves the raw input in the output directory (<target>-<kind>-<hash>), is replayed
// in a child for its report (a finding the judge made also becomes a counterexample in the one
// format, props::save_counterexample, which `ropecheck repro FILE.json` replays with the judge
// of `check`), and the verdict comes from props::Tally, as in every command.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "properties/exit_codes.hpp"
#include "properties/judge.hpp"

namespace ropecheck::fuzz {

struct CampaignOptions {
  std::vector<std::string> targets;  // "differential", "metamorphic" (run in this order)
  double seconds = 60;               // per target
  int jobs = 1;                      // libFuzzer -fork=J
  uint64_t seed = 1;                 // the in-process driver's mutations
  int timeout = 30;                  // s: one input longer than this is a hang; also bounds a replay
  std::string out_dir;               // reproducers, counterexamples, logs, working corpora (exists)
  std::string fuzzer_dir;            // the libFuzzer binaries fuzz_<target>; "" = the in-process driver
  std::string corpus_dir;            // seed corpus root with a folder per target ("" = generated seeds only)
  std::string dict;                  // libFuzzer dictionary ("" = none)
  std::string repro_args;            // " --plugin ... --kernel ..." for the hints the campaign writes
};

// What one target found.
struct TargetOutcome {
  std::string target;
  props::Finding finding = props::Finding::kPass;  // kPass: nothing found (see checked_any())
  uint64_t execs = 0;            // inputs run, the one of a finding included
  uint64_t checked = 0;          // inputs on which something was checked (in-process driver)
  bool counts_known = true;      // false for libFuzzer: only which kernels were checked is known
  std::set<std::string> kernels_checked;
  std::string skip_example;      // why an input checked nothing (in-process driver)
  std::map<std::string, std::string> kernel_skips;  // kernel never checked -> its commonest skip reasons
  double seconds = 0;
  std::string reproducer;        // the raw input of a finding ("" if none could be kept)
  std::string counterexample;    // its counterexample file ("" if the finding was not the judge's)
  std::string detail;            // how a kernel crashed, hung or exited; where the log is
  std::string report;            // the replay's report, from its failure marker on
  std::string kernel_output;     // what the kernels printed (in-process driver; libFuzzer: its log)
  uint64_t kernel_output_bytes = 0;

  bool checked_any() const { return counts_known ? checked > 0 : !kernels_checked.empty(); }
};

struct CampaignResult {
  std::vector<TargetOutcome> targets;  // in the order run; a finding ends the campaign
  Tally tally;                         // exit code: tally.exit_code()
  std::vector<std::string> nothing_checked;  // why a run without findings is not a pass
};

// Kernels of target_kernels() that no input of the decoder can reach, with why
// (unreachable_reason): named before fuzzing, and the reason of "never checked".
std::map<std::string, std::string> unreachable_kernels();

// The directory of the libFuzzer binaries of this build (next to the executable, or its
// build tree's fuzz/), or "".
std::string find_fuzzer_dir();
// How the libFuzzer binaries of `dir` were built, from the fuzz_engine.txt their build writes
// beside them (fuzz/CMakeLists.txt): "ASan+UBSan", or the engine flags of an OSS-Fuzz style
// build; "sanitizers unknown" when the file is missing (binaries built some other way).
std::string fuzzer_build_text(const std::string& dir);

// Runs the targets one after another (`on_target` is called as each ends) until one finds
// something or all have run; runs none if no kernel can be reached.  The kernels are
// target_kernels() (set_target_kernels first).
CampaignResult run_campaign(const CampaignOptions& opt, const std::function<void(const TargetOutcome&)>& on_target);

}  // namespace ropecheck::fuzz

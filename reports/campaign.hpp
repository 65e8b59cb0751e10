// The report campaign (`ropecheck report`): for every kernel × spec the sweep (sweep.hpp), whose
// verdicts come from the judge (props::Judge, one per campaign), then the paper checks
// (paper_checks.hpp), the counterexamples of the findings (props::save_counterexample, under
// DIR/cases/), the files (writers.hpp), and the verdict through props::Tally — the same exit
// codes as every command (properties/exit_codes.hpp).
//
// The kernels run in a child process (impl/isolation.hpp) unless `isolate` is off: the child
// tells the parent which kernel and spec it is measuring and beats once per measured chunk, so
// a kernel that crashes, exits or hangs (no beat for `case_timeout` s) is a crash finding
// naming the kernel and spec (props::finding_of_child), and no report is written.  The CLI
// selects the kernels and specs, and prints the outcome (`print` is called once, in the child
// when it finished, else in the parent).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "properties/exit_codes.hpp"
#include "reference/rope_spec.hpp"
#include "reports/sweep.hpp"
#include "reports/writers.hpp"

namespace ropecheck::report {

struct SpecChoice {
  RopeSpec spec;
  std::string label;   // short name for tables and file names (made unique by the campaign)
  std::string origin;  // "--spec FILE", "--hf-config FILE" or "built-in ..."
  // A multi-axis spec: -1 text tokens, a >= 0 axis a alone (SweepResult::axis).
  int axis = -1;
};

struct KernelChoice {
  const rc_kernel_desc* desc = nullptr;
  std::string plugin;  // absolute path of its plugin, "" for a built-in kernel
};

struct CampaignOptions {
  std::string out_dir;
  SweepOptions sweep;           // positions, pairs, seed, threads (the campaign sets progress)
  std::string positions_text;   // --positions as given, for the report
  std::string command;          // the command line, for the report
  std::vector<std::string> warnings;  // ill-conditioned specs (props::conditioning_warning)
  bool paper = true;            // the paper checks
  bool isolate = true;          // measure in a supervised child
  double case_timeout = 120;    // s without progress before the child is taken to hang
};

// What the campaign found, for the CLI to print.
struct CampaignOutcome {
  Tally tally;                           // the exit code: tally.exit_code()
  ReportData report;                     // what was measured, and the judge's findings
  bool written = false;                  // every report file was written
  bool child_died = false;               // the measuring child ended without a verdict (the
                                         // finding says how); nothing was written
  std::vector<std::string> unmeasured;   // "KERNEL: why" for a kernel measured on no spec
  std::vector<std::string> errors;       // files not written, ropecheck's own failures
  std::string warning;                   // e.g. gnuplot missing: the HTML has no plots
};

// Runs the campaign and returns its exit code (outcome.tally.exit_code()).
int run_campaign(const std::vector<KernelChoice>& kernels, std::vector<SpecChoice> specs,
                 const CampaignOptions& options, const std::function<void(const CampaignOutcome&)>& print);

}  // namespace ropecheck::report

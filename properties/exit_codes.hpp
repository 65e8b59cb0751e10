// Exit codes of every ropecheck command (documented in README.md), and the one rule that
// turns what a command found into its exit code.  Every command — check, fuzz, repro, report,
// and the Python and golden-vector front ends after them — ends through exit_code() below, so
// the same finding gives the same code whichever command found it.
#pragma once

namespace ropecheck {

enum ExitCode : int {
  kExitOk = 0,         // everything checked holds
  kExitViolation = 1,  // a kernel violated a property or its bound
  kExitUsage = 2,      // bad usage, bad spec, bad plugin (message names the field / rule),
                       // an output file that could not be written, or nothing could be checked
  kExitCrash = 3,      // a kernel crashed, hung, called exit(), let a C++ exception out
                       // through the C ABI, or wrote out of bounds
  kExitInternal = 4,   // a bug in ropecheck itself (please report)
};

// What a run of a command found, by kind.  The exit code ranks them: a crash outranks a
// violation (both are the kernel's, and a crash may hide violations behind it), a finding
// about the kernel outranks ropecheck's own failure (the finding is confirmed whatever else
// went wrong), and an unwritten output file or a run that checked nothing is never a pass.
struct Tally {
  bool crash = false;
  bool violation = false;
  bool internal = false;
  bool output_failed = false;    // a report, JUnit/JSON file or counterexample not written
  bool nothing_checked = false;  // some kernel (or target) had nothing checked

  int exit_code() const {
    if (crash) return kExitCrash;
    if (violation) return kExitViolation;
    if (internal) return kExitInternal;
    if (output_failed || nothing_checked) return kExitUsage;
    return kExitOk;
  }
};

}  // namespace ropecheck

// Exit codes of every ropecheck command (documented in README.md).
#pragma once

namespace ropecheck {

enum ExitCode : int {
  kExitOk = 0,         // everything checked holds
  kExitViolation = 1,  // a kernel violated a property or its bound
  kExitUsage = 2,      // bad usage, bad spec, bad plugin (message names the field / rule)
  kExitCrash = 3,      // a kernel crashed, hung, or wrote out of bounds
  kExitInternal = 4,   // a bug in ropecheck itself (please report)
};

}  // namespace ropecheck

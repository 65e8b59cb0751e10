// Exit codes of every ropecheck command (documented in README.md).
#pragma once

namespace ropecheck {

enum ExitCode : int {
  kExitOk = 0,         // everything checked holds
  kExitViolation = 1,  // a kernel violated a property or its bound
  kExitUsage = 2,      // bad usage, bad spec, bad plugin (message names the field / rule),
                       // or nothing could be checked
  kExitCrash = 3,      // a kernel crashed, hung, called exit(), let a C++ exception out
                       // through the C ABI, or wrote out of bounds
  kExitInternal = 4,   // a bug in ropecheck itself (please report)
};

}  // namespace ropecheck

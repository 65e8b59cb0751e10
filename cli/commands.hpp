// Subcommands of the `ropecheck` executable.  Each takes the arguments after its name and
// returns the process exit code (see exit_codes.hpp).
#pragma once

#include <string>
#include <vector>

namespace ropecheck::cli {

using Args = std::vector<std::string>;

int run_ref(const Args& args);      // cmd_ref.cpp
int run_kernels(const Args& args);  // cmd_kernels.cpp

}  // namespace ropecheck::cli

// Subcommands of the `ropecheck` executable.  Each takes the arguments after its name and
// returns the process exit code (see exit_codes.hpp).
#pragma once

#include <string>
#include <vector>

namespace ropecheck::cli {

using Args = std::vector<std::string>;

int run_ref(const Args& args);      // cmd_ref.cpp
int run_kernels(const Args& args);  // cmd_kernels.cpp
int run_fuzz(const Args& args);     // cmd_fuzz.cpp
int run_report(const Args& args);   // cmd_report.cpp
int run_check(const Args& args);    // cmd_check.cpp
int run_repro(const Args& args);    // cmd_repro.cpp
int run_vectors(const Args& args);  // cmd_vectors.cpp
int run_judge(const Args& args);    // cmd_judge.cpp

}  // namespace ropecheck::cli

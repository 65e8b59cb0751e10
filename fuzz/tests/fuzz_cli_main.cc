// `ropecheck fuzz` as its own small executable, so fuzz/ tests the command (cli/cmd_fuzz.cpp)
// without depending on how the main `ropecheck` binary is assembled.  It lives next to the
// fuzz_<target> binaries, where cmd_fuzz looks for them.
#include "command_errors.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  const ropecheck::cli::Args args(argv + 1, argv + argc);
  return ropecheck::cli::exit_code_of("fuzz", [&] { return ropecheck::cli::run_fuzz(args); });
}

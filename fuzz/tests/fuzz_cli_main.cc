// `ropecheck fuzz` as its own small executable, so fuzz/ tests the command (cli/cmd_fuzz.cpp)
// without depending on how the main `ropecheck` binary is assembled.  It lives next to the
// fuzz_<target> binaries, where cmd_fuzz looks for them.
#include "commands.hpp"

int main(int argc, char** argv) { return ropecheck::cli::run_fuzz(ropecheck::cli::Args(argv + 1, argv + argc)); }

// Runs the ropecheck binary (ROPECHECK_BINARY) with arguments, as a user's shell would,
// capturing stdout and stderr together with the exit code.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace ropecheck::testing {

struct CommandResult {
  int exit_code;    // 128 + signal if the process was killed
  std::string out;  // stdout and stderr together
};

inline CommandResult run_ropecheck(const std::string& args) {
  const std::string cmd = std::string(ROPECHECK_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace ropecheck::testing

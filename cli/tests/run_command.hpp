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

// The exit code of a command that `timeout_seconds` ended (timeout(1) sends SIGTERM, then
// SIGKILL a second later): 124, or 128 + SIGKILL.
inline bool timed_out(const CommandResult& r) { return r.exit_code == 124 || r.exit_code == 128 + 9; }

// timeout_seconds > 0 ends the command after that long (coreutils timeout(1)), so a test of
// something that must not hang cannot hang the test run; see timed_out().
inline CommandResult run_ropecheck(const std::string& args, int timeout_seconds = 0) {
  const std::string limit =
      timeout_seconds > 0 ? "timeout --kill-after=1 " + std::to_string(timeout_seconds) + " " : std::string();
  const std::string cmd = limit + std::string(ROPECHECK_BINARY) + " " + args + " 2>&1";
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

// The in-process fuzzing driver `ropecheck fuzz` falls back to when no libFuzzer build of the
// targets is around (e.g. a GCC build): for N seconds it feeds a target its seed corpus as it
// is (in order, as libFuzzer starts with its corpus), then random mutations of it — bit flips, special float bit patterns, edge-position bytes, changes to
// the shape bytes at the end, splices — and fresh random bytes.  No coverage feedback, but
// the decoder maps every input to a valid case, so random search still reaches every rope
// type, layout, dtype path and edge position.
//
// The target runs in a forked child, so a kernel that crashes, hangs or exits the process is
// reported (with the input that did it) rather than taking ropecheck down: the child copies
// each input into shared memory before running it, and returns its verdict through
// impl/isolation.hpp, never through its exit status (a kernel calling exit(0) or _exit(1) must
// not pass for a clean run or a violation).  It also counts the inputs on which something was checked, per kernel:
// a run that checked nothing is not clean.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "properties/judge.hpp"

namespace ropecheck::fuzz {

struct DriveOptions {
  std::string target;              // "differential" or "metamorphic" (any target works)
  double seconds = 10;
  std::string out_dir = ".";       // reproducers are written here
  uint64_t seed = 1;               // random seed of the mutations
  double hang_seconds = 30;        // one input running longer than this is a hang
  std::vector<std::vector<uint8_t>> seeds;  // the starting corpus
};

struct DriveResult {
  // kPass: time is up, nothing found (look at `checked` before calling it a pass).  kCrash: a
  // kernel threw through the C ABI, wrote out of bounds, crashed (a signal), hung or ended the
  // process (exit()); `detail` says which.  kViolation, kInternal: as the judge says.
  props::Finding finding = props::Finding::kPass;
  uint64_t execs = 0;                  // inputs run, the one of a finding included
  uint64_t checked = 0;                // of those, inputs on which something was checked (or found)
  std::vector<uint64_t> kernel_checked;  // per kernel of target_kernels(): inputs checked on it
  std::string skip_example;            // why the latest input that checked nothing did not
  // Per kernel never checked: its commonest skip reasons with counts ("" for the others).
  std::vector<std::string> kernel_skips;
  double seconds = 0;
  // The saved input of a finding, <out_dir>/<target>-<violation|crash|timeout|internal>-<hash>
  // (may be empty if the process ended between inputs).
  std::string reproducer;
  std::string detail;      // signal, status or hang
  bool judged = false;     // the finding is the judge's (not a process the kernel ended or hung)
  // What the kernels printed on stdout/stderr while fuzzing (captured: never mixed into
  // ropecheck's output), the first 64 KiB, and how many bytes in all.
  std::string kernel_output;
  uint64_t kernel_output_bytes = 0;
};

DriveResult drive_in_process(const DriveOptions& opt);

}  // namespace ropecheck::fuzz

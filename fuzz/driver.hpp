// The in-process fuzzing driver `ropecheck fuzz` falls back to when no libFuzzer build of the
// targets is around (e.g. a GCC build): for N seconds it feeds a target random mutations of
// its seed corpus — bit flips, special float bit patterns, edge-position bytes, changes to
// the shape bytes at the end, splices — and fresh random bytes.  No coverage feedback, but
// the decoder maps every input to a valid case, so random search still reaches every rope
// type, layout, dtype path and edge position.
//
// The target runs in a forked child, so a kernel that crashes or hangs is reported (with the
// input that did it) rather than taking ropecheck down: the child copies each input into
// shared memory before running it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
  enum class Kind { kClean, kViolation, kCrash, kHang, kInternal };
  Kind kind = Kind::kClean;
  uint64_t execs = 0;
  double seconds = 0;
  std::string reproducer;  // path of the saved input (not kClean)
  std::string detail;      // signal or status
};

DriveResult drive_in_process(const DriveOptions& opt);

}  // namespace ropecheck::fuzz

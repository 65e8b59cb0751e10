// fuzz_npz: bytes as a golden-vector cases file (gate/npz.hpp, gate/vectors_file.hpp) -> the
// .npz reader and the cases reader, which `ropecheck judge` runs on files from anywhere.
// Hostile bytes (truncated, tampered, ZIP bombs, deflate garbage, NPY headers of any shape)
// must never crash, leak or hang: npz::NpzError is the expected rejection (exit 2), anything
// else that escapes is a bug (libfuzzer_entry traps on it).  An archive the reader accepts
// must write back to the same arrays; a cases file it accepts must write back to the same
// calls and hash.
//
// Not a kernel target: it is not run by `ropecheck fuzz` (fuzz/targets.hpp), only as
// fuzz_npz (libFuzzer) and fuzz_npz_replay (its seeds, fuzz/corpus/npz, in ctest).
#include <ostream>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.hpp"
#include "gate/npz.hpp"
#include "gate/vectors_file.hpp"

namespace ropecheck::fuzz {

namespace {

Result fail(const std::string& what) { return {props::Finding::kInternal, std::string(kInternalMarker) + "\nfuzz_npz: " + what}; }

Result fuzz_npz(const uint8_t* data, size_t size, const RunOptions& opt) {
  std::vector<npz::Array> arrays;
  try {
    arrays = npz::read_npz(data, size, "input.npz");
  } catch (const npz::NpzError& e) {
    if (opt.trace) *opt.trace << "npz: refused: " << e.what() << "\n";
    return {props::Finding::kSkip, e.what()};
  }
  for (bool deflate : {false, true}) {
    const std::vector<unsigned char> back = npz::write_npz(arrays, deflate);
    const std::vector<npz::Array> again = npz::read_npz(back.data(), back.size(), "rewritten.npz");
    if (again.size() != arrays.size()) return fail("an accepted archive does not write back to the same members");
    for (size_t i = 0; i < again.size(); ++i) {
      if (again[i].name != arrays[i].name || again[i].dtype != arrays[i].dtype || again[i].shape != arrays[i].shape ||
          again[i].data != arrays[i].data) {
        return fail("member " + arrays[i].name + " does not write back to itself");
      }
    }
  }
  if (opt.trace) *opt.trace << "npz: " << arrays.size() << " member(s) read\n";
  gate::VectorCases cases;
  try {
    cases = gate::read_cases_npz(data, size, "input.npz");
  } catch (const npz::NpzError& e) {
    if (opt.trace) *opt.trace << "cases: refused: " << e.what() << "\n";
    return {props::Finding::kSkip, e.what()};
  }
  const std::string hash = cases.hash;
  const std::vector<unsigned char> back = gate::cases_npz(cases);
  const gate::VectorCases again = gate::read_cases_npz(back.data(), back.size(), "rewritten.npz");
  if (again.calls.size() != cases.calls.size() || again.call_specs.size() != cases.call_specs.size()) {
    return fail("an accepted cases file does not write back to the same calls");
  }
  for (size_t i = 0; i < again.calls.size(); ++i) {
    if (again.calls[i].x != cases.calls[i].x || again.calls[i].positions != cases.calls[i].positions) {
      return fail("call " + std::to_string(i) + " does not write back to itself");
    }
  }
  if (opt.trace) *opt.trace << "cases: " << cases.calls.size() << " call(s), hash " << hash << "\n";
  return {props::Finding::kPass, ""};
}

}  // namespace

}  // namespace ropecheck::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_npz, data, size);
}

// The fuzz targets as a library, for the `ropecheck` CLI and the campaign: `ropecheck repro
// CRASHFILE` replays a fuzz input readably (replay_fuzz_input), `ropecheck fuzz` needs the
// seeds and the replay of what it found.  The kernels judged are target_kernels()
// (fuzz_common.hpp): set by set_target_kernels() or the environment — replay with the set
// that found the input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"
#include "impl/isolation.hpp"

namespace ropecheck::fuzz {

// The target a reproducer belongs to, from its file name (ropecheck fuzz and fuzz.sh name
// them <target>-crash-<sha1>, <target>-violation-<hash>, ...); "" if it does not say.
std::string fuzz_target_from_path(const std::string& path);

// Prints the input as a readable case (spec, positions, values in hexfloat, the case JSON),
// replays it with every kernel's verdict, and prints the report of a failure if any.  Returns
// the finding: kPass if something was checked and every property checked holds, kSkip if
// nothing was checked (no valid spec, or every kernel skipped the case), kViolation, kCrash (a
// kernel threw through the C ABI or wrote out of bounds) or kInternal (ropecheck's own
// failure, e.g. a fast oracle mismatch).  `out` is flushed before the kernels run.  A kernel
// that crashes or exits crashes or ends the caller: replay_in_child() isolates it.
// If `counterexample_dir` is not empty, a violation or crash of a kernel target is also saved
// there in the one counterexample format (props::save_counterexample), and a line
// "<kCounterexampleLine>PATH" says where.  Throws std::invalid_argument for an unknown target.
props::Finding replay_fuzz_input(const std::string& target, const std::vector<uint8_t>& bytes, std::ostream& out,
                                 const std::string& counterexample_dir = "");
inline constexpr const char* kCounterexampleLine = "counterexample: ";

// replay_fuzz_input in a forked child (impl/isolation.hpp) with the kernels of
// target_kernels().  The child writes its text to a pipe as it goes (a crash loses none of it:
// the outcome's `output`); its verdict, the props::Finding replay_fuzz_input returned, is one a
// kernel calling exit() or _exit() cannot produce, so a child that ends without one was ended
// by the kernel.  Killed after `timeout_seconds`.  `echo` (may be null) gets the text, whole
// lines, as it arrives.
impl::ChildOutcome replay_in_child(const std::string& target, const std::vector<uint8_t>& bytes, double timeout_seconds,
                                   std::FILE* echo, const std::string& counterexample_dir = "");
// A sentence for the user: "a kernel crashed with SIGSEGV (segmentation fault)", "the kernel
// exited the process with status 0 (a kernel must return, never exit)", ...
std::string describe_replay(const impl::ChildOutcome& replay);

// Seeds built from the versioned hard-case file (edge positions) and special values: what
// fuzz/corpus/ holds (fuzz_make_seeds writes them) and what `ropecheck fuzz` starts from
// when the corpus directory is not around.  The spec target's seeds are inline specs; the
// corpus also has reference/specs copied in.
std::vector<std::vector<uint8_t>> seed_inputs(const std::string& target);
// The differential and metamorphic seeds of ABI 2 calls (q and k, int32/int64, decode
// batches): in seed_inputs when a target kernel is an ABI 2 one, and written to fuzz/corpus/
// by fuzz_make_seeds whatever the set (a set of ABI 1 kernels reads them as their v1 case).
std::vector<std::vector<uint8_t>> call_seeds();

// The repository's fuzz/corpus and fuzz/rope.dict as this build knows them ("" if absent).
std::string default_corpus_dir();
std::string default_dict_path();

std::vector<uint8_t> read_file_bytes(const std::string& path);  // throws std::runtime_error
std::string short_hash(const std::vector<uint8_t>& bytes);      // 16 hex digits (FNV-1a)

}  // namespace ropecheck::fuzz

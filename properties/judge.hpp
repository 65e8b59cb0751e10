// The judge: the one place where ropecheck decides whether a kernel is right on a case.
//
// Every command and test that calls a kernel — the gate (`ropecheck check`), the fuzz targets,
// `ropecheck repro`, the report sweep's verdicts and the catalogue tests — asks a Judge, and
// gets one of five findings back (cryptofuzz's executor is the model: one place filters,
// compares and reports).  What the Judge guarantees, whoever asks:
//  - the kernel and the oracles of a (kernel, spec) are prepared once and kept (one cache);
//  - every call the kernel answers is recorded, and a violation the fast oracle finds is
//    re-judged by the exact reference on those recorded outputs — never on a second call,
//    which a stateful kernel could answer differently;
//  - a violation is then run again: one that does not reproduce is the finding "the kernel
//    is not deterministic", with both runs, instead of a failure nobody can replay;
//  - a kernel that throws through the C ABI, writes out of bounds or (in the supervised
//    child of the caller, see finding_of_child) crashes, exits or hangs is a crash;
//  - a fast oracle the exact reference contradicts, or any other exception of ropecheck's
//    own, is an internal error — never a pass and never blamed on the kernel.
// A Finding maps to an exit code through exit_codes.hpp, the same for every command.
//
// Not thread-safe: one Judge per thread (the cache and the call log are per Judge).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "impl/isolation.hpp"
#include "impl/ropecheck_kernel.h"
#include "properties/case.hpp"
#include "properties/catalogue.hpp"
#include "properties/exit_codes.hpp"
#include "properties/runner.hpp"
#include "reference/fast_oracle.hpp"

namespace ropecheck::props {

enum class Finding {
  kPass,       // checked, and the property holds
  kSkip,       // not checked: the case is outside what the kernel declares (reason says what)
  kViolation,  // checked, and the property fails (confirmed by the exact reference)
  kCrash,      // the kernel crashed, hung, exited, threw through the C ABI or wrote out of bounds
  kInternal,   // ropecheck itself failed (reason says how); nothing is known about the kernel
};
const char* to_string(Finding finding);  // "pass", "skip", "violation", "crash", "internal"
int exit_code(Finding finding);          // kExitOk (pass, skip), kExitViolation, ...
// Adds a finding to a command's tally (skip adds nothing: the caller counts what it checked).
void tally(Tally& t, Finding finding);

struct Judgement {
  Finding finding = Finding::kPass;
  std::string property;  // the property judged; kernelIsDeterministic when a failure did not reproduce
  std::string differed_on;  // then: the property that failed on one run and not on the next
  std::string reason;    // skip: why not; violation, crash, internal: one line
  std::string detail;    // violation, crash: the evidence (inputs, expected, actual, bound)
  double worst_ratio = 0;  // bounded properties: the largest error / bound seen on the case
  double worst_ulp = 0;    // bounded properties: the largest error in ulp of the pair norm
  bool worst_capped = false;  // the largest ratio is on a pair whose bound is capped at kPairBoundCap·r

  bool checked() const { return finding == Finding::kPass || failed(); }
  bool failed() const { return finding == Finding::kViolation || finding == Finding::kCrash; }
};

// The finding of a supervised child that ended without a verdict (impl/isolation.hpp): a
// crash (signal, exit(), hang) of the kernel it was running, or an internal error (no child,
// an exception of ropecheck's own).  `what` names what was running ("kernel K on spec S").
Judgement finding_of_child(const impl::ChildOutcome& outcome, const std::string& what);

// Pairs beyond which judge_exact judges as judge() does (see there).
inline constexpr double kExactOnlyPairs = 1 << 20;

class Judge {
 public:
  struct Options {
    size_t capacity = 16;              // specs kept prepared (least recently used out)
    uint64_t spot_check_every = 1000;  // fast-oracle calls between exact spot-checks
    bool recheck_failures = true;      // run a violation again before reporting it
    // Spend the checked oracle's first spot-check (its call 0) on one pair at a far position
    // (t = 2^31 - 1, the last pair) as soon as a spec is prepared, instead of on the first head
    // a property asks for (rotary_dim/2 exact pairs): ~5 µs per spec rather than ~300 µs.  For
    // callers that prepare specs by the thousand (the fuzzers meet a spec not seen before in
    // about one input in five); the oracle is still spot-checked every spot_check_every calls.
    bool first_spot_check_on_one_pair = false;
  };
  Judge();
  explicit Judge(Options options);
  ~Judge();
  Judge(const Judge&) = delete;
  Judge& operator=(const Judge&) = delete;

  // Judges `property` on `c` for `kernel`, with the fast oracle (spot-checked against the
  // exact reference) and, for a violation, the exact reference on the recorded outputs.
  Judgement judge(const rc_kernel_desc& kernel, const Property& property, const Case& c);
  // The same judged by the exact reference alone (what `ropecheck repro` does): slower, and
  // the answer to "is this really a violation" for one case.  A case of more than
  // kExactOnlyPairs pairs is judged as judge() does, without running a violation again.
  Judgement judge_exact(const rc_kernel_desc& kernel, const Property& property, const Case& c);

  // Judges `property` on `c` for a caller that saw it fail there without judging — the report
  // sweep measures many positions per call in threads, and re-measures its worst cases alone.
  // `seen` says what the caller saw (one line).  As judge(), except that the answer is never a
  // pass: a case on which the property holds when judged means the kernel answered the same
  // call two ways, the finding kernelIsDeterministic (a violation, with both runs); a skip
  // means the caller ran a case the kernel does not declare, an internal error.
  Judgement confirm(const rc_kernel_desc& kernel, const Property& property, const Case& c, const std::string& seen);

  // Called before the kernel is prepared or called for a case (a crash in the supervised child
  // of the caller can then be attributed to the case), with the property's id.
  std::function<void(const Case&, const char* property)> before_case;

  // The prepared kernel and oracles of a spec, for callers that measure rather than judge (the
  // report sweep): the same objects the judge uses.  Valid until `capacity` other specs have
  // been asked for.
  const KernelRunner& runner(const rc_kernel_desc& kernel, const RopeSpec& spec);
  const ref::FastOracle& fast_oracle(const RopeSpec& spec);
  std::shared_ptr<const ref::FastOracle> fast_oracle_shared(const RopeSpec& spec);

  // Exact spot-checks made by the checked oracles of the specs still prepared (reports print it).
  uint64_t spot_checks() const;

 private:
  struct State;
  struct Prepared;
  Prepared& prepared(const RopeSpec& spec);
  Judgement decide(const rc_kernel_desc& kernel, const Property& property, const Case& c, bool exact_only);

  Options options_;
  std::unique_ptr<State> state_;
};

}  // namespace ropecheck::props

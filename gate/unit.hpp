// The gate's engine for one unit (kernel × spec): runs the property catalogue — for each
// property first a deterministic sweep of design.md's edge positions, then generated cases
// until a case count or a deadline (GateOptions::phase: only one of the two) — and reports, per property, how many cases were checked or skipped, the
// largest error/bound measured, and the shrunk counterexample of the first violation.
//
// Judging is the judge's (properties/judge.hpp): nothing here decides whether a kernel is
// right.  What is here is the search: which cases, in which order, within which time, and how
// a failure is made small.
//  - A failing sweep case is first reduced to the smallest failing edge position (each token
//    alone, in increasing position), then bisected down towards the largest edge position
//    below it that passes, then shrunk (fewest heads, no padding, fewest non-zero inputs).
//  - Generated cases are shrunk by RapidCheck.
//  - Every search and every shrink has a deadline: the unit's budget, at most
//    GateOptions::shrink_seconds per failure (a failure found at the very end still gets a
//    second), never past GateOptions::hard_deadline.  A shrink cut short says so.  The
//    shrunk case's verdict is its last judgement during shrinking, not a judgement more.
//  - A confirmed failure is passed to GateOptions::on_violation before it is shrunk.
//  - A failure that does not reproduce when run again is reported as such
//    (kernelIsDeterministic) and not shrunk: there is nothing stable to shrink.
//  - Besides the smallest failing case, the largest excess over the bound seen on the way
//    is kept: shrinking tends towards marginal cases (error/bound just above 1).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "properties/case.hpp"
#include "properties/catalogue.hpp"
#include "properties/judge.hpp"

namespace ropecheck::gate {

using props::Case;

struct PropertyOutcome {
  std::string property;
  int checked = 0;    // cases on which the property was evaluated and held (or failed)
  int skipped = 0;    // cases the property does not apply to (declared unsupported)
  int generated = 0;  // generated cases run (the sequence is a function of the seed; --cases N replays it)
  std::string skip_reason;  // the last reason a case was skipped (shown when nothing was checked)
  double worst_ratio = 0;   // max error / bound measured on the cases judged (bounded properties)
  bool worst_capped = false;  // ... on a pair whose bound is capped at kPairBoundCap·r

  bool failed = false;
  bool crash_class = false;      // out-of-bounds write or a throw: exit 3 rather than 1
  std::string finding_property;  // the property the finding names (kernelIsDeterministic when a failure did not reproduce)
  std::string differed_on;       // then: the property whose runs differed
  std::string reason, detail;    // of the (shrunk) counterexample
  std::optional<Case> counterexample;
  double failure_ratio = 0;      // error / bound of the counterexample (bounded properties)
  // The largest excess seen on a failing case (before or during shrinking), when it is well
  // above the shrunk counterexample's: the case that shows how wrong the kernel can be.
  std::optional<Case> worst_failure;
  double worst_failure_ratio = 0;
  std::string worst_failure_detail;
  bool shrink_cut = false;  // shrinking stopped at its deadline: the case may not be minimal
};

struct UnitResult {
  std::string kernel;
  std::string spec_name;
  std::vector<PropertyOutcome> properties;  // in catalogue order (filtered)
  double seconds = 0;
  std::string internal_error;  // an oracle disagreement or other ropecheck bug
  // Non-empty: the kernel's prepare (prepare2) refused the spec — "<status>: <its reason>".
  // Nothing more of the spec reaches the kernel: no case is generated for the unit after it.
  std::string refusal;
};

struct GateOptions {
  uint64_t seed = 1;
  int max_cases = -1;  // generated cases per property (−1: until the deadline)
  // No generated case starts after `deadline` (the gate's budget end), and no shrink candidate
  // after `hard_deadline` (the budget end plus the shrink deadline): a failure found later is
  // reported as found, the shrink cut.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point hard_deadline = std::chrono::steady_clock::time_point::max();
  double unit_budget_seconds = -1;  // ≥ 0: generated cases stop this long after the unit starts
  double shrink_seconds = 10;       // at most this long shrinking one failure
  // false: a failure is reported on the case it was found on, unshrunk (`ropecheck judge`: only
  // the recorded calls of a golden-vector file can be answered, a shrink candidate is not one).
  bool shrink = true;
  // Non-empty: these cases instead of the edge-position sweep (`ropecheck vectors --narrow`).
  std::vector<Case> sweep;
  std::vector<std::string> properties;  // empty: the whole catalogue
  bool random_specs = false;            // generate specs too (spec argument ignored for those)
  bool many_tokens = false;             // also judge agreement on many_tokens_case (once per kernel)
  // Called before each kernel call with the case about to run (isolation writes it down so
  // a crash can be attributed), and after each case (a heartbeat).
  std::function<void(const Case&, const char* property)> before_case;
  // Which cases: each property's sweep and then its generated cases (kAll), or only the
  // sweeps, or only the generated cases (the gate runs every unit's sweeps, in a child of their
  // own, before any generated case).  The calls a kernel gets keep their order in each.
  enum class Phase { kAll, kSweep, kGenerated } phase = Phase::kAll;
  // Called as soon as the judge confirms a failure, with the outcome on the case it was found
  // on, before shrinking (shrink_cut set): the gate prints it at once.
  std::function<void(const PropertyOutcome&)> on_violation;
  // Stop at the first confirmed failure: reported unshrunk, no property after it.
  bool fail_fast = false;
};

// Runs every selected property for `kernel` on `spec`.
UnitResult run_unit(const rc_kernel_desc& kernel, const RopeSpec& spec, const GateOptions& options);

// The deterministic cases of the sweep: the spec's edge positions within the kernel's
// range, grouped a few tokens per case, in increasing position, with fixed pseudo-random inputs.
std::vector<Case> sweep_cases(const rc_kernel_desc& kernel, const RopeSpec& spec, uint64_t seed);

// One round of shrinking without the kernel (`ropecheck vectors --narrow`): the failing case
// `c` and the cases shrink_case and smallest_failing_position would try first — each token
// alone (or one token less, keeping min_tokens), a head less, no padding, simpler positions
// (0, 1, powers of two below each), one pair alone — smallest first (tokens, heads, largest
// position, padding, non-zero inputs), without duplicates.  The first that fails is the
// smallest this round shows; the next round narrows around it.
std::vector<Case> narrowing_candidates(const Case& c, size_t min_tokens);

// One call of 65539 tokens (past a CUDA grid's 65535), every token with the first sweep case's
// first token's values and heads, positions cycling through the edge positions.
Case many_tokens_case(const rc_kernel_desc& kernel, const RopeSpec& spec, uint64_t seed);

// Greedy shrinking of a failing case: drop tokens (keeping at least min_tokens), heads and
// padding, and zero input components, as long as `fails` still holds and until `deadline`
// (*cut set when it stopped there).
Case shrink_case(Case c, size_t min_tokens, const std::function<bool(const Case&)>& fails,
                 std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
                 bool* cut = nullptr);

// The smallest position at which a one-token case with c's values fails: each token of `c`
// alone in increasing position, then a bisection between the first failing position and the
// largest position of `below` (sorted) under it that passes.  nullopt when no token fails
// alone (the failure needs several tokens).  Stops at `deadline`.
std::optional<Case> smallest_failing_position(const Case& c, const std::vector<int64_t>& below,
                                              const std::function<bool(const Case&)>& fails,
                                              std::chrono::steady_clock::time_point deadline);

}  // namespace ropecheck::gate

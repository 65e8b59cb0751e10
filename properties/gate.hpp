// The gate's engine: runs the property catalogue for one kernel over one spec — first a
// deterministic sweep of design.md's edge positions, then generated cases until a case
// count or a deadline — and reports, per property, how many cases were checked or skipped
// and the shrunk counterexample of the first violation.
//
// Judging: bounded properties use the fast oracle with spot-checks against the exact
// reference (CheckedOracle); a violation is re-judged with the exact reference before it
// is reported, so no failure is ever reported that exact mathematics does not confirm.
// The CLI (`ropecheck check`) wraps this with process isolation, sharding and reporting.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "properties/catalogue.hpp"
#include "properties/case.hpp"
#include "properties/judge.hpp"

namespace ropecheck::props {

struct PropertyOutcome {
  std::string property;
  int checked = 0;             // cases on which the property was evaluated and held (or failed)
  int skipped = 0;             // cases the property does not apply to (declared unsupported)
  bool failed = false;
  bool crash_class = false;    // out-of-bounds write: exit 3 rather than 1
  std::string finding_property;  // the property the finding names (kernelIsDeterministic when a failure did not reproduce)
  std::string reason, detail;  // of the (shrunk) counterexample
  std::optional<Case> counterexample;
  double worst_ratio = 0;      // max error / bound seen (bounded properties)
};

struct UnitResult {
  std::string kernel;
  std::string spec_name;
  std::vector<PropertyOutcome> properties;  // in catalogue order (filtered)
  double seconds = 0;
  std::string internal_error;  // an oracle disagreement or other ropecheck bug
};

struct GateOptions {
  uint64_t seed = 1;
  int max_cases = -1;  // generated cases per property (−1: until the deadline)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  double unit_budget_seconds = -1;  // ≥ 0: generated cases stop this long after the unit starts
  std::vector<std::string> properties;  // empty: the whole catalogue
  bool random_specs = false;            // generate specs too (spec argument ignored for those)
  // Called before each kernel call with the case about to run (isolation writes it down so
  // a crash can be attributed), and after each case (a heartbeat).
  std::function<void(const Case&, const char* property)> before_case;
};

// Runs every selected property for `kernel` on `spec`.
UnitResult run_unit(const rc_kernel_desc& kernel, const RopeSpec& spec, const GateOptions& options);

// Re-runs one property on one case, judging with the exact reference (no fast oracle): what
// `ropecheck repro` does with a saved counterexample.
Judgement replay(const rc_kernel_desc& kernel, const Property& property, const Case& c);

// The deterministic cases of the sweep: the spec's edge positions within the kernel's
// range, grouped a few tokens per case, with fixed pseudo-random inputs.
std::vector<Case> sweep_cases(const rc_kernel_desc& kernel, const RopeSpec& spec, uint64_t seed);

// Greedy shrinking of a failing case: drop tokens (keeping at least min_tokens), heads and
// padding, and zero input components, as long as `fails` still holds.
Case shrink_case(Case c, size_t min_tokens, const std::function<bool(const Case&)>& fails);

// The default spec set of the gate: every variant and both layouts, partial rotary, and
// real model configurations.
std::vector<RopeSpec> default_gate_specs();

}  // namespace ropecheck::props

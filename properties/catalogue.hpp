// The property catalogue of design.md, written once and reused by the RapidCheck tests
// (properties/tests), the gate (`ropecheck check`), the fuzzers and the reports.
//
// Each property is a plain function of (kernel runner, oracle, case) that returns a Verdict;
// the callers decide how cases are generated and what a failure does.  Bounds come from the
// error model (the kernel's declared accuracy contract, reference/error_model.hpp); the
// exact properties (bit-identity under permutation, placement, strides, determinism,
// pass-through, power-of-two scaling) have no tolerance at all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "properties/case.hpp"
#include "properties/runner.hpp"
#include "reference/oracle.hpp"

namespace ropecheck::props {

struct Verdict {
  enum class Kind { kPass, kFail, kSkip };
  Kind kind = Kind::kPass;
  std::string reason;       // skip: why; fail: one line
  std::string detail;       // fail: the evidence (inputs, expected, actual, bound in hexfloat)
  double worst_ratio = 0;   // max over the case of error / bound (bounded properties)
  double worst_ulp = 0;     // max error in ulp of the pair norm (bounded properties)

  bool passed() const { return kind == Kind::kPass; }
  bool failed() const { return kind == Kind::kFail; }
  static Verdict skip(std::string why) { return {Kind::kSkip, std::move(why), "", 0, 0}; }
  static Verdict fail(std::string why, std::string detail) {
    return {Kind::kFail, std::move(why), std::move(detail), 0, 0};
  }
};

// What a property may use: the kernel (prepared for case.spec) and an oracle for case.spec.
struct Context {
  const KernelRunner& runner;
  const ref::Oracle& oracle;
};

using PropertyFn = Verdict (*)(const Context&, const Case&);

struct Property {
  const char* id;        // sentence-named, e.g. "rotationPreservesPairNorm"
  const char* summary;   // what it checks, one line
  PropertyFn fn;
  bool needs_two_tokens; // judges a score between token 0 and token 1
};

const std::vector<Property>& catalogue();
const Property* find_property(std::string_view id);  // nullptr if unknown

}  // namespace ropecheck::props

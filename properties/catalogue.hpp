// The property catalogue of design.md, written once and reused by the RapidCheck tests
// (properties/tests), the gate (`ropecheck check`), the fuzzers and the reports.
//
// Each property is a plain function of (kernel runner, oracle, case) that returns a Verdict;
// the callers decide how cases are generated and what a failure does.  Bounds come from the
// error model (the kernel's declared accuracy contract, reference/error_model.hpp); the
// exact properties (bit-identity under permutation, placement, strides, determinism,
// pass-through, power-of-two scaling) have no tolerance at all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
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
  bool worst_capped = false;  // the worst ratio is on a pair whose bound is capped (kPairBoundCap)
  // A failed agreement: the pair shown as evidence (token, head, pair index), which the exact
  // reference re-judges alone (Property::confirm).  -1: none.
  int64_t fail_token = -1, fail_head = -1;
  int fail_pair = -1;

  bool passed() const { return kind == Kind::kPass; }
  bool failed() const { return kind == Kind::kFail; }
  static Verdict skip(std::string why) {
    Verdict v;
    v.kind = Kind::kSkip;
    v.reason = std::move(why);
    return v;
  }
  static Verdict fail(std::string why, std::string detail) {
    Verdict v;
    v.kind = Kind::kFail;
    v.reason = std::move(why);
    v.detail = std::move(detail);
    return v;
  }
};

class RecipeView;  // properties/recipe_view.hpp

// What a property may use: the kernel (prepared for case.spec) and an oracle for case.spec;
// and the kernel's recipe view for case.spec, which the judge builds once per kernel and spec
// for the properties that ask for it (Property::needs_recipe_view; nullptr: the property
// builds its own from the oracle when it can).
struct Context {
  const KernelRunner& runner;
  const ref::Oracle& oracle;
  const RecipeView* recipe = nullptr;
  // The oracle of another spec, of the same kind as `oracle` (fast or exact): the judge's
  // prepared one.  A call at a sequence length of its own (Case::seq_len, RC_FEATURE_SEQ_LEN)
  // is judged against the spec with that seq_len.  Empty: the property builds one itself.
  std::function<const ref::Oracle&(const RopeSpec&)> oracle_for = {};
  // The contract's bounds for such a call's spec; nullptr: runner.bounds() (case.spec's).
  const ref::PairBounds* bounds = nullptr;
};

using PropertyFn = Verdict (*)(const Context&, const Case&);

// Re-judges with the exact reference (ctx.oracle) a violation `fast` found with the fast
// oracle, on the same kernel outputs: fail if the exact reference confirms it.
using ConfirmFn = Verdict (*)(const Context&, const Case&, const Verdict& fast);

struct Property {
  const char* id;        // sentence-named, e.g. "rotationPreservesPairNorm"
  const char* summary;   // what it checks, one line
  PropertyFn fn;
  bool needs_two_tokens; // judges a score between token 0 and token 1
  // nullptr: the exact re-judgement evaluates the whole property again with the exact
  // reference.  The agreement property confirms only the pair it reported: one pair over its
  // bound is a violation, and a call of 65539 tokens has four million pairs.
  ConfirmFn confirm = nullptr;
  // The judge builds the kernel's recipe view (properties/recipe_view.hpp: one inference of θ̂
  // per kernel and spec, the report's) and passes it in Context::recipe.  A property that
  // needs it is skipped, with the view's reason, where the view is unavailable (an `other`
  // recipe); the gate says that reason once per kernel.
  bool needs_recipe_view = false;
  // An ABI 2 feature (RC_FEATURE_*) without which the property does not apply (it skips every
  // case, saying so); 0: it applies to every kernel.
  uint32_t feature = 0;
};

// The id of the property that judges a kernel against its own declared angle recipe.
inline constexpr const char* kOwnRecipeProperty = "agreesWithOwnRecipeWithinSinCosBound";
// How the skip reason of a property that needs the recipe view begins where the view is
// unavailable (the gate says such a reason once per kernel).
inline constexpr const char* kRecipeUnavailable = "recipe view unavailable: ";

const std::vector<Property>& catalogue();

// One rotated pair of one kernel run, measured against the oracle (error metric and bound
// from reference/error_model.hpp).
struct PairMeasurement {
  int64_t token = 0, head = 0;
  int pair = 0;
  int64_t t = 0;
  size_t i0 = 0, i1 = 0;     // indices of the pair's components in Case::x / RunOutput::y
  double r = 0;              // a·‖(x0, x1)‖
  double exact[2] = {0, 0};  // the oracle's result, rounded to double
  double err = 0;            // ‖y − y_exact‖ (against the oracle's double-double)
  double bound = 0;          // the contract's bound for this pair
  double ulps = 0, bound_ulps = 0;  // err and bound in ulp of r in the output dtype
};

// Runs the kernel once on `c` (out of place) and calls `visit` for every rotated pair, in
// token, head, pair order, until it returns false.  Returns a Verdict only when the run
// itself fails or is skipped (unsupported case, refusal, out-of-bounds write, changed
// pass-through component); nullopt when every visited pair was measured.  The agreement
// property and the reports are both built on this.  `out` (optional) receives the run.
std::optional<Verdict> measure_agreement(const Context& ctx, const Case& c,
                                         const std::function<bool(const PairMeasurement&)>& visit,
                                         RunOutput* out = nullptr);
const Property* find_property(std::string_view id);  // nullptr if unknown

// Calls property.fn; a kernel that throws through the C ABI (KernelThrew) fails it with a
// crash-class reason instead of escaping.  Other exceptions (ropecheck's own) propagate.
Verdict evaluate(const Property& property, const Context& ctx, const Case& c);

// Calls property.confirm (which must be set), as evaluate calls property.fn.
Verdict confirm(const Property& property, const Context& ctx, const Case& c, const Verdict& fast);

// Whether a failure reason is crash-class (exit 3: an out-of-bounds write, or a kernel that
// threw) rather than a numerical violation (exit 1).
bool is_crash_reason(std::string_view reason);

}  // namespace ropecheck::props

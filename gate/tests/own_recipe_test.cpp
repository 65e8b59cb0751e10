// The own-recipe property (agreesWithOwnRecipeWithinSinCosBound, properties/catalogue.cpp) as
// the gate runs it (gate/unit: edge sweep, smallest failing position, generated cases, all
// judged by props::Judge), on the test plugins of impl/tests/plugins/own_recipe_plugins.c and
// the built-in kernels; and the ABI 2 per-pair angle contract (theta_rel_error_per_pair).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "gate/campaign.hpp"
#include "gate/unit.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/judge.hpp"
#include "properties/recipe_view.hpp"
#include "reference/error_model.hpp"
#include "reference/exact_reference.hpp"

namespace ropecheck::gate {
namespace {

constexpr const char* kAgreement = "agreesWithExactReferenceWithinContract";

RopeSpec default_spec(int d = 128, Layout layout = Layout::kHalfSplit) {
  RopeSpec s;
  s.name = "default-d" + std::to_string(d);
  s.head_dim = s.rotary_dim = d;
  s.base = 10000;
  s.layout = layout;
  return s;
}

// The plugins' kernels, loaded through the C ABI as a user's are.
const impl::KernelSet& kernels() {
  static const impl::KernelSet set = [] {
    impl::KernelSet s = impl::KernelSet::with_builtins();
    impl::load_plugin(s, FAST_SIN_PLUGIN);
    impl::load_plugin(s, GGML_THETA_PLUGIN);
    return s;
  }();
  return set;
}
const rc_kernel_desc& kernel(const char* name) {
  const impl::Kernel* k = kernels().find(name);
  if (k == nullptr) throw std::runtime_error(std::string("no kernel ") + name);
  return *k->desc;
}

PropertyOutcome run_property(const rc_kernel_desc& k, const RopeSpec& spec, const char* property, int cases) {
  GateOptions o;
  o.seed = 1;
  o.max_cases = cases;
  o.shrink_seconds = 30;
  o.properties = {property};
  const UnitResult r = run_unit(k, spec, o);
  EXPECT_TRUE(r.internal_error.empty()) << r.internal_error;
  if (r.properties.size() != 1) throw std::runtime_error("expected one property outcome");
  return r.properties.front();
}

TEST(OwnRecipe, IsInTheCatalogueAndAsksTheJudgeForTheRecipeView) {
  const props::Property* p = props::find_property(props::kOwnRecipeProperty);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->needs_recipe_view);
  EXPECT_NE(p->confirm, nullptr);  // confirmed pair by pair by the exact reference
}

// A correct fp32 kernel (the HF recipe, built in) holds against its own recipe: edge sweep and
// generated cases, both layouts.
TEST(OwnRecipe, ScalarF32HfHoldsAgainstItsOwnRecipe) {
  for (Layout layout : {Layout::kHalfSplit, Layout::kInterleaved}) {
    const PropertyOutcome o = run_property(kernel("scalar_f32_hf"), default_spec(128, layout), props::kOwnRecipeProperty, 60);
    EXPECT_FALSE(o.failed) << o.reason << "\n" << o.detail;
    EXPECT_GE(o.checked, 60) << o.skip_reason;
    EXPECT_GT(o.worst_ratio, 0.0);
    EXPECT_LE(o.worst_ratio, 1.0);
  }
}

// A fast sin/cos with a naive float range reduction, declared as the HF fp32 recipe up to 2^24:
// the own-recipe property fails, at a position <= 2^12 (the gate's smallest failing position),
// confirmed by the exact reference (else the judge reports an internal error, asserted absent
// by run_property).  The exact-math bound, which grows with t*theta, does not see it.
TEST(OwnRecipe, FastSinWithNaiveReductionFailsAtASmallPosition) {
  const rc_kernel_desc& k = kernel("fast_sin_naive_f32");
  const PropertyOutcome o = run_property(k, default_spec(), props::kOwnRecipeProperty, 25);
  ASSERT_TRUE(o.failed);
  EXPECT_FALSE(o.crash_class);
  EXPECT_EQ(o.finding_property, props::kOwnRecipeProperty);
  ASSERT_TRUE(o.counterexample);
  ASSERT_EQ(o.counterexample->positions.size(), 1u) << props::describe(*o.counterexample);
  const int64_t t = o.counterexample->positions[0];
  EXPECT_LE(t, 4096) << o.detail;
  EXPECT_GT(t, 1);  // at t <= 1 every angle is below pi: nothing is reduced
  EXPECT_GT(o.failure_ratio, 1.0);
  EXPECT_NE(o.detail.find("recipe angle fl(t*theta^_j)"), std::string::npos) << o.detail;
  std::printf("fast_sin_naive_f32: smallest failing position %lld, %.3gx the own-recipe bound\n",
              static_cast<long long>(t), o.failure_ratio);

  const PropertyOutcome exact = run_property(k, default_spec(), kAgreement, 25);
  EXPECT_FALSE(exact.failed) << exact.reason << "\n" << exact.detail;
  EXPECT_GT(exact.checked, 0);
}

// A kernel whose recipe is `other` cannot be re-derived: every case is skipped with the view's
// reason, and the gate says it once per kernel (text output and JSON: recipe_notes).
TEST(OwnRecipe, OtherRecipeIsSkippedWithAReasonSaidOncePerKernel) {
  static rc_kernel_desc other = kernel("scalar_f32_hf");
  other.name = "hf_declared_other";
  other.accuracy.angle_recipe = RC_ANGLE_OTHER;
  props::Judge judge;
  std::vector<Case> sweep = sweep_cases(other, default_spec(), 1);
  ASSERT_FALSE(sweep.empty());
  const props::Judgement j = judge.judge(other, *props::find_property(props::kOwnRecipeProperty), sweep.front());
  EXPECT_EQ(j.finding, props::Finding::kSkip);
  EXPECT_EQ(j.reason.rfind(props::kRecipeUnavailable, 0), 0u) << j.reason;
  EXPECT_NE(j.reason.find("other"), std::string::npos) << j.reason;

  impl::Kernel ko{&other, "built-in"};
  CampaignOptions c;
  c.kernels = {&ko};
  c.specs = {default_spec(64), default_spec(128, Layout::kInterleaved)};
  c.properties = {props::kOwnRecipeProperty, kAgreement};
  c.cases = 5;
  c.isolation = false;
  c.out_dir = ::testing::TempDir() + "/own_recipe_other";
  const CampaignResult r = run_campaign(c);
  EXPECT_EQ(r.tally.exit_code(), 0);
  ASSERT_EQ(r.recipe_notes.size(), 1u);  // two units, one note
  EXPECT_NE(r.recipe_notes.at("hf_declared_other").find(props::kOwnRecipeProperty), std::string::npos);
  EXPECT_EQ(r.cells.at("hf_declared_other").at(props::kOwnRecipeProperty).status(), "n/a");
  const std::string json = gate_json(r, c, {});
  EXPECT_NE(json.find("\"recipe_notes\""), std::string::npos);
  EXPECT_NE(json.find("recipe view unavailable"), std::string::npos);
}

// ggml's iterated theta *= theta_scale.  Under the per-pair contract (theta_rel_error 0,
// 3u per pair) it holds against exact math and against its own recipe; the same kernel declared
// as the plain HF fp32 recipe (4u, per pair 0) fails.
TEST(PerPairContract, GgmlIteratedThetaHoldsUnderItAndFailsAsPlainHf) {
  const RopeSpec spec = default_spec();
  for (const char* p : {kAgreement, props::kOwnRecipeProperty}) {
    const PropertyOutcome o = run_property(kernel("ggml_theta_f32"), spec, p, 60);
    EXPECT_FALSE(o.failed) << p << ": " << o.reason << "\n" << o.detail;
    EXPECT_GE(o.checked, 60) << p;
  }
  const PropertyOutcome own = run_property(kernel("ggml_theta_as_hf_f32"), spec, props::kOwnRecipeProperty, 60);
  EXPECT_TRUE(own.failed);
  EXPECT_EQ(own.finding_property, props::kOwnRecipeProperty);
  ASSERT_TRUE(own.counterexample);
  std::printf("ggml_theta_as_hf_f32 fails %s: %s\n", props::kOwnRecipeProperty, props::describe(*own.counterexample).c_str());
}

// The per-pair term is the error model's (reference/error_model.cpp): pair j's angle term grows
// by t*theta_j*j*3u, pair 0's has none; and the recipe view keeps exactly that term.
TEST(PerPairContract, BoundGrowsWithThePairIndexAndIsZeroAtPairZero) {
  const rc_kernel_desc& k = kernel("ggml_theta_f32");
  const RopeSpec spec = default_spec();
  const ref::ExactReference exact(spec);
  const int64_t t = 1 << 20;
  const double u = 0x1p-24, r = 1.0;
  const ref::PairBound b0 = ref::pair_error_bound(k, spec, 0, t, exact.theta(0), r, 1.0);
  EXPECT_EQ(b0.dphi, 0.0);  // t^ exact, theta_0 = 1 exact, no per-pair term at j = 0
  for (int j : {1, 10, 63}) {
    const ref::PairBound bj = ref::pair_error_bound(k, spec, j, t, exact.theta(j), r, 1.0);
    const double per_pair = static_cast<double>(t) * exact.theta(j) * j * 3.0 * u;
    EXPECT_GE(bj.dphi, per_pair);
    EXPECT_LE(bj.dphi, per_pair * 1.5) << "pair " << j;  // the rest is the exponent's rounding
    const props::KernelRunner runner(k, spec);
    const props::RecipeView view(runner, exact);
    ASSERT_EQ(view.kind(), props::RecipeView::Kind::kInferred) << view.note();
    EXPECT_TRUE(view.verified()) << view.note();
    EXPECT_DOUBLE_EQ(view.residual_angle(t, j, exact.theta(j)), per_pair);
  }
}

}  // namespace
}  // namespace ropecheck::gate

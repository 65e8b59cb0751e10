// The property catalogue (properties/catalogue.cpp) over every built-in kernel, and the ABI 2
// vLLM-style sample plugin (impl/sample_plugin/vllm_style_plugin.c: q/k calls, a cos/sin cache,
// inverse calls and rotary offsets), which its cases exercise where no built-in kernel can.  Each
// RC_GTEST_PROP draws, for every registered kernel, a case within what that kernel declares
// (properties/generators.hpp) and asserts the property; bounds come from the kernel's
// declared accuracy contract.  A failure prints the shrunk case as JSON and the command that
// replays it.  RC_PARAMS (e.g. "max_success=1000 seed=42") scales or replays a run.
// Judging uses the fast oracle (validated against the exact reference in
// reference/tests/fast_oracle_test.cpp); the judge (properties/judge.hpp) re-judges a
// failure by the exact reference on the outputs the kernel gave, as in the gate.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdio>

#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/generators.hpp"
#include "properties/counterexample.hpp"
#include "properties/judge.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace ropecheck::props {
namespace {

// One judge for the whole run: it keeps kernels and oracles prepared by (kernel, spec), so
// RapidCheck's shrinking — which re-runs the property on many nearby cases with the same spec
// — does not rebuild cos/sin tables and frequencies every time, and it confirms a failure with
// the exact reference on the outputs the kernel gave, as the gate does.
Judge& judge() {
  static Judge j(Judge::Options{256, 1000, true});
  return j;
}

// Per property run in this process: how many kernel cases were judged (not skipped).  A
// property every kernel skipped in every case would pass having checked nothing; the
// environment below fails the run then.
std::map<std::string, long>& judged() {
  static std::map<std::string, long> m;
  return m;
}

class EveryPropertyJudgedSomething : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [id, n] : judged()) EXPECT_GT(n, 0) << id << " was skipped by every kernel in every case";
  }
};
const auto* const kJudgedCheck = ::testing::AddGlobalTestEnvironment(new EveryPropertyJudgedSomething);

// The kernels every property is checked on: the built-in ones, the vLLM-style sample, and the
// correct twin with the sequence length per call (RC_FEATURE_SEQ_LEN, longrope; no built-in
// kernel declares it).
const std::vector<const rc_kernel_desc*>& kernels() {
  static const impl::KernelSet set = [] {
    impl::KernelSet s = impl::KernelSet::with_builtins();
    impl::load_plugin(s, VLLM_STYLE_PLUGIN);
    impl::load_plugin(s, CONTROL_SEQ_LEN_TWIN);
    impl::load_plugin(s, CONTROL_MROPE_TWIN);  // positions per axis (M-RoPE, issue 17)
    return s;
  }();
  static const std::vector<const rc_kernel_desc*> all = [] {
    std::vector<const rc_kernel_desc*> v;
    for (const impl::Kernel& k : set.all()) v.push_back(k.desc);
    return v;
  }();
  return all;
}

void check_every_kernel(const char* property_id) {
  const Property* p = find_property(property_id);
  RC_ASSERT(p != nullptr);
  long& judged_here = judged()[property_id];
  // Coverage over the kernels' cases of this test case (printed by RapidCheck).
  int skipped = 0;
  bool long_position = false, partial = false, padded = false, scaled = false, inverse = false, offset = false;
  bool axes = false;
  for (const rc_kernel_desc* d : kernels()) {
    gen::Constraints k = gen::Constraints::of(*d);
    if (p->needs_two_tokens) k.max_heads = 1;
    const Case c = *gen::case_for(k);
    const Judgement v = judge().judge(*d, *p, c);
    // ropecheck's own failure (e.g. a fast-oracle violation the exact reference does not
    // confirm) fails this test too: never a pass.
    if (v.finding == Finding::kInternal) RC_FAIL(std::string("ropecheck internal error: ") + d->name + ": " + v.reason);
    if (v.finding == Finding::kSkip) {
      ++skipped;
    } else {
      ++judged_here;
    }
    long_position |= *std::max_element(c.positions.begin(), c.positions.end()) >= (int64_t{1} << 31);
    partial |= c.spec.rotary_dim < c.spec.head_dim;
    padded |= c.head_pad > 0 || c.token_pad > 0;
    scaled |= c.spec.type != RopeType::kDefault;
    inverse |= c.inverse;
    offset |= c.rotary_offset != 0;
    axes |= !c.axis_positions.empty() && v.finding != Finding::kSkip;
    if (v.failed()) {
      // Save the case where `ropecheck repro` reads it; RapidCheck re-runs shrunk candidates,
      // so the file ends up holding the smallest failing case.
      std::set<std::string> taken;  // one file per kernel and property: the last (smallest) case wins
      const std::string path = save_counterexample(::testing::TempDir() + "ropecheck-failures",
                                                   counterexample_of(v, d->name, "", c), taken);
      RC_FAIL(std::string(d->name) + " violates " + v.property + ": " + v.reason + "\n" + v.detail +
              "\n  reproduce: ropecheck repro " + path);
    }
  }
  RC_CLASSIFY(long_position, "t >= 2^31");
  RC_CLASSIFY(partial, "partial rotary");
  RC_CLASSIFY(padded, "padded strides");
  RC_CLASSIFY(scaled, "scaled variant");
  RC_CLASSIFY(skipped > 0, "some kernel skipped");
  RC_CLASSIFY(inverse, "inverse call");
  RC_CLASSIFY(offset, "rotary offset");
  RC_CLASSIFY(axes, "positions per axis judged");
}

#define ROPECHECK_CATALOGUE_PROP(id) \
  RC_GTEST_PROP(Catalogue, id, ()) { check_every_kernel(#id); }

ROPECHECK_CATALOGUE_PROP(agreesWithExactReferenceWithinContract)
ROPECHECK_CATALOGUE_PROP(scoreMatchesClosedFormInRelativePosition)
ROPECHECK_CATALOGUE_PROP(scoreIsInvariantUnderCommonShift)
ROPECHECK_CATALOGUE_PROP(rotationPreservesPairNormTimesAttentionFactor)
ROPECHECK_CATALOGUE_PROP(rotationCommutesWithComplexUnit)
ROPECHECK_CATALOGUE_PROP(positionZeroIsIdentityTimesAttentionFactor)
ROPECHECK_CATALOGUE_PROP(powerOfTwoScalingIsBitExact)
ROPECHECK_CATALOGUE_PROP(interleavedEqualsPermutedHalfSplit)
ROPECHECK_CATALOGUE_PROP(tokensAndHeadsAreIndependent)
ROPECHECK_CATALOGUE_PROP(inPlaceEqualsOutOfPlace)
ROPECHECK_CATALOGUE_PROP(passThroughDimsAreBitIdentical)
ROPECHECK_CATALOGUE_PROP(kernelIsDeterministic)
ROPECHECK_CATALOGUE_PROP(stridedEqualsContiguous)
ROPECHECK_CATALOGUE_PROP(nonFiniteInputStaysInItsPair)
ROPECHECK_CATALOGUE_PROP(agreesWithOwnRecipeWithinSinCosBound)
ROPECHECK_CATALOGUE_PROP(positionsBeyondMaximumAreRefused)
ROPECHECK_CATALOGUE_PROP(inverseUndoesRotation)
ROPECHECK_CATALOGUE_PROP(frequenciesFollowTheSequenceLength)

// Every property in the catalogue has a registered Catalogue.<id> test above (a new property
// cannot be forgotten), and every such test names a catalogue property.
TEST(Catalogue, EveryPropertyIsTested) {
  std::set<std::string> registered;
  const ::testing::UnitTest& all = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < all.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *all.GetTestSuite(i);
    if (std::string(suite.name()) != "Catalogue") continue;
    for (int j = 0; j < suite.total_test_count(); ++j) registered.insert(suite.GetTestInfo(j)->name());
  }
  registered.erase("EveryPropertyIsTested");
  std::set<std::string> ids;
  for (const Property& p : catalogue()) ids.insert(p.id);
  EXPECT_EQ(registered, ids);
}

// check, report and fuzz refuse a kernel set for the first kernel whose contract would let
// anything pass; the built-in kernels' contracts are all plausible.
TEST(ImplausibleContract, TheSetIsRefusedForItsFirstImplausibleKernel) {
  const impl::KernelSet set = impl::KernelSet::with_builtins();
  std::vector<const rc_kernel_desc*> kernels;
  for (const impl::Kernel& k : set.all()) kernels.push_back(k.desc);
  ASSERT_FALSE(kernels.empty());
  EXPECT_EQ(reject_implausible(kernels), "");
  EXPECT_EQ(reject_implausible({}), "");
  rc_kernel_desc vague = *kernels.front(), vaguer = *kernels.front();
  vague.name = "vague";
  vague.accuracy.reduced_angle_abs_error = 1.0;
  vaguer.name = "vaguer";
  vaguer.accuracy.reduced_angle_abs_error = 2.0;
  kernels.insert(kernels.begin() + 1, &vague);
  kernels.push_back(&vaguer);
  const std::string why = reject_implausible(kernels);
  EXPECT_EQ(why, implausible_contract(vague));
  EXPECT_EQ(why.rfind("kernel vague: its accuracy contract allows an error of", 0), 0u) << why;
}

}  // namespace
}  // namespace ropecheck::props

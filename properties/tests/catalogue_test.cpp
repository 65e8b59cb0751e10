// The property catalogue (properties/catalogue.cpp) over every built-in kernel.  Each
// RC_GTEST_PROP draws, for every registered kernel, a case within what that kernel declares
// (properties/generators.hpp) and asserts the property; bounds come from the kernel's
// declared accuracy contract.  A failure prints the shrunk case as JSON and the command that
// replays it.  RC_PARAMS (e.g. "max_success=1000 seed=42") scales or replays a run.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdio>

#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/generators.hpp"
#include "reference/exact_reference.hpp"

namespace ropecheck::props {
namespace {

void check_every_kernel(const char* property_id) {
  const Property* p = find_property(property_id);
  RC_ASSERT(p != nullptr);
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    gen::Constraints k = gen::Constraints::of(*d);
    if (p->needs_two_tokens) k.max_heads = 1;
    const Case c = *gen::case_for(k);
    const KernelRunner runner(*d, c.spec);
    const ref::ExactReference oracle(c.spec);
    const Verdict v = p->fn(Context{runner, oracle}, c);
    RC_TAG(std::string(d->name), v.kind == Verdict::Kind::kSkip ? "skipped" : "checked");
    if (v.failed()) {
      RC_FAIL(std::string(d->name) + " violates " + p->id + ": " + v.reason + "\n" + v.detail);
    }
  }
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
ROPECHECK_CATALOGUE_PROP(positionsBeyondMaximumAreRefused)

// Every property in the catalogue has a test above (a new property cannot be forgotten).
TEST(Catalogue, EveryPropertyIsTested) {
  const char* tested[] = {"agreesWithExactReferenceWithinContract", "scoreMatchesClosedFormInRelativePosition",
                          "scoreIsInvariantUnderCommonShift", "rotationPreservesPairNormTimesAttentionFactor",
                          "rotationCommutesWithComplexUnit", "positionZeroIsIdentityTimesAttentionFactor",
                          "powerOfTwoScalingIsBitExact", "interleavedEqualsPermutedHalfSplit",
                          "tokensAndHeadsAreIndependent", "inPlaceEqualsOutOfPlace",
                          "passThroughDimsAreBitIdentical", "kernelIsDeterministic", "stridedEqualsContiguous",
                          "nonFiniteInputStaysInItsPair", "positionsBeyondMaximumAreRefused"};
  EXPECT_EQ(catalogue().size(), std::size(tested));
  for (const char* id : tested) EXPECT_NE(find_property(id), nullptr) << id;
}

}  // namespace
}  // namespace ropecheck::props

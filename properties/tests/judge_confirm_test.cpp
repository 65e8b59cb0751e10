// Judge::confirm (properties/judge.hpp): a failure a caller saw without judging (the report
// sweep's batched, threaded measurement) is judged again and is never answered with a pass —
// a kernel that holds when judged answered the same call two ways (kernelIsDeterministic), a
// case the kernel does not declare is the caller's error (internal), a real violation stays one.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "impl/registry.hpp"
#include "properties/judge.hpp"

namespace ropecheck::props {
namespace {

const rc_kernel_desc& scalar_f64() {
  static const impl::KernelSet builtins = impl::KernelSet::with_builtins();
  const impl::Kernel* k = builtins.find("scalar_f64");
  if (k == nullptr) throw std::runtime_error("scalar_f64 is not registered");
  return *k->desc;
}

// scalar_f64 with the first component of every output off by one: wrong on every call.
int off_by_one_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                     int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  const int rc = scalar_f64().apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
  if (rc == 0 && n_tokens > 0 && n_heads > 0) static_cast<double*>(out)[0] += 1.0;
  return rc;
}

Case make_case(int64_t t) {
  Case c;
  c.spec.head_dim = c.spec.rotary_dim = 8;
  c.spec.base = 10000;
  c.spec.max_position_embeddings = 4096;
  c.positions = {t};
  for (int i = 0; i < 8; ++i) c.x.push_back(0.25 + i);
  return c;
}

const Property& agreement() { return *find_property("agreesWithExactReferenceWithinContract"); }

TEST(JudgeConfirm, AFailureThatDoesNotReproduceIsTheFindingKernelIsDeterministic) {
  Judge judge;
  const Judgement j = judge.confirm(scalar_f64(), agreement(), make_case(1000), "the sweep measured 9 ulp > 1 ulp");
  EXPECT_EQ(j.finding, Finding::kViolation) << j.reason;
  EXPECT_EQ(j.property, "kernelIsDeterministic");
  EXPECT_NE(j.reason.find("the sweep measured 9 ulp > 1 ulp"), std::string::npos) << j.reason;
  // judge() on the same case: the kernel is right, a pass.
  EXPECT_EQ(judge.judge(scalar_f64(), agreement(), make_case(1000)).finding, Finding::kPass);
}

TEST(JudgeConfirm, ARealViolationIsConfirmedAsItself) {
  rc_kernel_desc d = scalar_f64();
  d.name = "off_by_one";
  d.apply = off_by_one_apply;
  d.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  Judge judge;
  const Judgement j = judge.confirm(d, agreement(), make_case(1000), "seen");
  EXPECT_EQ(j.finding, Finding::kViolation) << j.reason;
  EXPECT_EQ(j.property, "agreesWithExactReferenceWithinContract");
}

TEST(JudgeConfirm, AFailureSeenOnACaseTheKernelDoesNotDeclareIsInternal) {
  rc_kernel_desc d = scalar_f64();
  d.name = "short_range";
  d.max_position = 100;
  Judge judge;
  const Judgement j = judge.confirm(d, agreement(), make_case(1000), "seen");
  EXPECT_EQ(j.finding, Finding::kInternal) << j.reason;
  EXPECT_NE(j.reason.find("does not declare"), std::string::npos) << j.reason;
}

}  // namespace
}  // namespace ropecheck::props

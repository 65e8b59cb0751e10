// KernelRunner and ABI 2 (impl/ropecheck_kernel.h): an ABI 2 kernel is called through apply2
// with a call record — q alone for now, int64 or int32 positions as it declares — and its
// refusal reasons reach the verdicts; an ABI 1 kernel keeps being called through apply.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/judge.hpp"
#include "properties/runner.hpp"

namespace ropecheck::props {
namespace {

const rc_kernel_desc& scalar_f64() {
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    if (std::strcmp(d->name, "scalar_f64") == 0) return *d;
  }
  throw std::runtime_error("scalar_f64 is not registered");
}

// What the last apply2 call looked like.
int32_t g_position_dtype = 0;
std::vector<int64_t> g_positions;

// scalar_f64 behind apply2: reads the record, refuses what it does not take, saying why.
int wrapped_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  g_position_dtype = call->position_dtype;
  g_positions.clear();
  for (int64_t k = 0; k < call->n_tokens; ++k) {
    g_positions.push_back(call->position_dtype == RC_DTYPE_I32 ? static_cast<const int32_t*>(call->positions)[k]
                                                               : static_cast<const int64_t*>(call->positions)[k]);
  }
  if (call->k.in != nullptr || call->cos != nullptr || call->inverse || call->rotary_offset) {
    std::snprintf(call->reason, static_cast<size_t>(call->reason_size), "%s", "q only");
    return RC_ERR_UNSUPPORTED;
  }
  if (call->q.token_stride != call->q.out_token_stride || call->q.head_stride != call->q.out_head_stride) {
    return RC_ERR_SHAPE;
  }
  for (int64_t k = 0; k < call->n_tokens; ++k) {
    if (g_positions[static_cast<size_t>(k)] == 12345) {
      std::snprintf(call->reason, static_cast<size_t>(call->reason_size), "%s", "12345 is not a position I like");
      return RC_ERR_POSITION;
    }
  }
  return scalar_f64().apply(spec, handle, g_positions.data(), call->n_tokens, call->q.n_heads, call->q.token_stride,
                            call->q.head_stride, call->q.in, call->q.out);
}

int refusing_prepare2(const rc_spec*, void**, char* reason, int32_t size) {
  std::snprintf(reason, static_cast<size_t>(size), "%s", "no handle for you");
  return RC_ERR_SPEC;
}

rc_kernel_desc abi2_kernel() {
  rc_kernel_desc d = scalar_f64();
  d.name = "abi2_wrapped";
  d.abi_version = RC_ABI_2;
  d.prepare = nullptr;
  d.release = nullptr;
  d.apply = nullptr;  // optional in ABI 2: never called
  d.features = RC_FEATURE_Q_ONLY;
  d.position_dtypes = RC_POSITIONS_I64;
  d.cache = RC_CACHE_NONE;
  d.cache_dtype = 0;
  d.theta_rel_error_per_pair = 0;
  d.prepare2 = nullptr;
  d.apply2 = wrapped_apply2;
  return d;
}

Case make_case(std::vector<int64_t> positions) {
  Case c;
  c.spec.head_dim = c.spec.rotary_dim = 8;
  c.spec.max_position_embeddings = 4096;
  c.positions = std::move(positions);
  c.n_heads = 2;
  c.head_pad = 1;
  for (size_t i = 0; i < c.positions.size() * 16; ++i) c.x.push_back(0.25 + static_cast<double>(i));
  return c;
}

TEST(RunnerAbi2, AnAbi2KernelIsCalledThroughApply2AndAgreesWithItsAbi1Self) {
  const rc_kernel_desc d = abi2_kernel();
  const Case c = make_case({3, 70000});
  const KernelRunner v2(d, c.spec), v1(scalar_f64(), c.spec);
  ASSERT_EQ(v2.unsupported_reason(c), "");
  const RunOutput a = v2.run(c), b = v1.run(c);
  ASSERT_EQ(a.status, 0) << a.refusal_reason;
  EXPECT_EQ(g_position_dtype, RC_DTYPE_I64);
  EXPECT_EQ(g_positions, c.positions);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.out_of_bounds, "");
}

TEST(RunnerAbi2, Int32PositionsArePassedAsInt32) {
  rc_kernel_desc d = abi2_kernel();
  d.position_dtypes = RC_POSITIONS_I32;
  d.max_position = INT32_MAX;
  const Case c = make_case({5, 2147483647});
  const KernelRunner r(d, c.spec);
  ASSERT_EQ(r.unsupported_reason(c), "");
  EXPECT_EQ(r.run(c).status, 0);
  EXPECT_EQ(g_position_dtype, RC_DTYPE_I32);
  EXPECT_EQ(g_positions, c.positions);
}

TEST(RunnerAbi2, RefusalReasonsReachTheVerdict) {
  const rc_kernel_desc d = abi2_kernel();
  const Case c = make_case({12345});
  Judge judge;
  const Judgement j = judge.judge(d, *find_property("agreesWithExactReferenceWithinContract"), c);
  EXPECT_EQ(j.finding, Finding::kViolation);
  EXPECT_NE(j.reason.find("(the kernel says: 12345 is not a position I like)"), std::string::npos) << j.reason;

  rc_kernel_desc refusing = abi2_kernel();
  refusing.prepare2 = refusing_prepare2;
  refusing.prepare = nullptr;
  refusing.release = +[](void*) {};
  const KernelRunner r(refusing, c.spec);
  EXPECT_EQ(r.unsupported_reason(c), "prepare refused the spec: spec invalid or not supported by this kernel: no handle for you");
}

TEST(RunnerAbi2, WhatIsNotDeclaredIsNotCalled) {
  rc_kernel_desc d = abi2_kernel();
  d.features = RC_FEATURE_QK;  // q and k together only: q-only cases are not its calls
  const Case c = make_case({1});
  const KernelRunner r(d, c.spec);
  EXPECT_NE(r.unsupported_reason(c).find("q-only calls not declared"), std::string::npos) << r.unsupported_reason(c);
}

}  // namespace
}  // namespace ropecheck::props

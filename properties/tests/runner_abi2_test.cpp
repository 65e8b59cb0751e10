// KernelRunner and ABI 2 (impl/ropecheck_kernel.h): an ABI 2 kernel is called through apply2
// with a call record — q alone for now, int64 or int32 positions as it declares — and its
// refusal reasons reach the verdicts; an ABI 1 kernel keeps being called through apply.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/cos_sin_cache.hpp"
#include "properties/judge.hpp"
#include "properties/runner.hpp"
#include "reference/exact_reference.hpp"

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

// ---- cos/sin caches -------------------------------------------------------------------

// A kernel that reads a COS_SIN_HALVES f32 cache (vLLM's cos_sin_cache layout) and rotates q in
// double, rounding once to f32; its twin reads the halves swapped (cos taken from the sin half).
template <bool kSwapped>
int cache_apply2(const rc_spec* spec, void*, const rc_call* call) {
  if (call->k.in != nullptr || call->cos == nullptr || call->position_dtype != RC_DTYPE_I64) return RC_ERR_UNSUPPORTED;
  const auto* pos = static_cast<const int64_t*>(call->positions);
  for (int64_t k = 0; k < call->n_tokens; ++k) {
    if (pos[k] < 0 || pos[k] >= call->cache_rows) return RC_ERR_POSITION;
  }
  const int h = spec->rotary_dim / 2;
  const bool inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  for (int64_t k = 0; k < call->n_tokens; ++k) {
    const float* c = static_cast<const float*>(kSwapped ? call->sin : call->cos) + pos[k] * call->cache_row_stride;
    const float* s = static_cast<const float*>(kSwapped ? call->cos : call->sin) + pos[k] * call->cache_row_stride;
    for (int64_t hd = 0; hd < call->q.n_heads; ++hd) {
      const float* x = static_cast<const float*>(call->q.in) + k * call->q.token_stride + hd * call->q.head_stride;
      float* y = static_cast<float*>(call->q.out) + k * call->q.out_token_stride + hd * call->q.out_head_stride;
      for (int j = 0; j < h; ++j) {
        const int i0 = inter ? 2 * j : j, i1 = inter ? 2 * j + 1 : j + h;
        const double x0 = x[i0], x1 = x[i1];
        y[i0] = static_cast<float>(x0 * c[j] - x1 * s[j]);
        y[i1] = static_cast<float>(x0 * s[j] + x1 * c[j]);
      }
      if (y != x) {
        for (int i = spec->rotary_dim; i < spec->head_dim; ++i) y[i] = x[i];
      }
    }
  }
  return RC_OK;
}

rc_kernel_desc cache_kernel(bool swapped) {
  rc_kernel_desc d = abi2_kernel();
  d.name = swapped ? "cache_halves_swapped" : "cache_halves";
  d.in_dtype = d.out_dtype = RC_DTYPE_F32;
  d.max_position = 65535;
  d.cache = RC_CACHE_COS_SIN_HALVES;
  d.cache_dtype = RC_DTYPE_F32;
  // Reads cos/sin rounded to f32 (0.5 ulp), rotates in double, rounds once to f32.
  d.accuracy = rc_accuracy{RC_ANGLE_TABLE, RC_DTYPE_F64, RC_DTYPE_I64, RC_DTYPE_F32, RC_DTYPE_F64,
                           RC_ROUND_NEAREST_EVEN, 0x1p-53, 0.0, 0.0, 0.0, 0.5, 0.0};
  d.apply2 = swapped ? cache_apply2<true> : cache_apply2<false>;
  return d;
}

TEST(CosSinCache, HoldsExactMathCorrectlyRoundedInItsConvention) {
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = 8;
  spec.max_position_embeddings = 4096;
  const ref::ExactReference exact(spec);
  for (const int32_t convention : {RC_CACHE_COS_SIN_HALVES, RC_CACHE_FULL_WIDTH, RC_CACHE_REPEAT_INTERLEAVED}) {
    for (const int32_t dtype : {RC_DTYPE_F32, RC_DTYPE_BF16, RC_DTYPE_F16}) {
      rc_kernel_desc d = cache_kernel(false);
      d.cache = convention;
      d.cache_dtype = dtype;
      CosSinCache cache(d, spec);
      ASSERT_EQ(cache.rows(), 65536);
      cache.ensure({0, 1, 4095, 65535});
      for (const int64_t t : {int64_t{0}, int64_t{1}, int64_t{4095}, int64_t{65535}}) {
        for (int j = 0; j < 4; ++j) {
          double hi[2], lo[2];
          exact.rotate_pair(t, j, 1.0, 0.0, hi, lo);
          bool amb = false;
          EXPECT_EQ(cache.cos_at(t, j), round_dd_to_dtype(hi[0], lo[0], dtype, 0, &amb)) << t << " " << j;
          EXPECT_EQ(cache.sin_at(t, j), round_dd_to_dtype(hi[1], lo[1], dtype, 0, &amb)) << t << " " << j;
          // Correctly rounded: no value of the dtype is nearer to the exact one.
          const double c = cache.cos_at(t, j), v = hi[0] + lo[0];
          EXPECT_LE(std::fabs(c - v), std::fabs(round_to_dtype(std::nextafter(static_cast<float>(c), 2.0f), dtype) - v));
        }
        // The twin columns hold the same values.
        const auto* row = static_cast<const char*>(cache.cos()) + static_cast<size_t>(t * cache.row_stride()) * dtype_size(dtype);
        if (convention == RC_CACHE_FULL_WIDTH) {
          EXPECT_EQ(std::memcmp(row, row + 4 * dtype_size(dtype), 4 * dtype_size(dtype)), 0);
        }
      }
      // A row no call asked for reads as zeros: a kernel reading the wrong row gets "rotation 0".
      EXPECT_EQ(cache.cos_at(2, 0), 0.0);
    }
  }
}

TEST(CosSinCache, RoundingIsCorrectAtTiesAndFlagsNearTies) {
  bool amb = false;
  // 1 + 2^-24 is the midpoint between 1 and 1 + 2^-23 in f32: ties to even, lo decides.
  EXPECT_EQ(round_dd_to_dtype(1 + 0x1p-24, 0, RC_DTYPE_F32, 0, &amb), 1.0);
  EXPECT_EQ(round_dd_to_dtype(1 + 0x1p-24, 0x1p-80, RC_DTYPE_F32, 0, &amb), 1 + 0x1p-23);
  EXPECT_EQ(round_dd_to_dtype(1 + 0x1p-24, -0x1p-80, RC_DTYPE_F32, 0, &amb), 1.0);
  EXPECT_FALSE(amb);
  EXPECT_EQ(round_dd_to_dtype(1 + 0x1p-24, 0x1p-80, RC_DTYPE_F32, 0x1p-70, &amb), 1 + 0x1p-23);
  EXPECT_TRUE(amb);
  // bf16: 8 bits, no double rounding through float (1 + 2^-8 + 2^-30 rounds up, not to even).
  EXPECT_EQ(round_dd_to_dtype(1 + 0x1p-8 + 0x1p-30, 0, RC_DTYPE_BF16, 0, &amb), 1 + 0x1p-7);
  EXPECT_EQ(round_dd_to_dtype(-0.75 - 0x1p-12, 0, RC_DTYPE_F16, 0, &amb), -0.75);  // a tie: to even
  EXPECT_EQ(round_dd_to_dtype(-0.75 - 0x1p-12, -0x1p-60, RC_DTYPE_F16, 0, &amb), -0.75 - 0x1p-11);
}

TEST(RunnerAbi2, ACacheReadingKernelIsJudgedOnItsConsumption) {
  RopeSpec spec;
  spec.head_dim = 64;
  spec.rotary_dim = 48;
  spec.max_position_embeddings = 4096;
  Case c;
  c.spec = spec;
  c.positions = {0, 1, 4097, 65535};
  c.n_heads = 2;
  for (int i = 0; i < 4 * 2 * 64; ++i) c.x.push_back(static_cast<float>(std::sin(1.0 + i)));
  Judge judge;
  const Property& agrees = *find_property("agreesWithExactReferenceWithinContract");
  const rc_kernel_desc good = cache_kernel(false), swapped = cache_kernel(true);
  const Judgement ok = judge.judge(good, agrees, c);
  EXPECT_EQ(ok.finding, Finding::kPass) << ok.reason << "\n" << ok.detail;
  EXPECT_LT(ok.worst_ratio, 1.0);
  EXPECT_GT(ok.worst_ratio, 0.05) << "the bound (no angle term) is tight enough to see a rounding";
  const Judgement bad = judge.judge(swapped, agrees, c);
  EXPECT_EQ(bad.finding, Finding::kViolation) << bad.reason;
  // Beyond the cache's rows (the property tries max_position + 1 and more): refused, as it must.
  Case far = c;
  far.positions = {5};
  far.x.resize(2 * 64);
  const Judgement refused = judge.judge(good, *find_property("positionsBeyondMaximumAreRefused"), far);
  EXPECT_EQ(refused.finding, Finding::kPass) << refused.reason << "\n" << refused.detail;
}

// ---- q and k in one call -----------------------------------------------------------------

enum class QkBug { kNone, kQTokenStrideForK, kSingleKvHeadUntouched };

// scalar_f64 on q, then on k, through one call record; with a bug of the kinds engines shipped.
template <QkBug kBug>
int qk_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  if (call->position_dtype != RC_DTYPE_I64 || call->cos != nullptr) return RC_ERR_UNSUPPORTED;
  const auto* pos = static_cast<const int64_t*>(call->positions);
  const rc_tensor& q = call->q;
  if (q.token_stride != q.out_token_stride || q.head_stride != q.out_head_stride) return RC_ERR_SHAPE;
  int rc = scalar_f64().apply(spec, handle, pos, call->n_tokens, q.n_heads, q.token_stride, q.head_stride, q.in, q.out);
  if (rc != RC_OK || call->k.in == nullptr) return rc;
  const rc_tensor& k = call->k;
  if (kBug == QkBug::kSingleKvHeadUntouched && k.n_heads == 1) {  // "nothing to do for MQA" (and out of place: copy)
    if (k.in != k.out) {
      for (int64_t t = 0; t < call->n_tokens; ++t) {
        std::memcpy(static_cast<double*>(k.out) + t * k.token_stride, static_cast<const double*>(k.in) + t * k.token_stride,
                    static_cast<size_t>(spec->head_dim) * sizeof(double));
      }
    }
    return RC_OK;
  }
  const int64_t ts = kBug == QkBug::kQTokenStrideForK ? q.token_stride : k.token_stride;
  return scalar_f64().apply(spec, handle, pos, call->n_tokens, k.n_heads, ts, k.head_stride, k.in, k.out);
}

rc_kernel_desc qk_kernel(QkBug bug) {
  rc_kernel_desc d = abi2_kernel();
  d.name = "qk_wrapped";
  d.prepare = scalar_f64().prepare;
  d.release = scalar_f64().release;
  d.features = RC_FEATURE_QK;
  d.apply2 = bug == QkBug::kNone ? qk_apply2<QkBug::kNone>
             : bug == QkBug::kQTokenStrideForK ? qk_apply2<QkBug::kQTokenStrideForK>
                                               : qk_apply2<QkBug::kSingleKvHeadUntouched>;
  return d;
}

Case qk_case(int64_t nq, int64_t nkv, bool separate) {
  Case c;
  c.spec.head_dim = c.spec.rotary_dim = 8;
  c.spec.max_position_embeddings = 4096;
  c.positions = {3, 4096, 70000};
  c.n_heads = nq + nkv;
  c.n_kv_heads = nkv;
  c.separate_kv = separate;
  c.token_pad = 3;  // v's place in a packed qkv view
  for (int64_t i = 0; i < c.n_tokens() * c.n_heads * 8; ++i) c.x.push_back(0.5 + std::sin(static_cast<double>(i)));
  return c;
}

TEST(RunnerAbi2, QAndKInOneCallAreBothJudged) {
  Judge judge;
  const Property& agrees = *find_property("agreesWithExactReferenceWithinContract");
  const rc_kernel_desc good = qk_kernel(QkBug::kNone);
  for (const bool separate : {false, true}) {
    for (const auto& [nq, nkv] : {std::pair<int64_t, int64_t>{1, 1}, {4, 2}, {4, 1}}) {
      const Judgement j = judge.judge(good, agrees, qk_case(nq, nkv, separate));
      EXPECT_EQ(j.finding, Finding::kPass) << nq << "+" << nkv << " " << separate << ": " << j.reason << "\n" << j.detail;
    }
  }
  // k with q's token stride: right in a packed view (the strides are equal), wrong when k has
  // a buffer of its own with fewer heads.
  const rc_kernel_desc stride_bug = qk_kernel(QkBug::kQTokenStrideForK);
  EXPECT_EQ(judge.judge(stride_bug, agrees, qk_case(4, 2, false)).finding, Finding::kPass);
  const Judgement s = judge.judge(stride_bug, agrees, qk_case(4, 2, true));
  EXPECT_TRUE(s.failed()) << s.reason;
  // k left untouched when there is one kv head (MQA): caught there, not with two.
  const rc_kernel_desc mqa_bug = qk_kernel(QkBug::kSingleKvHeadUntouched);
  EXPECT_EQ(judge.judge(mqa_bug, agrees, qk_case(4, 2, false)).finding, Finding::kPass);
  const Judgement m = judge.judge(mqa_bug, agrees, qk_case(4, 1, false));
  EXPECT_EQ(m.finding, Finding::kViolation) << m.reason;
  EXPECT_NE(m.detail.find("head 4"), std::string::npos) << "the k head is named: " << m.detail;
  // A q-only case is not this kernel's call.
  EXPECT_EQ(judge.judge(good, agrees, make_case({1})).finding, Finding::kSkip);
}

}  // namespace
}  // namespace ropecheck::props

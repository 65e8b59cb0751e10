// KernelRunner and ABI 2 (impl/ropecheck_kernel.h): an ABI 2 kernel is called through apply2
// with a call record — q alone or with k, int64 or int32 positions as it declares — and its
// refusal reasons reach the verdicts; an ABI 1 kernel keeps being called through apply.
// The call's features (issue 16): negative positions, inverse calls, rotary offsets and the
// thread hint reach only a kernel that declares them, are judged against the exact R(x, −t) on
// the right slice, and a kernel that gets one of them wrong is caught (in-process wrappers of
// scalar_f64, and the vLLM-style sample with its two feature twins).
#include <gtest/gtest.h>

#include <rapidcheck.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "impl/plugin_loader.hpp"
#include "properties/generators.hpp"

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
  // 2 + 1 heads and two tokens: k's token 1 at q's token stride (19) ends at element 27 of a
  // k buffer of 11 + 8 = 19, inside its 64 guard bytes (8 doubles), where it is seen.  More
  // tokens or heads (4 + 2 and three tokens wrote 256 bytes past the guards) corrupt this
  // process's heap instead: in process nothing stops a write beyond the guards.
  Case two_tokens = qk_case(2, 1, true);
  two_tokens.positions.pop_back();
  two_tokens.x.resize(static_cast<size_t>(2 * two_tokens.n_heads * 8));
  const Judgement s = judge.judge(stride_bug, agrees, two_tokens);
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

// ---- inverse, rotary offset, negative positions, threads ------------------------------------

enum class FeatureBug { kNone, kInverseIgnored, kOffsetIgnored, kNegativeAsPositive, kThreadsDropLastToken };

std::mutex g_hint_mu;
std::vector<int32_t> g_thread_hints;  // rc_call.n_threads of every call of full_apply2

// scalar_f64 behind apply2 with every ABI 2 feature but q/k and caches: R(x, −t) as
// C·R(C·x, t) (C negates the second component of every pair: exact), the slice at
// rotary_offset rotated by scalar_f64 on a head shortened by the offset, tokens spread over
// n_threads threads.  With one bug each.
template <FeatureBug kBug>
int full_apply2(const rc_spec* spec, void* handle, const rc_call* call) {
  if (call->position_dtype != RC_DTYPE_I64 || call->cos != nullptr || call->k.in != nullptr) return RC_ERR_UNSUPPORTED;
  const auto* pos = static_cast<const int64_t*>(call->positions);
  const int64_t max_position = scalar_f64().max_position;
  for (int64_t k = 0; k < call->n_tokens; ++k) {
    if (pos[k] < -max_position || pos[k] > max_position) return RC_ERR_POSITION;
  }
  if (call->rotary_offset < 0 || call->rotary_offset + spec->rotary_dim > spec->head_dim) return RC_ERR_SHAPE;
  {
    std::lock_guard<std::mutex> lock(g_hint_mu);
    g_thread_hints.push_back(call->n_threads);
  }
  const int off = kBug == FeatureBug::kOffsetIgnored ? 0 : call->rotary_offset;
  const int hd = spec->head_dim, half = spec->rotary_dim / 2;
  const bool inter = spec->layout == RC_LAYOUT_INTERLEAVED;
  rc_spec sub = *spec;
  sub.head_dim = hd - off;
  const rc_tensor& q = call->q;
  std::atomic<int> status{RC_OK};
  auto one_token = [&](int64_t k) {
    int64_t t = pos[k];
    if (kBug == FeatureBug::kNegativeAsPositive && t < 0) t = -t;
    if (call->inverse && kBug != FeatureBug::kInverseIgnored) t = -t;
    const bool conj = t < 0;
    const int64_t at = conj ? -t : t;
    for (int64_t h = 0; h < q.n_heads; ++h) {
      const double* x = static_cast<const double*>(q.in) + k * q.token_stride + h * q.head_stride;
      double* y = static_cast<double*>(q.out) + k * q.out_token_stride + h * q.out_head_stride;
      std::vector<double> in(x, x + hd), out(in);
      for (int j = 0; conj && j < half; ++j) in[static_cast<size_t>(off + (inter ? 2 * j + 1 : j + half))] *= -1;
      const int rc = scalar_f64().apply(&sub, handle, &at, 1, 1, hd, hd, in.data() + off, out.data() + off);
      if (rc != RC_OK) status = rc;
      for (int j = 0; conj && j < half; ++j) out[static_cast<size_t>(off + (inter ? 2 * j + 1 : j + half))] *= -1;
      std::memcpy(y, out.data(), static_cast<size_t>(hd) * sizeof(double));
    }
  };
  const int64_t n_threads = std::max<int64_t>(1, call->n_threads);
  if (n_threads == 1) {
    for (int64_t k = 0; k < call->n_tokens; ++k) one_token(k);
  } else {
    std::vector<std::thread> workers;
    for (int64_t w = 0; w < n_threads; ++w) {
      workers.emplace_back([&, w] {
        // The bug: the last token belongs to no worker ("k < n_tokens - 1").
        const int64_t end = kBug == FeatureBug::kThreadsDropLastToken ? call->n_tokens - 1 : call->n_tokens;
        for (int64_t k = w; k < end; k += n_threads) one_token(k);
      });
    }
    for (std::thread& t : workers) t.join();
  }
  return status;
}

rc_kernel_desc full_kernel(FeatureBug bug) {
  rc_kernel_desc d = abi2_kernel();
  d.name = "full_wrapped";
  d.features = RC_FEATURE_Q_ONLY | RC_FEATURE_INVERSE | RC_FEATURE_ROTARY_OFFSET | RC_FEATURE_NEGATIVE_POSITIONS |
               RC_FEATURE_THREADS;
  switch (bug) {
    case FeatureBug::kNone: d.apply2 = full_apply2<FeatureBug::kNone>; break;
    case FeatureBug::kInverseIgnored: d.apply2 = full_apply2<FeatureBug::kInverseIgnored>; break;
    case FeatureBug::kOffsetIgnored: d.apply2 = full_apply2<FeatureBug::kOffsetIgnored>; break;
    case FeatureBug::kNegativeAsPositive: d.apply2 = full_apply2<FeatureBug::kNegativeAsPositive>; break;
    case FeatureBug::kThreadsDropLastToken: d.apply2 = full_apply2<FeatureBug::kThreadsDropLastToken>; break;
  }
  return d;
}

// MLA-like: head 24 = 8 nope + 16 rope, the rope slice last (offset 8), interleaved.
Case mla_case(std::vector<int64_t> positions, bool inverse, int32_t offset) {
  Case c;
  c.spec.head_dim = 24;
  c.spec.rotary_dim = 16;
  c.spec.layout = Layout::kInterleaved;
  c.spec.max_position_embeddings = 4096;
  c.positions = std::move(positions);
  c.n_heads = 2;
  c.inverse = inverse;
  c.rotary_offset = offset;
  for (int64_t i = 0; i < c.n_tokens() * c.n_heads * 24; ++i) c.x.push_back(0.5 + std::sin(1.0 + static_cast<double>(i)));
  return c;
}

const Property& prop(const char* id) {
  const Property* p = find_property(id);
  if (p == nullptr) throw std::runtime_error(std::string("no property ") + id);
  return *p;
}

// Every catalogue property holds for the correct kernel on generated cases, which do use every
// feature it declares (counted): no false positive from the inverse, the offset, negative
// positions or several threads.
TEST(RunnerAbi2Features, ACorrectKernelWithEveryFeaturePassesEveryProperty) {
  const rc_kernel_desc d = full_kernel(FeatureBug::kNone);
  Judge judge;
  int negative = 0, inverse = 0, offset = 0, odd_offset = 0, threads = 0, judged = 0;
  for (const Property& p : catalogue()) {
    gen::Constraints k = gen::Constraints::of(d);
    if (p.needs_two_tokens) k.max_heads = 1;
    const bool ok = rc::check(std::string("full_wrapped ") + p.id, [&] {
      const Case c = *gen::case_for(k);
      negative += std::any_of(c.positions.begin(), c.positions.end(), [](int64_t t) { return t < 0; });
      inverse += c.inverse;
      offset += c.rotary_offset != 0;
      odd_offset += c.rotary_offset % 2 == 1;
      threads += c.n_threads > 1;
      const Judgement j = judge.judge(d, p, c);
      judged += j.checked();
      RC_ASSERT(!j.failed());
      RC_ASSERT(j.finding != Finding::kInternal);
    });
    EXPECT_TRUE(ok) << p.id;
  }
  std::printf("[features] cases with negative positions %d, inverse %d, rotary offset %d (odd %d), threads > 1 %d; judged %d\n",
              negative, inverse, offset, odd_offset, threads, judged);
  EXPECT_GT(negative, 0);
  EXPECT_GT(inverse, 0);
  EXPECT_GT(offset, 0);
  EXPECT_GT(odd_offset, 0);
  EXPECT_GT(threads, 0);
}

TEST(RunnerAbi2Features, EachFeatureReachesOnlyAKernelThatDeclaresIt) {
  const Case neg = mla_case({-5, 70000}, false, 0), inv = mla_case({5}, true, 0), off = mla_case({5}, false, 8);
  Case thr = mla_case({5}, false, 0);
  thr.n_threads = 2;
  // An ABI 1 kernel, and an ABI 2 one declaring none of them.
  const KernelRunner v1(scalar_f64(), neg.spec), bare(abi2_kernel(), neg.spec);
  for (const KernelRunner* r : {&v1, &bare}) {
    EXPECT_NE(r->unsupported_reason(neg).find("is negative"), std::string::npos) << r->unsupported_reason(neg);
    EXPECT_NE(r->unsupported_reason(inv).find("RC_FEATURE_INVERSE"), std::string::npos);
    EXPECT_NE(r->unsupported_reason(off).find("RC_FEATURE_ROTARY_OFFSET"), std::string::npos);
    EXPECT_NE(r->unsupported_reason(thr).find("RC_FEATURE_THREADS"), std::string::npos);
  }
  Judge judge;
  const Judgement skipped = judge.judge(abi2_kernel(), prop("inverseUndoesRotation"), inv);
  EXPECT_EQ(skipped.finding, Finding::kSkip);
  EXPECT_NE(skipped.reason.find("RC_FEATURE_INVERSE"), std::string::npos) << skipped.reason;
  // Generated cases of a kernel without the features never use them.
  const gen::Constraints k = gen::Constraints::of(scalar_f64());
  EXPECT_FALSE(k.inverse || k.rotary_offset || k.negative_positions || k.threads);
  // The full kernel: every one is passed through, and −max_position is inside its range.
  const rc_kernel_desc full = full_kernel(FeatureBug::kNone);
  const KernelRunner r(full, neg.spec);
  for (const Case* c : std::vector<const Case*>{&neg, &inv, &off, &thr}) EXPECT_EQ(r.unsupported_reason(*c), "");
  Case lowest = neg;
  lowest.positions = {-full.max_position};
  lowest.x.resize(2 * 24);
  EXPECT_EQ(r.unsupported_reason(lowest), "");
  lowest.positions = {-full.max_position - 1};
  EXPECT_NE(r.unsupported_reason(lowest).find("beyond max_position"), std::string::npos);
  // Offsets past the head are no case at all.
  Case too_far = off;
  too_far.rotary_offset = 9;  // 9 + 16 > 24
  EXPECT_NE(r.unsupported_reason(too_far).find("beyond head_dim"), std::string::npos);
}

TEST(RunnerAbi2Features, NegativePositionsAreJudgedAsTheInverseRotation) {
  Judge judge;
  const Case c = mla_case({-1, -4097, -(int64_t{1} << 31) - 1, 3}, false, 0);
  const Judgement ok = judge.judge(full_kernel(FeatureBug::kNone), prop("agreesWithExactReferenceWithinContract"), c);
  EXPECT_EQ(ok.finding, Finding::kPass) << ok.reason << "\n" << ok.detail;
  const Judgement bad = judge.judge(full_kernel(FeatureBug::kNegativeAsPositive),
                                    prop("agreesWithExactReferenceWithinContract"), c);
  EXPECT_EQ(bad.finding, Finding::kViolation) << bad.reason;
  EXPECT_NE(bad.detail.find("t=-"), std::string::npos) << bad.detail;
  // Positions below −max_position must be refused; the full kernel accepts −1 (its range).
  const Judgement range = judge.judge(full_kernel(FeatureBug::kNone), prop("positionsBeyondMaximumAreRefused"), c);
  EXPECT_EQ(range.finding, Finding::kPass) << range.reason << "\n" << range.detail;
}

TEST(RunnerAbi2Features, AnInverseCallIsJudgedAgainstTheExactInverseAndUndoesTheForwardOne) {
  Judge judge;
  const Case c = mla_case({1, 4097, 70000}, true, 8);
  for (const char* id : {"agreesWithExactReferenceWithinContract", "inverseUndoesRotation"}) {
    const Judgement ok = judge.judge(full_kernel(FeatureBug::kNone), prop(id), c);
    EXPECT_EQ(ok.finding, Finding::kPass) << id << ": " << ok.reason << "\n" << ok.detail;
    EXPECT_GT(ok.worst_ratio, 0.0) << id << ": the bound was measured against";
    const Judgement bad = judge.judge(full_kernel(FeatureBug::kInverseIgnored), prop(id), c);
    EXPECT_EQ(bad.finding, Finding::kViolation) << id << ": " << bad.reason;
  }
  const Judgement undo = judge.judge(full_kernel(FeatureBug::kInverseIgnored), prop("inverseUndoesRotation"), c);
  EXPECT_NE(undo.reason.find("did not undo"), std::string::npos) << undo.reason;
  // A forward case: the inverse call comes second, and still has to undo it.
  const Judgement fwd = judge.judge(full_kernel(FeatureBug::kInverseIgnored), prop("inverseUndoesRotation"),
                                    mla_case({4097}, false, 0));
  EXPECT_EQ(fwd.finding, Finding::kViolation) << fwd.reason;
}

TEST(RunnerAbi2Features, TheRotaryOffsetSliceIsRotatedAndEveryOtherDimPassesThrough) {
  Judge judge;
  for (const int32_t offset : {8, 3, 1}) {  // MLA's head_dim − rotary_dim, odd ones
    const Case c = mla_case({5, 4097}, false, offset);
    for (const char* id : {"agreesWithExactReferenceWithinContract", "passThroughDimsAreBitIdentical"}) {
      const Judgement ok = judge.judge(full_kernel(FeatureBug::kNone), prop(id), c);
      EXPECT_EQ(ok.finding, Finding::kPass) << offset << " " << id << ": " << ok.reason << "\n" << ok.detail;
      const Judgement bad = judge.judge(full_kernel(FeatureBug::kOffsetIgnored), prop(id), c);
      EXPECT_EQ(bad.finding, Finding::kViolation) << offset << " " << id << ": " << bad.reason;
    }
  }
  // Offset 0 is the plain call: the bug is invisible there.
  const Judgement zero = judge.judge(full_kernel(FeatureBug::kOffsetIgnored), prop("agreesWithExactReferenceWithinContract"),
                                     mla_case({5, 4097}, false, 0));
  EXPECT_EQ(zero.finding, Finding::kPass) << zero.reason;
}

TEST(RunnerAbi2Features, TheThreadHintReachesTheKernelAndAMultithreadedPathIsJudged) {
  Judge judge;
  const Property& agrees = prop("agreesWithExactReferenceWithinContract");
  for (const int32_t n : {0, 1, 2, 4}) {
    Case c = mla_case({1, 2, 3, 4097, 5, 70000}, false, 0);
    c.n_threads = n;
    {
      std::lock_guard<std::mutex> lock(g_hint_mu);
      g_thread_hints.clear();
    }
    const Judgement ok = judge.judge(full_kernel(FeatureBug::kNone), agrees, c);
    EXPECT_EQ(ok.finding, Finding::kPass) << n << ": " << ok.reason;
    {
      std::lock_guard<std::mutex> lock(g_hint_mu);
      ASSERT_FALSE(g_thread_hints.empty());
      EXPECT_EQ(g_thread_hints.front(), n);
    }
    const Judgement bad = judge.judge(full_kernel(FeatureBug::kThreadsDropLastToken), agrees, c);
    EXPECT_EQ(bad.finding, n > 1 ? Finding::kViolation : Finding::kPass) << n << ": " << bad.reason;
  }
}

TEST(RunnerAbi2Features, TheCaseFieldsRoundTripAndOldCasesReadAsBefore) {
  Case c = mla_case({-3, int64_t{1} << 31, INT64_MIN}, true, 8);
  c.n_threads = 4;
  const std::string text = case_to_json(c);
  EXPECT_NE(text.find("\"-3\""), std::string::npos) << text;
  const Case back = case_from_json(text);
  EXPECT_EQ(back.positions, c.positions);
  EXPECT_TRUE(back.inverse);
  EXPECT_EQ(back.rotary_offset, 8);
  EXPECT_EQ(back.n_threads, 4);
  EXPECT_EQ(case_to_json(back), text);
  EXPECT_NE(describe(c).find("t=[-3, 2^31, -2^63]"), std::string::npos) << describe(c);
  // A case written before the fields: none of them in its JSON, and it reads with the defaults.
  const Case plain = make_case({1, 2});
  const std::string old = case_to_json(plain);
  for (const char* key : {"inverse", "rotary_offset", "n_threads"}) EXPECT_EQ(old.find(key), std::string::npos) << key;
  const Case read = case_from_json(old);
  EXPECT_FALSE(read.inverse);
  EXPECT_EQ(read.rotary_offset, 0);
  EXPECT_EQ(read.n_threads, 0);
  // An offset that runs past the head is a SpecError naming the field, not a crash.
  Case bad = c;
  bad.rotary_offset = 9;
  try {
    case_from_json(case_to_json(bad));
    ADD_FAILURE() << "accepted rotary_offset 9 + rotary_dim 16 > head_dim 24";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("case.rotary_offset"), std::string::npos) << e.what();
  }
}

// The binary note a unit's child leaves before each call (case_to_note) reads back as exactly
// the case: every field (compared through the case's JSON) and every bit of x, on generated
// cases with every feature and on M-RoPE ones; NaN payloads and -0 kept; a many-token case
// with the same values in every token written once (in its JSON too); a note cut short or not
// a note throws.
bool same_case(const Case& a, const Case& b) {
  return case_to_json(a) == case_to_json(b) && a.x.size() == b.x.size() &&
         std::memcmp(a.x.data(), b.x.data(), a.x.size() * sizeof(double)) == 0;
}

TEST(CaseNote, ReadsBackAsExactlyTheCase) {
  gen::Constraints every = gen::Constraints::of(full_kernel(FeatureBug::kNone));
  gen::Constraints axes;
  axes.multi_axis = axes.axes_dims = true;
  axes.negative_positions = true;
  int multi_axis = 0;
  for (const gen::Constraints& k : {every, axes}) {
    const bool ok = rc::check("case note round trip", [&] {
      const Case c = *gen::case_for(k);
      multi_axis += !c.axis_positions.empty();
      const Case back = case_from_note(case_to_note(c));
      RC_ASSERT(same_case(back, c));
    });
    EXPECT_TRUE(ok);
  }
  EXPECT_GT(multi_axis, 0) << "no generated case had positions per axis";

  Case odd = mla_case({-3, int64_t{1} << 31, INT64_MIN}, true, 8);
  uint64_t payload = 0x7ff8000000001234u;
  std::memcpy(&odd.x[1], &payload, sizeof payload);
  odd.x[2] = -0.0;
  odd.n_threads = 3;
  odd.seq_len = 70000;
  odd.position_dtype = RC_DTYPE_I32;
  EXPECT_TRUE(same_case(case_from_note(case_to_note(odd)), odd));

  Case many = make_case(std::vector<int64_t>(5000, 7));
  for (size_t i = 0; i < many.x.size(); ++i) many.x[i] = 0.5 + static_cast<double>(i % 16);
  const std::string note = case_to_note(many);
  EXPECT_LT(note.size(), many.x.size() * sizeof(double) / 4) << "x of a case whose tokens are all alike is written once";
  EXPECT_TRUE(same_case(case_from_note(note), many));
  // Its JSON writes x once too ("x_every_token"), and reads back as the case.
  const std::string text = case_to_json(many, -1);
  EXPECT_NE(text.find("\"x_every_token\""), std::string::npos);
  EXPECT_TRUE(same_case(case_from_json(text), many));

  for (const size_t cut : {size_t{0}, size_t{5}, note.size() / 2, note.size() - 1}) {
    EXPECT_THROW(case_from_note(std::string_view(note).substr(0, cut)), SpecError) << "cut at " << cut;
  }
  EXPECT_THROW(case_from_note(case_to_json(odd)), SpecError);
}

// The vLLM-style sample (inverse and rotary offset declared) and its two feature twins, judged
// in process on an MLA-shaped call (q and k, the rope slice last).
struct VllmPlugins {
  impl::KernelSet set;
  VllmPlugins() {
    impl::load_plugin(set, VLLM_STYLE_PLUGIN);
    impl::load_plugin(set, VLLM_TWIN_INVERSE_WRONG_SIGN);
    impl::load_plugin(set, VLLM_TWIN_ROTARY_OFFSET_IGNORED);
  }
  const rc_kernel_desc& get(const char* name) const { return *set.find(name)->desc; }
};

Case vllm_case(bool inverse, int32_t offset) {
  Case c;
  c.spec.head_dim = 80;
  c.spec.rotary_dim = 32;
  c.spec.max_position_embeddings = 2048;
  c.positions = {1, 2047, 4097};
  c.n_heads = 3;
  c.n_kv_heads = 1;
  c.inverse = inverse;
  c.rotary_offset = offset;
  for (int64_t i = 0; i < c.n_tokens() * c.n_heads * 80; ++i) c.x.push_back(static_cast<float>(std::cos(0.5 + static_cast<double>(i))));
  return c;
}

TEST(RunnerAbi2Features, TheVllmSampleDeclaresInverseAndOffsetAndItsTwinsAreCaught) {
  const VllmPlugins p;
  const rc_kernel_desc& good = p.get("vllm_style_qk_cache_f32");
  const rc_kernel_desc& wrong_sign = p.get("vllm_twin_inverse_wrong_sign");
  const rc_kernel_desc& ignored = p.get("vllm_twin_rotary_offset_ignored");
  EXPECT_TRUE(impl::has_feature(good, RC_FEATURE_INVERSE));
  EXPECT_TRUE(impl::has_feature(good, RC_FEATURE_ROTARY_OFFSET));
  Judge judge;
  const Property& agrees = prop("agreesWithExactReferenceWithinContract");
  for (const bool inverse : {false, true}) {
    for (const int32_t offset : {0, 48, 1, 47}) {
      const Case c = vllm_case(inverse, offset);
      for (const char* id : {"agreesWithExactReferenceWithinContract", "passThroughDimsAreBitIdentical",
                             "inverseUndoesRotation", "scoreMatchesClosedFormInRelativePosition"}) {
        Case d = c;
        if (prop(id).needs_two_tokens) d.n_heads = 2;  // one q head and its k head
        if (prop(id).needs_two_tokens) d.x.resize(static_cast<size_t>(d.n_tokens() * 2 * 80));
        const Judgement j = judge.judge(good, prop(id), d);
        EXPECT_EQ(j.finding, Finding::kPass) << inverse << " " << offset << " " << id << ": " << j.reason << "\n" << j.detail;
      }
      const Judgement s = judge.judge(wrong_sign, agrees, c);
      EXPECT_EQ(s.finding, inverse ? Finding::kViolation : Finding::kPass) << inverse << " " << offset << ": " << s.reason;
      const Judgement o = judge.judge(ignored, agrees, c);
      EXPECT_EQ(o.finding, offset != 0 ? Finding::kViolation : Finding::kPass) << inverse << " " << offset << ": " << o.reason;
    }
  }
  EXPECT_EQ(judge.judge(wrong_sign, prop("inverseUndoesRotation"), vllm_case(false, 0)).finding, Finding::kViolation);
  EXPECT_EQ(judge.judge(ignored, prop("passThroughDimsAreBitIdentical"), vllm_case(false, 48)).finding,
            Finding::kViolation);
}

}  // namespace
}  // namespace ropecheck::props

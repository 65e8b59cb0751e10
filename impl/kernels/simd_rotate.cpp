// Highway per-target code (foreach_target re-includes this file once per target).
#include <cmath>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "impl/kernels/simd_rotate.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "impl/kernels/simd_rotate.hpp"
#include "impl/kernels/sleef_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace ropecheck::impl {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void RotateToken(const rc_spec& spec, const float* c, const float* s, const float* x, float* y,
                 int64_t n_heads, int64_t head_stride) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const int rd = spec.rotary_dim, pairs = rd / 2;
  const size_t tail_bytes = sizeof(float) * static_cast<size_t>(spec.head_dim - rd);
  if (spec.layout == RC_LAYOUT_HALF_SPLIT) {
    const size_t half = static_cast<size_t>(pairs);
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xh = x + h * head_stride;
      float* yh = y + h * head_stride;
      size_t i = 0;
      for (; i + N <= half; i += N) {
        const auto vc = hn::LoadU(d, c + i), vs = hn::LoadU(d, s + i);
        const auto x0 = hn::LoadU(d, xh + i), x1 = hn::LoadU(d, xh + half + i);
        hn::StoreU(hn::MulSub(x0, vc, hn::Mul(x1, vs)), d, yh + i);
        hn::StoreU(hn::MulAdd(x0, vs, hn::Mul(x1, vc)), d, yh + half + i);
      }
      for (; i < half; ++i) {  // same fused arithmetic as the vector lanes
        const float x0 = xh[i], x1 = xh[half + i];
        yh[i] = std::fma(x0, c[i], -(x1 * s[i]));
        yh[half + i] = std::fma(x0, s[i], x1 * c[i]);
      }
      if (xh != yh && tail_bytes) std::memcpy(yh + rd, xh + rd, tail_bytes);
    }
    return;
  }
  // Interleaved: expand the row to (c, c) and (-s, s) per pair, then
  // y = x*cc + swap_adjacent(x)*ss.
  HWY_ALIGN float cc[2 * kMaxPairs], ss[2 * kMaxPairs];
  for (int j = 0; j < pairs; ++j) {
    cc[2 * j] = cc[2 * j + 1] = c[j];
    ss[2 * j] = -s[j];
    ss[2 * j + 1] = s[j];
  }
  const size_t n = static_cast<size_t>(rd);
  for (int64_t h = 0; h < n_heads; ++h) {
    const float* xh = x + h * head_stride;
    float* yh = y + h * head_stride;
    size_t i = 0;
    for (; i + N <= n; i += N) {
      const auto v = hn::LoadU(d, xh + i);
      const auto sw = hn::Reverse2(d, v);
      hn::StoreU(hn::MulAdd(v, hn::LoadU(d, cc + i), hn::Mul(sw, hn::LoadU(d, ss + i))), d,
                 yh + i);
    }
    for (; i < n; i += 2) {
      const float x0 = xh[i], x1 = xh[i + 1];
      yh[i] = std::fma(x0, cc[i], x1 * ss[i]);
      yh[i + 1] = std::fma(x1, cc[i + 1], x0 * ss[i + 1]);
    }
    if (xh != yh && tail_bytes) std::memcpy(yh + rd, xh + rd, tail_bytes);
  }
}

// phi[j] = 2 pi * (t f_j mod 1) in [-pi, pi], for j < padded_pairs (padding lanes: 0).
void ReducedAngles(const ExactAngles& a, int64_t t, double* phi) {
  const hn::ScalableTag<double> d;
  const size_t N = hn::Lanes(d);
  const size_t pairs = static_cast<size_t>(a.pairs);
  const double td = static_cast<double>(t);
  const auto vt = hn::Set(d, td), two_pi = hn::Set(d, kTwoPi.hi);
  size_t j = 0;
  for (; j + N <= pairs; j += N) {
    const auto fh = hn::LoadU(d, a.f_hi.data() + j), fl = hn::LoadU(d, a.f_lo.data() + j);
    const auto p = hn::Mul(vt, fh);
    const auto e = hn::MulSub(vt, fh, p);  // t*f_hi - p, exact
    auto r = hn::Sub(p, hn::Round(p));     // exact
    r = hn::Add(r, hn::MulAdd(vt, fl, e));
    r = hn::Sub(r, hn::Round(r));
    hn::StoreU(hn::Mul(r, two_pi), d, phi + j);
  }
  for (; j < pairs; ++j) phi[j] = reduce_revolutions(td, a.f_hi[j], a.f_lo[j]) * kTwoPi.hi;
  for (; j < static_cast<size_t>(padded_pairs(a.pairs)); ++j) phi[j] = 0.0;
}

void SincosD(const double* x, double* s, double* c, int n) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  rc_sincosd_block_avx512(x, s, c, n);
#elif HWY_TARGET == HWY_AVX2
  rc_sincosd_block_avx2(x, s, c, n);
#else
  rc_sincosd_block_scalar(x, s, c, n);
#endif
}
void SincosF(const float* x, float* s, float* c, int n) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
  rc_sincosf_block_avx512(x, s, c, n);
#elif HWY_TARGET == HWY_AVX2
  rc_sincosf_block_avx2(x, s, c, n);
#else
  rc_sincosf_block_scalar(x, s, c, n);
#endif
}

void ExactRow(const ExactAngles& a, int64_t t, float* c, float* s) {
  HWY_ALIGN double phi[kMaxPairs + kRowPad], sd[kMaxPairs + kRowPad], cd[kMaxPairs + kRowPad];
  ReducedAngles(a, t, phi);
  const int np = padded_pairs(a.pairs);
  SincosD(phi, sd, cd, np);
  for (int j = 0; j < np; ++j) {
    c[j] = static_cast<float>(cd[j] * a.attention);
    s[j] = static_cast<float>(sd[j] * a.attention);
  }
}

void SincosRow(const ExactAngles& a, int64_t t, float* c, float* s) {
  HWY_ALIGN double phi[kMaxPairs + kRowPad];
  HWY_ALIGN float phif[kMaxPairs + kRowPad];
  ReducedAngles(a, t, phi);
  const int np = padded_pairs(a.pairs);
  for (int j = 0; j < np; ++j) phif[j] = static_cast<float>(phi[j]);
  SincosF(phif, s, c, np);
  const float af = static_cast<float>(a.attention);
  if (af != 1.0f) {
    for (int j = 0; j < np; ++j) {
      c[j] *= af;
      s[j] *= af;
    }
  }
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace ropecheck::impl
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ropecheck::impl {
HWY_EXPORT(RotateToken);
HWY_EXPORT(ExactRow);
HWY_EXPORT(SincosRow);
HWY_EXPORT(TargetName);

void simd_rotate_token(const rc_spec& spec, const float* c, const float* s, const float* x,
                       float* y, int64_t n_heads, int64_t head_stride) {
  HWY_DYNAMIC_DISPATCH(RotateToken)(spec, c, s, x, y, n_heads, head_stride);
}
void simd_exact_row(const ExactAngles& angles, int64_t t, float* c, float* s) {
  HWY_DYNAMIC_DISPATCH(ExactRow)(angles, t, c, s);
}
void simd_sincos_row(const ExactAngles& angles, int64_t t, float* c, float* s) {
  HWY_DYNAMIC_DISPATCH(SincosRow)(angles, t, c, s);
}
const char* simd_target_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
}  // namespace ropecheck::impl
#endif

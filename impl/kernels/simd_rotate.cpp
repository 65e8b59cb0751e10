// Highway per-target code (foreach_target re-includes this file once per target).
#include <cmath>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "impl/kernels/simd_rotate.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "impl/kernels/simd_rotate.hpp"
#include "impl/kernels/sleef_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace ropecheck::impl {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Stores one vector: StoreU, or a non-temporal Stream (needs p aligned to the vector size).
template <bool kStream, class D, class V>
HWY_INLINE void Put(D d, V v, float* HWY_RESTRICT p) {
  if constexpr (kStream) {
    hn::Stream(v, d, p);
  } else {
    hn::StoreU(v, d, p);
  }
}

// All heads of one token, vectors of the tag d.  The lane arithmetic does not depend on d, so
// every width gives the same bits.
template <bool kStream, class D>
void RotateHeads(D d, const rc_spec& spec, const float* c, const float* s, const float* x,
                 float* y, int64_t n_heads, int64_t head_stride) {
  const size_t N = hn::Lanes(d);
  const int rd = spec.rotary_dim, pairs = rd / 2;
  const size_t tail_bytes = sizeof(float) * static_cast<size_t>(spec.head_dim - rd);
  if (spec.layout == RC_LAYOUT_HALF_SPLIT) {
    const size_t half = static_cast<size_t>(pairs);
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* xh = x + h * head_stride;
      float* yh = y + h * head_stride;
      size_t i = 0;
      // Two vectors per step: the loads of the next pair overlap the stores of this one.
      for (; i + 2 * N <= half; i += 2 * N) {
        const auto vc0 = hn::LoadU(d, c + i), vs0 = hn::LoadU(d, s + i);
        const auto vc1 = hn::LoadU(d, c + i + N), vs1 = hn::LoadU(d, s + i + N);
        const auto a0 = hn::LoadU(d, xh + i), b0 = hn::LoadU(d, xh + half + i);
        const auto a1 = hn::LoadU(d, xh + i + N), b1 = hn::LoadU(d, xh + half + i + N);
        Put<kStream>(d, hn::MulSub(a0, vc0, hn::Mul(b0, vs0)), yh + i);
        Put<kStream>(d, hn::MulSub(a1, vc1, hn::Mul(b1, vs1)), yh + i + N);
        Put<kStream>(d, hn::MulAdd(a0, vs0, hn::Mul(b0, vc0)), yh + half + i);
        Put<kStream>(d, hn::MulAdd(a1, vs1, hn::Mul(b1, vc1)), yh + half + i + N);
      }
      for (; i + N <= half; i += N) {
        const auto vc = hn::LoadU(d, c + i), vs = hn::LoadU(d, s + i);
        const auto x0 = hn::LoadU(d, xh + i), x1 = hn::LoadU(d, xh + half + i);
        Put<kStream>(d, hn::MulSub(x0, vc, hn::Mul(x1, vs)), yh + i);
        Put<kStream>(d, hn::MulAdd(x0, vs, hn::Mul(x1, vc)), yh + half + i);
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
      Put<kStream>(d, hn::MulAdd(v, hn::LoadU(d, cc + i), hn::Mul(sw, hn::LoadU(d, ss + i))),
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

// True if every vector store of RotateHeads with `lanes` floats per vector is aligned to the
// vector: y, the head stride and the start of the second half (half-split) are multiples of
// it.  (The scalar remainders and the pass-through copy use normal stores.)
bool StreamAligned(const rc_spec& spec, const float* y, int64_t head_stride, size_t lanes) {
  const size_t bytes = lanes * sizeof(float);
  const size_t second = spec.layout == RC_LAYOUT_HALF_SPLIT ? static_cast<size_t>(spec.rotary_dim / 2) : 0;
  return reinterpret_cast<uintptr_t>(y) % bytes == 0 &&
         static_cast<size_t>(head_stride) % lanes == 0 && second % lanes == 0;
}

void RotateToken(const rc_spec& spec, const float* c, const float* s, const float* x, float* y,
                 int64_t n_heads, int64_t head_stride, bool stream) {
  const hn::ScalableTag<float> d;
  if (stream && n_heads > 0) {
    if (StreamAligned(spec, y, head_stride, hn::Lanes(d))) {
      return RotateHeads<true>(d, spec, c, s, x, y, n_heads, head_stride);
    }
    // Buffers from malloc are often only 16-byte aligned: stream 128-bit vectors then.
    const hn::CappedTag<float, 4> d4;
    if (StreamAligned(spec, y, head_stride, hn::Lanes(d4))) {
      return RotateHeads<true>(d4, spec, c, s, x, y, n_heads, head_stride);
    }
  }
  RotateHeads<false>(d, spec, c, s, x, y, n_heads, head_stride);
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
                       float* y, int64_t n_heads, int64_t head_stride, bool stream) {
  HWY_DYNAMIC_DISPATCH(RotateToken)(spec, c, s, x, y, n_heads, head_stride, stream);
}
void simd_stream_fence() { hwy::FlushStream(); }
void simd_exact_row(const ExactAngles& angles, int64_t t, float* c, float* s) {
  HWY_DYNAMIC_DISPATCH(ExactRow)(angles, t, c, s);
}
void simd_sincos_row(const ExactAngles& angles, int64_t t, float* c, float* s) {
  HWY_DYNAMIC_DISPATCH(SincosRow)(angles, t, c, s);
}
const char* simd_target_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
}  // namespace ropecheck::impl
#endif

// Highway per-target code of the 16-bit (bf16/f16) storage kernels: branch-free vector
// conversions and the unfused fp32 rotation (see simd_rotate.hpp).  Its own translation unit
// because it is compiled with -ffp-contract=off (CMakeLists.txt): GCC would otherwise fuse
// Mul + Sub into an FMA and the outputs would no longer match the scalar kernels bit for bit.
// foreach_target re-includes this file once per target.
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "impl/kernels/simd_half16.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "impl/kernels/simd_rotate.hpp"

HWY_BEFORE_NAMESPACE();
namespace ropecheck::impl {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Branch-free versions of common.hpp's bf16_to_f32 / f32_to_bf16 / f16_to_f32 / f32_to_f16:
// the same bit results for every input (tests/kernels_test.cpp checks all 2^16 halves and
// a large sample of floats).  Lanes are u32 holding the 16-bit pattern in the low half.
template <class DF, class VU>
HWY_INLINE hn::VFromD<DF> Half16ToF32(DF df, VU u, Half16 kind) {
  const hn::RebindToUnsigned<DF> du;
  if (kind == Half16::kBF16) return hn::BitCast(df, hn::ShiftLeft<16>(u));
  // f16: move exponent and mantissa into place and rebias 15 -> 127; inf/NaN get the
  // exponent 255 (payload kept), subnormals are renormalized exactly by a float subtraction.
  const auto sign = hn::ShiftLeft<16>(hn::And(u, hn::Set(du, 0x8000u)));
  auto o = hn::ShiftLeft<13>(hn::And(u, hn::Set(du, 0x7FFFu)));
  const auto exp = hn::And(o, hn::Set(du, 0x0F800000u));  // f16 exponent field, shifted
  o = hn::Add(o, hn::Set(du, (127u - 15u) << 23));
  const auto inf_nan = hn::Eq(exp, hn::Set(du, 0x0F800000u));
  const auto sub = hn::Eq(exp, hn::Zero(du));
  o = hn::IfThenElse(inf_nan, hn::Add(o, hn::Set(du, (128u - 16u) << 23)), o);
  // m * 2^-24 = (2^-14 + m * 2^-24) - 2^-14, both exact.
  const auto renorm = hn::BitCast(du, hn::Sub(hn::BitCast(df, hn::Add(o, hn::Set(du, 1u << 23))),
                                              hn::BitCast(df, hn::Set(du, 113u << 23))));
  o = hn::IfThenElse(sub, renorm, o);
  return hn::BitCast(df, hn::Or(o, sign));
}

template <class DF>
HWY_INLINE hn::VFromD<hn::RebindToUnsigned<DF>> F32ToHalf16(DF df, hn::VFromD<DF> v,
                                                            Half16 kind) {
  const hn::RebindToUnsigned<DF> du;
  const hn::RebindToSigned<DF> di;
  const auto u = hn::BitCast(du, v);
  const auto a = hn::And(u, hn::Set(du, 0x7FFFFFFFu));
  // |x| as int32 is non-negative, so signed compares order the magnitudes correctly.
  const auto ai = hn::BitCast(di, a);
  const auto is_nan = hn::RebindMask(du, hn::Gt(ai, hn::Set(di, 0x7F800000)));
  if (kind == Half16::kBF16) {
    // Round to nearest even by adding 0x7FFF + the lowest kept bit (carries into the exponent
    // and up to inf correctly); NaN: keep sign and top payload, force quiet.
    const auto lsb = hn::And(hn::ShiftRight<16>(u), hn::Set(du, 1u));
    const auto rounded = hn::ShiftRight<16>(hn::Add(u, hn::Add(hn::Set(du, 0x7FFFu), lsb)));
    const auto nan = hn::Or(hn::ShiftRight<16>(u), hn::Set(du, 0x0040u));
    return hn::IfThenElse(is_nan, nan, rounded);
  }
  const auto sign = hn::ShiftRight<16>(hn::Xor(u, a));
  const auto nan = hn::Or(hn::Set(du, 0x7E00u), hn::And(hn::ShiftRight<13>(a), hn::Set(du, 0x3FFu)));
  const auto is_inf = hn::RebindMask(du, hn::Gt(ai, hn::Set(di, 0x477FEFFF)));  // >= 65520
  const auto is_sub = hn::RebindMask(du, hn::Lt(ai, hn::Set(di, 0x38800000)));  // < 2^-14
  // Normal: rebias, then round to nearest even on the 13 dropped bits (as for bf16).
  const auto r = hn::Sub(a, hn::Set(du, 0x38000000u));
  const auto lsb = hn::And(hn::ShiftRight<13>(r), hn::Set(du, 1u));
  const auto normal = hn::ShiftRight<13>(hn::Add(r, hn::Add(hn::Set(du, 0xFFFu), lsb)));
  // Subnormal or zero: |x| + 0.5 lies in [0.5, 1) where the float ulp is 2^-24, the f16
  // subnormal step, so the FP addition itself rounds to nearest even (incl. ties to 0).
  const auto half = hn::Set(df, 0.5f);
  const auto subn = hn::Sub(hn::BitCast(du, hn::Add(hn::BitCast(df, a), half)), hn::BitCast(du, half));
  auto out = hn::IfThenElse(is_sub, subn, normal);
  out = hn::IfThenElse(is_inf, hn::Set(du, 0x7C00u), out);
  out = hn::IfThenElse(is_nan, nan, out);
  return hn::Or(out, sign);
}

template <class DF>
HWY_INLINE hn::VFromD<DF> LoadHalf16(DF df, const uint16_t* p, Half16 kind) {
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<uint16_t, DF> d16;
  return Half16ToF32(df, hn::PromoteTo(du, hn::LoadU(d16, p)), kind);
}
template <class DF>
HWY_INLINE void StoreHalf16(DF df, hn::VFromD<DF> v, uint16_t* p, Half16 kind) {
  const hn::RebindToSigned<DF> di;
  const hn::Rebind<uint16_t, DF> d16;
  // Every lane is <= 0xFFFF, so the saturating i32 -> u16 demotion is exact.
  hn::StoreU(hn::DemoteTo(d16, hn::BitCast(di, F32ToHalf16(df, v, kind))), d16, p);
}

float ScalarLoad16(uint16_t v, Half16 kind) {
  return kind == Half16::kBF16 ? bf16_to_f32(v) : f16_to_f32(v);
}
uint16_t ScalarStore16(float v, Half16 kind) {
  return kind == Half16::kBF16 ? f32_to_bf16(v) : f32_to_f16(v);
}

void RotateToken16(Half16 kind, const rc_spec& spec, const float* c, const float* s,
                   const uint16_t* x, uint16_t* y, int64_t n_heads, int64_t head_stride) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const int rd = spec.rotary_dim, pairs = rd / 2;
  const size_t tail_bytes = sizeof(uint16_t) * static_cast<size_t>(spec.head_dim - rd);
  // Products and sums rounded separately (Mul, then Add/Sub): the scalar kernels' arithmetic.
  if (spec.layout == RC_LAYOUT_HALF_SPLIT) {
    const size_t half = static_cast<size_t>(pairs);
    for (int64_t h = 0; h < n_heads; ++h) {
      const uint16_t* xh = x + h * head_stride;
      uint16_t* yh = y + h * head_stride;
      size_t i = 0;
      for (; i + N <= half; i += N) {
        const auto vc = hn::LoadU(d, c + i), vs = hn::LoadU(d, s + i);
        const auto x0 = LoadHalf16(d, xh + i, kind), x1 = LoadHalf16(d, xh + half + i, kind);
        StoreHalf16(d, hn::Sub(hn::Mul(x0, vc), hn::Mul(x1, vs)), yh + i, kind);
        StoreHalf16(d, hn::Add(hn::Mul(x0, vs), hn::Mul(x1, vc)), yh + half + i, kind);
      }
      for (; i < half; ++i) {
        const float x0 = ScalarLoad16(xh[i], kind), x1 = ScalarLoad16(xh[half + i], kind);
        const float p0 = x0 * c[i], p1 = x1 * s[i], p2 = x0 * s[i], p3 = x1 * c[i];
        yh[i] = ScalarStore16(p0 - p1, kind);
        yh[half + i] = ScalarStore16(p2 + p3, kind);
      }
      if (xh != yh && tail_bytes) std::memcpy(yh + rd, xh + rd, tail_bytes);
    }
    return;
  }
  // Interleaved, as for f32: y = x*cc + swap_adjacent(x)*ss with ss = (-s, s); the negation
  // is exact, so fl(fl(x0*c) + fl(x1*(-s))) == fl(fl(x0*c) - fl(x1*s)).
  HWY_ALIGN float cc[2 * kMaxPairs], ss[2 * kMaxPairs];
  for (int j = 0; j < pairs; ++j) {
    cc[2 * j] = cc[2 * j + 1] = c[j];
    ss[2 * j] = -s[j];
    ss[2 * j + 1] = s[j];
  }
  const size_t n = static_cast<size_t>(rd);
  for (int64_t h = 0; h < n_heads; ++h) {
    const uint16_t* xh = x + h * head_stride;
    uint16_t* yh = y + h * head_stride;
    size_t i = 0;
    for (; i + N <= n; i += N) {
      const auto v = LoadHalf16(d, xh + i, kind);
      const auto sw = hn::Reverse2(d, v);
      StoreHalf16(d, hn::Add(hn::Mul(v, hn::LoadU(d, cc + i)), hn::Mul(sw, hn::LoadU(d, ss + i))),
                  yh + i, kind);
    }
    for (; i < n; i += 2) {
      const float x0 = ScalarLoad16(xh[i], kind), x1 = ScalarLoad16(xh[i + 1], kind);
      const float p0 = x0 * c[i / 2], p1 = x1 * s[i / 2], p2 = x0 * s[i / 2], p3 = x1 * c[i / 2];
      yh[i] = ScalarStore16(p0 - p1, kind);
      yh[i + 1] = ScalarStore16(p2 + p3, kind);
    }
    if (xh != yh && tail_bytes) std::memcpy(yh + rd, xh + rd, tail_bytes);
  }
}

void Half16ToF32N(Half16 kind, const uint16_t* in, float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(LoadHalf16(d, in + i, kind), d, out + i);
  for (; i < n; ++i) {  // remainder through a one-lane vector: still the vector code
    const hn::CappedTag<float, 1> d1;
    hn::StoreU(LoadHalf16(d1, in + i, kind), d1, out + i);
  }
}
void F32ToHalf16N(Half16 kind, const float* in, uint16_t* out, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) StoreHalf16(d, hn::LoadU(d, in + i), out + i, kind);
  for (; i < n; ++i) {
    const hn::CappedTag<float, 1> d1;
    StoreHalf16(d1, hn::LoadU(d1, in + i), out + i, kind);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ropecheck::impl
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ropecheck::impl {
HWY_EXPORT(RotateToken16);
HWY_EXPORT(Half16ToF32N);
HWY_EXPORT(F32ToHalf16N);

void simd_rotate_token_16(Half16 kind, const rc_spec& spec, const float* c, const float* s,
                          const uint16_t* x, uint16_t* y, int64_t n_heads, int64_t head_stride) {
  HWY_DYNAMIC_DISPATCH(RotateToken16)(kind, spec, c, s, x, y, n_heads, head_stride);
}
void simd_half16_to_f32(Half16 kind, const uint16_t* in, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(Half16ToF32N)(kind, in, out, n);
}
void simd_f32_to_half16(Half16 kind, const float* in, uint16_t* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(F32ToHalf16N)(kind, in, out, n);
}
}  // namespace ropecheck::impl
#endif

// Highway per-target code of the 16-bit (bf16/f16) storage kernels: bf16 as even/odd halves
// of 32-bit lanes, f16 through F16C where the target has it (else branch-free conversions),
// the unfused fp32 rotation (see simd_rotate.hpp) and streaming stores for large outputs.
// Its own translation unit because it is compiled with -ffp-contract=off (CMakeLists.txt):
// GCC would otherwise fuse Mul + Sub into an FMA and the outputs would no longer match the
// scalar kernels bit for bit.
// foreach_target re-includes this file once per target.
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "impl/kernels/simd_half16.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "impl/kernels/simd_rotate.hpp"

HWY_BEFORE_NAMESPACE();
namespace ropecheck::impl {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Branch-free versions of common.hpp's bf16_to_f32 / f32_to_bf16 / f16_to_f32 / f32_to_f16:
// the same bit results for every input (tests/half16_test.cpp checks all 2^16 halves and
// a large sample of floats).  Used for the remainders of a head and on targets without F16C.  Lanes are u32 holding the 16-bit pattern in the low half.
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

// Stores of 16-bit outputs.  kPlain: StoreU.  kStream: one non-temporal store (p aligned to
// the vector).  kStream16: non-temporal 16-byte pieces (p 16-byte aligned: what malloc gives)
// -- the vector is computed at full width and split, so the arithmetic does not narrow.
enum class Out { kPlain, kStream, kStream16 };
template <Out kOut, class D>
HWY_INLINE void Put16(D d, hn::VFromD<D> v, uint16_t* HWY_RESTRICT p) {
  if constexpr (kOut == Out::kPlain) {
    hn::StoreU(v, d, p);
  } else if constexpr (kOut == Out::kStream || sizeof(hn::VFromD<D>) <= 16) {
    hn::Stream(v, d, p);
  } else {
#if HWY_TARGET != HWY_SCALAR
    const hn::Half<D> dh;
    Put16<kOut>(dh, hn::LowerHalf(dh, v), p);
    Put16<kOut>(dh, hn::UpperHalf(dh, v), p + hn::Lanes(dh));
#endif
  }
}

// ---- bf16: 2N elements per u32 vector, even elements in the low halves, odd in the high ----
// Widening is a shift (even) or a mask (odd); the row is permuted to match once per token.
template <class DU>
HWY_INLINE hn::VFromD<hn::RebindToFloat<DU>> EvenBF16(DU du, hn::VFromD<DU> v) {
  return hn::BitCast(hn::RebindToFloat<DU>(), hn::ShiftLeft<16>(v));
  (void)du;
}
template <class DU>
HWY_INLINE hn::VFromD<hn::RebindToFloat<DU>> OddBF16(DU du, hn::VFromD<DU> v) {
  return hn::BitCast(hn::RebindToFloat<DU>(), hn::And(v, hn::Set(du, 0xFFFF0000u)));
}
// f32_to_bf16 of the even and odd elements, as 2N u16 lanes (even element in the low half of
// each 32-bit lane).  f32_to_bf16 rounds by u + 0x7FFF + (bit 16 of u) in 32 bits; here the
// same sum is split into 16-bit halves: with T = top and L = low 16 bits of u, the sum carries
// into T exactly when L + (T & 1) > 0x8000, i.e. when L - (1 - (T & 1)), saturated at 0, has
// its top bit set -- so T + ((L -sat (~T & 1)) >> 15) is f32_to_bf16's result, including the
// carry of the largest finite values into inf.  Its NaN branch is not needed here: y is
// fl(fl(a*b) -/+ fl(c*d)) of widened bf16 inputs and finite table values, so a NaN y is an
// input NaN made quiet (L = 0, as in every widened bf16) or the default NaN (0x7FC00000 /
// 0xFFC00000, L = 0): no carry, and T is the quiet NaN's top half = (u >> 16) | 0x40.
template <class DF, class D16>
HWY_INLINE hn::VFromD<D16> PackBF16(DF df, D16 d16, hn::VFromD<DF> even, hn::VFromD<DF> odd) {
  const hn::RebindToUnsigned<DF> du;
  const auto e = hn::BitCast(du, even), o = hn::BitCast(du, odd);
  // OrAnd: one ternary-logic instruction on AVX-512.
  const auto top = hn::BitCast(d16, hn::OrAnd(hn::ShiftRight<16>(e), o, hn::Set(du, 0xFFFF0000u)));
  const auto low = hn::BitCast(d16, hn::OrAnd(hn::ShiftLeft<16>(o), e, hn::Set(du, 0xFFFFu)));
  const auto carry = hn::ShiftRight<15>(hn::SaturatedSub(low, hn::AndNot(top, hn::Set(d16, uint16_t{1}))));
  return hn::Add(top, carry);
}

// Prefetch distance of the input loops, in elements (1 KiB): the hardware prefetcher alone
// left the loads waiting (measured: bf16 ~14 -> ~18 GB/s at 4096 x 32 x 128 with it).
constexpr size_t kAhead = 512;
HWY_INLINE void Ahead(const uint16_t* p) { hwy::Prefetch(p + kAhead); }

// The 16-bit lanes of one vector of the f32 tag d (d16h: N lanes) and of two (d16: 2N lanes).
template <class DF>
using Half16Tag = hn::Repartition<uint16_t, DF>;

// Half-split, bf16: blocks of 2N elements of each half.  cp/sp: the row permuted per block
// (N even-element then N odd-element values), built by the caller.
#if HWY_TARGET == HWY_SCALAR
// One lane cannot hold two 16-bit elements: everything goes through the remainder path.
template <Out kOut, class DF>
size_t HalfSplitBF16(DF, const float*, const float*, const uint16_t*, uint16_t*, size_t) { return 0; }
template <Out kOut, class DF>
size_t InterleavedBF16(DF, const float*, const float*, const uint16_t*, uint16_t*, size_t) { return 0; }
template <class DF>
void PermuteRowBF16(DF, const float*, const float*, float*, float*, size_t) {}
#else
// One block of a half-split head: 2N pairs, elements [i, i+2N) of each half -> y0, y1.
template <class DF, class V16 = hn::VFromD<Half16Tag<DF>>>
HWY_INLINE void HalfSplitBlockBF16(DF df, const float* cp, const float* sp, const uint16_t* xh,
                                   size_t half, size_t i, V16& y0, V16& y1) {
  const hn::RebindToUnsigned<DF> du;
  const Half16Tag<DF> d16;
  const size_t N = hn::Lanes(df);
  Ahead(xh + i), Ahead(xh + half + i);
  const auto a = hn::BitCast(du, hn::LoadU(d16, xh + i));
  const auto b = hn::BitCast(du, hn::LoadU(d16, xh + half + i));
  const auto ae = EvenBF16(du, a), ao = OddBF16(du, a), be = EvenBF16(du, b), bo = OddBF16(du, b);
  const auto ce = hn::LoadU(df, cp + i), co = hn::LoadU(df, cp + i + N);
  const auto se = hn::LoadU(df, sp + i), so = hn::LoadU(df, sp + i + N);
  const auto y0e = hn::Sub(hn::Mul(ae, ce), hn::Mul(be, se));
  const auto y0o = hn::Sub(hn::Mul(ao, co), hn::Mul(bo, so));
  const auto y1e = hn::Add(hn::Mul(ae, se), hn::Mul(be, ce));
  const auto y1o = hn::Add(hn::Mul(ao, so), hn::Mul(bo, co));
  y0 = PackBF16(df, d16, y0e, y0o);
  y1 = PackBF16(df, d16, y1e, y1o);
}
// Interleaved, bf16: the even elements are the x0 of pairs, the odd ones their x1, so the row
// is used as it is (pair j = i/2 + lane).  Elements [i, i+2N).
template <class DF>
HWY_INLINE hn::VFromD<Half16Tag<DF>> InterleavedBlockBF16(DF df, const float* c, const float* s,
                                                         const uint16_t* xh, size_t i) {
  const hn::RebindToUnsigned<DF> du;
  const Half16Tag<DF> d16;
  Ahead(xh + i);
  const auto v = hn::BitCast(du, hn::LoadU(d16, xh + i));
  const auto x0 = EvenBF16(du, v), x1 = OddBF16(du, v);
  const auto vc = hn::LoadU(df, c + i / 2), vs = hn::LoadU(df, s + i / 2);
  const auto y0 = hn::Sub(hn::Mul(x0, vc), hn::Mul(x1, vs));
  const auto y1 = hn::Add(hn::Mul(x0, vs), hn::Mul(x1, vc));
  return PackBF16(df, d16, y0, y1);
}

template <Out kOut, class DF>
size_t HalfSplitBF16(DF df, const float* cp, const float* sp, const uint16_t* xh, uint16_t* yh,
                     size_t half) {
  const Half16Tag<DF> d16;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + 2 * N <= half; i += 2 * N) {
    hn::VFromD<decltype(d16)> y0, y1;
    HalfSplitBlockBF16(df, cp, sp, xh, half, i, y0, y1);
    Put16<kOut>(d16, y0, yh + i);
    Put16<kOut>(d16, y1, yh + half + i);
  }
  return i;
}
template <Out kOut, class DF>
size_t InterleavedBF16(DF df, const float* c, const float* s, const uint16_t* xh, uint16_t* yh,
                       size_t n) {
  const Half16Tag<DF> d16;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) Put16<kOut>(d16, InterleavedBlockBF16(df, c, s, xh, i), yh + i);
  return i;
}

// The row in HalfSplitBF16's order: per block of 2N pairs, the N even ones, then the N odd ones.
template <class DF>
void PermuteRowBF16(DF df, const float* c, const float* s, float* cp, float* sp, size_t full) {
  const size_t N = hn::Lanes(df);
  for (size_t b = 0; b < full; b += 2 * N) {
    const auto c0 = hn::LoadU(df, c + b), c1 = hn::LoadU(df, c + b + N);
    const auto s0 = hn::LoadU(df, s + b), s1 = hn::LoadU(df, s + b + N);
    hn::Store(hn::ConcatEven(df, c1, c0), df, cp + b);
    hn::Store(hn::ConcatOdd(df, c1, c0), df, cp + b + N);
    hn::Store(hn::ConcatEven(df, s1, s0), df, sp + b);
    hn::Store(hn::ConcatOdd(df, s1, s0), df, sp + b + N);
  }
}
#endif  // HWY_TARGET == HWY_SCALAR

#if (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL) && \
    !defined(HWY_DISABLE_F16C)
// f16 with the F16C instructions (vcvtph2ps, vcvtps2ph with round to nearest even): exact
// widening (subnormals too) and IEEE rounding, identical to f16_to_f32 / f32_to_f16 except that
// a signalling NaN input comes out quiet -- which the multiplication right after does anyway.
constexpr bool kF16C = true;
template <class DF>
HWY_INLINE hn::VFromD<DF> LoadF16(DF df, const uint16_t* p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p)));
}
template <Out kOut, class DF>
HWY_INLINE void PutF16(DF df, hn::VFromD<DF> v, uint16_t* p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  const hn::Rebind<uint16_t, DF> du16;
  Put16<kOut>(du16, hn::BitCast(du16, hn::DemoteTo(dh, v)), p);
}
#else
constexpr bool kF16C = false;
template <class DF>
HWY_INLINE hn::VFromD<DF> LoadF16(DF df, const uint16_t* p) {
  return LoadHalf16(df, p, Half16::kF16);
}
template <Out kOut, class DF>
HWY_INLINE void PutF16(DF df, hn::VFromD<DF> v, uint16_t* p) {
  const hn::RebindToSigned<DF> di;
  const hn::Rebind<uint16_t, DF> du16;
  Put16<kOut>(du16, hn::DemoteTo(du16, hn::BitCast(di, F32ToHalf16(df, v, Half16::kF16))), p);
}
#endif

// f16, N elements per step (the lanes in element order).
template <Out kOut, class DF>
size_t HalfSplitF16(DF df, const float* c, const float* s, const uint16_t* xh, uint16_t* yh,
                    size_t half) {
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= half; i += N) {
    Ahead(xh + i), Ahead(xh + half + i);
    const auto vc = hn::LoadU(df, c + i), vs = hn::LoadU(df, s + i);
    const auto x0 = LoadF16(df, xh + i), x1 = LoadF16(df, xh + half + i);
    PutF16<kOut>(df, hn::Sub(hn::Mul(x0, vc), hn::Mul(x1, vs)), yh + i);
    PutF16<kOut>(df, hn::Add(hn::Mul(x0, vs), hn::Mul(x1, vc)), yh + half + i);
  }
  return i;
}
// Interleaved, f16: y = x*cc + swap_adjacent(x)*ss with cc = (c, c), ss = (-s, s) per pair;
// the negation is exact, so fl(fl(x0*c) + fl(x1*(-s))) == fl(fl(x0*c) - fl(x1*s)).
template <Out kOut, class DF>
size_t InterleavedF16(DF df, const float* cc, const float* ss, const uint16_t* xh, uint16_t* yh,
                      size_t n) {
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    Ahead(xh + i);
    const auto v = LoadF16(df, xh + i);
    const auto sw = hn::Reverse2(df, v);
    PutF16<kOut>(df, hn::Add(hn::Mul(v, hn::LoadU(df, cc + i)), hn::Mul(sw, hn::LoadU(df, ss + i))),
                 yh + i);
  }
  return i;
}

// Elements [from, n) of a head one at a time (the rest of a head that is not a whole number
// of vectors): the same arithmetic through the scalar conversions.
void PairsScalar(Half16 kind, bool interleaved, const float* c, const float* s, const uint16_t* xh,
                 uint16_t* yh, size_t from, size_t pairs) {
  for (size_t j = from; j < pairs; ++j) {
    const size_t i0 = interleaved ? 2 * j : j, i1 = interleaved ? 2 * j + 1 : j + pairs;
    const float x0 = ScalarLoad16(xh[i0], kind), x1 = ScalarLoad16(xh[i1], kind);
    const float p0 = x0 * c[j], p1 = x1 * s[j], p2 = x0 * s[j], p3 = x1 * c[j];
    yh[i0] = ScalarStore16(p0 - p1, kind);
    yh[i1] = ScalarStore16(p2 + p3, kind);
  }
}

// All heads of one token.  The vector loops cover whole vectors of each head; what is left
// (head_dim not a multiple of the vector) goes through vectors of N/2, N/4, ... lanes of the
// same code and finally PairsScalar.
template <Out kOut, class DF>
void RotateHeads16(DF df, Half16 kind, const rc_spec& spec, const float* c, const float* s,
                   const uint16_t* x, uint16_t* y, int64_t n_heads, int64_t head_stride) {
  const size_t N = hn::Lanes(df);
  const int rd = spec.rotary_dim;
  const size_t pairs = static_cast<size_t>(rd / 2);
  const size_t tail_bytes = sizeof(uint16_t) * static_cast<size_t>(spec.head_dim - rd);
  const bool inter = spec.layout != RC_LAYOUT_HALF_SPLIT;
  HWY_ALIGN float cp[2 * kMaxPairs], sp[2 * kMaxPairs];
  if (kind == Half16::kBF16 && !inter) {
    // Per block of 2N pairs: the N even-pair values, then the N odd-pair ones.
    PermuteRowBF16(df, c, s, cp, sp, pairs / (2 * N) * (2 * N));
  } else if (kind == Half16::kF16 && inter) {
    for (size_t j = 0; j < pairs; ++j) {
      cp[2 * j] = cp[2 * j + 1] = c[j];
      sp[2 * j] = -s[j];
      sp[2 * j + 1] = s[j];
    }
  }
  for (int64_t h = 0; h < n_heads; ++h) {
    const uint16_t* xh = x + h * head_stride;
    uint16_t* yh = y + h * head_stride;
    size_t done;  // pairs done by the vector loop
    if (kind == Half16::kBF16) {
      done = inter ? InterleavedBF16<kOut>(df, c, s, xh, yh, 2 * pairs) / 2
                   : HalfSplitBF16<kOut>(df, cp, sp, xh, yh, pairs);
    } else {
      done = inter ? InterleavedF16<kOut>(df, cp, sp, xh, yh, 2 * pairs) / 2
                   : HalfSplitF16<kOut>(df, c, s, xh, yh, pairs);
    }
    if (done < pairs) {
      // The rest with plain stores (it need not be aligned for a stream).
      const hn::CappedTag<float, 4> d4;
      const size_t N4 = hn::Lanes(d4);
      if (!inter) {
        for (; done + N4 <= pairs; done += N4) {
          const auto vc = hn::LoadU(d4, c + done), vs = hn::LoadU(d4, s + done);
          const auto x0 = LoadHalf16(d4, xh + done, kind), x1 = LoadHalf16(d4, xh + pairs + done, kind);
          StoreHalf16(d4, hn::Sub(hn::Mul(x0, vc), hn::Mul(x1, vs)), yh + done, kind);
          StoreHalf16(d4, hn::Add(hn::Mul(x0, vs), hn::Mul(x1, vc)), yh + pairs + done, kind);
        }
      }
      PairsScalar(kind, inter, c, s, xh, yh, done, pairs);
    }
    if (xh != yh && tail_bytes) std::memcpy(yh + rd, xh + rd, tail_bytes);
  }
}

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
// A token whose output is one contiguous run (heads packed, whole head rotated) written with
// full-width streams although y is only 16-byte aligned (malloc's alignment): the vectors are
// produced in address order and each aligned 64-byte line is the end of one vector and the
// start of the next (valignd).  The partial lines at the two ends get plain 16-byte stores of
// exactly their bytes: a line written both ways would make the plain store wait for the
// stream to reach memory (measured: half the speed).  kShift = (64 - y % 64) / 4.  Same values
// as RotateHeads16, only the stores differ.
constexpr bool kHaveRealign = true;
template <int kShift>
class Realigner {
 public:
  // Starts a run at y, or continues `run` (may be nullptr) when its pending vector ends at y:
  // that vector becomes this run's previous one, so the line the two share is streamed whole.
  Realigner(uint16_t* y, Half16Run* run) : y_(y), run_(run) {
    if (run_ != nullptr && run_->pending != nullptr && run_->pending + 32 == y) {
      prev_ = hn::Load(d_, run_->tail);
      y_ = run_->pending;
      n_ = 1;
      run_->pending = nullptr;
    } else if (run_ != nullptr) {
      simd_half16_run_flush(*run_);
    }
  }
  HWY_INLINE void Put(hn::Vec512<uint16_t> v) {
    if (n_ == 0) {
      StoreBlocks<0, kShift / 4>(v, y_);  // up to the first line boundary
    } else {
      // Line start: vector n's address minus the m = 64 - 4 kShift bytes of the previous one.
      uint16_t* line = y_ + 32 * n_ - (32 - 2 * kShift);
      hn::Stream(hn::Vec512<uint16_t>{_mm512_alignr_epi32(v.raw, prev_.raw, kShift)}, d_, line);
    }
    prev_ = v;
    ++n_;
  }
  // The last vector's bytes after the last line boundary: written, or left pending in the run.
  HWY_INLINE void Finish() {
    if (n_ == 0) return;
    if (run_ != nullptr) {
      hn::Store(prev_, d_, run_->tail);
      run_->pending = y_ + 32 * (n_ - 1);
    } else {
      StoreBlocks<kShift / 4, 4>(prev_, y_ + 32 * (n_ - 1));
    }
  }

 private:
  // 128-bit blocks [kFirst, kEnd) of v to p + 8 * block.
  template <int kFirst, int kEnd>
  static HWY_INLINE void StoreBlocks(hn::Vec512<uint16_t> v, uint16_t* p) {
    if constexpr (kFirst < kEnd) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 8 * kFirst), _mm512_extracti32x4_epi32(v.raw, kFirst));
      StoreBlocks<kFirst + 1, kEnd>(v, p);
    }
  }
  const hn::Full512<uint16_t> d_;
  uint16_t* y_;
  Half16Run* run_;
  size_t n_ = 0;
  hn::Vec512<uint16_t> prev_ = hn::Zero(hn::Full512<uint16_t>());
};

template <int kShift>
void TokenRealigned(Half16 kind, const rc_spec& spec, const float* c, const float* s,
                    const uint16_t* x, uint16_t* y, int64_t n_heads, Half16Run* run) {
  const hn::Full512<float> df;
  const hn::Full512<uint16_t> d16;
  const hn::Full256<uint16_t> d16h;
  const size_t N = hn::Lanes(df);
  const size_t hd = static_cast<size_t>(spec.head_dim), half = hd / 2;
  const bool inter = spec.layout != RC_LAYOUT_HALF_SPLIT;
  HWY_ALIGN float cp[2 * kMaxPairs], sp[2 * kMaxPairs];
  HWY_ALIGN uint16_t second[kMaxPairs];  // a half-split head's second half, put after the first
  if (kind == Half16::kBF16 && !inter) PermuteRowBF16(df, c, s, cp, sp, half);
  if (kind == Half16::kF16 && inter) {
    for (size_t j = 0; j < half; ++j) {
      cp[2 * j] = cp[2 * j + 1] = c[j];
      sp[2 * j] = -s[j];
      sp[2 * j + 1] = s[j];
    }
  }
  // f16: two vectors of N results, joined (the F16C demotion gives N 16-bit lanes).
  const auto f16 = [&](hn::Vec512<float> lo, hn::Vec512<float> hi) {
    const hn::Full256<hwy::float16_t> dh;
    return hn::Combine(d16, hn::BitCast(d16h, hn::DemoteTo(dh, hi)), hn::BitCast(d16h, hn::DemoteTo(dh, lo)));
  };
  Realigner<kShift> out(y, run);
  for (int64_t h = 0; h < n_heads; ++h) {
    const uint16_t* xh = x + static_cast<size_t>(h) * hd;
    if (kind == Half16::kBF16 && inter) {
      for (size_t i = 0; i < hd; i += 2 * N) out.Put(InterleavedBlockBF16(df, c, s, xh, i));
    } else if (kind == Half16::kBF16) {
      for (size_t i = 0; i < half; i += 2 * N) {
        hn::Vec512<uint16_t> y0, y1;
        HalfSplitBlockBF16(df, cp, sp, xh, half, i, y0, y1);
        out.Put(y0);
        hn::Store(y1, d16, second + i);
      }
      for (size_t i = 0; i < half; i += 2 * N) out.Put(hn::Load(d16, second + i));
    } else if (inter) {
      for (size_t i = 0; i < hd; i += 2 * N) {
        Ahead(xh + i);
        const auto v0 = LoadF16(df, xh + i), v1 = LoadF16(df, xh + i + N);
        const auto r0 = hn::Add(hn::Mul(v0, hn::LoadU(df, cp + i)), hn::Mul(hn::Reverse2(df, v0), hn::LoadU(df, sp + i)));
        const auto r1 = hn::Add(hn::Mul(v1, hn::LoadU(df, cp + i + N)), hn::Mul(hn::Reverse2(df, v1), hn::LoadU(df, sp + i + N)));
        out.Put(f16(r0, r1));
      }
    } else {
      for (size_t i = 0; i < half; i += 2 * N) {
        Ahead(xh + i), Ahead(xh + half + i);
        const auto c0 = hn::LoadU(df, c + i), s0 = hn::LoadU(df, s + i);
        const auto c1 = hn::LoadU(df, c + i + N), s1 = hn::LoadU(df, s + i + N);
        const auto a0 = LoadF16(df, xh + i), b0 = LoadF16(df, xh + half + i);
        const auto a1 = LoadF16(df, xh + i + N), b1 = LoadF16(df, xh + half + i + N);
        out.Put(f16(hn::Sub(hn::Mul(a0, c0), hn::Mul(b0, s0)), hn::Sub(hn::Mul(a1, c1), hn::Mul(b1, s1))));
        hn::Store(f16(hn::Add(hn::Mul(a0, s0), hn::Mul(b0, c0)), hn::Add(hn::Mul(a1, s1), hn::Mul(b1, c1))),
                  d16, second + i);
      }
      for (size_t i = 0; i < half; i += 2 * N) out.Put(hn::Load(d16, second + i));
    }
  }
  out.Finish();
}

// Whether TokenRealigned applies: y 16- but not 64-byte aligned, heads packed and wholly
// rotated, and each half a whole number of 64-byte vectors.
bool Realignable(const rc_spec& spec, const uint16_t* y, int64_t head_stride) {
  const uintptr_t m = reinterpret_cast<uintptr_t>(y) % 64;
  return m % 16 == 0 && m != 0 && head_stride == spec.head_dim && spec.rotary_dim == spec.head_dim &&
         spec.head_dim % 64 == 0;
}
// (A run's pending vector ends at y only if the previous token's y had the same offset in its
// line: its output is a whole number of 64-byte vectors.)
void RotateRealigned(Half16 kind, const rc_spec& spec, const float* c, const float* s,
                     const uint16_t* x, uint16_t* y, int64_t n_heads, Half16Run* run) {
  switch (reinterpret_cast<uintptr_t>(y) % 64) {
    case 16: return TokenRealigned<12>(kind, spec, c, s, x, y, n_heads, run);
    case 32: return TokenRealigned<8>(kind, spec, c, s, x, y, n_heads, run);
    default: return TokenRealigned<4>(kind, spec, c, s, x, y, n_heads, run);
  }
}
#else
constexpr bool kHaveRealign = false;
bool Realignable(const rc_spec&, const uint16_t*, int64_t) { return false; }
void RotateRealigned(Half16, const rc_spec&, const float*, const float*, const uint16_t*, uint16_t*,
                     int64_t, Half16Run*) {}
#endif

// True if every vector store of RotateHeads16 (2N 16-bit lanes, or N for F16C) lands on a
// multiple of `bytes`: y, the head stride and the start of the second half.
bool Aligned16(const rc_spec& spec, const uint16_t* y, int64_t head_stride, size_t bytes) {
  const size_t second = spec.layout == RC_LAYOUT_HALF_SPLIT ? static_cast<size_t>(spec.rotary_dim / 2) : 0;
  return reinterpret_cast<uintptr_t>(y) % bytes == 0 &&
         static_cast<size_t>(head_stride) * 2 % bytes == 0 && second * 2 % bytes == 0;
}

void RotateToken16(Half16 kind, const rc_spec& spec, const float* c, const float* s,
                   const uint16_t* x, uint16_t* y, int64_t n_heads, int64_t head_stride,
                   bool stream, Half16Run* run) {
  const hn::ScalableTag<float> df;
  // Bytes of one 16-bit output vector: 2N lanes for bf16, N for f16 with F16C.
  const size_t vbytes = hn::Lanes(df) * (kind == Half16::kF16 && kF16C ? 2 : 4);
  const bool whole_vectors = stream && Aligned16(spec, y, head_stride, vbytes);
  // (x == y never streams, and a whole token's heads are one run only when packed.)
  if (!whole_vectors && stream && kHaveRealign && Realignable(spec, y, head_stride)) {
    return RotateRealigned(kind, spec, c, s, x, y, n_heads, run);
  }
  // Every other path writes all of its bytes: nothing may stay pending behind it.
  if (run != nullptr) simd_half16_run_flush(*run);
  if (whole_vectors) return RotateHeads16<Out::kStream>(df, kind, spec, c, s, x, y, n_heads, head_stride);
  if (stream && Aligned16(spec, y, head_stride, 16)) {
    return RotateHeads16<Out::kStream16>(df, kind, spec, c, s, x, y, n_heads, head_stride);
  }
  RotateHeads16<Out::kPlain>(df, kind, spec, c, s, x, y, n_heads, head_stride);
}

// The conversions of RotateHeads16's vector loops, n elements (for the exhaustive test).
void Half16ToF32N(Half16 kind, const uint16_t* in, float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  if (kind == Half16::kF16) {
    for (; i + N <= n; i += N) hn::StoreU(LoadF16(d, in + i), d, out + i);
  } else {
    const hn::RebindToUnsigned<decltype(d)> du;
    const hn::Rebind<uint16_t, decltype(d)> d16;
    for (; i + N <= n; i += N) hn::StoreU(EvenBF16(du, hn::PromoteTo(du, hn::LoadU(d16, in + i))), d, out + i);
  }
  for (; i < n; ++i) {  // remainder through a one-lane vector: the remainder paths' code
    const hn::CappedTag<float, 1> d1;
    hn::StoreU(LoadHalf16(d1, in + i, kind), d1, out + i);
  }
}
void F32ToHalf16N(Half16 kind, const float* in, uint16_t* out, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  if (kind == Half16::kF16) {
    for (; i + N <= n; i += N) PutF16<Out::kPlain>(d, hn::LoadU(d, in + i), out + i);
  } else {
#if HWY_TARGET != HWY_SCALAR
    // PackBF16 of in[i..i+N) as the even and in[i+N..i+2N) as the odd elements, unshuffled.
    const Half16Tag<decltype(d)> d16;
    HWY_ALIGN uint16_t packed[2 * hn::MaxLanes(d)];
    for (; i + 2 * N <= n; i += 2 * N) {
      hn::Store(PackBF16(d, d16, hn::LoadU(d, in + i), hn::LoadU(d, in + i + N)), d16, packed);
      for (size_t l = 0; l < N; ++l) out[i + l] = packed[2 * l], out[i + N + l] = packed[2 * l + 1];
    }
#endif
  }
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
                          const uint16_t* x, uint16_t* y, int64_t n_heads, int64_t head_stride,
                          bool stream, Half16Run* run) {
  HWY_DYNAMIC_DISPATCH(RotateToken16)(kind, spec, c, s, x, y, n_heads, head_stride, stream, run);
}
void simd_half16_to_f32(Half16 kind, const uint16_t* in, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(Half16ToF32N)(kind, in, out, n);
}
void simd_f32_to_half16(Half16 kind, const float* in, uint16_t* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(F32ToHalf16N)(kind, in, out, n);
}
}  // namespace ropecheck::impl
#endif

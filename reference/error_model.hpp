// The error model: the a-priori error bound a kernel's declared accuracy contract implies,
// per output pair (design.md "Exactness and the error model"), and the error metric (ulp of
// the pair norm), written once; the differential test, the properties, the gate and the
// reports read them.
//
//   |y - y_exact| <= (1 + 1%) * [ r*(|dphi| + sqrt(2)*eta + 2*gamma2 + eps_a) + u_out*r ]
//   |dphi| <= |t|*theta_j*(eps_theta_j + angle_product_error)*u_angle + |t^ - t|*theta_j
//             + reduced_angle_abs_error      (dphi = 0 when theta_j = 0: no angle is formed)
//
// r = a*|(x0, x1)|.  eps_theta_j = theta_rel_error + the amplification of the variant's
// formulas (theta_amplification_u).  The 1% covers the second-order terms (products of unit
// roundoffs; u <= 2^-8 for every dtype, so they are below 2^-7 of the first-order sum).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "reference/rope_spec.hpp"

namespace ropecheck::ref {

double unit_roundoff(int32_t dtype);   // 2^-p for a p-bit significand
// 24, 53, 11, 8, 104 (f64x2 counted conservatively); 0 for anything else.
inline int significand_bits(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return 24;
    case RC_DTYPE_F64: return 53;
    case RC_DTYPE_F16: return 11;
    case RC_DTYPE_BF16: return 8;
    case RC_DTYPE_F64X2: return 104;
    default: return 0;
  }
}
// 2^(ilogb(r) - (p - 1)) for a finite r > 0, else 0.  For a normal r whose ulp is a normal
// double, the exponent is read and the power of two written from the bits (libm's ilogb and
// ldexp took a tenth of the agreement property's time; the judge measures every pair in ulp,
// twice): the same value.  Inline for that hot path.
inline double ulp_for_precision(double r, int p) {
  if (!(r > 0) || !std::isfinite(r)) return 0.0;
  uint64_t bits;
  std::memcpy(&bits, &r, sizeof bits);
  const int biased = static_cast<int>(bits >> 52);  // r > 0: no sign bit
  const int k = biased - 1023 - (p - 1);
  if (biased != 0 && k >= -1022 && k <= 1023) {
    const uint64_t power = static_cast<uint64_t>(k + 1023) << 52;
    double u;
    std::memcpy(&u, &power, sizeof u);
    return u;
  }
  return std::ldexp(1.0, std::ilogb(r) - (p - 1));
}
// ulp of a positive value r in `dtype`: 2^(floor(log2 r) - (p - 1)).
inline double ulp_in(double r, int32_t dtype) { return ulp_for_precision(r, significand_bits(dtype)); }
// |t^ - t| when t is converted to `position_dtype` (round to nearest; the same for -t).
double position_error(int64_t t, int32_t position_dtype);

// Relative error of theta'_j added by the variant's formulas, in units of the angle dtype's
// u: the rounding of the exponent 2j/d (2k/D for N-D RoPE; e*|ln b'|), b' for NTK/dynamic, the ramp of YaRN
// and the smoothing of llama3 (both amplified by s - 1), the longrope rescale.
double theta_amplification_u(const rc_accuracy& acc, const RopeSpec& spec, int pair);

// YaRN's correction range is discontinuous in two places: truncate = true floors/ceils it, and
// its ramp changes orientation when high - low changes sign.  When the exact spec is within a
// kernel's rounding (forming the range in `angle_dtype`) of either, the kernel may land on the
// other side: the spec is ill-conditioned and the bound admits both (theta_amplification_u).
// Returns a sentence saying so (for a warning), or "" for a well-conditioned spec.
std::string yarn_range_warning(const RopeSpec& spec, int32_t angle_dtype);

struct PairBound {
  double dphi = 0;   // bound on the angle error (radians)
  double bound = 0;  // bound on |y - y_exact| (absolute, before the cap)
  // Its terms (absolute, each with the model's 1%): the angle r·|dphi|, sin/cos r·√2·η, the
  // rotation arithmetic r·2γ₂, and the attention factor and output rounding r·(ε_a + u_out).
  double angle = 0, sincos = 0, arithmetic = 0, other = 0;
};
// theta_exact: theta'_j (exact, to double); r: a*|(x0, x1)|; attention: a.
PairBound pair_error_bound(const rc_kernel_desc& desc, const RopeSpec& spec, int pair,
                           int64_t t, double theta_exact, double r, double attention);

// Spacing of the subnormals of `dtype`: the absolute error of one rounding there.
double denorm_min(int32_t dtype);

// The cap of every pair bound, in units of r.  An angle error, however large, only turns the
// output pair, so an output of norm r is at most |y| + |y_exact| = 2·r from exact (a sign
// error); the cap is that times the model's (1 + 1%), the 1% holding the output's own
// magnitude error (√2·η + 2γ₂ + ε_a + u_out of pair_error_bound).  That is below 1% of r when
// sin/cos and the rotation are computed in f32 or wider, whatever the output dtype
// (u_out <= 2^-7); a kernel computing them in bf16 or f16 can exceed it (2γ₂ alone is ~2^-6
// in bf16).  A pair bound at the cap says "any value" (properties/tests/
// bound_tightness_test.cpp leaves such pairs out of its tightness measure).
inline constexpr double kPairBoundCap = 2.0 * 1.01;

// The bound every check uses: pair_error_bound, capped at kPairBoundCap·r (above), plus an
// absolute floor for subnormal arithmetic — each of the ≤ 4 products and 2 sums of a pair can
// lose half a subnormal spacing of the compute dtype, and the output rounding one spacing of
// the output dtype.
double pair_bound(const rc_kernel_desc& desc, const RopeSpec& spec, int pair, int64_t t,
                  double theta_exact, double r, double attention);

// The terms of the bound that depend on the kernel's contract alone (pair_error_bound's
// u_angle, reduced angle error, eta, gamma2, eps_a, u_out and the subnormal floor).
struct ContractTerms {
  double theta_rel_error = 0, angle_product_error = 0, u_angle = 0, reduced = 0;
  int32_t position_dtype = 0;
  bool cache = false;  // a kernel reading ropecheck's cos/sin cache forms no angle
  double eta = 0, sqrt2_eta = 0, gamma2 = 0, two_gamma2 = 0;
  double eps_a = 0;    // the attention factor's error, counted where a != 1
  double u_out = 0;
  double floor_abs = 0;  // the subnormal floor of pair_bound
};
ContractTerms contract_terms(const rc_kernel_desc& desc);

// pair_bound for one kernel and spec at many positions: the per-pair amplification
// (theta_amplification_u, the costly part) and the contract's terms formed once, so a call is a
// few multiplications (the judge's hot path).  pair_bound and PairBounds share one formula
// (error_model.cpp, bound_of); SupportedDomain.* compares them bit for bit.
class PairBounds {
 public:
  PairBounds(const rc_kernel_desc& desc, const RopeSpec& spec);
  double operator()(int pair, int64_t t, double theta_exact, double r, double attention) const;

 private:
  ContractTerms terms_;
  std::vector<double> amplification_u_;  // per pair
};

// The error metric: err in units of ulp(r) in `dtype` (r the pair norm; components cancel,
// so never ulp(y_j)).  r = 0 gives 0 for err = 0 and +inf otherwise; NaN stays NaN.
inline double ulps_of_pair_norm(double err, double r, int32_t dtype) {
  const double u = ulp_in(r, dtype);
  return u > 0 ? err / u : (err > 0 ? INFINITY : err);
}

}  // namespace ropecheck::ref

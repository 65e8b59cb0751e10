#include "reference/error_model.hpp"

#include <algorithm>
#include <cmath>

namespace ropecheck::ref {

int significand_bits(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return 24;
    case RC_DTYPE_F64: return 53;
    case RC_DTYPE_F16: return 11;
    case RC_DTYPE_BF16: return 8;
    case RC_DTYPE_F64X2: return 104;
    default: return 0;
  }
}
double unit_roundoff(int32_t dtype) {
  const int p = significand_bits(dtype);
  return p > 0 ? std::ldexp(1.0, -p) : 0.0;
}
double ulp_in(double r, int32_t dtype) {
  if (!(r > 0) || !std::isfinite(r)) return 0.0;
  return std::ldexp(1.0, std::ilogb(r) - (significand_bits(dtype) - 1));
}
double position_error(int64_t t, int32_t position_dtype) {
  if (position_dtype == RC_DTYPE_I64 || t <= 0) return 0.0;
  const int p = significand_bits(position_dtype);
  if (p <= 0 || p >= 63) return 0.0;
  if (t <= (int64_t{1} << p)) return 0.0;  // every integer up to 2^p is exact
  return std::ldexp(1.0, std::ilogb(static_cast<double>(t)) - p);  // half an ulp of t
}

double theta_amplification_u(const rc_accuracy& acc, const RopeSpec& spec, int pair) {
  const int d = spec.rotary_dim;
  const double e = 2.0 * pair / d, s = spec.factor;
  double base = spec.base, amp = 0.0;
  if (spec.type == RopeType::kNtk || spec.type == RopeType::kDynamic) {
    double q = s;
    if (spec.type == RopeType::kDynamic) {
      const double len = static_cast<double>(spec.effective_seq_len());
      const double lmax = static_cast<double>(spec.max_position_embeddings);
      q = len > lmax ? s * len / lmax - (s - 1.0) : 1.0;
    }
    base *= std::pow(q, static_cast<double>(d) / (d - 2));
    // b' = b*q^(d/(d-2)): pow (2u), exponent (|ln q|*d/(d-2)*u), the product and q (2u).
    amp += e * (std::fabs(std::log(q)) * d / (d - 2) + 4.0);
  }
  amp += e * std::fabs(std::log(base));  // the exponent 2j/d rounded before pow
  const double eps = acc.theta_rel_error;
  switch (spec.type) {
    case RopeType::kLinear:
      amp += 1.0;
      break;
    case RopeType::kYarn: {
      // 1/(s*pos) (2u), the mixture (3u).  An absolute error dg of the ramp
      // g = (j - low)/(high - low) moves theta' by up to (theta - theta/s) dg, i.e. relative
      // (s - 1) dg.  dg is 2u (the subtraction and the division), plus, when the correction
      // range is not truncated to integers, the errors of low and high themselves over
      // (high - low).  Each is x = d ln(L0/(beta 2 pi)) / (2 ln b), formed in the angle dtype
      // (or finer): beta 2 pi (2u), the quotient (3u, which ln turns into 3u absolute), ln
      // (1 ulp = 2u relative), d * (u), ln b (2u), the division (u): |dx| <= u (6|x| + 3 d /
      // (2 ln b)); HF's float32 ramp also rounds low and high to float (u|x| each, included).
      // A pair clear of the ramp (g clamped to 0 or 1) is not moved by dg.
      double ramp_u = 2.0;
      if (!spec.truncate) {
        const double l0 = static_cast<double>(spec.effective_original_max());
        const double per_log = d / (2.0 * std::log(spec.base));
        const auto corr = [&](double beta) { return per_log * std::log(l0 / (beta * 2.0 * M_PI)); };
        const double low = std::max(corr(spec.beta_fast), 0.0);
        const double high = std::max(std::min(corr(spec.beta_slow), d - 1.0), low + 0.001);
        const double dx = 6.0 * std::max(std::fabs(low), std::fabs(high)) + 3.0 * std::fabs(per_log);
        const double j = pair;
        if (j > low - 1.0 && j < high + 1.0) ramp_u += dx / (high - low);
      }
      amp += 5.0 + ramp_u * std::max(0.0, s - 1.0);
      break;
    }
    case RopeType::kLlama3: {
      const double theta = std::pow(spec.base, -e);
      const double wavelen = 2.0 * M_PI / theta;
      const double l0 = static_cast<double>(spec.effective_original_max());
      const double lf = spec.low_freq_factor, hf = spec.high_freq_factor;
      if (wavelen > l0 / lf) {
        amp += 1.0;  // theta / s
      } else if (wavelen >= l0 / hf) {
        // smooth = (L0/wavelen - lf)/(hf - lf): wavelen carries theta's error plus 2u, the
        // quotient, subtraction and division 3u; |L0/wavelen| <= hf so the absolute error
        // is hf/(hf-lf) * that; theta' moves by (s - 1) times it, plus 4u of arithmetic.
        amp += 4.0 + std::max(0.0, s - 1.0) * (hf / (hf - lf) * (eps + 5.0) + 2.0);
      }
      break;
    }
    case RopeType::kLongrope:
      amp += 3.0;  // ext rounded, the product, the reciprocal
      break;
    default:
      break;
  }
  return amp;
}

namespace {

PairBound pair_error_bound_amplified(const rc_kernel_desc& desc, double amplification_u, int64_t t,
                                     double theta_exact, double r, double attention) {
  const rc_accuracy& acc = desc.accuracy;
  const double u_angle = acc.angle_unit_roundoff;
  const double eps_theta = acc.theta_rel_error + amplification_u;
  const double td = static_cast<double>(t);
  PairBound b;
  b.dphi = td * theta_exact * (eps_theta + acc.angle_product_error) * u_angle +
           position_error(t, acc.position_dtype) * theta_exact + acc.reduced_angle_abs_error;
  const double u_sc = unit_roundoff(acc.sincos_dtype);
  const double eta = acc.sincos_ulp * u_sc;
  const double eps_a = attention != 1.0 ? acc.attention_rel_error * u_sc : 0.0;
  const double u_c = unit_roundoff(acc.compute_dtype);
  const double gamma2 = 2.0 * u_c / (1.0 - 2.0 * u_c);
  const double u_out =
      acc.output_rounding == RC_ROUND_NONE ? 0.0 : unit_roundoff(desc.out_dtype) *
                                                       (acc.output_rounding == RC_ROUND_OTHER ? 2.0 : 1.0);
  b.bound = 1.01 * r * (b.dphi + std::sqrt(2.0) * eta + 2.0 * gamma2 + eps_a + u_out);
  return b;
}

double capped_bound(const rc_kernel_desc& d, const PairBound& b, double r) {
  const double floor_abs = 4 * denorm_min(d.accuracy.compute_dtype) + denorm_min(d.out_dtype);
  return std::min(b.bound, 2.02 * r) + floor_abs;
}

}  // namespace

PairBound pair_error_bound(const rc_kernel_desc& desc, const RopeSpec& spec, int pair,
                           int64_t t, double theta_exact, double r, double attention) {
  return pair_error_bound_amplified(desc, theta_amplification_u(desc.accuracy, spec, pair), t, theta_exact, r,
                                    attention);
}

double denorm_min(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return 0x1p-149;
    case RC_DTYPE_F16: return 0x1p-24;
    case RC_DTYPE_BF16: return 0x1p-133;
    default: return 0x1p-1074;
  }
}

double pair_bound(const rc_kernel_desc& d, const RopeSpec& spec, int pair, int64_t t,
                  double theta_exact, double r, double attention) {
  return capped_bound(d, pair_error_bound(d, spec, pair, t, theta_exact, r, attention), r);
}

PairBounds::PairBounds(const rc_kernel_desc& desc, const RopeSpec& spec) : desc_(&desc) {
  amplification_u_.reserve(static_cast<size_t>(std::max(spec.pairs(), 0)));
  for (int j = 0; j < spec.pairs(); ++j) amplification_u_.push_back(theta_amplification_u(desc.accuracy, spec, j));
}

double PairBounds::operator()(int pair, int64_t t, double theta_exact, double r, double attention) const {
  const double amp = amplification_u_.at(static_cast<size_t>(pair));
  return capped_bound(*desc_, pair_error_bound_amplified(*desc_, amp, t, theta_exact, r, attention), r);
}

double ulps_of_pair_norm(double err, double r, int32_t dtype) {
  const double u = ulp_in(r, dtype);
  return u > 0 ? err / u : (err > 0 ? INFINITY : err);
}

}  // namespace ropecheck::ref

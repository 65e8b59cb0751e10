#include "reference/error_model.hpp"

#include "impl/abi.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace ropecheck::ref {

double unit_roundoff(int32_t dtype) {
  const int p = significand_bits(dtype);
  return p > 0 ? std::ldexp(1.0, -p) : 0.0;
}
double position_error(int64_t t, int32_t position_dtype) {
  // Round to nearest is symmetric: −t converts with the error of t (−2^63 is exact).
  if (t < 0) t = t == INT64_MIN ? 0 : -t;
  if (position_dtype == RC_DTYPE_I64 || t <= 0) return 0.0;
  const int p = significand_bits(position_dtype);
  if (p <= 0 || p >= 63) return 0.0;
  if (t <= (int64_t{1} << p)) return 0.0;  // every integer up to 2^p is exact
  return std::ldexp(1.0, std::ilogb(static_cast<double>(t)) - p);  // half an ulp of t
}

namespace {

// theta' = theta (1 - g (1 - 1/s)) for a mixing weight g in [0, 1] (YaRN's ramp; llama3's
// smooth factor has the same form): an absolute error dg moves theta' by the relative
// |1 - 1/s| dg / (1 - g (1 - 1/s)) <= (s - 1) dg for s >= 1 (the denominator is >= 1/s) and
// (1/s - 1) dg for s < 1 (the denominator is >= 1).
double mix_sensitivity(double s) { return s >= 1.0 ? s - 1.0 : 1.0 / s - 1.0; }

// The unit roundoff a recipe's scalar parameters are formed in (f32 when a contract leaves it 0).
double angle_u(const rc_accuracy& acc) {
  return acc.angle_unit_roundoff > 0 ? acc.angle_unit_roundoff : unit_roundoff(RC_DTYPE_F32);
}

// YaRN's ramp g_j = clamp((j - low)/(high - low), 0, 1) with the recipe's clamps of the
// correction range (low >= 0, high <= d - 1, high = low + 0.001 when they meet).
double yarn_ramp(double j, double low, double high, int d) {
  low = std::max(low, 0.0);
  high = std::min(high, d - 1.0);
  if (low == high) high += 0.001;
  return std::clamp((j - low) / (high - low), 0.0, 1.0);
}

const char* dtype_label(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return "f32";
    case RC_DTYPE_F64: return "f64";
    case RC_DTYPE_F16: return "f16";
    case RC_DTYPE_BF16: return "bf16";
    case RC_DTYPE_F64X2: return "double-double";
    default: return "its angle dtype";
  }
}

struct YarnRange {
  double per_log = 0;            // d / (2 ln b)
  double x_low = 0, x_high = 0;  // the correction dims of beta_fast and beta_slow, in double
  double lows[2] = {0, 0}, highs[2] = {0, 0};  // floor(x_low), ceil(x_high) either way of the window
  // Not truncated: high - low (after the recipe's clamps) within rounding of 0, so a kernel
  // may see the range reversed, empty (then high = low + 0.001) or ordered.
  bool degenerate = false;
  bool truncation_ambiguous() const { return lows[0] != lows[1] || highs[0] != highs[1]; }
};

// x = d ln(L0/(beta 2 pi)) / (2 ln b).  A kernel forming x in a dtype of unit roundoff u
// (or finer) is within u (6|x| + 3 d/(2 ln b)) of it (derivation at the YaRN case below);
// this x is itself double, a few ulp of the same terms: 8 u(f64) more.
YarnRange yarn_range(const RopeSpec& spec, double u) {
  YarnRange r;
  const double l0 = static_cast<double>(spec.effective_original_max());
  r.per_log = spec.rotary_dim / (2.0 * std::log(spec.base));
  const auto corr = [&](double beta) { return r.per_log * std::log(l0 / (beta * 2.0 * M_PI)); };
  r.x_low = corr(spec.beta_fast);
  r.x_high = corr(spec.beta_slow);
  const auto window = [&](double x) {
    return (u + 8.0 * unit_roundoff(RC_DTYPE_F64)) * (6.0 * std::fabs(x) + 3.0 * std::fabs(r.per_log));
  };
  r.lows[0] = std::floor(r.x_low - window(r.x_low));
  r.lows[1] = std::floor(r.x_low + window(r.x_low));
  r.highs[0] = std::ceil(r.x_high - window(r.x_high));
  r.highs[1] = std::ceil(r.x_high + window(r.x_high));
  const double top = spec.rotary_dim - 1.0;
  if (spec.beta_fast == spec.beta_slow) {
    // low and high are the same number in any kernel (the recipe's own empty range), until
    // the clamps (low >= 0, high <= d - 1) separate them: near 0 or d - 1 one side may clamp
    // and the other not -- an empty range in the kernel, reversed by a hair in exact math.
    const double w = window(r.x_low);
    r.degenerate = std::fabs(r.x_low) <= w || std::fabs(r.x_low - top) <= w;
  } else {
    const double span = std::min(r.x_high, top) - std::max(r.x_low, 0.0);
    r.degenerate = std::fabs(span) <= window(r.x_low) + window(r.x_high);
  }
  return r;
}

}  // namespace

std::string yarn_range_warning(const RopeSpec& spec, int32_t angle_dtype) {
  if (spec.type != RopeType::kYarn) return "";
  const YarnRange r = yarn_range(spec, unit_roundoff(angle_dtype));
  const char* dt = dtype_label(angle_dtype);
  char buf[640];
  if (spec.truncate && r.truncation_ambiguous()) {
    const bool low = r.lows[0] != r.lows[1];
    std::snprintf(buf, sizeof buf,
                  "yarn correction range: %s = %s(%.17g) is within %s rounding of an integer, so a "
                  "kernel that computes it in %s may round it to %g or %g; the ramp of the pairs between "
                  "low and high then differs from the exact math by up to 1/(high - low), and the error "
                  "bound admits either value there (beta_%s = %.17g; move it slightly to make the spec "
                  "well-conditioned)",
                  low ? "low" : "high", low ? "floor" : "ceil", low ? r.x_low : r.x_high, dt, dt,
                  low ? r.lows[0] : r.highs[0], low ? r.lows[1] : r.highs[1], low ? "fast" : "slow",
                  low ? spec.beta_fast : spec.beta_slow);
    return buf;
  }
  if (!spec.truncate && r.degenerate) {
    std::snprintf(buf, sizeof buf,
                  "yarn correction range: low = %.17g and high = %.17g (beta_fast = %.17g, beta_slow = "
                  "%.17g, not truncated) are within %s rounding of each other, so a kernel may see the "
                  "range ordered, empty or reversed, and the ramp of every pair can be 0 or 1; the error "
                  "bound admits both for every pair (make beta_fast clearly larger than beta_slow)",
                  r.x_low, r.x_high, spec.beta_fast, spec.beta_slow, dt);
    return buf;
  }
  return "";
}

double theta_amplification_u(const rc_accuracy& acc, const RopeSpec& spec, int pair) {
  // No rope: θ'_j = 0 is no formula, so nothing is amplified (and t·θ'_j = 0 takes no angle
  // error whatever this said).
  if (spec.type == RopeType::kNone) return 0.0;
  const int d = spec.rotary_dim;
  // The exponent 2k/D of the pair: 2j/d, but the pair's own index and width for N-D RoPE
  // (frequency_exponent: FLUX's 2i/d_a, Pixtral's dealt 2(n i + a)/d).  N-D is default-type
  // only, so the variants below that use d and the pair index see 1-D specs alone.
  int k = pair, dk = d;
  spec.frequency_exponent(pair, &k, &dk);
  const double e = 2.0 * k / dk, s = spec.factor;
  double base = spec.base, amp = 0.0;
  if (spec.type == RopeType::kNtk || spec.type == RopeType::kDynamic) {
    double q = s;
    // Relative error of q in u: s itself is exact.
    double q_u = 0.0;
    if (spec.type == RopeType::kDynamic) {
      const double len = static_cast<double>(spec.effective_seq_len());
      const double lmax = static_cast<double>(spec.max_position_embeddings);
      q = len > lmax ? s * len / lmax - (s - 1.0) : 1.0;
      // q = s L/L_max - (s - 1), x = L/L_max > 1: s x carries 4u (L and L_max converted to the
      // parameter type -- inexact above 2^53 for a double recipe --, the product, the
      // quotient), s - 1 one u of itself, the difference one u of q.  The subtraction cancels
      // when L is just above L_max and s is large: |dq| <= u (4 s x + (s - 1) + q), relative
      // 1 + (4 s x + s - 1)/q -- about 5s for L = L_max + 1 (s = 1e3: 5000u, where the model
      // once counted 1u and the f64 recipe was 54 times over it).
      if (len > lmax) q_u = 1.0 + (4.0 * s * len / lmax + (s - 1.0)) / q;
    }
    base *= std::pow(q, static_cast<double>(d) / (d - 2));
    // b' = b*q^(d/(d-2)): the exponent d/(d-2) rounded (|ln q|*d/(d-2)*u), q's error raised to
    // it (q_u*d/(d-2)), pow (2u), the product with b (u), and 1u kept from the count before
    // q's error had its own term (not needed, not removed: no bound got smaller).
    amp += e * ((std::fabs(std::log(q)) + q_u) * d / (d - 2) + 4.0);
  }
  amp += e * std::fabs(std::log(base));  // the exponent 2j/d rounded before pow
  const double eps = acc.theta_rel_error;
  switch (spec.type) {
    case RopeType::kLinear:
    case RopeType::kProportional:  // θ_j / s, or exactly 0 (no angle, no error) beyond rope_angles
      amp += 1.0;
      break;
    case RopeType::kYarn: {
      // 1/(s*pos) (2u), the mixture (3u).  An absolute error dg of the ramp
      // g = (j - low)/(high - low) moves theta' by up to mix_sensitivity(s) dg, relative.
      // dg is 2u (the subtraction and the division) plus what the correction range's own
      // errors do.  low and high are x = d ln(L0/(beta 2 pi)) / (2 ln b), formed in the angle
      // dtype (or finer): beta 2 pi (2u), the quotient (3u, which ln turns into 3u absolute),
      // ln (1 ulp = 2u relative), d * (u), ln b (2u), the division (u): |dx| <= u (6|x| +
      // 3 d / (2 ln b)); HF's float32 ramp also rounds low and high to float (u|x| each,
      // included).  A double recipe also rounds an L0 above 2^53 (one u more in the quotient):
      // the untruncated dx below counts 4 d/(2 ln b); yarn_range's window has 8 u(f64) to spare.
      //  - Not truncated: dg <= dx / (high - low) inside the ramp; a pair clear of the ramp
      //    (g clamped to 0 or 1) is not moved.  When high - low itself is within rounding of
      //    0, the kernel may see the range reversed (g = 1 below it, 0 above) or empty
      //    (high = low + 0.001): dg = 1 for every pair.
      //  - Truncated (floor(low), ceil(high)): integers, so no error at all -- unless the
      //    exact x lies within dx of an integer.  Then a faithful kernel may floor (ceil) to
      //    the neighbouring integer and every pair's ramp moves by up to 1/(high - low): the
      //    spec is ill-conditioned there and the bound must admit either integer.  dg is the
      //    spread of g_j over the integers each end can round to (yarn_range: the window
      //    also covers this x's own double rounding).
      const double u = angle_u(acc);
      const YarnRange range = yarn_range(spec, u);
      const double j = pair;
      double ramp_u = 2.0;
      if (!spec.truncate) {
        // The ramp runs between low and high, in either order (beta_fast < beta_slow
        // reverses it); |dg| <= max(|dlow|, |dhigh|) / |high - low| inside it.  Not
        // degenerate: |high - low| is clear of the rounding, or exactly 0 in any kernel.
        const double low = std::max(range.x_low, 0.0), high = std::min(range.x_high, d - 1.0);
        const double dx = 6.0 * std::max(std::fabs(low), std::fabs(high)) + 4.0 * std::fabs(range.per_log);
        if (range.degenerate) {
          ramp_u += 1.0 / u;  // ordered, empty or reversed: g_j may be 0 or 1 for every pair
        } else if (j > std::min(low, high) - 1.0 && j < std::max(low, high) + 1.0) {
          // (Equal low and high: the recipe's high = low + 0.001.)
          ramp_u += dx / (low == high ? 0.001 : std::fabs(high - low));
        }
      } else if (range.truncation_ambiguous()) {
        double g_min = 1.0, g_max = 0.0;
        for (const double lo : range.lows) {
          for (const double hi : range.highs) {
            const double g = yarn_ramp(j, lo, hi, d);
            g_min = std::min(g_min, g);
            g_max = std::max(g_max, g);
          }
        }
        ramp_u += (g_max - g_min) / u;
      }
      amp += 5.0 + ramp_u * mix_sensitivity(s);
      break;
    }
    case RopeType::kLlama3: {
      const double theta = std::pow(spec.base, -e);
      const double wavelen = 2.0 * M_PI / theta;
      const double l0 = static_cast<double>(spec.effective_original_max());
      const double lf = spec.low_freq_factor, hf = spec.high_freq_factor;
      // wavelen = 2 pi / theta carries theta's relative error (theta_rel_error and the
      // exponent's rounding, `amp` so far) plus 2u.  A kernel picks the region by its own
      // wavelen, so within that error of a boundary it may take the neighbouring one; the
      // formulas meet continuously there (smooth = 0 at L0/lf gives theta/s, smooth = 1 at
      // L0/hf gives theta), and the medium term, which covers both neighbours, applies.
      const double wavelen_u = eps + amp + 2.0;
      const double tol = wavelen_u * acc.angle_unit_roundoff;
      if (wavelen > l0 / lf * (1.0 + tol)) {
        amp += 1.0;  // theta / s
      } else if (wavelen >= l0 / hf * (1.0 - tol)) {
        // smooth = (L0/wavelen - lf)/(hf - lf): wavelen's error, then the quotient,
        // subtraction and division 3u; |L0/wavelen| <= hf (to within tol) so the absolute
        // error is hf/(hf-lf) * that; theta' moves by mix_sensitivity(s) times it, plus 4u of
        // arithmetic.  lf == hf (Llama 4) has no smooth band: the formulas do not meet, and a
        // kernel within tol of L0/lf may take theta or theta/s (a weight error of 1).
        const double smooth_u = lf == hf ? 1.0 / angle_u(acc) : hf / (hf - lf) * (wavelen_u + 3.0);
        amp += 4.0 + mix_sensitivity(s) * (smooth_u + 2.0);
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

ContractTerms contract_terms(const rc_kernel_desc& desc) {
  const rc_accuracy& acc = desc.accuracy;
  ContractTerms k;
  k.theta_rel_error = acc.theta_rel_error;
  k.angle_product_error = acc.angle_product_error;
  k.u_angle = acc.angle_unit_roundoff;
  k.reduced = acc.reduced_angle_abs_error;
  k.position_dtype = acc.position_dtype;
  // A kernel that reads the cos/sin cache ropecheck builds (ABI 2) forms no angle: the cache is
  // exact math correctly rounded, and its rounding is the kernel's declared sin/cos error.
  k.cache = impl::cache_of(desc) != RC_CACHE_NONE;
  const double u_sc = unit_roundoff(acc.sincos_dtype);
  k.eta = acc.sincos_ulp * u_sc;
  k.sqrt2_eta = std::sqrt(2.0) * k.eta;
  const double u_c = unit_roundoff(acc.compute_dtype);
  k.gamma2 = 2.0 * u_c / (1.0 - 2.0 * u_c);
  k.two_gamma2 = 2.0 * k.gamma2;
  k.eps_a = acc.attention_rel_error * u_sc;
  k.u_out = acc.output_rounding == RC_ROUND_NONE
                ? 0.0
                : unit_roundoff(desc.out_dtype) * (acc.output_rounding == RC_ROUND_OTHER ? 2.0 : 1.0);
  k.floor_abs = 4 * denorm_min(acc.compute_dtype) + denorm_min(desc.out_dtype);
  return k;
}

namespace {

// The bound of one pair (the formula at the top of error_model.hpp), eps_theta_j =
// theta_rel_error + amplification_u.
PairBound bound_of(const ContractTerms& k, double amplification_u, int64_t t, double theta_exact, double r,
                   double attention) {
  const double eps_theta = k.theta_rel_error + amplification_u;
  // The angle error grows with |t|: a negative position (R(x, −t) = R⁻¹(x, t)) and an inverse
  // call rotate by −t·θ_j, formed with the same operations as +t·θ_j.
  const double td = std::fabs(static_cast<double>(t));
  // position_error is 0 for int64 positions (the sum is the same without it).
  const double position = k.position_dtype == RC_DTYPE_I64 ? 0.0 : position_error(t, k.position_dtype) * theta_exact;
  PairBound b;
  // θ_j = 0 (rope type none; proportional's padded pairs): every recipe forms the angle t·0 = 0
  // exactly, and reducing 0 gives 0, so the pair has no angle term at all -- not even the
  // declared reduction error, which is an error of reducing a non-zero angle.
  b.dphi = k.cache || theta_exact == 0
               ? 0.0
               : td * theta_exact * (eps_theta + k.angle_product_error) * k.u_angle + position + k.reduced;
  const double eps_a = attention != 1.0 ? k.eps_a : 0.0;
  b.angle = 1.01 * r * b.dphi;
  b.sincos = 1.01 * r * std::sqrt(2.0) * k.eta;
  b.arithmetic = 1.01 * r * 2.0 * k.gamma2;
  b.other = 1.01 * r * (eps_a + k.u_out);
  b.bound = 1.01 * r * (b.dphi + k.sqrt2_eta + k.two_gamma2 + eps_a + k.u_out);
  return b;
}

double capped_bound(const ContractTerms& k, const PairBound& b, double r) {
  return std::min(b.bound, kPairBoundCap * r) + k.floor_abs;
}

}  // namespace

// eps_theta_j beyond theta_rel_error: the variant's formulas, and an error that grows with the
// frequency index where the kernel declares one (ABI 2: ggml's iterated theta *= theta_scale;
// the index is the pair's j, or for N-D RoPE its k in b^(-2k/D), which an iteration over the
// axis's (or, dealt, the whole) frequencies reaches).
static double theta_excess_u(const rc_kernel_desc& desc, const RopeSpec& spec, int pair) {
  int k = pair, dk = 0;
  spec.frequency_exponent(pair, &k, &dk);
  return theta_amplification_u(desc.accuracy, spec, pair) + k * impl::theta_error_per_pair_of(desc);
}

PairBound pair_error_bound(const rc_kernel_desc& desc, const RopeSpec& spec, int pair,
                           int64_t t, double theta_exact, double r, double attention) {
  return bound_of(contract_terms(desc), theta_excess_u(desc, spec, pair), t, theta_exact, r, attention);
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
  return capped_bound(contract_terms(d), pair_error_bound(d, spec, pair, t, theta_exact, r, attention), r);
}

PairBounds::PairBounds(const rc_kernel_desc& desc, const RopeSpec& spec) : terms_(contract_terms(desc)) {
  amplification_u_.reserve(static_cast<size_t>(std::max(spec.pairs(), 0)));
  for (int j = 0; j < spec.pairs(); ++j) amplification_u_.push_back(theta_excess_u(desc, spec, j));
}

double PairBounds::operator()(int pair, int64_t t, double theta_exact, double r, double attention) const {
  const double amp = amplification_u_.at(static_cast<size_t>(pair));
  return capped_bound(terms_, bound_of(terms_, amp, t, theta_exact, r, attention), r);
}

}  // namespace ropecheck::ref

// The recipe view (see recipe_view.hpp for the method and its error analysis).
#include "properties/recipe_view.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "impl/abi.hpp"
#include "reference/error_model.hpp"

namespace ropecheck::props {

namespace {

constexpr long double kTwoPiL = 6.283185307179586476925286766559005768L;
// The best fit of a θ̂ the check at 2^(k+1) rejects: candidates within kFitSteps steps of the
// angle dtype, judged over the powers 2^(k-kFitBelow) … 2^(k+1).
constexpr int kFitSteps = 4;
constexpr int kFitBelow = 6;

// Rounds v to the angle dtype of the recipe (F32 or F64).
double round_angle(long double v, int32_t dtype) {
  return dtype == RC_DTYPE_F32 ? static_cast<double>(static_cast<float>(v)) : static_cast<double>(v);
}

// t as the kernel sees it after converting it to its position dtype.
double position_as_seen(int64_t t, int32_t position_dtype) {
  switch (position_dtype) {
    case RC_DTYPE_F32: return static_cast<double>(static_cast<float>(t));
    case RC_DTYPE_F16:
    case RC_DTYPE_BF16: return round_to_dtype(static_cast<double>(t), position_dtype);
    default: return static_cast<double>(t);  // F64 (exact to 2^53); I64 within double range
  }
}

// The whole per-pair error of the recipe view, relative to r: η + 2γ₂ + u_out (+ ε_a).
double rotation_error_rel(const rc_kernel_desc& d) {
  const rc_accuracy& acc = d.accuracy;
  const double u_c = ref::unit_roundoff(acc.compute_dtype);
  const double u_out = acc.output_rounding == RC_ROUND_NONE ? 0.0 : ref::unit_roundoff(d.out_dtype);
  return acc.sincos_ulp * ref::unit_roundoff(acc.sincos_dtype) + 2 * u_c + u_out;
}

}  // namespace

double recipe_view_bound(const rc_kernel_desc& d, double r, double attention, double dphi) {
  const rc_accuracy& acc = d.accuracy;
  // Same terms, in the same order, as ref::pair_error_bound with dphi = 0.
  const double u_sc = ref::unit_roundoff(acc.sincos_dtype);
  const double eta = acc.sincos_ulp * u_sc;
  const double eps_a = attention != 1.0 ? acc.attention_rel_error * u_sc : 0.0;
  const double u_c = ref::unit_roundoff(acc.compute_dtype);
  const double gamma2 = 2.0 * u_c / (1.0 - 2.0 * u_c);
  const double u_out = acc.output_rounding == RC_ROUND_NONE
                           ? 0.0
                           : ref::unit_roundoff(d.out_dtype) * (acc.output_rounding == RC_ROUND_OTHER ? 2.0 : 1.0);
  const double b = 1.01 * r * (dphi + std::sqrt(2.0) * eta + 2.0 * gamma2 + eps_a + u_out);
  const double floor_abs = 4 * ref::denorm_min(acc.compute_dtype) + ref::denorm_min(d.out_dtype);
  return std::min(b, ref::kPairBoundCap * r) + floor_abs + kRecipeReferenceResolution * r;
}

RecipeView::RecipeView(const KernelRunner& runner, const ref::ExactReference& exact)
    : desc_(&runner.desc()), spec_(runner.spec()) {
  const rc_kernel_desc& d = runner.desc();
  const rc_accuracy& acc = d.accuracy;
  const RopeSpec& spec = runner.spec();
  double a_hi = 1, a_lo = 0;
  exact.attention_factor_dd(&a_hi, &a_lo);
  attention_ = static_cast<long double>(a_hi) + a_lo;
  attention_d_ = a_hi;
  angle_dtype_ = acc.angle_dtype;
  position_dtype_ = acc.position_dtype;

  if (acc.angle_recipe == RC_ANGLE_EXACT_DD) {
    kind_ = Kind::kSameAsExact;
    note_ = "exact_dd recipe: the declared angle is t*theta exactly, so the recipe view is the exact view";
    return;
  }
  if (impl::cache_of(d) != RC_CACHE_NONE) {
    kind_ = Kind::kSameAsExact;
    note_ = "reads ropecheck's cos/sin cache (exact math, correctly rounded): the declared table is exact, so the "
            "recipe view is the exact view";
    return;
  }
  const bool f32 = acc.angle_recipe == RC_ANGLE_F32_INVFREQ_F32_PRODUCT && acc.angle_dtype == RC_DTYPE_F32;
  const bool f64 = acc.angle_recipe == RC_ANGLE_F64_INVFREQ_F64_PRODUCT && acc.angle_dtype == RC_DTYPE_F64;
  if (!f32 && !f64) {
    note_ = std::string("angle recipe ") + impl::angle_recipe_name(acc.angle_recipe) + " (angle dtype " +
            impl::dtype_name(acc.angle_dtype) + ") declares no re-derivable angle: recipe view unavailable";
    return;
  }

  // Target 2^k·θ_j: large enough that the sin/cos error (η_tot rad) is below ulp(2^k θ̂)/8,
  // at least 2^7 (see the header).
  const int p_angle = f32 ? 24 : 53;
  const double eta_tot = rotation_error_rel(d);
  const double target = std::max(7.0, std::ceil((p_angle - 1) + 3 + std::log2(eta_tot)));
  const int pairs = spec.pairs();
  const int max_k = std::min(62, static_cast<int>(std::floor(std::log2(static_cast<double>(d.max_position)))));
  k_.assign(static_cast<size_t>(pairs), 0);
  std::vector<int64_t> positions;
  for (int j = 0; j < pairs; ++j) {
    const double th = exact.theta(j);
    if (th == 0) continue;  // proportional's padded pairs: θ = 0 in every recipe, nothing to read
    int k = static_cast<int>(std::ceil(target - std::log2(th)));
    k = std::clamp(k, 0, max_k - 1);  // the verification uses 2^(k+1)
    k_[static_cast<size_t>(j)] = k;
    // 2^k and 2^(k+1), and the powers below used by the best fit when the check fails.
    for (int m = std::max(0, k - kFitBelow); m <= k + 1; ++m) positions.push_back(int64_t{1} << m);
  }
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  if (positions.empty()) {
    // Every θ_j = 0 (rope type none): θ̂_j = 0 in every recipe, nothing to read; the view is the
    // rotation by the identity, and the kernel is judged against it.
    theta_hat_.assign(static_cast<size_t>(pairs), 0.0);
    theta_delta_.assign(static_cast<size_t>(pairs), 0.0);
    kind_ = Kind::kInferred;
    note_ = "every theta_j is 0 (" + std::string(to_string(spec.type)) +
            "): theta^_j = 0 in every recipe, nothing to infer; the view is the identity rotation";
    return;
  }

  Case c;
  c.spec = spec;
  c.positions = positions;
  c.x.assign(static_cast<size_t>(c.n_tokens() * spec.head_dim), 0.0);
  for (int64_t tok = 0; tok < c.n_tokens(); ++tok) {
    for (int j = 0; j < pairs; ++j) c.x[c.at(tok, 0, spec.first_index(j))] = 1.0;  // x = (1, 0)
  }
  c = in_call_shape(c, d);  // head 0 stays q's head; c.at below reads it
  if (const std::string why = runner.unsupported_reason(c); !why.empty()) {
    note_ = "cannot infer theta^: " + why;
    return;
  }
  const RunOutput out = runner.run(c);
  if (out.status != 0 || !out.out_of_bounds.empty()) {
    note_ = "cannot infer theta^: the kernel refused or misbehaved on x = (1, 0) at powers of two";
    return;
  }
  // A non-finite output (NaN from 0/0 in the kernel's frequencies, say) has no angle to read:
  // the view is unavailable, said so; the agreement property judges those outputs.
  for (int64_t tok = 0; tok < c.n_tokens(); ++tok) {
    for (int j = 0; j < pairs; ++j) {
      const double y0 = out.y[c.at(tok, 0, spec.first_index(j))], y1 = out.y[c.at(tok, 0, spec.second_index(j))];
      if (!std::isfinite(y0) || !std::isfinite(y1)) {
        std::ostringstream os;
        os << "cannot infer theta^: the kernel's output for x = (1, 0) is not finite at t = " << c.positions[static_cast<size_t>(tok)]
           << ", pair " << j << " (" << y0 << ", " << y1 << ")";
        note_ = os.str();
        return;
      }
    }
  }
  auto token_of = [&](int64_t t) {
    return std::lower_bound(positions.begin(), positions.end(), t) - positions.begin();
  };
  // The kernel's angle at t = 2^k for pair j, unwrapped to the multiple of 2π nearest `near`.
  auto measured_angle = [&](int j, int k, long double near) {
    const int64_t tok = token_of(int64_t{1} << k);
    const long double y0 = out.y[c.at(tok, 0, spec.first_index(j))];
    const long double y1 = out.y[c.at(tok, 0, spec.second_index(j))];
    const long double phi = std::atan2(y1, y0);
    return phi + std::nearbyint((near - phi) / kTwoPiL) * kTwoPiL;
  };
  theta_hat_.assign(static_cast<size_t>(pairs), 0.0);
  const double tol = 16 * eta_tot;  // rad: the sin/cos error seen through atan2, with margin
  double worst_check = 0;
  std::string first_miss;
  int missed = 0;
  // The largest miss of candidate θ over the powers 2^(k-kFitBelow) … 2^(k+1).
  auto fit_miss = [&](int j, int k, double th) {
    double worst = 0;
    for (int m = std::max(0, k - kFitBelow); m <= k + 1; ++m) {
      const long double want = std::ldexp(static_cast<long double>(th), m);
      worst = std::max(worst, static_cast<double>(std::fabs(measured_angle(j, m, want) - want)));
    }
    return worst;
  };
  theta_delta_.assign(static_cast<size_t>(pairs), 0.0);
  // How far the angle read through atan2 may be from the kernel's: its output error on x = (1, 0)
  // under the recipe (the recipe-view bound at r = a), over a.
  const double read_error = 1.01 * recipe_view_bound(d, attention_d_, attention_d_) / attention_d_;
  int unpinned = 0;
  for (int j = 0; j < pairs; ++j) {
    if (exact.theta(j) == 0) continue;  // θ̂_j = 0: the rotation by the recipe is the identity
    const int k = k_[static_cast<size_t>(j)];
    const long double phi = measured_angle(j, k, std::ldexp(static_cast<long double>(exact.theta(j)), k));
    double th = round_angle(std::ldexp(phi, -k), angle_dtype_);
    // Verification at 2^(k+1): the kernel's angle must be 2^(k+1)·θ̂ (exact) within tol.
    const long double want = std::ldexp(static_cast<long double>(th), k + 1);
    const long double got = measured_angle(j, k + 1, want);
    const double miss = static_cast<double>(std::fabs(got - want));
    if (!(miss <= tol)) {
      // The kernel departs from fl(t·θ̂) already at powers of two: the best fit nearby.
      if (missed++ == 0) {
        std::ostringstream os;
        os << "pair " << j << ": the kernel's angle at t = 2^" << (k + 1) << " is " << static_cast<double>(got)
           << " rad, not 2^" << (k + 1) << "*theta^ = " << static_cast<double>(want) << " (off by " << miss << " > "
           << tol << ")";
        first_miss = os.str();
      }
      double best = th, best_miss = fit_miss(j, k, th);
      double lo = th, hi = th;
      for (int step = 0; step < kFitSteps; ++step) {
        lo = angle_dtype_ == RC_DTYPE_F32 ? static_cast<double>(std::nextafter(static_cast<float>(lo), -INFINITY))
                                          : std::nextafter(lo, -INFINITY);
        hi = angle_dtype_ == RC_DTYPE_F32 ? static_cast<double>(std::nextafter(static_cast<float>(hi), INFINITY))
                                          : std::nextafter(hi, INFINITY);
        for (double cand : {lo, hi}) {
          const double m = fit_miss(j, k, cand);
          if (m < best_miss) {
            best = cand;
            best_miss = m;
          }
        }
      }
      th = best;
    } else {
      worst_check = std::max(worst_check, miss);
      // θ̂ is the kernel's value when the read error is below half an ulp of 2^k·θ̂ in the angle
      // dtype (a quarter, for margin).  Where it is not (an f64 recipe with an f32 output: the
      // read error ~2^-24 rad against ulp(2^30) = 2^-22), the check at 2^(k+1) still bounds it:
      // |θ̂ − θ_kernel| <= (miss + read error) / 2^(k+1), an angle error t·δ the bound keeps.
      const double ulp_phi = std::ldexp(1.0, static_cast<int>(std::floor(std::log2(std::fabs(th)))) + k -
                                                 (angle_dtype_ == RC_DTYPE_F32 ? 23 : 52));
      if (!(read_error <= ulp_phi / 4)) {
        theta_delta_[static_cast<size_t>(j)] = std::ldexp(miss + read_error, -(k + 1));
        ++unpinned;
      }
    }
    theta_hat_[static_cast<size_t>(j)] = th;
  }
  kind_ = Kind::kInferred;
  verified_ = missed == 0;
  std::ostringstream os;
  if (verified_) {
    os << "theta^_j inferred from the kernel at t = 2^k (2^k*theta ~ 2^" << target << "), verified at 2^(k+1)"
       << " (worst miss " << worst_check << " rad, tolerance " << tol << ")";
    if (unpinned > 0) {
      os << "; " << unpinned << " of " << pairs << " theta^_j known only to within (miss + read error)/2^(k+1)"
         << " (the kernel's output is too coarse to read one angle-dtype value at t <= max_position): that t*dtheta"
         << " is in the bound";
    }
  } else {
    os << "the kernel does not form fl(t*theta^) within its sin/cos accuracy even at powers of two (" << missed
       << " of " << pairs << " pairs; " << first_miss << "): theta^_j of those pairs is the best fit within "
       << kFitSteps << " steps over t = 2^(k-" << kFitBelow << ") .. 2^(k+1), and the view shows the departure";
  }
  note_ = os.str();
}

double RecipeView::residual_angle(int64_t t, int pair, double theta_exact) const {
  switch (kind_) {
    case Kind::kInferred:
      return static_cast<double>(t) * theta_exact * pair * impl::theta_error_per_pair_of(*desc_) *
                 desc_->accuracy.angle_unit_roundoff +
             static_cast<double>(t) * theta_delta_[static_cast<size_t>(pair)];
    case Kind::kSameAsExact:
      return ref::pair_error_bound(*desc_, spec_, pair, t, theta_exact, 1.0, attention_d_).dphi;
    case Kind::kUnavailable: break;
  }
  return 0;
}

double RecipeView::angle(int64_t t, int pair) const {
  const double tp = position_as_seen(t, position_dtype_);
  const double th = theta_hat_[static_cast<size_t>(pair)];
  if (angle_dtype_ == RC_DTYPE_F32) {
    // tp (≤ 24 bits when the position dtype is f32) × θ̂ (24 bits) is exact in double, so
    // one rounding to float is the kernel's fp32 product.
    return static_cast<double>(static_cast<float>(tp * th));
  }
  return tp * th;  // binary64 product, correctly rounded: the f64 recipe's product
}

void RecipeView::rotate_pair(int64_t t, int pair, double x0, double x1, long double y[2]) const {
  const double phi = angle(t, pair);
  long double c, s;
  if (angle_dtype_ == RC_DTYPE_F32) {
    c = std::cos(phi);  // double cos/sin: < 2^-52, far below the f32 rotation's ulps
    s = std::sin(phi);
  } else {
    c = std::cos(static_cast<long double>(phi));  // x87 long double: < 2^-62
    s = std::sin(static_cast<long double>(phi));
  }
  c *= attention_;
  s *= attention_;
  y[0] = x0 * c - x1 * s;
  y[1] = x0 * s + x1 * c;
}

double RecipeView::error(int64_t t, int pair, double x0, double x1, double y0, double y1) const {
  long double r[2];
  rotate_pair(t, pair, x0, x1, r);
  return static_cast<double>(std::hypot(y0 - r[0], y1 - r[1]));
}

}  // namespace ropecheck::props

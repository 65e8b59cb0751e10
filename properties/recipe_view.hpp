// The second view of the error model (issue 5 item 1, design.md "Exactness"): a kernel's
// output judged against an exact rotation by the angle its OWN declared recipe forms, which
// isolates the rotation arithmetic (sin/cos, products, output rounding) from the angle error.
//
//   exact view:  y  vs  a·R(t·θ_j)·x             bound pair_bound (angle term |Δφ| included)
//   recipe view: y  vs  a·R(φ̂_j(t))·x,  φ̂_j(t) = fl(fl(t)·θ̂_j) in the angle dtype
//                bound r·(√2·η + 2γ₂ + ε_a) + u_out·r       (no angle term)
//
// θ̂_j is what the kernel really uses, inferred from the kernel itself (the inputs of an fp32
// recipe — some libm's powf, the variant's formulas — cannot be known exactly): at t = 2^k,
// fl(2^k·θ̂) = 2^k·θ̂ exactly, so running the kernel on x = (1, 0) gives a·(cos, sin)(2^k θ̂)
// to within its sin/cos accuracy; atan2, unwrapped by the multiple of 2π nearest 2^k·θ_exact
// and divided by 2^k, rounds to θ̂_j.  A second power of two verifies it.  With 2^k·θ in
// [2^7, 2^8) the recovered angle is off by ~η rad while ulp(2^k θ̂) is 2^-16 (f32) or 2^-45
// (f64) rad, so the rounding is safe by a factor > 2^6 (f32: η ≈ 2^-24; f64: η ≈ 2^-52).
//
// When the check at 2^(k+1) fails (the kernel's angle, or its sin/cos, departs from
// fl(t·θ̂) already at powers of two: a fast sin with naive range reduction does), θ̂_j is the
// angle-dtype value within 4 steps of the estimate at 2^k that misses least over the powers
// 2^(k-6) … 2^(k+1), and note() says so: the view then shows the departure instead of hiding it.
//
// Recipes handled: RC_ANGLE_F32_INVFREQ_F32_PRODUCT (HF) and RC_ANGLE_F64_INVFREQ_F64_PRODUCT
// (inferred θ̂), RC_ANGLE_EXACT_DD (the recipe IS exact math: the recipe view equals the exact
// view), and a kernel reading ropecheck's cos/sin cache (ABI 2, RC_ANGLE_TABLE with a cache:
// the declared table is exact math correctly rounded, so the view is the exact view too).
// RC_ANGLE_TABLE without a cache and RC_ANGLE_OTHER declare nothing re-derivable: the view is
// unavailable and says so.
//
// θ̂_j is exact where the read error is below a quarter ulp of 2^k·θ̂_j in the angle dtype (every
// f32 recipe).  An f64 recipe whose output is f32 reads its angle to ~2^-24 rad while k is capped
// by max_position (2^30·θ has an ulp of 2^-22): θ̂_j is then known to δ_j = (miss at 2^(k+1) +
// read error)/2^(k+1) only, and the bound keeps t·δ_j (residual_angle).
//
// An angle error that grows with the pair index (ABI 2 theta_rel_error_per_pair: ggml's
// iterated θ *= θ_scale forms each t·θ_j from t by j roundings, not as fl(t·θ̂_j)) is not
// reproduced by one θ̂_j per pair: that declared part of the angle error, t·θ_j·j·ε_pp·u_angle,
// stays in the bound (bound(r, t, pair, θ_j); 0 for every kernel that declares none).
//
// Resolution of the recipe reference: cos/sin of φ̂ in double for the f32 recipe (< 2^-52,
// 2^-28 of an f32 ulp), in long double (x87, exact range reduction, < 2^-62) for the f64
// recipe; the rotation in long double.  kRecipeReferenceResolution·r is added to the bound.
//
// Thread-safety: immutable after construction (construction runs the kernel and reads the
// ExactReference, so it is single-threaded).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "properties/runner.hpp"
#include "reference/exact_reference.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::props {

// Relative resolution of the recipe-view reference (see above): 2^-60·r.
inline constexpr double kRecipeReferenceResolution = 0x1p-60;

// The recipe-view bound: pair_bound without its angle term.  It belongs beside pair_bound in
// reference/error_model.hpp (kept here because that file has another owner):
//   1.01·r·(dphi + √2·η + 2γ₂ + ε_a + u_out) + the subnormal floor of pair_bound
//   + kRecipeReferenceResolution·r,
// dphi the part of the declared angle error the recipe view does not reproduce (see above;
// 0 unless given).
double recipe_view_bound(const rc_kernel_desc& desc, double r, double attention, double dphi = 0);

class RecipeView {
 public:
  enum class Kind { kUnavailable, kSameAsExact, kInferred };

  // Builds the view for `runner`'s kernel and spec; θ_exact and a come from `exact`.
  RecipeView(const KernelRunner& runner, const ref::ExactReference& exact);

  Kind kind() const { return kind_; }
  bool available() const { return kind_ != Kind::kUnavailable; }
  // Why the view is unavailable, or how it was built (one line, for reports).
  const std::string& note() const { return note_; }

  // θ̂_j (kInferred only), rounded to the angle dtype, and the k used to infer it.
  double theta_hat(int pair) const { return theta_hat_[static_cast<size_t>(pair)]; }
  int inference_exponent(int pair) const { return k_[static_cast<size_t>(pair)]; }

  // The recipe angle fl(fl(t)·θ̂_j) in the angle dtype (kInferred only).
  double angle(int64_t t, int pair) const;

  // a·R(φ̂_j(t))·(x0, x1) in long double (kInferred only).
  void rotate_pair(int64_t t, int pair, double x0, double x1, long double y[2]) const;

  // ‖y − recipe reference‖ for kernel output y = (y0, y1) (kInferred only).
  double error(int64_t t, int pair, double x0, double x1, double y0, double y1) const;

  // The recipe-view bound for a pair of norm r = a·‖x‖, without any angle term.
  double bound(double r) const { return recipe_view_bound(*desc_, r, attention_d_); }
  // The bound of pair `pair` at position t (θ_j exact, to double): bound(r) plus the declared
  // angle error the view does not reproduce (residual_angle).  What the report's recipe view
  // and the own-recipe property (properties/catalogue.cpp) both use.
  double bound(double r, int64_t t, int pair, double theta_exact) const {
    return recipe_view_bound(*desc_, r, attention_d_, residual_angle(t, pair, theta_exact));
  }
  // kInferred: t·θ_j·j·theta_rel_error_per_pair·u_angle (the iterated-product drift), plus
  // t·δ_j where θ̂_j could not be read to one angle-dtype value (see the constructor);
  // kSameAsExact: the contract's whole |Δφ| (exact_dd: reduction and θ errors of ~2^-100;
  // a cache kernel: 0).
  double residual_angle(int64_t t, int pair, double theta_exact) const;
  // False when the check at 2^(k+1) failed for some pair (θ̂ is then the best fit; note()).
  bool verified() const { return verified_; }

 private:
  const rc_kernel_desc* desc_;
  RopeSpec spec_;
  bool verified_ = true;
  Kind kind_ = Kind::kUnavailable;
  std::string note_;
  int32_t angle_dtype_ = 0, position_dtype_ = 0;
  long double attention_ = 1;
  double attention_d_ = 1;
  std::vector<double> theta_hat_;
  std::vector<double> theta_delta_;  // per pair: how far θ̂_j may be from the kernel's (0: exact)
  std::vector<int> k_;
};

}  // namespace ropecheck::props

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
// Recipes handled: RC_ANGLE_F32_INVFREQ_F32_PRODUCT (HF) and RC_ANGLE_F64_INVFREQ_F64_PRODUCT
// (inferred θ̂), RC_ANGLE_EXACT_DD (the recipe IS exact math: the recipe view equals the exact
// view).  RC_ANGLE_TABLE / RC_ANGLE_OTHER declare nothing re-derivable: the view is
// unavailable and says so.
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
//   1.01·r·(√2·η + 2γ₂ + ε_a + u_out) + the subnormal floor of pair_bound
//   + kRecipeReferenceResolution·r.
double recipe_view_bound(const rc_kernel_desc& desc, double r, double attention);

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

  // The recipe-view bound for a pair of norm r = a·‖x‖.
  double bound(double r) const { return recipe_view_bound(*desc_, r, attention_d_); }

 private:
  const rc_kernel_desc* desc_;
  Kind kind_ = Kind::kUnavailable;
  std::string note_;
  int32_t angle_dtype_ = 0, position_dtype_ = 0;
  long double attention_ = 1;
  double attention_d_ = 1;
  std::vector<double> theta_hat_;
  std::vector<int> k_;
};

}  // namespace ropecheck::props

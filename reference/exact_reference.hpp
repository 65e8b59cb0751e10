// ExactReference: the exact RoPE reference at adaptive MPFR precision, behind a plain
// double / double-double interface, for consumers that do not want to touch
// Boost.Multiprecision (tests of kernels, the CLI, the fast oracle's validation).
//
// Every result is the exact mathematical value rounded once, at the end: to double-double
// (hi + lo, about 106 bits) or to a decimal string.  The working precision grows with
// log2|phi| (see working_bits) so that any int64 position, 2^63-1 included, is right to
// 2^-60 of the pair norm, with a wide margin (the internal error is below 2^-120 · r).
//
// Thread-safe: all MPFR work in the process holds one lock (MPFR's default precision is
// process-wide in Boost 1.74), so calls from several threads are correct and run one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oracle.hpp"
#include "rope_spec.hpp"

namespace ropecheck::ref {

// Bits of working precision for rotating by angles up to |t| * max_theta.
unsigned working_bits(int64_t t, double max_theta);

// Frees the MPFR caches of the calling thread (the constants pi and log 2 at the precisions
// it used).  A thread that used the exact reference calls this before it ends; MPFR keeps
// them per thread, and they are lost (a leak, as LeakSanitizer reports) when it ends.
void release_thread_caches();

class ExactReference : public Oracle {
 public:
  explicit ExactReference(RopeSpec spec);  // validates the spec (throws SpecError)
  ~ExactReference() override;
  ExactReference(ExactReference&&) noexcept;
  ExactReference& operator=(ExactReference&&) noexcept;

  const char* name() const override { return "exact"; }
  const RopeSpec& spec() const override;

  // θ'_j and the attention factor, rounded to double / to double-double.
  double theta(int pair) const override;
  void theta_dd(int pair, double* hi, double* lo) const;
  double attention_factor() const override;
  void attention_factor_dd(double* hi, double* lo) const;

  // Rotate one head x[0 .. head_dim) (doubles, taken exactly) at position t, any int64: a
  // negative t rotates by the negative angle, R(x, −t) = R⁻¹(x, t).
  // out_hi[k] + out_lo[k] is the exact result rounded to double-double; pass-through
  // components are copied (out_lo = 0).  out_lo may be null.
  void rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const override;

  // One pair: (x0, x1) of pair `pair` at position t, exact result to double-double.
  void rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2],
                   double y_lo[2]) const override;

  // a·R(phi)·(x0, x1) for a given binary64 angle phi (taken exactly, any sign), to
  // double-double: the exact rotation by an angle some recipe formed (the own-recipe
  // property's confirmation, properties/recipe_view.hpp).  a is the spec's attention factor.
  void rotate_pair_by_angle(double phi, double x0, double x1, double y_hi[2], double y_lo[2]) const;

  // <R(q,t), R(k,s)> over the whole head, exactly (closed form in t - s), rounded.
  double score(const double* q, int64_t t, const double* k, int64_t s) const override;

  // Multi-axis positions (M-RoPE, RopeSpec::mrope_section): t holds one position per axis
  // (spec().n_axes() values; SpecError("positions") otherwise), pair j rotated by that of its
  // axis.  The single-t methods above are the case t on every axis (a text token).
  void rotate_axes(const std::vector<int64_t>& t, const double* x, double* out_hi, double* out_lo) const;
  double score_axes(const double* q, const std::vector<int64_t>& t, const double* k,
                    const std::vector<int64_t>& s) const;

  // Decimal strings with `digits` significant digits (the CLI's output).
  std::vector<std::string> theta_decimal(int digits) const;
  std::string attention_factor_decimal(int digits) const;
  // MLA's softmax scale factor m(s, mscale_all_dim)^2 (HF DeepseekV2/V3Attention multiplies
  // qk_head_dim^-0.5 by it when rope_scaling has mscale_all_dim): not part of the rope, but
  // set from the same yarn fields, next to the attention factor.  "" unless the spec is yarn
  // with mscale_all_dim.
  std::string softmax_scale_decimal(int digits) const;
  // x given as decimal strings (exact decimal inputs are supported, e.g. "0.1").
  // t: one position per axis (as rotate_axes), or one for every axis.
  std::vector<std::string> rotate_decimal(const std::vector<int64_t>& t, const std::vector<std::string>& x,
                                          int digits) const;
  std::string score_decimal(const std::vector<std::string>& q, const std::vector<int64_t>& t,
                            const std::vector<std::string>& k, const std::vector<int64_t>& s, int digits) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ropecheck::ref

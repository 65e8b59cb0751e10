// Oracle: what a check needs from "the right answer" for one RoPE spec, and nothing more.
//
// Two implementations plug in behind it:
//  - ExactReference (exact_reference.hpp): MPFR at adaptive precision, ~10 µs per pair,
//    right to ~2^-150 of the pair norm.  The judge of last resort.
//  - FastOracle (fast_oracle.hpp): double-double arithmetic with a multi-word reduction,
//    tens of nanoseconds per pair, right to kFastOracleErrorBound · r (far below 2^-50 · r).
// Checks (properties, fuzzers, the gate, reports) are written against Oracle, so either can
// be used, and a failure found with the fast one can be re-judged by the exact one.
//
// Conventions shared by every implementation:
//  - positions are int64, negative ones included: R(x, −t) rotates by −t·θ_j, the inverse
//    R⁻¹(x, t) (ABI 2 kernels may declare negative positions, and an inverse call of a kernel
//    is judged against R(x, −t));
//  - inputs are doubles taken exactly; results are double-double (hi + lo) so that an
//    oracle's own rounding never hides in a kernel's error;
//  - pass-through components (index >= rotary_dim) are copied bit-exactly (lo = 0);
//  - every method is const and the object is immutable after construction.
#pragma once

#include <cstdint>

#include "rope_spec.hpp"

namespace ropecheck::ref {

class Oracle {
 public:
  virtual ~Oracle() = default;

  // Short stable label for messages and reports ("exact", "fast").
  virtual const char* name() const = 0;
  virtual const RopeSpec& spec() const = 0;

  // θ'_j of pair j in [0, rotary_dim/2) and the attention factor a, rounded to double.
  virtual double theta(int pair) const = 0;
  virtual double attention_factor() const = 0;

  // Rotate one head x[0 .. head_dim) at position t.  out_hi[k] + out_lo[k] is the result
  // (double-double); pass-through components are copied with out_lo = 0.  out_lo may be
  // null (then out_hi is the double-double rounded to double).  out_hi may alias x.
  virtual void rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const = 0;

  // One pair (x0, x1) of pair `pair` at position t; y_lo may be null.
  virtual void rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2],
                           double y_lo[2]) const = 0;

  // <R(q,t), R(k,s)> over the whole head (closed form in t − s), rounded to double.
  virtual double score(const double* q, int64_t t, const double* k, int64_t s) const = 0;

 protected:
  Oracle() = default;
  Oracle(const Oracle&) = default;
  Oracle& operator=(const Oracle&) = default;
  Oracle(Oracle&&) = default;
  Oracle& operator=(Oracle&&) = default;
};

}  // namespace ropecheck::ref

// FastOracle: the exact RoPE result to far below 2^-50 of the pair norm, in tens of
// nanoseconds per pair, for every int64 position.  Validated against ExactReference by
// reference/tests/fast_oracle_test.cpp (sampled, every CI run) and fast_oracle_long_test.cpp
// (10^8 pairs, CTest label `long`).
//
// How (per pair j, position t):
//  1. θ'_j comes once per spec from ExactReference (its 192-bit value, read back through
//     64 significant digits at 320 bits) and is stored as ω_j = θ'_j / 2π in turns, as four
//     non-overlapping doubles w0 + w1 + w2 + w3 (~212 bits).  Working in turns makes the
//     reduction "drop the integer part", which is exact in binary — no multi-word 2π, and
//     no Payne–Hanek table beyond ω itself.
//  2. t is split into two exact doubles t_h (multiple of 2^32, <= 31 bits) + t_l (< 2^32),
//     so every int64 is handled.  t_a·w0, t_a·w1, t_a·w2 are formed exactly (FMA
//     two-product), t_a·w3 with one rounding; each piece's integer part is removed exactly
//     and the fractions are summed with two-sum: frac(t·ω_j) as a double-double.
//     Short path when t < 2^53 and t·ω_j < 2^50 turns (all positions up to ~2^52 of an
//     ordinary spec): t is one double, two two-products and two two-sums, <= 2^-105 turns.
//  3. k = nearest 1/256 turn, u = the rest (exact), z = 2π·u in double-double, |z| <= π/256.
//     sin/cos(2πk/256) come from a 256-entry double-double table (MPFR sinu/cosu);
//     sin z, cos z from short Taylor series (leading terms in double-double); the angle
//     addition formulas combine them in double-double.
//  4. cos and sin are multiplied by the attention factor a (double-double, from
//     ExactReference) and the 2x2 rotation is done in double-double.
//
// Error budget, per pair, r = a·‖(x0, x1)‖ (this is what kFastOracleErrorBound promises):
//  (T1) θ'_j: ExactReference's 192-bit value (>= 200 bits after Boost's decimal-digit
//       rounding) has relative error <= 2^-180 (a chain of < 20 correctly rounded MPFR ops of
//       condition <= 2^8); 64 digits carry it to 2^-212.  Angle error <= |φ|·2^-180, which is
//       <= 2^-84 rad on the fast path (|φ| <= kFastOracleMaxAngle = 2^96).
//  (T2) ω_j = θ'_j/2π rounded to four doubles: relative 2^-210, < 2^-114 turns.  Negligible.
//  (T3) products: exact except t_a·w3 (|t·w3| <= 2^-159·t·ω <= 2^-66 turns): <= 2^-119 turns.
//  (T4) summing <= 14 fractions: the running sum stays in [-8, 8] so every two-sum is exact;
//       the <= 16 low-order parts (each <= 2^-50) are summed in double: <= 2^-95 turns.
//  (T5) z = 2π·(u + l) in double-double (2π from MPFR to 106 bits): <= 2^-104 rad.
//  (T6) sin z, cos z: series truncation <= 2^-95 (sin, |z|^11/11!) and 2^-105 (cos); the
//       degree >= 3 part of sin (<= 2^-21.6) is summed in double, ~5 roundings: <= 2^-72.5;
//       cos's degree >= 4 part (<= 2^-30) likewise: <= 2^-81.
//  (T7) table entries: <= 2^-106.   (T8) angle addition in double-double: <= 2^-102.
//  => η = |ĉ − cos φ|, |ŝ − sin φ| <= 2^-72 + 2^-84 + 2^-92 + 2^-100 < 2^-71.9.
//  (T9) a: double-double from ExactReference (2^-106) times ĉ, ŝ in double-double: 2^-103 rel.
//  (T10) rotation: hi parts by exact two-product, the four low-order terms in double,
//       renormalized by two-sum: <= 6·2^-106·a·(|x0| + |x1|) <= 2^-102·r.
//  Total: ‖ŷ − y‖ <= a·‖x‖·√2·η + 2^-101·r < 2^-71.4·r.  We declare 2^-68 (8× margin on
//  the dominant T6 estimate).  That is 2^-18 in units of the 2^-50·r.
//  Underflow: when a partial product falls below 2^-1022 it is rounded in the subnormal
//  range (<= 2^-1075 each, <= 4 per component, plus the exact reference's own rounding to
//  double-double): an absolute floor kFastOracleUnderflowFloor per pair, which matters only
//  for r below ~2^-1000.  Overflow: results are finite when a·(|x0| + |x1|) < 2^1023.
//
// Range: positions with t·θ_max > kFastOracleMaxAngle (only reachable when some θ'_j >
// 2^33, i.e. a scaling factor below 2^-33) are delegated to the ExactReference, so every
// int64 position is answered within the bound.
//
// Determinism: the hot code is compiled twice (FMA and generic, chosen at run time); both
// use only exact two-products and correctly rounded + − ×, so they agree bit for bit.
// Requires round-to-nearest and no -ffast-math (the file is built with -ffp-contract=off).
// Thread-safe: immutable after construction; what it delegates to the ExactReference is
// serialized there (Boost 1.74 keeps MPFR's default precision process-wide).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "exact_reference.hpp"
#include "oracle.hpp"
#include "rope_spec.hpp"

namespace ropecheck::ref {

// The contract (style rule 2: tests read these, never a copy of the literal).
// Per pair: ‖fast − exact‖ <= kFastOracleErrorBound · r + kFastOracleUnderflowFloor.
inline constexpr double kFastOracleErrorBound = 0x1p-68;
inline constexpr double kFastOracleUnderflowFloor = 0x1p-1070;
// Largest |t·θ'_j| (radians) handled in double-double; beyond it, ExactReference answers.
inline constexpr double kFastOracleMaxAngle = 0x1p96;

class FastOracle final : public Oracle {
 public:
  // Builds its own ExactReference (validates the spec, throws SpecError).
  explicit FastOracle(RopeSpec spec);
  // Shares an existing one (it is also the fallback beyond kFastOracleMaxAngle).
  explicit FastOracle(std::shared_ptr<const ExactReference> exact);
  ~FastOracle() override;

  const char* name() const override { return "fast"; }
  const RopeSpec& spec() const override;
  double theta(int pair) const override;
  double attention_factor() const override;
  void rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const override;
  void rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2],
                   double y_lo[2]) const override;
  double score(const double* q, int64_t t, const double* k, int64_t s) const override;

  // cos(tθ'_j) and sin(tθ'_j) as double-double (without the attention factor): the core,
  // exposed for tests and for reports that need the angle itself.
  void cos_sin(int64_t t, int pair, double c[2], double s[2]) const;

  // Largest position answered without the exact fallback (INT64_MAX for ordinary specs).
  int64_t max_fast_position() const { return max_fast_t_; }
  const ExactReference& exact() const { return *exact_; }
  std::shared_ptr<const ExactReference> exact_shared() const { return exact_; }

 private:
  struct Omega {
    double w[4];  // θ'_j / 2π in turns, four non-overlapping words
  };
  std::shared_ptr<const ExactReference> exact_;
  std::vector<Omega> omega_;
  std::vector<double> theta_;  // θ'_j rounded to double, as ExactReference::theta gives it
  double a_hi_ = 1.0, a_lo_ = 0.0;
  double a_double_ = 1.0;
  int64_t max_fast_t_ = INT64_MAX;
  int64_t max_short_t_ = 0;  // positions up to this use the short reduction
};

// The fast oracle disagreed with the exact one beyond its contract: a bug in ropecheck, not
// in the kernel under test (the CLI maps it to exit code 4, internal error).
class OracleMismatch : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// CheckedOracle: what checks should hold (issue 4, item 3).  Answers come from the
// FastOracle; call number 0, N, 2N, ... (N = spot_every, default 1000) is also computed by
// the ExactReference and compared against the fast oracle's contract — a disagreement
// throws OracleMismatch with the inputs in hexfloat.  Before a check reports a kernel
// failure it re-judges it with confirm_pair_error(), so no failure is ever reported that
// the exact reference does not confirm.
// Its spot-check counter is atomic and the ExactReference serializes its own work, so it can
// be shared between threads (the exact checks then run one at a time).
class CheckedOracle final : public Oracle {
 public:
  explicit CheckedOracle(std::shared_ptr<const FastOracle> fast, uint64_t spot_every = 1000);
  // The same with the answers from any oracle of the same spec, spot-checked against `exact`:
  // the seam through which reference/tests put a deliberately wrong oracle in the fast
  // oracle's place (throws std::invalid_argument if the two specs differ).
  CheckedOracle(std::shared_ptr<const Oracle> answers, std::shared_ptr<const ExactReference> exact,
                uint64_t spot_every = 1000);

  const char* name() const override { return "fast+spot-checks"; }
  const RopeSpec& spec() const override { return fast_->spec(); }
  double theta(int pair) const override { return fast_->theta(pair); }
  double attention_factor() const override { return fast_->attention_factor(); }
  void rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const override;
  void rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2],
                   double y_lo[2]) const override;
  double score(const double* q, int64_t t, const double* k, int64_t s) const override;

  // True when the exact reference confirms that y (a kernel's output for pair `pair` of
  // x at t) is more than `allowed` (absolute, Euclidean over the pair) from exact.
  bool confirm_pair_error(int64_t t, int pair, double x0, double x1, const double y[2],
                          double allowed) const;

  const Oracle& fast() const { return *fast_; }
  const ExactReference& exact() const { return *exact_; }
  uint64_t calls() const { return calls_.load(); }
  uint64_t spot_checks() const { return checks_.load(); }

 private:
  bool due() const;  // counts the call; true if this one is spot-checked
  std::shared_ptr<const Oracle> fast_;
  std::shared_ptr<const ExactReference> exact_;
  uint64_t every_;
  mutable std::atomic<uint64_t> calls_{0};
  mutable std::atomic<uint64_t> checks_{0};
};

}  // namespace ropecheck::ref

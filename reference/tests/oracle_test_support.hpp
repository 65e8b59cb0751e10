// Shared by fast_oracle_test.cpp (RapidCheck properties) and fast_oracle_long_test.cpp
// (10^8 seeded cases): generators for specs, positions and pair values, and the one error
// metric used to judge the fast oracle against the exact reference.
//
// The generators are our own (style rule 9): RapidCheck's default doubles never produce
// subnormals, ±0 or exponents near the ends of the range, and its integers stay small.
// They should move to properties/generators.hpp when that header exists (issue 5).
#pragma once

#include <rapidcheck.h>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "fast_oracle.hpp"
#include "rope_spec.hpp"

namespace ropecheck::testing {

// Log-uniform double in [lo, hi], from a 20-bit integer so that shrinking goes towards lo.
inline rc::Gen<double> gen_log_uniform(double lo, double hi) {
  return rc::gen::map(rc::gen::inRange<int>(0, (1 << 20) + 1), [lo, hi](int k) {
    return lo * std::pow(hi / lo, static_cast<double>(k) / (1 << 20));
  });
}

// Every rope type with valid parameters, both layouts, partial rotary, even head_dim
// 2..256, base 100..1e7.  Factors below 1 are included where the type allows them: they
// make θ'_0 > 1, the hardest case for the reduction.
inline rc::Gen<RopeSpec> gen_spec() {
  return rc::gen::exec([] {
    RopeSpec s;
    s.type = *rc::gen::element(RopeType::kDefault, RopeType::kLinear, RopeType::kNtk,
                               RopeType::kDynamic, RopeType::kYarn, RopeType::kLlama3,
                               RopeType::kLongrope, RopeType::kProportional, RopeType::kNone);
    s.layout = *rc::gen::element(Layout::kHalfSplit, Layout::kInterleaved);
    const bool needs4 = s.type == RopeType::kNtk || s.type == RopeType::kDynamic;
    const int half = *rc::gen::inRange(needs4 ? 2 : 1, 129);
    s.head_dim = 2 * half;
    const bool partial = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    s.rotary_dim = partial && s.type != RopeType::kProportional ? 2 * *rc::gen::inRange(needs4 ? 2 : 1, half + 1)
                                                                : s.head_dim;
    s.base = *gen_log_uniform(100.0, 1e7);
    s.max_position_embeddings = *rc::gen::element<int64_t>(2048, 4096, 8192, 32768, 131072);
    switch (s.type) {
      case RopeType::kDefault:
        break;
      case RopeType::kLinear:
        s.factor = *gen_log_uniform(0.25, 64.0);
        break;
      case RopeType::kNtk:
        s.factor = *gen_log_uniform(0.5, 64.0);
        break;
      case RopeType::kDynamic:
        s.factor = *gen_log_uniform(1.0, 64.0);
        s.seq_len = *rc::gen::oneOf(rc::gen::just<int64_t>(0),
                                    rc::gen::inRange<int64_t>(1, 4 * s.max_position_embeddings));
        break;
      case RopeType::kYarn:
        s.factor = *gen_log_uniform(0.5, 64.0);
        s.original_max_position_embeddings = *rc::gen::element<int64_t>(2048, 4096, 8192, 32768);
        s.beta_fast = *rc::gen::oneOf(rc::gen::just(32.0), gen_log_uniform(4.0, 64.0));
        s.beta_slow = *rc::gen::oneOf(rc::gen::just(1.0), gen_log_uniform(0.25, 4.0));
        if (*rc::gen::arbitrary<bool>()) {
          s.mscale = *rc::gen::element(0.707, 1.0);
          s.mscale_all_dim = *rc::gen::element(0.0, 0.707, 1.0);
        }
        if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) {
          s.attention_factor = *gen_log_uniform(0.5, 2.0);
        }
        s.truncate = *rc::gen::arbitrary<bool>();
        break;
      case RopeType::kLlama3:
        s.factor = *gen_log_uniform(1.0, 32.0);
        s.low_freq_factor = *rc::gen::oneOf(rc::gen::just(1.0), gen_log_uniform(0.5, 2.0));
        s.high_freq_factor = s.low_freq_factor * *gen_log_uniform(1.5, 8.0);
        s.original_max_position_embeddings = *rc::gen::element<int64_t>(2048, 4096, 8192);
        break;
      case RopeType::kLongrope: {
        s.original_max_position_embeddings = *rc::gen::element<int64_t>(2048, 4096, 8192);
        s.max_position_embeddings = 131072;
        s.factor = static_cast<double>(s.max_position_embeddings) /
                   static_cast<double>(s.original_max_position_embeddings);
        s.seq_len = *rc::gen::element<int64_t>(0, 1000, s.original_max_position_embeddings,
                                               s.original_max_position_embeddings + 1);
        const auto n = static_cast<size_t>(s.pairs());
        s.short_factor = *rc::gen::container<std::vector<double>>(n, gen_log_uniform(0.5, 64.0));
        s.long_factor = *rc::gen::container<std::vector<double>>(n, gen_log_uniform(0.5, 64.0));
        if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) {
          s.attention_factor = *gen_log_uniform(0.5, 2.0);
        }
        break;
      }
      case RopeType::kProportional:
        s.factor = *rc::gen::oneOf(rc::gen::just(1.0), gen_log_uniform(0.25, 64.0));
        s.rope_angles = *rc::gen::inRange(1, half + 1);
        break;
      case RopeType::kNone:  // θ' = 0 for every pair: the identity
        break;
    }
    return s;
  });
}

// design.md's edge positions, plus INT64_MAX.
inline std::vector<int64_t> fixed_edge_positions() {
  std::vector<int64_t> v = {0,       1,       255,     256,     257,           2047,
                            2048,    2049,    4095,    4096,    4097,          65504,
                            65535,   65536,   (1 << 24) - 1,    1 << 24,       (1 << 24) + 1,
                            (int64_t{1} << 31) - 1,   int64_t{1} << 31,  (int64_t{1} << 31) + 1,
                            int64_t{1} << 32,         (int64_t{1} << 53) - 1,
                            int64_t{1} << 53,         (int64_t{1} << 53) + 1,
                            std::numeric_limits<int64_t>::max()};
  return v;
}

// The spec's own edges: every L0 / L_max / seq_len it has, and ±1 around each.
inline std::vector<int64_t> spec_edge_positions(const RopeSpec& s) {
  std::vector<int64_t> v;
  for (int64_t l : {s.effective_original_max(), s.max_position_embeddings, s.seq_len}) {
    if (l <= 0) continue;
    v.push_back(l - 1);
    v.push_back(l);
    v.push_back(l + 1);
  }
  return v;
}

// Half the time an edge position, else log-uniform over [0, 2^63 − 1].
inline rc::Gen<int64_t> gen_position(const RopeSpec& s) {
  std::vector<int64_t> edges = fixed_edge_positions();
  for (int64_t e : spec_edge_positions(s)) edges.push_back(e);
  const rc::Gen<int64_t> log_uniform = rc::gen::exec([] {
    const int e = *rc::gen::inRange(0, 63);
    const auto bits = *rc::gen::inRange<uint64_t>(0, std::numeric_limits<uint64_t>::max());
    const uint64_t top = uint64_t{1} << e;
    return static_cast<int64_t>(top | (bits & (top - 1)));
  });
  return rc::gen::oneOf(rc::gen::elementOf(edges), log_uniform);
}

// One component: normal-ish, wide exponent range, ±0, subnormal, or just above underflow.
inline rc::Gen<double> gen_component() {
  const auto mantissa = [](int lo_exp, int hi_exp) {
    return rc::gen::exec([lo_exp, hi_exp] {
      const auto m = *rc::gen::inRange<uint64_t>(uint64_t{1} << 52, uint64_t{1} << 53);
      const int e = *rc::gen::inRange(lo_exp, hi_exp + 1);
      const double v = std::ldexp(static_cast<double>(m), e - 52);  // [2^e, 2^(e+1))
      return *rc::gen::arbitrary<bool>() ? -v : v;
    });
  };
  const rc::Gen<double> subnormal = rc::gen::exec([] {
    const auto m = *rc::gen::inRange<uint64_t>(1, uint64_t{1} << 52);
    const double v = std::ldexp(static_cast<double>(m), -1074);
    return *rc::gen::arbitrary<bool>() ? -v : v;
  });
  return rc::gen::weightedOneOf<double>({{8, mantissa(-4, 3)},
                                         {5, mantissa(-1000, 1000)},
                                         {2, rc::gen::element(0.0, -0.0)},
                                         {2, subnormal},
                                         {3, mantissa(-1022, -960)}});
}

enum class VectorClass { kNormal, kWide, kTiny, kZero };
inline VectorClass classify_pair(double x0, double x1) {
  const double m = std::max(std::fabs(x0), std::fabs(x1));
  if (m == 0) return VectorClass::kZero;
  if (m < 0x1p-900) return VectorClass::kTiny;
  if (m < 0x1p-8 || m > 0x1p8) return VectorClass::kWide;
  return VectorClass::kNormal;
}

// ---------------------------------------------------------------------------------------
// The metric: Euclidean distance between two double-double pairs, relative to
// r = a·‖(x0, x1)‖ (style rule 4: ulp of the pair norm, never of a component).  Differences
// are formed with two-sum so the metric itself adds no error at the 2^-70 level.
inline double dd_diff(double ah, double al, double bh, double bl) {
  const double s = ah - bh;
  const double bb = s - ah;
  const double e = (ah - (s - bb)) + (-bh - bb);
  return s + (e + (al - bl));
}

struct PairVerdict {
  double error = 0;   // ‖fast − exact‖ (absolute)
  double r = 0;       // a·‖x‖
  double allowed = 0; // kFastOracleErrorBound·r + kFastOracleUnderflowFloor
  bool ok() const { return error <= allowed; }
  // Error in units of 2^-50·r (the requirement is <= 1); 0 when r = 0.
  // (Scaled as error/r·2^50 so that a subnormal r does not underflow the unit.)
  double units_2m50() const { return r > 0 ? error / r * 0x1p50 : 0.0; }
};

inline PairVerdict judge_pair(double a, double x0, double x1, const double fh[2],
                              const double fl[2], const double eh[2], const double el[2]) {
  PairVerdict v;
  v.error = std::hypot(dd_diff(fh[0], fl[0], eh[0], el[0]), dd_diff(fh[1], fl[1], eh[1], el[1]));
  v.r = a * std::hypot(x0, x1);
  v.allowed = ref::kFastOracleErrorBound * v.r + ref::kFastOracleUnderflowFloor;
  return v;
}

// Worst case seen so far, printed in hexfloat (style rule 5).  Two regimes: relative to r
// where the underflow floor is negligible (r >= 2^-960, floor/r <= 2^-110), and in units
// of the allowance (bound·r + floor) below that.
struct Worst {
  static constexpr double kNormalR = 0x1p-960;
  double units = -1;  // max error/(2^-50·r) over r >= kNormalR
  std::string where;
  double floor_units = -1;  // max error/allowed over r < kNormalR
  std::string floor_where;
  long pairs = 0;

  static std::string describe(const PairVerdict& v, int64_t t, int pair, double x0, double x1,
                              const std::string& spec_json) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "t=%" PRId64 " pair=%d x0=%a x1=%a error=%a r=%a (= 2^%.1f r)", t, pair, x0,
                  x1, v.error, v.r, v.error > 0 && v.r > 0 ? std::log2(v.error / v.r) : -INFINITY);
    return std::string(buf) + " spec=" + spec_json;
  }
  void update(const PairVerdict& v, const std::string& spec_json, int64_t t, int pair,
              double x0, double x1) {
    ++pairs;
    if (v.r >= kNormalR) {
      if (v.units_2m50() <= units) return;
      units = v.units_2m50();
      where = describe(v, t, pair, x0, x1, spec_json);
    } else {
      const double u = v.error / v.allowed;
      if (u <= floor_units) return;
      floor_units = u;
      floor_where = describe(v, t, pair, x0, x1, spec_json);
    }
  }
  std::string summary() const {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%ld pairs; max error %.3g x 2^-50 r (= 2^%.1f r; declared bound 2^%.0f r)",
                  pairs, units, units > 0 ? std::log2(units) - 50 : -INFINITY,
                  std::log2(ref::kFastOracleErrorBound));
    std::string out = std::string(buf) + "\n  worst: " + where;
    if (floor_units >= 0) {
      std::snprintf(buf, sizeof buf,
                    "\n  r < 2^-960: max error %.3g of the allowance 2^%.0f r + 2^%.0f", floor_units,
                    std::log2(ref::kFastOracleErrorBound), std::log2(ref::kFastOracleUnderflowFloor));
      out += std::string(buf) + "\n  worst: " + floor_where;
    }
    return out;
  }
};

}  // namespace ropecheck::testing

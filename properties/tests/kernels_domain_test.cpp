// The supported parameter domain (reference/rope_spec.hpp, namespace domain) keeps every
// quantity of the exact reference and of the error model finite.  For every spec validate()
// accepts -- the corners of the domain, and random specs whose parameters are drawn over the
// whole double range and kept when validate() accepts them -- the exact reference builds,
// θ'_j is a normal double in [1e-80, 1e12], the attention factor is in [1/16, 16], it rotates
// at t = 2^63 - 1, and the bound of every built-in kernel's contract (plus the same contracts
// with a bf16 and an f16 angle dtype, the coarsest u the YaRN and llama3 terms divide by) is
// finite and non-negative at every pair, position and pair norm.  Before the domain an NTK
// factor of 1e300 passed validation and gave NaN bounds ("bound = -nan": a false violation
// with error 0).  Seed: kSeed.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "exact_reference.hpp"
#include "impl/registry.hpp"
#include "properties/c_spec.hpp"
#include "reference/error_model.hpp"
#include "reference/tests/sample_specs.hpp"

namespace ropecheck::impl {
namespace {

using props::CSpec;
using props::to_c_spec;

constexpr uint64_t kSeed = 20261123;
const std::vector<int64_t> kPositions = {0, 1, int64_t{1} << 31, int64_t{1} << 53, INT64_MAX};
const std::vector<double> kNorms = {0.0, 0x1p-1074, 1.0, 1e300};

std::vector<rc_kernel_desc> contracts() {
  std::vector<rc_kernel_desc> out;
  for (const rc_kernel_desc* k : builtin_kernels()) out.push_back(*k);
  for (const int32_t angle : {RC_DTYPE_BF16, RC_DTYPE_F16}) {
    rc_kernel_desc d = *builtin_kernels().front();
    d.accuracy.angle_dtype = angle;
    d.accuracy.angle_unit_roundoff = ref::unit_roundoff(angle);
    out.push_back(d);
  }
  return out;
}

// Every finding of one spec, as text ("" = none).
std::string check_spec(const RopeSpec& spec, bool rotate_at_max) {
  std::string bad;
  const auto note = [&](const std::string& what) {
    if (bad.size() < 600) bad += what + "; ";
  };
  char buf[256];
  const ref::ExactReference ref(spec);
  const double a = ref.attention_factor();
  if (!(a >= domain::kMinAttention && a <= domain::kMaxAttention)) note("attention factor " + std::to_string(a));
  std::vector<double> theta;
  for (int j = 0; j < spec.pairs(); ++j) {
    theta.push_back(ref.theta(j));
    if (!std::isnormal(theta.back()) || !(theta.back() >= 1e-80 && theta.back() <= 1e12)) {
      std::snprintf(buf, sizeof buf, "theta[%d] = %g", j, theta.back());
      note(buf);
    }
  }
  if (!bad.empty()) return bad;
  if (rotate_at_max) {
    std::vector<double> x(static_cast<size_t>(spec.head_dim), 0.75), hi(x.size()), lo(x.size());
    ref.rotate(INT64_MAX, x.data(), hi.data(), lo.data());
    for (size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(hi[i]) || !std::isfinite(lo[i])) note("rotate(2^63-1)[" + std::to_string(i) + "] not finite");
    }
  }
  for (const rc_kernel_desc& d : contracts()) {
    const ref::PairBounds bounds(d, spec);
    for (int j = 0; j < spec.pairs(); ++j) {
      for (const int64_t t : kPositions) {
        for (const double r0 : kNorms) {
          const double r = a * r0;
          const double b = ref::pair_bound(d, spec, j, t, theta[static_cast<size_t>(j)], r, a);
          const double b2 = bounds(j, t, theta[static_cast<size_t>(j)], r, a);
          if (!(b >= 0) || !std::isfinite(b) || !(b == b2)) {
            std::snprintf(buf, sizeof buf, "%s (angle dtype %d): pair %d t=%" PRId64 " r=%g: bound %g (PairBounds %g)",
                          d.name, d.accuracy.angle_dtype, j, t, r, b, b2);
            note(buf);
          }
        }
      }
    }
  }
  return bad;
}

// Each bounded field at its limits, for every type that reads it.
std::vector<RopeSpec> corner_specs() {
  using testing::basic_spec;
  std::vector<RopeSpec> out;
  for (const int d : {4, 130}) {
    for (const double base : {1.0000000000000002, domain::kMaxBase}) {
      out.push_back(basic_spec(d, d, base, RopeType::kDefault));
      for (const double s : {domain::kMinScale, domain::kMaxScale}) {
        for (const RopeType type : {RopeType::kLinear, RopeType::kNtk, RopeType::kDynamic}) {
          if (type == RopeType::kDynamic && s < 1) continue;
          RopeSpec r = basic_spec(d, d, base, type);
          r.factor = s;
          r.max_position_embeddings = 1;
          r.seq_len = INT64_MAX;
          out.push_back(r);
        }
        for (const double beta : {domain::kMinScale, domain::kMaxScale}) {
          for (const bool truncate : {true, false}) {
            RopeSpec y = basic_spec(d, d, base, RopeType::kYarn);
            y.factor = s;
            y.beta_fast = beta < 1 ? domain::kMinBeta : domain::kMaxBeta;
            y.beta_slow = beta < 1 ? domain::kMaxBeta : domain::kMinBeta;
            y.truncate = truncate;
            y.original_max_position_embeddings = beta < 1 ? 1 : INT64_MAX;
            y.mscale = domain::kMaxMscale;
            y.mscale_all_dim = beta < 1 ? 0x1p-1074 : 0.0;
            out.push_back(y);
            y.attention_factor = beta < 1 ? domain::kMinAttention : domain::kMaxAttention;
            out.push_back(y);
          }
          RopeSpec l = basic_spec(d, d, base, RopeType::kLlama3);
          l.factor = s;
          l.low_freq_factor = beta;
          l.high_freq_factor = beta < 1 ? std::nextafter(beta, 2.0) : domain::kMaxScale;
          if (beta >= 1) l.low_freq_factor = std::nextafter(domain::kMaxScale, 0.0);
          l.original_max_position_embeddings = beta < 1 ? 1 : INT64_MAX;
          out.push_back(l);
        }
        RopeSpec lr = basic_spec(d, d, base, RopeType::kLongrope);
        lr.factor = s;
        lr.original_max_position_embeddings = 2;
        lr.seq_len = INT64_MAX;
        lr.short_factor.assign(static_cast<size_t>(d / 2), domain::kMaxScale);
        lr.long_factor.assign(static_cast<size_t>(d / 2), domain::kMinScale);
        out.push_back(lr);
      }
    }
  }
  return out;
}

// ulp_in reads the exponent from the bits where it can: the same value as 2^(ilogb(r) - (p - 1))
// for every r > 0 (random bit patterns, subnormals, the ends of the range), in every dtype.
TEST(SupportedDomain, UlpInIsTheSpacingOfTheExponentInEveryDtype) {
  std::mt19937_64 rng(kSeed);
  std::vector<double> rs = {0x1p-1074, 0x1p-1022, 0x1.fffffffffffffp-1023, 1.0, 0x1.fffffffffffffp+1023, 0x1p-1000,
                            0x1p-970, 0x1p-951, 0x1p-950, 0x1p+1000};
  for (int i = 0; i < 200000; ++i) {
    const uint64_t b = rng() & 0x7FFFFFFFFFFFFFFFull;
    double r;
    std::memcpy(&r, &b, sizeof r);
    if (r > 0 && std::isfinite(r)) rs.push_back(r);
  }
  for (const int32_t dtype : std::vector<int32_t>{RC_DTYPE_F32, RC_DTYPE_F64, RC_DTYPE_F16, RC_DTYPE_BF16, RC_DTYPE_F64X2, 0}) {
    for (const double r : rs) {
      const double want = std::ldexp(1.0, std::ilogb(r) - (ref::significand_bits(dtype) - 1));
      ASSERT_EQ(ref::ulp_in(r, dtype), want) << "dtype " << dtype << " r " << r;
    }
  }
  EXPECT_EQ(ref::ulp_in(0.0, RC_DTYPE_F32), 0.0);
  EXPECT_EQ(ref::ulp_in(-1.0, RC_DTYPE_F32), 0.0);
  EXPECT_EQ(ref::ulp_in(INFINITY, RC_DTYPE_F32), 0.0);
  EXPECT_EQ(ref::ulp_in(NAN, RC_DTYPE_F32), 0.0);
}

TEST(SupportedDomain, CornersGiveFiniteFrequenciesAndBounds) {
  size_t n = 0;
  for (const RopeSpec& spec : corner_specs()) {
    ASSERT_NO_THROW(validate(spec)) << spec_to_json_text(spec, -1);
    const std::string bad = check_spec(spec, true);
    EXPECT_EQ(bad, "") << spec_to_json_text(spec, -1);
    ++n;
  }
  std::printf("%zu corner specs\n", n);
  EXPECT_GT(n, 100u);
}

// Parameters over the whole double range (and every int64 length); whatever validate()
// accepts must have finite frequencies and bounds.  About a third of the draws are accepted.
TEST(SupportedDomain, EveryAcceptedRandomSpecGivesFiniteFrequenciesAndBounds) {
  std::mt19937_64 rng(kSeed);
  std::printf("seed %" PRIu64 "\n", kSeed);
  const auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  // Half the time near real values, else log-uniform over [1e-320, 1e308] (sometimes negative).
  const auto param = [&](double typical) {
    if (rng() % 2) return typical * std::exp2(uniform(-3, 3));
    const double v = std::pow(10.0, uniform(-320, 308));
    return rng() % 8 ? v : -v;
  };
  const auto length = [&]() -> int64_t {
    switch (rng() % 4) {
      case 0: return static_cast<int64_t>(std::exp2(uniform(0, 62.99)));
      case 1: return INT64_MAX - static_cast<int64_t>(rng() % 4096);
      default: return int64_t{1} << (rng() % 20);
    }
  };
  size_t accepted = 0, drawn = 0;
  for (; drawn < 6000; ++drawn) {
    const int d = std::vector<int>{4, 6, 8, 16, 64}[rng() % 5];
    RopeSpec s = testing::basic_spec(d, d, param(1e4), static_cast<RopeType>(rng() % 7));
    s.factor = param(8);
    s.max_position_embeddings = length();
    s.original_max_position_embeddings = rng() % 2 ? length() : 0;
    s.seq_len = rng() % 2 ? length() : 0;
    s.beta_fast = param(32);
    s.beta_slow = param(1);
    s.mscale = rng() % 2 ? param(1) : 0.0;
    s.mscale_all_dim = rng() % 2 ? param(1) : 0.0;
    if (rng() % 4 == 0) s.attention_factor = param(1.2);
    s.truncate = rng() % 2;
    s.low_freq_factor = param(1);
    s.high_freq_factor = s.low_freq_factor * (1 + std::abs(param(3)));
    if (s.type == RopeType::kLongrope) {
      for (int j = 0; j < d / 2; ++j) {
        s.short_factor.push_back(param(1));
        s.long_factor.push_back(param(4));
      }
    }
    try {
      validate(s);
    } catch (const SpecError&) {
      continue;
    }
    ++accepted;
    const std::string bad = check_spec(s, accepted % 16 == 0);
    EXPECT_EQ(bad, "") << spec_to_json_text(s, -1);
    if (!bad.empty()) break;  // one spec is enough to show; the rest would repeat it
  }
  std::printf("%zu of %zu random specs accepted\n", accepted, drawn);
  EXPECT_GT(accepted, 300u);
}

}  // namespace
}  // namespace ropecheck::impl

namespace ropecheck::impl {
namespace {

// θ_j = 0 (rope type none, proportional's padded pairs): no angle is formed, so the bound has no
// angle term at any position -- it is the bound of a pair at t = 0 with θ > 0 less the declared
// reduction error -- and PairBounds says the same as pair_bound.
TEST(SupportedDomain, ZeroFrequencyPairsHaveNoAngleTerm) {
  const RopeSpec none = testing::sample_specs().back();
  ASSERT_EQ(none.type, RopeType::kNone);
  const double r = 1.25;
  for (const rc_kernel_desc* d : builtin_kernels()) {
    const ref::PairBounds bounds(*d, none);
    const double at_zero = ref::pair_bound(*d, none, 0, 0, 1.0, r, 1.0);  // t = 0: the angle term is the reduction's
    for (int64_t t : {int64_t{1}, int64_t{1} << 40, INT64_MAX}) {
      const ref::PairBound b = ref::pair_error_bound(*d, none, 0, t, 0.0, r, 1.0);
      EXPECT_EQ(b.dphi, 0.0) << d->name << " t=" << t;
      EXPECT_EQ(b.angle, 0.0) << d->name << " t=" << t;
      const double want = at_zero - 1.01 * r * d->accuracy.reduced_angle_abs_error;
      EXPECT_NEAR(ref::pair_bound(*d, none, 0, t, 0.0, r, 1.0), want, 1e-12 * want) << d->name << " t=" << t;
      EXPECT_EQ(bounds(0, t, 0.0, r, 1.0), ref::pair_bound(*d, none, 0, t, 0.0, r, 1.0)) << d->name << " t=" << t;
    }
  }
}

}  // namespace
}  // namespace ropecheck::impl

// The identities RoPE must satisfy, checked in the exact reference itself at working
// precision: Euclidean ≡ complex (to 2^-100 of the pair norm), t = 0 is the identity (× a),
// composition R(R(x,t),s) = R(x,t+s), the inverse R(R(x,t),−t) = x (a = 1 specs; otherwise
// scaled by a²), closed-form score = dot product of rotated vectors, and score(t,s) =
// score(t+Δ, s+Δ).  Over every variant, both layouts, partial rotary, positions up to
// 2^63−1.  Tolerances: the reference is computed at working_bits(t) ≥ 192 bits, so each
// identity holds to ~2^-(bits-8) relative; we assert 2^-100 of the relevant norm.
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/mpfr.hpp>

#include <cfloat>
#include <cmath>
#include <random>
#include <stdexcept>
#include <thread>

#include "exact.hpp"
#include "exact_reference.hpp"
#include "sample_specs.hpp"

namespace ropecheck::ref {
namespace {

namespace mp = boost::multiprecision;
using Mp = mp::mpfr_float;

constexpr int kBits = 320;  // enough for |t·θ| up to 2^63 · 2^5 with 2^-120 to spare

struct Precision {
  Precision() : saved(Mp::default_precision()) { Mp::default_precision(kBits * 30103 / 100000 + 2); }
  ~Precision() { Mp::default_precision(saved); }
  unsigned saved;
};

const std::vector<int64_t> kPositions = {0, 1, 257, 4097, 65536, (1LL << 24) + 1,
                                         (1LL << 31) - 1, (1LL << 53) + 1, INT64_MAX / 2};

std::vector<Mp> random_head(std::mt19937_64& gen, int n) {
  std::vector<Mp> v(static_cast<size_t>(n));
  for (auto& x : v) x = Mp(static_cast<double>(gen() >> 11) * 0x1p-53 * 4.0 - 2.0);
  return v;
}

// max over pairs of |a − b| / ‖pair of reference‖ (pass-through compared absolutely).
Mp max_pair_error(const RopeSpec& spec, const std::vector<Mp>& a, const std::vector<Mp>& b,
                  const std::vector<Mp>& norm_of) {
  Mp worst = 0;
  for (int j = 0; j < spec.pairs(); ++j) {
    const auto i0 = static_cast<size_t>(spec.first_index(j));
    const auto i1 = static_cast<size_t>(spec.second_index(j));
    const Mp r = mp::sqrt(norm_of[i0] * norm_of[i0] + norm_of[i1] * norm_of[i1]);
    const Mp e = mp::sqrt((a[i0] - b[i0]) * (a[i0] - b[i0]) + (a[i1] - b[i1]) * (a[i1] - b[i1]));
    if (r > 0) worst = mp::max(worst, Mp(e / r));
  }
  for (int c = spec.rotary_dim; c < spec.head_dim; ++c) {
    worst = mp::max(worst, Mp(mp::abs(a[static_cast<size_t>(c)] - b[static_cast<size_t>(c)])));
  }
  return worst;
}

const Mp& tolerance() {
  static const Mp tol = mp::ldexp(Mp(1), -100);
  return tol;
}

class IdentitiesTest : public ::testing::TestWithParam<RopeSpec> {};

TEST_P(IdentitiesTest, EuclideanEqualsComplex) {
  Precision p;
  const RopeSpec& spec = GetParam();
  const auto f = frequencies<Mp>(spec);
  std::mt19937_64 gen(1);
  Mp worst = 0;
  for (int64_t t : kPositions) {
    const auto x = random_head(gen, spec.head_dim);
    const auto e = rotate_euclidean<Mp>(spec, f, t, x);
    const auto c = rotate_complex<Mp>(spec, f, t, x, kBits);
    worst = mp::max(worst, max_pair_error(spec, e, c, e));
  }
  std::printf("[%s] max |euclidean - complex| / r = %s\n", spec.name.c_str(),
              worst.str(3, std::ios_base::scientific).c_str());
  EXPECT_LE(worst, tolerance());
}

TEST_P(IdentitiesTest, PositionZeroIsIdentityTimesAttentionFactor) {
  Precision p;
  const RopeSpec& spec = GetParam();
  const auto f = frequencies<Mp>(spec);
  std::mt19937_64 gen(2);
  const auto x = random_head(gen, spec.head_dim);
  const auto y = rotate_euclidean<Mp>(spec, f, 0, x);
  for (int j = 0; j < spec.pairs(); ++j) {
    for (int i : {spec.first_index(j), spec.second_index(j)}) {
      EXPECT_EQ(y[static_cast<size_t>(i)], x[static_cast<size_t>(i)] * f.attention_factor);
    }
  }
  for (int c = spec.rotary_dim; c < spec.head_dim; ++c) {
    EXPECT_EQ(y[static_cast<size_t>(c)], x[static_cast<size_t>(c)]) << "pass-through dim " << c;
  }
}

TEST_P(IdentitiesTest, CompositionAddsPositionsAndInverseUndoes) {
  Precision p;
  const RopeSpec& spec = GetParam();
  const auto f = frequencies<Mp>(spec);
  // Composition multiplies by a twice; compare against R(x, t+s)·a.
  std::mt19937_64 gen(3);
  Mp worst = 0;
  for (int64_t t : kPositions) {
    for (int64_t s : {int64_t{0}, int64_t{5}, int64_t{1} << 40, INT64_MAX / 4}) {
      const auto x = random_head(gen, spec.head_dim);
      const auto twice = rotate_euclidean<Mp>(spec, f, s, rotate_euclidean<Mp>(spec, f, t, x));
      auto once = rotate_euclidean<Mp>(spec, f, t + s, x);
      for (int j = 0; j < spec.pairs(); ++j) {
        for (int i : {spec.first_index(j), spec.second_index(j)}) {
          once[static_cast<size_t>(i)] *= f.attention_factor;
        }
      }
      worst = mp::max(worst, max_pair_error(spec, twice, once, once));
      // Inverse: rotating back by −t returns a²·x.
      auto back = rotate_euclidean<Mp>(spec, f, -t, rotate_euclidean<Mp>(spec, f, t, x));
      auto scaled = x;
      for (int j = 0; j < spec.pairs(); ++j) {
        for (int i : {spec.first_index(j), spec.second_index(j)}) {
          scaled[static_cast<size_t>(i)] *= f.attention_factor * f.attention_factor;
        }
      }
      worst = mp::max(worst, max_pair_error(spec, back, scaled, scaled));
    }
  }
  std::printf("[%s] max composition/inverse error / r = %s\n", spec.name.c_str(),
              worst.str(3, std::ios_base::scientific).c_str());
  EXPECT_LE(worst, tolerance());
}

TEST_P(IdentitiesTest, ClosedFormScoreEqualsDotOfRotatedAndIsShiftInvariant) {
  Precision p;
  const RopeSpec& spec = GetParam();
  const auto f = frequencies<Mp>(spec);
  std::mt19937_64 gen(4);
  Mp worst = 0;
  const std::vector<std::pair<int64_t, int64_t>> pairs = {
      {5, 8}, {15, 18}, {0, 0}, {4096, 1}, {(1LL << 31) + 1, 7}, {INT64_MAX, INT64_MAX - 16}};
  for (auto [t, s] : pairs) {
    const auto q = random_head(gen, spec.head_dim);
    const auto k = random_head(gen, spec.head_dim);
    Mp scale = 0;  // Σ |q_i||k_i| · a²: the natural size of the score
    for (size_t i = 0; i < q.size(); ++i) scale += mp::abs(q[i] * k[i]);
    scale *= mp::max(Mp(1), Mp(f.attention_factor * f.attention_factor));
    const Mp closed = score_closed_form<Mp>(spec, f, q, t, k, s, kBits);
    const Mp direct = dot<Mp>(rotate_euclidean<Mp>(spec, f, t, q), rotate_euclidean<Mp>(spec, f, s, k));
    worst = mp::max(worst, Mp(mp::abs(closed - direct) / scale));
    for (int64_t delta : {int64_t{10}, int64_t{1} << 32}) {
      if (t > INT64_MAX - delta || s > INT64_MAX - delta) continue;
      const Mp shifted = dot<Mp>(rotate_euclidean<Mp>(spec, f, t + delta, q),
                                 rotate_euclidean<Mp>(spec, f, s + delta, k));
      worst = mp::max(worst, Mp(mp::abs(shifted - direct) / scale));
    }
  }
  std::printf("[%s] max score identity error / scale = %s\n", spec.name.c_str(),
              worst.str(3, std::ios_base::scientific).c_str());
  EXPECT_LE(worst, tolerance());
}

std::string spec_name(const ::testing::TestParamInfo<RopeSpec>& info) {
  return std::string(to_string(info.param.type)) + "_" + to_string(info.param.layout) + "_" +
         std::to_string(info.index);
}

std::vector<RopeSpec> named_specs() {
  auto specs = testing::sample_specs();
  for (auto& s : specs) s.name = std::string(to_string(s.type)) + "/" + to_string(s.layout);
  return specs;
}

INSTANTIATE_TEST_SUITE_P(AllVariants, IdentitiesTest, ::testing::ValuesIn(named_specs()),
                         spec_name);

// The reference is generic over the number type: a fixed-precision cpp_bin_float gives the
// same frequencies and rotation as MPFR where its precision suffices.
TEST(GenericReference, CppBinFloatAgreesWithMpfr) {
  Precision p;
  using Bin = mp::number<mp::cpp_bin_float<200, mp::digit_base_2>>;
  for (const RopeSpec& spec : testing::sample_specs()) {
    const auto fm = frequencies<Mp>(spec);
    const auto fb = frequencies<Bin>(spec);
    std::vector<Bin> xb(static_cast<size_t>(spec.head_dim));
    std::vector<Mp> xm(xb.size());
    for (size_t i = 0; i < xb.size(); ++i) {
      const double v = 0.25 * static_cast<double>(i) - 1.0;
      xb[i] = Bin(v);
      xm[i] = Mp(v);
    }
    const auto yb = rotate_euclidean<Bin>(spec, fb, 123456789, xb);
    const auto ym = rotate_euclidean<Mp>(spec, fm, 123456789, xm);
    for (size_t i = 0; i < yb.size(); ++i) {
      EXPECT_LE(mp::abs(Mp(yb[i].str(70)) - ym[i]), mp::ldexp(Mp(1), -150)) << spec.name << " i=" << i;
    }
  }
}

// ExactReference picks its precision from the position; its double-double output must agree
// with the 320-bit template computation at every int64 scale.
TEST(ExactReferenceTest, AdaptivePrecisionMatchesFixedHighPrecision) {
  for (const RopeSpec& spec : testing::sample_specs()) {
    const ExactReference ref(spec);
    Precision p;
    const auto f = frequencies<Mp>(spec);
    std::mt19937_64 gen(5);
    for (int64_t t : {int64_t{0}, int64_t{3}, (int64_t{1} << 31) - 1, INT64_MAX}) {
      const auto x = random_head(gen, spec.head_dim);
      std::vector<double> xd(x.size()), hi(x.size()), lo(x.size());
      for (size_t i = 0; i < x.size(); ++i) xd[i] = x[i].convert_to<double>();
      ref.rotate(t, xd.data(), hi.data(), lo.data());
      const auto y = rotate_euclidean<Mp>(spec, f, t, x);
      for (size_t i = 0; i < y.size(); ++i) {
        EXPECT_LE(mp::abs(Mp(hi[i]) + Mp(lo[i]) - y[i]), mp::ldexp(Mp(1), -100))
            << to_string(spec.type) << " t=" << t << " i=" << i;
      }
    }
  }
}

TEST(ExactReferenceTest, WorkingPrecisionGrowsWithAngle) {
  EXPECT_EQ(working_bits(0, 1.0), 192u);
  EXPECT_EQ(working_bits(1000, 1.0), 192u);
  EXPECT_GE(working_bits(INT64_MAX, 1.0), 160u + 63u);
  EXPECT_GE(working_bits(INT64_MAX, 1000.0), 160u + 63u + 10u);
  EXPECT_LT(working_bits(1 << 20, 1.0), working_bits(INT64_MAX, 1.0));
}

// |t|·θ beyond double (a linear factor of 1e-299 at t = 2^31 once did it) used to reach
// int(log2(inf)) -- undefined behaviour that asked MPFR for ~2^31 bits and never returned.
// The precision is log2|t| + log2 θ: at most 63 + 1024 bits above the 160 for any finite θ;
// a non-finite θ is an internal error, reported, never a huge allocation.
TEST(ExactReferenceTest, WorkingPrecisionIsBoundedWhenTheAngleOverflowsDouble) {
  EXPECT_EQ(working_bits(int64_t{1} << 31, 1e299), 1216u);  // 160 + ceil(31 + 993.2) + 1 -> 1216
  EXPECT_GE(working_bits(INT64_MAX, DBL_MAX), 160u + 63u + 1024u);
  EXPECT_LE(working_bits(INT64_MAX, DBL_MAX), 1280u);
  EXPECT_EQ(working_bits(INT64_MAX, 0.0), 192u);
  EXPECT_THROW(working_bits(1, INFINITY), std::domain_error);
  EXPECT_THROW(working_bits(1, NAN), std::domain_error);
  EXPECT_THROW(working_bits(0, -1.0), std::domain_error);
}

// ExactReference from several threads (the report's workers, a FastOracle delegating far
// angles): each call sets MPFR's process-wide default precision (Boost 1.74), so the work is
// serialized by one lock.  Without it, one thread's 192-bit scope lowers the precision of
// another's 256-bit work at t = 2^63 - 1 mid-computation: the double-double results survive
// (the margin is wide) but the 60 digits of `ropecheck ref` do not.  Four threads, each
// building its own references and rotating, in different orders, at positions whose precision
// tiers differ, must print the digits of a sequential run.
TEST(ExactReferenceTest, ConcurrentUseGivesTheDigitsOfSequentialUse) {
  const std::vector<RopeSpec> specs = testing::sample_specs();
  const std::vector<int64_t> positions = {0, 7, int64_t{1} << 31, int64_t{1} << 47, INT64_MAX};
  const auto run = [&](size_t first) {
    std::vector<std::string> out;
    for (int repeat = 0; repeat < 4; ++repeat) {
      for (size_t k = 0; k < specs.size(); ++k) {
        const RopeSpec& spec = specs[(first + k) % specs.size()];
        const ExactReference ref(spec);
        std::vector<std::string> x(static_cast<size_t>(spec.head_dim));
        for (size_t i = 0; i < x.size(); ++i) x[i] = "0." + std::to_string(i + 1) + "3";
        for (size_t p = 0; p < positions.size(); ++p) {
          for (std::string& y : ref.rotate_decimal({positions[(first + p) % positions.size()]}, x, 60)) {
            out.push_back(std::move(y));
          }
        }
      }
    }
    return out;
  };
  constexpr size_t kThreads = 4;
  std::vector<std::vector<std::string>> expected(kThreads), got(kThreads);
  for (size_t i = 0; i < kThreads; ++i) expected[i] = run(i);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < kThreads; ++i) {
    pool.emplace_back([&, i] {
      got[i] = run(i);
      release_thread_caches();
    });
  }
  for (std::thread& t : pool) t.join();
  for (size_t i = 0; i < kThreads; ++i) {
    ASSERT_EQ(got[i].size(), expected[i].size());
    size_t differ = 0;
    for (size_t j = 0; j < got[i].size(); ++j) differ += got[i][j] != expected[i][j];
    EXPECT_EQ(differ, 0u) << "thread " << i << ": " << differ << " of " << got[i].size() << " values differ";
  }
}

}  // namespace
// Multi-axis RoPE (issue 17): a text token (every axis at one t) reduces to 1-D RoPE with the
// same frequencies -- for M-RoPE, the spec without its sections, chunked or interleaved, with
// YaRN and partial rotary; for N-D, a rotation by t at the N-D spec's own per-pair θ (the 1-D
// rotate of the same spec).  Bit for bit: the same exact value rounded the same way.
TEST(MultiAxisReference, TextTokensAreOneAxisRopeWithTheSameFrequencies) {
  std::mt19937_64 gen(17);
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  RopeSpec yarn = testing::basic_spec(24, 16, 1e7, RopeType::kYarn);
  yarn.factor = 4;
  yarn.original_max_position_embeddings = 65536;
  yarn.max_position_embeddings = 262144;
  for (const bool interleaved : {false, true}) {
    RopeSpec m = yarn;
    m.mrope_section = {3, 3, 2};
    m.mrope_interleaved = interleaved;
    const ExactReference multi(m), one(yarn);
    std::vector<double> x(24);
    for (double& v : x) v = u(gen);
    for (int64_t t : {int64_t{0}, int64_t{5}, int64_t{4097}, (int64_t{1} << 40) + 3, INT64_MAX}) {
      std::vector<double> a_hi(24), a_lo(24), b_hi(24), b_lo(24);
      multi.rotate_axes({t, t, t}, x.data(), a_hi.data(), a_lo.data());
      one.rotate(t, x.data(), b_hi.data(), b_lo.data());
      EXPECT_EQ(a_hi, b_hi) << "interleaved " << interleaved << " t " << t;
      EXPECT_EQ(a_lo, b_lo) << "interleaved " << interleaved << " t " << t;
    }
  }
  RopeSpec nd = testing::basic_spec(64, 64, 1e4, RopeType::kDefault);
  nd.axes_dims = {32, 32};
  nd.axes_dealt = true;
  const ExactReference r(nd);
  std::vector<double> x(64);
  for (double& v : x) v = u(gen);
  for (int64_t t : {int64_t{3}, int64_t{-4096}, (int64_t{1} << 40) + 3}) {
    std::vector<double> a_hi(64), a_lo(64), b_hi(64), b_lo(64);
    r.rotate_axes({t, t}, x.data(), a_hi.data(), a_lo.data());
    r.rotate(t, x.data(), b_hi.data(), b_lo.data());
    EXPECT_EQ(a_hi, b_hi) << "t " << t;
    EXPECT_EQ(a_lo, b_lo) << "t " << t;
  }
}

}  // namespace ropecheck::ref

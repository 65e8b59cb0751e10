// design.md's check values, pinned: YaRN ramp ranges and attention factors, llama3 band
// counts, the longrope (Phi-3 128K/4K) attention factor.  The expected numbers come from
// design.md (and the YaRN / LongRoPE papers), not from this code.
#include <gtest/gtest.h>

#include <boost/multiprecision/mpfr.hpp>

#include <cmath>

#include "exact.hpp"
#include "rope_spec.hpp"

namespace ropecheck::ref {
namespace {

namespace mp = boost::multiprecision;
using Mp = mp::mpfr_float;

struct Precision {
  Precision() : saved(Mp::default_precision()) { Mp::default_precision(60); }
  ~Precision() { Mp::default_precision(saved); }
  unsigned saved;
};

RopeSpec yarn_spec(int d, double base, double s) {
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = d;
  spec.base = base;
  spec.type = RopeType::kYarn;
  spec.factor = s;
  spec.original_max_position_embeddings = 4096;
  return spec;
}

// Ramp of pair j recovered from θ'_j = θ_j·(1 − ramp) + (θ_j/s)·ramp.
std::vector<Mp> yarn_ramps(const RopeSpec& spec) {
  const auto f = frequencies<Mp>(spec);
  const Mp s(spec.factor);
  std::vector<Mp> ramp;
  for (int j = 0; j < spec.pairs(); ++j) {
    const Mp theta = base_theta(Mp(spec.base), j, spec.rotary_dim);
    ramp.push_back((theta - f.theta[static_cast<size_t>(j)]) / (theta - theta / s));
  }
  return ramp;
}

void expect_ramp_over(const RopeSpec& spec, int lo, int hi) {
  const auto ramp = yarn_ramps(spec);
  const Mp tol = mp::ldexp(Mp(1), -150);
  for (int j = 0; j < spec.pairs(); ++j) {
    const Mp want = j <= lo ? Mp(0) : j >= hi ? Mp(1) : Mp(Mp(j - lo) / Mp(hi - lo));
    EXPECT_LE(mp::abs(ramp[static_cast<size_t>(j)] - want), tol) << "pair " << j;
  }
}

TEST(CheckValues, YarnD128Base1e4Scale16RampsOverPairs20To46) {
  Precision p;
  const RopeSpec spec = yarn_spec(128, 1e4, 16);
  expect_ramp_over(spec, 20, 46);
  const double a = frequencies<Mp>(spec).attention_factor.convert_to<double>();
  EXPECT_NEAR(a, 1.2773, 0.5e-4);
  EXPECT_NEAR(a, 0.1 * std::log(16.0) + 1.0, 1e-15);
}

TEST(CheckValues, YarnD64Base15e4Scale32RampsOverPairs8To18) {
  Precision p;
  const RopeSpec spec = yarn_spec(64, 1.5e5, 32);
  expect_ramp_over(spec, 8, 18);
  EXPECT_NEAR(frequencies<Mp>(spec).attention_factor.convert_to<double>(), 1.3466, 0.5e-4);
}

TEST(CheckValues, YarnMscaleRatioAndGivenAttentionFactor) {
  Precision p;
  RopeSpec spec = yarn_spec(64, 1e4, 40);
  spec.mscale = 1.0;
  spec.mscale_all_dim = 0.8;  // DeepSeek-style: a = m(s, 1) / m(s, 0.8)
  const double want = (0.1 * std::log(40.0) + 1) / (0.08 * std::log(40.0) + 1);
  EXPECT_NEAR(frequencies<Mp>(spec).attention_factor.convert_to<double>(), want, 1e-15);
  spec.mscale_all_dim = 0;  // absent: HF ignores mscale and uses m(s)
  EXPECT_NEAR(frequencies<Mp>(spec).attention_factor.convert_to<double>(),
              0.1 * std::log(40.0) + 1, 1e-15);
  spec.attention_factor = 1.5;
  EXPECT_EQ(frequencies<Mp>(spec).attention_factor, Mp(1.5));
}

TEST(CheckValues, Llama3D128Keeps29Divides29Smooths6) {
  Precision p;
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = 128;
  spec.base = 500000;
  spec.type = RopeType::kLlama3;
  spec.factor = 8;
  spec.original_max_position_embeddings = 8192;
  const auto f = frequencies<Mp>(spec);
  int kept = 0, divided = 0, smoothed = 0;
  for (int j = 0; j < spec.pairs(); ++j) {
    const Mp theta = base_theta(Mp(spec.base), j, 128);
    const Mp& t = f.theta[static_cast<size_t>(j)];
    if (t == theta) {
      ++kept;
    } else if (t == theta / 8) {
      ++divided;
    } else {
      EXPECT_LT(t, theta);
      EXPECT_GT(t, theta / 8);
      ++smoothed;
    }
  }
  EXPECT_EQ(kept, 29);
  EXPECT_EQ(divided, 29);
  EXPECT_EQ(smoothed, 6);
}

TEST(CheckValues, LongropePhi3_128kOver4kAttentionFactor) {
  Precision p;
  // Phi-3-mini-128k: L_max 131072, L0 4096, s = L_max / L0 = 32, a = sqrt(1 + ln s / ln L0).
  const std::string config = R"({
    "hidden_size": 3072, "num_attention_heads": 32, "rope_theta": 10000.0,
    "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
    "rope_scaling": {"type": "longrope",
      "short_factor": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
      "long_factor":  [2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]}
  })";
  const RopeSpec spec = spec_from_hf_config_text(config);
  EXPECT_EQ(spec.head_dim, 96);
  EXPECT_DOUBLE_EQ(spec.factor, 32.0);
  const double a = frequencies<Mp>(spec).attention_factor.convert_to<double>();
  EXPECT_NEAR(a, 1.1902, 0.5e-4);
  EXPECT_NEAR(a, std::sqrt(1 + std::log(32.0) / std::log(4096.0)), 1e-15);
}

}  // namespace
}  // namespace ropecheck::ref

// The double-double frequency recipe of the position-exact kernels (recipe.hpp over dd.hpp)
// against the exact reference: theta'_j of every variant within the 2^-92 relative error that
// their accuracy contract declares (table_accuracy: theta_rel_error = 4096 u of double-double,
// u = 2^-104), and the attention factor within its declared attention_rel_error (0.5 u of the
// f32 cos/sin).  The attention factor is not held to 2^-92: YaRN's 0.1 ln s + 1 takes 0.1 as
// the double HF uses (relative error ~1e-17), the reference exactly 1/10.  The reference's own double-double rounding is below
// 2^-106, so a failure here is the kernel recipe's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <utility>
#include <string>
#include <vector>

#include "impl/kernels/recipe.hpp"
#include "impl/kernels/scalar_f32_hf.hpp"
#include "impl/kernels/scalar_f64.hpp"
#include "impl/kernels/table_kernel.hpp"
#include "impl/registry.hpp"
#include "properties/c_spec.hpp"
#include "reference/error_model.hpp"
#include "reference/exact_reference.hpp"
#include "reference/tests/sample_specs.hpp"

namespace ropecheck::impl {
namespace {

using props::CSpec;
using props::to_c_spec;

// The reference tests' small specs of every variant, then model-sized ones (d = 128, the
// YaRN attention and ramp options, longrope's short and long factors).
std::vector<RopeSpec> specs() {
  std::vector<RopeSpec> v = testing::sample_specs();
  for (double base : {10000.0, 500000.0, 1e6, 100.0, 1e9}) {
    v.push_back(testing::basic_spec(128, 128, base, RopeType::kDefault));
  }
  v.push_back(testing::basic_spec(256, 64, 10000, RopeType::kDefault));  // partial rotary
  v.push_back(testing::basic_spec(6, 6, 10000, RopeType::kDefault));     // odd number of pairs
  RopeSpec s = testing::basic_spec(128, 128, 10000, RopeType::kLinear);
  s.factor = 8;
  v.push_back(s);
  s = testing::basic_spec(128, 128, 10000, RopeType::kNtk);
  s.factor = 4;
  v.push_back(s);
  s = testing::basic_spec(128, 128, 10000, RopeType::kDynamic);
  s.factor = 2;
  s.seq_len = 3 * s.max_position_embeddings;
  v.push_back(s);
  for (int variant = 0; variant < 4; ++variant) {
    s = testing::basic_spec(128, 128, 10000, RopeType::kYarn);
    s.factor = 16;
    s.original_max_position_embeddings = 4096;
    s.max_position_embeddings = 65536;
    if (variant == 1) s.mscale = 0.707, s.mscale_all_dim = 1;
    if (variant == 2) s.attention_factor = 1.3;
    if (variant == 3) s.truncate = false, s.beta_fast = 16, s.beta_slow = 2;
    v.push_back(s);
  }
  s = testing::basic_spec(128, 128, 500000, RopeType::kLlama3);
  s.factor = 8;
  s.original_max_position_embeddings = 8192;
  s.max_position_embeddings = 131072;
  v.push_back(s);
  for (int64_t seq_len : {4096, 4097}) {  // short and long factors
    s = testing::basic_spec(96, 96, 10000, RopeType::kLongrope);
    s.original_max_position_embeddings = 4096;
    s.max_position_embeddings = 131072;
    s.factor = 32;
    s.seq_len = seq_len;
    for (int j = 0; j < 48; ++j) {
      s.short_factor.push_back(1.0 + j / 32.0);
      s.long_factor.push_back(1.0 + j);
    }
    v.push_back(s);
  }
  // Lengths beyond 2^53, not doubles (the audit's dynamic spec with seq_len 2^63 - 1 made
  // table_f32 4.7 ulp off at t = 2^53 against a 3.6 ulp bound: the recipe rounded L to double,
  // a 2^-63 relative error in b' that the 2^-92 contract does not allow).  Each length also
  // enters the YaRN correction range (L0) and the llama3 smoothing (L0); base 1e30 puts their
  // ramps inside the pairs at such L0.
  for (const int64_t len : {INT64_MAX, (int64_t{1} << 53) + 1, (int64_t{1} << 62) + 1}) {
    s = testing::basic_spec(64, 64, 10000, RopeType::kDynamic);
    s.factor = 2;
    s.seq_len = len;
    v.push_back(s);
    for (const bool truncate : {false, true}) {
      s = testing::basic_spec(64, 64, 1e30, RopeType::kYarn);
      s.factor = 16;
      s.original_max_position_embeddings = len;
      s.truncate = truncate;
      v.push_back(s);
    }
    s = testing::basic_spec(64, 64, 1e30, RopeType::kLlama3);
    s.factor = 8;
    s.original_max_position_embeddings = len;
    v.push_back(s);
  }
  // N-D RoPE (issue 17): FLUX's per-axis widths (each axis its own exponent 2i/d_a), a Qwen2-VL
  // ViT's two halves, and Pixtral's dealt frequencies.
  s = testing::basic_spec(128, 128, 10000, RopeType::kDefault);
  s.axes_dims = {16, 56, 56};
  v.push_back(s);
  s = testing::basic_spec(80, 80, 10000, RopeType::kDefault);
  s.axes_dims = {40, 40};
  v.push_back(s);
  s = testing::basic_spec(64, 64, 10000, RopeType::kDefault);
  s.axes_dims = {32, 32};
  s.axes_dealt = true;
  v.push_back(s);
  return v;
}

// |k - r| / |r| for two double-double values (the differences of the parts are exact or
// negligible next to 2^-92 when the values agree to that).  An exact θ of 0 (proportional's
// padded pairs) must be 0 in the recipe too: any other value is infinitely wrong.
double rel_error(double k_hi, double k_lo, double r_hi, double r_lo) {
  if (r_hi == 0) return k_hi == 0 && k_lo == 0 ? 0 : INFINITY;
  return std::fabs((k_hi - r_hi) + (k_lo - r_lo)) / std::fabs(r_hi);
}

TEST(DdRecipe, FrequenciesAndAttentionWithinTheDeclaredThetaError) {
  const rc_accuracy acc = table_accuracy(RC_ROUND_NONE);
  const double allowed = acc.theta_rel_error * acc.angle_unit_roundoff;  // 4096 * 2^-104
  ASSERT_EQ(allowed, 0x1p-92);
  for (const RopeSpec& spec : specs()) {
    SCOPED_TRACE(spec_to_json_text(spec, -1));
    const ref::ExactReference exact(spec);
    const CSpec cs(spec);
    Frequencies<dd> fr;
    ASSERT_EQ(compute_frequencies<dd>(cs.get(), &fr), RC_OK);
    ASSERT_EQ(static_cast<int>(fr.theta.size()), spec.pairs());
    double worst = 0;
    for (int j = 0; j < spec.pairs(); ++j) {
      double hi, lo;
      exact.theta_dd(j, &hi, &lo);
      const double e = rel_error(fr.theta[j].hi, fr.theta[j].lo, hi, lo);
      ASSERT_TRUE(std::isfinite(allowed)) << "pair " << j;  // an infinite term would make NaN bounds at t = 0
      EXPECT_LE(e, allowed) << "pair " << j;
      worst = std::max(worst, e);
    }
    double ahi, alo;
    exact.attention_factor_dd(&ahi, &alo);
    EXPECT_LE(rel_error(fr.attention.hi, fr.attention.lo, ahi, alo), acc.attention_rel_error * 0x1p-24);
    RecordProperty("worst_" + std::to_string(static_cast<int>(spec.type)), std::to_string(worst));
  }
}

// The error model's frequency term checked directly: the fp32 (HF) and f64 recipes' theta'_j
// within (theta_rel_error + theta_amplification_u(pair)) u of the exact value, for every
// variant and the YaRN corners the model treats separately -- factor < 1, untruncated,
// swapped betas (a reversed ramp), a correction range just clear of its discontinuities.
// (The differential and bound tests judge whole rotations, where this term is one of
// several; here it is alone, so a missing amplification shows.)
std::vector<RopeSpec> model_specs() {
  std::vector<RopeSpec> v = specs();
  for (const double factor : {16.0, 0.5, 40.0}) {
    for (const bool truncate : {true, false}) {
      for (const auto& betas : {std::pair{32.0, 1.0}, std::pair{1.0, 32.0}, std::pair{4.0, 3.9}, std::pair{64.0, 0.5},
                                 std::pair{1.0, 1.0}}) {
        for (const double base : {1e4, 5e5}) {
          RopeSpec s = testing::basic_spec(128, 128, base, RopeType::kYarn);
          s.factor = factor;
          s.original_max_position_embeddings = 4096;
          s.max_position_embeddings = 65536;
          s.truncate = truncate;
          s.beta_fast = betas.first;
          s.beta_slow = betas.second;
          v.push_back(s);
        }
      }
    }
  }
  for (const double factor : {8.0, 0.5}) {
    for (const int d : {128, 96, 80}) {  // 2j/d inexact for d = 96, 80: the exponent term
    RopeSpec s = testing::basic_spec(d, d, 500000, RopeType::kLlama3);
    s.factor = factor;
    s.original_max_position_embeddings = 8192;
    s.max_position_embeddings = 131072;
    v.push_back(s);
    }
  }
  // dynamic with L just above L_max and a large factor: q = s L/L_max - (s - 1) cancels.
  for (const double factor : {1000.1, 987654.3}) {
    for (const int64_t len : {3001, 3003, 3700}) {
      RopeSpec s = testing::basic_spec(128, 128, 10000, RopeType::kDynamic);
      s.factor = factor;
      s.max_position_embeddings = 3000;
      s.seq_len = len;
      v.push_back(s);
    }
  }
  // llama3 with pair 16's wavelength 2 pi b^(2j/d) on a region boundary, L0/lf or L0/hf (to
  // rounding): the recipe's comparison can pick either region there.
  for (const double factor : {8.0, 32.0}) {
    for (const double edge : {1.0, 4.0}) {
      // b^(1/4) moved by k * 2^-26 relative: the fp32 wavelength's rounding window and past it.
      for (int k = -12; k <= 12; ++k) {
        RopeSpec s = testing::basic_spec(128, 128, 10000, RopeType::kLlama3);
        s.factor = factor;
        s.original_max_position_embeddings = 8192;
        s.max_position_embeddings = 131072;
        s.base = std::pow(8192.0 / (edge * 2 * M_PI) * (1 + k * 0x1p-26), 128.0 / (2 * 16));
        v.push_back(s);
      }
    }
  }
  return v;
}

template <class T>
void expect_theta_within_model(const rc_accuracy& acc, const char* recipe) {
  double worst_ratio = 0;
  std::string worst_where;
  for (const RopeSpec& spec : model_specs()) {
    SCOPED_TRACE(std::string(recipe) + " " + spec_to_json_text(spec, -1));
    ASSERT_EQ(ref::yarn_range_warning(spec, acc.angle_dtype), "") << "the spec should be well-conditioned";
    const ref::ExactReference exact(spec);
    const CSpec cs(spec);
    Frequencies<T> fr;
    ASSERT_EQ(compute_frequencies<T>(cs.get(), &fr), RC_OK);
    for (int j = 0; j < spec.pairs(); ++j) {
      const double e = rel_error(static_cast<double>(fr.theta[j]), 0, exact.theta(j), 0);
      const double allowed = (acc.theta_rel_error + ref::theta_amplification_u(acc, spec, j)) * acc.angle_unit_roundoff;
      ASSERT_TRUE(std::isfinite(allowed)) << "pair " << j;  // an infinite term would make NaN bounds at t = 0
      EXPECT_LE(e, allowed) << "pair " << j;
      if (e / allowed > worst_ratio) {
        worst_ratio = e / allowed;
        worst_where = to_string(spec.type) + std::string(" pair ") + std::to_string(j);
      }
    }
  }
  std::printf("%s: worst theta' error / model %.3f (%s)\n", recipe, worst_ratio, worst_where.c_str());
}

TEST(ThetaModel, F32AndF64RecipesWithinTheirThetaTerm) {
  expect_theta_within_model<float>(kScalarF32HfKernel.accuracy, "fp32 (scalar_f32_hf)");
  expect_theta_within_model<double>(kScalarF64Kernel.accuracy, "f64 (scalar_f64)");
}

// The same for the double-double recipe, compared in double-double: its 2^-92 plus the
// variant's amplification (e.g. dynamic's q = s L/L_max - (s - 1), which cancels for a large
// s and L just above L_max).
TEST(ThetaModel, DdRecipeWithinItsThetaTerm) {
  const rc_accuracy acc = table_accuracy(RC_ROUND_NONE);
  double worst_ratio = 0;
  for (const RopeSpec& spec : model_specs()) {
    SCOPED_TRACE(spec_to_json_text(spec, -1));
    const ref::ExactReference exact(spec);
    const CSpec cs(spec);
    Frequencies<dd> fr;
    ASSERT_EQ(compute_frequencies<dd>(cs.get(), &fr), RC_OK);
    for (int j = 0; j < spec.pairs(); ++j) {
      double hi, lo;
      exact.theta_dd(j, &hi, &lo);
      const double e = rel_error(fr.theta[j].hi, fr.theta[j].lo, hi, lo);
      const double allowed = (acc.theta_rel_error + ref::theta_amplification_u(acc, spec, j)) * acc.angle_unit_roundoff;
      EXPECT_LE(e, allowed) << "pair " << j;
      worst_ratio = std::max(worst_ratio, e / allowed);
    }
  }
  std::printf("dd (table kernels): worst theta' error / model %.3f\n", worst_ratio);
}

// b' beyond float: the fp32 recipe refuses the spec (it used to return θ'_j = 0 for j > 0,
// found by checking scalar_f32_hf at the corners of the supported domain: 56 ulp at t = 1);
// the double and double-double recipes, whose b' stays finite in the domain, compute it.
TEST(Fp32Recipe, RefusesASpecWhoseBaseOverflowsFloat) {
  RopeSpec ntk = testing::basic_spec(4, 4, 1e30, RopeType::kNtk);
  ntk.factor = 1e6;  // b' = 1e30 * 1e6^(4/2) = 1e42 > 3.4e38
  RopeSpec dyn = testing::basic_spec(64, 64, 1e30, RopeType::kDynamic);
  dyn.factor = 1e6;
  dyn.max_position_embeddings = 1;
  dyn.seq_len = INT64_MAX;
  RopeSpec fits = ntk;
  fits.factor = 100;  // b' = 1e34: a float
  for (const RopeSpec& spec : {ntk, dyn, fits}) {
    SCOPED_TRACE(spec_to_json_text(spec, -1));
    const CSpec cs(spec);
    const bool overflows = spec.factor == 1e6;
    Frequencies<float> f32;
    EXPECT_EQ(compute_frequencies<float>(cs.get(), &f32), overflows ? RC_ERR_SPEC : RC_OK);
    void* handle = nullptr;
    EXPECT_EQ(kScalarF32HfKernel.prepare(cs.ptr(), &handle), overflows ? RC_ERR_SPEC : RC_OK);
    if (handle != nullptr) kScalarF32HfKernel.release(handle);
    for (const float th : f32.theta) EXPECT_GT(th, 0.0f);
    Frequencies<double> f64;
    EXPECT_EQ(compute_frequencies<double>(cs.get(), &f64), RC_OK);
    Frequencies<dd> fdd;
    EXPECT_EQ(compute_frequencies<dd>(cs.get(), &fdd), RC_OK);
  }
}

// Lengths become double-double exactly (the recipe's from_length): hi + lo == v for int64
// values that are not doubles, INT64_MAX included (hi = 2^63 there, lo = -1).
TEST(DdRecipe, Int64LengthsAreExact) {
  for (const int64_t v : {int64_t{0}, int64_t{4096}, (int64_t{1} << 53) + 1, (int64_t{1} << 62) + 1,
                          INT64_MAX - 1023, INT64_MAX, -INT64_MAX, INT64_MIN}) {
    const dd x = recipe_detail::from_length<dd>(v);
    EXPECT_EQ(static_cast<long double>(x.hi) + static_cast<long double>(x.lo), static_cast<long double>(v)) << v;
    EXPECT_EQ(x.hi, static_cast<double>(v)) << v;  // normalized: hi is v rounded to double
  }
}

TEST(DdRecipe, ExpAndLogAgreeWithLibmAndInvertEachOther) {
  // A cheap cross-check of the building blocks over RoPE's argument range: exp(log x) == x to
  // ~2^-100, and both agree with libm to double precision.
  for (double x : {1e-9, 0.001, 0.5, 1.0, 1.5, 2.0, 3.0, 10000.0, 5e5, 1e6, 1e9}) {
    const dd l = log(dd(x));
    EXPECT_NEAR(l.hi, std::log(x), 2 * std::fabs(std::log(x)) * 0x1p-52 + 0x1p-1074) << x;
    const dd back = exp(l);
    EXPECT_LE(rel_error(back.hi, back.lo, x, 0.0), 0x1p-100) << x;
  }
}

}  // namespace
}  // namespace ropecheck::impl

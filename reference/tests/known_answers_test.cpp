// The exact reference against the known-answer table reference/known_answers/kat.json,
// produced by an independent implementation (gen_kat.py, mpmath at 400 bits; see the README
// beside it).  Required agreement: 2^-60 of the pair norm (a·‖(x0, x1)‖) for rotated pairs,
// bit-exact pass-through, 2^-60 relative for θ'_j and a, 2^-60 of Σ|q_i k_i|·max(1,a²) for
// scores.  Positions run from 0 to 2^63−1.  The comparison goes through the decimal-string
// API that `ropecheck ref` prints with.
#include <gtest/gtest.h>

#include <boost/multiprecision/mpfr.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "exact_reference.hpp"
#include "rope_spec.hpp"

namespace ropecheck::ref {
namespace {

namespace mp = boost::multiprecision;
using Mp = mp::mpfr_float;
using nlohmann::json;

const json& table() {
  static const json t = [] {
    std::ifstream in(ROPECHECK_SOURCE_DIR "/reference/known_answers/kat.json");
    return json::parse(in);
  }();
  return t;
}

std::vector<std::string> strings(const json& a) { return a.get<std::vector<std::string>>(); }

// The table's inputs are repr() strings of binary64 values and mean exactly those doubles;
// the reference's string API reads exact decimals, so pass it the double's full expansion.
std::vector<std::string> binary64_values(const json& a) {
  std::vector<std::string> out;
  for (const std::string& s : strings(a)) {
    char buf[1100];
    std::snprintf(buf, sizeof buf, "%.770e", std::strtod(s.c_str(), nullptr));
    out.emplace_back(buf);
  }
  return out;
}

class KnownAnswers : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    saved_ = Mp::default_precision();
    Mp::default_precision(100);  // > 300 bits for comparisons of 40-digit strings
  }
  void TearDown() override { Mp::default_precision(saved_); }
  unsigned saved_ = 0;
};

constexpr int kDigits = 45;

TEST_P(KnownAnswers, MatchesIndependentTableTo2PowMinus60) {
  const json& c = table()["cases"][GetParam()];
  SCOPED_TRACE(c["id"].get<std::string>());
  const RopeSpec spec = spec_from_json_text(c["spec"].dump());
  const ExactReference ref(spec);
  const Mp tol = mp::ldexp(Mp(1), -60);

  const auto theta = ref.theta_decimal(kDigits);
  const auto want_theta = strings(c["theta"]);
  ASSERT_EQ(theta.size(), want_theta.size());
  for (size_t j = 0; j < theta.size(); ++j) {
    const Mp w(want_theta[j]);
    EXPECT_LE(mp::abs(Mp(theta[j]) - w), tol * w) << "theta[" << j << "]";
  }
  const Mp a(c["attention_factor"].get<std::string>());
  EXPECT_LE(mp::abs(Mp(ref.attention_factor_decimal(kDigits)) - a), tol * a);

  const auto x = binary64_values(c["input"]);
  const auto& positions = c["positions"];
  Mp worst = 0;
  std::string worst_at;
  for (size_t p = 0; p < positions.size(); ++p) {
    const std::vector<int64_t> t = parse_axis_position(positions[p].get<std::string>(), spec.n_axes(), spec.negative_positions());
    const auto got = ref.rotate_decimal(t, x, kDigits);
    const auto want = strings(c["outputs"][p]);
    for (int j = 0; j < spec.pairs(); ++j) {
      const auto i0 = static_cast<size_t>(spec.first_index(j));
      const auto i1 = static_cast<size_t>(spec.second_index(j));
      const Mp r = a * mp::sqrt(Mp(x[i0]) * Mp(x[i0]) + Mp(x[i1]) * Mp(x[i1]));
      const Mp d0 = Mp(got[i0]) - Mp(want[i0]), d1 = Mp(got[i1]) - Mp(want[i1]);
      const Mp e = mp::sqrt(d0 * d0 + d1 * d1);
      const Mp rel = r > 0 ? Mp(e / r) : e;
      if (rel > worst) {
        worst = rel;
        worst_at = "t=" + format_axis_position(t) + " pair " + std::to_string(j);
      }
    }
    for (int i = spec.rotary_dim; i < spec.head_dim; ++i) {
      const Mp w(want[static_cast<size_t>(i)]);
      EXPECT_LE(mp::abs(Mp(got[static_cast<size_t>(i)]) - w), tol * mp::abs(w))
          << "pass-through dim " << i << " at t=" << format_axis_position(t);
    }
  }
  // Pass-through dims are copied bit for bit (sign of zero included).
  if (spec.rotary_dim < spec.head_dim) {
    std::vector<double> xd, hi(static_cast<size_t>(spec.head_dim)), lo(hi.size());
    for (const std::string& v : strings(c["input"])) xd.push_back(std::strtod(v.c_str(), nullptr));
    ref.rotate(INT64_MAX, xd.data(), hi.data(), lo.data());
    for (size_t i = static_cast<size_t>(spec.rotary_dim); i < hi.size(); ++i) {
      EXPECT_EQ(std::memcmp(&hi[i], &xd[i], sizeof(double)), 0) << "pass-through dim " << i;
      EXPECT_EQ(lo[i], 0.0);
    }
  }
  std::printf("%-40s %3zu positions, max error %s of the pair norm (%s)\n",
              c["id"].get<std::string>().c_str(), positions.size(),
              worst.str(3, std::ios_base::scientific).c_str(), worst_at.c_str());
  EXPECT_LE(worst, tol) << worst_at;

  for (const json& sc : c["scores"]) {
    const auto q = binary64_values(sc["q"]), k = binary64_values(sc["k"]);
    const std::vector<int64_t> t = parse_axis_position(sc["t"].get<std::string>(), spec.n_axes(), spec.negative_positions());
    const std::vector<int64_t> s = parse_axis_position(sc["s"].get<std::string>(), spec.n_axes(), spec.negative_positions());
    Mp scale = 0;
    for (size_t i = 0; i < q.size(); ++i) scale += mp::abs(Mp(q[i]) * Mp(k[i]));
    scale *= mp::max(Mp(1), Mp(a * a));
    const Mp got(ref.score_decimal(q, t, k, s, kDigits));
    EXPECT_LE(mp::abs(got - Mp(sc["score"].get<std::string>())), tol * scale)
        << "score t=" << format_axis_position(t) << " s=" << format_axis_position(s);
  }
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string id = table()["cases"][info.param]["id"].get<std::string>();
  for (char& ch : id) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return id;
}

std::vector<size_t> case_indices() {
  std::vector<size_t> idx(table()["cases"].size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  return idx;
}

INSTANTIATE_TEST_SUITE_P(Table, KnownAnswers, ::testing::ValuesIn(case_indices()), case_name);

TEST(KnownAnswersTable, CoversEveryVariantAndLayoutAndTheLargestPosition) {
  std::set<std::string> types, layouts;
  bool has_max = false;
  for (const json& c : table()["cases"]) {
    const RopeSpec spec = spec_from_json_text(c["spec"].dump());
    types.insert(to_string(spec.type));
    layouts.insert(to_string(spec.layout));
    for (const json& p : c["positions"]) has_max |= p.get<std::string>() == "9223372036854775807";
  }
  EXPECT_EQ(types.size(), 9u);  // every RopeType, none included
  EXPECT_EQ(layouts.size(), 2u);
  EXPECT_TRUE(has_max);
}

}  // namespace
}  // namespace ropecheck::ref

// gate/unit and gate/protocol: the search around the judge — the smallest failing edge
// position, shrinking within a deadline, and results that survive the trip from the child.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "gate/protocol.hpp"
#include "gate/unit.hpp"
#include "impl/registry.hpp"
#include "reference/fast_oracle.hpp"

namespace ropecheck::gate {
namespace {

Case case_at(std::vector<int64_t> positions) {
  Case c;
  c.spec.head_dim = c.spec.rotary_dim = 8;
  c.positions = std::move(positions);
  c.x.assign(static_cast<size_t>(c.n_tokens() * 8), 1.0);
  return c;
}

// Fault 5 of issue 15: a sweep case failing at 257 and beyond used to be reported at its last
// position (tokens were dropped from the front); the smallest failing position is kept, and
// bisection finds it below the failing edge position when a smaller listed one passes.
TEST(SmallestFailingPosition, KeepsTheSmallestFailingTokenAndBisectsBelowIt) {
  const Case c = case_at({0, 1, 255, 256, 257, 2047});
  const auto fails_from = [](int64_t first_bad) {
    return [first_bad](const Case& d) {
      for (int64_t t : d.positions) {
        if (t >= first_bad) return true;
      }
      return false;
    };
  };
  const auto far = std::chrono::steady_clock::time_point::max();
  const std::vector<int64_t> edges = {0, 1, 255, 256, 257, 2047};
  auto r = smallest_failing_position(c, edges, fails_from(257), far);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->positions, std::vector<int64_t>{257});
  // Fails from 1000 on: the first failing token is 2047, the largest passing edge below it is
  // 257, and bisection finds 1000 itself.
  r = smallest_failing_position(c, edges, fails_from(1000), far);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->positions, std::vector<int64_t>{1000});
  EXPECT_EQ(r->x.size(), 8u);
  // A failure that needs two tokens is not a one-token failure.
  EXPECT_FALSE(smallest_failing_position(c, edges, [](const Case& d) { return d.n_tokens() >= 2; }, far));
}

// Fault 4: shrinking has a deadline; past it the case is left as it is, and the caller is told.
TEST(ShrinkCase, StopsAtItsDeadlineAndSaysSo) {
  const Case c = case_at({5, 6, 7});
  bool cut = false;
  int calls = 0;
  const Case s = shrink_case(
      c, 1, [&](const Case&) { ++calls; return true; }, std::chrono::steady_clock::now() - std::chrono::seconds(1), &cut);
  EXPECT_TRUE(cut);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(s.positions, c.positions);
  const Case full = shrink_case(c, 1, [](const Case&) { return true; }, std::chrono::steady_clock::time_point::max(), &cut);
  EXPECT_FALSE(cut);
  EXPECT_EQ(full.n_tokens(), 1);
  EXPECT_EQ(full.positions, std::vector<int64_t>{0});  // simplest position, values zeroed
  for (double v : full.x) EXPECT_EQ(v, 0.0);
}

// Fault 1: an infinite error/bound ratio (a sin/cos that blew up) crossed the child's JSON as
// null and made the gate exit 4; it must read back as infinity.
TEST(Protocol, NonFiniteRatiosSurviveTheTrip) {
  UnitResult u;
  u.kernel = "k";
  u.spec_name = "s";
  PropertyOutcome o;
  o.property = "agreesWithExactReferenceWithinContract";
  o.worst_ratio = INFINITY;
  o.failed = true;
  o.failure_ratio = NAN;
  o.counterexample = case_at({3});
  u.properties.push_back(o);
  const UnitResult back = unit_from_json(nlohmann::ordered_json::parse(unit_to_json(u).dump()));
  ASSERT_EQ(back.properties.size(), 1u);
  EXPECT_EQ(back.properties[0].worst_ratio, INFINITY);
  EXPECT_TRUE(std::isnan(back.properties[0].failure_ratio));
  ASSERT_TRUE(back.properties[0].counterexample);
  EXPECT_EQ(back.properties[0].counterexample->positions, std::vector<int64_t>{3});
}

// Fault 9: the generated cases are a function of the seed: --cases N runs the same cases
// whatever the load, and two runs with one seed agree.
TEST(RunUnit, TheSameSeedGivesTheSameCases) {
  const rc_kernel_desc& k = *impl::builtin_kernels().front();
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = 64;
  spec.max_position_embeddings = 2048;
  GateOptions o;
  o.seed = 42;
  o.max_cases = 30;
  o.properties = {"kernelIsDeterministic"};
  std::vector<std::string> seen[2];
  for (auto& s : seen) {
    o.before_case = [&](const Case& c, const char*) { s.push_back(props::case_to_json(c, -1)); };
    const UnitResult r = run_unit(k, spec, o);
    ASSERT_EQ(r.properties.size(), 1u);
    EXPECT_EQ(r.properties[0].generated, 30);
    EXPECT_TRUE(r.internal_error.empty()) << r.internal_error;
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_GT(seen[0].size(), 30u);
}

// Fault 21: a kernel wrong only for t >= 2^62 passed `check` (edge positions stopped at
// 2^53 + 1 and the declared maximum).  Every power of two and its neighbours up to 2^63 - 1
// within the declared range are swept, and the failure is reported at the smallest failing
// position.  The kernel: the fast oracle rounded to double (right at every int64 position),
// one component off by 1 on [2^62, 2^62 + 2^40) — an int64 bug at one boundary, which the
// declared maximum (2^63 - 1) does not show.
const ref::FastOracle* g_oracle = nullptr;
int wrong_from_2_62(const rc_spec* spec, void*, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
                    int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0) return RC_ERR_POSITION;
  }
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const int64_t at = k * token_stride + h * head_stride;
      g_oracle->rotate(positions[k], static_cast<const double*>(in) + at, static_cast<double*>(out) + at, nullptr);
      if (positions[k] >= (int64_t{1} << 62) && positions[k] - (int64_t{1} << 62) < (int64_t{1} << 40)) {
        static_cast<double*>(out)[at] += 1.0;
      }
    }
  }
  (void)spec;
  return RC_OK;
}

TEST(RunUnit, TheSweepReachesTwoToTheSixtyTwoAndNamesTheSmallestFailingPosition) {
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = 16;
  spec.max_position_embeddings = 2048;
  const ref::FastOracle oracle(spec);
  g_oracle = &oracle;
  rc_kernel_desc d = *impl::builtin_kernels().front();
  d.name = "wrong_from_2_62";
  d.in_dtype = d.out_dtype = RC_DTYPE_F64;
  d.max_position = INT64_MAX;
  d.layouts = RC_LAYOUT_BIT(RC_LAYOUT_HALF_SPLIT);
  d.scalings = RC_SCALING_BIT(RC_ROPE_DEFAULT);
  d.prepare = nullptr;
  d.release = nullptr;
  d.apply = wrong_from_2_62;
  d.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  // Exact angle, cos/sin and rotation in double-double, rounded once to double.
  d.accuracy = rc_accuracy{RC_ANGLE_EXACT_DD, RC_DTYPE_F64X2, RC_DTYPE_I64, RC_DTYPE_F64, RC_DTYPE_F64,
                           RC_ROUND_NEAREST_EVEN, 0x1p-104, 1.0, 0.0, 0.0, 1.0, 1.0};
  GateOptions o;
  o.max_cases = 0;  // the sweep alone
  o.properties = {"agreesWithExactReferenceWithinContract"};
  const UnitResult r = run_unit(d, spec, o);
  ASSERT_EQ(r.properties.size(), 1u);
  const PropertyOutcome& p = r.properties[0];
  ASSERT_TRUE(p.failed) << r.internal_error;
  ASSERT_TRUE(p.counterexample);
  EXPECT_EQ(p.counterexample->positions, std::vector<int64_t>{int64_t{1} << 62}) << p.detail;
  g_oracle = nullptr;
}

// Fault 4: shrinking had no deadline (one unit took 40-79 s against a 3.6 s share).  With no
// time to shrink, a failure is reported as found, marked as cut short — in the sweep and in
// RapidCheck's generated cases alike.
int off_by_one(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens, int64_t n_heads,
               int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  const int rc = impl::builtin_kernels().front()->apply(spec, handle, positions, n_tokens, n_heads, token_stride,
                                                         head_stride, in, out);
  if (rc == 0 && n_tokens > 0) static_cast<float*>(out)[0] += 1.0f;
  return rc;
}

TEST(RunUnit, AFailureIsNotShrunkPastItsDeadline) {
  rc_kernel_desc d = *impl::builtin_kernels().front();
  ASSERT_EQ(d.in_dtype, RC_DTYPE_F32);
  d.name = "off_by_one";
  d.apply = off_by_one;
  d.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = 64;
  spec.max_position_embeddings = 2048;
  GateOptions o;
  o.max_cases = 5;
  o.shrink_seconds = 0;
  o.properties = {"agreesWithExactReferenceWithinContract"};
  for (const bool generated : {false, true}) {
    o.random_specs = generated;
    const UnitResult r = run_unit(d, spec, o);
    ASSERT_EQ(r.properties.size(), 1u);
    const PropertyOutcome& p = r.properties[0];
    EXPECT_TRUE(p.failed) << generated << r.internal_error;
    EXPECT_TRUE(p.shrink_cut) << generated;
    ASSERT_TRUE(p.counterexample);
  }
  // With time to shrink, the sweep's failure shrinks to one token at the simplest position.
  o.random_specs = false;
  o.shrink_seconds = 60;
  const UnitResult r = run_unit(d, spec, o);
  ASSERT_TRUE(r.properties[0].counterexample);
  EXPECT_FALSE(r.properties[0].shrink_cut);
  EXPECT_EQ(r.properties[0].counterexample->positions, std::vector<int64_t>{0});
}

// Fault 10: a kernel that fails only intermittently (an error code on every 7th call here)
// kept `check --cases 10` busy for over 20 minutes: shrinking a failure that does not
// reproduce never ends.  Such a failure is the finding kernelIsDeterministic, with both runs,
// and is not shrunk.
int g_calls = 0;
int every_seventh_call_fails(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  if (++g_calls % 7 == 0) return RC_ERR_INTERNAL;
  return impl::builtin_kernels().front()->apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride,
                                                in, out);
}

TEST(RunUnit, AnIntermittentFailureIsReportedAsNonDeterminismAndNotShrunk) {
  rc_kernel_desc d = *impl::builtin_kernels().front();
  d.name = "every_seventh_call_fails";
  d.apply = every_seventh_call_fails;
  d.abi_version = RC_ABI_1;  // called through the replaced apply (the built-in is ABI 2)
  RopeSpec spec;
  spec.head_dim = spec.rotary_dim = 64;
  spec.max_position_embeddings = 2048;
  GateOptions o;
  o.max_cases = 10;
  o.properties = {"agreesWithExactReferenceWithinContract"};
  int calls_to_judge = 0;
  o.before_case = [&](const Case&, const char*) { ++calls_to_judge; };
  for (const bool generated : {false, true}) {
    o.random_specs = generated;
    calls_to_judge = 0;
    const UnitResult r = run_unit(d, spec, o);
    ASSERT_EQ(r.properties.size(), 1u);
    const PropertyOutcome& p = r.properties[0];
    ASSERT_TRUE(p.failed) << generated << r.internal_error;
    EXPECT_EQ(p.finding_property, "kernelIsDeterministic") << p.reason;
    EXPECT_NE(p.reason.find("the same call gave different results"), std::string::npos) << p.reason;
    EXPECT_NE(p.detail.find("second run of the same case"), std::string::npos) << p.detail;
    EXPECT_FALSE(p.shrink_cut);
    EXPECT_LT(calls_to_judge, 200) << "a failure that does not reproduce is not shrunk";
  }
}

}  // namespace
}  // namespace ropecheck::gate

// gate/unit and gate/protocol: the search around the judge — the smallest failing edge
// position, shrinking within a deadline, and results that survive the trip from the child.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "gate/protocol.hpp"
#include "gate/unit.hpp"
#include "impl/registry.hpp"

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

}  // namespace
}  // namespace ropecheck::gate

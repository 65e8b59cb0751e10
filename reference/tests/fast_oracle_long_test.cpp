// The fast oracle against the exact reference, 10^8 pairs (long tier, CTest label `long`,
// not run by CI: `ctest --preset long` from a configured build, or run this binary).
//
// What it runs, exactly: two shards (two gtest TESTs, so ctest -j2 runs them as two
// processes — ExactReference cannot be shared between threads, because Boost 1.74 keeps
// MPFR's default precision in a global), each 5·10^7 pairs.  Every pair is one
// FastOracle::rotate_pair compared with one ExactReference::rotate_pair, judged by the
// same metric and bound as the unit test (oracle_test_support.hpp):
// ‖fast − exact‖ <= kFastOracleErrorBound·r + kFastOracleUnderflowFloor.  Inputs come from
// the unit test's generators, seeded per shard (reproducible): a new spec every 2000
// pairs, positions half edge / half log-uniform to 2^63 − 1, pair values from the full
// range.  Measured cost ~10 µs per pair, so each shard takes roughly 10–15 minutes.
//
// ROPECHECK_LONG_PAIRS=N changes the total (split over the shards), e.g. for a quick look.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "exact_reference.hpp"
#include "fast_oracle.hpp"
#include "oracle_test_support.hpp"

namespace ropecheck::testing {
namespace {

constexpr int kShards = 2;
constexpr long kDefaultPairs = 100'000'000;
constexpr int kPairsPerSpec = 2000;
constexpr long kProgressEvery = 5'000'000;

// A malformed or non-positive ROPECHECK_LONG_PAIRS would run no pair and pass: it fails instead.
long total_pairs() {
  const char* env = std::getenv("ROPECHECK_LONG_PAIRS");
  if (!env) return kDefaultPairs;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (end == env || *end != '\0' || n <= 0) {
    ADD_FAILURE() << "ROPECHECK_LONG_PAIRS must be a positive integer, is \"" << env << "\"";
    return 0;
  }
  return n;
}

template <class T>
T draw(const rc::Gen<T>& gen, rc::Random& rnd) {
  return gen(rnd.split()).value();
}

void run_shard(int shard) {
  const long n = total_pairs() / kShards;
  const uint64_t seed = 0x6f7261636c65ULL + static_cast<uint64_t>(shard);  // "oracle" + shard
  std::cout << "shard " << shard << "/" << kShards << ": " << n << " pairs, seed " << seed
            << std::endl;
  rc::Random rnd(seed);
  Worst worst;
  long failures = 0;
  std::string first_failure;
  const auto start = std::chrono::steady_clock::now();
  const rc::Gen<double> component = gen_component();
  for (long done = 0; done < n;) {
    const RopeSpec spec = draw(gen_spec(), rnd);
    const auto exact = std::make_shared<const ref::ExactReference>(spec);
    const ref::FastOracle fast(exact);
    const double a = exact->attention_factor();
    const std::string js = spec_to_json_text(spec, -1);
    const rc::Gen<int64_t> position = gen_position(spec);
    const rc::Gen<int> pair_gen = rc::gen::inRange(0, spec.pairs());
    for (int i = 0; i < kPairsPerSpec && done < n; ++i, ++done) {
      const int64_t t = draw(position, rnd);
      const int pair = draw(pair_gen, rnd);
      const double x0 = draw(component, rnd), x1 = draw(component, rnd);
      double fh[2], fl[2], eh[2], el[2];
      fast.rotate_pair(t, pair, x0, x1, fh, fl);
      exact->rotate_pair(t, pair, x0, x1, eh, el);
      const PairVerdict v = judge_pair(a, x0, x1, fh, fl, eh, el);
      worst.update(v, js, t, pair, x0, x1);
      if (!v.ok() && failures++ == 0) {
        first_failure = Worst::describe(v, t, pair, x0, x1, js);
      }
      if ((done + 1) % kProgressEvery == 0) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                             .count();
        std::cout << "shard " << shard << ": " << done + 1 << " pairs, " << s << " s, "
                  << static_cast<double>(done + 1) / s << " pairs/s, failures " << failures << "; "
                  << worst.summary() << std::endl;
      }
    }
  }
  std::cout << "shard " << shard << " done: " << worst.summary() << "\nfailures: " << failures
            << (failures ? "\nfirst failure: " + first_failure : std::string()) << std::endl;
  EXPECT_EQ(failures, 0) << first_failure;
}

TEST(FastOracleLong, Shard0Of2MatchesExactReferenceWithinDeclaredBound) { run_shard(0); }
TEST(FastOracleLong, Shard1Of2MatchesExactReferenceWithinDeclaredBound) { run_shard(1); }

}  // namespace
}  // namespace ropecheck::testing

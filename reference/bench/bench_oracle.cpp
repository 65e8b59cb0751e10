// Fast oracle vs exact reference, pair rotations per second, in the same run (issue 4:
// fast >= 5e6 pairs/s on one core at positions up to 2^31, and >= 100x the exact one).
//
// Inputs: Llama-style default RoPE, head_dim 128, base 5e5, half-split; 4096 random
// positions uniform in [0, 2^31] and random heads with components in [-2, 2] (seeded, the
// same for both oracles).  One iteration = one whole head (64 pairs) through
// Oracle::rotate, so items_processed counts pair rotations.  Also: single pairs through
// rotate_pair (the per-call path the fuzzers use), and positions up to 2^63 − 1.
//
// After the benchmarks, main() prints the fast/exact ratios measured in this run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "exact_reference.hpp"
#include "fast_oracle.hpp"

namespace {

using ropecheck::Layout;
using ropecheck::RopeSpec;
using ropecheck::ref::ExactReference;
using ropecheck::ref::FastOracle;
using ropecheck::ref::Oracle;

constexpr int kHeadDim = 128;
constexpr int kInputs = 4096;

RopeSpec bench_spec() {
  RopeSpec s;
  s.name = "bench-default-d128";
  s.head_dim = kHeadDim;
  s.rotary_dim = kHeadDim;
  s.base = 500000.0;
  s.layout = Layout::kHalfSplit;
  s.max_position_embeddings = 131072;
  return s;
}

struct Fixture {
  std::shared_ptr<const ExactReference> exact;
  std::unique_ptr<FastOracle> fast;
  std::vector<int64_t> pos31, pos63;
  std::vector<double> x;  // kInputs heads
  Fixture() {
    exact = std::make_shared<const ExactReference>(bench_spec());
    fast = std::make_unique<FastOracle>(exact);
    std::mt19937_64 rng(20240604);
    std::uniform_int_distribution<int64_t> u31(0, int64_t{1} << 31);
    std::uniform_int_distribution<int64_t> u63(0, INT64_MAX);
    std::uniform_real_distribution<double> ux(-2.0, 2.0);
    for (int i = 0; i < kInputs; ++i) {
      pos31.push_back(u31(rng));
      pos63.push_back(u63(rng));
    }
    x.resize(static_cast<size_t>(kInputs) * kHeadDim);
    for (double& v : x) v = ux(rng);
  }
  const Oracle& oracle(bool use_fast) const {
    return use_fast ? static_cast<const Oracle&>(*fast) : *exact;
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// Pairs per second by benchmark name, for the ratio printed at the end.
std::map<std::string, double>& rates() {
  static std::map<std::string, double> r;
  return r;
}

void record(benchmark::State& state, int64_t pairs) {
  state.SetItemsProcessed(pairs);
  state.counters["pairs_per_s"] =
      benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
}

void BM_RotateHead(benchmark::State& state, bool use_fast, bool long_positions) {
  const Fixture& f = fixture();
  const Oracle& o = f.oracle(use_fast);
  const std::vector<int64_t>& pos = long_positions ? f.pos63 : f.pos31;
  std::vector<double> hi(kHeadDim), lo(kHeadDim);
  size_t i = 0;
  for (auto _ : state) {
    o.rotate(pos[i], &f.x[i * kHeadDim], hi.data(), lo.data());
    benchmark::DoNotOptimize(hi.data());
    benchmark::DoNotOptimize(lo.data());
    i = (i + 1) % kInputs;
  }
  record(state, state.iterations() * (kHeadDim / 2));
}

void BM_RotatePair(benchmark::State& state, bool use_fast) {
  const Fixture& f = fixture();
  const Oracle& o = f.oracle(use_fast);
  double hi[2], lo[2];
  size_t i = 0;
  for (auto _ : state) {
    const double* xi = &f.x[i * kHeadDim];
    o.rotate_pair(f.pos31[i], static_cast<int>(i % (kHeadDim / 2)), xi[0], xi[1], hi, lo);
    benchmark::DoNotOptimize(hi);
    benchmark::DoNotOptimize(lo);
    i = (i + 1) % kInputs;
  }
  record(state, state.iterations());
}

// Collects pairs_per_s of every run so main() can print the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("pairs_per_s");
      if (it != run.counters.end()) rates()[run.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

BENCHMARK_CAPTURE(BM_RotateHead, fast_t31, true, false);
BENCHMARK_CAPTURE(BM_RotateHead, exact_t31, false, false);
BENCHMARK_CAPTURE(BM_RotateHead, fast_t63, true, true);
BENCHMARK_CAPTURE(BM_RotateHead, exact_t63, false, true);
BENCHMARK_CAPTURE(BM_RotatePair, fast_t31, true);
BENCHMARK_CAPTURE(BM_RotatePair, exact_t31, false);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  (void)fixture();  // build the oracles outside the timed region
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::printf("\nfast/exact (pair rotations per second, this run):\n");
  const char* kinds[][3] = {
      {"BM_RotateHead/fast_t31", "BM_RotateHead/exact_t31", "whole head, t <= 2^31"},
      {"BM_RotateHead/fast_t63", "BM_RotateHead/exact_t63", "whole head, t <= 2^63-1"},
      {"BM_RotatePair/fast_t31", "BM_RotatePair/exact_t31", "single pair, t <= 2^31"}};
  for (const auto& k : kinds) {
    const auto f = rates().find(k[0]), e = rates().find(k[1]);
    if (f == rates().end() || e == rates().end()) continue;  // filtered out
    const double ratio = f->second / e->second;
    std::printf("  %-26s fast %.3g pairs/s, exact %.3g pairs/s, ratio %.0fx\n", k[2], f->second,
                e->second, ratio);
  }
  const auto f31 = rates().find("BM_RotateHead/fast_t31");
  const auto e31 = rates().find("BM_RotateHead/exact_t31");
  if (f31 != rates().end() && e31 != rates().end()) {
    const bool rate_ok = f31->second >= 5e6, ratio_ok = f31->second / e31->second >= 100;
    std::printf("targets (issue 4): >= 5e6 pairs/s: %s; >= 100x exact: %s\n",
                rate_ok ? "met" : "NOT met", ratio_ok ? "met" : "NOT met");
  }
  return 0;
}

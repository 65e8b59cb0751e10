// The judge against the fast oracle alone, pair rotations per second, in the same run (issue
// 21, deliverable 2: the judge reaches at least half the oracle's rate on one core for a fast
// kernel).
//
// Inputs: default RoPE, head_dim 128, base 5e5, half-split (the oracle benchmark's spec,
// reference/bench/bench_oracle.cpp); one case of 32 tokens × 8 heads at positions uniform in
// [0, 2^17) and components uniform in [-2, 2] rounded to f32 (seeded).  Per iteration:
//  - OracleAlone: the fast oracle rotates every head of the case (Oracle::rotate): what any
//    judgement of agreement must at least cost;
//  - KernelAlone/<k>: the kernel's call through the runner (buffers, canaries, the call);
//  - JudgeAgreement/<k>: Judge::judge on agreesWithExactReferenceWithinContract — the kernel
//    call, the fast oracle (spot-checked against the exact reference every 1000 calls, as in
//    every command), the per-pair bound and measurement;
//  - JudgeCatalogue/<k>: every property of the catalogue on the case (cases per second; the
//    properties make their own calls, e.g. in place and out of place, shifted, permuted).
// items_processed counts pair rotations (tokens × heads × 64) for the first three and cases
// for the last.  main() prints judge / oracle for each kernel, and whether the target holds.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "impl/registry.hpp"
#include "properties/catalogue.hpp"
#include "properties/judge.hpp"
#include "reference/fast_oracle.hpp"

namespace {

using namespace ropecheck;

constexpr int kHeadDim = 128;
constexpr int kTokens = 32;
constexpr int kHeads = 8;
constexpr int64_t kPairs = int64_t{kTokens} * kHeads * (kHeadDim / 2);
const char* const kKernels[] = {"simd_table_f32", "table_f32"};

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

const rc_kernel_desc& kernel(const char* name) {
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    if (std::string(d->name) == name) return *d;
  }
  std::fprintf(stderr, "bench_judge: no built-in kernel %s\n", name);
  std::abort();
}

props::Case bench_case() {
  props::Case c;
  c.spec = bench_spec();
  c.n_heads = kHeads;
  c.shift = 16;
  std::mt19937_64 rng(20261206);
  std::uniform_int_distribution<int64_t> pos(0, (int64_t{1} << 17) - 1);
  std::uniform_real_distribution<double> ux(-2.0, 2.0);
  for (int k = 0; k < kTokens; ++k) c.positions.push_back(pos(rng));
  c.x.resize(static_cast<size_t>(kTokens) * kHeads * kHeadDim);
  for (double& v : c.x) v = static_cast<double>(static_cast<float>(ux(rng)));  // the f32 kernels' input
  return c;
}

std::map<std::string, double>& rates() {
  static std::map<std::string, double> r;
  return r;
}

void record(benchmark::State& state, int64_t items) {
  state.SetItemsProcessed(items);
  state.counters["per_s"] = benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
}

void BM_OracleAlone(benchmark::State& state) {
  const props::Case c = bench_case();
  const ref::FastOracle oracle(c.spec);
  std::vector<double> hi(kHeadDim), lo(kHeadDim);
  for (auto _ : state) {
    for (int k = 0; k < kTokens; ++k) {
      for (int h = 0; h < kHeads; ++h) {
        oracle.rotate(c.positions[static_cast<size_t>(k)], &c.x[c.at(k, h, 0)], hi.data(), lo.data());
        benchmark::DoNotOptimize(hi.data());
        benchmark::DoNotOptimize(lo.data());
      }
    }
  }
  record(state, state.iterations() * kPairs);
}

void BM_KernelAlone(benchmark::State& state, const char* name) {
  const props::Case c = bench_case();
  props::Judge judge;
  const props::KernelRunner& runner = judge.runner(kernel(name), c.spec);
  for (auto _ : state) {
    props::RunOutput out = runner.run(c);
    benchmark::DoNotOptimize(out.y.data());
  }
  record(state, state.iterations() * kPairs);
}

void BM_JudgeAgreement(benchmark::State& state, const char* name) {
  const props::Case c = bench_case();
  props::Judge judge;
  const props::Property& agreement = *props::find_property("agreesWithExactReferenceWithinContract");
  const rc_kernel_desc& k = kernel(name);
  if (judge.judge(k, agreement, c).finding != props::Finding::kPass) {
    state.SkipWithError("the kernel does not pass agreement on the bench case");
    return;
  }
  for (auto _ : state) {
    props::Judgement j = judge.judge(k, agreement, c);
    benchmark::DoNotOptimize(j.worst_ratio);
  }
  record(state, state.iterations() * kPairs);
}

void BM_JudgeCatalogue(benchmark::State& state, const char* name) {
  const props::Case c = bench_case();
  props::Judge judge;
  const rc_kernel_desc& k = kernel(name);
  for (auto _ : state) {
    for (const props::Property& p : props::catalogue()) {
      props::Judgement j = judge.judge(k, p, c);
      if (j.failed() || j.finding == props::Finding::kInternal) {
        state.SkipWithError((std::string("property ") + p.id + " did not hold on the bench case: " + j.reason).c_str());
        return;
      }
      benchmark::DoNotOptimize(j.worst_ratio);
    }
  }
  record(state, state.iterations());
}

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      // One rate per benchmark: the run itself, or with --benchmark_repetitions the median.
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      auto it = run.counters.find("per_s");
      if (it != run.counters.end() && !run.error_occurred) rates()[run.run_name.str()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

BENCHMARK(BM_OracleAlone);
BENCHMARK_CAPTURE(BM_KernelAlone, simd_table_f32, kKernels[0]);
BENCHMARK_CAPTURE(BM_KernelAlone, table_f32, kKernels[1]);
BENCHMARK_CAPTURE(BM_JudgeAgreement, simd_table_f32, kKernels[0]);
BENCHMARK_CAPTURE(BM_JudgeAgreement, table_f32, kKernels[1]);
BENCHMARK_CAPTURE(BM_JudgeCatalogue, simd_table_f32, kKernels[0]);
BENCHMARK_CAPTURE(BM_JudgeCatalogue, table_f32, kKernels[1]);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const auto oracle = rates().find("BM_OracleAlone");
  if (oracle == rates().end()) return 0;  // filtered out
  std::printf("\njudge / fast oracle alone (pair rotations per second, this run; oracle %.3g pairs/s):\n",
              oracle->second);
  for (const char* name : kKernels) {
    const auto judged = rates().find(std::string("BM_JudgeAgreement/") + name);
    const auto call = rates().find(std::string("BM_KernelAlone/") + name);
    const auto cat = rates().find(std::string("BM_JudgeCatalogue/") + name);
    if (judged == rates().end()) continue;
    std::printf("  %-15s judge %.3g pairs/s = %.2f x oracle (target >= 0.5: %s); kernel alone %.3g pairs/s; "
                "whole catalogue %.3g cases/s\n",
                name, judged->second, judged->second / oracle->second,
                judged->second / oracle->second >= 0.5 ? "met" : "NOT met",
                call == rates().end() ? 0.0 : call->second, cat == rates().end() ? 0.0 : cat->second);
  }
  return 0;
}

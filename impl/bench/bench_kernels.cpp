// Throughput of every built-in kernel in GB/s (bytes read + written), against memcpy of the
// same bytes ("memcpy" for f32 kernels, "memcpy16" for the bf16/f16 ones) and scalar_f32_hf, measured in the same process: tokens {1, 16, 512, 4096} x
// 32 heads x head_dim {64, 128, 256}, default RoPE, half-split, apply in steady state (after
// prepare and one untimed call, which fills the rows a table kernel caches on first use; the
// one-time cost, prepare plus filling every cached row, is reported by BM_Prepare).  Two position sets:
// "seq" = 0..n-1 (within the model's context, table hits) and "rand31" = uniform random in
// [0, 2^31] (every row computed on the fly).  impl/bench/ratios.py turns the JSON output
// into the ratio table of RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "impl/kernels/simd_rotate.hpp"
#include "impl/registry.hpp"

namespace ropecheck::impl {
namespace {

constexpr int kHeads = 32;  // the shapes; a few runs at 1 head (third argument)

rc_spec bench_spec(int head_dim) {
  rc_spec s = default_rope_spec(head_dim, head_dim);
  s.max_position_embeddings = 8192;  // the engine's cos/sin cache covers 0..8191
  return s;
}

size_t dtype_bytes(int32_t t) { return t == RC_DTYPE_F64 ? 8 : t == RC_DTYPE_F32 ? 4 : 2; }

std::vector<int64_t> make_positions(int64_t n, bool random31) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::mt19937_64 rng(7);
  for (int64_t i = 0; i < n; ++i) {
    p[static_cast<size_t>(i)] =
        random31 ? static_cast<int64_t>(rng() % ((uint64_t{1} << 31) + 1)) : i;
  }
  return p;
}

// Activations as a model has them: uniform in [-2, 2), normal numbers in every dtype.  (Tiny
// subnormal inputs -- what an earlier fill with small bytes produced -- cost a microcode assist
// per multiplication on Intel cores and measure that instead of the kernel.)
void fill_activations(int32_t dtype, size_t n, unsigned char* p) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  for (size_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    if (dtype == RC_DTYPE_F64) {
      const double d = v;
      std::memcpy(p + 8 * i, &d, 8);
    } else if (dtype == RC_DTYPE_F32) {
      std::memcpy(p + 4 * i, &v, 4);
    } else {
      const uint16_t h = dtype == RC_DTYPE_BF16 ? f32_to_bf16(v) : f32_to_f16(v);
      std::memcpy(p + 2 * i, &h, 2);
    }
  }
}

int64_t heads_of(const benchmark::State& state) {
  return state.range(2);
}

void BM_Kernel(benchmark::State& state, const rc_kernel_desc* k, bool random31) {
  const int64_t tokens = state.range(0);
  const int hd = static_cast<int>(state.range(1));
  const int64_t heads = heads_of(state);
  const rc_spec cs = bench_spec(hd);
  const size_t es = dtype_bytes(k->in_dtype);
  const size_t n = static_cast<size_t>(tokens * heads) * static_cast<size_t>(hd);
  std::vector<unsigned char> in(n * es), out(n * es);
  fill_activations(k->in_dtype, n, in.data());
  const std::vector<int64_t> pos = make_positions(tokens, random31);
  void* handle = nullptr;
  if (k->prepare && k->prepare(&cs, &handle) != RC_OK) {
    state.SkipWithError("prepare refused");
    return;
  }
  // Steady state: the first call fills the cached rows of these positions.
  k->apply(&cs, handle, pos.data(), tokens, heads, heads * hd, hd, in.data(), out.data());
  for (auto _ : state) {
    const int rc = k->apply(&cs, handle, pos.data(), tokens, heads, heads * hd, hd,
                            in.data(), out.data());
    benchmark::DoNotOptimize(rc);
    benchmark::ClobberMemory();
  }
  if (k->release) k->release(handle);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                          static_cast<int64_t>(n * es));
}

// memcpy of the bytes a kernel with `elem_bytes`-byte elements reads: "memcpy" for the f32
// kernels, "memcpy16" (half the bytes) for the bf16/f16 ones.
void BM_Memcpy(benchmark::State& state, size_t elem_bytes) {
  const size_t bytes = static_cast<size_t>(state.range(0) * heads_of(state) * state.range(1)) * elem_bytes;
  std::vector<unsigned char> in(bytes, 1), out(bytes);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * static_cast<int64_t>(bytes));
}

// The one-time cost of a model's cos/sin cache: prepare, then one call (1 head) over every
// position of the context, which makes a table kernel fill each of its rows.
void BM_Prepare(benchmark::State& state, const rc_kernel_desc* k) {
  const int hd = static_cast<int>(state.range(0));
  const rc_spec cs = bench_spec(hd);
  const std::vector<int64_t> pos = make_positions(cs.max_position_embeddings, false);
  const int64_t tokens = static_cast<int64_t>(pos.size());
  const size_t es = dtype_bytes(k->in_dtype);
  std::vector<unsigned char> in(static_cast<size_t>(tokens * hd) * es), out(in.size());
  for (auto _ : state) {
    void* handle = nullptr;
    benchmark::DoNotOptimize(k->prepare(&cs, &handle));
    benchmark::DoNotOptimize(k->apply(&cs, handle, pos.data(), tokens, 1, hd, hd, in.data(), out.data()));
    k->release(handle);
  }
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t t : {1, 16, 512, 4096}) {
    for (int64_t hd : {64, 128, 256}) b->Args({t, hd, kHeads});
  }
}
// One head per token: the per-token cos/sin work is no longer amortized over 32 heads, so
// this is where on-the-fly sin/cos (simd_sincos_f32 vs scalar_f32_hf) shows its cost.
void one_head(benchmark::internal::Benchmark* b) {
  for (int64_t t : {512, 4096, 65536}) b->Args({t, 128, 1});
}
bool in_one_head_set(const char* name) {
  for (const char* n : {"scalar_f32_hf", "simd_sincos_f32", "simd_table_f32", "table_f32"}) {
    if (std::strcmp(name, n) == 0) return true;
  }
  return false;
}

int register_all() {
  benchmark::RegisterBenchmark("memcpy", BM_Memcpy, sizeof(float))->Apply(shapes)->Apply(one_head);
  benchmark::RegisterBenchmark("memcpy16", BM_Memcpy, sizeof(uint16_t))->Apply(shapes);
  for (const rc_kernel_desc* k : builtin_kernels()) {
    for (bool r : {false, true}) {
      benchmark::RegisterBenchmark((std::string(k->name) + (r ? "/rand31" : "/seq")).c_str(),
                                   BM_Kernel, k, r)
          ->Apply(shapes);
      if (in_one_head_set(k->name)) {
        benchmark::RegisterBenchmark(
            (std::string(k->name) + (r ? "/rand31" : "/seq")).c_str(), BM_Kernel, k, r)
            ->Apply(one_head);
      }
    }
    if (k->prepare) {
      benchmark::RegisterBenchmark((std::string("prepare/") + k->name).c_str(), BM_Prepare, k)
          ->Arg(64)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::AddCustomContext("simd_target", simd_target_name());
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace ropecheck::impl

BENCHMARK_MAIN();

// Smoke test of the call contract (ropecheck_kernel.h) for every built-in kernel, no
// reference arithmetic: calls outside the declared range -- negative counts or strides,
// head_dim / rotary_dim outside the descriptor's range, an unsupported spec, a position < 0
// or > max_position (also after valid ones) -- return non-zero and write nothing;
// n_tokens = 0 and n_heads = 0 are accepted and write nothing; a NULL handle gives the same
// bits as a prepared one; large out-of-place calls (streaming stores) give the same bits as
// in place.  The limits come from each descriptor, never a second literal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "impl/kernels/simd_rotate.hpp"
#include "impl/registry.hpp"

namespace ropecheck::impl {
namespace {

constexpr unsigned char kFill = 0xCD;
constexpr int64_t kHeads = 3;

size_t elem_size(int32_t dtype) {
  return dtype == RC_DTYPE_F64 ? 8 : dtype == RC_DTYPE_F32 ? 4 : 2;
}

rc_spec small_spec(int head_dim, int rotary_dim, int32_t layout = RC_LAYOUT_HALF_SPLIT) {
  rc_spec s = default_rope_spec(head_dim, rotary_dim, layout);
  s.max_position_embeddings = 64;  // small cache: positions beyond it take the on-the-fly path
  return s;
}

// Buffers for n_tokens x kHeads contiguous vectors of head_dim elements; input bytes are
// small finite values in every dtype (a low byte pattern), output pre-filled with kFill.
struct Buffers {
  std::vector<unsigned char> in, out;
  Buffers(const rc_kernel_desc& k, int64_t n_tokens, int head_dim) {
    const size_t n = static_cast<size_t>(std::max<int64_t>(n_tokens, 1) * kHeads * head_dim) *
                     elem_size(k.in_dtype);
    in.assign(n, 0);
    for (size_t i = 0; i < n; ++i) in[i] = static_cast<unsigned char>((i * 7) % 61);
    out.assign(n, kFill);
  }
  bool out_untouched() const {
    for (unsigned char b : out) {
      if (b != kFill) return false;
    }
    return true;
  }
};

// Calls k with handle h on n_tokens contiguous tokens; returns the status.
int call(const rc_kernel_desc& k, const rc_spec& spec, void* h, const std::vector<int64_t>& pos,
         int64_t n_tokens, int64_t n_heads, int64_t token_stride, int64_t head_stride,
         Buffers& b) {
  return k.apply(&spec, h, pos.data(), n_tokens, n_heads, token_stride, head_stride,
                 b.in.data(), b.out.data());
}

class EveryKernel : public ::testing::TestWithParam<const rc_kernel_desc*> {};

TEST_P(EveryKernel, refusesCallsOutsideItsDeclaredRangeAndWritesNothing) {
  const rc_kernel_desc& k = *GetParam();
  const int hd = std::max(k.head_dim_min, std::min(k.head_dim_max, 64));
  const int rd = std::min(hd - hd % 2, k.rotary_dim_max);
  const rc_spec cs = small_spec(hd, rd);
  const int64_t nt = 4, ts = kHeads * hd;
  const std::vector<int64_t> ok_pos = {0, 1, 63, 64};
  void* handle = nullptr;
  if (k.prepare) {
    ASSERT_EQ(k.prepare(&cs, &handle), RC_OK);
  }
  for (void* h : {handle, static_cast<void*>(nullptr)}) {
    SCOPED_TRACE(h ? "prepared handle" : "NULL handle");
    struct Bad {
      const char* what;
      int64_t n_tokens, n_heads, token_stride, head_stride;
    };
    for (const Bad& bad : {Bad{"n_tokens < 0", -1, kHeads, ts, hd},
                           Bad{"n_heads < 0", nt, -1, ts, hd},
                           Bad{"token_stride < 0", nt, kHeads, -ts, hd},
                           Bad{"head_stride < 0", nt, kHeads, ts, -hd}}) {
      Buffers b(k, nt, hd);
      EXPECT_NE(call(k, cs, h, ok_pos, bad.n_tokens, bad.n_heads, bad.token_stride,
                     bad.head_stride, b),
                RC_OK)
          << bad.what;
      EXPECT_TRUE(b.out_untouched()) << bad.what;
    }
    // Positions: < 0, > max_position, and an invalid one after valid ones.
    std::vector<std::vector<int64_t>> bad_pos = {{0, 1, -1, 2}, {-1, 0, 1, 2}};
    if (k.max_position < std::numeric_limits<int64_t>::max()) {
      bad_pos.push_back({0, 1, 2, k.max_position + 1});
      bad_pos.push_back({k.max_position + 1, 0, 1, 2});
    }
    for (const std::vector<int64_t>& p : bad_pos) {
      Buffers b(k, nt, hd);
      EXPECT_EQ(call(k, cs, h, p, nt, kHeads, ts, hd, b), RC_ERR_POSITION)
          << "positions " << p[0] << " " << p[1] << " " << p[2] << " " << p[3];
      EXPECT_TRUE(b.out_untouched());
    }
    // n_tokens = 0 and n_heads = 0 are valid calls that write nothing.
    {
      Buffers b(k, nt, hd);
      EXPECT_EQ(call(k, cs, h, ok_pos, 0, kHeads, ts, hd, b), RC_OK);
      EXPECT_EQ(call(k, cs, h, ok_pos, nt, 0, ts, hd, b), RC_OK);
      EXPECT_TRUE(b.out_untouched());
    }
  }
  if (k.release) k.release(handle);
}

TEST_P(EveryKernel, refusesShapesAndSpecsItDoesNotDeclare) {
  const rc_kernel_desc& k = *GetParam();
  const std::vector<int64_t> pos = {0, 1};
  struct BadSpec {
    std::string what;
    rc_spec spec;
  };
  std::vector<BadSpec> bad;
  auto with = [&](const std::string& what, int hd, int rd, auto&& edit) {
    rc_spec s = small_spec(hd, rd);
    edit(s);
    bad.push_back({what, s});
  };
  const auto none = [](rc_spec&) {};
  if (k.head_dim_max < std::numeric_limits<int32_t>::max())
    with("head_dim > head_dim_max", k.head_dim_max + 1, 2, none);
  // A valid shape otherwise (rotary_dim <= head_dim, even), so head_dim_min is the only rule broken.
  if (k.head_dim_min - 1 >= 2 && k.rotary_dim_min <= ((k.head_dim_min - 1) & ~1)) {
    with("head_dim < head_dim_min", k.head_dim_min - 1, (k.head_dim_min - 1) & ~1, none);
  }
  if (k.rotary_dim_max + 2 <= k.head_dim_max)
    with("rotary_dim > rotary_dim_max", k.rotary_dim_max + 2, k.rotary_dim_max + 2, none);
  with("odd rotary_dim", 8, 7, none);
  with("rotary_dim > head_dim", 8, 10, none);
  with("unknown layout", 8, 8, [](rc_spec& s) { s.layout = 7; });
  with("unknown rope_type", 8, 8, [](rc_spec& s) { s.rope_type = 99; });
  with("base <= 1", 8, 8, [](rc_spec& s) { s.base = 0.5; });
  with("NaN base", 8, 8, [](rc_spec& s) { s.base = std::numeric_limits<double>::quiet_NaN(); });
  with("linear without a factor", 8, 8, [](rc_spec& s) {
    s.rope_type = RC_ROPE_LINEAR;
    s.factor = 0;
  });
  with("longrope without factors", 8, 8, [](rc_spec& s) {
    s.rope_type = RC_ROPE_LONGROPE;
    s.factor = 4;
    s.original_max_position_embeddings = 32;
  });
  for (const BadSpec& b : bad) {
    // Buffers sized for the bad shape itself, so a kernel that wrongly proceeds stays in
    // bounds and the test reports instead of crashing.
    const int hd = std::max(b.spec.head_dim, 1);
    Buffers buf(k, 2, hd);
    void* h = nullptr;
    if (k.prepare && k.prepare(&b.spec, &h) == RC_OK) {  // prepare may refuse too
      EXPECT_NE(call(k, b.spec, h, pos, 2, kHeads, kHeads * hd, hd, buf), RC_OK) << b.what;
      k.release(h);
    }
    EXPECT_NE(call(k, b.spec, nullptr, pos, 2, kHeads, kHeads * hd, hd, buf), RC_OK) << b.what;
    EXPECT_TRUE(buf.out_untouched()) << b.what;
  }
  Buffers buf(k, 2, 8);
  EXPECT_NE(k.apply(nullptr, nullptr, pos.data(), 2, kHeads, kHeads * 8, 8, buf.in.data(),
                    buf.out.data()),
            RC_OK)
      << "NULL spec";
  EXPECT_TRUE(buf.out_untouched());
}

TEST_P(EveryKernel, nullHandleGivesTheSameBitsAsAPreparedOne) {
  const rc_kernel_desc& k = *GetParam();
  for (int32_t layout : {RC_LAYOUT_HALF_SPLIT, RC_LAYOUT_INTERLEAVED}) {
    if (!(k.layouts & RC_LAYOUT_BIT(layout))) continue;
    const rc_spec cs = small_spec(80, 64, layout);  // partial rotary, not a multiple of 16 pairs
    // Inside the cache, at its edge, and far beyond it (on-the-fly rows).
    std::vector<int64_t> pos = {0, 5, 63, 64, 1000, int64_t{1} << 31};
    for (int64_t& p : pos) p = std::min(p, k.max_position);
    const int64_t nt = static_cast<int64_t>(pos.size()), hd = cs.head_dim;
    Buffers with(k, nt, cs.head_dim), without(k, nt, cs.head_dim);
    void* h = nullptr;
    if (k.prepare) {
      ASSERT_EQ(k.prepare(&cs, &h), RC_OK);
    }
    ASSERT_EQ(call(k, cs, h, pos, nt, kHeads, kHeads * hd, hd, with), RC_OK);
    if (k.release) k.release(h);
    ASSERT_EQ(call(k, cs, nullptr, pos, nt, kHeads, kHeads * hd, hd, without), RC_OK);
    EXPECT_EQ(with.out, without.out) << "layout " << layout;
    EXPECT_FALSE(without.out_untouched());
  }
}

// The ABI lets several threads call apply with one handle; the table kernels fill their cached
// rows on first use (ExactTable), so threads race to fill the same rows here.  Every thread must
// get the bits of an uncached (NULL handle) call, and so must a later call on the filled cache.
TEST_P(EveryKernel, concurrentCallsOnOneHandleGiveTheBitsOfAnUncachedCall) {
  const rc_kernel_desc& k = *GetParam();
  const rc_spec cs = small_spec(64, 64);
  std::vector<int64_t> pos;
  for (int64_t t = 0; t < 80; ++t) pos.push_back(std::min(t, k.max_position));  // cache is 0..63
  const int64_t nt = static_cast<int64_t>(pos.size()), hd = cs.head_dim;
  Buffers expected(k, nt, cs.head_dim);
  ASSERT_EQ(call(k, cs, nullptr, pos, nt, kHeads, kHeads * hd, hd, expected), RC_OK);
  void* h = nullptr;
  if (k.prepare) {
    ASSERT_EQ(k.prepare(&cs, &h), RC_OK);
  }
  constexpr int kThreads = 4;
  std::vector<Buffers> got(kThreads, Buffers(k, nt, cs.head_dim));
  std::vector<int> status(kThreads, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { status[i] = call(k, cs, h, pos, nt, kHeads, kHeads * hd, hd, got[i]); });
  }
  for (std::thread& t : threads) t.join();
  Buffers again(k, nt, cs.head_dim);
  ASSERT_EQ(call(k, cs, h, pos, nt, kHeads, kHeads * hd, hd, again), RC_OK);
  if (k.release) k.release(h);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(status[i], RC_OK) << "thread " << i;
    EXPECT_EQ(got[i].out, expected.out) << "thread " << i;
  }
  EXPECT_EQ(again.out, expected.out);
}

// Large out-of-place calls of the SIMD f32 kernels take the streaming-store path
// (simd_rotate.hpp, kStreamMinBytes): full-width streams on a vector-aligned output, 128-bit
// streams on a 16-byte aligned one, normal stores otherwise.  Each must give the bits of the
// in-place call, which never streams.
TEST(Streaming, largeOutOfPlaceCallsEqualInPlaceAtEveryAlignment) {
  const int hd = 128;
  const int64_t heads = 32;
  const int64_t nt = kStreamMinBytes / static_cast<int64_t>(sizeof(float) * heads * hd) + 3;
  std::vector<int64_t> pos(static_cast<size_t>(nt));
  for (int64_t k = 0; k < nt; ++k) pos[static_cast<size_t>(k)] = k % 2 ? k : k * 100003;
  const size_t n = static_cast<size_t>(nt * heads * hd);
  std::vector<float> x(n);
  std::mt19937 rng(5);
  for (float& v : x) v = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
  int streaming_kernels = 0;
  for (const rc_kernel_desc* k : builtin_kernels()) {
    if (std::string(k->name) != "simd_table_f32" && std::string(k->name) != "simd_sincos_f32")
      continue;
    ++streaming_kernels;
    for (int32_t layout : {RC_LAYOUT_HALF_SPLIT, RC_LAYOUT_INTERLEAVED}) {
      const rc_spec cs = small_spec(hd, hd, layout);
      void* h = nullptr;
      ASSERT_EQ(k->prepare(&cs, &h), RC_OK);
      std::vector<float> ref = x;
      ASSERT_EQ(k->apply(&cs, h, pos.data(), nt, heads, heads * hd, hd, ref.data(),
                         ref.data()),
                RC_OK);
      for (size_t misalign_floats : {0u, 1u, 4u}) {  // 0, 4 and 16 bytes off a 64-byte line
        std::vector<float> buf(n + 32);
        float* out = buf.data();
        while (reinterpret_cast<uintptr_t>(out) % 64 != 0) ++out;
        out += misalign_floats;
        ASSERT_EQ(k->apply(&cs, h, pos.data(), nt, heads, heads * hd, hd, x.data(), out),
                  RC_OK);
        EXPECT_EQ(std::memcmp(out, ref.data(), n * sizeof(float)), 0)
            << k->name << " layout " << layout_name(layout) << " misaligned by "
            << misalign_floats * sizeof(float) << " bytes";
      }
      k->release(h);
    }
  }
  EXPECT_EQ(streaming_kernels, 2) << "a streaming kernel was renamed: this test would check nothing";
}

INSTANTIATE_TEST_SUITE_P(Builtin, EveryKernel, ::testing::ValuesIn(builtin_kernels()),
                         [](const ::testing::TestParamInfo<const rc_kernel_desc*>& p) {
                           return std::string(p.param->name);
                         });

}  // namespace
}  // namespace ropecheck::impl

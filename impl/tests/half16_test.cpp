// The vector bf16/f16 conversions of the 16-bit storage kernels (kernels/simd_half16.cpp)
// against the scalar ones in kernels/common.hpp, bit for bit: every one of the 2^16 inputs
// of each 16-bit format widened to f32, and f32 -> 16 bit over (a) every 16-bit value
// widened, the midpoint to its successor (a tie) and that midpoint's f32 neighbours, (b)
// every sign/exponent with mantissas at and around the rounding boundary (incl. f32 and f16
// subnormals, Inf, signalling and quiet NaNs with payloads), (c) 2^22 values spread over all
// bit patterns (a multiplicative sweep) and 2^22 random ones (seed kSeed).  Where the vector
// code is exact only for the inputs a kernel can give it (signalling f16 NaNs come out quiet,
// bf16 rounding sees only quiet NaNs with zero low bits), the test says so and checks that.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <cstdlib>

#include "impl/kernels/common.hpp"
#include "impl/kernels/simd_rotate.hpp"
#include "impl/kernels/table_bf16.hpp"
#include "impl/kernels/table_f16.hpp"
#include "impl/registry.hpp"

namespace ropecheck::impl {
namespace {

constexpr uint64_t kSeed = 20261122;

bool is_snan(uint32_t f) { return (f & 0x7FC00000u) == 0x7F800000u && (f & 0x003FFFFFu) != 0; }
const char* name(Half16 k) { return k == Half16::kBF16 ? "bf16" : "f16"; }
float scalar_to_f32(Half16 k, uint16_t h) { return k == Half16::kBF16 ? bf16_to_f32(h) : f16_to_f32(h); }
uint16_t scalar_from_f32(Half16 k, float f) { return k == Half16::kBF16 ? f32_to_bf16(f) : f32_to_f16(f); }

// The f32 inputs of the narrowing test for format k.
std::vector<uint32_t> narrowing_inputs(Half16 k) {
  std::vector<uint32_t> v;
  // (a) every 16-bit value, its midpoint to the next one (a tie), and the tie's neighbours.
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const float f = scalar_to_f32(k, static_cast<uint16_t>(h));
    const float g = scalar_to_f32(k, static_cast<uint16_t>(h + 1));
    const uint32_t fb = f32_bits(f);
    v.push_back(fb);
    if (std::isfinite(f) && std::isfinite(g) && (fb & 0x7FFFFFFFu) != 0x7FFFFFFFu) {
      const double mid = (static_cast<double>(f) + static_cast<double>(g)) / 2;  // exact
      const uint32_t mb = f32_bits(static_cast<float>(mid));
      for (uint32_t d : {mb - 1, mb, mb + 1}) v.push_back(d);
    }
  }
  // (b) each sign and f32 exponent with the low mantissa bits at the rounding boundaries of
  // both formats, under a few upper-mantissa patterns (NaN payloads when exponent = 255).
  for (uint32_t sign : {0u, 1u}) {
    for (uint32_t e = 0; e < 256; ++e) {
      for (uint32_t hi : {0u, 1u, 0x2AAu, 0x3FFu}) {
        for (uint32_t lo : {0x0u, 0x1u, 0xFFFu, 0x1000u, 0x1001u, 0x1FFFu, 0x7FFFu, 0x8000u,
                            0x8001u, 0xFFFFu}) {
          const uint32_t mant = ((hi << 13) | lo) & 0x7FFFFFu;
          v.push_back((sign << 31) | (e << 23) | mant);
          v.push_back((sign << 31) | (e << 23) | (mant ^ 0x400000u));  // quiet bit flipped
        }
      }
    }
  }
  // (c) a sweep over all patterns and random ones.
  for (uint32_t i = 0; i < (1u << 22); ++i) v.push_back(i * 1031u + (i >> 7));
  std::mt19937 rng(kSeed);
  for (int i = 0; i < (1 << 22); ++i) v.push_back(static_cast<uint32_t>(rng()));
  if (v.size() % 2 == 0) v.push_back(0x7F800001u);  // odd count: the remainder path runs too
  return v;
}

TEST(Half16, vectorWideningEqualsScalarForAll65536Inputs) {
  std::printf("seed %" PRIu64 "\n", kSeed);
  for (Half16 k : {Half16::kBF16, Half16::kF16}) {
    std::vector<uint16_t> in(0x10000);
    for (uint32_t h = 0; h < 0x10000u; ++h) in[h] = static_cast<uint16_t>(h);
    std::vector<float> out(in.size());
    // The last 3 in a call of their own: the one-lane remainder path.
    simd_half16_to_f32(k, in.data(), out.data(), in.size() - 3);
    simd_half16_to_f32(k, in.data() + in.size() - 3, out.data() + in.size() - 3, 3);
    int64_t bad = 0, quieted = 0;
    uint32_t worst = 0;
    for (uint32_t h = 0; h < 0x10000u; ++h) {
      const uint32_t want = f32_bits(scalar_to_f32(k, in[h])), got = f32_bits(out[h]);
      if (got == want) continue;
      // F16C makes a signalling NaN quiet (payload kept); the kernels multiply it next, which
      // makes it quiet anyway, so their outputs do not change.
      if (is_snan(want) && got == (want | 0x00400000u)) {
        ++quieted;
        continue;
      }
      if (bad++ == 0) worst = h;
    }
    std::printf("%s -> f32: %d inputs, %" PRId64 " signalling NaNs made quiet, %" PRId64 " mismatches%s",
                name(k), 0x10000, quieted, bad, bad ? "" : "\n");
    if (bad) {
      std::printf(", first 0x%04x: vector 0x%08x scalar 0x%08x\n", worst,
                  f32_bits(out[worst]), f32_bits(scalar_to_f32(k, static_cast<uint16_t>(worst))));
    }
    EXPECT_EQ(bad, 0) << name(k);
  }
}

TEST(Half16, vectorNarrowingEqualsScalarIncludingTiesSubnormalsNanAndInf) {
  std::printf("seed %" PRIu64 "\n", kSeed);
  for (Half16 k : {Half16::kBF16, Half16::kF16}) {
    std::vector<uint32_t> bits = narrowing_inputs(k);
    if (k == Half16::kBF16) {
      // The bf16 rounding of the vector loops has no NaN branch: it is exact for the NaNs a
      // rotation of bf16 inputs can produce -- quiet, with the low 16 bits zero (see PackBF16
      // in simd_half16.cpp) -- so other NaN patterns are made into those.
      for (uint32_t& b : bits) {
        if ((b & 0x7FFFFFFFu) > 0x7F800000u) b = (b & 0xFFFF0000u) | 0x00400000u;
      }
    }
    std::vector<float> in(bits.size());
    for (size_t i = 0; i < bits.size(); ++i) in[i] = bits_f32(bits[i]);
    std::vector<uint16_t> out(in.size());
    simd_f32_to_half16(k, in.data(), out.data(), in.size());  // odd size: the remainder too
    int64_t bad = 0;
    size_t worst = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (out[i] != scalar_from_f32(k, in[i])) {
        if (bad++ == 0) worst = i;
      }
    }
    std::printf("f32 -> %s: %zu inputs, %" PRId64 " mismatches", name(k), in.size(), bad);
    if (bad) {
      std::printf(", first %a (0x%08x): vector 0x%04x scalar 0x%04x", static_cast<double>(in[worst]),
                  bits[worst], out[worst], scalar_from_f32(k, in[worst]));
    }
    std::printf("\n");
    EXPECT_EQ(bad, 0) << name(k);
  }
}

// ---- the kernels against the scalar rotation they promise to equal ----------------------
// table_bf16 / table_f16 against rotate_all<BF16Store / F16Store> with exact_row (the scalar
// kernels they replaced), bit for bit; where both are NaN the payload may differ (simd_rotate.hpp).
// Shapes: both layouts, partial rotary, head_dims that are not a whole number of vectors,
// padded strides, in place, no handle, positions beyond the cache, and calls large enough to
// stream (>= kStreamMinBytes) with the output 64-byte aligned, 16/32/48 bytes past it (packed
// heads: realigned full-width streams; padded: 16-byte streams) and at +2 bytes.
struct Case {
  rc_layout layout;
  int head_dim, rotary_dim;
  int64_t tokens, heads, head_pad, token_pad;
  size_t offset;  // elements past a 64-byte boundary
  bool in_place, no_handle, far_positions;
};

template <class Store>
int64_t mismatches(const rc_kernel_desc& k, const Case& c, int fill, uint64_t seed) {
  rc_spec spec = default_rope_spec(c.head_dim, c.rotary_dim);
  spec.layout = c.layout;
  spec.max_position_embeddings = 4096;
  const int64_t hs = c.head_dim + c.head_pad, ts = c.heads * hs + c.token_pad;
  const size_t n = static_cast<size_t>(c.tokens * ts);
  // 64-byte aligned storage (+ c.offset) for input, kernel output and reference output.
  const size_t room = (n + 64) / 32 * 32 + 32;  // elements per buffer, a multiple of 64 bytes
  std::vector<uint16_t> buf(3 * room + 32);
  uint16_t* base = buf.data() + ((64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64) / 2;
  uint16_t* x = base + c.offset;
  uint16_t* y = c.in_place ? x : x + room;
  uint16_t* want = x + 2 * room;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> act(-2.0f, 2.0f);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng();
    if (fill == 0) {
      x[i] = Store::store(act(rng));
    } else if (fill == 1) {
      x[i] = static_cast<uint16_t>(r);  // every pattern: NaN, Inf, subnormals
    } else {  // tiny and huge: subnormal products, overflow to inf
      x[i] = static_cast<uint16_t>((r & 0x8000u) | (r % 2 ? (r >> 16) & 0x3FFu : Store::store(6e4f) - ((r >> 16) & 0x3Fu)));
    }
  }
  std::vector<int64_t> pos(static_cast<size_t>(c.tokens));
  for (int64_t t = 0; t < c.tokens; ++t) {
    pos[static_cast<size_t>(t)] = c.far_positions ? static_cast<int64_t>(rng() % (uint64_t{1} << 40)) : t;
  }
  ExactAngles angles;
  EXPECT_EQ(make_exact_angles(spec, &angles), RC_OK);
  std::copy(x, x + n, want);
  rotate_all<Store>(spec, pos.data(), c.tokens, c.heads, ts, hs, want, want,
                    [&](int64_t t, float* cr, float* sr, const float** cp, const float** sp) {
                      exact_row(angles, t, cr, sr);
                      *cp = cr, *sp = sr;
                    });
  if (!c.in_place) {  // pads start equal; the pass-through part must be copied by the kernel
    std::copy(x, x + n, y);
    for (int64_t t = 0; t < c.tokens; ++t) {
      for (int64_t h = 0; h < c.heads; ++h) {
        std::fill_n(y + t * ts + h * hs + c.rotary_dim, c.head_dim - c.rotary_dim, uint16_t{0xDEAD});
      }
    }
  }
  void* handle = nullptr;
  if (!c.no_handle) {
    EXPECT_EQ(k.prepare(&spec, &handle), RC_OK);
  }
  EXPECT_EQ(k.apply(&spec, handle, pos.data(), c.tokens, c.heads, ts, hs, x, y), RC_OK);
  if (handle != nullptr) k.release(handle);
  const auto is_nan = [](uint16_t h) { return std::isnan(Store::load(h)); };
  int64_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    if (y[i] != want[i] && !(is_nan(y[i]) && is_nan(want[i]))) {
      if (bad++ == 0) {
        std::printf("  %s hd %d rd %d layout %d fill %d: element %zu got 0x%04x want 0x%04x\n", k.name,
                    c.head_dim, c.rotary_dim, static_cast<int>(c.layout), fill, i, y[i], want[i]);
      }
    }
  }
  return bad;
}

TEST(Half16, kernelsEqualTheScalarRotationBitForBit) {
  std::printf("seed %" PRIu64 "\n", kSeed);
  const int64_t big = kStreamMinBytes / 2 / (32 * 128) + 3;  // tokens of 32 x 128 that stream
  const std::vector<Case> cases = {
      {RC_LAYOUT_HALF_SPLIT, 128, 128, 37, 5, 0, 0, 8, false, false, false},
      {RC_LAYOUT_INTERLEAVED, 128, 128, 37, 5, 0, 0, 8, false, false, false},
      {RC_LAYOUT_HALF_SPLIT, 72, 72, 37, 3, 8, 4, 1, false, true, true},
      {RC_LAYOUT_INTERLEAVED, 72, 72, 37, 3, 8, 4, 1, false, false, true},
      {RC_LAYOUT_HALF_SPLIT, 130, 64, 9, 4, 0, 0, 0, true, false, false},
      {RC_LAYOUT_INTERLEAVED, 130, 64, 9, 4, 0, 0, 0, true, false, false},
      {RC_LAYOUT_HALF_SPLIT, 6, 6, 50, 7, 0, 0, 3, false, false, false},
      {RC_LAYOUT_INTERLEAVED, 2, 2, 50, 7, 0, 0, 3, false, false, false},
      {RC_LAYOUT_HALF_SPLIT, 2048, 1024, 3, 2, 0, 0, 0, false, false, true},
      {RC_LAYOUT_INTERLEAVED, 256, 192, 5, 2, 2, 0, 0, false, false, false},
      {RC_LAYOUT_HALF_SPLIT, 128, 128, big, 32, 0, 0, 0, false, false, false},   // streams, 64-aligned
      {RC_LAYOUT_HALF_SPLIT, 128, 128, big, 32, 0, 0, 8, false, false, false},   // 16-byte aligned:
      {RC_LAYOUT_INTERLEAVED, 128, 128, big, 32, 0, 0, 8, false, false, true},   // realigned streams
      {RC_LAYOUT_HALF_SPLIT, 64, 64, 2 * big, 32, 0, 0, 24, false, false, false},
      {RC_LAYOUT_INTERLEAVED, 256, 256, big / 2 + 1, 32, 0, 0, 16, false, false, false},
      {RC_LAYOUT_HALF_SPLIT, 128, 128, big, 32, 8, 0, 8, false, false, false},   // padded: 16-byte pieces
      // Packed heads, padded tokens: each token a realigned run of its own (no run carried
      // over: the next token does not start where this one ends), at the same line offset
      // (64-byte pad) and at a new one per token (16-byte pad).
      {RC_LAYOUT_HALF_SPLIT, 128, 128, big, 32, 0, 32, 8, false, false, false},
      {RC_LAYOUT_INTERLEAVED, 128, 128, big, 32, 0, 8, 8, false, false, false},
      {RC_LAYOUT_HALF_SPLIT, 128, 128, big, 32, 0, 0, 1, false, false, false},   // +2 bytes: plain
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    for (int fill : {0, 1, 2}) {
      const uint64_t seed = kSeed + 97 * i + static_cast<uint64_t>(fill);
      const int64_t b = mismatches<BF16Store>(kTableBF16Kernel, cases[i], fill, seed);
      const int64_t f = mismatches<F16Store>(kTableF16Kernel, cases[i], fill, seed);
      EXPECT_EQ(b, 0) << "bf16 case " << i << " fill " << fill;
      EXPECT_EQ(f, 0) << "f16 case " << i << " fill " << fill;
    }
  }
  std::printf("%zu shapes x 3 fills x {table_bf16, table_f16} compared with rotate_all\n", cases.size());
}

}  // namespace
}  // namespace ropecheck::impl

// RapidCheck generators for RoPE cases — our own, because RapidCheck's default float
// generator reaches none of the values that break RoPE kernels: edge positions, subnormals,
// ±0, huge magnitudes, odd head counts, padded strides.
//
// Everything is generated within what a kernel declares (layouts, scalings, head_dim and
// rotary_dim rules, max_position), so a generated case is one the kernel has promised to
// handle; `Constraints` carries those declarations.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "impl/abi.hpp"
#include "impl/ropecheck_kernel.h"
#include "properties/case.hpp"
#include "properties/edge_positions.hpp"
#include "properties/runner.hpp"

namespace ropecheck::props::gen {

struct Constraints {
  uint32_t layouts = RC_LAYOUT_ALL;
  uint32_t scalings = RC_SCALING_ALL;
  int head_dim_min = 2, head_dim_max = 512, head_dim_multiple = 1;
  int rotary_dim_min = 2, rotary_dim_max = 512, rotary_dim_multiple = 2;
  int64_t max_position = INT64_MAX;
  int32_t in_dtype = RC_DTYPE_F64;  // input values are rounded to this dtype
  int max_tokens = 5, max_heads = 4;  // max_heads: of q; k adds up to as many again
  bool q_only = true, qk = false;     // ABI 2: calls with q alone, with q and k together
  // ABI 2 features (impl/abi.hpp: never for an ABI 1 kernel): inverse calls, a rotary offset,
  // negative positions (down to −max_position), the thread hint.  Cases use them only when set.
  bool inverse = false, rotary_offset = false, negative_positions = false, threads = false;
  bool abi2 = false;                  // decode batches (below) are drawn for ABI 2 kernels with call knobs
  bool both_position_dtypes = false;  // ABI 2: int32 and int64 positions declared; cases ask either
  bool multi_axis = false;            // RC_FEATURE_MULTI_AXIS: M-RoPE specs, positions per axis
  bool axes_dims = false;             // RC_FEATURE_AXES_DIMS too: N-D RoPE specs

  static Constraints of(const rc_kernel_desc& d) {
    Constraints c;
    c.layouts = d.layouts;
    c.scalings = d.scalings;
    c.head_dim_min = std::max(2, d.head_dim_min);
    c.head_dim_max = std::min(512, d.head_dim_max);
    c.head_dim_multiple = std::max(1, d.head_dim_multiple);
    c.rotary_dim_min = std::max(2, d.rotary_dim_min);
    c.rotary_dim_max = std::min(512, d.rotary_dim_max);
    c.rotary_dim_multiple = std::max(2, d.rotary_dim_multiple);
    c.max_position = d.max_position;
    c.in_dtype = d.in_dtype;
    c.q_only = impl::has_feature(d, RC_FEATURE_Q_ONLY);
    c.qk = impl::has_feature(d, RC_FEATURE_QK);
    c.inverse = impl::has_feature(d, RC_FEATURE_INVERSE);
    c.rotary_offset = impl::has_feature(d, RC_FEATURE_ROTARY_OFFSET);
    c.negative_positions = impl::has_feature(d, RC_FEATURE_NEGATIVE_POSITIONS);
    c.threads = impl::has_feature(d, RC_FEATURE_THREADS);
    c.abi2 = impl::calls_beyond_abi1(d);
    c.both_position_dtypes = impl::position_dtypes_of(d) == (RC_POSITIONS_I32 | RC_POSITIONS_I64);
    c.multi_axis = impl::has_feature(d, RC_FEATURE_MULTI_AXIS);
    c.axes_dims = c.multi_axis && impl::has_feature(d, RC_FEATURE_AXES_DIMS);
    return c;
  }
};

// log-uniform double in [lo, hi].
inline rc::Gen<double> log_uniform(double lo, double hi) {
  return rc::gen::map(rc::gen::inRange<int>(0, 1 << 20), [lo, hi](int u) {
    return lo * std::pow(hi / lo, u / double(1 << 20));
  });
}

// A spec the constraints allow: every even head_dim (not only powers of two), rotary_dim ≤
// head_dim, both layouts, base 100 … 1e7, every scaling with valid parameters.
inline rc::Gen<RopeSpec> spec(const Constraints& k) {
  return rc::gen::exec([k] {
    RopeSpec s;
    std::vector<Layout> layouts;
    for (Layout l : {Layout::kHalfSplit, Layout::kInterleaved}) {
      if (k.layouts & RC_LAYOUT_BIT(static_cast<int>(l))) layouts.push_back(l);
    }
    RC_PRE(!layouts.empty());
    s.layout = *rc::gen::elementOf(layouts);
    std::vector<RopeType> types;
    for (int t = 0; t <= static_cast<int>(RopeType::kProportional); ++t) {
      if (k.scalings & RC_SCALING_BIT(t)) types.push_back(static_cast<RopeType>(t));
    }
    // No rope (kNone) is drawn only for a kernel that declares nothing else: its specs come from
    // the model configs (--hf-config: Llama 4's NoPE layers) and spec files, and every other
    // kernel's stream of generated specs stays what it was.
    if (types.empty() && (k.scalings & RC_SCALING_BIT(RC_ROPE_NONE))) types.push_back(RopeType::kNone);
    RC_PRE(!types.empty());
    s.type = *rc::gen::elementOf(types);

    // head_dim: a multiple of lcm(2, multiple) in range; small sizes are weighted up so
    // shrinking lands on readable cases.
    const int step = std::max(k.rotary_dim_multiple, k.head_dim_multiple % 2 ? 2 * k.head_dim_multiple : k.head_dim_multiple);
    const int lo = (std::max(k.head_dim_min, k.rotary_dim_min) + step - 1) / step;
    const int hi = std::min(k.head_dim_max, 512) / step;
    RC_PRE(lo <= hi);
    s.head_dim = step * *rc::gen::weightedOneOf<int>({
        {3, rc::gen::inRange(lo, std::min(hi, lo + 8) + 1)},
        {2, rc::gen::inRange(lo, hi + 1)},
        {1, rc::gen::just(std::clamp(128 / step, lo, hi))}});
    const int rmax = std::min(s.head_dim, k.rotary_dim_max) / k.rotary_dim_multiple;
    const int rmin = (k.rotary_dim_min + k.rotary_dim_multiple - 1) / k.rotary_dim_multiple;
    RC_PRE(rmin <= rmax);
    s.rotary_dim = k.rotary_dim_multiple *
                   *rc::gen::weightedOneOf<int>({{3, rc::gen::just(rmax)}, {1, rc::gen::inRange(rmin, rmax + 1)}});
    if (s.type == RopeType::kProportional) {  // rotate_half over the whole head
      RC_PRE(s.head_dim <= k.rotary_dim_max && s.head_dim % k.rotary_dim_multiple == 0);
      s.rotary_dim = s.head_dim;
    }
    if ((s.type == RopeType::kNtk || s.type == RopeType::kDynamic) && s.rotary_dim < 4) {
      RC_PRE(rmax * k.rotary_dim_multiple >= 4);
      s.rotary_dim = rmax * k.rotary_dim_multiple;
    }
    s.base = *rc::gen::weightedOneOf<double>({{3, rc::gen::element(1e4, 5e5, 1e6)}, {2, log_uniform(100, 1e7)}});

    // Mostly short contexts (kernels build a cos/sin table per spec, and the tests build
    // thousands of specs), sometimes a long one; positions are drawn independently of it.
    const int64_t L0 = *rc::gen::weightedOneOf<int64_t>(
        {{6, rc::gen::element<int64_t>(256, 1024, 2048, 4096)}, {1, rc::gen::element<int64_t>(8192, 32768)}});
    switch (s.type) {
      case RopeType::kDefault:
        s.max_position_embeddings = L0;
        break;
      case RopeType::kLinear:
        s.factor = *rc::gen::weightedOneOf<double>({{3, rc::gen::element(2.0, 4.0, 8.0)}, {1, log_uniform(0.25, 64)}});
        s.max_position_embeddings = L0;
        break;
      case RopeType::kNtk:
        s.factor = *log_uniform(1, 64);
        s.max_position_embeddings = L0;
        break;
      case RopeType::kDynamic:
        s.factor = *log_uniform(1, 16);
        s.max_position_embeddings = L0;
        s.seq_len = *rc::gen::element<int64_t>(L0 / 2, L0 - 1, L0, L0 + 1, 4 * L0, 64 * L0);
        break;
      case RopeType::kYarn:
        s.factor = *rc::gen::weightedOneOf<double>({{3, rc::gen::element(4.0, 16.0, 32.0, 40.0)}, {1, log_uniform(1.5, 64)}});
        s.original_max_position_embeddings = L0;
        s.max_position_embeddings = L0 * *rc::gen::element<int64_t>(1, 2, 4);
        s.beta_fast = *rc::gen::element(32.0, 16.0, 64.0);
        s.beta_slow = *rc::gen::element(1.0, 2.0, 0.5);
        s.truncate = *rc::gen::element(true, true, false);
        if (*rc::gen::element(0, 0, 1)) {
          s.mscale = *rc::gen::element(1.0, 0.707);
          s.mscale_all_dim = *rc::gen::element(0.0, 1.0, 0.8);
        }
        if (*rc::gen::element(0, 0, 0, 1)) s.attention_factor = *log_uniform(0.5, 2);
        break;
      case RopeType::kLlama3:
        s.factor = *rc::gen::element(8.0, 32.0, 4.0);
        s.original_max_position_embeddings = *rc::gen::element(int64_t{8192}, int64_t{4096}, int64_t{L0});
        s.low_freq_factor = *rc::gen::element(1.0, 2.0);
        s.high_freq_factor = s.low_freq_factor + *rc::gen::element(3.0, 1.0, 0.0);  // 0: Llama 4
        s.max_position_embeddings = s.original_max_position_embeddings;
        break;
      case RopeType::kLongrope: {
        s.original_max_position_embeddings = L0;
        s.max_position_embeddings = L0 * *rc::gen::element<int64_t>(2, 8, 32);
        s.factor = static_cast<double>(s.max_position_embeddings / L0);
        s.seq_len = *rc::gen::element(int64_t{L0 - 1}, int64_t{L0}, int64_t{L0 + 1}, int64_t{L0 / 2}, int64_t{s.max_position_embeddings});
        // Factors exact in binary32 (as HF stores them), growing with the pair index.
        for (int j = 0; j < s.pairs(); ++j) {
          s.short_factor.push_back(1.0 + (*rc::gen::inRange(0, 64)) / 32.0);
          s.long_factor.push_back(1.0 + (*rc::gen::inRange(0, 64 * 32)) / 32.0);
        }
        if (*rc::gen::element(0, 0, 0, 1)) s.attention_factor = *log_uniform(0.5, 2);
        break;
      }
      case RopeType::kProportional:
        // Gemma 4's global layers: a quarter of the pairs turn, factor 1; any share, linear s too.
        s.factor = *rc::gen::weightedOneOf<double>({{3, rc::gen::just(1.0)}, {1, rc::gen::element(2.0, 8.0, 0.5)}});
        s.rope_angles = *rc::gen::weightedOneOf<int>(
            {{3, rc::gen::just(std::max(1, s.pairs() / 4))}, {1, rc::gen::inRange(1, s.pairs() + 1)}});
        s.max_position_embeddings = L0;
        break;
      case RopeType::kNone:  // the identity: the model's geometry, nothing else
        s.max_position_embeddings = L0;
        break;
    }
    // M-RoPE (a kernel declaring RC_FEATURE_MULTI_AXIS; drawn only for it, so other kernels'
    // streams are what they were): a quarter of the specs, 3 axes mostly (Qwen-VL's t, h, w),
    // chunked (qwen2_vl) or interleaved (qwen3_vl), over any of the 1-D variants above.
    if (k.multi_axis && s.type != RopeType::kNone && s.pairs() >= 4 && *rc::gen::inRange(0, 4) == 0) {
      const int n = std::min(s.pairs() / 2, *rc::gen::weightedOneOf<int>({{4, rc::gen::just(3)}, {1, rc::gen::element(2, 4)}}));
      s.mrope_interleaved = *rc::gen::element(false, true);
      s.mrope_section.assign(static_cast<size_t>(n), 1);
      int rest = s.pairs() - n;
      for (int a = n - 1; a >= 1 && rest > 0; --a) {
        // Interleaved: axis a's pairs are a, a + n, ... below pairs, so at most (pairs - a + n - 1) / n.
        const int room = s.mrope_interleaved ? (s.pairs() - a + n - 1) / n - 1 : rest;
        const int more = *rc::gen::inRange(0, std::min(room, rest) + 1);
        s.mrope_section[static_cast<size_t>(a)] += more;
        rest -= more;
      }
      s.mrope_section[0] += rest;  // axis 0 takes the rest (every index no other axis holds)
    }
    // N-D RoPE (a kernel declaring RC_FEATURE_AXES_DIMS; drawn only for it): a quarter of the
    // default-frequency specs that are not M-RoPE, 2 axes mostly (a ViT's h, w), sometimes 3
    // (FLUX's frame, row, column), per axis (FLUX, the Qwen2-VL ViT) or dealt (Pixtral: equal
    // widths).
    if (k.axes_dims && s.type == RopeType::kDefault && s.mrope_section.empty() && s.pairs() >= 2 &&
        *rc::gen::inRange(0, 4) == 0) {
      const int n = std::min(s.pairs(), *rc::gen::element(2, 2, 3));
      s.axes_dealt = s.pairs() % n == 0 && *rc::gen::element(false, true);
      s.axes_dims.assign(static_cast<size_t>(n), 2);
      int rest = s.pairs() - n;  // pairs beyond one per axis
      if (s.axes_dealt) {
        for (int& w : s.axes_dims) w = s.rotary_dim / n;
        rest = 0;
      }
      for (int a = n - 1; a >= 1 && rest > 0; --a) {
        const int more = *rc::gen::inRange(0, rest + 1);
        s.axes_dims[static_cast<size_t>(a)] += 2 * more;
        rest -= more;
      }
      s.axes_dims[0] += 2 * rest;
    }
    validate(s);  // a generator bug must not look like a kernel bug
    return s;
  });
}

// A position biased to design.md's edge positions (within max), else log-uniform up to max.
inline rc::Gen<int64_t> position(const RopeSpec& s, int64_t max_position) {
  std::vector<int64_t> edges = edge_positions(s, max_position);
  return rc::gen::weightedOneOf<int64_t>({
      {4, rc::gen::elementOf(edges)},
      {3, rc::gen::map(log_uniform(1, static_cast<double>(max_position)), [max_position](double v) {
         return std::min<int64_t>(max_position, static_cast<int64_t>(v));
       })},
      {1, rc::gen::inRange<int64_t>(0, std::min<int64_t>(max_position, 1 << 16) + 1)}});
}

// One input value, rounded to `dtype`: normal-ish, uniform, wide exponent range,
// subnormal, ±0, large (but far enough from overflow that x0·c − x1·s cannot overflow).
inline rc::Gen<double> value(int32_t dtype) {
  const double big = largest_finite(dtype) / 64;
  const double tiny = smallest_normal(dtype);
  // Exponents for the wide-range branch stay within [tiny, big] of the dtype.
  const int e_lo = std::max(-60, std::ilogb(tiny));
  const int e_hi = std::min(60, std::ilogb(big) - 1);
  return rc::gen::map(
      rc::gen::weightedOneOf<double>({
          {8, rc::gen::map(rc::gen::inRange(-(1 << 24), 1 << 24), [](int v) { return v / double(1 << 22); })},
          {2, rc::gen::map(rc::gen::tuple(rc::gen::inRange(1 << 20, 1 << 21), rc::gen::inRange(e_lo, e_hi + 1),
                                          rc::gen::element(1.0, -1.0)),
                           [](const std::tuple<int, int, double>& t) {
                             return std::get<2>(t) * std::ldexp(std::get<0>(t), std::get<1>(t) - 20);
                           })},
          {1, rc::gen::map(rc::gen::inRange(1, 1 << 10), [tiny](int m) { return tiny * m / 1024.0; })},
          {1, rc::gen::element(0.0, -0.0)},
          {1, rc::gen::map(rc::gen::tuple(log_uniform(big / 1e6, big), rc::gen::element(1.0, -1.0)),
                           [](const std::tuple<double, double>& t) { return std::get<0>(t) * std::get<1>(t); })},
      }),
      [dtype](double v) { return round_to_dtype(v, dtype); });
}

// The rotary offsets worth trying for a spec: 0; MLA's, head_dim − rotary_dim (q = [nope | pe],
// rope on the last qk_rope_head_dim dims: deepseek-ai/DeepSeek-V3 inference/model.py, MLA.forward,
// `q_nope, q_pe = torch.split(q, [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1);
// q_pe = apply_rotary_emb(q_pe, freqs_cis)` — interleaved pairs, 128 nope + 64 rope dims); and
// odd ones (a kernel that assumes an aligned or even offset).  Only 0 when the spec rotates the
// whole head.
inline std::vector<int32_t> rotary_offsets(const RopeSpec& s) {
  const int32_t room = s.head_dim - s.rotary_dim;
  std::vector<int32_t> out = {0};
  if (room > 0) {
    out.push_back(room);
    out.push_back(1);
    if (room > 2) out.push_back(room % 2 ? room - 2 : room - 1);  // odd, near the end
  }
  return out;
}

// A Case for a given spec: 1..max_tokens tokens at edge-biased positions, 1..max_heads
// heads (odd counts included), optional padding, input values, Δ, k, poison; and for an ABI 2
// kernel declaring them, negative positions, inverse calls, rotary offsets, thread hints.
inline rc::Gen<Case> case_with_spec(const RopeSpec& s, const Constraints& k) {
  return rc::gen::exec([s, k] {
    Case c;
    c.spec = s;
    const int n_tokens = *rc::gen::weightedOneOf<int>({{3, rc::gen::just(2)}, {2, rc::gen::inRange(1, k.max_tokens + 1)}});
    for (int i = 0; i < n_tokens; ++i) c.positions.push_back(*position(c.spec, k.max_position));
    // q and k together (GQA: k heads divide q heads; MQA: one) where the kernel takes them,
    // as a packed qkv view or in buffers of their own.
    if (k.qk && (!k.q_only || *rc::gen::element(false, true))) {
      const int nq = *rc::gen::inRange(1, k.max_heads + 1);
      std::vector<int> divisors;
      for (int d = 1; d <= nq; ++d) {
        if (nq % d == 0) divisors.push_back(d);
      }
      c.n_kv_heads = *rc::gen::elementOf(divisors);
      c.n_heads = nq + c.n_kv_heads;
      c.separate_kv = *rc::gen::element(false, true);
    } else {
      c.n_heads = *rc::gen::inRange(1, k.max_heads + 1);
    }
    if (*rc::gen::element(0, 0, 1)) {
      c.head_pad = *rc::gen::inRange(0, 8);
      c.token_pad = *rc::gen::inRange(0, 8);
    }
    const size_t n = static_cast<size_t>(c.n_tokens() * c.n_heads * c.spec.head_dim);
    c.x = *rc::gen::container<std::vector<double>>(n, value(k.in_dtype));
    c.shift = *rc::gen::element<int64_t>(16, 1024, 8192, 32768, 131056, int64_t{1} << 20, int64_t{1} << 30);
    c.scale_exponent = *rc::gen::element(1, -1, 2, -3);
    c.poison = *rc::gen::inRange<int64_t>(0, static_cast<int64_t>(n));
    // ABI 2 knobs: drawn only for a kernel that declares them, so an ABI 1 kernel's cases
    // (and their seeds' streams) are what they were.
    if (k.negative_positions) {
      for (int64_t& t : c.positions) {
        if (t > 0 && *rc::gen::element(false, false, true)) t = -t;  // down to −max_position
      }
    }
    if (k.inverse) c.inverse = *rc::gen::element(false, true, true);
    if (k.rotary_offset) c.rotary_offset = *rc::gen::elementOf(rotary_offsets(c.spec));
    if (k.threads) c.n_threads = *rc::gen::element(0, 1, 2, 4);
    if (k.both_position_dtypes) c.position_dtype = *rc::gen::element(RC_DTYPE_I64, RC_DTYPE_I32);
    // A decode step of an engine: many sequences, one new token each, at unrelated positions
    // (the dispatch branch of a fused kernel for n_tokens > 1 with scattered positions).
    if (k.abi2 && *rc::gen::inRange(0, 6) == 0) {
      const int more = *rc::gen::inRange(8, 64 - static_cast<int>(c.n_tokens()) + 1);
      const size_t per_token = static_cast<size_t>(c.n_heads * c.spec.head_dim);
      for (int i = 0; i < more; ++i) {
        int64_t t = *position(c.spec, k.max_position);
        if (k.negative_positions && t > 0 && *rc::gen::element(false, false, true)) t = -t;
        c.positions.push_back(t);
        const std::vector<double> row = *rc::gen::container<std::vector<double>>(per_token, value(k.in_dtype));
        c.x.insert(c.x.end(), row.begin(), row.end());
      }
    }
    // Positions per axis for a multi-axis spec, two cases in three (else text tokens): each axis
    // small (a patch's row or column, a frame) or edge-biased, independently, so large t with
    // small h/w and the reverse both come up.
    if (c.spec.n_axes() > 1 && *rc::gen::element(false, true, true)) {
      for (int a = 1; a < c.spec.n_axes(); ++a) {
        std::vector<int64_t> row;
        for (size_t i = 0; i < c.positions.size(); ++i) {
          row.push_back(*rc::gen::weightedOneOf<int64_t>(
              {{2, rc::gen::inRange<int64_t>(0, std::min<int64_t>(k.max_position, 64) + 1)}, {1, position(c.spec, k.max_position)}}));
        }
        c.axis_positions.push_back(std::move(row));
      }
      if (*rc::gen::element(false, true)) {  // axis 0 small too (an image right after a short prompt)
        for (int64_t& t : c.positions) t = std::abs(t) % 64;
      }
    }
    return c;
  });
}

// A whole Case for the constraints, spec included.
inline rc::Gen<Case> case_for(const Constraints& k) {
  return rc::gen::mapcat(spec(k), [k](const RopeSpec& s) { return case_with_spec(s, k); });
}

}  // namespace ropecheck::props::gen

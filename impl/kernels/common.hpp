// Shared pieces of the built-in kernels: argument checks against the descriptor, the
// bf16/f16 conversions (our own, round-to-nearest-even, NaN preserved, no hardware
// dependency), the exact cos/sin row of the position-exact kernels, and the scalar rotation
// of one head given its cos/sin row.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "../ropecheck_kernel.h"
#include "dd.hpp"
#include "recipe.hpp"

namespace ropecheck::impl {

constexpr int64_t kPow2_53 = int64_t{1} << 53;
constexpr int kMaxPairs = 512;  // rotary_dim <= 1024: per-token rows live on the stack

// Checks a call against the kernel's descriptor: shape, strides, pointers, placement and
// every position (before anything is written).  Returns an rc_status.
int check_call(const rc_kernel_desc& desc, const rc_spec* spec, const int64_t* positions,
               int64_t n_tokens, int64_t n_heads, int64_t token_stride, int64_t head_stride,
               const void* in, const void* out);

// ---- storage conversions -------------------------------------------------------------
inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline float bf16_to_f32(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: keep sign and top payload, force quiet
    return static_cast<uint16_t>((u >> 16) | 0x0040u);
  }
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even; overflows to inf
  return static_cast<uint16_t>(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// ---- position-exact angles -----------------------------------------------------------
// Frequencies in revolutions per position, f_j = theta_j / (2 pi), in double-double, and
// the attention factor.  exact_row reduces t*f_j mod 1 exactly enough for t <= 2^53 (the
// product t*f_hi is split error-free with an FMA), so the only angle error left is the
// double rounding of the reduced angle.
struct ExactAngles {
  int pairs = 0;
  std::vector<double> f_hi, f_lo;
  double attention = 1.0;
};
int make_exact_angles(const rc_spec& spec, ExactAngles* out);
// Every field of the spec, the factors themselves in place of their pointers: equal keys mean
// equal specs (field by field: a struct copy need not preserve its padding bytes).  The key of
// the caches of prepared specs (make_exact_angles, the fuzzers).
std::string spec_key(const rc_spec& spec);
// Reduced angle in revolutions, in [-0.5, 0.5], for 0 <= t <= 2^53.
inline double reduce_revolutions(double t, double f_hi, double f_lo) {
  const double p = t * f_hi;
  const double e = std::fma(t, f_hi, -p);  // t*f_hi = p + e exactly
  double r = p - std::nearbyint(p);        // exact: the fraction bits of p
  r += e + t * f_lo;
  return r - std::nearbyint(r);
}
// c[j] = a cos(2 pi r_j), s[j] = a sin(2 pi r_j), computed in double, rounded once to float.
void exact_row(const ExactAngles& angles, int64_t t, float* c, float* s);

// ---- rotation of one head (scalar) ---------------------------------------------------
// Storage policy: load/store one element as float.
struct F32Store {
  using type = float;
  static float load(float v) { return v; }
  static float store(float v) { return v; }
};
struct BF16Store {
  using type = uint16_t;
  static float load(uint16_t v) { return bf16_to_f32(v); }
  static uint16_t store(float v) { return f32_to_bf16(v); }
};
struct F16Store {
  using type = uint16_t;
  static float load(uint16_t v) { return f16_to_f32(v); }
  static uint16_t store(float v) { return f32_to_f16(v); }
};

// y = R(x) for one head with the given cos/sin row (already scaled by a).  in == out allowed.
template <class Store, class Real = float>
void rotate_head(const rc_spec& spec, const Real* c, const Real* s,
                 const typename Store::type* x, typename Store::type* y) {
  const int pairs = spec.rotary_dim / 2;
  const bool inter = spec.layout == RC_LAYOUT_INTERLEAVED;
  for (int j = 0; j < pairs; ++j) {
    const int i0 = inter ? 2 * j : j;
    const int i1 = inter ? 2 * j + 1 : j + pairs;
    const Real x0 = Store::load(x[i0]), x1 = Store::load(x[i1]);
    const Real y0 = x0 * c[j] - x1 * s[j];
    const Real y1 = x0 * s[j] + x1 * c[j];
    y[i0] = Store::store(y0);
    y[i1] = Store::store(y1);
  }
  if (x != y) {
    for (int i = spec.rotary_dim; i < spec.head_dim; ++i) y[i] = x[i];  // pass-through
  }
}

// Element strides of one tensor of a call: input and output (ABI 1: the same).
struct Strides {
  int64_t token, head, out_token, out_head;
};

// Loops over tokens and heads; token_row(k, c, s, &cr, &sr) gives token k's cos/sin row (in c, s,
// or pointing cr/sr at a cached one).
template <class Store, class Real = float, class TokenRowFn>
void rotate_tokens(const rc_spec& spec, int64_t n_tokens, int64_t n_heads, Strides st, const void* in,
                   void* out, TokenRowFn&& token_row) {
  using E = typename Store::type;
  Real c[kMaxPairs], s[kMaxPairs];
  const E* x = static_cast<const E*>(in);
  E* y = static_cast<E*>(out);
  for (int64_t k = 0; k < n_tokens; ++k) {
    const Real* cr = c;
    const Real* sr = s;
    token_row(k, c, s, &cr, &sr);
    for (int64_t h = 0; h < n_heads; ++h) {
      rotate_head<Store, Real>(spec, cr, sr, x + k * st.token + h * st.head, y + k * st.out_token + h * st.out_head);
    }
  }
}

// Loops over tokens and heads; Row(t, c, s) fills the token's cos/sin row.
template <class Store, class RowFn>
void rotate_all(const rc_spec& spec, const int64_t* positions, int64_t n_tokens,
                int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
                void* out, RowFn&& row) {
  rotate_tokens<Store>(spec, n_tokens, n_heads, Strides{token_stride, head_stride, token_stride, head_stride}, in, out,
                       [&](int64_t k, float* c, float* s, const float** cr, const float** sr) {
                         row(positions[k], c, s, cr, sr);
                       });
}

// ---- ABI 2 calls of the built-in kernels ---------------------------------------------
// The ABI 2 fields of a built-in descriptor (after `apply`): q-only calls with int64 positions,
// its own cos/sin, positions per axis (RC_FEATURE_MULTI_AXIS: M-RoPE, and N-D RoPE with
// RC_FEATURE_AXES_DIMS); apply2 checks with check_call2.
#define RC_BUILTIN_ABI2_FIELDS(APPLY2) \
  RC_FEATURE_Q_ONLY | RC_FEATURE_MULTI_AXIS | RC_FEATURE_AXES_DIMS, RC_POSITIONS_I64, RC_CACHE_NONE, 0, 0.0, nullptr, APPLY2
// The axis of every pair of a multi-axis spec (rc_spec.n_axes > 1: M-RoPE, N-D RoPE), by the
// rule of RopeSpec::axis_of_pair (chunked: mrope_section's runs; interleaved: pair j is axis
// a >= 1 when j % n == a and j < n * s_a, else axis 0; N-D: axes_dims[a]/2 consecutive pairs
// each).  Returns RC_ERR_SPEC for sections or widths that do not cover the pairs.  1-D specs:
// every pair axis 0.
constexpr int kMaxAxes = 8;
int pair_axes(const rc_spec& spec, int8_t axis[kMaxPairs]);
inline int axes_of(const rc_spec& spec) { return spec.n_axes > 1 ? spec.n_axes : 1; }

// Checks an apply2 call for a built-in kernel that declares q-only calls, int64 positions, no
// cache and RC_FEATURE_MULTI_AXIS: every other knob refused with a reason, then the spec, shape,
// strides (input and output), placement and every position of every axis as check_call does.
int check_call2(const rc_kernel_desc& desc, const rc_spec* spec, const rc_call* call);

// apply (ABI 1) and apply2 (ABI 2: q alone, positions per axis) of a built-in kernel, each
// checking the call first (check_call, check_call2), given the kernel's body
//   rotate(spec, handle, n_tokens, n_heads, Strides, in, out, token_rows_of),
// where token_rows_of(row) turns the kernel's position-row function row(t, c, s, &cr, &sr) into
// the call's token-row function: row at positions[k] (ABI 1), or TokenRows (below; Real is the
// rows' element type).
template <class Rotate>
int builtin_apply(const rc_kernel_desc& desc, const rc_spec* spec, void* handle, const int64_t* positions,
                  int64_t n_tokens, int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
                  void* out, Rotate&& rotate);
template <class Real = float, class Rotate>
int builtin_apply2(const rc_kernel_desc& desc, const rc_spec* spec, void* handle, const rc_call* call, Rotate&& rotate);

// Token k's cos/sin row for an apply2 call: row(t, c, s, &cr, &sr) at the token's position, or
// for a multi-axis spec (positions axis-major) pair j from the row at its axis's position (one
// row when every axis has the same position: a text token).  A composed row is written into the
// caller's c, s up to the SIMD padding (cos 1, sin 0 past the last pair): every caller's buffers
// hold at least kMaxPairs, a multiple of 16.
template <class RowFn, class Real = float>
class TokenRows {
 public:
  TokenRows(const rc_spec& spec, const int64_t* positions, int64_t n_tokens, RowFn& row)
      : positions_(positions), n_tokens_(n_tokens), n_axes_(axes_of(spec)), pairs_(spec.rotary_dim / 2), row_(row) {
    if (n_axes_ > 1) pair_axes(spec, axis_);  // checked by check_call2
  }
  void operator()(int64_t k, Real* c, Real* s, const Real** cr, const Real** sr) {
    bool text = true;
    for (int a = 1; a < n_axes_; ++a) text = text && positions_[a * n_tokens_ + k] == positions_[k];
    if (text) {
      row_(positions_[k], c, s, cr, sr);
      return;
    }
    const Real* ac[kMaxAxes];
    const Real* as[kMaxAxes];
    for (int a = 0; a < n_axes_; ++a) {
      ac[a] = ca_[a];
      as[a] = sa_[a];
      row_(positions_[a * n_tokens_ + k], ca_[a], sa_[a], &ac[a], &as[a]);
    }
    for (int j = 0; j < pairs_; ++j) {
      c[j] = ac[axis_[j]][j];
      s[j] = as[axis_[j]][j];
    }
    for (int j = pairs_; j < (pairs_ + 15) / 16 * 16; ++j) c[j] = 1, s[j] = 0;
    *cr = c;
    *sr = s;
  }

 private:
  const int64_t* positions_;
  int64_t n_tokens_;
  int n_axes_, pairs_;
  RowFn& row_;
  int8_t axis_[kMaxPairs] = {};
  // A row fill may write the padding of its buffers (a SIMD fill): room for it.
  Real ca_[kMaxAxes][kMaxPairs + 16], sa_[kMaxAxes][kMaxPairs + 16];
};

template <class Rotate>
int builtin_apply(const rc_kernel_desc& desc, const rc_spec* spec, void* handle, const int64_t* positions,
                  int64_t n_tokens, int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
                  void* out, Rotate&& rotate) {
  if (int rc = check_call(desc, spec, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
      rc != RC_OK || n_tokens == 0 || n_heads == 0) {
    return rc;
  }
  return rotate(spec, handle, n_tokens, n_heads, Strides{token_stride, head_stride, token_stride, head_stride}, in, out,
                [positions](auto& row) {
                  return [&row, positions](int64_t k, auto* c, auto* s, auto cr, auto sr) { row(positions[k], c, s, cr, sr); };
                });
}

template <class Real, class Rotate>
int builtin_apply2(const rc_kernel_desc& desc, const rc_spec* spec, void* handle, const rc_call* call, Rotate&& rotate) {
  if (int rc = check_call2(desc, spec, call); rc != RC_OK || call->n_tokens == 0 || call->q.n_heads == 0) return rc;
  const rc_tensor& q = call->q;
  const auto* positions = static_cast<const int64_t*>(call->positions);
  const int64_t n_tokens = call->n_tokens;
  return rotate(spec, handle, n_tokens, q.n_heads, Strides{q.token_stride, q.head_stride, q.out_token_stride, q.out_head_stride},
                q.in, q.out, [spec, positions, n_tokens](auto& row) {
                  return TokenRows<std::remove_reference_t<decltype(row)>, Real>(*spec, positions, n_tokens, row);
                });
}

// Cos/sin cache for positions [0, len), rows of `pairs` cos then `pairs` sin: what real
// engines keep per model.  A row is filled the first time a call needs it, by the same
// function that serves positions beyond the cache, so prepare costs no sin/cos, memory grows
// with the positions actually used (blocks of kBlockRows rows), and a cached, a just-filled and
// an uncached position give bit-identical results.  Safe under the ABI's rule that apply may
// run on several threads with one handle: a thread claims an empty row (0 -> 1), writes it and
// publishes it (-> 2, release); a reader uses the row only after seeing 2 (acquire), and a
// thread that finds a row being written computes its own copy.
struct ExactTable {
  static constexpr int64_t kBlockRows = 64;
  ExactAngles angles;
  int64_t len = 0;
  std::unique_ptr<std::atomic<float*>[]> blocks;   // ceil(len / kBlockRows), each allocated on first use
  std::unique_ptr<std::atomic<uint8_t>[]> filled;  // per row: 0 empty, 1 being written, 2 ready

  ExactTable() = default;
  ExactTable(const ExactTable&) = delete;
  ExactTable& operator=(const ExactTable&) = delete;
  ~ExactTable();
  // Sets len; no row is allocated or computed yet.
  void allocate(int64_t length);
  // Row t into *cr/*sr: the cached one, or fill(t, c, s) into the caller's buffers (each
  // holds at least `pairs` floats; a SIMD fill may also write their padding), then cached
  // when 0 <= t < len.
  template <class Fill>
  void row(int64_t t, float* c, float* s, const float** cr, const float** sr, Fill fill) const {
    const size_t pairs = static_cast<size_t>(angles.pairs);
    const bool cacheable = t >= 0 && t < len && filled;
    if (cacheable && filled[t].load(std::memory_order_acquire) == 2) {
      const float* r = row_in_block(t, blocks[t / kBlockRows].load(std::memory_order_relaxed));
      *cr = r;
      *sr = r + pairs;
      return;
    }
    fill(t, c, s);
    *cr = c;
    *sr = s;
    uint8_t empty = 0;
    if (cacheable && filled[t].compare_exchange_strong(empty, 1, std::memory_order_acquire)) {
      float* block = block_of(t);
      if (block == nullptr) {  // out of memory: serve the row uncached
        filled[t].store(0, std::memory_order_relaxed);
        return;
      }
      float* r = row_in_block(t, block);
      std::memcpy(r, c, pairs * sizeof(float));
      std::memcpy(r + pairs, s, pairs * sizeof(float));
      filled[t].store(2, std::memory_order_release);
    }
  }

 private:
  float* row_in_block(int64_t t, float* block) const {
    return block + static_cast<size_t>(t % kBlockRows) * 2 * static_cast<size_t>(angles.pairs);
  }
  float* block_of(int64_t t) const;  // allocates the block of row t if needed; nullptr if it cannot
};
// Table length for a spec: the model's context (max_position_embeddings, L0, seq_len),
// capped at 2^16 positions and 64 MiB.
int64_t table_length(const rc_spec& spec);

// prepare/release for a kernel whose handle is a `State` built by build(spec, State*).
template <class State, class Build>
int prepare_state(const rc_spec* spec, void** handle, Build build) {
  if (spec == nullptr || handle == nullptr) return RC_ERR_SPEC;
  try {
    auto st = std::make_unique<State>();
    if (int rc = build(*spec, st.get()); rc != RC_OK) return rc;
    *handle = st.release();
    return RC_OK;
  } catch (const std::bad_alloc&) {
    return RC_ERR_ALLOC;
  } catch (...) {
    return RC_ERR_INTERNAL;
  }
}
template <class State>
void release_state(void* handle) {
  delete static_cast<State*>(handle);
}

}  // namespace ropecheck::impl

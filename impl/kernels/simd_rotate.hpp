// Highway (runtime-dispatched: AVX-512, AVX2, baseline) pieces of simd_table_f32 and
// simd_sincos_f32: the rotation of all heads of one token with one cos/sin row, and the two
// ways of computing a row (SLEEF double sincos of the exactly reduced angle, or SLEEF float
// sincos of that angle rounded to float).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common.hpp"

namespace ropecheck::impl {

// Rows are padded: buffers passed as c/s hold at least kRowPad-rounded-up `pairs` floats.
constexpr int kRowPad = 16;
constexpr int padded_pairs(int pairs) { return (pairs + kRowPad - 1) / kRowPad * kRowPad; }

// y_h = R(x_h) for h < n_heads (head h at offset h*head_stride), fp32, FMA arithmetic:
// y0 = x0*c - fl(x1*s), y1 = x0*s + fl(x1*c).  x == y allowed.
// stream = true asks for non-temporal (streaming) stores of y: for large out-of-place calls
// the output is not re-read soon, and a normal store first reads every destination line into
// the cache (read-for-ownership), i.e. 3 bytes of memory traffic per 2 useful ones.  Used
// only where the alignment of y allows it (else normal stores); the values are identical.
// After the last streaming call the caller must call simd_stream_fence().
void simd_rotate_token(const rc_spec& spec, const float* c, const float* s, const float* x,
                       float* y, int64_t n_heads, int64_t head_stride, bool stream = false);
// Makes streaming stores globally ordered before later stores (sfence); call once per apply.
void simd_stream_fence();
// Output bytes from which an out-of-place apply streams its stores: far beyond a core's L2,
// where the output cannot stay cached for the caller anyway.  Below it, normal stores keep
// the result in cache for the next layer op.
constexpr int64_t kStreamMinBytes = int64_t{4} << 20;
// Whether an apply (elements of elem_bytes) streams its stores: out of place (in place, the lines were just read
// into the cache anyway) and at least kStreamMinBytes of output.
inline bool stream_output(const rc_spec& spec, int64_t n_tokens, int64_t n_heads,
                          const void* in, const void* out, size_t elem_bytes = sizeof(float)) {
  // In double: the product cannot overflow (zero strides allow huge counts).
  return in != out && static_cast<double>(n_tokens) * static_cast<double>(n_heads) *
                              static_cast<double>(spec.head_dim) * static_cast<double>(elem_bytes) >=
                          static_cast<double>(kStreamMinBytes);
}

// Every token of a call with simd_rotate_token: token_row(k, c, s, &cr, &sr) gives token k's row
// (buffers of kMaxPairs + kRowPad floats).  Output strides of their own (ABI 2) go head by head,
// with normal stores; the same arithmetic, so the same bits.
template <class TokenRowFn>
void simd_rotate_tokens(const rc_spec& spec, int64_t n_tokens, int64_t n_heads, Strides st, const void* in, void* out,
                        TokenRowFn&& token_row) {
  const float* x = static_cast<const float*>(in);
  float* y = static_cast<float*>(out);
  float c[kMaxPairs + kRowPad], s[kMaxPairs + kRowPad];
  const bool same = st.token == st.out_token && st.head == st.out_head;
  const bool stream = same && stream_output(spec, n_tokens, n_heads, in, out);
  for (int64_t k = 0; k < n_tokens; ++k) {
    const float* cr = c;
    const float* sr = s;
    token_row(k, c, s, &cr, &sr);
    if (same) {
      simd_rotate_token(spec, cr, sr, x + k * st.token, y + k * st.token, n_heads, st.head, stream);
    } else {
      for (int64_t h = 0; h < n_heads; ++h) {
        simd_rotate_token(spec, cr, sr, x + k * st.token + h * st.head, y + k * st.out_token + h * st.out_head, 1, 0);
      }
    }
  }
  if (stream) simd_stream_fence();
}

// 16-bit storage (bf16 or f16): the same rotation as rotate_head<BF16Store / F16Store>
// (common.hpp) -- load, convert to f32, y0 = fl(fl(x0*c) - fl(x1*s)), y1 = fl(fl(x0*s) +
// fl(x1*c)) with NO fused multiply-add (the scalar kernels are compiled without contraction),
// round to nearest even -- vectorized, with branch-free conversions.  The outputs are
// bit-identical to the scalar ones except for which NaN's payload propagates when both
// products of a pair are NaN (IEEE 754 leaves it open; in the scalar code it is whichever
// operand order GCC picked).  x == y allowed.  stream as for simd_rotate_token (full-vector
// streams if y is vector-aligned, else 16-byte pieces if it is 16-byte aligned, else normal
// stores).  bf16 loads 2N elements per vector of N u32 lanes and splits them into even (<< 16)
// and odd (& 0xFFFF0000) elements, with the row permuted to match once per token; f16 uses the
// F16C conversions where the target has them (AVX2, AVX-512), else the branch-free ones.
enum class Half16 { kBF16, kF16 };
// A streamed output run carried from one token to the next.  With a 16- but not 64-byte
// aligned y, the streamed path writes each aligned line whole, and the bytes of the token's
// last vector past its last line boundary would take plain stores -- on a line whose other
// bytes the next token writes with plain stores too: a read-for-ownership per token, and the
// store buffer, which drains in order, waits on it with the token's streams behind.  Given a
// run, the token leaves that vector pending here instead, and the next token, if its output
// starts where this one's ends (packed tokens), streams the line it shares with it whole.
// simd_half16_run_flush writes what is still pending (call it once after the last token).
struct Half16Run {
  alignas(64) uint16_t tail[32];  // the pending vector (64 bytes)
  uint16_t* pending = nullptr;    // where it belongs; nullptr: nothing pending
};
// Writes the pending vector's bytes past its last line boundary (the others are written).
inline void simd_half16_run_flush(Half16Run& run) {
  if (run.pending == nullptr) return;
  const size_t done = (64 - reinterpret_cast<uintptr_t>(run.pending) % 64) % 64;
  std::memcpy(reinterpret_cast<char*>(run.pending) + done, reinterpret_cast<const char*>(run.tail) + done, 64 - done);
  run.pending = nullptr;
}
void simd_rotate_token_16(Half16 kind, const rc_spec& spec, const float* c, const float* s,
                          const uint16_t* x, uint16_t* y, int64_t n_heads, int64_t head_stride,
                          bool stream = false, Half16Run* run = nullptr);
// The vector conversions of the kernels' loops alone, n elements (for the exhaustive test
// against the scalar ones).  Two documented differences, both for NaN only: f16 -> f32 with
// F16C makes a signalling NaN quiet; f32 -> bf16 has no NaN branch and is exact for the NaNs a
// rotation of bf16 inputs produces (quiet, low 16 bits zero), see simd_half16.cpp.
void simd_half16_to_f32(Half16 kind, const uint16_t* in, float* out, size_t n);
void simd_f32_to_half16(Half16 kind, const float* in, uint16_t* out, size_t n);
// Same values as exact_row (double sin/cos of the exactly reduced angle, times a, rounded
// once to float), vectorized; c and s must hold padded_pairs(pairs) floats.
void simd_exact_row(const ExactAngles& angles, int64_t t, float* c, float* s);
// The reduced angle rounded to float, SLEEF float sincos (1 ulp), times float(a) in float.
void simd_sincos_row(const ExactAngles& angles, int64_t t, float* c, float* s);
// Name of the Highway target chosen at runtime (e.g. "AVX3").
const char* simd_target_name();

}  // namespace ropecheck::impl

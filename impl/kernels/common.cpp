#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <mutex>
#include <string>

namespace ropecheck::impl {

namespace {
bool finite_pos(double v) { return std::isfinite(v) && v > 0; }
}  // namespace

int check_spec(const rc_spec& s) {
  if (s.rotary_dim < 2 || s.rotary_dim % 2 != 0 || s.head_dim < s.rotary_dim) return RC_ERR_SPEC;
  if (s.layout != RC_LAYOUT_HALF_SPLIT && s.layout != RC_LAYOUT_INTERLEAVED) return RC_ERR_SPEC;
  if (!std::isfinite(s.base) || !(s.base > 1.0)) return RC_ERR_SPEC;
  if (s.has_attention_factor && !finite_pos(s.attention_factor)) return RC_ERR_SPEC;
  if (is_nd(s)) {
    // N-D RoPE: default frequencies, 2..kMaxAxes axes of even widths >= 2 summing to
    // rotary_dim, every axis the same width when dealt.
    if (s.axes_dims == nullptr || s.n_axes > kMaxAxes || s.rope_type != RC_ROPE_DEFAULT) return RC_ERR_SPEC;
    int64_t sum = 0;
    for (int a = 0; a < s.n_axes; ++a) {
      const int32_t w = s.axes_dims[a];
      if (w < 2 || w % 2 != 0 || (s.axes_dealt && w != s.axes_dims[0])) return RC_ERR_SPEC;
      sum += w;
    }
    if (sum != s.rotary_dim) return RC_ERR_SPEC;
  }
  const int64_t l0 = effective_l0(s);
  switch (s.rope_type) {
    case RC_ROPE_DEFAULT:
      return RC_OK;
    case RC_ROPE_LINEAR:
      return finite_pos(s.factor) ? RC_OK : RC_ERR_SPEC;
    case RC_ROPE_NTK:
      return finite_pos(s.factor) && s.rotary_dim > 2 ? RC_OK : RC_ERR_SPEC;
    case RC_ROPE_DYNAMIC:
      return finite_pos(s.factor) && s.rotary_dim > 2 && s.max_position_embeddings > 0
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_YARN:
      return finite_pos(s.factor) && l0 > 0 && finite_pos(s.beta_fast) &&
                     finite_pos(s.beta_slow) && std::isfinite(s.mscale) &&
                     std::isfinite(s.mscale_all_dim)
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_LLAMA3:
      return finite_pos(s.factor) && l0 > 0 && finite_pos(s.low_freq_factor) &&
                     std::isfinite(s.high_freq_factor) &&
                     s.high_freq_factor >= s.low_freq_factor
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_LONGROPE: {
      if (!finite_pos(s.factor) || l0 <= 0 || s.n_factors != s.rotary_dim / 2) return RC_ERR_SPEC;
      if (s.short_factor == nullptr || s.long_factor == nullptr) return RC_ERR_SPEC;
      for (int j = 0; j < s.n_factors; ++j) {
        if (!finite_pos(s.short_factor[j]) || !finite_pos(s.long_factor[j])) return RC_ERR_SPEC;
      }
      return RC_OK;
    }
    case RC_ROPE_PROPORTIONAL:
      return finite_pos(s.factor) && s.rotary_dim == s.head_dim && s.rope_angles >= 1 &&
                     s.rope_angles <= s.rotary_dim / 2
                 ? RC_OK
                 : RC_ERR_SPEC;
    case RC_ROPE_NONE:  // no rope: theta = 0, nothing else read
      return RC_OK;
    default:
      return RC_ERR_SPEC;
  }
}

int check_call(const rc_kernel_desc& desc, const rc_spec* spec, const int64_t* positions,
               int64_t n_tokens, int64_t n_heads, int64_t token_stride, int64_t head_stride,
               const void* in, const void* out) {
  if (spec == nullptr) return RC_ERR_SPEC;
  if (spec->layout < 0 || spec->layout > 1 || !(desc.layouts & RC_LAYOUT_BIT(spec->layout)))
    return RC_ERR_SPEC;
  if (spec->rope_type < 0 || spec->rope_type > RC_ROPE_NONE ||
      !(desc.scalings & RC_SCALING_BIT(spec->rope_type)))
    return RC_ERR_SPEC;
  if (int st = check_spec(*spec); st != RC_OK) return st;
  const int32_t hd = spec->head_dim, rd = spec->rotary_dim;
  if (hd < desc.head_dim_min || hd > desc.head_dim_max || hd % desc.head_dim_multiple != 0 ||
      rd < desc.rotary_dim_min || rd > desc.rotary_dim_max ||
      rd % desc.rotary_dim_multiple != 0 || rd / 2 > kMaxPairs)
    return RC_ERR_SHAPE;
  if (n_tokens < 0 || n_heads < 0 || token_stride < 0 || head_stride < 0) return RC_ERR_SHAPE;
  if (n_tokens == 0 || n_heads == 0) return RC_OK;
  if (positions == nullptr || in == nullptr || out == nullptr) return RC_ERR_UNSUPPORTED;
  const uint32_t place = in == out ? RC_PLACE_IN_PLACE : RC_PLACE_OUT_OF_PLACE;
  if (!(desc.placement & place)) return RC_ERR_UNSUPPORTED;
  // The highest element touched must be addressable.
  int64_t a = 0, b = 0, extent = 0;
  if (__builtin_mul_overflow(n_tokens - 1, token_stride, &a) ||
      __builtin_mul_overflow(n_heads - 1, head_stride, &b) ||
      __builtin_add_overflow(a, b, &extent) || __builtin_add_overflow(extent, hd, &extent) ||
      extent > std::numeric_limits<int64_t>::max() / 8)
    return RC_ERR_SHAPE;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > desc.max_position) return RC_ERR_POSITION;
  }
  return RC_OK;
}

int pair_axes(const rc_spec& spec, int8_t axis[kMaxPairs]) {
  const int pairs = spec.rotary_dim / 2, n = axes_of(spec);
  if (pairs > kMaxPairs) return RC_ERR_SHAPE;
  for (int j = 0; j < pairs; ++j) axis[j] = 0;
  if (n == 1) return RC_OK;
  if (n > kMaxAxes) return RC_ERR_SPEC;
  if (is_nd(spec)) {
    // N-D RoPE: axis a holds the next axes_dims[a]/2 pairs.
    if (spec.axes_dims == nullptr) return RC_ERR_SPEC;
    int j = 0;
    for (int a = 0; a < n; ++a) {
      if (spec.axes_dims[a] < 2 || j + spec.axes_dims[a] / 2 > pairs) return RC_ERR_SPEC;
      for (int i = 0; i < spec.axes_dims[a] / 2; ++i) axis[j++] = static_cast<int8_t>(a);
    }
    return j == pairs ? RC_OK : RC_ERR_SPEC;
  }
  int64_t sum = 0;
  for (int a = 0; a < n; ++a) {
    if (spec.mrope_section[a] < 1) return RC_ERR_SPEC;
    sum += spec.mrope_section[a];
  }
  if (sum != pairs) return RC_ERR_SPEC;
  if (spec.mrope_interleaved) {
    // HF qwen3_vl apply_interleaved_mrope: freqs[..., a : 3*s_a : 3] from axis a >= 1.
    for (int a = 1; a < n; ++a) {
      if (int64_t{a} + int64_t{n} * (spec.mrope_section[a] - 1) >= pairs) return RC_ERR_SPEC;
      for (int64_t j = a; j < int64_t{n} * spec.mrope_section[a]; j += n) axis[j] = static_cast<int8_t>(a);
    }
    return RC_OK;
  }
  // HF qwen2_vl apply_multimodal_rotary_pos_emb: chunk i of mrope_section from axis i.
  int j = 0;
  for (int a = 0; a < n; ++a) {
    for (int i = 0; i < spec.mrope_section[a]; ++i) axis[j++] = static_cast<int8_t>(a);
  }
  return RC_OK;
}

namespace {
int refuse(const rc_call& call, int status, const char* why) {
  if (call.reason != nullptr && call.reason_size > 0) {
    std::snprintf(call.reason, static_cast<size_t>(call.reason_size), "%s", why);
  }
  return status;
}
}  // namespace

int check_call2(const rc_kernel_desc& desc, const rc_spec* spec, const rc_call* call) {
  if (call == nullptr || spec == nullptr) return RC_ERR_UNSUPPORTED;
  const rc_call& c = *call;
  if (c.struct_size < offsetof(rc_call, seq_len)) return refuse(c, RC_ERR_UNSUPPORTED, "rc_call older than ABI 2");
  if (c.k.in != nullptr) return refuse(c, RC_ERR_UNSUPPORTED, "q and k in one call not declared: call with q alone");
  if (c.position_dtype != RC_DTYPE_I64) return refuse(c, RC_ERR_UNSUPPORTED, "positions must be int64");
  if (c.cos != nullptr || c.sin != nullptr) return refuse(c, RC_ERR_UNSUPPORTED, "computes its own cos/sin: no cache");
  if (c.inverse != 0) return refuse(c, RC_ERR_UNSUPPORTED, "inverse rotation not declared");
  if (c.rotary_offset != 0) return refuse(c, RC_ERR_UNSUPPORTED, "rotary offset not declared");
  if (c.struct_size >= sizeof(rc_call) && c.seq_len != 0) {
    return refuse(c, RC_ERR_UNSUPPORTED, "a sequence length per call not declared");
  }
  int8_t axis[kMaxPairs];
  if (spec->rotary_dim / 2 <= kMaxPairs && pair_axes(*spec, axis) != RC_OK) {
    return refuse(c, RC_ERR_SPEC, is_nd(*spec) ? "axes_dims does not give every pair one axis"
                                               : "mrope_section does not give every pair one axis");
  }
  const rc_tensor& q = c.q;
  if (q.in == q.out && (q.token_stride != q.out_token_stride || q.head_stride != q.out_head_stride)) {
    return refuse(c, RC_ERR_UNSUPPORTED, "in place with output strides that differ from the input's");
  }
  const auto* positions = static_cast<const int64_t*>(c.positions);
  if (int rc = check_call(desc, spec, positions, c.n_tokens, q.n_heads, q.token_stride, q.head_stride, q.in, q.out);
      rc != RC_OK || c.n_tokens == 0 || q.n_heads == 0) {
    return rc;
  }
  if (int rc = check_call(desc, spec, positions, c.n_tokens, q.n_heads, q.out_token_stride, q.out_head_stride, q.in, q.out);
      rc != RC_OK) {
    return rc;
  }
  for (int64_t i = c.n_tokens; i < int64_t{axes_of(*spec)} * c.n_tokens; ++i) {
    if (positions[i] < 0 || positions[i] > desc.max_position) return RC_ERR_POSITION;
  }
  return RC_OK;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 0) {
    const float mag = static_cast<float>(m) * 0x1p-24f;  // exact: m < 2^10
    return bits_f32(f32_bits(mag) | sign);
  }
  if (e == 31) return bits_f32(sign | 0x7F800000u | (m << 13));  // inf, NaN payload kept
  return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

uint16_t f32_to_f16(float f) {
  const uint32_t u = f32_bits(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: inf
  if (a < 0x38800000u) {                       // below 2^-14: f16 subnormal or zero
    if (a <= 0x33000000u) return static_cast<uint16_t>(sign);  // <= 2^-25 ties to 0
    const uint32_t exp = a >> 23, mant = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - exp;  // value = mant * 2^(exp-150) = m * 2^-24
    uint32_t m = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (m & 1u))) ++m;
    return static_cast<uint16_t>(sign | m);
  }
  const uint32_t r = a - 0x38000000u;  // rebias 127 -> 15
  uint32_t h = r >> 13;
  const uint32_t rem = r & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry into the exponent is right
  return static_cast<uint16_t>(sign | h);
}

namespace {

int compute_exact_angles(const rc_spec& spec, ExactAngles* out) {
  Frequencies<dd> fr;
  if (int st = compute_frequencies<dd>(spec, &fr); st != RC_OK) return st;
  out->pairs = static_cast<int>(fr.theta.size());
  out->f_hi.resize(fr.theta.size());
  out->f_lo.resize(fr.theta.size());
  for (size_t j = 0; j < fr.theta.size(); ++j) {
    const dd f = fr.theta[j] * kInvTwoPi;
    out->f_hi[j] = f.hi;
    out->f_lo[j] = f.lo;
  }
  out->attention = static_cast<double>(fr.attention);
  return RC_OK;
}

}  // namespace

std::string spec_key(const rc_spec& s) {
  std::string key;
  const auto put = [&key](const auto& v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(s.head_dim), put(s.rotary_dim), put(s.base), put(s.layout), put(s.rope_type), put(s.factor);
  put(s.max_position_embeddings), put(s.original_max_position_embeddings), put(s.seq_len);
  put(s.beta_fast), put(s.beta_slow), put(s.mscale), put(s.mscale_all_dim);
  put(s.has_attention_factor), put(s.attention_factor), put(s.truncate);
  put(s.low_freq_factor), put(s.high_freq_factor), put(s.n_factors), put(s.rope_angles);
  const size_t n = s.n_factors > 0 ? static_cast<size_t>(s.n_factors) : 0;
  for (const double* f : {s.short_factor, s.long_factor}) {
    key.push_back(f != nullptr ? 1 : 0);
    if (f != nullptr) key.append(reinterpret_cast<const char*>(f), n * sizeof(double));
  }
  const int32_t axes = axes_of(s);
  put(axes);
  if (axes > 1) {
    put(s.mrope_interleaved);
    if (s.mrope_section != nullptr) key.append(reinterpret_cast<const char*>(s.mrope_section), static_cast<size_t>(axes) * sizeof(int32_t));
    if (is_nd(s) && s.axes_dims != nullptr) {
      put(s.axes_dealt);
      key.append(reinterpret_cast<const char*>(s.axes_dims), static_cast<size_t>(axes) * sizeof(int32_t));
    }
  }
  return key;
}

int make_exact_angles(const rc_spec& spec, ExactAngles* out) {
  // The position-exact kernels of this library share one recipe, and a process usually
  // prepares all of them for the same model in a row (the gate, the fuzzers): the last
  // result is kept and copied.
  static std::mutex mutex;
  static std::string last_key;
  static ExactAngles last;
  std::string key = spec_key(spec);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (key == last_key) {
      *out = last;
      return RC_OK;
    }
  }
  if (int st = compute_exact_angles(spec, out); st != RC_OK) return st;
  std::lock_guard<std::mutex> lock(mutex);
  last_key = std::move(key);
  last = *out;
  return RC_OK;
}

void exact_row(const ExactAngles& angles, int64_t t, float* c, float* s) {
  const double td = static_cast<double>(t);  // exact for t <= 2^53
  for (int j = 0; j < angles.pairs; ++j) {
    const double phi = reduce_revolutions(td, angles.f_hi[j], angles.f_lo[j]) * kTwoPi.hi;
    c[j] = static_cast<float>(std::cos(phi) * angles.attention);
    s[j] = static_cast<float>(std::sin(phi) * angles.attention);
  }
}

ExactTable::~ExactTable() {
  const int64_t n = (len + kBlockRows - 1) / kBlockRows;
  for (int64_t i = 0; blocks && i < n; ++i) delete[] blocks[i].load(std::memory_order_relaxed);
}

void ExactTable::allocate(int64_t length) {
  len = std::max<int64_t>(length, 0);
  blocks = std::make_unique<std::atomic<float*>[]>(static_cast<size_t>((len + kBlockRows - 1) / kBlockRows));
  filled = std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(len));  // value-initialised: 0
}

float* ExactTable::block_of(int64_t t) const {
  std::atomic<float*>& slot = blocks[t / kBlockRows];
  float* b = slot.load(std::memory_order_acquire);
  if (b != nullptr) return b;
  float* fresh = new (std::nothrow) float[static_cast<size_t>(kBlockRows) * 2 * static_cast<size_t>(angles.pairs)];
  if (fresh == nullptr) return nullptr;
  if (slot.compare_exchange_strong(b, fresh, std::memory_order_acq_rel)) return fresh;
  delete[] fresh;  // another thread installed the block first
  return b;
}

int64_t table_length(const rc_spec& spec) {
  int64_t len = std::max({spec.max_position_embeddings, effective_l0(spec), spec.seq_len,
                          int64_t{0}});
  len = std::min<int64_t>(len, int64_t{1} << 16);
  const int64_t row_bytes = int64_t{4} * spec.rotary_dim;
  if (row_bytes > 0) len = std::min<int64_t>(len, (int64_t{64} << 20) / row_bytes);
  return len;
}

}  // namespace ropecheck::impl

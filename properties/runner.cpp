#include "properties/runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "impl/abi.hpp"
#include "impl/isolation.hpp"
#include "impl/kernels/common.hpp"
#include "properties/cos_sin_cache.hpp"

namespace ropecheck::props {

namespace {

constexpr size_t kGuardBytes = 64;  // canary bytes before and after every buffer


// The first byte in [from, to) of `got` that differs from `before`; kNone if none.  memcmp
// first: this runs on every kernel call.
constexpr size_t kNone = static_cast<size_t>(-1);
size_t first_change(const unsigned char* got, const unsigned char* before, size_t from, size_t to) {
  if (from >= to || std::memcmp(got + from, before + from, to - from) == 0) return kNone;
  for (size_t i = from; i < to; ++i) {
    if (got[i] != before[i]) return i;
  }
  return kNone;
}

// Every buffer has guards before and after, and every byte outside the vectors (guards and
// stride padding) holds a pattern of its own: a function of the buffer's salt and the byte's
// offset.  The input and the output get different salts, so a kernel that copies input
// padding into the output's (ggml writing one element past each row with an odd head_dim)
// changes the output's bytes, where one shared canary value would hide it.
// Byte i of the pattern depends on the salt and i alone, so a pattern of n bytes is the
// first n bytes of any longer one of the same salt: one pattern per salt serves every size.
void fill_pattern(std::vector<unsigned char>& bytes, size_t size, uint64_t salt) {
  bytes.assign(size, 0);
  uint64_t z = salt;
  for (size_t i = 0; i < bytes.size(); i += 8) {
    // splitmix64: every 8 bytes a new word, distinct per salt and offset.
    z += 0x9E3779B97F4A7C15ull;
    uint64_t w = z;
    w = (w ^ (w >> 30)) * 0xBF58476D1CE4E5B9ull;
    w = (w ^ (w >> 27)) * 0x94D049BB133111EBull;
    w ^= w >> 31;
    std::memcpy(bytes.data() + i, &w, std::min<size_t>(8, bytes.size() - i));
  }
}
constexpr uint64_t kInputSalt = 0x1A2B3C4D5E6F7081ull, kOutputSalt = 0xF0E1D2C3B4A59687ull;

}  // namespace

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return 4;
    case RC_DTYPE_F64: return 8;
    case RC_DTYPE_F16:
    case RC_DTYPE_BF16: return 2;
    default: return 0;
  }
}

void store_element(void* base, size_t i, double v, int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: {
      const float f = static_cast<float>(v);
      std::memcpy(static_cast<char*>(base) + 4 * i, &f, 4);
      break;
    }
    case RC_DTYPE_F64:
      std::memcpy(static_cast<char*>(base) + 8 * i, &v, 8);
      break;
    case RC_DTYPE_F16: {
      const uint16_t h = impl::f32_to_f16(static_cast<float>(v));
      std::memcpy(static_cast<char*>(base) + 2 * i, &h, 2);
      break;
    }
    case RC_DTYPE_BF16: {
      const uint16_t h = impl::f32_to_bf16(static_cast<float>(v));
      std::memcpy(static_cast<char*>(base) + 2 * i, &h, 2);
      break;
    }
    default:
      break;
  }
}

double load_element(const void* base, size_t i, int32_t dtype) {
  const char* p = static_cast<const char*>(base);
  switch (dtype) {
    case RC_DTYPE_F32: {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      return f;
    }
    case RC_DTYPE_F64: {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      return d;
    }
    case RC_DTYPE_F16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return impl::f16_to_f32(h);
    }
    case RC_DTYPE_BF16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return impl::bf16_to_f32(h);
    }
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

namespace {

// store_element / load_element of elements [first, first + n), the dtype's case chosen once
// per run instead of once per element (the same conversions, so the same bytes and values).
void store_run(void* base, size_t first, const double* v, size_t n, int32_t dtype) {
  char* p = static_cast<char*>(base);
  switch (dtype) {
    case RC_DTYPE_F32:
      for (size_t i = 0; i < n; ++i) {
        const float f = static_cast<float>(v[i]);
        std::memcpy(p + 4 * (first + i), &f, 4);
      }
      break;
    case RC_DTYPE_F64:
      if (n) std::memcpy(p + 8 * first, v, 8 * n);
      break;
    case RC_DTYPE_F16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = impl::f32_to_f16(static_cast<float>(v[i]));
        std::memcpy(p + 2 * (first + i), &h, 2);
      }
      break;
    case RC_DTYPE_BF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = impl::f32_to_bf16(static_cast<float>(v[i]));
        std::memcpy(p + 2 * (first + i), &h, 2);
      }
      break;
    default:
      break;
  }
}

void load_run(const void* base, size_t first, double* v, size_t n, int32_t dtype) {
  const char* p = static_cast<const char*>(base);
  switch (dtype) {
    case RC_DTYPE_F32:
      for (size_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, p + 4 * (first + i), 4);
        v[i] = f;
      }
      break;
    case RC_DTYPE_F64:
      if (n) std::memcpy(v, p + 8 * first, 8 * n);
      break;
    case RC_DTYPE_F16:
    case RC_DTYPE_BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * (first + i), 2);
        v[i] = dtype == RC_DTYPE_F16 ? impl::f16_to_f32(h) : impl::bf16_to_f32(h);
      }
      break;
    default:
      for (size_t i = 0; i < n; ++i) v[i] = std::numeric_limits<double>::quiet_NaN();
      break;
  }
}

}  // namespace

double round_to_dtype(double v, int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return static_cast<float>(v);
    case RC_DTYPE_F64: return v;
    case RC_DTYPE_F16: return impl::f16_to_f32(impl::f32_to_f16(static_cast<float>(v)));
    case RC_DTYPE_BF16: return impl::bf16_to_f32(impl::f32_to_bf16(static_cast<float>(v)));
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

double largest_finite(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return std::numeric_limits<float>::max();
    case RC_DTYPE_F64: return std::numeric_limits<double>::max();
    case RC_DTYPE_F16: return 65504.0;
    case RC_DTYPE_BF16: return 0x1.FEp127;
    default: return 0;
  }
}

double smallest_normal(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32:
    case RC_DTYPE_BF16: return 0x1p-126;
    case RC_DTYPE_F64: return 0x1p-1022;
    case RC_DTYPE_F16: return 0x1p-14;
    default: return 0;
  }
}

namespace {

// What a C++ exception escaping a kernel entry point was, for the finding.
std::string thrown(const char* entry) {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string(entry) + " threw a C++ exception through the C ABI: " + e.what();
  } catch (...) {
    return std::string(entry) + " threw a C++ exception (not a std::exception) through the C ABI";
  }
}

}  // namespace

// The guarded buffers of one call, kept by the runner between calls.  Each buffer starts every
// call as a copy of its salt's pattern (made once, and again only when a larger call needs more
// bytes), the vectors then stored into the input: byte for byte what a fresh buffer filled with
// the pattern was, without an allocation and a splitmix fill of every byte on every call.
struct KernelRunner::Buffers {
  std::vector<unsigned char> pattern[2][2];  // [0: input, 1: output][buffer g]
  std::vector<unsigned char> bytes[2][2];    // the buffers the kernel gets, same indices
  std::vector<unsigned char> in_before[2];   // each input buffer as the kernel got it
  std::vector<int64_t> starts[2];            // element offsets of the vectors of buffer g

  // Buffer (io, g) of `size` bytes, every byte its pattern's.
  std::vector<unsigned char>& fresh(int io, int g, size_t size) {
    std::vector<unsigned char>& pat = pattern[io][g];
    if (pat.size() < size) fill_pattern(pat, size, (io == 0 ? kInputSalt : kOutputSalt) + static_cast<uint64_t>(g));
    bytes[io][g].assign(pat.begin(), pat.begin() + static_cast<std::ptrdiff_t>(size));
    return bytes[io][g];
  }
  size_t capacity() const {
    size_t n = 0;
    for (int g = 0; g < 2; ++g) {
      n += pattern[0][g].capacity() + pattern[1][g].capacity() + bytes[0][g].capacity() + bytes[1][g].capacity() +
           in_before[g].capacity() + starts[g].capacity() * sizeof(int64_t);
    }
    return n;
  }
};

namespace {
// Buffers larger than this in all are freed after the call rather than kept: generated cases
// are small, while a 65539-token edge call holds tens of MiB, and the judge keeps a runner per
// kernel for each of 16 specs.
constexpr size_t kKeepBufferBytes = size_t{2} << 20;
// Under AddressSanitizer nothing is kept: every call's buffers are then exactly its size, so a
// kernel writing beyond the guards still meets ASan's heap-buffer-overflow, not the spare
// capacity of a buffer kept from a larger call.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kKeepBuffers = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kKeepBuffers = false;
#else
constexpr bool kKeepBuffers = true;
#endif
#else
constexpr bool kKeepBuffers = true;
#endif
}  // namespace

KernelRunner::KernelRunner(const rc_kernel_desc& desc, const RopeSpec& spec)
    : desc_(&desc), spec_(spec), cspec_(spec), bounds_(desc, spec) {
  // A spec the kernel does not declare is never passed to it, not even to prepare.
  if ((desc.prepare || impl::prepare2_of(desc)) && spec_unsupported_reason(desc, spec).empty()) {
    const impl::KernelCallScope in_kernel;
    try {
      if (const rc_prepare2_fn prepare2 = impl::prepare2_of(desc)) {
        char reason[kReasonBytes] = {0};
        prepare_status_ = prepare2(cspec_.ptr(), &handle_, reason, static_cast<int32_t>(sizeof reason));
        reason[sizeof reason - 1] = '\0';  // whatever the kernel wrote, a C string
        prepare_reason_ = reason;
      } else {
        prepare_status_ = desc.prepare(cspec_.ptr(), &handle_);
      }
    } catch (...) {
      prepare_threw_ = thrown("prepare");
      prepare_status_ = RC_ERR_INTERNAL;
    }
  }
  if (prepare_status_ != 0) handle_ = nullptr;
  // A kernel that reads a cos/sin cache gets one built from exact math (filled row by row as
  // calls need them), for a spec it declares.
  if (impl::cache_of(desc) != RC_CACHE_NONE && spec_unsupported_reason(desc, spec).empty()) {
    cache_ = std::make_unique<CosSinCache>(desc, spec);
  }
}

KernelRunner::~KernelRunner() {
  const impl::KernelCallScope in_kernel;
  if (handle_ && desc_->release) desc_->release(handle_);
}

double KernelRunner::round_to_input(double v) const { return round_to_dtype(v, desc_->in_dtype); }

Placement KernelRunner::resolve(Placement placement) const {
  if (placement != Placement::kNative) return placement;
  return (desc_->placement & RC_PLACE_OUT_OF_PLACE) ? Placement::kOutOfPlace : Placement::kInPlace;
}

Case CallLog::Call::as_case(const RopeSpec& spec) const {
  Case c;
  c.spec = spec;
  c.positions = positions;
  c.axis_positions = axis_positions;
  c.x = x;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.separate_kv = separate_kv;
  c.position_dtype = position_dtype;
  c.head_pad = head_stride - spec.head_dim;
  c.token_pad = token_stride - n_heads * head_stride;
  c.inverse = inverse;
  c.rotary_offset = rotary_offset;
  c.n_threads = n_threads;
  c.seq_len = seq_len;
  return c;
}

Case in_call_shape(const Case& base, const rc_kernel_desc& d) {
  Case c = base;
  if (c.n_kv_heads > 0 && !impl::has_feature(d, RC_FEATURE_QK)) {
    c.n_kv_heads = 0;  // every head a q head, one buffer
    c.separate_kv = false;
  } else if (c.n_kv_heads == 0 && !impl::has_feature(d, RC_FEATURE_Q_ONLY) && impl::has_feature(d, RC_FEATURE_QK)) {
    if (c.n_heads == 1) {
      // Token by token: q's head, then k's, the same values.
      std::vector<double> x;
      x.reserve(2 * c.x.size());
      const auto width = static_cast<std::ptrdiff_t>(c.spec.head_dim);
      for (auto it = c.x.begin(); it != c.x.end(); it += width) {
        x.insert(x.end(), it, it + width);
        x.insert(x.end(), it, it + width);
      }
      c.x = std::move(x);
      c.n_heads = 2;
      if (c.poison >= 0) c.poison = c.poison / width * 2 * width + c.poison % width;  // the same component of q
    }
    c.n_kv_heads = 1;
  }
  const uint32_t pd = impl::position_dtypes_of(d);
  if ((c.position_dtype == RC_DTYPE_I32 && !(pd & RC_POSITIONS_I32)) ||
      (c.position_dtype == RC_DTYPE_I64 && !(pd & RC_POSITIONS_I64))) {
    c.position_dtype = 0;
  }
  return c;
}

std::string spec_unsupported_reason(const rc_kernel_desc& d, const RopeSpec& s) {
  // A multi-axis spec only for a kernel that takes a position per axis: asking another one text
  // tokens alone would check 1-D RoPE under the M-RoPE spec's name.  N-D RoPE (axes_dims: FLUX,
  // vision towers) also needs the kernel to read the per-axis widths (RC_FEATURE_AXES_DIMS): a
  // kernel built before them would take the spec for M-RoPE without sections.
  if (s.n_axes() > 1 && !impl::has_feature(d, RC_FEATURE_MULTI_AXIS)) {
    return std::string("multi-axis positions (") + (s.axes_dims.empty() ? "mrope_section, " : "axes_dims, ") +
           std::to_string(s.n_axes()) + " axes) not declared (RC_FEATURE_MULTI_AXIS)";
  }
  if (!s.axes_dims.empty() && !impl::has_feature(d, RC_FEATURE_AXES_DIMS)) {
    return "N-D RoPE (axes_dims, " + std::to_string(s.n_axes()) + " axes) not declared (RC_FEATURE_AXES_DIMS)";
  }
  if (!(d.layouts & RC_LAYOUT_BIT(static_cast<int>(s.layout)))) {
    return std::string("layout ") + to_string(s.layout) + " not declared";
  }
  if (!(d.scalings & RC_SCALING_BIT(static_cast<int>(s.type)))) {
    return std::string("scaling ") + to_string(s.type) + " not declared";
  }
  if (s.head_dim < d.head_dim_min || s.head_dim > d.head_dim_max ||
      s.head_dim % std::max(1, d.head_dim_multiple) != 0) {
    return "head_dim " + std::to_string(s.head_dim) + " outside the declared range";
  }
  if (s.rotary_dim < d.rotary_dim_min || s.rotary_dim > d.rotary_dim_max ||
      s.rotary_dim % std::max(1, d.rotary_dim_multiple) != 0) {
    return "rotary_dim " + std::to_string(s.rotary_dim) + " outside the declared range";
  }
  return "";
}

std::string KernelRunner::unsupported_reason(const Case& c, Placement placement) const {
  const rc_kernel_desc& d = *desc_;
  placement = resolve(placement);
  if (std::string why = spec_unsupported_reason(d, c.spec); !why.empty()) return why;
  // Negative positions only for a kernel that declares them (never an ABI 1 kernel), down to
  // −max_position.
  const bool negative = impl::has_feature(d, RC_FEATURE_NEGATIVE_POSITIONS);
  if (!c.axis_positions.empty()) {
    if (c.axis_positions.size() + 1 != static_cast<size_t>(c.spec.n_axes())) {
      return "axis_positions has " + std::to_string(c.axis_positions.size()) + " rows for a spec of " +
             std::to_string(c.spec.n_axes()) + " axes";
    }
    for (const std::vector<int64_t>& row : c.axis_positions) {
      if (row.size() != c.positions.size()) return "an axis_positions row is not one position per token";
    }
  }
  for (int64_t t : c.all_positions()) {
    if (t < 0 && !negative) return "position " + format_position(t) + " is negative (RC_FEATURE_NEGATIVE_POSITIONS not declared)";
    if (t > d.max_position || (t < 0 && t < -d.max_position)) {
      return "position " + format_position(t) + " beyond max_position";
    }
  }
  if (c.inverse && !impl::has_feature(d, RC_FEATURE_INVERSE)) return "inverse rotation not declared (RC_FEATURE_INVERSE)";
  if (c.rotary_offset != 0 && !impl::has_feature(d, RC_FEATURE_ROTARY_OFFSET)) {
    return "rotary offset not declared (RC_FEATURE_ROTARY_OFFSET)";
  }
  if (c.rotary_offset < 0 || int64_t{c.rotary_offset} + c.spec.rotary_dim > c.spec.head_dim) {
    return "rotary_offset " + std::to_string(c.rotary_offset) + " + rotary_dim " + std::to_string(c.spec.rotary_dim) +
           " beyond head_dim " + std::to_string(c.spec.head_dim);
  }
  if (c.n_threads != 0 && !impl::has_feature(d, RC_FEATURE_THREADS)) return "thread hint not declared (RC_FEATURE_THREADS)";
  if (c.seq_len != 0 && !impl::has_feature(d, RC_FEATURE_SEQ_LEN)) {
    return "a sequence length per call not declared (RC_FEATURE_SEQ_LEN)";
  }
  if (c.seq_len < 0) return "seq_len " + std::to_string(c.seq_len) + " < 0";
  // How the kernel is called (ABI 2; impl/abi.hpp gives an ABI 1 kernel q-only calls).
  if (c.n_kv_heads > 0) {
    if (!impl::has_feature(d, RC_FEATURE_QK)) return "q and k in one call not declared";
    if (c.n_kv_heads >= c.n_heads || c.n_q_heads() % c.n_kv_heads != 0) {
      return "k heads (" + std::to_string(c.n_kv_heads) + ") must divide q heads (" + std::to_string(c.n_q_heads()) + ")";
    }
  } else if (!impl::has_feature(d, RC_FEATURE_Q_ONLY)) {
    return "q-only calls not declared (the kernel rotates q and k together)";
  }

  const uint32_t need = placement == Placement::kInPlace ? RC_PLACE_IN_PLACE : RC_PLACE_OUT_OF_PLACE;
  if (!(d.placement & need)) {
    return placement == Placement::kInPlace ? "in-place not declared" : "out-of-place not declared";
  }
  if (c.position_dtype != 0 && c.position_dtype != RC_DTYPE_I32 && c.position_dtype != RC_DTYPE_I64) {
    return "position_dtype " + std::to_string(c.position_dtype) + " is not int32 or int64";
  }
  const uint32_t pd = impl::position_dtypes_of(d);
  if (c.position_dtype == RC_DTYPE_I32 && !(pd & RC_POSITIONS_I32)) return "int32 positions not declared";
  if (c.position_dtype == RC_DTYPE_I64 && !(pd & RC_POSITIONS_I64)) return "int64 positions not declared";
  if (std::string refused = prepare_refusal(); !refused.empty()) return "prepare refused the spec: " + refused;
  return "";
}

std::string KernelRunner::prepare_refusal() const {
  if (prepare_status_ == 0 || !prepare_threw_.empty()) return "";  // a throw is reported by run()
  return std::string(rc_status_string(prepare_status_)) + (prepare_reason_.empty() ? "" : ": " + prepare_reason_);
}

namespace {
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}
bool same_call(const CallLog::Call& r, const Case& c, Placement placement) {
  return r.placement == placement && r.n_heads == c.n_heads && r.n_kv_heads == c.n_kv_heads &&
         r.separate_kv == c.separate_kv && r.position_dtype == c.position_dtype && r.head_stride == c.head_stride() &&
         r.token_stride == c.token_stride() && r.inverse == c.inverse && r.rotary_offset == c.rotary_offset &&
         r.n_threads == c.n_threads && r.seq_len == c.seq_len && r.positions == c.positions && r.axis_positions == c.axis_positions &&
         same_bits(r.x, c.x);
}
}  // namespace

RunOutput KernelRunner::run(const Case& c, Placement placement) const {
  placement = resolve(placement);
  if (log_ == nullptr) return call_kernel(c, placement);
  if (log_->mode == CallLog::Mode::kReplay && !log_->diverged) {
    if (log_->next < log_->calls.size() && same_call(log_->calls[log_->next], c, placement)) {
      ++log_->replayed;
      return log_->calls[log_->next++].output;
    }
    log_->diverged = true;
  }
  RunOutput r = call_kernel(c, placement);
  if (log_->mode == CallLog::Mode::kRecord) {
    log_->calls.push_back({c.positions, c.x, c.n_heads, c.n_kv_heads, c.separate_kv, c.position_dtype, c.head_stride(),
                           c.token_stride(), c.inverse, c.rotary_offset, c.n_threads, c.seq_len, placement, r, c.axis_positions});
  }
  return r;
}

namespace {

// Where a Case's vectors live: one buffer (q-only calls, and q/k as a packed qkv view), or two
// (q and k each in its own, with token strides of their own).
struct BufferLayout {
  int64_t hs = 0;                 // head stride (both buffers)
  int64_t ts[2] = {0, 0};         // token stride of each buffer
  int64_t first_head[2] = {0, 0}; // the Case's first head in each buffer
  int64_t heads[2] = {0, 0};      // heads in each buffer
  int groups = 1;
  // Buffer and element offset of vector (k, h).
  std::pair<int, int64_t> at(int64_t k, int64_t h) const {
    const int g = groups == 2 && h >= first_head[1] ? 1 : 0;
    return {g, k * ts[g] + (h - first_head[g]) * hs};
  }
  size_t elems(int g, int64_t n_tok, int64_t hd) const {
    return n_tok == 0 || heads[g] == 0 ? 0 : static_cast<size_t>((n_tok - 1) * ts[g] + (heads[g] - 1) * hs + hd);
  }
};

BufferLayout layout_of(const Case& c) {
  BufferLayout l;
  l.hs = c.head_stride();
  if (c.n_kv_heads > 0 && c.separate_kv) {
    l.groups = 2;
    l.heads[0] = c.n_q_heads();
    l.heads[1] = c.n_kv_heads;
    l.first_head[1] = c.n_q_heads();
    l.ts[0] = l.heads[0] * l.hs + c.token_pad;
    l.ts[1] = l.heads[1] * l.hs + c.token_pad;
  } else {
    l.heads[0] = c.n_heads;
    l.ts[0] = c.token_stride();
  }
  return l;
}

// The first byte of `bytes` (`size` of them) that changed from `before` outside the vectors
// starting at `starts` (element offsets, each `hd` elements long), or kNone.
size_t change_outside_vectors(const unsigned char* bytes, const unsigned char* before, size_t size,
                              std::vector<int64_t>& starts, int64_t hd, size_t es) {
  if (!std::is_sorted(starts.begin(), starts.end())) std::sort(starts.begin(), starts.end());
  size_t changed = kNone, from = 0;
  for (size_t v = 0; v <= starts.size() && changed == kNone; ++v) {
    const size_t to = v < starts.size() ? kGuardBytes + static_cast<size_t>(starts[v]) * es : size;
    if (to > from) changed = first_change(bytes, before, from, to);
    if (v < starts.size()) from = std::max(from, to + static_cast<size_t>(hd) * es);
  }
  return changed;
}

}  // namespace

RunOutput KernelRunner::call_kernel(const Case& c, Placement placement) const {
  const rc_kernel_desc& d = *desc_;
  const int64_t n_tok = c.n_tokens(), n_heads = c.n_heads, hd = c.spec.head_dim;
  const BufferLayout lay = layout_of(c);
  const bool in_place = placement == Placement::kInPlace;

  // The buffers of this call, from the pool (given back on every way out).
  struct Lease {
    const KernelRunner& runner;
    std::unique_ptr<Buffers> b;
    explicit Lease(const KernelRunner& r) : runner(r) {
      const std::lock_guard<std::mutex> lock(runner.buffers_mutex_);
      if (!runner.buffers_.empty()) {
        b = std::move(runner.buffers_.back());
        runner.buffers_.pop_back();
      }
    }
    ~Lease() {
      if (!kKeepBuffers || b == nullptr || b->capacity() > kKeepBufferBytes) return;
      const std::lock_guard<std::mutex> lock(runner.buffers_mutex_);
      runner.buffers_.push_back(std::move(b));
    }
  } lease(*this);
  if (lease.b == nullptr) lease.b = std::make_unique<Buffers>();
  Buffers& bufs = *lease.b;

  // Input buffers (each with guards and padding of its own pattern), the vectors stored.
  // A guarded buffer of buffer g: kGuardBytes, the elements, kGuardBytes.
  struct Guarded {
    unsigned char* data;
    size_t size, elem_size;
    void* base() const { return data + kGuardBytes; }
  };
  const size_t es_in = dtype_size(d.in_dtype), es_out = dtype_size(d.out_dtype);
  Guarded in[2] = {}, out_bufs[2] = {};
  for (int g = 0; g < lay.groups; ++g) {
    const size_t size = lay.elems(g, n_tok, hd) * es_in + 2 * kGuardBytes;
    in[g] = {bufs.fresh(0, g, size).data(), size, es_in};
    bufs.starts[g].clear();
  }
  std::vector<int64_t>* starts = bufs.starts;
  const auto hd_size = static_cast<size_t>(hd);
  for (int64_t k = 0; k < n_tok; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const auto [g, off] = lay.at(k, h);
      starts[g].push_back(off);
      store_run(in[g].base(), static_cast<size_t>(off), &c.x[c.at(k, h, 0)], hd_size, d.in_dtype);
    }
  }
  for (int g = 0; g < lay.groups; ++g) bufs.in_before[g].assign(in[g].data, in[g].data + in[g].size);
  if (!in_place) {
    for (int g = 0; g < lay.groups; ++g) {
      const size_t size = lay.elems(g, n_tok, hd) * es_out + 2 * kGuardBytes;
      out_bufs[g] = {bufs.fresh(1, g, size).data(), size, es_out};
    }
  }
  const Guarded* out = in_place ? in : out_bufs;
  // Each output buffer as the kernel got it: the input as stored (in place), else the pattern.
  const unsigned char* out_before[2] = {nullptr, nullptr};
  for (int g = 0; g < lay.groups; ++g) out_before[g] = in_place ? bufs.in_before[g].data() : bufs.pattern[1][g].data();

  if (!prepare_threw_.empty()) throw KernelThrew(prepare_threw_);
  RunOutput r;
  try {
    if (const rc_apply2_fn apply2 = impl::apply2_of(d)) {
      // One call record.  int32 positions when the kernel takes only those (every supported
      // position fits: the loader caps such a kernel's max_position at 2^31 - 1; the refusal
      // cases beyond it are cut to int32 too, never wrapped), or when the case asks for them
      // and every position fits (else int64: a cut position could fall inside the range).
      // A multi-axis spec: every axis's row, axis-major (rc_spec.n_axes rows of n_tokens; a
      // text-token case repeats its one row).
      std::vector<int64_t> p64;
      if (c.spec.n_axes() > 1) {
        for (int a = 0; a < c.spec.n_axes(); ++a) {
          for (int64_t k = 0; k < n_tok; ++k) p64.push_back(c.position(static_cast<size_t>(k), a));
        }
      }
      const std::vector<int64_t>& pos = c.spec.n_axes() > 1 ? p64 : c.positions;
      std::vector<int32_t> p32;
      const bool fits32 = std::all_of(pos.begin(), pos.end(), [](int64_t t) { return t >= INT32_MIN && t <= INT32_MAX; });
      const uint32_t pdt = impl::position_dtypes_of(d);
      const bool i32 = (pdt & RC_POSITIONS_I64) == 0 ||
                       (c.position_dtype == RC_DTYPE_I32 && (pdt & RC_POSITIONS_I32) != 0 && fits32);
      if (i32) {
        for (int64_t t : pos) p32.push_back(static_cast<int32_t>(std::clamp<int64_t>(t, INT32_MIN, INT32_MAX)));
      }
      char reason[kReasonBytes] = {0};
      rc_call call{};
      call.struct_size = sizeof(rc_call);
      call.n_tokens = n_tok;
      call.positions = i32 ? static_cast<const void*>(p32.data()) : static_cast<const void*>(pos.data());
      call.position_dtype = i32 ? RC_DTYPE_I32 : RC_DTYPE_I64;
      // q: the first n_q_heads heads; k: the rest, in the second buffer or right after q's
      // heads in the first (a packed qkv view).
      auto tensor = [&](int64_t first_head, int64_t heads) {
        const auto [g, off] = lay.at(0, first_head);
        return rc_tensor{static_cast<const char*>(in[g].base()) + static_cast<size_t>(off) * in[g].elem_size,
                         static_cast<char*>(out[g].base()) + static_cast<size_t>(off) * out[g].elem_size,
                         heads, lay.ts[g], lay.hs, lay.ts[g], lay.hs};
      };
      call.q = tensor(0, c.n_q_heads());
      if (c.n_kv_heads > 0) call.k = tensor(c.n_q_heads(), c.n_kv_heads);
      if (cache_) {
        cache_->ensure(c.spec.n_axes() > 1 ? pos : c.positions);
        call.cos = cache_->cos();
        call.sin = cache_->sin();
        call.cache_rows = cache_->rows();
        call.cache_row_stride = cache_->row_stride();
      }
      // The ABI 2 knobs, set only when the kernel declares them (unsupported_reason skips a case
      // that asks for one it does not; a direct call gets the defaults).
      call.inverse = c.inverse && impl::has_feature(d, RC_FEATURE_INVERSE) ? 1 : 0;
      call.rotary_offset = impl::has_feature(d, RC_FEATURE_ROTARY_OFFSET) ? c.rotary_offset : 0;
      call.n_threads = impl::has_feature(d, RC_FEATURE_THREADS) ? c.n_threads : 0;
      call.seq_len = impl::has_feature(d, RC_FEATURE_SEQ_LEN) ? c.seq_len : 0;
      call.reason = reason;
      call.reason_size = static_cast<int32_t>(sizeof reason);
      const impl::KernelCallScope in_kernel;
      r.status = apply2(cspec_.ptr(), handle_, &call);
      reason[sizeof reason - 1] = '\0';
      if (r.status != 0) r.refusal_reason = reason;
    } else {
      const impl::KernelCallScope in_kernel;
      r.status = d.apply(cspec_.ptr(), handle_, c.positions.data(), n_tok, n_heads, lay.ts[0], lay.hs, in[0].base(),
                         out[0].base());
    }
  } catch (...) {
    throw KernelThrew(thrown("apply"));
  }

  // Every byte of every output buffer outside the vectors (guards, stride padding, a packed
  // view's v) must keep its value; the first changed byte of the first buffer is reported.
  const char* which[2] = {lay.groups == 2 ? "the q buffer" : "the buffer", "the k buffer"};
  for (int g = 0; g < lay.groups && r.out_of_bounds.empty(); ++g) {
    const Guarded& o = out[g];
    const size_t es = o.elem_size;
    const size_t changed = change_outside_vectors(o.data, out_before[g], o.size, starts[g], hd, es);
    if (changed == kNone) continue;
    const size_t elems = lay.elems(g, n_tok, hd);
    const bool in_guard = changed < kGuardBytes || changed >= kGuardBytes + elems * es;
    const std::string where = in_guard ? "(byte offset " +
                                             std::to_string(static_cast<long long>(changed) - static_cast<long long>(kGuardBytes)) + ")"
                                       : "(element " + std::to_string((changed - kGuardBytes) / es) + ")";
    const std::string buffer = lay.groups == 2 ? std::string(" of ") + which[g] : "";
    if (in_place) {
      r.out_of_bounds = (in_guard ? "wrote outside the buffer" + buffer + " " : "wrote into stride padding" + buffer + " ") + where;
    } else {
      r.out_of_bounds =
          (in_guard ? "wrote outside the output buffer" + buffer + " " : "wrote into output stride padding" + buffer + " ") + where;
    }
  }
  for (int g = 0; g < lay.groups && !in_place && r.out_of_bounds.empty(); ++g) {
    if (std::memcmp(in[g].data, bufs.in_before[g].data(), in[g].size) != 0) {
      r.out_of_bounds = "wrote into the input of an out-of-place call";
    }
  }
  if (r.status != 0) {
    // A refusal must write nothing.
    for (int g = 0; g < lay.groups; ++g) {
      if (std::memcmp(out[g].data, out_before[g], out[g].size) != 0) {
        r.out_of_bounds = "refused the call (" + std::string(rc_status_string(r.status)) + ") but " +
                          (in_place ? "modified the buffer" : "wrote to the output");
      }
    }
    return r;
  }
  r.y.resize(c.x.size());
  for (int64_t k = 0; k < n_tok; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const auto [g, off] = lay.at(k, h);
      load_run(out[g].base(), static_cast<size_t>(off), &r.y[c.at(k, h, 0)], hd_size, d.out_dtype);
    }
  }
  return r;
}

}  // namespace ropecheck::props

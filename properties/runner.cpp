#include "properties/runner.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "impl/kernels/common.hpp"

namespace ropecheck::props {

namespace {

constexpr unsigned char kCanary = 0xA5;
constexpr size_t kGuardBytes = 64;  // canary bytes before and after every buffer

void store(void* base, size_t i, double v, int32_t dtype) {
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

double load(const void* base, size_t i, int32_t dtype) {
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

// A buffer of `elems` elements with canary guards and canary-filled padding.
struct Guarded {
  std::vector<unsigned char> bytes;
  size_t elem_size;
  Guarded(size_t elems, size_t esize) : bytes(elems * esize + 2 * kGuardBytes, kCanary), elem_size(esize) {}
  void* base() { return bytes.data() + kGuardBytes; }
  const void* base() const { return bytes.data() + kGuardBytes; }
};

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

KernelRunner::KernelRunner(const rc_kernel_desc& desc, const RopeSpec& spec)
    : desc_(&desc), spec_(spec), cspec_(spec) {
  if (desc.prepare) prepare_status_ = desc.prepare(cspec_.ptr(), &handle_);
  if (prepare_status_ != 0) handle_ = nullptr;
}

KernelRunner::~KernelRunner() {
  if (handle_ && desc_->release) desc_->release(handle_);
}

double KernelRunner::round_to_input(double v) const { return round_to_dtype(v, desc_->in_dtype); }

std::string KernelRunner::unsupported_reason(const Case& c, Placement placement) const {
  const rc_kernel_desc& d = *desc_;
  const RopeSpec& s = c.spec;
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
  for (int64_t t : c.positions) {
    if (t < 0 || t > d.max_position) return "position " + std::to_string(t) + " beyond max_position";
  }
  const uint32_t need = placement == Placement::kInPlace ? RC_PLACE_IN_PLACE : RC_PLACE_OUT_OF_PLACE;
  if (!(d.placement & need)) {
    return placement == Placement::kInPlace ? "in-place not declared" : "out-of-place not declared";
  }
  if (prepare_status_ != 0) {
    return std::string("prepare refused the spec: ") + rc_status_string(prepare_status_);
  }
  return "";
}

RunOutput KernelRunner::run(const Case& c, Placement placement) const {
  const rc_kernel_desc& d = *desc_;
  const int64_t n_tok = c.n_tokens(), n_heads = c.n_heads, hd = c.spec.head_dim;
  const int64_t hs = c.head_stride(), ts = c.token_stride();
  const size_t elems = n_tok == 0 ? 0 : static_cast<size_t>((n_tok - 1) * ts + (n_heads - 1) * hs + hd);

  Guarded in(elems, dtype_size(d.in_dtype));
  for (int64_t k = 0; k < n_tok; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < hd; ++i) {
        store(in.base(), static_cast<size_t>(k * ts + h * hs + i), c.x[c.at(k, h, i)], d.in_dtype);
      }
    }
  }
  const std::vector<unsigned char> in_before = in.bytes;
  Guarded out_buf(placement == Placement::kInPlace ? 0 : elems, dtype_size(d.out_dtype));
  Guarded& out = placement == Placement::kInPlace ? in : out_buf;

  RunOutput r;
  r.status = d.apply(cspec_.ptr(), handle_, c.positions.data(), n_tok, n_heads, ts, hs, in.base(),
                     out.base());

  // Which bytes of `out` belong to vectors (everything else must keep its canary).
  std::vector<char> owned(elems, 0);
  for (int64_t k = 0; k < n_tok; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < hd; ++i) owned[static_cast<size_t>(k * ts + h * hs + i)] = 1;
    }
  }
  const size_t es = out.elem_size;
  for (size_t b = 0; b < out.bytes.size(); ++b) {
    const bool in_guard = b < kGuardBytes || b >= kGuardBytes + elems * es;
    const bool padding = !in_guard && !owned[(b - kGuardBytes) / es];
    if (placement == Placement::kInPlace) {
      if ((in_guard || padding) && out.bytes[b] != in_before[b]) {
        r.out_of_bounds = in_guard ? "wrote outside the buffer (byte offset " +
                                         std::to_string(static_cast<long long>(b) - static_cast<long long>(kGuardBytes)) + ")"
                                   : "wrote into stride padding (element " + std::to_string((b - kGuardBytes) / es) + ")";
        break;
      }
    } else if ((in_guard || padding) && out.bytes[b] != kCanary) {
      r.out_of_bounds = in_guard ? "wrote outside the output buffer (byte offset " +
                                       std::to_string(static_cast<long long>(b) - static_cast<long long>(kGuardBytes)) + ")"
                                 : "wrote into output stride padding (element " + std::to_string((b - kGuardBytes) / es) + ")";
      break;
    }
  }
  if (placement == Placement::kOutOfPlace && r.out_of_bounds.empty() && in.bytes != in_before) {
    r.out_of_bounds = "wrote into the input of an out-of-place call";
  }
  if (r.status != 0) {
    // A refusal must write nothing.
    if (placement == Placement::kOutOfPlace) {
      for (unsigned char byte : out.bytes) {
        if (byte != kCanary) {
          r.out_of_bounds = "refused the call (" + std::string(rc_status_string(r.status)) + ") but wrote to the output";
          break;
        }
      }
    } else if (in.bytes != in_before) {
      r.out_of_bounds = "refused the call (" + std::string(rc_status_string(r.status)) + ") but modified the buffer";
    }
    return r;
  }
  r.y.resize(c.x.size());
  for (int64_t k = 0; k < n_tok; ++k) {
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < hd; ++i) {
        r.y[c.at(k, h, i)] = load(out.base(), static_cast<size_t>(k * ts + h * hs + i), d.out_dtype);
      }
    }
  }
  return r;
}

}  // namespace ropecheck::props

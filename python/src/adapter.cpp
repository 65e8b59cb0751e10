// The Python kernel adapter (adapter.hpp).
#include "adapter.hpp"

#include <pybind11/numpy.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/abi.hpp"
#include "impl/kernels/common.hpp"
#include "impl/kernels/scalar_f32_hf.hpp"
#include "impl/kernels/scalar_f64.hpp"
#include "impl/kernels/table_bf16.hpp"
#include "impl/kernels/table_f16.hpp"
#include "impl/kernels/table_f32.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/case.hpp"
#include "properties/runner.hpp"
#include "properties/spec_cache.hpp"

namespace ropecheck::python {

// ------------------------------------------------------------------ contracts ----------

namespace {

int32_t dtype_of(const std::string& s, const char* field) {
  for (int32_t d : {RC_DTYPE_F32, RC_DTYPE_F64, RC_DTYPE_F16, RC_DTYPE_BF16, RC_DTYPE_F64X2, RC_DTYPE_I64, RC_DTYPE_I32}) {
    if (s == impl::dtype_name(d)) return d;
  }
  throw py::value_error(std::string("contract field ") + field + ": unknown dtype '" + s +
                        "' (f32, f64, f16, bf16, f64x2, i64, i32)");
}

template <class F>
int32_t enum_of(const std::string& s, const char* field, int32_t lo, int32_t hi, F name_of) {
  std::string known;
  for (int32_t v = lo; v <= hi; ++v) {
    if (s == name_of(v)) return v;
    known += (known.empty() ? "" : ", ") + std::string(name_of(v));
  }
  throw py::value_error(std::string("contract field ") + field + ": unknown value '" + s + "' (" + known + ")");
}

}  // namespace

// The fields of a contract as the Python side sees them (ropecheck.Contract): the descriptor's
// accuracy contract and what it declares, names for enums.
py::dict contract_dict(const rc_kernel_desc& d) {
  const rc_accuracy& a = d.accuracy;
  py::dict c;
  c["in_dtype"] = impl::dtype_name(d.in_dtype);
  c["out_dtype"] = impl::dtype_name(d.out_dtype);
  c["max_position"] = d.max_position;
  c["angle_recipe"] = impl::angle_recipe_name(a.angle_recipe);
  c["angle_dtype"] = impl::dtype_name(a.angle_dtype);
  c["position_dtype"] = impl::dtype_name(a.position_dtype);
  c["sincos_dtype"] = impl::dtype_name(a.sincos_dtype);
  c["compute_dtype"] = impl::dtype_name(a.compute_dtype);
  c["output_rounding"] = impl::rounding_name(a.output_rounding);
  c["angle_unit_roundoff"] = a.angle_unit_roundoff;
  c["theta_rel_error"] = a.theta_rel_error;
  c["angle_product_error"] = a.angle_product_error;
  c["reduced_angle_abs_error"] = a.reduced_angle_abs_error;
  c["sincos_ulp"] = a.sincos_ulp;
  c["attention_rel_error"] = a.attention_rel_error;
  c["theta_rel_error_per_pair"] = impl::theta_error_per_pair_of(d);
  c["cache"] = impl::cache_convention_name(impl::cache_of(d));
  c["cache_dtype"] = impl::cache_of(d) == RC_CACHE_NONE ? "f32" : impl::dtype_name(impl::cache_dtype_of(d));
  c["qk"] = true;  // the adapter takes q and k together (the Python kernel gets k=None for q-only calls)
  c["inverse"] = impl::has_feature(d, RC_FEATURE_INVERSE);
  c["rotary_offset"] = impl::has_feature(d, RC_FEATURE_ROTARY_OFFSET);
  c["seq_len"] = impl::has_feature(d, RC_FEATURE_SEQ_LEN);
  c["negative_positions"] = impl::has_feature(d, RC_FEATURE_NEGATIVE_POSITIONS);
  const uint32_t pd = impl::position_dtypes_of(d);
  c["position_dtypes"] = pd == (RC_POSITIONS_I32 | RC_POSITIONS_I64) ? "i32,i64" : pd == RC_POSITIONS_I32 ? "i32" : "i64";
  c["description"] = d.description ? d.description : "";
  return c;
}

// A descriptor from Python's contract fields; the adapter's entry points are set by the caller.
rc_kernel_desc desc_from_dict(const py::dict& c) {
  auto str = [&](const char* k) { return py::cast<std::string>(c[k]); };
  auto num = [&](const char* k) { return py::cast<double>(c[k]); };
  rc_kernel_desc d{};
  d.abi_version = RC_ABI_2;
  d.in_dtype = dtype_of(str("in_dtype"), "in_dtype");
  d.out_dtype = dtype_of(str("out_dtype"), "out_dtype");
  d.layouts = RC_LAYOUT_ALL;
  d.scalings = RC_SCALING_ALL;
  // The adapter copies every call's vectors into fresh arrays: both placements reach the Python
  // kernel the same way.
  d.placement = RC_PLACE_OUT_OF_PLACE | RC_PLACE_IN_PLACE;
  d.max_position = py::cast<int64_t>(c["max_position"]);
  d.head_dim_min = 2;
  d.head_dim_max = 4096;
  d.head_dim_multiple = 1;
  d.rotary_dim_min = 2;
  d.rotary_dim_max = 4096;
  d.rotary_dim_multiple = 2;
  rc_accuracy& a = d.accuracy;
  a.angle_recipe = enum_of(str("angle_recipe"), "angle_recipe", RC_ANGLE_F32_INVFREQ_F32_PRODUCT, RC_ANGLE_OTHER,
                           impl::angle_recipe_name);
  a.angle_dtype = dtype_of(str("angle_dtype"), "angle_dtype");
  a.position_dtype = dtype_of(str("position_dtype"), "position_dtype");
  a.sincos_dtype = dtype_of(str("sincos_dtype"), "sincos_dtype");
  a.compute_dtype = dtype_of(str("compute_dtype"), "compute_dtype");
  a.output_rounding = enum_of(str("output_rounding"), "output_rounding", RC_ROUND_NONE, RC_ROUND_OTHER, impl::rounding_name);
  a.angle_unit_roundoff = num("angle_unit_roundoff");
  a.theta_rel_error = num("theta_rel_error");
  a.angle_product_error = num("angle_product_error");
  a.reduced_angle_abs_error = num("reduced_angle_abs_error");
  a.sincos_ulp = num("sincos_ulp");
  a.attention_rel_error = num("attention_rel_error");
  // Multi-axis positions always: a Python kernel is given a multi-axis spec only when the user
  // checks one, and then it gets positions [n_axes, n_tokens].
  d.features = RC_FEATURE_Q_ONLY | RC_FEATURE_MULTI_AXIS | RC_FEATURE_AXES_DIMS |
               (py::cast<bool>(c["qk"]) ? RC_FEATURE_QK : 0u) | (py::cast<bool>(c["inverse"]) ? RC_FEATURE_INVERSE : 0u) |
               (py::cast<bool>(c["rotary_offset"]) ? RC_FEATURE_ROTARY_OFFSET : 0u) |
               (py::cast<bool>(c["seq_len"]) ? RC_FEATURE_SEQ_LEN : 0u) |
               (py::cast<bool>(c["negative_positions"]) ? RC_FEATURE_NEGATIVE_POSITIONS : 0u);
  // "i64", "i32" or both ("i32,i64"): the index dtypes the kernel takes positions in.
  d.position_dtypes = 0;
  const std::string pds = str("position_dtypes");
  for (size_t at = 0; at <= pds.size();) {
    const size_t comma = std::min(pds.find(',', at), pds.size());
    const std::string one = pds.substr(at, comma - at);
    if (one == "i64") {
      d.position_dtypes |= RC_POSITIONS_I64;
    } else if (one == "i32") {
      d.position_dtypes |= RC_POSITIONS_I32;
    } else {
      throw py::value_error("contract field position_dtypes: '" + pds + "' is not i64, i32 or i32,i64");
    }
    at = comma + 1;
  }
  d.cache = enum_of(str("cache"), "cache", RC_CACHE_NONE, RC_CACHE_REPEAT_INTERLEAVED, impl::cache_convention_name);
  d.cache_dtype = dtype_of(str("cache_dtype"), "cache_dtype");
  d.theta_rel_error_per_pair = num("theta_rel_error_per_pair");
  return d;
}

// Presets: the accuracy contracts of the built-in kernels (impl/kernels/*.hpp, never a copy of
// their numbers), and the cos/sin-cache consumer of vLLM-style kernels.
std::vector<std::pair<std::string, rc_kernel_desc>> presets() {
  std::vector<std::pair<std::string, rc_kernel_desc>> p;
  auto from = [&](const char* name, const rc_kernel_desc& k, const char* what) {
    rc_kernel_desc d = k;
    d.description = what;
    p.emplace_back(name, d);
  };
  from("hf_fp32", impl::kScalarF32HfKernel,
       "HuggingFace recipe: fp32 inv_freq = 1/base^(2j/d), fp32 positions and product t*inv_freq, fp32 cos/sin, fp32 "
       "rotation (built-in scalar_f32_hf's contract)");
  from("fp64", impl::kScalarF64Kernel, "binary64 throughout (built-in scalar_f64's contract)");
  from("position_exact_f32", impl::kTableF32Kernel,
       "position-exact angle (double-double theta, exact reduction), fp32 cos/sin and rotation (built-in table_f32's "
       "contract)");
  from("bf16", impl::kTableBF16Kernel,
       "bf16 in/out, position-exact angle, fp32 compute, one rounding to bf16 (built-in table_bf16's contract)");
  from("f16", impl::kTableF16Kernel,
       "f16 in/out, position-exact angle, fp32 compute, one rounding to f16 (built-in table_f16's contract)");
  // Consumers of a cos/sin cache ropecheck builds from exact math, correctly rounded to the
  // cache dtype: no angle is formed, the kernel is judged on x*cos - y*sin in the tensors' dtype.
  for (int32_t conv : {RC_CACHE_COS_SIN_HALVES, RC_CACHE_FULL_WIDTH, RC_CACHE_REPEAT_INTERLEAVED}) {
    for (int32_t dt : {RC_DTYPE_F32, RC_DTYPE_BF16, RC_DTYPE_F16}) {
      rc_kernel_desc d = impl::kTableF32Kernel;
      d.abi_version = RC_ABI_2;
      d.in_dtype = d.out_dtype = dt;
      d.max_position = impl::kMaxCacheRows - 1;
      d.accuracy.angle_recipe = RC_ANGLE_TABLE;
      d.accuracy.position_dtype = RC_DTYPE_I64;
      d.accuracy.sincos_dtype = dt;
      d.accuracy.compute_dtype = dt;  // torch arithmetic in the tensors' dtype
      d.accuracy.output_rounding = RC_ROUND_NONE;
      d.accuracy.theta_rel_error = d.accuracy.angle_product_error = d.accuracy.reduced_angle_abs_error = 0;
      d.accuracy.sincos_ulp = 0.5;           // the cache's one rounding
      d.accuracy.attention_rel_error = 0.5;  // a is in the cache's values, rounded with them
      d.cache = conv;
      d.cache_dtype = dt;
      d.description = "reads a cos/sin cache (the convention and dtype named), rotation in the tensors' dtype";
      p.emplace_back(std::string("cache:") + impl::cache_convention_name(conv) + ":" + impl::dtype_name(dt), d);
    }
  }
  return p;
}

// ------------------------------------------------------------------ the session ----------

Session* g_session = nullptr;

SessionScope::SessionScope(Session& s) { g_session = &s; }
SessionScope::~SessionScope() { g_session = nullptr; }

namespace {


const char* numpy_dtype(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return "float32";
    case RC_DTYPE_F64: return "float64";
    case RC_DTYPE_F16: return "float16";
    case RC_DTYPE_BF16: return "uint16";  // bf16 bit patterns (ropecheck.torch_kernel views them as bfloat16)
    default: return "float64";
  }
}

int refuse(const rc_call* call, int status, const std::string& why) {
  if (call->reason != nullptr && call->reason_size > 0) {
    std::snprintf(call->reason, static_cast<size_t>(call->reason_size), "%s", why.c_str());
  }
  return status;
}

// A [n_tokens, n_heads, head_dim] array of the tensor's input vectors (contiguous).
py::array gather(const rc_tensor& t, int64_t n_tokens, int64_t head_dim, int32_t dtype) {
  const size_t es = props::dtype_size(dtype);
  py::array a(py::dtype(numpy_dtype(dtype)), std::vector<py::ssize_t>{n_tokens, t.n_heads, head_dim});
  char* dst = static_cast<char*>(a.mutable_data());
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < t.n_heads; ++h) {
      std::memcpy(dst + static_cast<size_t>((k * t.n_heads + h) * head_dim) * es,
                  static_cast<const char*>(t.in) + static_cast<size_t>(k * t.token_stride + h * t.head_stride) * es,
                  static_cast<size_t>(head_dim) * es);
    }
  }
  return a;
}

// The tensor as the kernel sees it: a writable [n_tokens, n_heads, head_dim] view of the call's
// output buffer with its strides (a packed qkv view stays strided, as engines pass it), the
// input vectors first copied there when the call is out of place (only the vectors: the gaps
// stay untouched).  A kernel rotating in place writes straight into the output; one returning
// arrays is scattered.  Valid during the call only.
py::array view(const rc_tensor& t, int64_t n_tokens, int64_t head_dim, int32_t dtype, std::vector<char>* saved) {
  const auto es = static_cast<py::ssize_t>(props::dtype_size(dtype));
  if (t.out != t.in) {
    for (int64_t k = 0; k < n_tokens; ++k) {
      for (int64_t h = 0; h < t.n_heads; ++h) {
        char* out = static_cast<char*>(t.out) + (k * t.out_token_stride + h * t.out_head_stride) * es;
        saved->insert(saved->end(), out, out + head_dim * es);  // what a refusal puts back
        std::memcpy(out, static_cast<const char*>(t.in) + (k * t.token_stride + h * t.head_stride) * es,
                    static_cast<size_t>(head_dim * es));
      }
    }
  }
  return py::array(py::dtype(numpy_dtype(dtype)), std::vector<py::ssize_t>{n_tokens, t.n_heads, head_dim},
                   std::vector<py::ssize_t>{t.out_token_stride * es, t.out_head_stride * es, es}, t.out, py::none());
}

// A refusal writes nothing: the output vectors view() overwrote get their bytes back.
void restore(const rc_tensor& t, int64_t n_tokens, int64_t head_dim, int32_t dtype, const std::vector<char>& saved) {
  if (t.out == t.in || saved.empty()) return;
  const auto es = static_cast<int64_t>(props::dtype_size(dtype));
  size_t at = 0;
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < t.n_heads; ++h) {
      std::memcpy(static_cast<char*>(t.out) + (k * t.out_token_stride + h * t.out_head_stride) * es, saved.data() + at,
                  static_cast<size_t>(head_dim * es));
      at += static_cast<size_t>(head_dim * es);
    }
  }
}

// Writes the invoker's (already checked: shape, dtype, C-contiguous) answer to the call's outputs.
void scatter(const py::array& a, const rc_tensor& t, int64_t n_tokens, int64_t head_dim, int32_t dtype) {
  const size_t es = props::dtype_size(dtype);
  const char* src = static_cast<const char*>(a.data());
  for (int64_t k = 0; k < n_tokens; ++k) {
    for (int64_t h = 0; h < t.n_heads; ++h) {
      std::memcpy(static_cast<char*>(t.out) + static_cast<size_t>(k * t.out_token_stride + h * t.out_head_stride) * es,
                  src + static_cast<size_t>((k * t.n_heads + h) * head_dim) * es, static_cast<size_t>(head_dim) * es);
    }
  }
}

// A read-only view of the cache (no copy: rows are filled lazily, a kernel reads the ones of
// its positions), `cols` elements per row of `row_stride`.
py::object cache_view(const void* base, int64_t rows, int64_t row_stride, int64_t cols, int32_t dtype) {
  if (base == nullptr) return py::none();
  const auto es = static_cast<py::ssize_t>(props::dtype_size(dtype));
  py::array a(py::dtype(numpy_dtype(dtype)), std::vector<py::ssize_t>{rows, cols},
              std::vector<py::ssize_t>{row_stride * es, es}, base, py::none());
  a.attr("flags").attr("writeable") = false;
  return std::move(a);
}

// The RopeSpec of an rc_spec (the plugin replays any spec; its fields mirror RopeSpec's).
RopeSpec spec_of(const rc_spec& c) {
  RopeSpec r;
  r.head_dim = c.head_dim;
  r.rotary_dim = c.rotary_dim;
  r.base = c.base;
  r.layout = static_cast<Layout>(c.layout);
  r.type = static_cast<RopeType>(c.rope_type);
  r.factor = c.factor;
  r.max_position_embeddings = c.max_position_embeddings;
  r.original_max_position_embeddings = c.original_max_position_embeddings;
  r.seq_len = c.seq_len;
  r.beta_fast = c.beta_fast;
  r.beta_slow = c.beta_slow;
  r.mscale = c.mscale;
  r.mscale_all_dim = c.mscale_all_dim;
  if (c.has_attention_factor) r.attention_factor = c.attention_factor;
  r.truncate = c.truncate != 0;
  r.low_freq_factor = c.low_freq_factor;
  r.high_freq_factor = c.high_freq_factor;
  if (c.short_factor) r.short_factor.assign(c.short_factor, c.short_factor + c.n_factors);
  if (c.long_factor) r.long_factor.assign(c.long_factor, c.long_factor + c.n_factors);
  r.rope_angles = c.rope_angles;
  if (c.n_axes > 1 && c.mrope_section != nullptr) {
    r.mrope_section.assign(c.mrope_section, c.mrope_section + c.n_axes);
    r.mrope_interleaved = c.mrope_interleaved != 0;
  } else if (c.n_axes > 1 && c.axes_dims != nullptr) {
    r.axes_dims.assign(c.axes_dims, c.axes_dims + c.n_axes);
    r.axes_dealt = c.axes_dealt != 0;
  }
  return r;
}

int adapter_apply2(const rc_spec* spec, void* /*handle*/, const rc_call* call) {
  Session& s = *g_session;
  py::gil_scoped_acquire gil;
  if (s.interrupted) return refuse(call, RC_ERR_UNSUPPORTED, "the check was interrupted (KeyboardInterrupt)");
  py::object spec_obj;
  if (s.specs.empty()) {
    spec_obj = py::cast(spec_of(*spec));
  } else {
    const auto it = std::find(s.spec_keys.begin(), s.spec_keys.end(), impl::spec_key(*spec));
    if (it == s.spec_keys.end()) {
      return refuse(call, RC_ERR_SPEC, "the Python kernel is checked on the spec(s) given to ropecheck.check only");
    }
    spec_obj = s.spec_objects[static_cast<size_t>(it - s.spec_keys.begin())];
  }
  const int64_t n = call->n_tokens, hd = spec->head_dim;
  // [n_tokens], or [n_axes, n_tokens] for a multi-axis spec (rc_call.positions, axis-major).
  const int64_t axes = spec->n_axes > 1 ? spec->n_axes : 1;
  // In the call's index dtype (int32 where the contract takes them and the caller chose it).
  const bool i32 = call->position_dtype == RC_DTYPE_I32;
  const std::vector<py::ssize_t> shape = axes > 1 ? std::vector<py::ssize_t>{axes, n} : std::vector<py::ssize_t>{n};
  py::array positions(py::dtype(i32 ? "int32" : "int64"), shape);
  const bool negative = impl::has_feature(s.desc, RC_FEATURE_NEGATIVE_POSITIONS);
  for (int64_t i = 0; i < axes * n; ++i) {
    const int64_t t = i32 ? static_cast<const int32_t*>(call->positions)[i] : static_cast<const int64_t*>(call->positions)[i];
    // A Python kernel reads no table out of bounds (an index error is an exception): the
    // adapter refuses positions outside the contract's range on its behalf, so
    // positionsBeyondMaximumAreRefused checks this refusal, not the Python code.
    if (t > s.desc.max_position || t < (negative ? -s.desc.max_position : 0)) {
      return refuse(call, RC_ERR_POSITION,
                    negative ? "position outside [-max_position, max_position] of the contract (refused by ropecheck's adapter)"
                             : "position outside [0, max_position] of the contract (refused by ropecheck's adapter)");
    }
  }
  std::memcpy(positions.mutable_data(), call->positions, static_cast<size_t>(axes * n) * (i32 ? 4 : 8));
  // Views when the kernel reads and writes one dtype; contiguous copies of the inputs otherwise.
  const bool views = s.desc.in_dtype == s.desc.out_dtype;
  std::vector<char> saved_q, saved_k;
  auto tensor = [&](const rc_tensor& t, std::vector<char>* saved) {
    return views ? view(t, n, hd, s.desc.in_dtype, saved) : gather(t, n, hd, s.desc.in_dtype);
  };
  const py::array q = tensor(call->q, &saved_q);
  const py::object k = call->k.in ? py::object(tensor(call->k, &saved_k)) : py::object(py::none());
  py::object cos = py::none(), sin = py::none();
  if (impl::cache_of(s.desc) == RC_CACHE_COS_SIN_HALVES) {
    cos = cache_view(call->cos, call->cache_rows, call->cache_row_stride, spec->rotary_dim, s.desc.cache_dtype);
  } else if (impl::cache_of(s.desc) != RC_CACHE_NONE) {
    cos = cache_view(call->cos, call->cache_rows, call->cache_row_stride, spec->rotary_dim, s.desc.cache_dtype);
    sin = cache_view(call->sin, call->cache_rows, call->cache_row_stride, spec->rotary_dim, s.desc.cache_dtype);
  }
  py::object answer;
  try {
    // rc_call.seq_len is read only where the caller's struct has it (it was appended).
    const bool has_seq_len = call->struct_size >= offsetof(rc_call, seq_len) + sizeof(call->seq_len);
    answer = s.invoker(spec_obj, positions, q, k, cos, sin, call->inverse != 0, call->rotary_offset,
                       has_seq_len ? call->seq_len : int64_t{0});
  } catch (py::error_already_set& e) {
    if (e.matches(PyExc_KeyboardInterrupt)) {
      s.interrupted = true;
      restore(call->q, n, hd, s.desc.out_dtype, saved_q);
      if (call->k.in) restore(call->k, n, hd, s.desc.out_dtype, saved_k);
      return refuse(call, RC_ERR_UNSUPPORTED, "the check was interrupted (KeyboardInterrupt)");
    }
    throw std::runtime_error(std::string("ropecheck's Python invoker failed (please report): ") + e.what());
  }
  if (py::isinstance<py::str>(answer)) throw std::runtime_error(py::cast<std::string>(answer));
  const auto out = py::cast<py::tuple>(answer);
  if (out.size() == 3) {  // ropecheck.Refused
    restore(call->q, n, hd, s.desc.out_dtype, saved_q);
    if (call->k.in) restore(call->k, n, hd, s.desc.out_dtype, saved_k);
    return refuse(call, py::cast<int>(out[1]), py::cast<std::string>(out[2]));
  }
  scatter(py::cast<py::array>(out[0]), call->q, n, hd, s.desc.out_dtype);
  if (call->k.in) scatter(py::cast<py::array>(out[1]), call->k, n, hd, s.desc.out_dtype);
  return RC_OK;
}

}  // namespace

// The adapter: the contract's fields, our entry points, the checked specs' shapes declared.
void make_adapter(Session& s, const py::dict& contract) {
  s.desc = desc_from_dict(contract);
  s.desc.name = s.name.c_str();
  s.desc.description = s.description.c_str();
  s.desc.apply2 = adapter_apply2;
  if (!s.specs.empty()) {
    uint32_t layouts = 0, scalings = 0;
    int hd_min = 1 << 30, hd_max = 0, rd_min = 1 << 30, rd_max = 0;
    for (const RopeSpec& sp : s.specs) {
      layouts |= RC_LAYOUT_BIT(static_cast<int>(sp.layout));
      scalings |= RC_SCALING_BIT(static_cast<int>(sp.type));
      hd_min = std::min(hd_min, sp.head_dim);
      hd_max = std::max(hd_max, sp.head_dim);
      rd_min = std::min(rd_min, sp.rotary_dim);
      rd_max = std::max(rd_max, sp.rotary_dim);
      s.spec_keys.push_back(props::spec_cache_key(sp));
      s.spec_objects.push_back(py::cast(sp));
    }
    s.desc.layouts = layouts;
    s.desc.scalings = scalings;
    s.desc.head_dim_min = hd_min;
    s.desc.head_dim_max = hd_max;
    s.desc.rotary_dim_min = rd_min;
    s.desc.rotary_dim_max = rd_max;
  }
  if (const impl::DescriptorProblem p = impl::check_descriptor(s.desc); !p.field.empty()) {
    throw py::value_error("contract: " + p.field + ": " + p.rule);
  }
  if (const std::string why = props::implausible_contract(s.desc); !why.empty()) throw py::value_error("contract: " + why);
}

}  // namespace ropecheck::python

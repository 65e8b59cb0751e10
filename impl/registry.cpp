#include "impl/registry.hpp"

#include "impl/abi.hpp"

#include "impl/kernels/scalar_f32_hf.hpp"
#include "impl/kernels/scalar_f64.hpp"
#include "impl/kernels/simd_sincos_f32.hpp"
#include "impl/kernels/simd_table_f32.hpp"
#include "impl/kernels/table_bf16.hpp"
#include "impl/kernels/table_f16.hpp"
#include "impl/kernels/table_f32.hpp"
#include "impl/plugin_error.hpp"

namespace ropecheck::impl {

const std::vector<const rc_kernel_desc*>& builtin_kernels() {
  static const std::vector<const rc_kernel_desc*> kernels = {
      &kScalarF32HfKernel,
      &kScalarF64Kernel,
      &kTableF32Kernel,
      &kSimdTableF32Kernel,
      &kSimdSincosF32Kernel,
      &kTableBF16Kernel,
      &kTableF16Kernel,
  };
  return kernels;
}

rc_spec default_rope_spec(int32_t head_dim, int32_t rotary_dim, int32_t layout) {
  rc_spec s{};
  s.head_dim = head_dim;
  s.rotary_dim = rotary_dim;
  s.base = 10000;
  s.layout = layout;
  s.rope_type = RC_ROPE_DEFAULT;
  s.factor = 1;
  s.beta_fast = 32;
  s.beta_slow = 1;
  s.truncate = 1;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  return s;
}

KernelSet KernelSet::with_builtins() {
  KernelSet set;
  for (const rc_kernel_desc* d : builtin_kernels()) set.add(d, "built-in");
  return set;
}

void KernelSet::add(const rc_kernel_desc* desc, std::string origin,
                    std::shared_ptr<void> keep_alive) {
  if (find(desc->name) != nullptr) {
    throw PluginError(origin, desc->name, "name",
                      "already registered by " + find(desc->name)->origin);
  }
  kernels_.push_back({desc, std::move(origin)});
  if (keep_alive) keep_alive_.push_back(std::move(keep_alive));
}

const Kernel* KernelSet::find(std::string_view name) const {
  for (const Kernel& k : kernels_) {
    if (name == k.desc->name) return &k;
  }
  return nullptr;
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return "f32";
    case RC_DTYPE_F64: return "f64";
    case RC_DTYPE_F16: return "f16";
    case RC_DTYPE_BF16: return "bf16";
    case RC_DTYPE_F64X2: return "f64x2";
    case RC_DTYPE_I64: return "i64";
    case RC_DTYPE_I32: return "i32";
    default: return "?";
  }
}
const char* cache_convention_name(int32_t convention) {
  switch (convention) {
    case RC_CACHE_NONE: return "none";
    case RC_CACHE_COS_SIN_HALVES: return "cos_sin_halves";
    case RC_CACHE_FULL_WIDTH: return "full_width";
    case RC_CACHE_REPEAT_INTERLEAVED: return "repeat_interleaved";
    default: return "?";
  }
}
const char* feature_name(uint32_t feature) {
  switch (feature) {
    case RC_FEATURE_Q_ONLY: return "q_only";
    case RC_FEATURE_QK: return "qk";
    case RC_FEATURE_INVERSE: return "inverse";
    case RC_FEATURE_ROTARY_OFFSET: return "rotary_offset";
    case RC_FEATURE_NEGATIVE_POSITIONS: return "negative_positions";
    case RC_FEATURE_THREADS: return "threads";
    case RC_FEATURE_SEQ_LEN: return "seq_len";
    case RC_FEATURE_MULTI_AXIS: return "multi_axis";
    case RC_FEATURE_AXES_DIMS: return "axes_dims";
    default: return "?";
  }
}
const char* layout_name(int32_t layout) {
  switch (layout) {
    case RC_LAYOUT_HALF_SPLIT: return "half_split";
    case RC_LAYOUT_INTERLEAVED: return "interleaved";
    default: return "?";
  }
}
const char* rope_type_name(int32_t type) {
  switch (type) {
    case RC_ROPE_DEFAULT: return "default";
    case RC_ROPE_LINEAR: return "linear";
    case RC_ROPE_NTK: return "ntk";
    case RC_ROPE_DYNAMIC: return "dynamic";
    case RC_ROPE_YARN: return "yarn";
    case RC_ROPE_LLAMA3: return "llama3";
    case RC_ROPE_LONGROPE: return "longrope";
    case RC_ROPE_PROPORTIONAL: return "proportional";
    case RC_ROPE_NONE: return "none";
    default: return "?";
  }
}
const char* angle_recipe_name(int32_t recipe) {
  switch (recipe) {
    case RC_ANGLE_F32_INVFREQ_F32_PRODUCT: return "f32_invfreq_f32_product";
    case RC_ANGLE_F64_INVFREQ_F64_PRODUCT: return "f64_invfreq_f64_product";
    case RC_ANGLE_EXACT_DD: return "exact_dd";
    case RC_ANGLE_TABLE: return "table";
    case RC_ANGLE_OTHER: return "other";
    default: return "?";
  }
}
const char* rounding_name(int32_t rounding) {
  switch (rounding) {
    case RC_ROUND_NONE: return "none";
    case RC_ROUND_NEAREST_EVEN: return "nearest_even";
    case RC_ROUND_OTHER: return "other";
    default: return "?";
  }
}

}  // namespace ropecheck::impl

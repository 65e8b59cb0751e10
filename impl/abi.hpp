// Reading a kernel descriptor whatever ABI it was written for.  An ABI 1 descriptor ends at
// `apply` (a plugin built against the old header has no memory beyond it), so its ABI 2 fields
// are never read: these accessors give what ABI 1 means instead — q-only calls with int64
// positions, cos/sin computed by the kernel, no refusal reasons.  Every reader of an ABI 2
// field goes through here.
#pragma once

#include <cstdint>

#include "impl/ropecheck_kernel.h"

namespace ropecheck::impl {

// The most rows of a cos/sin cache ropecheck builds (max_position + 1 of a cache kernel): 4 Mi
// positions, past every model's max_position_embeddings but Llama 4 Scout's 10M.  The table is
// mapped lazily; only the rows a call reads are filled.
inline constexpr int64_t kMaxCacheRows = int64_t{1} << 22;

inline bool is_abi2(const rc_kernel_desc& d) { return d.abi_version >= RC_ABI_2; }
inline uint32_t features_of(const rc_kernel_desc& d) { return is_abi2(d) ? d.features : RC_FEATURE_Q_ONLY; }
inline bool has_feature(const rc_kernel_desc& d, uint32_t feature) { return (features_of(d) & feature) != 0; }
inline uint32_t position_dtypes_of(const rc_kernel_desc& d) { return is_abi2(d) ? d.position_dtypes : RC_POSITIONS_I64; }
inline int32_t cache_of(const rc_kernel_desc& d) { return is_abi2(d) ? d.cache : static_cast<int32_t>(RC_CACHE_NONE); }
inline int32_t cache_dtype_of(const rc_kernel_desc& d) { return is_abi2(d) && d.cache != RC_CACHE_NONE ? d.cache_dtype : 0; }
inline double theta_error_per_pair_of(const rc_kernel_desc& d) { return is_abi2(d) ? d.theta_rel_error_per_pair : 0.0; }
inline rc_apply2_fn apply2_of(const rc_kernel_desc& d) { return is_abi2(d) ? d.apply2 : nullptr; }
inline rc_prepare2_fn prepare2_of(const rc_kernel_desc& d) { return is_abi2(d) ? d.prepare2 : nullptr; }

// Whether a kernel can be called any way ABI 1 could not, besides positions per axis: q and k
// together, int32 positions, a cache, the call knobs (inverse, offset, negative positions,
// threads, sequence length).  The fuzzers' inputs carry a call part, and generated cases decode
// batches, only for such kernels; an ABI 2 kernel declaring q-only int64 calls computing its own
// cos/sin (the built-in ones, for RC_FEATURE_MULTI_AXIS and RC_FEATURE_AXES_DIMS) is called as
// an ABI 1 kernel is.
inline bool calls_beyond_abi1(const rc_kernel_desc& d) {
  return is_abi2(d) && ((d.features & ~(RC_FEATURE_Q_ONLY | RC_FEATURE_MULTI_AXIS | RC_FEATURE_AXES_DIMS)) != 0 ||
                        d.position_dtypes != RC_POSITIONS_I64 || d.cache != RC_CACHE_NONE);
}

// "none", "cos_sin_halves", "full_width", "repeat_interleaved" ("?" for anything else).
const char* cache_convention_name(int32_t convention);
// "q_only,qk,inverse,..." for a feature mask.
const char* feature_name(uint32_t feature);

}  // namespace ropecheck::impl

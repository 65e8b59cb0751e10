/* A plugin whose descriptor is inconsistent: prepare without release.  The loader must
 * name the kernel and the field. */
#include "ropecheck_kernel.h"

static int bad_prepare(const rc_spec* spec, void** handle) {
  (void)spec;
  *handle = 0;
  return 0;
}
static int bad_apply(const rc_spec* spec, void* handle, const int64_t* positions,
                     int64_t n_tokens, int64_t n_heads, int64_t token_stride,
                     int64_t head_stride, const void* in, void* out) {
  (void)spec, (void)handle, (void)positions, (void)n_tokens, (void)n_heads;
  (void)token_stride, (void)head_stride, (void)in, (void)out;
  return RC_ERR_UNSUPPORTED;
}

static const rc_kernel_desc bad_kernel = {
    RC_ABI_1, "half_prepared", "prepare without release",
    RC_DTYPE_F32, RC_DTYPE_F32, RC_LAYOUT_ALL, RC_SCALING_ALL, RC_PLACE_OUT_OF_PLACE,
    1000, 2, 256, 1, 2, 256, 2,
    {RC_ANGLE_OTHER, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F32, RC_DTYPE_F32, RC_ROUND_NONE,
     0x1p-24, 4.0, 1.0, 0.0, 1.0, 2.0},
    bad_prepare, 0, bad_apply, RC_ABI1_UNUSED_FIELDS};
static const rc_kernel_desc* const kernels[] = {&bad_kernel};

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,
                                                                int32_t* abi_version) {
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return kernels;
}

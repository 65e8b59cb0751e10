/* misbehaving_plugin.c -- kernels that crash, hang or write out of bounds, for the gate's
 * isolation tests.  Built three times with MISBEHAVIOUR = 1 (segfault), 2 (hang) or 3 (write
 * one element past the output).  Each wraps the sample plugin's correct kernel and
 * misbehaves only at large positions, so the gate's edge-position sweep reaches the bad
 * call after a number of good ones and must name the case that triggered it. */
#define ropecheck_plugin_kernels sample_plugin_kernels /* keep the sample's entry point apart */
#include "sample_plugin/sample_plugin.c"
#undef ropecheck_plugin_kernels

#include <string.h>

#ifndef MISBEHAVIOUR
#error "define MISBEHAVIOUR to 1 (crash), 2 (hang) or 3 (out-of-bounds write)"
#endif

static int misbehaving_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
                             void* out) {
  int64_t max_t = 0;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] > max_t) max_t = positions[k];
  }
#if MISBEHAVIOUR == 1
  if (max_t >= 4096) {
    volatile int* volatile nowhere = NULL;
    *nowhere = 1; /* segfault */
  }
#elif MISBEHAVIOUR == 2
  if (max_t >= 65536) {
    for (volatile int spin = 1; spin;) {
    } /* hang */
  }
#endif
  const int rc = sample_apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
#if MISBEHAVIOUR == 3
  if (rc == RC_OK && out != in && n_tokens > 0 && n_heads > 0 && max_t >= 4096) {
    const int64_t last = (n_tokens - 1) * token_stride + (n_heads - 1) * head_stride + spec->head_dim - 1;
    ((float*)out)[last + 1] = 0.0f; /* one element past the end */
  }
#endif
  return rc;
}

static rc_kernel_desc misbehaving_kernel;
static const rc_kernel_desc* misbehaving_kernels[1];

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  memcpy(&misbehaving_kernel, &sample_kernel, sizeof misbehaving_kernel);
  misbehaving_kernel.name = MISBEHAVIOUR == 1 ? "crashes_at_4096" : MISBEHAVIOUR == 2 ? "hangs_at_65536" : "writes_past_end";
  misbehaving_kernel.apply = misbehaving_apply;
  misbehaving_kernels[0] = &misbehaving_kernel;
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return misbehaving_kernels;
}

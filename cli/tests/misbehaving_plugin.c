/* misbehaving_plugin.c -- kernels that crash, hang, write out of bounds or otherwise break
 * the contract, for the gate's isolation tests.  Built once per MISBEHAVIOUR:
 *   1 segfault, 2 hang, 3 write one element past the output (each at large positions only,
 *     so the gate's edge-position sweep reaches the bad call after a number of good ones and
 *     must name the case that triggered it);
 *   4 declares in-place calls only, and adds 1 to the first component of every vector (a
 *     wrong kernel that only an in-place check can see);
 *   5 lets a C++ exception out of apply at large positions (throw_from_kernel, in
 *     throwing_hook.cpp);
 *   6 calls exit(0) at large positions (a process that "ends well" without a verdict);
 *   7 is correct but declares an accuracy contract that allows anything (a reduced-angle error
 *     of 1 rad), which the commands must refuse rather than "pass". */
#define ropecheck_plugin_kernels sample_plugin_kernels /* keep the sample's entry point apart */
#include "sample_plugin/sample_plugin.c"
#undef ropecheck_plugin_kernels

#include <stdlib.h>
#include <string.h>

#if MISBEHAVIOUR == 5
void throw_from_kernel(void); /* throwing_hook.cpp: throws std::runtime_error */
#endif

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
#elif MISBEHAVIOUR == 5
  if (max_t >= 4096) throw_from_kernel();
#elif MISBEHAVIOUR == 6
  if (max_t >= 4096) exit(0);
#endif
  const int rc = sample_apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
#if MISBEHAVIOUR == 4
  if (rc == RC_OK) {
    for (int64_t k = 0; k < n_tokens; ++k) {
      for (int64_t h = 0; h < n_heads; ++h) ((float*)out)[k * token_stride + h * head_stride] += 1.0f;
    }
  }
#endif
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
  static const char* const names[] = {"", "crashes_at_4096", "hangs_at_65536", "writes_past_end",
                                      "in_place_only_wrong", "throws_at_4096", "exits_at_4096",
                                      "claims_one_radian"};
  misbehaving_kernel.name = names[MISBEHAVIOUR];
#if MISBEHAVIOUR == 4
  misbehaving_kernel.placement = RC_PLACE_IN_PLACE;
#elif MISBEHAVIOUR == 7
  misbehaving_kernel.accuracy.reduced_angle_abs_error = 1.0;
#endif
  misbehaving_kernel.apply = misbehaving_apply;
  misbehaving_kernels[0] = &misbehaving_kernel;
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return misbehaving_kernels;
}

/* misbehaving_fuzz_plugin.c -- kernels that misbehave in ways `ropecheck fuzz` and
 * `ropecheck repro` once misreported (fuzz/tests/fuzz_verdict_test.cpp).  Each wraps the
 * sample plugin's correct kernel; built once per MISBEHAVIOUR:
 *   1 exit(0) at a position >= 4096   (the process ends "cleanly" inside the kernel)
 *   2 _exit(1) at a position >= 4096  (the status the in-process driver used for a violation)
 *   3 a NaN output at a position >= 4096
 *   4 declares only head_dim 100, which the fuzz decoder never generates
 *   5 declares only in-place calls (correct: fuzzed through in-place calls, it passes)
 *   6 named like a built-in kernel ("scalar_f64")
 *   7 prepare refuses every spec (reachable on paper, never checked in practice)
 * The cli/tests misbehaving plugins cover segfaults, hangs and out-of-bounds writes. */
#define ropecheck_plugin_kernels sample_plugin_kernels /* keep the sample's entry point apart */
#include "sample_plugin/sample_plugin.c"
#undef ropecheck_plugin_kernels

#include <string.h>
#include <unistd.h>

#ifndef MISBEHAVIOUR
#error "define MISBEHAVIOUR to 1..7 (see the top of this file)"
#endif

static int misbehaving_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
                             void* out) {
  int64_t max_t = 0;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] > max_t) max_t = positions[k];
  }
  const int rc = sample_apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
  if (rc != RC_OK || max_t < 4096 || max_t > SAMPLE_MAX_POSITION) return rc;
#if MISBEHAVIOUR == 1
  exit(0);
#elif MISBEHAVIOUR == 2
  _exit(1);
#elif MISBEHAVIOUR == 3
  if (n_tokens > 0 && n_heads > 0) ((float*)out)[0] = nanf("");
#endif
  return rc;
}

static int refusing_prepare(const rc_spec* spec, void** handle) {
  (void)spec;
  (void)handle;
  return RC_ERR_SPEC;
}
static void no_release(void* handle) { (void)handle; }

static rc_kernel_desc misbehaving_kernel;
static const rc_kernel_desc* misbehaving_kernels[1];

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  static const char* const names[] = {"", "exits_0_at_4096", "exits_1_at_4096", "nan_at_4096", "head_dim_100_only",
                                      "in_place_only", "scalar_f64", "prepare_refuses"};
  memcpy(&misbehaving_kernel, &sample_kernel, sizeof misbehaving_kernel);
  misbehaving_kernel.name = names[MISBEHAVIOUR];
  misbehaving_kernel.apply = misbehaving_apply;
#if MISBEHAVIOUR == 4
  misbehaving_kernel.head_dim_min = 100;
  misbehaving_kernel.head_dim_max = 100;
#elif MISBEHAVIOUR == 5
  misbehaving_kernel.placement = RC_PLACE_IN_PLACE;
#elif MISBEHAVIOUR == 7
  misbehaving_kernel.prepare = refusing_prepare;
  misbehaving_kernel.release = no_release;
#endif
  misbehaving_kernels[0] = &misbehaving_kernel;
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return misbehaving_kernels;
}

/* batch_dependent_plugin.c -- two kernels whose output for a vector depends on the rest of the
 * batch, the defects real kernels showed (issue 15, fault 2), for the report's verdict tests
 * (cli/tests/gate_test.cpp, ReportVerdict).  Both wrap the sample plugin's correct kernel:
 *
 *   token_index_as_position    rotates token k by k * theta instead of positions[k] * theta
 *                              (wrong alone too, except at t = 0: an engine's arange bug);
 *   last_head_reads_token_0    the last head of every token is rotated by positions[0] (an
 *                              indexing slip): right in a call of one token, wrong in a batch.
 *
 * The report sweep measures many positions per call; re-measured alone, such a kernel's worst
 * case gives another value than in the batch.  That is the kernel's defect (exit 1 with a
 * counterexample), never ropecheck's (it was exit 4). */
#define ropecheck_plugin_kernels sample_plugin_kernels /* keep the sample's entry point apart */
#include "sample_plugin/sample_plugin.c"
#undef ropecheck_plugin_kernels

#include <string.h>

/* The positions the sample kernel refuses are refused here first: the wrong position each
 * kernel substitutes must not hide a position beyond the declared maximum. */
static int in_range(const int64_t* positions, int64_t n_tokens) {
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] < 0 || positions[k] > SAMPLE_MAX_POSITION) return 0;
  }
  return 1;
}

static int token_index_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  if (!in_range(positions, n_tokens)) return RC_ERR_POSITION;
  for (int64_t k = 0; k < n_tokens; ++k) {
    const int64_t wrong = k;
    const int rc = sample_apply(spec, handle, &wrong, 1, n_heads, token_stride, head_stride,
                                (const float*)in + k * token_stride, (float*)out + k * token_stride);
    if (rc != RC_OK) return rc;
  }
  return RC_OK;
}

static int last_head_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                           int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in, void* out) {
  if (!in_range(positions, n_tokens)) return RC_ERR_POSITION;
  for (int64_t k = 0; k < n_tokens && n_heads > 0; ++k) {
    const float* x = (const float*)in + k * token_stride;
    float* y = (float*)out + k * token_stride;
    int rc = sample_apply(spec, handle, &positions[k], 1, n_heads - 1, token_stride, head_stride, x, y);
    if (rc == RC_OK) {
      rc = sample_apply(spec, handle, &positions[0], 1, 1, token_stride, head_stride, x + (n_heads - 1) * head_stride,
                        y + (n_heads - 1) * head_stride);
    }
    if (rc != RC_OK) return rc;
  }
  return RC_OK;
}

static rc_kernel_desc token_index_kernel, last_head_kernel;
static const rc_kernel_desc* kernels[2];

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  memcpy(&token_index_kernel, &sample_kernel, sizeof token_index_kernel);
  token_index_kernel.name = "token_index_as_position";
  token_index_kernel.description = "test kernel: rotates token k by k*theta, not by its position";
  token_index_kernel.apply = token_index_apply;
  memcpy(&last_head_kernel, &sample_kernel, sizeof last_head_kernel);
  last_head_kernel.name = "last_head_reads_token_0";
  last_head_kernel.description = "test kernel: the last head of every token is rotated by the first token's position";
  last_head_kernel.apply = last_head_apply;
  /* Both are called the ABI 1 way (apply): the sample's apply2 would bypass them. */
  token_index_kernel.abi_version = last_head_kernel.abi_version = RC_ABI_1;
  kernels[0] = &token_index_kernel;
  kernels[1] = &last_head_kernel;
  *count = 2;
  *abi_version = ROPECHECK_ABI_VERSION;
  return kernels;
}

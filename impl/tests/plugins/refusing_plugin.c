/* refusing_plugin.c -- the sample kernel (impl/sample_plugin/sample_plugin.c, ABI 2) with a
 * prepare2 that refuses specs and says why, as an engine built without some path does.  Every
 * command shows the reason once per kernel x spec (check: text, JSON, JUnit; report: text,
 * report.json; fuzz: the "never checked" summary).  Two kernels:
 *   refuses_partial_rotary  refuses a spec whose rotary_dim is below its head_dim, checks the rest
 *   refuses_every_spec      refuses every spec (never checked: exit 2 wherever it is the only one)
 */
#define ropecheck_plugin_kernels sample_plugin_kernels /* keep the sample's entry point apart */
#include "sample_plugin/sample_plugin.c"
#undef ropecheck_plugin_kernels

#include <stdio.h>
#include <string.h>

#define REFUSING_PARTIAL_REASON "partial rotary is not built in (rotary_dim must equal head_dim)"
#define REFUSING_EVERY_REASON "built without the generic path: rebuild with ROPE_GENERIC to run this spec"

static int refusing_handle; /* a handle that needs no release */

static int say(char* reason, int32_t reason_size, const char* why) {
  if (reason != NULL && reason_size > 0) snprintf(reason, (size_t)reason_size, "%s", why);
  return 0;
}

static int partial_prepare2(const rc_spec* spec, void** handle, char* reason, int32_t reason_size) {
  if (spec->rotary_dim < spec->head_dim) {
    say(reason, reason_size, REFUSING_PARTIAL_REASON);
    return RC_ERR_SPEC;
  }
  *handle = &refusing_handle;
  return RC_OK;
}

static int every_prepare2(const rc_spec* spec, void** handle, char* reason, int32_t reason_size) {
  (void)spec;
  (void)handle;
  say(reason, reason_size, REFUSING_EVERY_REASON);
  return RC_ERR_UNSUPPORTED;
}

static rc_kernel_desc refusing_kernels_desc[2];
static const rc_kernel_desc* refusing_kernels[2];

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  memcpy(&refusing_kernels_desc[0], &sample_kernel, sizeof sample_kernel);
  refusing_kernels_desc[0].name = "refuses_partial_rotary";
  refusing_kernels_desc[0].prepare2 = partial_prepare2;
  memcpy(&refusing_kernels_desc[1], &sample_kernel, sizeof sample_kernel);
  refusing_kernels_desc[1].name = "refuses_every_spec";
  refusing_kernels_desc[1].prepare2 = every_prepare2;
  refusing_kernels[0] = &refusing_kernels_desc[0];
  refusing_kernels[1] = &refusing_kernels_desc[1];
  *count = 2;
  *abi_version = ROPECHECK_ABI_VERSION;
  return refusing_kernels;
}

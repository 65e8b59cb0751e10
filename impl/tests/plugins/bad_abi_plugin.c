/* A plugin built against a different ABI version: the loader must refuse it (exit 2). */
#include "ropecheck_kernel.h"

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count,
                                                                int32_t* abi_version) {
  *count = 0;
  *abi_version = 42; /* no ABI of ropecheck (1 and 2 are) */
  return 0;
}

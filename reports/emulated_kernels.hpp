// Emulated low-precision kernels for the paper checks (issue 8 item 3), clearly labelled as
// emulations: they are NOT built-in kernels (the registry does not list them) and exist only
// so the shift-invariance table of "When Precision Meets Position" (Wang et al. 2024) can be
// reproduced through the same KernelRunner / C ABI as every real kernel.
//   emul_bf16_angle   the HF recipe with the angle formed in bf16: inv_freq, the position and
//                     the product t*inv_freq rounded to bf16 (what running HF's RotaryEmbedding
//                     under torch.autocast/bf16 does); fp32 cos/sin and rotation.
//   emul_bf16_sincos  the HF fp32 angle, cos/sin rounded to bf16 (a bf16 cos/sin cache), fp32
//                     rotation, fp32 in/out.
#pragma once

#include "impl/ropecheck_kernel.h"

namespace ropecheck::report {

extern const rc_kernel_desc kEmulBf16AngleKernel;
extern const rc_kernel_desc kEmulBf16SincosKernel;

}  // namespace ropecheck::report

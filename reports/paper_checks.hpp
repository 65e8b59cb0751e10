// Paper checks (issue 8 item 3), computed through the same KernelRunner / oracle as the rest:
//  - the shift-invariance table in the style of "When Precision Meets Position" (Wang et al.
//    2024, Table 1): mean |s(m+Δ, n+Δ) − s_exact| over random (q, k), d = 128, base 1e4,
//    m − n = 16, Δ ∈ {0, 16, 1024, 8192, 32768, 131056}; s_exact is the oracle's closed form
//    for the kernel's actual (dtype-rounded) inputs, which does not depend on Δ;
//  - RoFormer's long-term decay (Su et al. 2021, §3.4.3, Fig. 2): (1/(d/2))·Σ_j |S_j| with
//    S_j = Σ_{k<j} e^{i(m−n)θ_k}, against the relative distance m − n, from the oracle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "reference/oracle.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::report {

// d = 128, base 1e4, default scaling, half-split (the paper's setting).
RopeSpec paper_spec();

struct ShiftRow {
  std::string kernel;
  std::string what;   // one line: dtype / recipe, "EMULATION" when it is one
  std::vector<double> mean_abs_diff;  // per Δ
  std::vector<double> max_abs_diff;   // per Δ
};
struct ShiftTable {
  std::vector<int64_t> deltas{0, 16, 1024, 8192, 32768, 131056};
  int64_t m_minus_n = 16;
  int samples = 0;
  uint64_t seed = 0;
  double mean_abs_score = 0;  // scale: mean |s_exact| (fp32 inputs)
  std::vector<ShiftRow> rows;
};
// One row per kernel (each must support paper_spec()).
ShiftTable shift_invariance_table(const std::vector<std::pair<const rc_kernel_desc*, std::string>>& kernels,
                                  const ref::Oracle& oracle, int samples, uint64_t seed);

struct DecayCurve {
  std::vector<int64_t> distance;
  std::vector<double> mean_abs_s;  // (1/(d/2)) Σ_{j=1}^{d/2} |S_j|
};
DecayCurve roformer_decay(const ref::Oracle& oracle, int64_t max_distance);

}  // namespace ropecheck::report

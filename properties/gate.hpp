// The default spec set of the gate (`ropecheck check` without --spec/--hf-config): every
// variant and both layouts, partial rotary, and real model configurations; `ropecheck report`
// and the tests select from the same set.
#pragma once

#include <vector>

#include "reference/rope_spec.hpp"

namespace ropecheck::props {

std::vector<RopeSpec> default_gate_specs();

}  // namespace ropecheck::props

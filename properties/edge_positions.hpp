// design.md's edge positions, read from the versioned hard-case file
// properties/hard_cases/edge_positions.txt (compiled in), plus every power of two 2^k and
// 2^k ± 1 up to 2^63 - 1, and the positions each spec and kernel add: the scaling's L0 and
// L0 ± 1, max_position_embeddings ± 1, the kernel's declared maximum and the value below it.
#pragma once

#include <cstdint>
#include <vector>

#include "reference/rope_spec.hpp"

namespace ropecheck::props {

// The positions of the hard-case file, in file order.
const std::vector<int64_t>& listed_edge_positions();

// Sorted, unique edge positions in [0, max_position] for this spec.
std::vector<int64_t> edge_positions(const RopeSpec& spec, int64_t max_position);

}  // namespace ropecheck::props

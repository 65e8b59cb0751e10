// A small set of specs covering every variant and both layouts, for reference tests.
#pragma once

#include <vector>

#include "rope_spec.hpp"

namespace ropecheck::testing {

// A spec with its shape, base, type and layout set and max_position_embeddings 4096; the
// caller adds the variant's parameters.
inline RopeSpec basic_spec(int head_dim, int rotary_dim, double base, RopeType type,
                           Layout layout = Layout::kHalfSplit) {
  RopeSpec s;
  s.head_dim = head_dim;
  s.rotary_dim = rotary_dim;
  s.base = base;
  s.layout = layout;
  s.type = type;
  s.max_position_embeddings = 4096;
  return s;
}

inline std::vector<RopeSpec> sample_specs() {
  std::vector<RopeSpec> out;
  const auto make = [](int head_dim, int rotary_dim, double base, Layout layout, RopeType type) {
    return basic_spec(head_dim, rotary_dim, base, type, layout);
  };
  out.push_back(make(16, 16, 10000, Layout::kInterleaved, RopeType::kDefault));
  out.push_back(make(12, 8, 10000, Layout::kHalfSplit, RopeType::kDefault));  // partial
  RopeSpec lin = make(10, 10, 1e6, Layout::kHalfSplit, RopeType::kLinear);
  lin.factor = 4;
  out.push_back(lin);
  RopeSpec ntk = make(16, 16, 10000, Layout::kInterleaved, RopeType::kNtk);
  ntk.factor = 3;
  out.push_back(ntk);
  RopeSpec dyn = make(16, 12, 10000, Layout::kHalfSplit, RopeType::kDynamic);
  dyn.factor = 2;
  dyn.seq_len = 10000;
  out.push_back(dyn);
  RopeSpec yarn = make(32, 32, 10000, Layout::kHalfSplit, RopeType::kYarn);
  yarn.factor = 16;
  yarn.original_max_position_embeddings = 4096;
  out.push_back(yarn);
  RopeSpec llama = make(24, 24, 500000, Layout::kInterleaved, RopeType::kLlama3);
  llama.factor = 8;
  llama.original_max_position_embeddings = 8192;
  out.push_back(llama);
  RopeSpec lr = make(8, 8, 10000, Layout::kHalfSplit, RopeType::kLongrope);
  lr.factor = 32;
  lr.max_position_embeddings = 131072;
  lr.original_max_position_embeddings = 4096;
  lr.seq_len = 131072;
  lr.short_factor = {1, 1.25, 1.5, 2};
  lr.long_factor = {1, 2, 8, 32};
  out.push_back(lr);
  RopeSpec prop = make(16, 16, 1e6, Layout::kHalfSplit, RopeType::kProportional);
  prop.factor = 2;
  prop.rope_angles = 3;  // pairs 3..7 at θ = 0
  out.push_back(prop);
  // No rope (NoPE layers): every θ = 0; partial rotary, so pass-through dims stay covered.
  out.push_back(make(12, 8, 500000, Layout::kInterleaved, RopeType::kNone));
  return out;
}

}  // namespace ropecheck::testing

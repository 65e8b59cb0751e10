#include "properties/gate.hpp"

namespace ropecheck::props {

std::vector<RopeSpec> default_gate_specs() {
  std::vector<RopeSpec> out;
  auto make = [](const char* name, int head_dim, int rotary_dim, double base, Layout layout, RopeType type,
                 double factor, int64_t max_pos, int64_t l0) {
    RopeSpec s;
    s.name = name;
    s.head_dim = head_dim;
    s.rotary_dim = rotary_dim;
    s.base = base;
    s.layout = layout;
    s.type = type;
    s.factor = factor;
    s.max_position_embeddings = max_pos;
    s.original_max_position_embeddings = l0;
    return s;
  };
  out.push_back(make("default d128 half-split", 128, 128, 1e4, Layout::kHalfSplit, RopeType::kDefault, 1, 4096, 0));
  out.push_back(make("default d64 interleaved", 64, 64, 1e4, Layout::kInterleaved, RopeType::kDefault, 1, 2048, 0));
  out.push_back(make("partial d80/32 (phi-2)", 80, 32, 1e4, Layout::kHalfSplit, RopeType::kDefault, 1, 2048, 0));
  out.push_back(make("linear s4 d96", 96, 96, 1e4, Layout::kInterleaved, RopeType::kLinear, 4, 8192, 0));
  out.push_back(make("ntk s8 d64", 64, 64, 1e4, Layout::kHalfSplit, RopeType::kNtk, 8, 4096, 0));
  RopeSpec dyn = make("dynamic s2 d128", 128, 128, 1e4, Layout::kHalfSplit, RopeType::kDynamic, 2, 4096, 0);
  dyn.seq_len = 16384;
  out.push_back(dyn);
  out.push_back(make("yarn s16 d128 (design.md)", 128, 128, 1e4, Layout::kHalfSplit, RopeType::kYarn, 16, 65536, 4096));
  RopeSpec yarn2 = make("yarn s40 d64 deepseek-style", 64, 64, 1e4, Layout::kInterleaved, RopeType::kYarn, 40, 163840, 4096);
  yarn2.mscale = 1.0;
  yarn2.mscale_all_dim = 1.0;
  yarn2.beta_fast = 32;
  out.push_back(yarn2);
  RopeSpec llama = make("llama3 (Llama-3.1-8B)", 128, 128, 500000, Layout::kHalfSplit, RopeType::kLlama3, 8, 131072, 8192);
  out.push_back(llama);
  RopeSpec lr = make("longrope d96 (Phi-3 style)", 96, 96, 1e4, Layout::kHalfSplit, RopeType::kLongrope, 32, 131072, 4096);
  lr.seq_len = 131072;
  for (int j = 0; j < 48; ++j) {
    lr.short_factor.push_back(1.0 + j / 32.0);
    lr.long_factor.push_back(1.0 + j * j / 64.0);
  }
  out.push_back(lr);
  for (const RopeSpec& s : out) validate(s);
  return out;
}

}  // namespace ropecheck::props

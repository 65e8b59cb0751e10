#include "properties/c_spec.hpp"

#include <algorithm>

namespace ropecheck::props {

CSpec::CSpec(const RopeSpec& s)
    : short_factor_(s.short_factor), long_factor_(s.long_factor), mrope_section_(s.mrope_section.begin(), s.mrope_section.end()),
      axes_dims_(s.axes_dims.begin(), s.axes_dims.end()) {
  spec_.head_dim = s.head_dim;
  spec_.rotary_dim = s.rotary_dim;
  spec_.base = s.base;
  spec_.layout = s.layout == Layout::kInterleaved ? RC_LAYOUT_INTERLEAVED : RC_LAYOUT_HALF_SPLIT;
  spec_.rope_type = static_cast<int32_t>(s.type);  // same order, checked below
  static_assert(static_cast<int>(RopeType::kNone) == RC_ROPE_NONE &&
                static_cast<int>(RopeType::kProportional) == RC_ROPE_PROPORTIONAL &&
                static_cast<int>(RopeType::kLongrope) == RC_ROPE_LONGROPE &&
                static_cast<int>(RopeType::kYarn) == RC_ROPE_YARN &&
                static_cast<int>(RopeType::kDefault) == RC_ROPE_DEFAULT);
  spec_.factor = s.factor;
  spec_.max_position_embeddings = s.max_position_embeddings;
  spec_.original_max_position_embeddings = s.original_max_position_embeddings;
  spec_.seq_len = s.seq_len;
  spec_.beta_fast = s.beta_fast;
  spec_.beta_slow = s.beta_slow;
  spec_.mscale = s.mscale;
  spec_.mscale_all_dim = s.mscale_all_dim;
  spec_.has_attention_factor = s.attention_factor.has_value() ? 1 : 0;
  spec_.attention_factor = s.attention_factor.value_or(0.0);
  spec_.truncate = s.truncate ? 1 : 0;
  spec_.low_freq_factor = s.low_freq_factor;
  spec_.high_freq_factor = s.high_freq_factor;
  spec_.rope_angles = s.rope_angles;
  spec_.n_axes = s.n_axes();
  spec_.mrope_interleaved = s.mrope_interleaved ? 1 : 0;
  spec_.axes_dealt = s.axes_dealt ? 1 : 0;
  repoint();
}
CSpec::CSpec(const CSpec& o)
    : spec_(o.spec_), short_factor_(o.short_factor_), long_factor_(o.long_factor_), mrope_section_(o.mrope_section_),
      axes_dims_(o.axes_dims_) {
  repoint();
}
CSpec& CSpec::operator=(const CSpec& o) {
  spec_ = o.spec_;
  short_factor_ = o.short_factor_;
  long_factor_ = o.long_factor_;
  mrope_section_ = o.mrope_section_;
  axes_dims_ = o.axes_dims_;
  repoint();
  return *this;
}
void CSpec::repoint() {
  const bool has = !short_factor_.empty() || !long_factor_.empty();
  spec_.short_factor = short_factor_.empty() ? nullptr : short_factor_.data();
  spec_.long_factor = long_factor_.empty() ? nullptr : long_factor_.data();
  spec_.n_factors =
      has ? static_cast<int32_t>(std::max(short_factor_.size(), long_factor_.size())) : 0;
  spec_.mrope_section = mrope_section_.empty() ? nullptr : mrope_section_.data();
  spec_.axes_dims = axes_dims_.empty() ? nullptr : axes_dims_.data();
}
CSpec to_c_spec(const RopeSpec& spec) { return CSpec(spec); }

}  // namespace ropecheck::props

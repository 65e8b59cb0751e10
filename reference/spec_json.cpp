// ropecheck's own spec JSON (README.md, "Spec files"): reader, writer and file loader.
#include <nlohmann/json.hpp>

#include "input_file.hpp"
#include "rope_spec.hpp"
#include "spec_reading.hpp"

namespace ropecheck {

using nlohmann::json;
using namespace detail;

namespace {


void reject_unknown_keys(const json& obj, const std::string& prefix,
                         std::initializer_list<const char*> known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      throw SpecError(prefix + it.key(), "unknown field (known: " + list + ")");
    }
  }
}

// linear, ntk, dynamic and yarn have no meaningful default factor (HF requires it for all but
// ntk, which is ropecheck's own name); a missing one used to be checked silently as 1.
bool factor_required(RopeType type) {
  return type == RopeType::kLinear || type == RopeType::kNtk || type == RopeType::kDynamic ||
         type == RopeType::kYarn;
}

}  // namespace

RopeSpec spec_from_json_text(const std::string& text, const std::string& origin) {
  const json j = parse_json_document(text, origin);
  if (!j.is_object()) throw SpecError(origin, "must be a JSON object");
  reject_unknown_keys(j, "", {"name", "head_dim", "rotary_dim", "base", "layout",
                              "max_position_embeddings", "seq_len", "scaling", "mrope_section",
                              "mrope_interleaved", "axes_dims", "axes_frequencies", "comment"});
  RopeSpec s;
  auto has = [&](const char* k) { return j.contains(k) && !j.at(k).is_null(); };
  if (has("name")) {
    // A bare NaN / Infinity reaches here as the marker string: not a name.
    if (!j.at("name").is_string() || is_nonfinite_marker(j.at("name"))) throw SpecError("name", "must be a string");
    s.name = j.at("name").get<std::string>();
  }
  // The comment is free-form and ignored, but NaN / Infinity is refused anywhere (README).
  if (j.contains("comment") && holds_nonfinite_marker(j.at("comment"))) {
    throw SpecError("comment", "must not hold NaN or Infinity (not JSON)");
  }
  if (!has("head_dim")) throw SpecError("head_dim", "is required");
  s.head_dim = get_small_int(j, "head_dim", "head_dim");
  s.rotary_dim = has("rotary_dim") ? get_small_int(j, "rotary_dim", "rotary_dim") : s.head_dim;
  if (has("base")) s.base = get_double(j, "base", "base");
  if (has("layout")) {
    const json& l = j.at("layout");
    const std::string v = l.is_string() ? l.get<std::string>() : "";
    if (v == "half_split" || v == "neox") {
      s.layout = Layout::kHalfSplit;
    } else if (v == "interleaved" || v == "gptj") {
      s.layout = Layout::kInterleaved;
    } else {
      throw SpecError("layout", "must be \"half_split\" or \"interleaved\", got " + l.dump());
    }
  }
  if (has("max_position_embeddings")) {
    s.max_position_embeddings = get_int(j, "max_position_embeddings", "max_position_embeddings");
  }
  if (has("seq_len")) s.seq_len = get_int(j, "seq_len", "seq_len");
  if (has("mrope_section")) s.mrope_section = get_int_list(j, "mrope_section", "mrope_section");
  if (has("mrope_interleaved")) {
    s.mrope_interleaved = get_bool(j, "mrope_interleaved", "mrope_interleaved");
    if (s.mrope_section.empty()) throw SpecError("mrope_interleaved", "needs mrope_section (the pairs of each axis)");
  }
  // N-D RoPE (rope_spec.hpp): components per axis, and how the frequencies are laid out.
  if (has("axes_dims")) s.axes_dims = get_int_list(j, "axes_dims", "axes_dims");
  if (has("axes_frequencies")) {
    const json& v = j.at("axes_frequencies");
    const std::string how = v.is_string() ? v.get<std::string>() : "";
    if (how != "per_axis" && how != "dealt") {
      throw SpecError("axes_frequencies", "must be \"per_axis\" (FLUX, Qwen2-VL ViT) or \"dealt\" (Pixtral), got " + v.dump());
    }
    if (s.axes_dims.empty()) throw SpecError("axes_frequencies", "needs axes_dims (the components of each axis)");
    s.axes_dealt = how == "dealt";
  }
  bool factor_given = false;
  if (has("scaling")) {
    const json& sc = j.at("scaling");
    if (!sc.is_object()) throw SpecError("scaling", "must be an object");
    reject_unknown_keys(sc, "scaling.",
                        {"type", "factor", "original_max_position_embeddings", "beta_fast",
                         "beta_slow", "mscale", "mscale_all_dim", "attention_factor", "truncate",
                         "low_freq_factor", "high_freq_factor", "short_factor", "long_factor",
                         "rope_angles"});
    if (!sc.contains("type") || !sc.at("type").is_string()) {
      throw SpecError("scaling.type", "is required (a string)");
    }
    s.type = parse_rope_type(sc.at("type").get<std::string>(), "scaling.type");
    read_scaling_fields(sc, "scaling", s);
    if (sc.contains("rope_angles") && !sc.at("rope_angles").is_null()) {
      s.rope_angles = get_small_int(sc, "rope_angles", "scaling.rope_angles");
    } else if (s.type == RopeType::kProportional) {
      s.rope_angles = s.pairs();  // HF's partial_rotary_factor 1.0: every pair turns
    }
    factor_given = sc.contains("factor") && !sc.at("factor").is_null();
    if (factor_required(s.type) && !factor_given) {
      throw SpecError("scaling.factor", std::string("is required for ") + to_string(s.type) + " scaling");
    }
  }
  apply_type_defaults(s, factor_given);
  // rotary_dim defaults to head_dim: then a rule on it is about the head_dim the user wrote.
  FieldNames names = own_names();
  if (!has("rotary_dim")) names["rotary_dim"] = "head_dim";
  validate_with(s, names);
  return s;
}

RopeSpec load_spec_file(const std::string& path) {
  return spec_from_json_text(read_input_file(path, "spec file"), path);
}

std::string spec_to_json_text(const RopeSpec& s, int indent) {
  json j;
  if (!s.name.empty()) j["name"] = s.name;
  j["head_dim"] = s.head_dim;
  j["rotary_dim"] = s.rotary_dim;
  j["base"] = s.base;
  j["layout"] = to_string(s.layout);
  if (s.max_position_embeddings) j["max_position_embeddings"] = s.max_position_embeddings;
  if (s.seq_len) j["seq_len"] = s.seq_len;
  if (!s.mrope_section.empty()) {
    j["mrope_section"] = s.mrope_section;
    j["mrope_interleaved"] = s.mrope_interleaved;
  }
  if (!s.axes_dims.empty()) {
    j["axes_dims"] = s.axes_dims;
    j["axes_frequencies"] = s.axes_dealt ? "dealt" : "per_axis";
  }
  if (s.type != RopeType::kDefault) {
    json sc;
    sc["type"] = to_string(s.type);
    if (s.type != RopeType::kNone) sc["factor"] = s.factor;  // none reads no scaling field
    if (s.original_max_position_embeddings) {
      sc["original_max_position_embeddings"] = s.original_max_position_embeddings;
    }
    if (s.type == RopeType::kYarn) {
      sc["beta_fast"] = s.beta_fast;
      sc["beta_slow"] = s.beta_slow;
      sc["mscale"] = s.mscale;
      sc["mscale_all_dim"] = s.mscale_all_dim;
      sc["truncate"] = s.truncate;
    }
    if (s.attention_factor) sc["attention_factor"] = *s.attention_factor;
    if (s.type == RopeType::kLlama3) {
      sc["low_freq_factor"] = s.low_freq_factor;
      sc["high_freq_factor"] = s.high_freq_factor;
    }
    if (s.type == RopeType::kProportional) sc["rope_angles"] = s.rope_angles;
    if (s.type == RopeType::kLongrope) {
      sc["short_factor"] = s.short_factor;
      sc["long_factor"] = s.long_factor;
    }
    j["scaling"] = sc;
  }
  return j.dump(indent);
}

}  // namespace ropecheck

// A model's HuggingFace config.json (transformers modeling_rope_utils semantics): the keys
// ropecheck reads (rope_theta, rope_scaling, head_dim or hidden_size / num_attention_heads,
// partial_rotary_factor, max_position_embeddings), named as the config spells them.
#include <nlohmann/json.hpp>

#include "input_file.hpp"
#include "rope_spec.hpp"
#include "spec_reading.hpp"

namespace ropecheck {

using nlohmann::json;
using namespace detail;

namespace {

// HF's spelling of ropecheck's field names: rope_theta for base, rope_scaling for scaling.
// (rotary_dim and L0 depend on the keys a config has: spec_from_hf_config_text.)
FieldNames hf_names() {
  FieldNames names = own_names();
  for (auto& entry : names) {
    if (entry.second.rfind("scaling.", 0) == 0) entry.second = "rope_" + entry.second;
  }
  names["base"] = "rope_theta";
  return names;
}

// HF's rope_scaling keys (transformers modeling_rope_utils: _validate_*_parameters and
// _check_received_keys, with "type" the older spelling of "rope_type").  A key HF defines for
// no rope type is rejected: ropecheck would ignore it, so a typo ("factr") or an unsupported
// model-specific key (Phi-3.5-MoE's short_mscale) would change nothing, silently.  A key HF
// defines for another type is accepted, as HF accepts it (with a warning) and ignores it.  A
// key HF requires for this type is required.
void check_hf_rope_scaling_keys(const json& sc, RopeType type, const std::string& type_name) {
  static const std::vector<std::string> known = {
      "rope_type", "type", "factor", "original_max_position_embeddings", "attention_factor",
      "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "short_factor",
      "long_factor", "low_freq_factor", "high_freq_factor"};
  std::vector<std::string> required;
  // HF's proportional reads its rotated share from the rope parameters themselves.
  const bool share_here = type == RopeType::kProportional && sc.contains("partial_rotary_factor");
  switch (type) {
    case RopeType::kDefault: break;
    case RopeType::kLinear:
    case RopeType::kNtk:
    case RopeType::kDynamic:
    case RopeType::kYarn: required = {"factor"}; break;
    case RopeType::kLlama3:
      required = {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"};
      break;
    case RopeType::kLongrope: required = {"short_factor", "long_factor"}; break;
    case RopeType::kProportional: break;  // HF requires rope_type and rope_theta only
  }
  for (auto it = sc.begin(); it != sc.end(); ++it) {
    bool ok = share_here && it.key() == "partial_rotary_factor";
    for (const std::string& k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      if (it.key() == "short_mscale" || it.key() == "long_mscale") {
        // Phi-3.5-MoE (HF modeling_phimoe) scales cos and sin by one of these, chosen by length.
        throw SpecError("rope_scaling." + it.key(),
                        "is Phi-3.5-MoE's own attention scale, which ropecheck does not model; to check "
                        "the longrope part, remove short_mscale and long_mscale and give \"attention_factor\": "
                        "the one that applies to the length you check (long_mscale beyond "
                        "original_max_position_embeddings)");
      }
      throw SpecError("rope_scaling." + it.key(),
                      "unknown key: HF's rope_scaling defines " + list + " (ropecheck would ignore it)");
    }
  }
  for (const std::string& k : required) {
    if (!sc.contains(k) || sc.at(k).is_null()) {
      throw SpecError("rope_scaling." + k, "is required for rope_type \"" + type_name + "\" (as in HF)");
    }
  }
}

}  // namespace

RopeSpec spec_from_hf_config_text(const std::string& text, const std::string& origin) {
  const json j = parse_json_document(text, origin);
  if (!j.is_object()) throw SpecError(origin, "must be a JSON object");
  auto has = [&](const json& o, const char* k) { return o.contains(k) && !o.at(k).is_null(); };
  RopeSpec s;
  // The name is a label: a key that is not a string (a bare NaN arrives as the marker
  // string) is passed over, as HF keys ropecheck does not read are.
  const auto text_of = [&](const char* k) {
    return has(j, k) && j.at(k).is_string() && !is_nonfinite_marker(j.at(k)) ? j.at(k).get<std::string>() : "";
  };
  s.name = text_of("_name_or_path");
  if (s.name.empty()) s.name = text_of("model_type");
  if (has(j, "rope_theta")) s.base = get_double(j, "rope_theta", "rope_theta");
  // Messages name the keys this config has: a value ropecheck derived is named by the keys it
  // came from (an odd head_dim used to be reported as "partial_rotary_factor" when the config
  // had none).
  FieldNames names = hf_names();

  if (has(j, "head_dim")) {
    s.head_dim = get_small_int(j, "head_dim", "head_dim");
  } else {
    if (!has(j, "hidden_size") || !has(j, "num_attention_heads")) {
      throw SpecError("head_dim",
                      "is required (or hidden_size and num_attention_heads to derive it)");
    }
    const int64_t hidden = get_int(j, "hidden_size", "hidden_size");
    const int64_t heads = get_int(j, "num_attention_heads", "num_attention_heads");
    if (heads <= 0) throw SpecError("num_attention_heads", "must be > 0");
    if (hidden <= 0 || hidden % heads != 0) {
      throw SpecError("hidden_size", "must be a positive multiple of num_attention_heads = " +
                                         std::to_string(heads));
    }
    if (hidden / heads > INT32_MAX) throw SpecError("hidden_size", "is out of range");
    s.head_dim = static_cast<int>(hidden / heads);
    names["head_dim"] = "hidden_size / num_attention_heads";
  }
  s.rotary_dim = s.head_dim;
  names["rotary_dim"] = names["head_dim"];
  if (has(j, "partial_rotary_factor")) {
    const double prf = get_double(j, "partial_rotary_factor", "partial_rotary_factor");
    if (!(prf > 0 && prf <= 1)) {
      throw SpecError("partial_rotary_factor", "must be in (0, 1], got " + fmt(prf));
    }
    // HF: dim = int(head_dim * partial_rotary_factor) (truncation, in binary64).
    s.rotary_dim = static_cast<int>(static_cast<double>(s.head_dim) * prf);
    names["rotary_dim"] = "partial_rotary_factor";
    if (s.rotary_dim < 2 || s.rotary_dim % 2 != 0) {
      // Show the product: the factor alone does not say what went wrong.
      throw SpecError("partial_rotary_factor",
                      "gives rotary_dim = int(" + names["head_dim"] + " " + std::to_string(s.head_dim) + " * " +
                          fmt(prf) + ") = " + std::to_string(s.rotary_dim) + ", which must be " +
                          (s.rotary_dim < 2 ? "at least 2" : "even (components are rotated in pairs)"));
    }
  }
  if (has(j, "max_position_embeddings")) {
    s.max_position_embeddings = get_int(j, "max_position_embeddings", "max_position_embeddings");
  }
  // Phi-3 keeps L0 at the top level (rope_scaling's, when given too, wins below).
  if (has(j, "original_max_position_embeddings")) {
    s.original_max_position_embeddings =
        get_int(j, "original_max_position_embeddings", "original_max_position_embeddings");
    names["original_max_position_embeddings"] = "original_max_position_embeddings";
  }

  bool factor_given = false;
  if (has(j, "rope_scaling")) {
    const json& sc = j.at("rope_scaling");
    if (!sc.is_object()) throw SpecError("rope_scaling", "must be an object or null");
    std::string type = "default";
    if (has(sc, "rope_type")) {
      if (!sc.at("rope_type").is_string()) throw SpecError("rope_scaling.rope_type", "must be a string");
      type = sc.at("rope_type").get<std::string>();
    } else if (has(sc, "type")) {
      if (!sc.at("type").is_string()) throw SpecError("rope_scaling.type", "must be a string");
      type = sc.at("type").get<std::string>();
    } else {
      throw SpecError("rope_scaling.rope_type", "is required when rope_scaling is given");
    }
    s.type = parse_rope_type(type, has(sc, "rope_type") ? "rope_scaling.rope_type"
                                                        : "rope_scaling.type");
    check_hf_rope_scaling_keys(sc, s.type, type);
    read_scaling_fields(sc, "rope_scaling", s);
    factor_given = has(sc, "factor");
    if (s.type == RopeType::kProportional) {
      // HF _compute_proportional_rope_parameters: the share over the whole head (default 1.0).
      const bool own = has(sc, "partial_rotary_factor");
      const std::string key = own ? "rope_scaling.partial_rotary_factor" : "partial_rotary_factor";
      set_proportional_share(s, own || has(j, "partial_rotary_factor")
                                    ? get_double(own ? sc : j, "partial_rotary_factor", key) : 1.0, key);
      names["rotary_dim"] = names["head_dim"];
      names["rope_angles"] = key;
    }
    if (has(sc, "original_max_position_embeddings")) {
      names["original_max_position_embeddings"] = "rope_scaling.original_max_position_embeddings";
    }
  }
  if (s.type == RopeType::kLongrope && s.original_max_position_embeddings > 0 &&
      s.max_position_embeddings > 0) {
    // HF's longrope takes s = max_position_embeddings / original_max_position_embeddings.
    factor_given = false;
    names["factor"] = "max_position_embeddings / " + names["original_max_position_embeddings"];
  }
  apply_type_defaults(s, factor_given);
  validate_with(s, names);
  return s;
}

RopeSpec load_hf_config_file(const std::string& path) {
  return spec_from_hf_config_text(read_input_file(path, "HF config"), path);
}

}  // namespace ropecheck

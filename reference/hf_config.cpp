// A model's HuggingFace config.json (transformers modeling_rope_utils semantics): the keys
// ropecheck reads, named as the config spells them.  One config can hold several ropes: one
// per layer type (HF `layer_types`, e.g. Gemma 3's sliding_attention / full_attention), plus
// layers with none (Llama 4's `no_rope_layers`).  Every key that changes the rope is read or
// refused naming it: a key ropecheck skipped would check the model with the wrong rope, and
// nobody would be told.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "input_file.hpp"
#include "rope_spec.hpp"
#include "spec_reading.hpp"

namespace ropecheck {

using nlohmann::json;
using namespace detail;

namespace {

bool has(const json& o, const std::string& k) { return o.contains(k) && !o.at(k).is_null(); }

// HF's spelling of ropecheck's field names for a rope read from `params` (rope_scaling, or a
// rope_parameters entry): base is rope_theta, the scaling fields are params.<key>.
FieldNames hf_names(const std::string& prefix, const std::string& params) {
  FieldNames names = own_names();
  for (auto& entry : names) {
    if (entry.second.rfind("scaling.", 0) == 0) entry.second = params + entry.second.substr(7);
  }
  for (const char* k : {"head_dim", "rotary_dim", "max_position_embeddings"}) names[k] = prefix + k;
  names["base"] = prefix + "rope_theta";
  return names;
}

// HF's rope_scaling keys (transformers modeling_rope_utils: _validate_*_parameters and
// _check_received_keys, with "type" the older spelling of "rope_type").  A key HF defines for
// no rope type is rejected: ropecheck would ignore it, so a typo ("factr") or an unsupported
// model-specific key (Phi-3.5-MoE's short_mscale) would change nothing, silently.  A key HF
// defines for another type is accepted, as HF accepts it (with a warning) and ignores it.  A
// key HF requires for this type is required.  `extra` lists what the params may hold besides
// (rope_parameters also holds rope_theta and partial_rotary_factor).
void check_hf_rope_scaling_keys(const json& sc, RopeType type, const std::string& type_name,
                                const std::string& path, const std::vector<std::string>& extra) {
  std::vector<std::string> known = {
      "rope_type", "type", "factor", "original_max_position_embeddings", "attention_factor",
      "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "short_factor",
      "long_factor", "low_freq_factor", "high_freq_factor", "alpha", "mrope_section", "mrope_interleaved"};
  known.insert(known.end(), extra.begin(), extra.end());
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
    case RopeType::kNone: break;          // not an HF rope_type: read_rope refuses it first
  }
  for (auto it = sc.begin(); it != sc.end(); ++it) {
    if (share_here && it.key() == "partial_rotary_factor") continue;
    if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    if (it.key() == "short_mscale" || it.key() == "long_mscale") {
      // Phi-3.5-MoE (HF modeling_phimoe) scales cos and sin by one of these, chosen by length.
      throw SpecError(path + "." + it.key(),
                      "is Phi-3.5-MoE's own attention scale, which ropecheck does not model; to check "
                      "the longrope part, remove short_mscale and long_mscale and give \"attention_factor\": "
                      "the one that applies to the length you check (long_mscale beyond "
                      "original_max_position_embeddings)");
    }
    throw SpecError(path + "." + it.key(),
                    "unknown key: HF's rope_scaling defines " + list + " (ropecheck would ignore it)");
  }
  for (const std::string& k : required) {
    if (!has(sc, k)) {
      throw SpecError(path + "." + k, "is required for rope_type \"" + type_name + "\" (as in HF)");
    }
  }
}

// Keys that change the rope in some model's code but have no meaning ropecheck models: each
// is refused naming it and saying why (checking without it would check another rope).
void refuse_unmodelled_keys(const json& t, const std::string& prefix) {
  static const std::vector<std::pair<const char*, const char*>> refused = {
      {"rope_ratio",
       "is ChatGLM's remote-code scale of the base (THUDM modeling_chatglm: base = 10000 * rope_ratio, "
       "with its own rotary split and pair order), not an HF transformers key; give the model's "
       "rope_theta, head_dim and partial_rotary_factor as HF's glm/glm4 configs do"},
      {"rotary_dim",
       "is GPT-J/CodeGen's count of rotated dims, which those models rotate in interleaved pairs "
       "(HF modeling_gptj); ropecheck reads partial_rotary_factor, and does not infer the layout from "
       "this key: write a ropecheck spec (--spec) with rotary_dim and \"layout\": \"interleaved\""},
      {"global_head_dim",
       "is Gemma 4's head size of its full-attention layers, other than head_dim (its sliding "
       "layers'); ropecheck does not read per-layer head sizes yet, and checking those layers with "
       "head_dim would check another rope: write a ropecheck spec (--spec) per layer type"},
      {"rotary_emb_fraction",
       "is NomicBERT's remote-code partial rotary factor (with its own interleave flag); give "
       "partial_rotary_factor, or write a ropecheck spec (--spec)"},
  };
  for (const auto& [key, why] : refused) {
    if (t.contains(key)) throw SpecError(prefix + key, why);
  }
}

// The binary64 value of a double-valued key, or nullopt when the config does not give it.
std::optional<double> optional_double(const json& t, const std::string& key, const std::string& path) {
  if (!has(t, key)) return std::nullopt;
  return get_double(t, key, path);
}

// HF: dim = int(head_dim * partial_rotary_factor) (truncation, in binary64).  `key` names the
// factor (partial_rotary_factor, or GPT-NeoX's rotary_pct); `head_name` what head_dim came from.
int rotary_dim_from_factor(int head_dim, double prf, const std::string& key, const std::string& head_name) {
  if (!(prf > 0 && prf <= 1)) throw SpecError(key, "must be in (0, 1], got " + fmt(prf));
  const int rd = static_cast<int>(static_cast<double>(head_dim) * prf);
  if (rd < 2 || rd % 2 != 0) {
    // Show the product: the factor alone does not say what went wrong.
    throw SpecError(key, "gives rotary_dim = int(" + head_name + " " + std::to_string(head_dim) + " * " + fmt(prf) +
                             ") = " + std::to_string(rd) + ", which must be " +
                             (rd < 2 ? "at least 2" : "even (components are rotated in pairs)"));
  }
  return rd;
}

// One of two spellings of a value (GPT-NeoX's rotary_pct for partial_rotary_factor,
// rotary_emb_base for rope_theta): read whichever is given; both is refused unless equal, as
// which one a port reads is the kind of thing that differs between ports.
std::optional<double> one_of(const json& t, const std::string& prefix, const std::string& key,
                             const std::string& alias, std::string* used) {
  const auto a = optional_double(t, key, prefix + key), b = optional_double(t, alias, prefix + alias);
  if (a && b && *a != *b) {
    throw SpecError(prefix + alias, "is GPT-NeoX's name for " + key + ", which this config also gives with "
                                        "another value (" + fmt(*a) + " vs " + fmt(*b) + "): give one");
  }
  *used = prefix + (a ? key : alias);
  return a ? a : b;
}

// What every rope of the text model shares: head geometry, base, lengths, layout.
struct TextModel {
  RopeSpec spec;
  FieldNames names;
  std::string prefix;  // "text_config." for a multimodal config, else ""
  std::string model_type;
  bool mla = false;  // DeepSeek's multi-head latent attention: the rope is on a slice of the head
  int mla_nope_head_dim = 0;
  bool partial_given = false;
};

TextModel read_text_model(const json& t, const std::string& prefix, const std::string& model_type) {
  TextModel m;
  m.prefix = prefix;
  m.model_type = model_type;
  RopeSpec& s = m.spec;
  m.names = hf_names(prefix, prefix + "rope_scaling");
  FieldNames& names = m.names;
  refuse_unmodelled_keys(t, prefix);

  std::string base_key;
  if (const auto b = one_of(t, prefix, "rope_theta", "rotary_emb_base", &base_key)) {
    s.base = *b;
    names["base"] = base_key;
  }
  if (has(t, "qk_rope_head_dim")) {
    // MLA (DeepSeek-V2/V3, Kimi-K2): q = [nope | rope], the rope on the last qk_rope_head_dim
    // dims, all of them rotated.  HF DeepseekV3Config sets head_dim = qk_rope_head_dim for its
    // rotary embedding (a head_dim key is overridden so), and DeepseekV3Attention rotates the
    // slice with apply_rotary_pos_emb_interleave when rope_interleave (default true) -- pairs
    // (2i, 2i+1), as DeepSeek's own code and HF's DeepseekV2 (complex multiply) do.  HF leaves
    // the rotated slice de-interleaved (both q and k alike, so scores are unchanged); ropecheck
    // checks the rotation of each pair in place.
    m.mla = true;
    s.head_dim = get_small_int(t, "qk_rope_head_dim", prefix + "qk_rope_head_dim");
    names["head_dim"] = prefix + "qk_rope_head_dim";
    s.rotary_dim = s.head_dim;
    names["rotary_dim"] = names["head_dim"];
    if (has(t, "qk_nope_head_dim")) {
      m.mla_nope_head_dim = get_small_int(t, "qk_nope_head_dim", prefix + "qk_nope_head_dim");
      if (m.mla_nope_head_dim < 0) throw SpecError(prefix + "qk_nope_head_dim", "must be >= 0");
    }
    const bool interleave = has(t, "rope_interleave") ? get_bool(t, "rope_interleave", prefix + "rope_interleave") : true;
    s.layout = interleave ? Layout::kInterleaved : Layout::kHalfSplit;
    for (const char* k : {"partial_rotary_factor", "rotary_pct"}) {
      if (has(t, k)) {
        throw SpecError(prefix + k, "is not read with qk_rope_head_dim (MLA rotates all qk_rope_head_dim dims)");
      }
    }
    return m;
  }
  if (has(t, "rope_interleave")) {
    throw SpecError(prefix + "rope_interleave", "is read with qk_rope_head_dim (DeepSeek MLA) only");
  }
  if (has(t, "head_dim")) {
    s.head_dim = get_small_int(t, "head_dim", prefix + "head_dim");
  } else {
    if (!has(t, "hidden_size") || !has(t, "num_attention_heads")) {
      throw SpecError(prefix + "head_dim", "is required (or hidden_size and num_attention_heads to derive it)");
    }
    const int64_t hidden = get_int(t, "hidden_size", prefix + "hidden_size");
    const int64_t heads = get_int(t, "num_attention_heads", prefix + "num_attention_heads");
    if (heads <= 0) throw SpecError(prefix + "num_attention_heads", "must be > 0");
    if (hidden <= 0 || hidden % heads != 0) {
      throw SpecError(prefix + "hidden_size", "must be a positive multiple of num_attention_heads = " +
                                                  std::to_string(heads));
    }
    if (hidden / heads > INT32_MAX) throw SpecError(prefix + "hidden_size", "is out of range");
    s.head_dim = static_cast<int>(hidden / heads);
    names["head_dim"] = prefix + "hidden_size / num_attention_heads";
  }
  s.rotary_dim = s.head_dim;
  names["rotary_dim"] = names["head_dim"];
  // GPT-NeoX spells partial_rotary_factor rotary_pct (HF GPTNeoXConfig; rotary_ndims =
  // int(head_size * rotary_pct)).
  std::string prf_key;
  if (const auto prf = one_of(t, prefix, "partial_rotary_factor", "rotary_pct", &prf_key)) {
    s.rotary_dim = rotary_dim_from_factor(s.head_dim, *prf, prf_key, names["head_dim"]);
    names["rotary_dim"] = prf_key;
    m.partial_given = true;
  } else if (model_type == "glm" || model_type == "glm4") {
    // HF GlmConfig / Glm4Config default partial_rotary_factor to 0.5 (__post_init__:
    // kwargs.setdefault("partial_rotary_factor", 0.5)), and modeling_rope_utils
    // _compute_default_rope_parameters rotates dim = int(head_dim * partial_rotary_factor): a GLM
    // config without the key (THUDM's HF-format glm-4-9b-chat) rotates half the head, not all of it.
    // It counts as given, so a rope_parameters share that differs is refused as for a written one.
    const std::string key = prefix + "partial_rotary_factor (HF GlmConfig default 0.5)";
    s.rotary_dim = rotary_dim_from_factor(s.head_dim, 0.5, key, names["head_dim"]);
    names["rotary_dim"] = key;
    m.partial_given = true;
  }
  // HF's model code rotates pairs (2i, 2i+1) for these model types, not rotate_half's (i,
  // i + d/2): modeling_llama4 apply_rotary_emb multiplies view_as_complex(x.reshape(..., -1, 2))
  // by freqs_cis (its checkpoints are not permuted to rotate_half order, unlike Llama 2/3's);
  // modeling_cohere and modeling_glm (glm4 reuses it) rotate_half take x[..., 0::2] and
  // x[..., 1::2] with cos/sin repeat_interleave'd.  Every other model type is rotate_half.
  static const std::set<std::string> interleaved = {"llama4", "llama4_text", "cohere", "glm", "glm4"};
  if (interleaved.count(model_type)) s.layout = Layout::kInterleaved;
  return m;
}

// One rope from its parameters (`params`: rope_scaling, or a rope_parameters entry, at
// `path`; null for the unscaled default).  `in_parameters`: HF's rope_parameters form, where
// rope_type defaults to "default" and rope_theta / partial_rotary_factor may sit inside.
RopeSpec read_rope(const TextModel& m, const json* params, const std::string& path, bool in_parameters,
                   const json& t) {
  RopeSpec s = m.spec;
  FieldNames names = m.names;
  for (auto& entry : names) {
    const std::string scaling = m.prefix + "rope_scaling";
    if (entry.second.rfind(scaling + ".", 0) == 0) entry.second = path + entry.second.substr(scaling.size());
  }
  // Phi-3 keeps L0 at the top level (rope_scaling's, when given too, wins below).
  if (has(t, "original_max_position_embeddings")) {
    s.original_max_position_embeddings =
        get_int(t, "original_max_position_embeddings", m.prefix + "original_max_position_embeddings");
    names["original_max_position_embeddings"] = m.prefix + "original_max_position_embeddings";
  }
  bool factor_given = false;
  if (params != nullptr) {
    const json& sc = *params;
    if (!sc.is_object()) throw SpecError(path, "must be an object or null");
    std::string type = "default";
    std::string type_path = path + ".rope_type";
    if (has(sc, "rope_type")) {
      if (!sc.at("rope_type").is_string()) throw SpecError(path + ".rope_type", "must be a string");
      type = sc.at("rope_type").get<std::string>();
    } else if (has(sc, "type")) {
      if (!sc.at("type").is_string()) throw SpecError(path + ".type", "must be a string");
      type = sc.at("type").get<std::string>();
      type_path = path + ".type";
    } else if (!in_parameters) {
      throw SpecError(path + ".rope_type", "is required when rope_scaling is given");
    }
    // Qwen2-VL / Qwen2.5-VL spell M-RoPE's rope_scaling as {"type": "mrope", "mrope_section": [...]};
    // HF's Qwen2VLConfig turns that type into "default" (the sections say the axes).
    if (type == "mrope" && has(sc, "mrope_section")) type = "default";
    // "none" is ropecheck's own name for a layer without rope; HF has no such rope_type (its NoPE
    // layers are listed by no_rope_layers, which is read, and checked as type none).
    if (type == "none") {
      throw SpecError(type_path, "\"none\" is not an HF rope_type: layers without rope are given by no_rope_layers "
                                 "(or layer_types), and ropecheck checks those as rope type none");
    }
    s.type = parse_rope_type(type, type_path);
    check_hf_rope_scaling_keys(sc, s.type, type, path,
                               in_parameters ? std::vector<std::string>{"rope_theta", "partial_rotary_factor"}
                                             : std::vector<std::string>{});
    read_scaling_fields(sc, path, s);
    factor_given = has(sc, "factor");
    // M-RoPE (HF qwen2_vl / qwen2_5_vl: mrope_section; qwen3_vl: and mrope_interleaved): the
    // pairs of each axis (rope_spec.hpp).  Only the exact reference evaluates such a rope so far.
    if (has(sc, "mrope_section")) {
      s.mrope_section = get_int_list(sc, "mrope_section", path + ".mrope_section");
      names["mrope_section"] = path + ".mrope_section";
    }
    if (has(sc, "mrope_interleaved")) {
      s.mrope_interleaved = get_bool(sc, "mrope_interleaved", path + ".mrope_interleaved");
      if (s.mrope_section.empty()) throw SpecError(path + ".mrope_interleaved", "needs mrope_section (the pairs of each axis)");
    }
    if (s.type == RopeType::kProportional) {
      // HF _compute_proportional_rope_parameters: the share over the whole head (default 1.0),
      // read from the rope's own parameters or the text model's; it sets rope_angles, and the
      // pairing stays over the whole head (rotary_dim = head_dim, set_proportional_share).
      const bool own = has(sc, "partial_rotary_factor");
      const std::string key = own ? path + ".partial_rotary_factor" : m.prefix + "partial_rotary_factor";
      set_proportional_share(s, own || has(t, "partial_rotary_factor")
                                    ? get_double(own ? sc : t, "partial_rotary_factor", key) : 1.0, key);
      names["rotary_dim"] = names["head_dim"];
      names["rope_angles"] = key;
    }
    if (has(sc, "original_max_position_embeddings")) {
      names["original_max_position_embeddings"] = path + ".original_max_position_embeddings";
    }
    if (in_parameters && has(sc, "rope_theta")) {
      s.base = get_double(sc, "rope_theta", path + ".rope_theta");
      names["base"] = path + ".rope_theta";
    }
    if (in_parameters && has(sc, "partial_rotary_factor") && s.type != RopeType::kProportional) {
      const std::string key = path + ".partial_rotary_factor";
      if (m.mla) throw SpecError(key, "is not read with qk_rope_head_dim (MLA rotates all qk_rope_head_dim dims)");
      s.rotary_dim = rotary_dim_from_factor(s.head_dim, get_double(sc, "partial_rotary_factor", key), key,
                                            names["head_dim"]);
      // HF standardize_rope_params lets a top-level partial_rotary_factor overwrite this one.
      if (m.partial_given && s.rotary_dim != m.spec.rotary_dim) {
        throw SpecError(key, "differs from the top-level " + names["rotary_dim"] + " (HF's standardize_rope_params "
                             "lets that one win): give one");
      }
      names["rotary_dim"] = key;
    }
    if (has(sc, "alpha")) {
      // HunYuan's "dynamic" with alpha is a static NTK base: b' = b * alpha^(d/(d-2)), whatever
      // the sequence length (Hunyuan's modeling code, HunYuanDynamicNTKAlphaRotaryEmbedding;
      // vLLM's get_rope picks DynamicNTKAlphaRotaryEmbedding for "dynamic" with "alpha") --
      // ropecheck's ntk with factor alpha.  With partial rotary, which d the exponent uses
      // (head_dim or rotary_dim) is not settled across ports, so that is refused.
      if (s.type != RopeType::kDynamic) {
        throw SpecError(path + ".alpha", "is HunYuan's dynamic-NTK alpha, defined with rope_type \"dynamic\" only");
      }
      if (s.rotary_dim != s.head_dim) {
        throw SpecError(path + ".alpha", "with partial rotary is ambiguous (the exponent d/(d-2) with d = head_dim "
                                         "or rotary_dim differs between ports)");
      }
      s.type = RopeType::kNtk;
      s.factor = get_double(sc, "alpha", path + ".alpha");
      names["factor"] = path + ".alpha";
      factor_given = true;
    }
  }
  if (s.type == RopeType::kLongrope && s.original_max_position_embeddings > 0 &&
      s.max_position_embeddings > 0) {
    // HF's longrope takes s = max_position_embeddings / original_max_position_embeddings.
    factor_given = false;
    names["factor"] = names["max_position_embeddings"] + " / " + names["original_max_position_embeddings"];
  }
  apply_type_defaults(s, factor_given);
  validate_with(s, names);
  return s;
}

bool is_gemma3(const std::string& model_type) { return model_type == "gemma3" || model_type == "gemma3_text"; }

// The layers of the text model: each one's HF layer type ("" when the config names none) and
// whether it has a rope.  Empty when the config lists no layers (one rope for all of them).
struct Layers {
  std::vector<std::string> type;
  std::vector<bool> rope;
  bool named = false;  // the config gives (or HF derives) layer_types
};

int64_t num_layers(const json& t, const std::string& prefix, const std::string& why) {
  if (!has(t, "num_hidden_layers")) throw SpecError(prefix + "num_hidden_layers", "is required " + why);
  const int64_t n = get_int(t, "num_hidden_layers", prefix + "num_hidden_layers");
  if (n < 1 || n > 100000) throw SpecError(prefix + "num_hidden_layers", "must be in [1, 100000], got " + std::to_string(n));
  return n;
}

Layers read_layers(const json& t, const std::string& prefix, const std::string& model_type) {
  Layers l;
  if (has(t, "layer_types")) {
    const json& lt = t.at("layer_types");
    if (!lt.is_array() || lt.empty()) throw SpecError(prefix + "layer_types", "must be a non-empty array of strings");
    for (size_t i = 0; i < lt.size(); ++i) {
      if (!lt[i].is_string() || is_nonfinite_marker(lt[i])) {
        throw SpecError(prefix + "layer_types[" + std::to_string(i) + "]", "must be a string");
      }
      l.type.push_back(lt[i].get<std::string>());
    }
    // HF layer_type_validation: one entry per layer.
    if (has(t, "num_hidden_layers") &&
        static_cast<int64_t>(l.type.size()) != num_layers(t, prefix, "")) {
      throw SpecError(prefix + "layer_types", "has " + std::to_string(l.type.size()) +
                                                  " entries, but num_hidden_layers is " +
                                                  std::to_string(num_layers(t, prefix, "")));
    }
    l.named = true;
  } else if (has(t, "sliding_window_pattern") || is_gemma3(model_type)) {
    // HF Gemma3TextConfig: layer i is sliding_attention unless (i + 1) % pattern == 0
    // (sliding_window_pattern, default 6; full_attention every pattern-th layer).
    if (!is_gemma3(model_type)) {
      throw SpecError(prefix + "sliding_window_pattern",
                      "is read as Gemma 3's (HF Gemma3TextConfig) for model_type gemma3 only; other models "
                      "(e.g. Cohere2, whose full-attention layers have no rope) differ: give layer_types");
    }
    int64_t pattern = 6;
    if (has(t, "sliding_window_pattern")) {
      pattern = get_int(t, "sliding_window_pattern", prefix + "sliding_window_pattern");
      if (pattern < 1) throw SpecError(prefix + "sliding_window_pattern", "must be >= 1");
    }
    const int64_t n = num_layers(t, prefix, "to derive the layer types from sliding_window_pattern");
    for (int64_t i = 0; i < n; ++i) l.type.push_back((i + 1) % pattern != 0 ? "sliding_attention" : "full_attention");
    l.named = true;
  }
  const bool llama4 = model_type == "llama4" || model_type == "llama4_text";
  std::vector<bool> rope;
  if (has(t, "no_rope_layers") && !t.at("no_rope_layers").empty()) {
    // HF Llama4TextConfig (and SmolLM3): no_rope_layers[i] is 1 for a layer with rope, 0 for one without.
    const json& nr = t.at("no_rope_layers");
    if (!nr.is_array()) throw SpecError(prefix + "no_rope_layers", "must be an array of 0 and 1");
    for (size_t i = 0; i < nr.size(); ++i) {
      if (!nr[i].is_number_integer() || (nr[i].get<int64_t>() != 0 && nr[i].get<int64_t>() != 1)) {
        throw SpecError(prefix + "no_rope_layers[" + std::to_string(i) + "]",
                        "must be 1 (the layer has rope) or 0 (it has none)");
      }
      rope.push_back(nr[i].get<int64_t>() == 1);
    }
    if (has(t, "num_hidden_layers")) {
      const int64_t n = num_layers(t, prefix, "");
      if (static_cast<int64_t>(rope.size()) < n) {
        throw SpecError(prefix + "no_rope_layers", "has " + std::to_string(rope.size()) +
                                                       " entries, fewer than num_hidden_layers = " + std::to_string(n));
      }
      rope.resize(static_cast<size_t>(n));
    }
  } else if (llama4 || has(t, "no_rope_layer_interval")) {
    // HF Llama4TextConfig: absent or empty, every no_rope_layer_interval-th layer (default 4)
    // has no rope: no_rope_layers[i] = int((i + 1) % interval != 0).
    int64_t interval = 4;
    if (has(t, "no_rope_layer_interval")) {
      interval = get_int(t, "no_rope_layer_interval", prefix + "no_rope_layer_interval");
      if (interval < 1) throw SpecError(prefix + "no_rope_layer_interval", "must be >= 1");
    }
    const int64_t n = num_layers(t, prefix, "to derive the layers without rope (no_rope_layer_interval)");
    for (int64_t i = 0; i < n; ++i) rope.push_back((i + 1) % interval != 0);
  }
  if (!rope.empty() && llama4 && !l.named) {
    // HF Llama4TextConfig: layer_types = "chunked_attention" for a rope layer, else "full_attention".
    for (bool r : rope) l.type.push_back(r ? "chunked_attention" : "full_attention");
    l.named = true;
  }
  if (!rope.empty() && !l.type.empty() && rope.size() != l.type.size()) {
    throw SpecError(prefix + "no_rope_layers", "has " + std::to_string(rope.size()) + " entries, layer_types " +
                                                   std::to_string(l.type.size()));
  }
  if (l.type.empty() && !rope.empty()) l.type.assign(rope.size(), "");
  if (rope.empty()) rope.assign(l.type.size(), true);
  // Qwen3-Next's linear_attention layers (Gated DeltaNet) have no attention and no rope.
  for (size_t i = 0; i < l.type.size(); ++i) rope[i] = rope[i] && l.type[i] != "linear_attention";
  l.rope = std::move(rope);
  return l;
}

std::string text_of(const json& j, const char* k) {
  // The name is a label: a key that is not a string (a bare NaN arrives as the marker
  // string) is passed over, as HF keys ropecheck does not read are.
  return has(j, k) && j.at(k).is_string() && !is_nonfinite_marker(j.at(k)) ? j.at(k).get<std::string>() : "";
}

// Keys of the text model that a multimodal config might also give at its top level.
const std::vector<std::string>& text_model_keys() {
  static const std::vector<std::string> keys = {
      "rope_theta", "rope_scaling", "rope_parameters", "head_dim", "hidden_size", "num_attention_heads",
      "partial_rotary_factor", "max_position_embeddings", "original_max_position_embeddings",
      "rotary_pct", "rotary_emb_base", "qk_rope_head_dim", "qk_nope_head_dim", "rope_interleave",
      "rope_local_base_freq", "sliding_window_pattern", "layer_types", "no_rope_layers",
      "no_rope_layer_interval", "num_hidden_layers", "rope_ratio", "rotary_dim", "rotary_emb_fraction"};
  return keys;
}

// The vision tower's 2-D rope of a multimodal config (its `vision_config`), as an N-D spec
// (axes h, w: a patch's row and column), or no spec for a tower without rope.
//  - Qwen2-VL, Qwen2.5-VL, Qwen3-VL (HF qwen2_vl VisionRotaryEmbedding(head_dim // 2),
//    theta 10000 -- not a config key --, rot_pos_emb's [h freqs | w freqs], then
//    apply_rotary_pos_emb_vision's cat(freqs, freqs) with rotate_half; qwen3_vl
//    Qwen3VLVisionRotaryEmbedding the same): per-axis widths [head_dim/2, head_dim/2],
//    half-split.  head_dim = embed_dim / num_heads for Qwen2-VL (its vision hidden_size is the
//    merger's output, 3584 for the 7B), hidden_size / num_heads for the later ones.  Rows and
//    columns have no limit in the config (the image processor's max_pixels 12845056 and aspect
//    ratio <= 200 keep them below ~3,700 patches): positions up to 2^14 per axis.
//  - Pixtral (HF PixtralRotaryEmbedding: freqs of the whole head_dim, freqs[::2] to rows,
//    freqs[1::2] to columns, [h | w], rotate_half): dealt [head_dim/2, head_dim/2], half-split,
//    rope_theta (default 10000), positions below image_size / patch_size per axis.
// Any other vision_config with rope keys is refused naming the key: its rope is not read.
std::optional<RopeSpec> read_vision_rope(const json& j, const std::string& top_model_type, const std::string& name) {
  if (!j.contains("vision_config") || !j.at("vision_config").is_object()) return std::nullopt;
  const json& v = j.at("vision_config");
  const std::string p = "vision_config.";
  std::string type = text_of(v, "model_type");
  static const std::set<std::string> qwen = {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe"};
  if (type.empty() && qwen.count(top_model_type)) type = top_model_type;
  const auto positive = [&](const char* key) {
    if (!has(v, key)) throw SpecError(p + key, std::string("is required to read the ") + type + " vision tower's rope (its head_dim, and for Pixtral its positions per axis)");
    const int64_t x = get_int(v, key, p + key);
    if (x < 1) throw SpecError(p + key, "must be >= 1");
    return x;
  };
  RopeSpec s;
  s.name = name + "/vision";
  s.layout = Layout::kHalfSplit;
  if (qwen.count(type)) {
    for (const char* k : {"rope_theta", "rope_scaling", "rope_parameters"}) {
      if (has(v, k)) throw SpecError(p + k, "is not read by HF's " + type + " vision tower (its rope has theta 10000): remove it");
    }
    const char* width = type == "qwen2_vl" ? "embed_dim" : "hidden_size";
    const int64_t w = positive(width), heads = positive("num_heads");
    if (w % heads != 0 || (w / heads) % 4 != 0) {
      throw SpecError(p + width, "/ num_heads must be a head_dim divisible by 4 (two axes of head_dim/2 rotary components), got " +
                                     std::to_string(w) + " / " + std::to_string(heads));
    }
    s.head_dim = static_cast<int>(w / heads);
    s.base = 10000.0;
    s.max_position_embeddings = int64_t{1} << 14;
  } else if (type == "pixtral") {
    for (const char* k : {"rope_scaling", "rope_parameters"}) {
      if (has(v, k)) throw SpecError(p + k, "is not read by HF's Pixtral vision tower: remove it");
    }
    s.head_dim = has(v, "head_dim") ? static_cast<int>(positive("head_dim"))
                                    : static_cast<int>(positive("hidden_size") / positive("num_attention_heads"));
    if (s.head_dim % 4 != 0) throw SpecError(p + "head_dim", "must be divisible by 4 (two axes of head_dim/2 rotary components)");
    s.base = has(v, "rope_theta") ? get_double(v, "rope_theta", p + "rope_theta") : 10000.0;
    s.max_position_embeddings = positive("image_size") / positive("patch_size");
    s.axes_dealt = true;
  } else {
    for (const char* k : {"rope_theta", "rope_scaling", "rope_parameters"}) {
      if (v.contains(k)) {
        throw SpecError(p + k, "a vision tower of model_type \"" + type +
                                   "\" has a rope ropecheck does not read (it reads Qwen2-VL, Qwen2.5-VL, Qwen3-VL and Pixtral "
                                   "towers); to check the language model's rope, remove vision_config");
      }
    }
    return std::nullopt;  // no rope (SigLIP, CLIP)
  }
  s.rotary_dim = s.head_dim;
  s.axes_dims = {s.head_dim / 2, s.head_dim / 2};
  validate(s);
  return s;
}

}  // namespace

HfModelRopes ropes_from_hf_config_text(const std::string& text, const std::string& origin) {
  const json j = parse_json_document(text, origin);
  if (!j.is_object()) throw SpecError(origin, "must be a JSON object");
  std::string name = text_of(j, "_name_or_path");
  if (name.empty()) name = text_of(j, "model_type");

  // A diffusion transformer's config with N-D RoPE (diffusers FluxTransformer2DModel and its
  // followers: `axes_dims_rope`, the widths of the (text/frame, row, column) axes): each axis a
  // rope of its own width (black-forest-labs flux EmbedND / diffusers FluxPosEmbed), pairs
  // (2i, 2i+1), θ = 10000 (FluxPosEmbed(theta=10000), not in the config; `rope_theta` is read
  // where a config gives it).
  if (j.contains("axes_dims_rope")) {
    RopeSpec s;
    s.name = name.empty() ? text_of(j, "_class_name") : name;
    if (!has(j, "attention_head_dim")) throw SpecError("attention_head_dim", "is required with axes_dims_rope (the head width)");
    s.head_dim = static_cast<int>(get_int(j, "attention_head_dim", "attention_head_dim"));
    s.rotary_dim = s.head_dim;
    s.axes_dims = get_int_list(j, "axes_dims_rope", "axes_dims_rope");
    int64_t sum = 0;
    for (int w : s.axes_dims) sum += w;
    if (sum != s.head_dim) {
      throw SpecError("axes_dims_rope", "must sum to attention_head_dim = " + std::to_string(s.head_dim) + ", got " + std::to_string(sum));
    }
    s.base = has(j, "rope_theta") ? get_double(j, "rope_theta", "rope_theta") : 10000.0;
    s.layout = Layout::kInterleaved;
    try {
      validate(s);
    } catch (const SpecError& e) {  // named as the config names it
      throw SpecError(e.field() == "axes_dims" ? "axes_dims_rope" : e.field(), e.rule());
    }
    HfModelRopes out;
    out.ropes.push_back({s, "", {}});
    return out;
  }

  // A multimodal config (Gemma 3, Llama 4, Mistral 3, Qwen2.5-VL...) holds the language
  // model in text_config, which HF's get_text_config() returns and the text model reads;
  // its keys at the top level are not read by HF, so one that disagrees is refused.
  const json* t = &j;
  std::string prefix;
  if (j.contains("text_config") && !j.at("text_config").is_null()) {
    if (!j.at("text_config").is_object()) throw SpecError("text_config", "must be an object");
    t = &j.at("text_config");
    prefix = "text_config.";
    for (const std::string& k : text_model_keys()) {
      if (j.contains(k) && (!t->contains(k) || t->at(k) != j.at(k))) {
        throw SpecError(k, "is given at the top level, but this config has a text_config, which HF's text model "
                           "reads instead (" + std::string(t->contains(k) ? "with another value" : "without it") +
                               "): move it into text_config");
      }
    }
  }
  std::string model_type = text_of(*t, "model_type");
  if (model_type.empty()) model_type = text_of(j, "model_type");
  if (name.empty()) name = model_type;
  // The vision tower's own rope (2-D, per patch row and column): one more spec, "<model>/vision".
  const std::optional<RopeSpec> vision = read_vision_rope(j, text_of(j, "model_type"), name);
  if (model_type == "cohere2") {
    throw SpecError("model_type", "cohere2 rotates interleaved pairs on its sliding-window layers only (HF "
                                  "modeling_cohere2); ropecheck does not read that model type yet");
  }

  TextModel m = read_text_model(*t, prefix, model_type);
  m.spec.name = name;
  if (has(*t, "max_position_embeddings")) {
    m.spec.max_position_embeddings = get_int(*t, "max_position_embeddings", prefix + "max_position_embeddings");
  }
  const Layers layers = read_layers(*t, prefix, model_type);

  // Where each layer type's rope comes from.  HF modeling_rope_utils standardize_rope_params:
  // rope_parameters keyed by layer type gives one rope per type (each defaulting rope_theta to
  // the top-level one); a flat rope_parameters, or the older rope_scaling + rope_theta, is one
  // rope for all layers -- except Gemma 3's older form (HF Gemma3TextConfig
  // convert_rope_params_to_dict): sliding_attention layers default with rope_local_base_freq
  // (default 1e4, unscaled), full_attention layers rope_theta with rope_scaling.
  const std::string rp = prefix + "rope_parameters", rs = prefix + "rope_scaling";
  if (has(*t, "rope_parameters") && has(*t, "rope_scaling")) {
    throw SpecError(rs, "and rope_parameters are both given (HF reads rope_scaling then, older configs only): give one");
  }
  const json* params = has(*t, "rope_parameters") ? &t->at("rope_parameters")
                       : has(*t, "rope_scaling") ? &t->at("rope_scaling") : nullptr;
  const bool in_parameters = has(*t, "rope_parameters");
  if (params != nullptr && !params->is_object()) throw SpecError(in_parameters ? rp : rs, "must be an object or null");
  const bool nested = in_parameters && !params->empty() &&
                      std::all_of(params->begin(), params->end(), [](const json& v) { return v.is_object(); });
  std::set<std::string> types(layers.type.begin(), layers.type.end());
  if (nested) {
    if (!layers.named) {
      throw SpecError(rp, "is keyed by layer type, but the config gives no layer_types");
    }
    for (auto it = params->begin(); it != params->end(); ++it) {
      if (!types.count(it.key())) throw SpecError(rp + "." + it.key(), "is not a layer type of layer_types");
    }
  }
  const bool gemma_legacy = !in_parameters && (is_gemma3(model_type) || has(*t, "rope_local_base_freq"));
  if (has(*t, "rope_local_base_freq") && (in_parameters || !types.count("sliding_attention"))) {
    throw SpecError(prefix + "rope_local_base_freq",
                    in_parameters ? "is the older form of rope_parameters.sliding_attention.rope_theta: give one"
                                  : "is the base of sliding_attention layers (HF Gemma 3), but no layer is one");
  }

  HfModelRopes out;
  out.mla_qk_nope_head_dim = m.mla_nope_head_dim;
  const bool several_types = types.size() > 1;
  for (size_t i = 0; i < layers.type.size(); ++i) {
    if (!layers.rope[i]) out.layers_without_rope.push_back(static_cast<int>(i));
  }
  std::vector<std::string> order;  // layer types with rope, in the order of their first layer
  for (size_t i = 0; i < layers.type.size(); ++i) {
    if (layers.rope[i] && std::find(order.begin(), order.end(), layers.type[i]) == order.end()) {
      order.push_back(layers.type[i]);
    }
  }
  if (layers.type.empty()) order.push_back("");
  for (const std::string& type : order) {
    HfLayerRope r;
    r.layer_type = type;
    for (size_t i = 0; i < layers.type.size(); ++i) {
      if (layers.rope[i] && layers.type[i] == type) r.layers.push_back(static_cast<int>(i));
    }
    if (nested) {
      if (!params->contains(type)) throw SpecError(rp + "." + type, "is missing: layer_types has " + type + " layers");
      r.spec = read_rope(m, &params->at(type), rp + "." + type, true, *t);
    } else if (gemma_legacy && type == "sliding_attention") {
      TextModel local = m;
      local.spec.base = 10000.0;  // HF Gemma3TextConfig's default rope_local_base_freq
      local.names["base"] = prefix + "rope_local_base_freq";
      if (has(*t, "rope_local_base_freq")) {
        local.spec.base = get_double(*t, "rope_local_base_freq", prefix + "rope_local_base_freq");
      }
      r.spec = read_rope(local, nullptr, rs, false, *t);
    } else {
      r.spec = read_rope(m, params, in_parameters ? rp : rs, in_parameters, *t);
    }
    if (several_types) r.spec.name = name + "/" + type;
    out.ropes.push_back(std::move(r));
  }
  if (out.ropes.empty()) throw SpecError(prefix + "no_rope_layers", "leaves no layer with rope: nothing to check");
  if (!out.layers_without_rope.empty()) {
    // The NoPE layers (HF Llama4TextAttention with use_rope 0, SmolLM3, Qwen3-Next's
    // linear_attention) turn nothing: one spec of rope type none, the identity, with the text
    // model's head geometry and base (unused by the math; a kernel that rotates those layers
    // anyway, with the model's rope, is then caught by agreement).  Named "<model>/nope"; its
    // layer_type is HF's when those layers share one.
    HfLayerRope r;
    r.spec = m.spec;
    r.spec.type = RopeType::kNone;
    r.spec.name = name + "/nope";
    r.layers = out.layers_without_rope;
    std::set<std::string> nope_types;
    for (int l : r.layers) nope_types.insert(layers.type[static_cast<size_t>(l)]);
    if (nope_types.size() == 1) r.layer_type = *nope_types.begin();
    validate_with(r.spec, m.names);
    out.ropes.push_back(std::move(r));
  }
  if (vision) out.ropes.push_back({*vision, "vision", {}});
  return out;
}

std::string HfModelRopes::nope_note() const {
  std::string list, spec;
  for (int l : layers_without_rope) list += (list.empty() ? "" : ", ") + std::to_string(l);
  for (const HfLayerRope& r : ropes) {
    if (r.spec.type == RopeType::kNone) spec = r.spec.name;
  }
  return list.empty() ? "" : "layers with no rope (checked as rope type none, the identity: spec " + spec + "): " + list;
}

HfModelRopes load_hf_config_ropes(const std::string& path) {
  return ropes_from_hf_config_text(read_input_file(path, "HF config"), path);
}

RopeSpec spec_from_hf_config_text(const std::string& text, const std::string& origin) {
  HfModelRopes r = ropes_from_hf_config_text(text, origin);
  // The one rope of the language model: NoPE layers' spec (rope type none) is not one, and
  // neither is the vision tower's (`<model>/vision`).
  r.ropes.erase(std::remove_if(r.ropes.begin(), r.ropes.end(),
                               [](const HfLayerRope& l) { return l.spec.type == RopeType::kNone || l.layer_type == "vision"; }),
                r.ropes.end());
  if (r.ropes.size() != 1) {
    std::string list;
    for (const HfLayerRope& l : r.ropes) list += (list.empty() ? "" : ", ") + l.layer_type;
    throw SpecError(origin, "has " + std::to_string(r.ropes.size()) + " layer types with their own rope (" + list +
                                "): read it with ropes_from_hf_config_text (the CLI's --hf-config does)");
  }
  return std::move(r.ropes.front().spec);
}

RopeSpec load_hf_config_file(const std::string& path) {
  return spec_from_hf_config_text(read_input_file(path, "HF config"), path);
}

}  // namespace ropecheck

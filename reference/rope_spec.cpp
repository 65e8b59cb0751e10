// RopeSpec parsing (ropecheck JSON, HuggingFace config.json) and validation.
//
// Every rejection names the field by the path the user wrote (e.g. "rope_scaling.factor" in
// a config.json, "scaling.factor" in a ropecheck spec) and states the rule it breaks.
#include "rope_spec.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <mpfr.h>
#include <nlohmann/json.hpp>

namespace ropecheck {

using nlohmann::json;
__extension__ typedef __int128 i128;  // exact overflow checks in parse_position

const char* to_string(Layout layout) {
  return layout == Layout::kInterleaved ? "interleaved" : "half_split";
}

const char* to_string(RopeType type) {
  switch (type) {
    case RopeType::kDefault: return "default";
    case RopeType::kLinear: return "linear";
    case RopeType::kNtk: return "ntk";
    case RopeType::kDynamic: return "dynamic";
    case RopeType::kYarn: return "yarn";
    case RopeType::kLlama3: return "llama3";
    case RopeType::kLongrope: return "longrope";
  }
  return "?";
}

SpecError::SpecError(std::string field, std::string rule)
    : std::runtime_error(field + ": " + rule), field_(std::move(field)), rule_(std::move(rule)) {}

namespace {

// How the fields of RopeSpec are spelled in the file being read, so messages use the
// user's names.  Key: RopeSpec member name.
using FieldNames = std::map<std::string, std::string>;

const FieldNames& own_names() {
  static const FieldNames names = {
      {"head_dim", "head_dim"},
      {"rotary_dim", "rotary_dim"},
      {"base", "base"},
      {"factor", "scaling.factor"},
      {"max_position_embeddings", "max_position_embeddings"},
      {"original_max_position_embeddings", "scaling.original_max_position_embeddings"},
      {"seq_len", "seq_len"},
      {"beta_fast", "scaling.beta_fast"},
      {"beta_slow", "scaling.beta_slow"},
      {"mscale", "scaling.mscale"},
      {"mscale_all_dim", "scaling.mscale_all_dim"},
      {"attention_factor", "scaling.attention_factor"},
      {"low_freq_factor", "scaling.low_freq_factor"},
      {"high_freq_factor", "scaling.high_freq_factor"},
      {"short_factor", "scaling.short_factor"},
      {"long_factor", "scaling.long_factor"},
  };
  return names;
}

const FieldNames& hf_names() {
  static const FieldNames names = {
      {"head_dim", "head_dim"},
      {"rotary_dim", "partial_rotary_factor"},
      {"base", "rope_theta"},
      {"factor", "rope_scaling.factor"},
      {"max_position_embeddings", "max_position_embeddings"},
      {"original_max_position_embeddings", "rope_scaling.original_max_position_embeddings"},
      {"seq_len", "seq_len"},
      {"beta_fast", "rope_scaling.beta_fast"},
      {"beta_slow", "rope_scaling.beta_slow"},
      {"mscale", "rope_scaling.mscale"},
      {"mscale_all_dim", "rope_scaling.mscale_all_dim"},
      {"attention_factor", "rope_scaling.attention_factor"},
      {"low_freq_factor", "rope_scaling.low_freq_factor"},
      {"high_freq_factor", "rope_scaling.high_freq_factor"},
      {"short_factor", "rope_scaling.short_factor"},
      {"long_factor", "rope_scaling.long_factor"},
  };
  return names;
}

// The shortest decimal that reads back as v (1e-299, not 9.9999999999999999e-300).
std::string fmt(double v) {
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << v;
    if (digits == 17 || std::strtod(os.str().c_str(), nullptr) == v || std::isnan(v)) return os.str();
  }
  return "";
}

void validate_with(const RopeSpec& s, const FieldNames& names) {
  auto fail = [&](const char* key, const std::string& rule) {
    auto it = names.find(key);
    throw SpecError(it != names.end() ? it->second : key, rule);
  };
  auto finite = [&](const char* key, double v) {
    if (!std::isfinite(v)) fail(key, "must be a finite number, got " + fmt(v));
  };
  auto positive = [&](const char* key, double v) {
    finite(key, v);
    if (!(v > 0)) fail(key, "must be > 0, got " + fmt(v));
  };
  // The supported domain (rope_spec.hpp, namespace domain): `range` is its text for messages.
  auto within = [&](const char* key, double v, double lo, double hi, const char* range) {
    finite(key, v);
    if (!(v >= lo && v <= hi)) {
      fail(key, std::string("must be in ") + range + " (ropecheck's supported domain), got " + fmt(v));
    }
  };
  auto scale = [&](const char* key, double v) {
    positive(key, v);
    within(key, v, domain::kMinScale, domain::kMaxScale, "[1e-12, 1e6]");
  };

  constexpr int kMaxHeadDim = 1 << 16;
  if (s.head_dim <= 0 || s.head_dim > kMaxHeadDim) {
    fail("head_dim", "must be in [1, 65536], got " + std::to_string(s.head_dim));
  }
  if (s.rotary_dim < 2) fail("rotary_dim", "must be >= 2, got " + std::to_string(s.rotary_dim));
  if (s.rotary_dim % 2 != 0) {
    fail("rotary_dim", "must be even (components are rotated in pairs), got " +
                           std::to_string(s.rotary_dim));
  }
  if (s.rotary_dim > s.head_dim) {
    fail("rotary_dim", "must be <= head_dim = " + std::to_string(s.head_dim) + ", got " +
                           std::to_string(s.rotary_dim));
  }
  finite("base", s.base);
  if (!(s.base > 1)) fail("base", "must be > 1, got " + fmt(s.base));
  within("base", s.base, 1, domain::kMaxBase, "(1, 1e30]");
  if (s.max_position_embeddings < 0) fail("max_position_embeddings", "must be >= 0");
  if (s.original_max_position_embeddings < 0) {
    fail("original_max_position_embeddings", "must be >= 0");
  }
  if (s.seq_len < 0) fail("seq_len", "must be >= 0");

  // Scaling-specific rules.  Fields that a type does not use are still checked for NaN/Inf:
  // a NaN anywhere in a spec is a bug in whatever wrote it.
  finite("factor", s.factor);
  finite("beta_fast", s.beta_fast);
  finite("beta_slow", s.beta_slow);
  finite("mscale", s.mscale);
  finite("mscale_all_dim", s.mscale_all_dim);
  finite("low_freq_factor", s.low_freq_factor);
  finite("high_freq_factor", s.high_freq_factor);
  if (s.attention_factor) {
    positive("attention_factor", *s.attention_factor);
    within("attention_factor", *s.attention_factor, domain::kMinAttention, domain::kMaxAttention,
           "[1/16, 16]");
  }
  for (const auto* list : {&s.short_factor, &s.long_factor}) {
    const char* key = list == &s.short_factor ? "short_factor" : "long_factor";
    for (size_t i = 0; i < list->size(); ++i) {
      const double v = (*list)[i];
      if (!std::isfinite(v) || !(v > 0)) {
        fail(key, "entry " + std::to_string(i) + " must be a finite number > 0, got " + fmt(v));
      }
      if (!(v >= domain::kMinScale && v <= domain::kMaxScale)) {
        fail(key, "entry " + std::to_string(i) +
                      " must be in [1e-12, 1e6] (ropecheck's supported domain), got " + fmt(v));
      }
    }
  }

  // The supported domain.  Every θ'_j is b'^(-e), e = 2j/d in [0, (d-2)/d], divided by at most
  // one of s, ext_j (both in [1e-12, 1e6]) or mixed between θ_j and θ_j/s, where b' is
  //   default, linear, yarn, llama3, longrope: b' = b in (1, 1e30];
  //   ntk:      b' = b s^(d/(d-2)), d >= 4 so the exponent is in (1, 2]: b' in [1e-24, 1e42],
  //             and b'^(-e) <= s^(-e d/(d-2)) <= 1/s for s < 1;
  //   dynamic:  b' = b q^(d/(d-2)), q = s L/Lmax - (s - 1) in [1, s L] (s >= 1, Lmax >= 1,
  //             L <= 2^63 - 1): q < 9.3e24, b' < 8.6e79.
  // So |ln b'| < 185 and θ'_j in [1/8.6e79, 1e12]: finite and normal, and |t θ'_j| < 2^103 at
  // every int64 t (the exact reference then works at <= 320 bits).  YaRN's correction dims
  // d ln(L0/(2π β)) / (2 ln b) have L0/(2π β) in [1.6e-101, 1.5e118]: finite, and so are the
  // dims (|ln| < 272, ln b >= 2^-52).  The attention factor
  // is the given one, in [1/16, 16], or m(s, μ)/m(s, μ') with m = 0.1 μ ln s + 1 in [1, 14.9]
  // (μ in [0, 10]), or longrope's sqrt(1 + ln s / ln L0) < 4.6: never 0, negative or infinite,
  // and at most 16, which the case generators' inputs (at most 1/64 of the dtype's largest
  // value, properties/generators.hpp) need for the exact rotated pair (<= 2 a |x|max) to be
  // representable -- beyond it an exact result overflows and no kernel could pass.
  // The error model's terms are products of these with unit roundoffs: finite too
  // (impl/tests/domain_test.cpp sweeps the corners and random specs for every contract).

  switch (s.type) {
    case RopeType::kDefault:
      break;
    case RopeType::kLinear:
      scale("factor", s.factor);
      break;
    case RopeType::kNtk:
    case RopeType::kDynamic:
      scale("factor", s.factor);
      // b' = b·(...)^(d/(d−2)) is undefined for d = 2.
      if (s.rotary_dim < 4) {
        fail("rotary_dim", std::string("must be >= 4 for ") + to_string(s.type) +
                               " scaling (exponent d/(d-2)), got " + std::to_string(s.rotary_dim));
      }
      if (s.type == RopeType::kDynamic) {
        if (s.max_position_embeddings <= 0) {
          fail("max_position_embeddings", "must be > 0 for dynamic scaling");
        }
        if (s.factor < 1) fail("factor", "must be >= 1 for dynamic scaling, got " + fmt(s.factor));
      }
      break;
    case RopeType::kYarn:
      scale("factor", s.factor);
      positive("beta_fast", s.beta_fast);
      within("beta_fast", s.beta_fast, domain::kMinBeta, domain::kMaxBeta, "[1e-100, 1e100]");
      positive("beta_slow", s.beta_slow);
      within("beta_slow", s.beta_slow, domain::kMinBeta, domain::kMaxBeta, "[1e-100, 1e100]");
      // HF treats 0 as absent; a negative μ can make m(s, μ) zero or negative.
      within("mscale", s.mscale, 0, domain::kMaxMscale, "[0, 10] (0 = absent)");
      within("mscale_all_dim", s.mscale_all_dim, 0, domain::kMaxMscale, "[0, 10] (0 = absent)");
      if (s.effective_original_max() <= 0) {
        fail("original_max_position_embeddings",
             "must be > 0 for yarn (or give max_position_embeddings)");
      }
      break;
    case RopeType::kLlama3:
      scale("factor", s.factor);
      scale("low_freq_factor", s.low_freq_factor);
      scale("high_freq_factor", s.high_freq_factor);
      if (!(s.high_freq_factor > s.low_freq_factor)) {
        fail("high_freq_factor", "must be > low_freq_factor = " + fmt(s.low_freq_factor) +
                                     ", got " + fmt(s.high_freq_factor));
      }
      if (s.effective_original_max() <= 0) {
        fail("original_max_position_embeddings", "must be > 0 for llama3");
      }
      break;
    case RopeType::kLongrope: {
      scale("factor", s.factor);  // max_position_embeddings / L0 when not given
      if (s.effective_original_max() <= 1) {
        fail("original_max_position_embeddings", "must be > 1 for longrope");
      }
      const size_t want = static_cast<size_t>(s.pairs());
      for (const auto* list : {&s.short_factor, &s.long_factor}) {
        const char* key = list == &s.short_factor ? "short_factor" : "long_factor";
        if (list->empty()) fail(key, "is required for longrope (rotary_dim/2 numbers)");
        if (list->size() != want) {
          fail(key, "must have rotary_dim/2 = " + std::to_string(want) + " entries, got " +
                        std::to_string(list->size()));
        }
      }
      break;
    }
  }
}

// JSON has no NaN or Infinity, but Python's json module writes them, so config.json files
// in the wild can contain bare NaN / Infinity / -Infinity.  We replace those tokens (outside
// strings) with marker strings so the field that holds one can be named in the error.
constexpr const char* kNanMarker = "__ropecheck_nonfinite__";

std::string mark_nonfinite_tokens(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const char* tok : {"-Infinity", "Infinity", "NaN"}) {
      const size_t n = std::char_traits<char>::length(tok);
      if (text.compare(i, n, tok) == 0) {
        out += '"';
        out += kNanMarker;
        out += tok;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

json parse_json(const std::string& text, const std::string& origin) {
  // A key given twice in one object ("base": 1e4, ..., "base": 5e5) would silently keep the
  // last: refused, naming the key.
  std::vector<std::set<std::string>> keys;  // per open object
  std::string duplicate;
  const json::parser_callback_t track = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  try {
    json j = json::parse(mark_nonfinite_tokens(text), track);
    if (!duplicate.empty()) throw SpecError(origin, "the key \"" + duplicate + "\" is given twice in one object");
    return j;
  } catch (const json::parse_error& e) {
    throw SpecError(origin, std::string("malformed JSON: ") + e.what());
  } catch (const json::out_of_range& e) {  // 1e999: nlohmann refuses to round it to inf
    throw SpecError(origin, std::string("a number must be finite: ") + e.what());
  }
}

bool is_nonfinite_marker(const json& v) {
  return v.is_string() && v.get_ref<const std::string&>().rfind(kNanMarker, 0) == 0;
}

// True if v is, or holds at any depth, a NaN / Infinity token (for values read as-is).
bool holds_nonfinite_marker(const json& v) {
  if (is_nonfinite_marker(v)) return true;
  if (v.is_array() || v.is_object()) {
    for (const json& e : v) {
      if (holds_nonfinite_marker(e)) return true;
    }
  }
  return false;
}

std::string json_type(const json& v) { return v.type_name(); }

double get_double(const json& obj, const std::string& key, const std::string& path) {
  const json& v = obj.at(key);
  if (is_nonfinite_marker(v)) {
    throw SpecError(path, "must be a finite number, got " +
                              v.get<std::string>().substr(std::strlen(kNanMarker)));
  }
  if (!v.is_number()) throw SpecError(path, "must be a number, got " + json_type(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw SpecError(path, "must be a finite number (overflows double)");
  return d;
}

int64_t get_int(const json& obj, const std::string& key, const std::string& path) {
  const json& v = obj.at(key);
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) {
      throw SpecError(path, "must fit in int64");
    }
    return v.get<int64_t>();
  }
  const double d = get_double(obj, key, path);
  // 4096.0 is accepted as an integer; 4096.5 is not.
  if (d != std::floor(d) || std::fabs(d) > 9.2e18) {
    throw SpecError(path, "must be an integer, got " + fmt(d));
  }
  return static_cast<int64_t>(d);
}

int get_small_int(const json& obj, const std::string& key, const std::string& path) {
  const int64_t v = get_int(obj, key, path);
  if (v < INT32_MIN || v > INT32_MAX) throw SpecError(path, "is out of range, got " + std::to_string(v));
  return static_cast<int>(v);
}

bool get_bool(const json& obj, const std::string& key, const std::string& path) {
  const json& v = obj.at(key);
  if (!v.is_boolean()) throw SpecError(path, "must be true or false, got " + json_type(v));
  return v.get<bool>();
}

std::vector<double> get_list(const json& obj, const std::string& key, const std::string& path) {
  const json& v = obj.at(key);
  if (!v.is_array()) throw SpecError(path, "must be an array of numbers, got " + json_type(v));
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (is_nonfinite_marker(v[i])) throw SpecError(p, "must be a finite number");
    if (!v[i].is_number()) throw SpecError(p, "must be a number, got " + json_type(v[i]));
    out.push_back(v[i].get<double>());
  }
  return out;
}

RopeType parse_rope_type(const std::string& name, const std::string& path) {
  static const std::map<std::string, RopeType> types = {
      {"default", RopeType::kDefault}, {"linear", RopeType::kLinear},
      {"ntk", RopeType::kNtk},         {"dynamic", RopeType::kDynamic},
      {"yarn", RopeType::kYarn},       {"llama3", RopeType::kLlama3},
      {"longrope", RopeType::kLongrope},
      {"su", RopeType::kLongrope},  // early Phi-3 configs
  };
  auto it = types.find(name);
  if (it == types.end()) {
    throw SpecError(path, "unknown rope type \"" + name +
                              "\" (known: default, linear, ntk, dynamic, yarn, llama3, longrope)");
  }
  return it->second;
}

// Reads the scaling parameters shared by both formats from `sc` (ropecheck "scaling" or HF
// "rope_scaling"); `prefix` is its path for messages.  Keys not listed are reported by the
// caller when it is strict.
void read_scaling_fields(const json& sc, const std::string& prefix, RopeSpec& s) {
  auto has = [&](const char* k) { return sc.contains(k) && !sc.at(k).is_null(); };
  auto path = [&](const char* k) { return prefix + "." + k; };
  if (has("factor")) s.factor = get_double(sc, "factor", path("factor"));
  if (has("original_max_position_embeddings")) {
    s.original_max_position_embeddings = get_int(sc, "original_max_position_embeddings",
                                                 path("original_max_position_embeddings"));
  }
  if (has("beta_fast")) s.beta_fast = get_double(sc, "beta_fast", path("beta_fast"));
  if (has("beta_slow")) s.beta_slow = get_double(sc, "beta_slow", path("beta_slow"));
  if (has("mscale")) s.mscale = get_double(sc, "mscale", path("mscale"));
  if (has("mscale_all_dim")) s.mscale_all_dim = get_double(sc, "mscale_all_dim", path("mscale_all_dim"));
  if (has("attention_factor")) {
    s.attention_factor = get_double(sc, "attention_factor", path("attention_factor"));
  }
  if (has("truncate")) s.truncate = get_bool(sc, "truncate", path("truncate"));
  if (has("low_freq_factor")) s.low_freq_factor = get_double(sc, "low_freq_factor", path("low_freq_factor"));
  if (has("high_freq_factor")) {
    s.high_freq_factor = get_double(sc, "high_freq_factor", path("high_freq_factor"));
  }
  if (has("short_factor")) s.short_factor = get_list(sc, "short_factor", path("short_factor"));
  if (has("long_factor")) s.long_factor = get_list(sc, "long_factor", path("long_factor"));
}

// a / b rounded once to the nearest binary64, as Python's int / int is (HF computes the
// longrope default s = L_max / L0 so).  double(a) / double(b) rounds three times once a
// length exceeds 2^53, e.g. 227840475888798747 / 525916559523 gives 433225.52173570526
// where the quotient rounds to 433225.5217357052.
double rounded_quotient(int64_t a, int64_t b) {
  mpfr_t num, den, q;
  mpfr_inits2(64, num, den, static_cast<mpfr_ptr>(nullptr));  // int64 is exact in 64 bits
  mpfr_init2(q, 53);
  mpfr_set_sj(num, a, MPFR_RNDN);
  mpfr_set_sj(den, b, MPFR_RNDN);
  mpfr_div(q, num, den, MPFR_RNDN);
  const double out = mpfr_get_d(q, MPFR_RNDN);  // q has 53 bits and a double's range: exact
  mpfr_clears(num, den, q, static_cast<mpfr_ptr>(nullptr));
  return out;
}

void apply_type_defaults(RopeSpec& s, bool factor_given) {
  if (s.type == RopeType::kLlama3) {
    if (!factor_given) s.factor = 8.0;
    if (s.original_max_position_embeddings == 0) s.original_max_position_embeddings = 8192;
  }
  if (s.type == RopeType::kLongrope && !factor_given) {
    // s defaults to L_max / L0 (HF sets it so for Phi-3).
    const int64_t L0 = s.effective_original_max();
    if (L0 > 0 && s.max_position_embeddings > 0) {
      s.factor = rounded_quotient(s.max_position_embeddings, L0);
    }
  }
}

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
  }
  for (auto it = sc.begin(); it != sc.end(); ++it) {
    bool ok = false;
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

void validate(const RopeSpec& spec) { validate_with(spec, own_names()); }

RopeSpec spec_from_json_text(const std::string& text, const std::string& origin) {
  const json j = parse_json(text, origin);
  if (!j.is_object()) throw SpecError(origin, "must be a JSON object");
  reject_unknown_keys(j, "", {"name", "head_dim", "rotary_dim", "base", "layout",
                              "max_position_embeddings", "seq_len", "scaling", "comment"});
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
  bool factor_given = false;
  if (has("scaling")) {
    const json& sc = j.at("scaling");
    if (!sc.is_object()) throw SpecError("scaling", "must be an object");
    reject_unknown_keys(sc, "scaling.",
                        {"type", "factor", "original_max_position_embeddings", "beta_fast",
                         "beta_slow", "mscale", "mscale_all_dim", "attention_factor", "truncate",
                         "low_freq_factor", "high_freq_factor", "short_factor", "long_factor"});
    if (!sc.contains("type") || !sc.at("type").is_string()) {
      throw SpecError("scaling.type", "is required (a string)");
    }
    s.type = parse_rope_type(sc.at("type").get<std::string>(), "scaling.type");
    read_scaling_fields(sc, "scaling", s);
    factor_given = sc.contains("factor") && !sc.at("factor").is_null();
    if (factor_required(s.type) && !factor_given) {
      throw SpecError("scaling.factor", std::string("is required for ") + to_string(s.type) + " scaling");
    }
  }
  apply_type_defaults(s, factor_given);
  validate_with(s, own_names());
  return s;
}

RopeSpec spec_from_hf_config_text(const std::string& text, const std::string& origin) {
  const json j = parse_json(text, origin);
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
  }
  s.rotary_dim = s.head_dim;
  if (has(j, "partial_rotary_factor")) {
    const double prf = get_double(j, "partial_rotary_factor", "partial_rotary_factor");
    if (!(prf > 0 && prf <= 1)) {
      throw SpecError("partial_rotary_factor", "must be in (0, 1], got " + fmt(prf));
    }
    // HF: dim = int(head_dim * partial_rotary_factor) (truncation, in binary64).
    s.rotary_dim = static_cast<int>(static_cast<double>(s.head_dim) * prf);
  }
  if (has(j, "max_position_embeddings")) {
    s.max_position_embeddings = get_int(j, "max_position_embeddings", "max_position_embeddings");
  }
  // Phi-3 keeps L0 at the top level.
  if (has(j, "original_max_position_embeddings")) {
    s.original_max_position_embeddings =
        get_int(j, "original_max_position_embeddings", "original_max_position_embeddings");
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
  }
  if (s.type == RopeType::kLongrope && s.original_max_position_embeddings > 0 &&
      s.max_position_embeddings > 0) {
    // HF's longrope takes s = max_position_embeddings / original_max_position_embeddings.
    factor_given = false;
  }
  apply_type_defaults(s, factor_given);
  // partial_rotary_factor can make rotary_dim odd; the message then names that field.
  validate_with(s, hf_names());
  return s;
}

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SpecError(path, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

RopeSpec load_spec_file(const std::string& path) {
  return spec_from_json_text(read_file(path), path);
}

RopeSpec load_hf_config_file(const std::string& path) {
  return spec_from_hf_config_text(read_file(path), path);
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
  if (s.type != RopeType::kDefault) {
    json sc;
    sc["type"] = to_string(s.type);
    sc["factor"] = s.factor;
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
    if (s.type == RopeType::kLongrope) {
      sc["short_factor"] = s.short_factor;
      sc["long_factor"] = s.long_factor;
    }
    j["scaling"] = sc;
  }
  return j.dump(indent);
}

int64_t parse_position(const std::string& text) {
  auto bad = [&](const std::string& why) -> SpecError {
    return SpecError("positions", "\"" + text + "\" " + why);
  };
  if (text.empty()) throw bad("is empty");
  if (text[0] == '-') throw bad("is negative; positions must be >= 0");
  // Accumulate in 128 bits so 2^63 + 0 is caught as overflow, not wrapped.
  i128 value = 0;
  size_t i = 0;
  auto read_uint = [&](size_t& k) -> i128 {
    const size_t start = k;
    i128 v = 0;
    while (k < text.size() && text[k] >= '0' && text[k] <= '9') {
      v = v * 10 + (text[k] - '0');
      if (v > (i128(1) << 64)) throw bad("is beyond int64");
      ++k;
    }
    if (k == start) throw bad("is not a non-negative integer or 2^k[+-n]");
    return v;
  };
  if (text.compare(0, 2, "2^") == 0) {
    i = 2;
    const i128 k = read_uint(i);
    if (k > 63) throw bad("is beyond int64 (2^63 - 1 is the largest position)");
    value = i128(1) << static_cast<int>(k);
    if (i < text.size()) {
      const char sign = text[i];
      if (sign != '+' && sign != '-') throw bad("is not a non-negative integer or 2^k[+-n]");
      ++i;
      const i128 n = read_uint(i);
      value = sign == '+' ? value + n : value - n;
    }
  } else {
    value = read_uint(i);
  }
  if (i != text.size()) throw bad("is not a non-negative integer or 2^k[+-n]");
  if (value < 0) throw bad("is negative; positions must be >= 0");
  if (value > INT64_MAX) throw bad("is beyond int64 (2^63 - 1 is the largest position)");
  return static_cast<int64_t>(value);
}

std::string exact_decimal(double v) {
  char buf[1100];  // 767 significant digits at most (the subnormals), sign, exponent
  std::snprintf(buf, sizeof buf, "%.770e", v);  // glibc prints the exact digits
  std::string s(buf);
  const size_t e = s.find('e');
  std::string mant = s.substr(0, e);
  const std::string exp = s.substr(e);
  const size_t last = mant.find_last_not_of('0');
  mant = mant.substr(0, mant[last] == '.' ? last : last + 1);
  return mant + exp;
}

std::vector<std::string> parse_head_vector(const std::string& json_text, const std::string& what,
                                           int head_dim) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw SpecError(what, std::string("malformed JSON (NaN and Infinity are not JSON): ") + e.what());
  } catch (const json::out_of_range& e) {
    // nlohmann refuses to round 1e999 to inf; the spec reader names the same rule.
    throw SpecError(what, std::string("a number is beyond the binary64 range; numbers mean the binary64 "
                                      "they parse to, so give an exact decimal as a string, e.g. \"1e999\" (") +
                              e.what() + ")");
  }
  if (!j.is_array()) throw SpecError(what, "must be a JSON array of numbers");
  if (j.size() != static_cast<size_t>(head_dim)) {
    throw SpecError(what, "must have head_dim = " + std::to_string(head_dim) + " values, got " +
                              std::to_string(j.size()));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (j[i].is_number()) {
      const double v = j[i].get<double>();
      if (!std::isfinite(v)) {  // not reachable through the parser today; never print "inf"
        throw SpecError(what + "[" + std::to_string(i) + "]", "must be a finite number");
      }
      out.push_back(exact_decimal(v));
    } else if (j[i].is_string()) {
      out.push_back(j[i].get<std::string>());
    } else {
      throw SpecError(what + "[" + std::to_string(i) + "]", "must be a number or a decimal string");
    }
  }
  return out;
}

std::vector<int64_t> parse_position_list(const std::string& comma_separated) {
  // Every item between commas is a position: "1," and "1,,2" are typos, not "1" and "1,2"
  // (std::getline would silently drop a trailing empty item).
  if (comma_separated.find_first_not_of(" \t") == std::string::npos) {
    throw SpecError("positions", "no position given");
  }
  std::vector<int64_t> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = comma_separated.find(',', start);
    const std::string item = comma_separated.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t b = item.find_first_not_of(" \t");
    if (b == std::string::npos) {
      throw SpecError("positions", "empty item in '" + comma_separated + "' (a stray comma?)");
    }
    const size_t e = item.find_last_not_of(" \t");
    out.push_back(parse_position(item.substr(b, e - b + 1)));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace ropecheck

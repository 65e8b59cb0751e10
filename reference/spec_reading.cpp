// What the two spec readers share (spec_reading.hpp): the typed getters that name the field
// by its path, the scaling fields both formats spell alike, and
// the type defaults HF applies.
#include "spec_reading.hpp"

#include <cmath>

#include <mpfr.h>

namespace ropecheck::detail {

using nlohmann::json;

namespace {
std::string json_type(const json& v) { return v.type_name(); }
}  // namespace

double get_double(const json& obj, const std::string& key, const std::string& path) {
  const json& v = obj.at(key);
  if (is_nonfinite_marker(v)) throw SpecError(path, "must be a finite number, got " + nonfinite_token(v));
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

std::vector<int> get_int_list(const json& obj, const std::string& key, const std::string& path) {
  const json& v = obj.at(key);
  if (!v.is_array()) throw SpecError(path, "must be an array of integers, got " + json_type(v));
  std::vector<int> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const json element = {{"v", v[i]}};  // the getters read a keyed value
    out.push_back(get_small_int(element, "v", path + "[" + std::to_string(i) + "]"));
  }
  return out;
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
      {"proportional", RopeType::kProportional},
      {"none", RopeType::kNone},  // NoPE layers: the identity
  };
  auto it = types.find(name);
  if (it == types.end()) {
    throw SpecError(path, "unknown rope type \"" + name +
                              "\" (known: default, linear, ntk, dynamic, yarn, llama3, longrope, proportional, none)");
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

namespace {
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
}  // namespace

void set_proportional_share(RopeSpec& s, double partial_rotary_factor, const std::string& path) {
  if (!(partial_rotary_factor > 0 && partial_rotary_factor <= 1)) {
    throw SpecError(path, "must be in (0, 1], got " + fmt(partial_rotary_factor));
  }
  // HF _compute_proportional_rope_parameters (and Google's apply_rope): rope_angles =
  // int(rope_proportion * head_dim // 2) -- the product rounded in binary64, then floored.
  const double angles = std::floor(static_cast<double>(s.head_dim) * partial_rotary_factor / 2);
  if (angles < 1) {
    throw SpecError(path, "gives rope_angles = int(" + std::to_string(s.head_dim) + " * " + fmt(partial_rotary_factor) +
                              " // 2) = 0: no pair would rotate");
  }
  s.rope_angles = static_cast<int>(angles);
  s.rotary_dim = s.head_dim;  // proportional pairs over the whole head
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

}  // namespace ropecheck::detail

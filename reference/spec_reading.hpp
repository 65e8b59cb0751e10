// Internal to reference/: what the spec readers (spec_json.cpp, ropecheck's own JSON;
// hf_config.cpp, a HuggingFace config.json) share -- validation with the field names of the
// file being read, and the typed getters that name the offending field by its JSON path.
// Not a public header: callers use rope_spec.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_document.hpp"
#include "rope_spec.hpp"

namespace ropecheck::detail {

// How the fields of RopeSpec are spelled in the file being read, so messages use the
// user's names.  Key: RopeSpec member name.
using FieldNames = std::map<std::string, std::string>;

// ropecheck's own spelling (spec_json.cpp); validate() uses it.
const FieldNames& own_names();

// The shortest decimal that reads back as v (1e-299, not 9.9999999999999999e-300).
std::string fmt(double v);

// validate(), naming a field that breaks a rule by `names`.
void validate_with(const RopeSpec& s, const FieldNames& names);

// obj.at(key) as the type, or SpecError(path, ...).
double get_double(const nlohmann::json& obj, const std::string& key, const std::string& path);
int64_t get_int(const nlohmann::json& obj, const std::string& key, const std::string& path);
int get_small_int(const nlohmann::json& obj, const std::string& key, const std::string& path);
bool get_bool(const nlohmann::json& obj, const std::string& key, const std::string& path);
std::vector<double> get_list(const nlohmann::json& obj, const std::string& key, const std::string& path);

// obj.at(key) as a list of int (each named path[i] in messages).
std::vector<int> get_int_list(const nlohmann::json& obj, const std::string& key, const std::string& path);

RopeType parse_rope_type(const std::string& name, const std::string& path);
// Reads the scaling parameters shared by both formats from `sc` (ropecheck "scaling" or HF
// "rope_scaling"); `prefix` is its path for messages.  Keys not listed are reported by the
// caller when it is strict.
void read_scaling_fields(const nlohmann::json& sc, const std::string& prefix, RopeSpec& s);
void apply_type_defaults(RopeSpec& s, bool factor_given);
// proportional: rope_angles from HF's partial_rotary_factor (`path` names it), rotary_dim =
// head_dim.  Throws SpecError(path, ...) for a factor outside (0, 1] or one that rotates nothing.
void set_proportional_share(RopeSpec& s, double partial_rotary_factor, const std::string& path);

}  // namespace ropecheck::detail

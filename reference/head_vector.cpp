// Head vectors as text (`ropecheck ref --input/--q/--k`) and binary64 values as exact
// decimals (rope_spec.hpp: parse_head_vector, exact_decimal).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_document.hpp"
#include "rope_spec.hpp"

namespace ropecheck {

using nlohmann::json;

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
    j = parse_json_document(json_text, what, what);
  } catch (const SpecError& e) {
    if (e.field() == what) throw;  // about the whole document: malformed, too deep
    // A number beyond binary64 (1e999), named by its index: say how to give it anyway.
    throw SpecError(e.field(), e.rule() + "; numbers mean the binary64 they parse to, so give an exact "
                                          "decimal as a string, e.g. \"1e999\"");
  }
  if (!j.is_array()) throw SpecError(what, "must be a JSON array of numbers");
  if (j.size() != static_cast<size_t>(head_dim)) {
    throw SpecError(what, "must have head_dim = " + std::to_string(head_dim) + " values, got " +
                              std::to_string(j.size()));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (is_nonfinite_marker(j[i])) {
      throw SpecError(what + "[" + std::to_string(i) + "]",
                      "must be a finite number, got " + nonfinite_token(j[i]) + " (NaN and Infinity are not JSON)");
    }
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

}  // namespace ropecheck

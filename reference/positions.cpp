// Positions as text: a decimal integer or 2^k[+-n] (rope_spec.hpp: parse_position,
// format_position).
#include <cstdint>
#include <string>
#include <vector>

#include "rope_spec.hpp"

namespace ropecheck {

__extension__ typedef __int128 i128;  // exact overflow checks in parse_position

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

int64_t parse_signed_position(const std::string& text) {
  if (text.empty() || text[0] != '-') return parse_position(text);
  const std::string magnitude = text.substr(1);
  if (magnitude == "2^63" || magnitude == "9223372036854775808") return INT64_MIN;
  try {
    const int64_t m = parse_position(magnitude);
    return -m;
  } catch (const SpecError&) {
    throw SpecError("positions", "\"" + text + "\" is not an integer or [-]2^k[+-n] within int64");
  }
}

std::string format_position(int64_t t) {
  if (t < 0) return t == INT64_MIN ? "-2^63" : "-" + format_position(-t);
  // 2^k-2 .. 2^k+2 for k >= 8: the edge positions (255-257, 2^31-1, 2^63-1, ...) read as
  // what they are.  Beyond +-2 the decimal is as short and says more.  128 bits: 2^63 has
  // neighbours below it.
  for (int k = 8; k <= 63; ++k) {
    const i128 diff = i128(t) - (i128(1) << k);
    if (diff >= -2 && diff <= 2) {
      const int d = static_cast<int>(diff);
      return "2^" + std::to_string(k) + (d == 0 ? "" : (d > 0 ? "+" : "-") + std::to_string(d > 0 ? d : -d));
    }
  }
  return std::to_string(t);
}

namespace {
// The items of a list separated by `sep`, trimmed.  Every item is one: "1," and "1,,2" are
// typos, not "1" and "1,2" (std::getline would silently drop a trailing empty item).
std::vector<std::string> list_items(const std::string& text, char sep, const std::string& what) {
  if (text.find_first_not_of(" \t") == std::string::npos) throw SpecError("positions", "no " + what + " given");
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t at = text.find(sep, start);
    const std::string item = text.substr(start, at == std::string::npos ? std::string::npos : at - start);
    const size_t b = item.find_first_not_of(" \t");
    if (b == std::string::npos) {
      throw SpecError("positions", "empty item in '" + text + "' (a stray " + (sep == ',' ? std::string("comma") : "'" + std::string(1, sep) + "'") + "?)");
    }
    const size_t e = item.find_last_not_of(" \t");
    out.push_back(item.substr(b, e - b + 1));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}
}  // namespace

std::vector<int64_t> parse_position_list(const std::string& comma_separated) {
  std::vector<int64_t> out;
  for (const std::string& item : list_items(comma_separated, ',', "position")) out.push_back(parse_position(item));
  return out;
}

std::vector<int64_t> parse_axis_position(const std::string& text, int n_axes, bool negative) {
  std::vector<int64_t> out;
  for (const std::string& item : list_items(text, ':', "position")) {
    out.push_back(negative ? parse_signed_position(item) : parse_position(item));
  }
  if (out.size() != 1 && out.size() != static_cast<size_t>(n_axes)) {
    throw SpecError("positions", "'" + text + "' has " + std::to_string(out.size()) + " axes; the spec has " +
                                     std::to_string(n_axes) + (n_axes == 1 ? " (t)" : " (t:h:w... or one t for every axis)"));
  }
  return out;
}

std::vector<std::vector<int64_t>> parse_axis_position_list(const std::string& comma_separated, int n_axes,
                                                           bool negative) {
  std::vector<std::vector<int64_t>> out;
  for (const std::string& item : list_items(comma_separated, ',', "position")) {
    out.push_back(parse_axis_position(item, n_axes, negative));
  }
  return out;
}

std::string format_axis_position(const std::vector<int64_t>& t) {
  std::string s;
  for (size_t a = 0; a < t.size(); ++a) s += (a ? ":" : "") + std::to_string(t[a]);
  return s;
}

}  // namespace ropecheck

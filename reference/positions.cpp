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

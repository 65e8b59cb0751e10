#include "properties/edge_positions.hpp"

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>

namespace ropecheck::props {

extern const char* const kEdgePositionsText;  // generated from hard_cases/edge_positions.txt

const std::vector<int64_t>& listed_edge_positions() {
  static const std::vector<int64_t> list = [] {
    std::vector<int64_t> out;
    std::istringstream in(kEdgePositionsText);
    std::string line;
    while (std::getline(in, line)) {
      line = line.substr(0, line.find('#'));
      const size_t b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos) continue;
      const size_t e = line.find_last_not_of(" \t\r");
      out.push_back(parse_position(line.substr(b, e - b + 1)));
    }
    return out;
  }();
  return list;
}

std::vector<int64_t> edge_positions(const RopeSpec& spec, int64_t max_position) {
  std::vector<int64_t> out = listed_edge_positions();
  auto around = [&](int64_t v) {
    for (int64_t d : {-1, 0, 1}) {
      if (v > 0 && v + d >= 0) out.push_back(v + d);
    }
  };
  // Every power of two and its neighbours up to 2^63 - 1: a kernel's int64 arithmetic can go
  // wrong at any of them (a shift, a product, a conversion to double that rounds), and the
  // listed positions stop at 2^53 + 1.
  for (int k = 1; k <= 62; ++k) around(int64_t{1} << k);
  out.push_back(INT64_MAX - 1);
  out.push_back(INT64_MAX);
  if (spec.type != RopeType::kDefault) around(spec.effective_original_max());
  around(spec.max_position_embeddings);
  out.push_back(max_position);
  if (max_position > 0) out.push_back(max_position - 1);
  out.erase(std::remove_if(out.begin(), out.end(), [&](int64_t t) { return t < 0 || t > max_position; }),
            out.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ropecheck::props

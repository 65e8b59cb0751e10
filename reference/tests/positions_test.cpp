// format_position (rope_spec.hpp), the one formatter of positions for people, against
// parse_position: every non-negative int64 reads back as itself, checked exhaustively at the
// edges (0, 1, 2^k, 2^k +- 1..4 for every k, INT64_MAX and below) and at random.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <vector>

#include "rope_spec.hpp"

namespace ropecheck {
namespace {

__extension__ typedef __int128 i128;

// Every position within 4 of a power of two, 0 and 1 included.
std::vector<int64_t> edge_positions() {
  std::vector<int64_t> out = {0, 1, INT64_MAX};
  for (int k = 0; k <= 63; ++k) {
    for (int d = -4; d <= 4; ++d) {
      const i128 t = (i128(1) << k) + d;
      if (t >= 0 && t <= INT64_MAX) out.push_back(static_cast<int64_t>(t));
    }
  }
  return out;
}

TEST(PositionText, EdgePositionsRoundTripThroughParsePosition) {
  for (const int64_t t : edge_positions()) EXPECT_EQ(parse_position(format_position(t)), t) << format_position(t);
}

TEST(PositionText, PowersOfTwoAndNeighboursReadAsSuch) {
  EXPECT_EQ(format_position(0), "0");
  EXPECT_EQ(format_position(1), "1");
  EXPECT_EQ(format_position(253), "253");  // below 2^8 - 2: decimal
  EXPECT_EQ(format_position(255), "2^8-1");
  EXPECT_EQ(format_position(2047), "2^11-1");
  EXPECT_EQ(format_position(4096), "2^12");
  EXPECT_EQ(format_position(4099), "4099");  // 2^12 + 3: the decimal says as much
  EXPECT_EQ(format_position(65504), "65504");
  EXPECT_EQ(format_position((int64_t{1} << 24) + 1), "2^24+1");
  EXPECT_EQ(format_position(2147483647), "2^31-1");
  EXPECT_EQ(format_position(INT64_MAX), "2^63-1");
  EXPECT_EQ(format_position(INT64_MAX - 1), "2^63-2");
  EXPECT_EQ(format_position(-5), "-5");  // not a position: parse_position refuses it
  EXPECT_THROW(parse_position(format_position(-5)), SpecError);
}

RC_GTEST_PROP(PositionText, formatPositionRoundTripsThroughParsePosition, ()) {
  // Half anywhere in [0, 2^63 - 1], half within 8 of a power of two (the formatter's cases).
  const bool near = *rc::gen::arbitrary<bool>();
  i128 t = *rc::gen::inRange<int64_t>(0, INT64_MAX);
  if (near) t = (i128(1) << *rc::gen::inRange(0, 64)) + *rc::gen::inRange(-8, 9);
  RC_PRE(t >= 0 && t <= INT64_MAX);
  const int64_t p = static_cast<int64_t>(t);
  RC_CLASSIFY(format_position(p).find('^') != std::string::npos, "2^k form");
  RC_ASSERT(parse_position(format_position(p)) == p);
}

}  // namespace
}  // namespace ropecheck

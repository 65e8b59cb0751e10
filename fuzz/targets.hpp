// The fuzz targets, one per file (fuzz_<name>.cc); each file also defines
// LLVMFuzzerTestOneInput around its one (unless built into the ropecheck_fuzz library).
// fuzz_common.hpp is what they share; this header is what names them, for the replay,
// the in-process driver and the campaign.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.hpp"

namespace ropecheck::fuzz {

Result fuzz_differential(const uint8_t* data, size_t size, const RunOptions& opt);
Result fuzz_metamorphic(const uint8_t* data, size_t size, const RunOptions& opt);
Result fuzz_spec(const uint8_t* data, size_t size, const RunOptions& opt);
Result fuzz_descriptor(const uint8_t* data, size_t size, const RunOptions& opt);

// "differential", "metamorphic", "spec", "descriptor".
const std::vector<std::string>& fuzz_target_names();
TargetFn find_target(const std::string& name);  // nullptr if unknown

// The properties the metamorphic target judges (CaseChoice::property indexes this list;
// larger selectors run all of them).
inline constexpr const char* kMetamorphicProperties[] = {
    "interleavedEqualsPermutedHalfSplit", "inPlaceEqualsOutOfPlace", "tokensAndHeadsAreIndependent",
    "powerOfTwoScalingIsBitExact",        "kernelIsDeterministic",   "stridedEqualsContiguous",
    "nonFiniteInputStaysInItsPair",       "positionsBeyondMaximumAreRefused"};

}  // namespace ropecheck::fuzz

// The golden-vector files: cases.npz (what `ropecheck vectors` writes) and outputs.npz (what a
// user's runtime writes back), array by array as reports/VECTORS.md documents them.
//
// Reading checks everything a judgement relies on and refuses the rest with an npz::NpzError
// (exit code 2) naming the file and the array: a missing or unknown array, a wrong dtype or
// shape, offsets that do not tile the data, an index out of range, a NaN or Inf where none is
// allowed (the frequencies, the cos/sin cache rows; an input of a call that does not declare
// one), cache rows a call reads that the file lacks, axes or frequency specs that are not the
// spec's own, a cases file whose
// content no longer matches its recorded hash (tampered), outputs whose hash names another
// cases file, a status that is not an rc_status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gate/npz.hpp"
#include "gate/vectors.hpp"

namespace ropecheck::gate {

inline constexpr const char* kVectorsFormat = "ropecheck-golden-vectors";
// 2: positions per axis (spec_n_axes, spec_pair_axis); a version 1 file is refused (write it again).
inline constexpr int kVectorsVersion = 2;
// Largest cases or outputs file read (the gate's cases for one contract are tens of MiB).
inline constexpr size_t kMaxVectorsFileBytes = size_t{2} << 30;

// cases.npz; sets cases.hash (the content hash outputs must repeat).
std::vector<unsigned char> cases_npz(VectorCases& cases);
// outputs.npz of the calls' status and y (the recording kernel's own answers, or a test's).
std::vector<unsigned char> outputs_npz(const VectorCases& cases);

// The content hash cases_hash records: over every array but cases_hash (for tests that edit a
// file consistently, to reach the rules behind the hash check).
std::vector<uint64_t> cases_content_hash(const std::vector<npz::Array>& arrays);

// Throws npz::NpzError naming `file` and the array.
VectorCases read_cases_npz(const unsigned char* bytes, size_t size, const std::string& file);
// Fills every call's status and y from outputs.npz, which must carry cases.hash.
void read_outputs_npz(VectorCases& cases, const unsigned char* bytes, size_t size, const std::string& file);

}  // namespace ropecheck::gate

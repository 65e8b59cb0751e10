// numpy's .npz, written and read without Python: a ZIP archive of .npy members, one array
// each (numpy's `savez` stores them, `savez_compressed` deflates them).  What golden vectors
// (`ropecheck vectors`, `ropecheck judge`, gate/vectors_file.hpp) are made of.
//
// Written: stored (uncompressed) members, or deflated ones of more than 64 KiB, with their CRC-32, NPY format 1.0, little-endian,
// C order — what numpy.load reads, and so torch, JAX and MLX.  Read: stored and deflated
// members, ZIP64 sizes and offsets (numpy writes every member with force_zip64), NPY
// 1.0 / 2.0 / 3.0 headers.  Everything read is checked — the central directory against the
// local headers, each member's CRC-32 and sizes, the header's dtype and shape against the data
// length — and anything else (truncated, tampered, a ZIP bomb, a Fortran-order or big-endian
// array, an object array) is refused by an NpzError naming the member.  Reading never trusts a
// length it has not checked against the bytes it holds: the fuzz target fuzz/fuzz_npz.cc
// feeds it arbitrary bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "reference/rope_spec.hpp"

namespace ropecheck::npz {

// A malformed archive or array.  field() is "<file>:<member>" (or "<file>" for the archive),
// rule() what is wrong; a SpecError, so every command maps it to exit code 2.
class NpzError : public SpecError {
 public:
  using SpecError::SpecError;
};

// The element types golden vectors use (numpy's descr strings).
enum class Dtype { kF64, kF32, kF16, kI64, kI32, kU64, kU16, kU8 };
const char* descr(Dtype d);  // "<f8", "<f4", "<f2", "<i8", "<i4", "<u8", "<u2", "|u1"
size_t itemsize(Dtype d);

struct Array {
  std::string name;             // member name without ".npy"
  Dtype dtype = Dtype::kU8;
  std::vector<int64_t> shape;   // () for a scalar
  std::vector<unsigned char> data;  // little-endian, C order, itemsize * product(shape) bytes

  int64_t elements() const;
  template <class T>
  static Array of(std::string name, Dtype dtype, const std::vector<T>& values, std::vector<int64_t> shape = {});
};

// Limits of what is read: far above real golden vectors (the gate's cases for one contract
// are tens of MiB), far below what exhausts memory.
inline constexpr size_t kMaxMembers = 256;
inline constexpr uint64_t kMaxMemberBytes = uint64_t{1} << 32;  // 4 GiB uncompressed

// The archive's bytes.  `deflate`: members of more than 64 KiB are deflated (what
// numpy.savez_compressed writes; a call of 65539 tokens repeats one token's values).
std::vector<unsigned char> write_npz(const std::vector<Array>& arrays, bool deflate = false);
// The arrays of an archive, in archive order.  `file` names it in messages.  Throws NpzError.
std::vector<Array> read_npz(const unsigned char* bytes, size_t size, const std::string& file);

// The .npy bytes of one array, and back (read_npy throws NpzError naming `where`).
std::vector<unsigned char> write_npy(const Array& a);
Array read_npy(const unsigned char* bytes, size_t size, const std::string& where);

uint32_t crc32(const unsigned char* bytes, size_t size);

template <class T>
Array Array::of(std::string name, Dtype dtype, const std::vector<T>& values, std::vector<int64_t> shape) {
  Array a;
  a.name = std::move(name);
  a.dtype = dtype;
  a.shape = shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(values.size())} : std::move(shape);
  a.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

}  // namespace ropecheck::npz

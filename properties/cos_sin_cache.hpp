// The cos/sin cache a cache-reading kernel (ABI 2, rc_kernel_desc.cache) is given: what vLLM,
// sglang, FlashInfer or HF build once per model and pass to every call, built here from exact
// mathematics instead — row t, pair j holds a·cos(t·θ'_j) and a·sin(t·θ'_j) correctly rounded
// to the cache's dtype — so that the kernel is judged on its consumption of the cache alone.
//
// Conventions (impl/ropecheck_kernel.h, rc_cache_convention), h = rotary_dim / 2:
//   COS_SIN_HALVES      one table [rows, 2h]: c_0 .. c_{h-1} | s_0 .. s_{h-1}; sin = cos + h
//   FULL_WIDTH          two tables [rows, 2h]: c_0 .. c_{h-1} c_0 .. c_{h-1} (HF's cat(f, f))
//   REPEAT_INTERLEAVED  two tables [rows, 2h]: c_0 c_0 c_1 c_1 ... c_{h-1} c_{h-1}
//
// Rows: max_position + 1 of the kernel (at most impl::kMaxCacheRows), mapped lazily — a row is
// filled the first time a call's position needs it, and every row never asked for reads as
// zeros, so a kernel that reads the wrong row gets a rotation by "0" (a big error) instead of a
// plausible neighbour.  The table is read-only while the kernel runs: a kernel that writes into
// its cache crashes (a finding), it does not corrupt later calls.
//
// Rounding: the fast oracle's double-double value decides the rounding, except where it is too
// close to a rounding boundary for its accuracy (kFastOracleErrorBound), where the exact
// reference decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "impl/ropecheck_kernel.h"
#include "reference/fast_oracle.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::props {

class CosSinCache {
 public:
  // For a kernel that reads a cache (impl::cache_of(kernel) != RC_CACHE_NONE).  Throws
  // std::runtime_error if the table cannot be mapped.
  CosSinCache(const rc_kernel_desc& kernel, const RopeSpec& spec);
  ~CosSinCache();
  CosSinCache(const CosSinCache&) = delete;
  CosSinCache& operator=(const CosSinCache&) = delete;

  // Fills the rows of these positions (those in [0, rows()); others are the kernel's to
  // refuse) and makes the table read-only again.  Thread-safe.
  void ensure(const std::vector<int64_t>& positions);

  const void* cos() const { return cos_; }
  const void* sin() const { return sin_; }
  int64_t rows() const { return rows_; }
  int64_t row_stride() const { return row_stride_; }  // elements
  int32_t dtype() const { return dtype_; }
  int32_t convention() const { return convention_; }

  // The cache's value of pair j at row t as a double (filled rows; the tests read it).
  double cos_at(int64_t t, int j) const;
  double sin_at(int64_t t, int j) const;

 private:
  void fill_row(int64_t t);
  void protect(bool writable);

  int32_t convention_, dtype_;
  int pairs_;
  int64_t rows_, row_stride_;
  size_t elem_, bytes_ = 0;  // bytes of each mapping
  void* map_cos_ = nullptr;
  void* map_sin_ = nullptr;  // null for COS_SIN_HALVES (one table)
  void* cos_ = nullptr;
  void* sin_ = nullptr;
  std::vector<uint8_t> filled_;
  std::mutex fill_mutex_;  // ensure() is called from several threads at once
  std::shared_ptr<const ref::FastOracle> oracle_;
};

// a correctly rounded to `dtype` (F32, BF16, F16, F64) from the double-double hi + lo.  Sets
// *ambiguous when hi + lo is within `tolerance` (absolute) of a rounding boundary, where the
// answer may differ from the rounding of the exact value hi + lo only approximates.
double round_dd_to_dtype(double hi, double lo, int32_t dtype, double tolerance, bool* ambiguous);

}  // namespace ropecheck::props

#include "properties/cos_sin_cache.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "impl/abi.hpp"
#include "impl/kernels/common.hpp"
#include "properties/runner.hpp"
#include "reference/exact_reference.hpp"

namespace ropecheck::props {

namespace {

int precision_bits(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32: return 24;
    case RC_DTYPE_BF16: return 8;
    case RC_DTYPE_F16: return 11;
    default: return 53;
  }
}
int min_normal_exponent(int32_t dtype) {
  switch (dtype) {
    case RC_DTYPE_F32:
    case RC_DTYPE_BF16: return -126;
    case RC_DTYPE_F16: return -14;
    default: return -1022;
  }
}

// Column of pair j's cos (or sin) in a row of the convention's table(s).
size_t first_column(int32_t convention, int j) {
  return convention == RC_CACHE_REPEAT_INTERLEAVED ? static_cast<size_t>(2 * j) : static_cast<size_t>(j);
}

}  // namespace

double round_dd_to_dtype(double hi, double lo, int32_t dtype, double tolerance, bool* ambiguous) {
  *ambiguous = false;
  if (hi == 0) {
    if (lo == 0) return hi;
    hi = lo;  // the whole value is in lo (cannot happen for |value| > 2^-969; kept for safety)
    lo = 0;
  }
  const int p = precision_bits(dtype);
  // The quantum of the grid hi lies on: 2^(e - (p - 1)), e the exponent of hi (or the least
  // normal exponent, where the subnormals' fixed quantum starts).
  const int e = std::max(std::ilogb(hi), min_normal_exponent(dtype));
  const int q = e - (p - 1);
  const double scaled = std::ldexp(hi, -q);  // exact
  const double lo_s = std::ldexp(lo, -q);    // |lo_s| below half an ulp of scaled
  double n0 = std::floor(scaled);
  double frac = scaled - n0;  // exact, in [0, 1)
  if (frac == 0 && lo_s < 0) {  // just below an integer: the lower neighbour's interval
    n0 -= 1;
    frac = 1;
  }
  // hi + lo against the midpoint n0 + 1/2: d = frac - 1/2 is exact, and lo only decides when
  // d is 0 (otherwise |d| is at least an ulp of scaled, larger than |lo_s|).
  const double d = frac - 0.5;
  if (std::fabs(d + lo_s) <= std::ldexp(tolerance, -q)) *ambiguous = true;
  const bool up = d > 0 || (d == 0 && (lo_s > 0 || (lo_s == 0 && std::fmod(n0, 2.0) != 0)));  // ties to even
  return std::ldexp(up ? n0 + 1 : n0, q);
}

CosSinCache::CosSinCache(const rc_kernel_desc& kernel, const RopeSpec& spec)
    : convention_(impl::cache_of(kernel)),
      dtype_(impl::cache_dtype_of(kernel)),
      pairs_(spec.pairs()),
      rows_(std::min<int64_t>(kernel.max_position, impl::kMaxCacheRows - 1) + 1),
      row_stride_(spec.rotary_dim),
      elem_(dtype_size(impl::cache_dtype_of(kernel))),
      filled_(static_cast<size_t>(rows_), 0),
      oracle_(std::make_shared<const ref::FastOracle>(spec)) {
  if (convention_ == RC_CACHE_NONE || elem_ == 0) throw std::logic_error("CosSinCache for a kernel that reads none");
  bytes_ = static_cast<size_t>(rows_) * static_cast<size_t>(row_stride_) * elem_;
  // Anonymous, lazily committed pages: untouched rows cost nothing and read as zeros.
  auto map = [&]() {
    void* m = ::mmap(nullptr, bytes_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      throw std::runtime_error("cannot map a cos/sin cache of " + std::to_string(rows_) + " rows: " +
                               std::strerror(errno));
    }
    return m;
  };
  map_cos_ = map();
  cos_ = map_cos_;
  if (convention_ == RC_CACHE_COS_SIN_HALVES) {
    sin_ = static_cast<char*>(map_cos_) + static_cast<size_t>(pairs_) * elem_;
  } else {
    map_sin_ = map();
    sin_ = map_sin_;
  }
}

CosSinCache::~CosSinCache() {
  if (map_cos_) ::munmap(map_cos_, bytes_);
  if (map_sin_) ::munmap(map_sin_, bytes_);
}

void CosSinCache::protect(bool writable) {
  const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  ::mprotect(map_cos_, bytes_, prot);
  if (map_sin_) ::mprotect(map_sin_, bytes_, prot);
}

void CosSinCache::ensure(const std::vector<int64_t>& positions) {
  // Callers run a kernel from several threads (the report sweep): one fills at a time, or one
  // would make the table read-only under another's writes.
  const std::lock_guard<std::mutex> lock(fill_mutex_);
  // A negative position (RC_FEATURE_NEGATIVE_POSITIONS) is read at row |t|: cos(−φ) = cos φ,
  // sin(−φ) = −sin φ, the kernel negates.
  const auto row = [](int64_t t) { return t < 0 && t != INT64_MIN ? -t : t; };
  bool any = false;
  for (int64_t t : positions) any |= row(t) >= 0 && row(t) < rows_ && !filled_[static_cast<size_t>(row(t))];
  if (!any) return;
  protect(true);
  for (int64_t t : positions) {
    if (row(t) >= 0 && row(t) < rows_ && !filled_[static_cast<size_t>(row(t))]) fill_row(row(t));
  }
  protect(false);
}

void CosSinCache::fill_row(int64_t t) {
  const double a = oracle_->attention_factor();
  // The fast oracle's error, absolute, on values of size a (kFastOracleErrorBound of the
  // pair norm a·|(1, 0)|), doubled for safety: within it of a boundary, the exact reference decides.
  const double tolerance = 2 * (ref::kFastOracleErrorBound * a + ref::kFastOracleUnderflowFloor);
  std::unique_ptr<ref::ExactReference> exact;  // only if a value is ambiguous
  char* cos_row = static_cast<char*>(cos_) + static_cast<size_t>(t * row_stride_) * elem_;
  char* sin_row = static_cast<char*>(sin_) + static_cast<size_t>(t * row_stride_) * elem_;
  for (int j = 0; j < pairs_; ++j) {
    // (a cos, a sin) = the rotation of (1, 0) by t·θ'_j, times a.
    double hi[2], lo[2];
    oracle_->rotate_pair(t, j, 1.0, 0.0, hi, lo);
    double v[2];
    for (int k = 0; k < 2; ++k) {
      bool ambiguous = false;
      v[k] = round_dd_to_dtype(hi[k], lo[k], dtype_, tolerance, &ambiguous);
      if (ambiguous) {
        if (!exact) exact = std::make_unique<ref::ExactReference>(oracle_->spec());
        double ehi[2], elo[2];
        exact->rotate_pair(t, j, 1.0, 0.0, ehi, elo);
        v[k] = round_dd_to_dtype(ehi[k], elo[k], dtype_, 0.0, &ambiguous);
      }
    }
    const size_t col = first_column(convention_, j);
    store_element(cos_row, col, v[0], dtype_);
    store_element(sin_row, col, v[1], dtype_);
    if (convention_ == RC_CACHE_FULL_WIDTH || convention_ == RC_CACHE_REPEAT_INTERLEAVED) {
      const size_t twin = convention_ == RC_CACHE_FULL_WIDTH ? col + static_cast<size_t>(pairs_) : col + 1;
      store_element(cos_row, twin, v[0], dtype_);
      store_element(sin_row, twin, v[1], dtype_);
    }
  }
  filled_[static_cast<size_t>(t)] = 1;
}

double CosSinCache::cos_at(int64_t t, int j) const {
  return load_element(static_cast<const char*>(cos_) + static_cast<size_t>(t * row_stride_) * elem_,
              first_column(convention_, j), dtype_);
}
double CosSinCache::sin_at(int64_t t, int j) const {
  return load_element(static_cast<const char*>(sin_) + static_cast<size_t>(t * row_stride_) * elem_,
              first_column(convention_, j), dtype_);
}

}  // namespace ropecheck::props

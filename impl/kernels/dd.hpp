// Double-double arithmetic (hi + lo, |lo| <= ulp(hi)/2, ~106 bits) for the position-exact
// kernels: their frequencies and the reduction of t*theta mod 2*pi.  Error-free transforms
// (two_sum, two_prod via FMA) after Dekker/Knuth; exp/log/pow/sqrt by one Newton or Taylor
// refinement of the double result.  Relative error of every function here is below 2^-100
// for the arguments RoPE frequency formulas produce (impl/tests/recipe_test.cpp checks the
// frequencies built from them against the exact reference).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace ropecheck::impl {

struct dd {
  double hi = 0.0, lo = 0.0;
  dd() = default;
  constexpr dd(double h) : hi(h), lo(0.0) {}  // NOLINT: implicit, like a numeric type
  constexpr dd(double h, double l) : hi(h), lo(l) {}
  explicit dd(int v) : hi(static_cast<double>(v)), lo(0.0) {}
  // Exact for every int64: v = a + b with a = v - (v mod 2^32) (a multiple of 2^32 below 2^63
  // in magnitude: <= 31 significant bits) and b in [0, 2^32), both exact doubles, summed
  // error-free (two-sum).  (Rounding v to double first and converting hi back to int64 is
  // undefined behaviour for v near INT64_MAX, where hi = 2^63.)
  explicit dd(int64_t v) {
    const int64_t low = v & int64_t{0xFFFFFFFF};
    const double a = static_cast<double>(v - low), b = static_cast<double>(low);
    hi = a + b;
    const double bb = hi - a;
    lo = (a - (hi - bb)) + (b - bb);
  }
  explicit operator double() const { return hi + lo; }
};

inline dd two_sum(double a, double b) {
  double s = a + b;
  double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
inline dd quick_two_sum(double a, double b) {  // requires |a| >= |b|
  double s = a + b;
  return {s, b - (s - a)};
}
inline dd two_prod(double a, double b) {
  double p = a * b;
  return {p, std::fma(a, b, -p)};
}

inline dd operator+(dd a, dd b) {
  dd s = two_sum(a.hi, b.hi);
  dd t = two_sum(a.lo, b.lo);
  s.lo += t.hi;
  s = quick_two_sum(s.hi, s.lo);
  s.lo += t.lo;
  return quick_two_sum(s.hi, s.lo);
}
inline dd operator-(dd a) { return {-a.hi, -a.lo}; }
inline dd operator-(dd a, dd b) { return a + (-b); }
inline dd operator*(dd a, dd b) {
  dd p = two_prod(a.hi, b.hi);
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return quick_two_sum(p.hi, p.lo);
}
inline dd operator/(dd a, dd b) {
  double q1 = a.hi / b.hi;
  dd r = a - b * dd(q1);
  double q2 = r.hi / b.hi;
  r = r - b * dd(q2);
  double q3 = r.hi / b.hi;
  dd q = quick_two_sum(q1, q2);
  return q + dd(q3);
}
inline bool operator<(dd a, dd b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }
inline bool operator>(dd a, dd b) { return b < a; }
inline bool operator<=(dd a, dd b) { return !(b < a); }
inline bool operator>=(dd a, dd b) { return !(a < b); }
inline bool operator==(dd a, dd b) { return a.hi == b.hi && a.lo == b.lo; }
inline bool operator!=(dd a, dd b) { return !(a == b); }

inline dd floor(dd a) {
  double h = std::floor(a.hi);
  if (h != a.hi) return {h, 0.0};
  return quick_two_sum(h, std::floor(a.lo));
}
inline dd ceil(dd a) { return -floor(-a); }
inline dd fabs(dd a) { return a.hi < 0 ? -a : a; }

inline dd sqrt(dd a) {
  if (a.hi <= 0) return dd(std::sqrt(a.hi));
  double s = std::sqrt(a.hi);
  dd r = a - two_prod(s, s);
  return quick_two_sum(s, r.hi / (2.0 * s));
}

constexpr dd kLn2{0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};
constexpr dd kTwoPi{0x1.921fb54442d18p+2, 0x1.1a62633145c07p-52};
constexpr dd kInvTwoPi{0x1.45f306dc9c883p-3, -0x1.6b01ec5417056p-57};

inline dd exp(dd a) {
  if (!(std::fabs(a.hi) < 700.0)) return dd(std::exp(a.hi));
  // a = k ln2 + r, then exp(r) = exp(r/32)^32 with a Taylor series for |r/32| < 2^-6.
  double k = std::nearbyint(a.hi / kLn2.hi);
  dd r = a - kLn2 * dd(k);
  r = r * dd(1.0 / 32.0);
  // exp(r) - 1 = r (1 + r (1/2! + r (1/3! + ... + r/14!))), Horner with 1/n! in double-double
  // (formed once by division); the first omitted term, r^15/15!, is below 2^-130.
  static const auto inv_fact = [] {
    std::array<dd, 15> f{};
    f[0] = dd(1.0);
    for (int n = 1; n < 15; ++n) f[n] = f[n - 1] / dd(static_cast<double>(n));
    return f;
  }();
  dd sum = inv_fact[14];
  for (int n = 13; n >= 1; --n) sum = sum * r + inv_fact[n];
  sum = sum * r;
  // (1 + s)^2 - 1 = 2s + s^2 keeps the small part accurate through the squarings.
  for (int i = 0; i < 5; ++i) sum = sum * dd(2.0) + sum * sum;
  sum = sum + dd(1.0);
  return {std::ldexp(sum.hi, static_cast<int>(k)), std::ldexp(sum.lo, static_cast<int>(k))};
}

inline dd log(dd a) {
  if (!(a.hi > 0)) return dd(std::log(a.hi));
  // One Newton step y + a*exp(-y) - 1 doubles the ~53 correct bits of std::log.
  dd y(std::log(a.hi));
  return y + a * exp(-y) - dd(1.0);
}

inline dd pow(dd b, dd e) { return exp(e * log(b)); }

}  // namespace ropecheck::impl

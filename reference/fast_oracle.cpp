// FastOracle: see fast_oracle.hpp for the algorithm and the error budget (terms T1–T10,
// referred to below).
#include "fast_oracle.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

namespace ropecheck::ref {

namespace {

// ---------------------------------------------------------------------------------------
// Error-free transformations.  Everything hot is always_inline so that it is compiled
// inside each target clone below (FMA instructions in one, libm fma calls in the other).
#if defined(__GNUC__)
#define RC_INLINE inline __attribute__((always_inline))
#else
#define RC_INLINE inline
#endif

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__FMA__) && defined(__ELF__) && \
    !defined(__SANITIZE_ADDRESS__)
// Without -mfma, std::fma is a libm call (~15 per pair).  An ifunc-dispatched clone built
// for FMA removes them; results are identical because fma is exact either way.
#define RC_HOT __attribute__((target_clones("fma", "default")))
#else
#define RC_HOT
#endif

struct DD {
  double hi, lo;
};

RC_INLINE double fma_exact(double a, double b, double c) { return __builtin_fma(a, b, c); }

// a + b = s + e exactly (Knuth).
RC_INLINE DD two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
// a + b = s + e exactly when |a| >= |b| or a == 0 (Dekker).
RC_INLINE DD fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}
// a · b = p + e exactly (barring underflow).
RC_INLINE DD two_prod(double a, double b) {
  const double p = a * b;
  return {p, fma_exact(a, b, -p)};
}
RC_INLINE DD dd_mul(DD a, DD b) {
  DD p = two_prod(a.hi, b.hi);
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return fast_two_sum(p.hi, p.lo);
}
RC_INLINE DD dd_add(DD a, DD b) {
  DD s = two_sum(a.hi, b.hi);
  s.lo += a.lo + b.lo;
  return two_sum(s.hi, s.lo);
}

// v minus an integer, exactly, with |result| <= 1 (<= 1/2 when |v| < 2^51).  Any integer
// will do — only frac(t·ω) matters — so the cheap magic-constant rounding is enough:
// (v + 1.5·2^52) − 1.5·2^52 is an integer near v; v and it are multiples of ulp(v), so the
// difference is exact.  |v| >= 2^52 is itself an integer.
RC_INLINE double frac_exact(double v) {
  constexpr double kShift = 0x1.8p52;
  const double k = (v + kShift) - kShift;
  return std::fabs(v) < 0x1p52 ? v - k : 0.0;  // a select, not a branch
}

// ---------------------------------------------------------------------------------------
// sin/cos(2πk/256) in double-double, and 2π, from MPFR (T5, T7).
constexpr int kTableBits = 8;
constexpr int kTableSize = 1 << kTableBits;

struct TrigTable {
  DD cos_[kTableSize];
  DD sin_[kTableSize];
  DD two_pi;
};

DD mpfr_to_dd(mpfr_srcptr v, mpfr_ptr scratch) {
  const double hi = mpfr_get_d(v, MPFR_RNDN);
  mpfr_sub_d(scratch, v, hi, MPFR_RNDN);
  return {hi, mpfr_get_d(scratch, MPFR_RNDN)};
}

TrigTable make_trig_table() {
  TrigTable tab{};
  mpfr_t v, scratch, k;
  mpfr_inits2(256, v, scratch, k, static_cast<mpfr_ptr>(nullptr));
  for (int i = 0; i < kTableSize; ++i) {
    // sinu(k, 256) = sin(2πk/256), correctly rounded, exact zeros at multiples of π/2.
    mpfr_set_si(k, i, MPFR_RNDN);
    mpfr_cosu(v, k, kTableSize, MPFR_RNDN);
    tab.cos_[i] = mpfr_to_dd(v, scratch);
    mpfr_sinu(v, k, kTableSize, MPFR_RNDN);
    tab.sin_[i] = mpfr_to_dd(v, scratch);
  }
  mpfr_const_pi(v, MPFR_RNDN);
  mpfr_mul_2ui(v, v, 1, MPFR_RNDN);
  tab.two_pi = mpfr_to_dd(v, scratch);
  mpfr_clears(v, scratch, k, static_cast<mpfr_ptr>(nullptr));
  return tab;
}

const TrigTable& trig_table() {
  static const TrigTable tab = make_trig_table();  // thread-safe initialisation
  return tab;
}

// ---------------------------------------------------------------------------------------
// The core: cos and sin of 2π·t·ω as double-double.
struct Position {
  double th, tl;  // t = th + tl, both exact doubles
};

RC_INLINE Position split_position(int64_t t) {
  const auto u = static_cast<uint64_t>(t);
  return {static_cast<double>(u & ~uint64_t{0xFFFFFFFF}),  // <= 31 significant bits: exact
          static_cast<double>(u & uint64_t{0xFFFFFFFF})};   // < 2^32: exact
}

struct TurnAcc {
  double sum = 0.0;  // exact running sum of fractions, kept in [-8, 8]
  double err = 0.0;  // low-order parts (T4)
};

RC_INLINE void acc_add(TurnAcc& a, double v) {
  const DD r = two_sum(a.sum, v);
  a.sum = r.hi;
  a.err += r.lo;
}

// Adds frac(ta · ω) to the accumulator (T3).
RC_INLINE void acc_product(TurnAcc& a, double ta, const double* w) {
  const DD p0 = two_prod(ta, w[0]);
  acc_add(a, frac_exact(p0.hi));
  acc_add(a, frac_exact(p0.lo));
  const DD p1 = two_prod(ta, w[1]);
  acc_add(a, frac_exact(p1.hi));
  acc_add(a, frac_exact(p1.lo));
  const DD p2 = two_prod(ta, w[2]);
  acc_add(a, frac_exact(p2.hi));
  a.err += p2.lo + ta * w[3];  // both < 2^-60 turns
  a.sum = frac_exact(a.sum);
}

// frac(t·ω) as a double-double (hi, lo), |hi| <= 3/4.
//
// Short path, for t < 2^53 and t·ω < 2^50 turns (every position up to 2^50 of an
// ordinary spec): t is one exact double; f = frac(t·w0) exactly; t·w0's low part and t·w1
// are < 1/8 turn and exact (two-product); t·w2 < 2^-56 turns is rounded once (2^-109);
// t·w3 < 2^-109 is dropped.  Two two-sums keep everything exact but the low-order sum
// (<= 2^-105 turns).  Long path: every int64, see acc_product (T3, T4).
RC_INLINE DD turns_short(double t, const double* w) {
  const DD p0 = two_prod(t, w[0]);
  const DD p1 = two_prod(t, w[1]);
  const DD s1 = two_sum(frac_exact(p0.hi), p0.lo);
  const DD s2 = two_sum(s1.hi, p1.hi);
  return {s2.hi, (s1.lo + s2.lo) + (p1.lo + t * w[2])};
}

RC_INLINE DD turns_long(Position pos, const double* w) {
  TurnAcc acc;
  acc_product(acc, pos.tl, w);
  if (pos.th != 0.0) acc_product(acc, pos.th, w);
  return two_sum(acc.sum, acc.err);  // |hi| <= 1/2 + 2^-46
}

template <bool kShort>
RC_INLINE void cos_sin_turns(const TrigTable& tab, Position pos, const double* w, DD* c,
                             DD* s) {
  const DD f = kShort ? turns_short(pos.tl, w) : turns_long(pos, w);

  // Nearest table point k/256 and the exact remainder u, |u| <= 1/512 (T5).  k may be up to
  // ±192; only k mod 256 matters.
  constexpr double kShift = 0x1.8p52;
  const double k = (f.hi * kTableSize + kShift) - kShift;
  const double u = f.hi - k * (1.0 / kTableSize);
  const DD uu = two_sum(u, f.lo);
  DD z = two_prod(uu.hi, tab.two_pi.hi);
  z.lo += uu.hi * tab.two_pi.lo + uu.lo * tab.two_pi.hi;
  z = fast_two_sum(z.hi, z.lo);

  // sin z, cos z, |z| <= π/256 (T6).
  const double z2 = z.hi * z.hi;
  const double sin_tail =
      z.hi * z2 *
      (-1.0 / 6 + z2 * (1.0 / 120 + z2 * (-1.0 / 5040 + z2 * (1.0 / 362880))));
  // sin(zh + zl) = sin zh + zl·cos zh; zl·(cos zh − 1) ≈ −zl·z²/2 is above 2^-73, kept.
  const DD sz = fast_two_sum(z.hi, z.lo + (sin_tail - 0.5 * z.lo * z2));
  DD q = two_prod(z.hi, z.hi);  // z² in double-double
  q.lo += 2.0 * z.hi * z.lo;
  const double cos_tail =
      q.hi * q.hi *
      (1.0 / 24 + q.hi * (-1.0 / 720 + q.hi * (1.0 / 40320 + q.hi * (-1.0 / 3628800))));
  const DD c0 = two_sum(1.0, -0.5 * q.hi);
  const DD cz = fast_two_sum(c0.hi, c0.lo + (cos_tail - 0.5 * q.lo));

  // Angle addition with the table (T8).
  const int idx = static_cast<int>(k) & (kTableSize - 1);
  const DD ca = tab.cos_[idx];
  const DD sa = tab.sin_[idx];
  *c = dd_add(dd_mul(ca, cz), dd_mul({-sa.hi, -sa.lo}, sz));
  *s = dd_add(dd_mul(sa, cz), dd_mul(ca, sz));
}

// a / b in double-double: one Newton correction of the double quotient (~2^-104 relative).
inline DD dd_div(DD a, DD b) {
  const double q1 = a.hi / b.hi;
  const DD p = dd_mul(b, {q1, 0.0});
  const DD r = dd_add(a, {-p.hi, -p.lo});
  return fast_two_sum(q1, r.hi / b.hi);
}

// (x0 + i x1)·(C + i S) in double-double (T10).
RC_INLINE void rotate_dd(double x0, double x1, DD C, DD S, double* y_hi, double* y_lo) {
  const DD p0 = two_prod(x0, C.hi), p1 = two_prod(x1, S.hi);
  const DD h0 = two_sum(p0.hi, -p1.hi);
  const DD y0 = two_sum(h0.hi, h0.lo + ((p0.lo - p1.lo) + (x0 * C.lo - x1 * S.lo)));
  const DD p2 = two_prod(x0, S.hi), p3 = two_prod(x1, C.hi);
  const DD h1 = two_sum(p2.hi, p3.hi);
  const DD y1 = two_sum(h1.hi, h1.lo + ((p2.lo + p3.lo) + (x0 * S.lo + x1 * C.lo)));
  y_hi[0] = y0.hi;
  y_hi[1] = y1.hi;
  if (y_lo) {
    y_lo[0] = y0.lo;
    y_lo[1] = y1.lo;
  }
}

struct HeadJob {
  const RopeSpec* spec;
  const double* omega;  // 4 words per pair
  DD a;
  bool unit_a;
  int64_t short_max_t;  // positions <= this take turns_short
};

RC_INLINE Position position_for(bool short_path, int64_t t) {
  return short_path ? Position{0.0, static_cast<double>(t)} : split_position(t);  // exact
}

RC_HOT void cos_sin_one(const double* w, int64_t t, bool short_path, DD* c, DD* s) {
  const Position pos = position_for(short_path, t);
  if (short_path) {
    cos_sin_turns<true>(trig_table(), pos, w, c, s);
  } else {
    cos_sin_turns<false>(trig_table(), pos, w, c, s);
  }
}

template <bool kShort>
RC_INLINE void rotate_pairs_body(const HeadJob& job, int64_t t, const double* x,
                                 double* out_hi, double* out_lo) {
  const TrigTable& tab = trig_table();
  const Position pos = position_for(kShort, t);
  for (int j = 0; j < job.spec->pairs(); ++j) {
    DD c, s;
    cos_sin_turns<kShort>(tab, pos, job.omega + 4 * j, &c, &s);
    if (!job.unit_a) {
      c = dd_mul(job.a, c);
      s = dd_mul(job.a, s);
    }
    const int i0 = job.spec->first_index(j), i1 = job.spec->second_index(j);
    // Read both inputs before writing: out_hi may alias x.
    const double x0 = x[i0], x1 = x[i1];
    double yh[2], yl[2];
    rotate_dd(x0, x1, c, s, yh, yl);
    out_hi[i0] = yh[0];
    out_hi[i1] = yh[1];
    if (out_lo) {
      out_lo[i0] = yl[0];
      out_lo[i1] = yl[1];
    }
  }
}

RC_HOT void rotate_pairs(const HeadJob& job, int64_t t, const double* x, double* out_hi,
                         double* out_lo) {
  if (t <= job.short_max_t) {
    rotate_pairs_body<true>(job, t, x, out_hi, out_lo);
  } else {
    rotate_pairs_body<false>(job, t, x, out_hi, out_lo);
  }
}

// a² · Σ_j Re((q0 + i q1)(k0 − i k1) e^{iΔθ_j}) in double-double; Δ = t − s.
template <bool kShort>
RC_INLINE DD score_pairs_body(const HeadJob& job, int64_t abs_delta, bool negative,
                              const double* q, const double* k) {
  const TrigTable& tab = trig_table();
  const Position pos = position_for(kShort, abs_delta);
  DD sum{0.0, 0.0};
  for (int j = 0; j < job.spec->pairs(); ++j) {
    DD c, s;
    cos_sin_turns<kShort>(tab, pos, job.omega + 4 * j, &c, &s);
    if (negative) s = {-s.hi, -s.lo};  // e^{-iφ} = conj(e^{iφ})
    const int i0 = job.spec->first_index(j), i1 = job.spec->second_index(j);
    // u + i v = q · conj(k); Re((u + i v)(c + i s)) = u c − v s.
    const DD u = dd_add(two_prod(q[i0], k[i0]), two_prod(q[i1], k[i1]));
    const DD v = dd_add(two_prod(q[i1], k[i0]), two_prod(-q[i0], k[i1]));
    sum = dd_add(sum, dd_add(dd_mul(u, c), dd_mul({-v.hi, -v.lo}, s)));
  }
  if (!job.unit_a) sum = dd_mul(job.a, dd_mul(job.a, sum));
  return sum;
}

RC_HOT DD score_pairs(const HeadJob& job, int64_t abs_delta, bool negative, const double* q,
                      const double* k) {
  return abs_delta <= job.short_max_t ? score_pairs_body<true>(job, abs_delta, negative, q, k)
                                      : score_pairs_body<false>(job, abs_delta, negative, q, k);
}

// A negative position is the inverse rotation: R(x, −t) = C·R(C·x, t), with C negating the
// second component of every pair (complex conjugation: conj(conj(z)·e^{iφ}) = z·e^{−iφ}).
// Negation is exact, so the fast paths below serve −t through t.  INT64_MIN (no int64
// magnitude) goes to the exact reference.

void check_pair(const RopeSpec& spec, int pair) {
  if (pair < 0 || pair >= spec.pairs()) {
    throw std::out_of_range("pair " + std::to_string(pair) + " not in [0, " +
                            std::to_string(spec.pairs()) + ")");
  }
}

}  // namespace

FastOracle::FastOracle(RopeSpec spec)
    : FastOracle(std::make_shared<const ExactReference>(std::move(spec))) {}

FastOracle::FastOracle(std::shared_ptr<const ExactReference> exact) : exact_(std::move(exact)) {
  if (!exact_) throw std::invalid_argument("FastOracle: null ExactReference");
  const RopeSpec& sp = exact_->spec();
  const int n = sp.pairs();
  // T1, T2: θ'_j through 64 significant digits (the exact reference's 192-bit value to
  // 2^-212), divided by 2π at 320 bits, split into four doubles.
  constexpr int kDigits = 64;
  const std::vector<std::string> dec = exact_->theta_decimal(kDigits);
  mpfr_t th, two_pi, om, scratch;
  mpfr_inits2(320, th, two_pi, om, scratch, static_cast<mpfr_ptr>(nullptr));
  mpfr_const_pi(two_pi, MPFR_RNDN);
  mpfr_mul_2ui(two_pi, two_pi, 1, MPFR_RNDN);
  omega_.resize(static_cast<size_t>(n));
  theta_.resize(static_cast<size_t>(n));
  double theta_max = 0.0;
  for (int j = 0; j < n; ++j) {
    if (mpfr_set_str(th, dec[static_cast<size_t>(j)].c_str(), 10, MPFR_RNDN) != 0) {
      throw std::logic_error("FastOracle: unparsable theta " + dec[static_cast<size_t>(j)]);
    }
    mpfr_div(om, th, two_pi, MPFR_RNDN);
    Omega& o = omega_[static_cast<size_t>(j)];
    for (double& w : o.w) {
      w = mpfr_get_d(om, MPFR_RNDN);
      mpfr_sub_d(om, om, w, MPFR_RNDN);  // exact: om − RN(om) fits in 320 bits
    }
    theta_[static_cast<size_t>(j)] = exact_->theta(j);
    theta_max = std::max(theta_max, std::fabs(theta_[static_cast<size_t>(j)]));
  }
  mpfr_set_str(scratch, exact_->attention_factor_decimal(kDigits).c_str(), 10, MPFR_RNDN);
  a_hi_ = mpfr_get_d(scratch, MPFR_RNDN);
  mpfr_sub_d(scratch, scratch, a_hi_, MPFR_RNDN);
  a_lo_ = mpfr_get_d(scratch, MPFR_RNDN);
  a_double_ = exact_->attention_factor();
  mpfr_clears(th, two_pi, om, scratch, static_cast<mpfr_ptr>(nullptr));

  // Fast path while t·θ_max <= 2^96 rad; short reduction while t < 2^53 and
  // t·θ_max/2π < 2^50 turns (2^-40 slack for θ_max's own rounding).
  if (theta_max > 0.0) {
    const double lim = kFastOracleMaxAngle / (theta_max * (1.0 + 0x1p-40));
    max_fast_t_ = lim >= 0x1p63 ? INT64_MAX : static_cast<int64_t>(lim);
    constexpr double kTwoPiApprox = 6.283185307179586;  // slack covers its rounding
    const double short_lim = std::min(0x1p50 * kTwoPiApprox / (theta_max * (1.0 + 0x1p-40)),
                                      0x1p53 - 1.0);
    max_short_t_ = static_cast<int64_t>(short_lim);
  } else {
    max_short_t_ = (int64_t{1} << 53) - 1;  // every θ'_j = 0 (rope type none): t·ω = 0 turns
  }
  (void)trig_table();  // build the table now, not inside the first timed call
}

FastOracle::~FastOracle() = default;

const RopeSpec& FastOracle::spec() const { return exact_->spec(); }

double FastOracle::theta(int pair) const {
  check_pair(spec(), pair);
  return theta_[static_cast<size_t>(pair)];
}

double FastOracle::attention_factor() const { return a_double_; }

void FastOracle::cos_sin(int64_t t, int pair, double c[2], double s[2]) const {
  check_pair(spec(), pair);
  if (t < 0 && t != INT64_MIN) {  // cos(−φ) = cos φ, sin(−φ) = −sin φ
    cos_sin(-t, pair, c, s);
    s[0] = -s[0], s[1] = -s[1];
    return;
  }
  if (t > max_fast_t_ || t < 0) {
    // Outside the fast range: the exact reference rotates (1, 0) into a·(cos, sin); divide
    // a out again in double-double (relative error ~2^-104).
    double yh[2], yl[2];
    exact_->rotate_pair(t, pair, 1.0, 0.0, yh, yl);
    const DD cc = dd_div({yh[0], yl[0]}, {a_hi_, a_lo_});
    const DD ss = dd_div({yh[1], yl[1]}, {a_hi_, a_lo_});
    c[0] = cc.hi, c[1] = cc.lo, s[0] = ss.hi, s[1] = ss.lo;
    return;
  }
  DD cc, ss;
  cos_sin_one(omega_[static_cast<size_t>(pair)].w, t, t <= max_short_t_, &cc, &ss);
  c[0] = cc.hi, c[1] = cc.lo, s[0] = ss.hi, s[1] = ss.lo;
}

void FastOracle::rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const {
  if (t < 0 && t != INT64_MIN) {  // C·R(C·x, −t)
    const RopeSpec& sp = spec();
    std::vector<double> xc(x, x + sp.head_dim);  // out_hi may alias x
    for (int j = 0; j < sp.pairs(); ++j) xc[static_cast<size_t>(sp.second_index(j))] *= -1;
    rotate(-t, xc.data(), out_hi, out_lo);
    for (int j = 0; j < sp.pairs(); ++j) {
      out_hi[sp.second_index(j)] *= -1;
      if (out_lo) out_lo[sp.second_index(j)] *= -1;
    }
    return;
  }
  if (t > max_fast_t_ || t < 0) {
    exact_->rotate(t, x, out_hi, out_lo);
    return;
  }
  const RopeSpec& sp = spec();
  const HeadJob job{&sp, omega_.front().w, {a_hi_, a_lo_}, a_hi_ == 1.0 && a_lo_ == 0.0,
                    max_short_t_};
  rotate_pairs(job, t, x, out_hi, out_lo);
  for (int i = sp.rotary_dim; i < sp.head_dim; ++i) {  // pass-through, bit-exact
    out_hi[i] = x[i];
    if (out_lo) out_lo[i] = 0.0;
  }
}

void FastOracle::rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2],
                             double y_lo[2]) const {
  check_pair(spec(), pair);
  if (t < 0 && t != INT64_MIN) {  // C·R(C·x, −t)
    rotate_pair(-t, pair, x0, -x1, y_hi, y_lo);
    y_hi[1] = -y_hi[1];
    if (y_lo) y_lo[1] = -y_lo[1];
    return;
  }
  if (t > max_fast_t_ || t < 0) {
    exact_->rotate_pair(t, pair, x0, x1, y_hi, y_lo);
    return;
  }
  DD c, s;
  cos_sin_one(omega_[static_cast<size_t>(pair)].w, t, t <= max_short_t_, &c, &s);
  if (!(a_hi_ == 1.0 && a_lo_ == 0.0)) {
    c = dd_mul({a_hi_, a_lo_}, c);
    s = dd_mul({a_hi_, a_lo_}, s);
  }
  rotate_dd(x0, x1, c, s, y_hi, y_lo);
}

double FastOracle::score(const double* q, int64_t t, const double* k, int64_t s) const {
  // |t − s| in 64 unsigned bits (negative positions: up to 2^64 − 1); beyond the fast range,
  // or beyond int64, the exact reference.
  const uint64_t abs_delta_u = t >= s ? static_cast<uint64_t>(t) - static_cast<uint64_t>(s)
                                      : static_cast<uint64_t>(s) - static_cast<uint64_t>(t);
  if (abs_delta_u > static_cast<uint64_t>(max_fast_t_)) return exact_->score(q, t, k, s);
  const auto abs_delta = static_cast<int64_t>(abs_delta_u);
  const RopeSpec& sp = spec();
  const HeadJob job{&sp, omega_.front().w, {a_hi_, a_lo_}, a_hi_ == 1.0 && a_lo_ == 0.0,
                    max_short_t_};
  DD sum = score_pairs(job, abs_delta, t < s, q, k);
  for (int i = sp.rotary_dim; i < sp.head_dim; ++i) {
    const DD p = two_prod(q[i], k[i]);
    sum = dd_add(sum, p);
  }
  return sum.hi + sum.lo;
}

// ---------------------------------------------------------------------------------------
// CheckedOracle.

namespace {

// ‖(hi0 + lo0, hi1 + lo1) − (hi0' + lo0', hi1' + lo1')‖ for two double-double pairs.
double pair_distance(const double ah[2], const double al[2], const double bh[2],
                     const double bl[2]) {
  double d[2];
  for (int i = 0; i < 2; ++i) {
    const DD e = two_sum(ah[i], -bh[i]);
    d[i] = e.hi + (e.lo + ((al ? al[i] : 0.0) - (bl ? bl[i] : 0.0)));
  }
  return std::hypot(d[0], d[1]);
}

[[noreturn]] void mismatch(const char* what, int64_t t, int pair, double x0, double x1,
                           double error, double allowed) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "fast oracle disagrees with the exact reference (%s): t=%" PRId64
                " pair=%d x0=%a x1=%a error=%a allowed=%a",
                what, t, pair, x0, x1, error, allowed);
  throw OracleMismatch(buf);
}

}  // namespace

namespace {
std::shared_ptr<const ExactReference> exact_of(const std::shared_ptr<const FastOracle>& fast) {
  if (!fast) throw std::invalid_argument("CheckedOracle: null FastOracle");
  return fast->exact_shared();
}
}  // namespace

CheckedOracle::CheckedOracle(std::shared_ptr<const FastOracle> fast, uint64_t spot_every)
    : CheckedOracle(fast, exact_of(fast), spot_every) {}

CheckedOracle::CheckedOracle(std::shared_ptr<const Oracle> answers, std::shared_ptr<const ExactReference> exact,
                             uint64_t spot_every)
    : fast_(std::move(answers)), exact_(std::move(exact)), every_(spot_every == 0 ? 1 : spot_every) {
  if (!fast_ || !exact_) throw std::invalid_argument("CheckedOracle: null oracle");
  if (spec_to_json_text(fast_->spec(), -1) != spec_to_json_text(exact_->spec(), -1)) {
    throw std::invalid_argument("CheckedOracle: the answering oracle and the exact reference have different specs");
  }
}

bool CheckedOracle::due() const {
  if (calls_.fetch_add(1) % every_ != 0) return false;
  checks_.fetch_add(1);
  return true;
}

void CheckedOracle::rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2],
                                double y_lo[2]) const {
  double lo[2];
  fast_->rotate_pair(t, pair, x0, x1, y_hi, lo);
  if (y_lo) y_lo[0] = lo[0], y_lo[1] = lo[1];
  if (!due()) return;
  double eh[2], el[2];
  exact().rotate_pair(t, pair, x0, x1, eh, el);
  const double err = pair_distance(y_hi, lo, eh, el);
  const double allowed = kFastOracleErrorBound * fast_->attention_factor() * std::hypot(x0, x1) +
                         kFastOracleUnderflowFloor;
  if (!(err <= allowed)) mismatch("rotate_pair", t, pair, x0, x1, err, allowed);
}

void CheckedOracle::rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const {
  const RopeSpec& sp = spec();
  const auto n = static_cast<size_t>(sp.head_dim);
  if (!due()) {
    fast_->rotate(t, x, out_hi, out_lo);
    return;
  }
  const std::vector<double> xs(x, x + n);  // out_hi may alias x
  std::vector<double> lo(n), eh(n), el(n);
  fast_->rotate(t, xs.data(), out_hi, lo.data());
  if (out_lo) std::copy(lo.begin(), lo.end(), out_lo);
  exact().rotate(t, xs.data(), eh.data(), el.data());
  for (int j = 0; j < sp.pairs(); ++j) {
    const auto i0 = static_cast<size_t>(sp.first_index(j));
    const auto i1 = static_cast<size_t>(sp.second_index(j));
    const double fh[2] = {out_hi[i0], out_hi[i1]}, fl[2] = {lo[i0], lo[i1]};
    const double xh[2] = {eh[i0], eh[i1]}, xl[2] = {el[i0], el[i1]};
    const double err = pair_distance(fh, fl, xh, xl);
    const double allowed =
        kFastOracleErrorBound * fast_->attention_factor() * std::hypot(xs[i0], xs[i1]) +
        kFastOracleUnderflowFloor;
    if (!(err <= allowed)) mismatch("rotate", t, j, xs[i0], xs[i1], err, allowed);
  }
}

double CheckedOracle::score(const double* q, int64_t t, const double* k, int64_t s) const {
  const double fast = fast_->score(q, t, k, s);
  if (!due()) return fast;
  const double exact_score = exact().score(q, t, k, s);
  // Per pair the contract on a²·‖q_j‖‖k_j‖, then one rounding of each result (see
  // fast_oracle_test.cpp, fastOracleScoreMatchesExactClosedForm).
  const RopeSpec& sp = spec();
  const double a = fast_->attention_factor();
  double terms = 0.0, pass = 0.0;
  for (int j = 0; j < sp.pairs(); ++j) {
    const int i0 = sp.first_index(j), i1 = sp.second_index(j);
    terms += a * a * std::hypot(q[i0], q[i1]) * std::hypot(k[i0], k[i1]);
  }
  for (int c = sp.rotary_dim; c < sp.head_dim; ++c) pass += std::fabs(q[c] * k[c]);
  const double allowed = kFastOracleErrorBound * terms + 0x1p-100 * pass +
                         0x1p-52 * std::fabs(exact_score) + kFastOracleUnderflowFloor;
  const double err = std::fabs(fast - exact_score);
  if (!(err <= allowed)) mismatch("score", t, -1, q[0], k[0], err, allowed);
  return fast;
}

bool CheckedOracle::confirm_pair_error(int64_t t, int pair, double x0, double x1,
                                       const double y[2], double allowed) const {
  double eh[2], el[2];
  exact().rotate_pair(t, pair, x0, x1, eh, el);
  // Not `> allowed`: a NaN output (distance NaN) is an error too, not a fast-oracle slip.
  return !(pair_distance(y, nullptr, eh, el) <= allowed);
}

}  // namespace ropecheck::ref

// The property catalogue.  Each property states its bound next to its check; the bounded
// ones read the kernel's declared accuracy contract through pair_bound (error model), the
// exact ones compare bit patterns.
#include "properties/catalogue.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>

#include "impl/abi.hpp"
#include "properties/recipe_view.hpp"
#include "reference/error_model.hpp"
#include "reference/exact_reference.hpp"
#include "reference/fast_oracle.hpp"

namespace ropecheck::props {

namespace {

using Kind = Verdict::Kind;

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

using ref::pair_bound;

double ulps_of(double err, double r, int32_t dtype) { return ref::ulps_of_pair_norm(err, r, dtype); }

struct PairRef {
  int64_t k, h;
  int j;
  size_t i0, i1;
};

template <class F>
void for_each_pair(const Case& c, F&& f) {
  for (int64_t k = 0; k < c.n_tokens(); ++k) {
    for (int64_t h = 0; h < c.n_heads; ++h) {
      for (int j = 0; j < c.spec.pairs(); ++j) {
        f(PairRef{k, h, j, c.at(k, h, c.first_comp(j)), c.at(k, h, c.second_comp(j))});
      }
    }
  }
}

// The oracle's answer for one head x of token k of `c` as the kernel was asked to rotate it: by
// the angle position (c.angle_position: −t for an inverse call, R⁻¹(x, t) = R(x, −t)), on dims
// [rotary_offset, rotary_offset + rotary_dim), every other dim copied (lo = 0).  The oracle
// rotates a head's leading rotary_dim dims, so with an offset the head is turned cyclically
// by rotary_offset before and back after: a permutation, no arithmetic.  A token with positions
// of its own per axis (multi-axis specs) is rotated pair by pair, each by its axis's position.
void expected_head(const ref::Oracle& oracle, const Case& c, int64_t k, const double* x, double* hi, double* lo) {
  if (!c.axis_positions.empty()) {
    for (int64_t i = 0; i < c.spec.head_dim; ++i) {
      hi[i] = x[i];
      lo[i] = 0;
    }
    for (int j = 0; j < c.spec.pairs(); ++j) {
      const int64_t i0 = c.first_comp(j), i1 = c.second_comp(j);
      double yh[2], yl[2];
      oracle.rotate_pair(c.angle_position(static_cast<size_t>(k), j), j, x[i0], x[i1], yh, yl);
      hi[i0] = yh[0], hi[i1] = yh[1];
      lo[i0] = yl[0], lo[i1] = yl[1];
    }
    return;
  }
  const int64_t t = c.angle_position(static_cast<size_t>(k));
  if (c.rotary_offset == 0) {
    oracle.rotate(t, x, hi, lo);
    return;
  }
  const auto hd = static_cast<size_t>(c.spec.head_dim), off = static_cast<size_t>(c.rotary_offset);
  std::vector<double> xp(hd), hp(hd), lp(hd);
  for (size_t i = 0; i < hd; ++i) xp[i] = x[(i + off) % hd];
  oracle.rotate(t, xp.data(), hp.data(), lp.data());
  for (size_t i = 0; i < hd; ++i) {
    hi[(i + off) % hd] = hp[i];
    if (lo) lo[(i + off) % hd] = lp[i];
  }
}

// Runs the kernel; a refusal of a declared-supported case, or any out-of-bounds write, is a
// failure of whatever property asked.
std::optional<Verdict> run_checked(const KernelRunner& runner, const Case& c, Placement p,
                                   RunOutput* out) {
  const std::string why = runner.unsupported_reason(c, p);
  if (!why.empty()) return Verdict::skip(why);
  *out = runner.run(c, p);
  if (!out->out_of_bounds.empty()) {
    return Verdict::fail("out-of-bounds write: " + out->out_of_bounds, describe(c));
  }
  if (out->status != 0) {
    return Verdict::fail(std::string("refused a case inside its declared range: ") +
                             rc_status_string(out->status) +
                             (out->refusal_reason.empty() ? "" : " (the kernel says: " + out->refusal_reason + ")"),
                         describe(c));
  }
  return std::nullopt;
}

// "3.94729e+29 > 3.94729e+29" shows nothing: the two numbers with as many digits as it takes
// to tell them apart (up to 17), and how many times the bound the error is.
std::string excess(double err, double bound) {
  std::ostringstream os;
  int digits = 6;
  auto show = [&](double v) {
    std::ostringstream o;
    o.precision(digits);
    o << v;
    return o.str();
  };
  while (digits < 17 && show(err) == show(bound) && err != bound) ++digits;
  os << "|diff| " << show(err) << " > bound " << show(bound);
  if (bound > 0) os << " (" << err / bound << "x the bound)";
  return os.str();
}

// The evidence of one pair over its bound: where it is, the angle, the values in hexfloat
// (bit-exact) and decimal (readable), the error and the bound with its terms.
std::string pair_evidence(const Context& ctx, const Case& c, const PairMeasurement& m, const RunOutput& y) {
  const rc_kernel_desc& d = ctx.runner.desc();
  const double theta = ctx.oracle.theta(m.pair);
  const double a = ctx.oracle.attention_factor();
  const ref::PairBound terms = ref::pair_error_bound(d, c.spec, m.pair, m.t, theta, m.r, a);
  const double x0 = c.x[m.i0], x1 = c.x[m.i1], y0 = y.y[m.i0], y1 = y.y[m.i1];
  std::ostringstream os;
  os.precision(9);
  os << describe(c) << "\n  token " << m.token << " (t=" << format_axis_position(c.token_axes(static_cast<size_t>(m.token)))
     << (c.spec.n_axes() > 1 ? ", pair on axis " + std::to_string(c.spec.axis_of_pair(m.pair)) : std::string())
     << (c.inverse ? ", inverse: rotated by -t" : "") << ") head " << m.head << " pair " << m.pair
     << " (components " << c.first_comp(m.pair) << ", " << c.second_comp(m.pair) << "), angle t*theta_j = "
     << static_cast<long double>(m.t) * theta << " rad (theta_j = " << theta << ")"
     << "\n  x        = (" << hexfloat(x0) << ", " << hexfloat(x1) << ")  |x| = " << std::hypot(x0, x1)
     << "\n  expected = (" << hexfloat(m.exact[0]) << ", " << hexfloat(m.exact[1]) << ")  a|x| = " << m.r
     << "\n  actual   = (" << hexfloat(y0) << ", " << hexfloat(y1) << ")  |y| = " << std::hypot(y0, y1);
  if (same_bits(x0, y0) && same_bits(x1, y1) && !(m.t == 0 && a == 1)) os << "  <- the output equals the input: not rotated";
  os << "\n  error    = " << m.err << " = " << m.ulps << " ulp of the pair norm; " << excess(m.err, m.bound)
     << "\n  bound    = " << m.bound << " = " << m.bound_ulps << " ulp: angle " << terms.angle << " (|dphi| <= "
     << terms.dphi << " rad) + sin/cos " << terms.sincos << " + arithmetic " << terms.arithmetic
     << " + attention factor and output rounding " << terms.other;
  if (m.bound >= ref::kPairBoundCap * m.r) {
    os << "\n  (the bound is capped at " << ref::kPairBoundCap << "*a|x|: any output of the right norm passes here)";
  }
  return os.str();
}

// ---- bounded properties ----------------------------------------------------------------

// |(u, v)| for the per-pair measurement, the judge's hottest path (libm's hypot took a quarter
// of the agreement property's time, properties/bench/bench_judge.cpp): sqrt(u² + v²) where
// neither square can overflow nor lose bits to underflow (|u|, |v| in [2^-480, 2^480] or 0),
// relative error below 1.5u (two roundings of the squares and the sum, halved by the square
// root, and the root's own), against hypot's 1u — a difference of 2^-53 of the measured
// error and of r, far inside the error model's 1.01 margin; hypot elsewhere (and for NaN/Inf).
double pair_norm(double u, double v) {
  const double au = std::fabs(u), av = std::fabs(v);
  const double big = std::max(au, av), small = std::min(au, av);
  if (big <= 0x1p480 && (small >= 0x1p-480 || small == 0) && (big >= 0x1p-480)) return std::sqrt(u * u + v * v);
  return std::hypot(u, v);
}

// The measurement of pair j of token k, head h: the kernel's output y against the oracle's
// double-double hi + lo for the pair's two components; theta_j and a are the oracle's.
// `bounds` and `out_dtype` as measure_pair below takes them from ctx (asked once per case by
// measure_agreement).
PairMeasurement measure_pair(const ref::PairBounds& bounds, int32_t out_dtype, const Case& c, const RunOutput& y,
                             int64_t k, int64_t h, int j, const double hi[2], const double lo[2], double theta_j,
                             double a) {
  const int64_t t = c.angle_position(static_cast<size_t>(k), j);
  PairMeasurement m;
  m.token = k;
  m.head = h;
  m.pair = j;
  m.t = t;
  m.i0 = c.at(k, h, c.first_comp(j));
  m.i1 = c.at(k, h, c.second_comp(j));
  m.r = a * pair_norm(c.x[m.i0], c.x[m.i1]);
  m.exact[0] = hi[0] + lo[0];
  m.exact[1] = hi[1] + lo[1];
  // Error against the double-double exact value: (y − hi) − lo, formed without loss.
  const double d0 = (y.y[m.i0] - hi[0]) - lo[0], d1 = (y.y[m.i1] - hi[1]) - lo[1];
  m.err = pair_norm(d0, d1);
  m.bound = bounds(j, t, theta_j, m.r, a);
  m.ulps = ulps_of(m.err, m.r, out_dtype);
  m.bound_ulps = ulps_of(m.bound, m.r, out_dtype);
  return m;
}

// The contract's bounds of c.spec: the runner's, or those of a call's own length.
const ref::PairBounds& bounds_of(const Context& ctx) { return ctx.bounds != nullptr ? *ctx.bounds : ctx.runner.bounds(); }

PairMeasurement measure_pair(const Context& ctx, const Case& c, const RunOutput& y, int64_t k, int64_t h, int j,
                             const double hi[2], const double lo[2], double theta_j, double a) {
  return measure_pair(bounds_of(ctx), ctx.runner.desc().out_dtype, c, y, k, h, j, hi, lo, theta_j, a);
}

PairMeasurement measure_pair(const Context& ctx, const Case& c, const RunOutput& y, int64_t k, int64_t h, int j,
                             const double hi[2], const double lo[2]) {
  return measure_pair(ctx, c, y, k, h, j, hi, lo, ctx.oracle.theta(j), ctx.oracle.attention_factor());
}

// One run of the kernel on the case, every rotated pair measured against the oracle.
// The agreement property and the reports both stand on this (one code path).  A template
// over the visitor: the agreement property's own visitor is inlined into the pair loop (a
// std::function call per pair was a few per cent of judging a case); measure_agreement is
// this with a std::function.
template <class Visit>
std::optional<Verdict> measure_agreement_with(const Context& ctx, const Case& c, Visit&& visit, RunOutput* out) {
  RunOutput local;
  RunOutput& y = out ? *out : local;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return v;
  const auto hd = static_cast<size_t>(c.spec.head_dim);
  std::vector<double> hi(hd), lo(hd);
  // The oracle's θ_j and a, asked once per case instead of once per pair.
  std::vector<double> theta(static_cast<size_t>(c.spec.pairs()));
  for (int j = 0; j < c.spec.pairs(); ++j) theta[static_cast<size_t>(j)] = ctx.oracle.theta(j);
  const double a = ctx.oracle.attention_factor();
  const ref::PairBounds& bounds = bounds_of(ctx);
  const int32_t out_dtype = ctx.runner.desc().out_dtype;
  for (int64_t k = 0; k < c.n_tokens(); ++k) {
    for (int64_t h = 0; h < c.n_heads; ++h) {
      expected_head(ctx.oracle, c, k, &c.x[c.at(k, h, 0)], hi.data(), lo.data());
      for (int j = 0; j < c.spec.pairs(); ++j) {
        const auto c0 = static_cast<size_t>(c.first_comp(j));
        const auto c1 = static_cast<size_t>(c.second_comp(j));
        const double phi[2] = {hi[c0], hi[c1]}, plo[2] = {lo[c0], lo[c1]};
        if (!visit(measure_pair(bounds, out_dtype, c, y, k, h, j, phi, plo, theta[static_cast<size_t>(j)], a))) {
          return std::nullopt;
        }
      }
      for (size_t i = 0; i < hd; ++i) {
        if (c.is_rotated(static_cast<int64_t>(i))) continue;
        if (!same_bits(y.y[c.at(k, h, static_cast<int64_t>(i))], hi[i])) {
          return Verdict::fail("pass-through component changed",
                               describe(c) + "\n  token " + std::to_string(k) + " head " +
                                   std::to_string(h) + " component " + std::to_string(i));
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Verdict> measure_agreement(const Context& ctx, const Case& c,
                                         const std::function<bool(const PairMeasurement&)>& visit,
                                         RunOutput* out) {
  return measure_agreement_with(ctx, c, visit, out);
}

namespace {

// |y − y_exact| ≤ B per pair, B from the kernel's contract at that pair's t and θ.  Every pair
// is measured; a failure shows the pair with the largest excess (NaN first), and the verdict
// carries the largest error/bound of the case either way.
// The pairs of a case as they are measured: the largest error/bound and error in ulp into the
// verdict, and the pair with the largest excess over its bound (NaN first) to show.
class WorstPair {
 public:
  explicit WorstPair(Verdict& verdict) : v(verdict) {}
  Verdict& v;
  std::optional<PairMeasurement> fail;
  double fail_ratio = 0;

  void add(const PairMeasurement& m) {
    const double ratio = m.bound > 0 ? m.err / m.bound : (m.err > 0 ? INFINITY : m.err);  // NaN stays NaN
    if (ratio > v.worst_ratio || (std::isnan(ratio) && !std::isnan(v.worst_ratio))) {
      v.worst_ratio = ratio;
      v.worst_capped = m.bound >= ref::kPairBoundCap * m.r;
    }
    v.worst_ulp = std::max(v.worst_ulp, m.ulps);
    if (!(m.err <= m.bound) &&  // NaN fails too
        (!fail || ratio > fail_ratio || (std::isnan(ratio) && !std::isnan(fail_ratio)))) {
      fail = m;
      fail_ratio = ratio;
    }
  }
};

// The failure of a bounded pair property: the pair shown (m) and the case's largest
// error/bound and ulp (from `worst`, the fast evaluation's verdict).
Verdict pair_failure(const char* reason, const Verdict& worst, const PairMeasurement& m, std::string detail) {
  Verdict f = Verdict::fail(reason, std::move(detail));
  f.worst_ratio = worst.worst_ratio;
  f.worst_capped = worst.worst_capped;
  f.worst_ulp = worst.worst_ulp;
  f.fail_token = m.token;
  f.fail_head = m.head;
  f.fail_pair = m.pair;
  return f;
}

constexpr const char* kPairOverBound = "pair error exceeds the contract bound";

Verdict agrees_with_reference(const Context& ctx, const Case& c) {
  Verdict v;
  WorstPair worst(v);
  RunOutput y;
  auto visit = [&](const PairMeasurement& m) {
    worst.add(m);
    return true;
  };
  if (auto early = measure_agreement_with(ctx, c, visit, &y)) return *early;
  if (!worst.fail) return v;
  return pair_failure(kPairOverBound, v, *worst.fail, pair_evidence(ctx, c, *worst.fail, y));
}

// The exact reference re-judges the one pair the fast evaluation reported (one pair over its
// bound is a violation); without one (a pass-through component changed, a refusal), the whole
// property again.
Verdict confirm_agreement(const Context& ctx, const Case& c, const Verdict& fast) {
  if (fast.fail_pair < 0) return agrees_with_reference(ctx, c);
  RunOutput y;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  const int j = fast.fail_pair;
  const size_t x0 = c.at(fast.fail_token, fast.fail_head, c.first_comp(j));
  const size_t x1 = c.at(fast.fail_token, fast.fail_head, c.second_comp(j));
  double hi[2], lo[2];
  ctx.oracle.rotate_pair(c.angle_position(static_cast<size_t>(fast.fail_token), j), j, c.x[x0], c.x[x1], hi, lo);
  const PairMeasurement m = measure_pair(ctx, c, y, fast.fail_token, fast.fail_head, j, hi, lo);
  if (m.err <= m.bound) return {};  // not confirmed: the fast oracle was wrong
  return pair_failure(kPairOverBound, fast, m, pair_evidence(ctx, c, m, y));
}

// ---- the kernel against its own declared recipe -----------------------------------------
//
// agreesWithOwnRecipeWithinSinCosBound (issue 16): every output pair within the sin/cos and
// arithmetic terms of the error model of a·R(φ̂_j(t))·x, where φ̂_j(t) = fl(fl(t)·θ̂_j) is the angle
// the kernel's own declared recipe forms and θ̂_j is inferred from the kernel at powers of two
// (properties/recipe_view.hpp: the report's recipe view, one inference per kernel and spec,
// built by the judge).  The bound is ref::pair_error_bound (reference/error_model.cpp) with its
// angle term r·|Δφ| taken out, since the reference forms the angle as the recipe does,
// rounding for rounding (recipe_view_bound):
//   B = 1.01·r·(√2·η + 2γ₂ + ε_a + u_out) + 4·denorm_min(compute) + denorm_min(out) + 2^-60·r
//   η = sincos_ulp·u(sincos dtype); γ₂ = 2u_c/(1 − 2u_c), u_c of the compute dtype;
//   ε_a = attention_rel_error·u(sincos dtype) when a ≠ 1; u_out = u(out dtype) when the output
//   is rounded (2u for RC_ROUND_OTHER); the subnormal floor is pair_bound's; 2^-60·r is the
//   resolution of the recipe reference (double cos/sin of φ̂ for an f32 recipe, x87 long double
//   for f64), and the confirmation rotates by φ̂ in MPFR.
// plus, for a kernel that declares an angle error growing with the pair index (ABI 2
// theta_rel_error_per_pair, ggml's iterated θ *= θ_scale), the declared part the recipe does not
// reproduce: r·t·θ_j·j·ε_pp·u_angle (RecipeView::residual_angle).  With no angle term the bound
// is a few ulp at every position: a fast sin with naive range reduction, an angle recurrence,
// an accumulated product show at once, long before the exact-math bound (growing with t·θ) sees
// them.  An exact_dd recipe and a cache kernel declare exact math: judged against the oracle,
// the residual the contract's (tiny) |Δφ|.  A `table` recipe without a cache and `other` declare
// nothing re-derivable: skipped with the view's reason (the gate says it once per kernel).

// The judge's recipe view, else one built here from the oracle's exact reference (a caller
// that evaluates the property without the judge); nullptr when neither is at hand.
const RecipeView* recipe_view_of(const Context& ctx, std::optional<RecipeView>* local) {
  if (ctx.recipe != nullptr) return ctx.recipe;
  const ref::ExactReference* exact = dynamic_cast<const ref::ExactReference*>(&ctx.oracle);
  if (const auto* fast = dynamic_cast<const ref::FastOracle*>(&ctx.oracle); exact == nullptr && fast != nullptr) {
    exact = &fast->exact();
  }
  if (exact == nullptr) return nullptr;
  local->emplace(ctx.runner, *exact);
  return &**local;
}

// m measured by measure_agreement (against the oracle) re-measured against the recipe: the
// reference is the recipe's rotation (hi, lo given: the exact one; else the view's own) for an
// inferred recipe, the oracle's for an exact one; the bound the recipe view's.
void remeasure_own_recipe(const Context& ctx, const RecipeView& view, const Case& c, const RunOutput& y,
                          PairMeasurement& m, const double* hi = nullptr, const double* lo = nullptr) {
  if (view.kind() == RecipeView::Kind::kInferred) {
    const long double y0 = y.y[m.i0], y1 = y.y[m.i1];
    if (hi != nullptr) {
      m.exact[0] = hi[0] + lo[0];
      m.exact[1] = hi[1] + lo[1];
      m.err = std::hypot((y.y[m.i0] - hi[0]) - lo[0], (y.y[m.i1] - hi[1]) - lo[1]);
    } else {
      long double r[2];
      view.rotate_pair(m.t, m.pair, c.x[m.i0], c.x[m.i1], r);
      m.exact[0] = static_cast<double>(r[0]);
      m.exact[1] = static_cast<double>(r[1]);
      m.err = static_cast<double>(std::hypot(y0 - r[0], y1 - r[1]));
    }
  }
  m.bound = view.bound(m.r, m.t, m.pair, ctx.oracle.theta(m.pair));
  const int32_t out = ctx.runner.desc().out_dtype;
  m.ulps = ulps_of(m.err, m.r, out);
  m.bound_ulps = ulps_of(m.bound, m.r, out);
}

std::string own_recipe_evidence(const Context& ctx, const RecipeView& view, const Case& c, const PairMeasurement& m,
                                const RunOutput& y) {
  const double theta = ctx.oracle.theta(m.pair);
  const double x0 = c.x[m.i0], x1 = c.x[m.i1], y0 = y.y[m.i0], y1 = y.y[m.i1];
  const double base = view.bound(m.r), residual = view.residual_angle(m.t, m.pair, theta);
  std::ostringstream os;
  os.precision(9);
  os << describe(c) << "\n  token " << m.token << " (t=" << m.t << ") head " << m.head << " pair " << m.pair
     << " (components " << c.spec.first_index(m.pair) << ", " << c.spec.second_index(m.pair) << "), ";
  if (view.kind() == RecipeView::Kind::kInferred) {
    os << "recipe angle fl(t*theta^_j) = " << view.angle(m.t, m.pair) << " rad (theta^_j = "
       << hexfloat(view.theta_hat(m.pair)) << ", inferred from the kernel; exact theta_j = " << theta << ")";
  } else {
    os << "angle t*theta_j = " << static_cast<long double>(m.t) * theta << " rad (the recipe is exact math)";
  }
  os << "\n  x        = (" << hexfloat(x0) << ", " << hexfloat(x1) << ")  |x| = " << std::hypot(x0, x1)
     << "\n  recipe   = (" << hexfloat(m.exact[0]) << ", " << hexfloat(m.exact[1]) << ")  a|x| = " << m.r
     << "  (an exact rotation by the recipe's own angle)"
     << "\n  actual   = (" << hexfloat(y0) << ", " << hexfloat(y1) << ")  |y| = " << std::hypot(y0, y1)
     << "\n  error    = " << m.err << " = " << m.ulps << " ulp of the pair norm; " << excess(m.err, m.bound)
     << "\n  bound    = " << m.bound << " = " << m.bound_ulps << " ulp: sin/cos, arithmetic and output rounding "
     << base << " (no angle term)";
  if (residual > 0) os << " + declared angle drift not in the recipe " << m.bound - base << " (|dphi| <= " << residual << " rad)";
  os << "\n  recipe view: " << view.note();
  return os.str();
}

constexpr const char* kPairOverOwnRecipeBound = "pair error exceeds the sin/cos bound of the kernel's own angle recipe";

Verdict agrees_with_own_recipe(const Context& ctx, const Case& c) {
  std::optional<RecipeView> local;
  const RecipeView* view = recipe_view_of(ctx, &local);
  if (view == nullptr) return Verdict::skip("no recipe view: the judge builds it (an exact or fast oracle is needed)");
  if (const std::string why = ctx.runner.unsupported_reason(c); !why.empty()) return Verdict::skip(why);
  if (!view->available()) return Verdict::skip(std::string(kRecipeUnavailable) + view->note());
  // θ̂ is inferred from forward calls at t ≥ 0 on dims [0, rotary_dim): the recipe's angle is
  // stated for those.  Inverse calls, negative positions and offsets (ABI 2) are judged by the
  // other properties against exact math; the generated forward calls keep this one's reach.
  const std::vector<int64_t> every = c.all_positions();
  if (c.inverse || c.rotary_offset != 0 || std::any_of(every.begin(), every.end(), [](int64_t t) { return t < 0; })) {
    return Verdict::skip("the own recipe is judged on forward calls at t >= 0 without a rotary offset");
  }
  Verdict v;
  WorstPair worst(v);
  RunOutput y;
  // With the exact reference as the oracle (`ropecheck repro`, the judge's exact-only path) the
  // recipe's rotation is formed in MPFR too; otherwise in double / long double (the view's).
  const auto* exact = view->kind() == RecipeView::Kind::kInferred
                          ? dynamic_cast<const ref::ExactReference*>(&ctx.oracle)
                          : nullptr;
  auto visit = [&](const PairMeasurement& measured) {
    PairMeasurement m = measured;
    if (exact != nullptr) {
      double hi[2], lo[2];
      exact->rotate_pair_by_angle(view->angle(m.t, m.pair), c.x[m.i0], c.x[m.i1], hi, lo);
      remeasure_own_recipe(ctx, *view, c, y, m, hi, lo);
    } else {
      remeasure_own_recipe(ctx, *view, c, y, m);
    }
    worst.add(m);
    return true;
  };
  if (auto early = measure_agreement_with(ctx, c, visit, &y)) return *early;
  if (!worst.fail) return v;
  return pair_failure(kPairOverOwnRecipeBound, v, *worst.fail, own_recipe_evidence(ctx, *view, c, *worst.fail, y));
}

// The exact reference re-judges the pair the fast evaluation reported, on the recorded
// outputs: the rotation by the recipe's angle φ̂ in MPFR (ExactReference::rotate_pair_by_angle)
// for an inferred recipe, the exact rotation for an exact one.
Verdict confirm_own_recipe(const Context& ctx, const Case& c, const Verdict& fast) {
  if (fast.fail_pair < 0) return agrees_with_own_recipe(ctx, c);
  std::optional<RecipeView> local;
  const RecipeView* view = recipe_view_of(ctx, &local);
  if (view == nullptr || !view->available()) return agrees_with_own_recipe(ctx, c);
  RunOutput y;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  const int j = fast.fail_pair;
  const int64_t t = c.pair_position(static_cast<size_t>(fast.fail_token), j);
  const double x0 = c.x[c.at(fast.fail_token, fast.fail_head, c.spec.first_index(j))];
  const double x1 = c.x[c.at(fast.fail_token, fast.fail_head, c.spec.second_index(j))];
  double hi[2], lo[2];
  const auto* exact = dynamic_cast<const ref::ExactReference*>(&ctx.oracle);
  const bool inferred = view->kind() == RecipeView::Kind::kInferred;
  if (inferred && exact != nullptr) {
    exact->rotate_pair_by_angle(view->angle(t, j), x0, x1, hi, lo);
  } else {
    ctx.oracle.rotate_pair(t, j, x0, x1, hi, lo);  // an exact recipe (or no exact reference: re-measured below)
  }
  PairMeasurement m = measure_pair(ctx, c, y, fast.fail_token, fast.fail_head, j, hi, lo);
  remeasure_own_recipe(ctx, *view, c, y, m, inferred && exact != nullptr ? hi : nullptr, lo);
  if (m.err <= m.bound) return {};  // not confirmed
  return pair_failure(kPairOverOwnRecipeBound, fast, m, own_recipe_evidence(ctx, *view, c, m, y));
}

// Per-pair bounds of one token/head, from its input norms.
std::vector<double> head_bounds(const Context& ctx, const Case& c, int64_t k, int64_t h,
                                std::vector<double>* norms) {
  const double a = ctx.oracle.attention_factor();
  std::vector<double> b(static_cast<size_t>(c.spec.pairs()));
  norms->assign(b.size(), 0);
  for (int j = 0; j < c.spec.pairs(); ++j) {
    const double x0 = c.x[c.at(k, h, c.first_comp(j))], x1 = c.x[c.at(k, h, c.second_comp(j))];
    const double r = a * std::hypot(x0, x1);
    (*norms)[static_cast<size_t>(j)] = r;
    b[static_cast<size_t>(j)] = pair_bound(ctx.runner.desc(), c.spec, j,
                                           c.angle_position(static_cast<size_t>(k), j), ctx.oracle.theta(j), r, a);
  }
  return b;
}

long double dot_head(const Case& c, const std::vector<double>& y, int64_t k1, int64_t k2) {
  long double s = 0;
  for (int64_t i = 0; i < c.spec.head_dim; ++i) {
    s += static_cast<long double>(y[c.at(k1, 0, i)]) * y[c.at(k2, 0, i)];
  }
  return s;
}

// Bound on |⟨y_q, y_k⟩ − exact score|: Σ_j (B_qj·r_kj + r_qj·B_kj + B_qj·B_kj), plus the
// rounding of the oracle's double result and of the long-double dot product.  The oracle's
// result is rounded relatively (2^-52·|exact|: two roundings of u) while it is normal, and
// absolutely below 2^-1022: 2^-1074 (two half-spacings of the subnormals), plus the fast
// oracle's own absolute floor there (kFastOracleUnderflowFloor, its contract in
// reference/fast_oracle.hpp; its relative term is inside the mag term).  Without these a score
// of subnormal size (subnormal inputs) was over its bound by a rounding with the fast oracle
// and within it with the exact one: an internal error instead of a verdict.
double score_bound(const Context& ctx, const Case& c, int64_t kq, int64_t kk, double exact) {
  std::vector<double> rq, rk;
  const auto bq = head_bounds(ctx, c, kq, 0, &rq), bk = head_bounds(ctx, c, kk, 0, &rk);
  double b = 0, mag = 0;
  for (size_t j = 0; j < bq.size(); ++j) {
    b += bq[j] * rk[j] + rq[j] * bk[j] + bq[j] * bk[j];
    mag += (rq[j] + bq[j]) * (rk[j] + bk[j]);
  }
  for (int64_t i = 0; i < c.spec.head_dim; ++i) {
    if (!c.is_rotated(i)) mag += std::fabs(c.x[c.at(kq, 0, i)] * c.x[c.at(kk, 0, i)]);
  }
  // A multi-axis score is formed as the sum of one closed form per axis (expected_score), each
  // rounded to double and summed in double: n_axes roundings of a partial (each <= u·mag) and
  // n_axes − 1 additions (each <= u·mag), so (2·n_axes)·u·mag more.
  const double axes = c.axis_positions.empty() ? 0 : 2.0 * c.spec.n_axes() * 0x1p-53 * mag;
  return b + std::fabs(exact) * 0x1p-52 + 0x1p-1074 + ref::kFastOracleUnderflowFloor + mag * c.spec.head_dim * 0x1p-62 + axes;
}

// Whether every partial sum of the score stays far from overflow; a score that overflows (or
// nearly overflows) double cannot be judged and is skipped.  Its size is
// max(1, a²)·(Σ_j ‖q_j‖·‖k_j‖ + Σ pass-through |q_i k_i|): the rotation mixes the two components
// of a pair, so Σ|q_i||k_i| is not enough (q = (0, big) and k = (big, 0) have a zero component
// product and a huge rotated one).
bool score_is_representable(const Context& ctx, const Case& d) {
  const double a = ctx.oracle.attention_factor();
  auto q = [&](int64_t i) { return d.x[d.at(0, 0, i)]; };
  auto k = [&](int64_t i) { return d.x[d.at(1, 0, i)]; };
  double mag = 0;
  for (int j = 0; j < d.spec.pairs(); ++j) {
    const int64_t i0 = d.first_comp(j), i1 = d.second_comp(j);
    mag += std::hypot(q(i0), q(i1)) * std::hypot(k(i0), k(i1));
  }
  for (int64_t i = 0; i < d.spec.head_dim; ++i) {
    if (!d.is_rotated(i)) mag += std::fabs(q(i)) * std::fabs(k(i));
  }
  mag *= std::max(1.0, a * a);
  return std::isfinite(mag) && mag < 0x1p1000;
}

// Tokens 0 and 1 of `c` (every axis of their positions), every head kept (a kernel that takes q
// and k together needs its k heads); the score is that of head 0 of token 0 (q) and of token 1 (k).
Case two_token_case(const Case& c) {
  Case d = c;
  d.positions.resize(2);
  for (std::vector<int64_t>& row : d.axis_positions) row.resize(2);
  d.x.assign(c.x.begin(), c.x.begin() + static_cast<std::ptrdiff_t>(c.at(2, 0, 0)));
  d.poison = 0;
  return d;
}

// The exact score of head 0 of tokens 0 (q) and 1 (k) of d as the kernel rotates them: at their
// angle positions (−t, −s for an inverse call), on the slice at rotary_offset (both heads turned
// cyclically by it: the dot product is the same sum, reordered).
double expected_score(const Context& ctx, const Case& d) {
  const auto hd = static_cast<size_t>(d.spec.head_dim), off = static_cast<size_t>(d.rotary_offset);
  std::vector<double> q(hd), k(hd);
  for (size_t i = 0; i < hd; ++i) {
    q[i] = d.x[d.at(0, 0, static_cast<int64_t>((i + off) % hd))];
    k[i] = d.x[d.at(1, 0, static_cast<int64_t>((i + off) % hd))];
  }
  if (d.axis_positions.empty()) return ctx.oracle.score(q.data(), d.angle_position(0), k.data(), d.angle_position(1));
  // Multi-axis positions: the score is the sum over axes of the closed form of the pairs of that
  // axis at that axis's t − s (pass-through dims counted once, with axis 0); each partial from
  // the oracle, rounded to double (score_bound counts the n_axes roundings and additions).
  const int n_axes = d.spec.n_axes();
  const int sign = d.inverse ? -1 : 1;
  double sum = 0;
  for (int a = 0; a < n_axes; ++a) {
    std::vector<double> qa(hd, 0.0), ka(hd, 0.0);
    for (int j = 0; j < d.spec.pairs(); ++j) {
      if (d.spec.axis_of_pair(j) != a) continue;
      for (const int i : {d.spec.first_index(j), d.spec.second_index(j)}) {
        qa[static_cast<size_t>(i)] = q[static_cast<size_t>(i)];
        ka[static_cast<size_t>(i)] = k[static_cast<size_t>(i)];
      }
    }
    if (a == 0) {
      for (size_t i = static_cast<size_t>(d.spec.rotary_dim); i < hd; ++i) qa[i] = q[i], ka[i] = k[i];
    }
    sum += ctx.oracle.score(qa.data(), sign * d.position(0, a), ka.data(), sign * d.position(1, a));
  }
  return sum;
}

// ⟨R(q,t), R(k,s)⟩ from the kernel equals the closed form a² Re Σ q_j conj(k_j) e^{i(t−s)θ_j}.
Verdict score_matches_closed_form(const Context& ctx, const Case& c) {
  if (c.n_tokens() < 2) return Verdict::skip("needs two tokens");
  const Case d = two_token_case(c);
  if (!score_is_representable(ctx, d)) return Verdict::skip("the score overflows double");
  RunOutput y;
  if (auto v = run_checked(ctx.runner, d, Placement::kNative, &y)) return *v;
  const double exact = expected_score(ctx, d);
  const long double got = dot_head(d, y.y, 0, 1);
  const double err = static_cast<double>(std::fabs(got - exact));
  const double bound = score_bound(ctx, d, 0, 1, exact);
  Verdict v;
  v.worst_ratio = bound > 0 ? err / bound : 0;
  if (!(err <= bound)) {
    std::ostringstream os;
    os << describe(d) << "\n  score(t=" << format_axis_position(d.token_axes(0)) << ", s=" << format_axis_position(d.token_axes(1))
       << "): kernel " << hexfloat(static_cast<double>(got)) << ", closed form " << hexfloat(exact)
       << ", " << excess(err, bound);
    return Verdict::fail("attention score differs from the closed form in t − s", os.str());
  }
  return v;
}

// score(t, s) = score(t+Δ, s+Δ): both within their bounds of the same exact value.  With
// positions per axis (M-RoPE) the score depends on the per-axis differences only: the shift is
// applied to every axis together, and to each axis alone.
Verdict score_is_shift_invariant(const Context& ctx, const Case& c) {
  if (c.n_tokens() < 2) return Verdict::skip("needs two tokens");
  const Case a = two_token_case(c);
  const std::vector<int64_t> every = a.all_positions();
  const int64_t top = *std::max_element(every.begin(), every.end());
  if (top > 0 && c.shift > INT64_MAX - top) return Verdict::skip("t + Δ overflows int64");
  if (!score_is_representable(ctx, a)) return Verdict::skip("the score overflows double");
  RunOutput ya;
  if (auto v = run_checked(ctx.runner, a, Placement::kNative, &ya)) return *v;
  const double exact = expected_score(ctx, a);
  const long double sa = dot_head(a, ya.y, 0, 1);
  std::vector<uint32_t> masks = {~0u};
  if (c.spec.n_axes() > 1) {
    for (int axis = 0; axis < c.spec.n_axes(); ++axis) masks.push_back(1u << axis);
  }
  Verdict v;
  for (const uint32_t mask : masks) {
    Case b = a;
    b.shift_axes(c.shift, mask);
    RunOutput yb;
    if (auto f = run_checked(ctx.runner, b, Placement::kNative, &yb)) return *f;
    const long double sb = dot_head(b, yb.y, 0, 1);
    const double err = static_cast<double>(std::fabs(sa - sb));
    const double bound = score_bound(ctx, a, 0, 1, exact) + score_bound(ctx, b, 0, 1, exact);
    v.worst_ratio = std::max(v.worst_ratio, bound > 0 ? err / bound : 0);
    if (!(err <= bound)) {
      const std::string which = mask == ~0u ? (c.spec.n_axes() > 1 ? " on every axis" : "")
                                            : " on axis " + std::to_string(__builtin_ctz(mask)) + " alone";
      std::ostringstream os;
      os << describe(a) << "\n  score(" << format_axis_position(a.token_axes(0)) << ", " << format_axis_position(a.token_axes(1))
         << ") = " << hexfloat(static_cast<double>(sa)) << " but score(" << format_axis_position(b.token_axes(0)) << ", "
         << format_axis_position(b.token_axes(1)) << ") = " << hexfloat(static_cast<double>(sb)) << "; " << excess(err, bound)
         << " (exact " << hexfloat(exact) << ")";
      Verdict f = Verdict::fail("attention score changes under a common shift Δ = " + std::to_string(c.shift) + which, os.str());
      f.worst_ratio = v.worst_ratio;
      return f;
    }
  }
  return v;
}

// | ‖y pair‖ − a‖x pair‖ | ≤ B (triangle inequality from the agreement bound).
Verdict preserves_pair_norm(const Context& ctx, const Case& c) {
  RunOutput y;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  const double a = ctx.oracle.attention_factor();
  Verdict v;
  std::optional<Verdict> fail;
  for_each_pair(c, [&](const PairRef& p) {
    if (fail) return;
    const double r = a * std::hypot(c.x[p.i0], c.x[p.i1]);
    const double n = std::hypot(y.y[p.i0], y.y[p.i1]);
    const double err = std::fabs(n - r);
    // + 2^-51·r = 4u·r: this check's own double arithmetic.  r = a·hypot(x0, x1) carries a's
    // rounding (u), hypot's (< 1 ulp) and the product's (u/2); n = hypot(y0, y1) < 1 ulp of
    // n ≈ r.  About 3u·r in all, rounded up to 4u.
    const double bound = pair_bound(ctx.runner.desc(), c.spec, p.j, c.angle_position(static_cast<size_t>(p.k), p.j),
                                    ctx.oracle.theta(p.j), r, a) + r * 0x1p-51;
    v.worst_ratio = std::max(v.worst_ratio, bound > 0 ? err / bound : 0);
    if (!(err <= bound)) {
      std::ostringstream os;
      os << describe(c) << "\n  token " << p.k << " head " << p.h << " pair " << p.j << ": |y| = "
         << hexfloat(n) << ", a|x| = " << hexfloat(r) << ", " << excess(err, bound);
      fail = Verdict::fail("rotation changed the pair norm (× attention factor)", os.str());
    }
  });
  return fail ? *fail : v;
}

// Multiplying a pair by i commutes with the rotation: R(i·z) = i·R(z), within 2B.
Verdict commutes_with_complex_unit(const Context& ctx, const Case& c) {
  Case ic = c;
  for_each_pair(c, [&](const PairRef& p) {
    ic.x[p.i0] = -c.x[p.i1];
    ic.x[p.i1] = c.x[p.i0];
  });
  RunOutput y, yi;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  if (auto v = run_checked(ctx.runner, ic, Placement::kNative, &yi)) return *v;
  const double a = ctx.oracle.attention_factor();
  Verdict v;
  std::optional<Verdict> fail;
  for_each_pair(c, [&](const PairRef& p) {
    if (fail) return;
    const double r = a * std::hypot(c.x[p.i0], c.x[p.i1]);
    const double err = std::hypot(yi.y[p.i0] + y.y[p.i1], yi.y[p.i1] - y.y[p.i0]);
    const double bound = 2 * pair_bound(ctx.runner.desc(), c.spec, p.j, c.angle_position(static_cast<size_t>(p.k), p.j),
                                        ctx.oracle.theta(p.j), r, a);
    v.worst_ratio = std::max(v.worst_ratio, bound > 0 ? err / bound : 0);
    if (!(err <= bound)) {
      std::ostringstream os;
      os << describe(c) << "\n  token " << p.k << " head " << p.h << " pair " << p.j
         << ": R(i·z) = (" << hexfloat(yi.y[p.i0]) << ", " << hexfloat(yi.y[p.i1]) << ") but i·R(z) = ("
         << hexfloat(-y.y[p.i1]) << ", " << hexfloat(y.y[p.i0]) << "); " << excess(err, bound);
      fail = Verdict::fail("complex form differs from the Euclidean form (R(i z) != i R(z))", os.str());
    }
  });
  return fail ? *fail : v;
}

// At t = 0 the rotation is the identity times a.
Verdict position_zero_is_identity(const Context& ctx, const Case& c) {
  Case z = c;
  std::fill(z.positions.begin(), z.positions.end(), 0);
  z.axis_positions.clear();  // every axis at 0
  return agrees_with_reference(ctx, z);
}

// Interleaved ≡ half-split after the pair permutation, within B + B'.
Verdict layouts_agree_after_permutation(const Context& ctx, const Case& c) {
  Case o = c;
  o.spec.layout = c.spec.layout == Layout::kInterleaved ? Layout::kHalfSplit : Layout::kInterleaved;
  for (int64_t k = 0; k < c.n_tokens(); ++k) {
    for (int64_t h = 0; h < c.n_heads; ++h) {
      for (int j = 0; j < c.spec.pairs(); ++j) {
        o.x[o.at(k, h, o.first_comp(j))] = c.x[c.at(k, h, c.first_comp(j))];
        o.x[o.at(k, h, o.second_comp(j))] = c.x[c.at(k, h, c.second_comp(j))];
      }
    }
  }
  const KernelRunner other(ctx.runner.desc(), o.spec);
  RunOutput y, yo;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  if (auto v = run_checked(other, o, Placement::kNative, &yo)) return *v;
  const double a = ctx.oracle.attention_factor();
  Verdict v;
  std::optional<Verdict> fail;
  for_each_pair(c, [&](const PairRef& p) {
    if (fail) return;
    const size_t o0 = o.at(p.k, p.h, o.first_comp(p.j)), o1 = o.at(p.k, p.h, o.second_comp(p.j));
    const double r = a * std::hypot(c.x[p.i0], c.x[p.i1]);
    const double err = std::hypot(yo.y[o0] - y.y[p.i0], yo.y[o1] - y.y[p.i1]);
    const double bound = 2 * pair_bound(ctx.runner.desc(), c.spec, p.j, c.angle_position(static_cast<size_t>(p.k), p.j),
                                        ctx.oracle.theta(p.j), r, a);
    v.worst_ratio = std::max(v.worst_ratio, bound > 0 ? err / bound : 0);
    if (!(err <= bound)) {
      std::ostringstream os;
      os << describe(c) << "\n  token " << p.k << " head " << p.h << " pair " << p.j << ": "
         << to_string(c.spec.layout) << " gives (" << hexfloat(y.y[p.i0]) << ", " << hexfloat(y.y[p.i1])
         << "), " << to_string(o.spec.layout) << " on the permuted input gives (" << hexfloat(yo.y[o0])
         << ", " << hexfloat(yo.y[o1]) << "); " << excess(err, bound);
      fail = Verdict::fail("interleaved and half-split layouts disagree after the pair permutation", os.str());
    }
  });
  return fail ? *fail : v;
}

// ---- exact properties --------------------------------------------------------------------

std::optional<Verdict> first_bit_difference(const Case& c, const std::vector<double>& a,
                                            const std::vector<double>& b, const char* what,
                                            const char* label_a, const char* label_b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) {
      const auto hd = static_cast<size_t>(c.spec.head_dim);
      const size_t k = i / (hd * static_cast<size_t>(c.n_heads)), h = (i / hd) % static_cast<size_t>(c.n_heads);
      std::ostringstream os;
      os << describe(c) << "\n  token " << k << " head " << h << " component " << i % hd << ": "
         << label_a << " " << hexfloat(a[i]) << ", " << label_b << " " << hexfloat(b[i]);
      return Verdict::fail(what, os.str());
    }
  }
  return std::nullopt;
}

// R(2^k x) = 2^k R(x) bit for bit while nothing over- or underflows.
Verdict power_of_two_scaling_is_exact(const Context& ctx, const Case& c) {
  const rc_kernel_desc& d = ctx.runner.desc();
  const double scale = std::ldexp(1.0, c.scale_exponent);
  const double hi = std::min(largest_finite(d.in_dtype), largest_finite(d.out_dtype)) / 64;
  // Products x·sin φ stay normal in the compute dtype if |x| ≥ its smallest normal · 2^64.
  const double lo_in = std::max(smallest_normal(d.accuracy.compute_dtype) * 0x1p64, smallest_normal(d.in_dtype));
  auto safe_input = [&](double v) {
    const double m = std::fabs(v);
    return v == 0 || (m * std::max(1.0, scale) <= hi && m * std::min(1.0, scale) >= lo_in);
  };
  // Every component is scaled (so the kernel sees 2^k x); only pairs whose inputs and
  // outputs stay clear of overflow and of the subnormal range are compared — scaling is
  // exact there and nowhere else.  A case with no such pair is skipped.
  Case s = c;
  for (size_t i = 0; i < c.x.size(); ++i) {
    s.x[i] = safe_input(c.x[i]) ? c.x[i] * scale : c.x[i];
  }
  RunOutput y, ys;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  if (auto v = run_checked(ctx.runner, s, Placement::kNative, &ys)) return *v;
  const double tiny = smallest_normal(d.out_dtype) * 4;
  // A zero output is only trusted where the whole input pair is zero (otherwise it may be an
  // underflow that the scaled run does not have).
  auto safe_output = [&](double v, bool zero_pair) {
    return (v == 0 && zero_pair) || std::fabs(v) * std::min(1.0, scale) >= tiny;
  };
  size_t compared = 0;
  std::optional<Verdict> fail;
  for_each_pair(c, [&](const PairRef& p) {
    if (fail) return;
    const bool zero_pair = c.x[p.i0] == 0 && c.x[p.i1] == 0;
    if (!safe_input(c.x[p.i0]) || !safe_input(c.x[p.i1]) || !safe_output(y.y[p.i0], zero_pair) ||
        !safe_output(y.y[p.i1], zero_pair)) {
      return;
    }
    ++compared;
    for (size_t i : {p.i0, p.i1}) {
      if (!same_bits(ys.y[i], y.y[i] * scale)) {
        std::ostringstream os;
        os << describe(c) << "\n  token " << p.k << " head " << p.h << " pair " << p.j << ", k = " << c.scale_exponent
           << ": R(2^k x) = " << hexfloat(ys.y[i]) << " but 2^k R(x) = " << hexfloat(y.y[i] * scale)
           << "\n  x = (" << hexfloat(c.x[p.i0]) << ", " << hexfloat(c.x[p.i1]) << ")";
        fail = Verdict::fail("scaling the input by a power of two did not scale the output exactly", os.str());
        return;
      }
    }
  });
  if (fail) return *fail;
  if (compared == 0) return Verdict::skip("every pair is near the overflow or subnormal range");
  return {};
}

// Permuting tokens (with their positions) and heads permutes the outputs, bit for bit.
Verdict tokens_and_heads_are_independent(const Context& ctx, const Case& c) {
  if (c.n_tokens() * c.n_heads < 2) return Verdict::skip("one vector: nothing to permute");
  Case p = c;
  const int64_t nt = c.n_tokens(), nh = c.n_heads;
  std::vector<size_t> reversed(static_cast<size_t>(nt));
  for (int64_t k = 0; k < nt; ++k) reversed[static_cast<size_t>(k)] = static_cast<size_t>(nt - 1 - k);
  p.reorder_positions(reversed);  // every axis
  for (int64_t k = 0; k < nt; ++k) {
    for (int64_t h = 0; h < nh; ++h) {
      for (int64_t i = 0; i < c.spec.head_dim; ++i) p.x[p.at(k, h, i)] = c.x[c.at(nt - 1 - k, nh - 1 - h, i)];
    }
  }
  RunOutput y, yp;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  if (auto v = run_checked(ctx.runner, p, Placement::kNative, &yp)) return *v;
  std::vector<double> back(y.y.size());
  for (int64_t k = 0; k < nt; ++k) {
    for (int64_t h = 0; h < nh; ++h) {
      for (int64_t i = 0; i < c.spec.head_dim; ++i) back[c.at(nt - 1 - k, nh - 1 - h, i)] = yp.y[p.at(k, h, i)];
    }
  }
  if (auto f = first_bit_difference(c, back, y.y, "reversing tokens and heads did not just reverse the outputs",
                                    "permuted run", "original run")) {
    return *f;
  }
  return {};
}

Verdict in_place_equals_out_of_place(const Context& ctx, const Case& c) {
  const rc_kernel_desc& d = ctx.runner.desc();
  if (!(d.placement & RC_PLACE_IN_PLACE) || !(d.placement & RC_PLACE_OUT_OF_PLACE)) {
    return Verdict::skip("kernel does not declare both placements");
  }
  if (d.in_dtype != d.out_dtype) return Verdict::skip("in-place needs equal input and output dtypes");
  RunOutput y, yi;
  if (auto v = run_checked(ctx.runner, c, Placement::kOutOfPlace, &y)) return *v;
  if (auto v = run_checked(ctx.runner, c, Placement::kInPlace, &yi)) return *v;
  if (auto f = first_bit_difference(c, yi.y, y.y, "in-place result differs from out-of-place", "in-place",
                                    "out-of-place")) {
    return *f;
  }
  return {};
}

// Every dim outside the rotated slice [rotary_offset, rotary_offset + rotary_dim) — after it
// (partial rotary) and, with a rotary offset (MLA's nope part), before it — is copied bit for bit.
Verdict pass_through_is_bit_identical(const Context& ctx, const Case& c) {
  if (c.spec.rotary_dim == c.spec.head_dim) return Verdict::skip("no pass-through dims");
  RunOutput y;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  for (int64_t k = 0; k < c.n_tokens(); ++k) {
    for (int64_t h = 0; h < c.n_heads; ++h) {
      for (int64_t i = 0; i < c.spec.head_dim; ++i) {
        if (c.is_rotated(i)) continue;
        const size_t at = c.at(k, h, i);
        if (!same_bits(y.y[at], c.x[at])) {
          std::ostringstream os;
          os << describe(c) << "\n  token " << k << " head " << h << " component " << i << " (outside the rotated dims ["
             << c.rotary_offset << ", " << c.rotary_offset + c.spec.rotary_dim << ")): in " << hexfloat(c.x[at])
             << ", out " << hexfloat(y.y[at]);
          return Verdict::fail("a pass-through component changed", os.str());
        }
      }
    }
  }
  return {};
}

Verdict is_deterministic(const Context& ctx, const Case& c) {
  RunOutput a, b;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &a)) return *v;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &b)) return *v;
  if (auto f = first_bit_difference(c, b.y, a.y, "two identical calls gave different results", "second", "first")) {
    return *f;
  }
  return {};
}

Verdict strided_equals_contiguous(const Context& ctx, const Case& c) {
  Case dense = c, padded = c;
  dense.head_pad = dense.token_pad = 0;
  if (padded.head_pad == 0 && padded.token_pad == 0) {
    padded.head_pad = 3;
    padded.token_pad = 5;
  }
  RunOutput yd, yp;
  if (auto v = run_checked(ctx.runner, dense, Placement::kNative, &yd)) return *v;
  if (auto v = run_checked(ctx.runner, padded, Placement::kNative, &yp)) return *v;
  if (auto f = first_bit_difference(padded, yp.y, yd.y, "strided (padded) layout changed the result", "strided",
                                    "contiguous")) {
    return *f;
  }
  return {};
}

// A NaN or Inf in one component changes at most the outputs of its own pair.
Verdict non_finite_stays_in_its_pair(const Context& ctx, const Case& c) {
  RunOutput clean;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &clean)) return *v;
  const auto hd = static_cast<size_t>(c.spec.head_dim);
  const auto at = static_cast<size_t>(c.poison);
  const size_t head_base = at - at % hd, comp = at % hd;
  // The component paired with `comp` (itself for a pass-through dim).
  size_t partner = comp;
  for (int j = 0; j < c.spec.pairs(); ++j) {
    if (static_cast<size_t>(c.first_comp(j)) == comp) partner = static_cast<size_t>(c.second_comp(j));
    if (static_cast<size_t>(c.second_comp(j)) == comp) partner = static_cast<size_t>(c.first_comp(j));
  }
  if (c.x.size() <= (partner == comp ? 1u : 2u)) return Verdict::skip("no component outside the poisoned pair");
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    Case p = c;
    p.x[at] = bad;
    RunOutput y;
    if (auto v = run_checked(ctx.runner, p, Placement::kNative, &y)) return *v;
    for (size_t i = 0; i < y.y.size(); ++i) {
      if (i == at || i == head_base + partner) continue;
      if (!same_bits(y.y[i], clean.y[i])) {
        std::ostringstream os;
        os << describe(c) << "\n  poisoned element " << at << " (component " << comp << ") with "
           << bad << "; element " << i << " (component " << i % hd << ") changed from "
           << hexfloat(clean.y[i]) << " to " << hexfloat(y.y[i]);
        return Verdict::fail("a non-finite input leaked out of its pair", os.str());
      }
    }
  }
  return {};
}

// Positions beyond the declared maximum (and negative ones) are refused, and nothing is
// written (the runner checks the canaries on refusal).  Only for cases the kernel supports
// otherwise, its positions aside: a spec it does not declare is never passed to it, and a
// refusal of one proves nothing about positions.  A case with positions of its own outside
// the range (the fuzzers' raw int64 positions and edges beyond the maximum: a position
// truncated to 32 bits, say, is one no fixed list holds) is judged on exactly those, in one
// call; a case inside the range with its last position replaced by each of -1, INT64_MIN,
// max + 1, max + 1000 and INT64_MAX.  A kernel declaring RC_FEATURE_NEGATIVE_POSITIONS accepts
// [−max_position, max_position]: for it -1 is inside, and −max − 1 is tried instead.
Verdict refuses_positions_beyond_maximum(const Context& ctx, const Case& c) {
  const rc_kernel_desc& d = ctx.runner.desc();
  const int64_t lowest = impl::has_feature(d, RC_FEATURE_NEGATIVE_POSITIONS) ? -d.max_position : 0;
  const auto outside = [&](int64_t t) { return t < lowest || t > d.max_position; };
  std::vector<Case> calls;
  const std::vector<int64_t> every = c.all_positions();
  if (std::any_of(every.begin(), every.end(), outside)) {
    Case inside = c;
    for (int64_t& t : inside.positions) t = std::clamp<int64_t>(t, lowest, d.max_position);
    for (std::vector<int64_t>& row : inside.axis_positions) {
      for (int64_t& t : row) t = std::clamp<int64_t>(t, lowest, d.max_position);
    }
    if (const std::string why = ctx.runner.unsupported_reason(inside); !why.empty()) return Verdict::skip(why);
    calls.push_back(c);
  } else {
    if (const std::string why = ctx.runner.unsupported_reason(c); !why.empty()) return Verdict::skip(why);
    std::vector<int64_t> bad = {lowest == 0 ? -1 : lowest - 1, INT64_MIN};
    if (d.max_position < INT64_MAX) bad.push_back(d.max_position + 1);
    if (d.max_position < INT64_MAX - 1000) bad.push_back(d.max_position + 1000);
    if (d.max_position < INT64_MAX) bad.push_back(INT64_MAX);
    // On axis 0, and (multi-axis positions) on the last axis alone: a kernel checking the
    // first row only must not get away with it.
    for (int64_t t : bad) {
      calls.push_back(c);
      calls.back().positions.back() = t;
      if (c.spec.n_axes() > 1) {
        calls.push_back(c);
        Case& e = calls.back();
        if (e.axis_positions.empty()) e.axis_positions.assign(static_cast<size_t>(c.spec.n_axes() - 1), c.positions);
        e.axis_positions.back().back() = t;
      }
    }
  }
  for (const Case& b : calls) {
    const RunOutput y = ctx.runner.run(b, Placement::kNative);
    if (!y.out_of_bounds.empty()) {
      return Verdict::fail("out-of-bounds write at an invalid position: " + y.out_of_bounds, describe(b));
    }
    if (y.status == 0) {
      const std::vector<int64_t> all = b.all_positions();
      const int64_t t = *std::find_if(all.begin(), all.end(), outside);
      return Verdict::fail("accepted position " + std::to_string(t) + " beyond its declared range [" +
                               std::to_string(lowest) + ", " + std::to_string(d.max_position) + "]",
                           describe(b));
    }
  }
  return {};
}

// R⁻¹(R(x, t), t) = a²·x: an inverse call (RC_FEATURE_INVERSE) undoes a forward one (and a
// forward one an inverse one, for a case that starts inverse), per pair, within the bound the
// error model gives the composition.  With B(v, t) the contract's pair bound of the kernel at
// |t| for an input pair v (ref::pair_bound, r = a·|v|):
//   y = K(x, t),  |y − R(x, t)| ≤ B(x, t)            (the first call)
//   ŷ = y rounded to the kernel's input dtype: the second call's input; |ŷ − y| is measured
//   z = K⁻¹(ŷ, t), |z − R(ŷ, −t)| ≤ B(ŷ, t)          (the second call: −t·θ has the error of t·θ)
//   R(ŷ, −t) = R(R(x, t), −t) + R(ŷ − R(x, t), −t) = a²·x + R(e, −t), and |R(e, −t)| = a·|e|
//   with |e| ≤ |ŷ − y| + B(x, t)
// so |z − a²·x| ≤ B(ŷ, t) + a·(B(x, t) + |ŷ − y|), plus 2^-51·a²·|x| for this check's own
// double arithmetic (a²·x formed in double carries a's rounding, two products' and the
// differences' and hypot's: below 4u of binary64).  Rotated pairs only: the dims outside the
// slice are passThroughDimsAreBitIdentical's.
Verdict inverse_undoes_rotation(const Context& ctx, const Case& c) {
  const rc_kernel_desc& d = ctx.runner.desc();
  if (!impl::has_feature(d, RC_FEATURE_INVERSE)) {
    return Verdict::skip("the kernel does not declare inverse rotation (RC_FEATURE_INVERSE)");
  }
  RunOutput y, z;
  if (auto v = run_checked(ctx.runner, c, Placement::kNative, &y)) return *v;
  Case back = c;
  back.inverse = !c.inverse;
  for (size_t i = 0; i < back.x.size(); ++i) back.x[i] = ctx.runner.round_to_input(y.y[i]);
  if (auto v = run_checked(ctx.runner, back, Placement::kNative, &z)) return *v;
  const double a = ctx.oracle.attention_factor();
  Verdict v;
  std::optional<Verdict> fail;
  for_each_pair(c, [&](const PairRef& p) {
    if (fail) return;
    const int64_t t = c.angle_position(static_cast<size_t>(p.k), p.j);
    const double theta = ctx.oracle.theta(p.j);
    const double x0 = c.x[p.i0], x1 = c.x[p.i1], yh0 = back.x[p.i0], yh1 = back.x[p.i1];
    const double b_first = ctx.runner.bounds()(p.j, t, theta, a * std::hypot(x0, x1), a);
    const double b_second = ctx.runner.bounds()(p.j, t, theta, a * std::hypot(yh0, yh1), a);
    const double rounding = std::hypot(yh0 - y.y[p.i0], yh1 - y.y[p.i1]);
    const double want0 = a * a * x0, want1 = a * a * x1;
    const double err = std::hypot(z.y[p.i0] - want0, z.y[p.i1] - want1);
    const double bound = b_second + a * (b_first + rounding) + 0x1p-51 * a * a * std::hypot(x0, x1);
    const double ratio = bound > 0 ? err / bound : (err > 0 ? INFINITY : err);
    if (ratio > v.worst_ratio || std::isnan(ratio)) v.worst_ratio = ratio;
    if (!(err <= bound)) {  // NaN fails too
      std::ostringstream os;
      os.precision(9);
      os << describe(c) << "\n  token " << p.k << " (t=" << format_axis_position(c.token_axes(static_cast<size_t>(p.k)))
         << ") head " << p.h << " pair " << p.j << " (components " << c.first_comp(p.j) << ", " << c.second_comp(p.j)
         << ")\n  x            = (" << hexfloat(x0) << ", " << hexfloat(x1) << ")"
         << "\n  " << (c.inverse ? "R^-1(x, t)  " : "R(x, t)     ") << " = (" << hexfloat(y.y[p.i0]) << ", "
         << hexfloat(y.y[p.i1]) << ")"
         << "\n  " << (c.inverse ? "R(., t)     " : "R^-1(., t)  ") << " = (" << hexfloat(z.y[p.i0]) << ", "
         << hexfloat(z.y[p.i1]) << ")  expected a^2 x = (" << hexfloat(want0) << ", " << hexfloat(want1) << ")"
         << "\n  " << excess(err, bound) << " = second call " << b_second << " + a*(first call " << b_first
         << " + input rounding " << rounding << ") + arithmetic";
      fail = Verdict::fail(std::string("the ") + (c.inverse ? "forward" : "inverse") + " call did not undo the " +
                               (c.inverse ? "inverse" : "forward") + " rotation",
                           os.str());
    }
  });
  if (fail) {
    fail->worst_ratio = v.worst_ratio;
    return *fail;
  }
  return v;
}

// ---- the sequence length so far (issue 18) -------------------------------------------------
//
// frequenciesFollowTheSequenceLength: longrope and dynamic NTK choose their frequencies by the
// sequence length so far (HF's longrope_frequency_update / dynamic_frequency_update: the short
// factors while max(position_ids) + 1 <= original_max_position_embeddings, the long ones after,
// and back; dynamic NTK's base grows past max_position_embeddings).  A kernel declaring
// RC_FEATURE_SEQ_LEN gets that length per call (rc_call.seq_len).  On the one prepared handle,
// three calls: one at the spec's own length, one across the threshold from it (original_max
// and original_max + 1: the edge either way), and the spec's length again — the two later ones
// judged by agreement with the exact reference for their own length.  Engines cached cos/sin
// with the factors of whatever length they saw first and kept them after the sequence crossed
// (the most re-discovered longrope bug of 2024-2026); that fails the second or the third call.
int64_t length_threshold(const RopeSpec& s) {
  return s.type == RopeType::kLongrope ? s.effective_original_max() : s.max_position_embeddings;
}

// The call of `c` at sequence length `len`, judged by agreement against the spec with that
// seq_len (its own oracle and bounds); a failure says where it sits in the sequence.
Verdict agrees_at_length(const Context& ctx, const Case& c, int64_t len, const std::string& before,
                         const Verdict* fast) {
  Case at = c;
  at.spec.seq_len = len;  // the oracle's spec; the kernel keeps its handle and gets rc_call.seq_len
  at.seq_len = len;
  std::unique_ptr<ref::Oracle> own;
  const ref::Oracle* oracle = nullptr;
  if (ctx.oracle_for) {
    oracle = &ctx.oracle_for(at.spec);
  } else if (dynamic_cast<const ref::ExactReference*>(&ctx.oracle) != nullptr) {
    own = std::make_unique<ref::ExactReference>(at.spec);
    oracle = own.get();
  } else {
    own = std::make_unique<ref::FastOracle>(at.spec);
    oracle = own.get();
  }
  const ref::PairBounds bounds(ctx.runner.desc(), at.spec);
  Context here{ctx.runner, *oracle, nullptr, ctx.oracle_for, &bounds};
  Verdict v = fast != nullptr ? confirm_agreement(here, at, *fast) : agrees_with_reference(here, at);
  if (v.failed() && !is_crash_reason(v.reason)) {
    v.reason = "at sequence length " + std::to_string(len) + " after " + before + " on the same handle: " + v.reason;
    v.detail = "calls on one prepared handle, in order: " + before + ", then sequence length " + std::to_string(len) +
               " (judged)\n" + v.detail;
  }
  return v;
}

Verdict follows_sequence_length(const Context& ctx, const Case& c, const Verdict* fast) {
  const RopeSpec& s = c.spec;
  if (s.type != RopeType::kLongrope && s.type != RopeType::kDynamic) {
    return Verdict::skip(std::string("the frequencies of ") + to_string(s.type) + " do not depend on the sequence length");
  }
  const int64_t own = s.effective_seq_len(), edge = length_threshold(s);
  const int64_t across = own > edge ? edge : edge + 1;
  const std::string first = "sequence length " + std::to_string(own);
  RunOutput y;
  Case call = c;
  call.seq_len = own;
  if (auto v = run_checked(ctx.runner, call, Placement::kNative, &y)) return *v;
  // The exact re-judgement (fast given) confirms the one call the fast evaluation failed; the
  // call before it is only replayed, as it was answered.
  const bool second_failed =
      fast != nullptr && fast->reason.rfind("at sequence length " + std::to_string(across) + " after ", 0) == 0;
  if (fast != nullptr && !second_failed) {
    call.seq_len = across;
    if (auto v = run_checked(ctx.runner, call, Placement::kNative, &y)) return *v;
  } else {
    Verdict second = agrees_at_length(ctx, c, across, first, fast);
    if (!second.passed() || fast != nullptr) return second;
  }
  return agrees_at_length(ctx, c, own, first + ", then " + std::to_string(across), fast);
}

Verdict follows_sequence_length(const Context& ctx, const Case& c) { return follows_sequence_length(ctx, c, nullptr); }
Verdict confirm_follows_sequence_length(const Context& ctx, const Case& c, const Verdict& fast) {
  return follows_sequence_length(ctx, c, &fast);
}

}  // namespace

const std::vector<Property>& catalogue() {
  static const std::vector<Property> props = {
      {"agreesWithExactReferenceWithinContract",
       "every pair within the kernel's declared error bound of exact mathematics", agrees_with_reference, false,
       confirm_agreement},
      {"scoreMatchesClosedFormInRelativePosition",
       "<R(q,t), R(k,s)> equals a^2 Re sum q conj(k) e^{i(t-s)theta}", score_matches_closed_form, true},
      {"scoreIsInvariantUnderCommonShift", "score(t, s) = score(t+D, s+D)", score_is_shift_invariant, true},
      {"rotationPreservesPairNormTimesAttentionFactor", "|R(x)| = a |x| per pair", preserves_pair_norm, false},
      {"rotationCommutesWithComplexUnit", "complex form = Euclidean form: R(i z) = i R(z)",
       commutes_with_complex_unit, false},
      {"positionZeroIsIdentityTimesAttentionFactor", "R(x, 0) = a x", position_zero_is_identity, false},
      {"powerOfTwoScalingIsBitExact", "R(2^k x) = 2^k R(x) bit for bit", power_of_two_scaling_is_exact, false},
      {"interleavedEqualsPermutedHalfSplit", "the two layouts agree after the pair permutation",
       layouts_agree_after_permutation, false},
      {"tokensAndHeadsAreIndependent", "permuting tokens and heads permutes outputs bit for bit",
       tokens_and_heads_are_independent, false},
      {"inPlaceEqualsOutOfPlace", "in-place and out-of-place results are bit-identical",
       in_place_equals_out_of_place, false},
      {"passThroughDimsAreBitIdentical",
       "components outside [rotary_offset, rotary_offset + rotary_dim) are copied bit for bit",
       pass_through_is_bit_identical, false},
      {"kernelIsDeterministic", "two identical calls give identical bits", is_deterministic, false},
      {"stridedEqualsContiguous", "padding between heads and tokens does not change results",
       strided_equals_contiguous, false},
      {"nonFiniteInputStaysInItsPair", "a NaN or Inf changes only its own pair", non_finite_stays_in_its_pair, false},
      {kOwnRecipeProperty, "every pair within the sin/cos bound (no angle term) of a rotation by the kernel's own "
       "declared recipe fl(t*theta^_j), theta^_j inferred from the kernel", agrees_with_own_recipe, false,
       confirm_own_recipe, true},
      {"positionsBeyondMaximumAreRefused", "positions < 0 or > max_position are refused, nothing written",
       refuses_positions_beyond_maximum, false},
      // ABI 2 (issue 16).  New properties go at the end of the list.
      {"inverseUndoesRotation", "R^-1(R(x, t), t) = a^2 x within the composed contract bound (RC_FEATURE_INVERSE)",
       inverse_undoes_rotation, false, nullptr, false, RC_FEATURE_INVERSE},
      // Issue 18: longrope / dynamic NTK with the sequence length so far given per call.
      {"frequenciesFollowTheSequenceLength",
       "longrope / dynamic NTK: one handle, calls whose sequence length crosses the threshold and back, each "
       "within the contract of exact mathematics at its own length (RC_FEATURE_SEQ_LEN)",
       follows_sequence_length, false, confirm_follows_sequence_length, false, RC_FEATURE_SEQ_LEN},
  };
  return props;
}

Verdict evaluate(const Property& property, const Context& ctx, const Case& c) {
  try {
    return property.fn(ctx, c);
  } catch (const KernelThrew& e) {
    return Verdict::fail(std::string("crash: ") + e.what(), describe(c));
  }
}

Verdict confirm(const Property& property, const Context& ctx, const Case& c, const Verdict& fast) {
  try {
    return property.confirm(ctx, c, fast);
  } catch (const KernelThrew& e) {
    return Verdict::fail(std::string("crash: ") + e.what(), describe(c));
  }
}

bool is_crash_reason(std::string_view reason) {
  return reason.rfind("out-of-bounds", 0) == 0 || reason.rfind("crash:", 0) == 0;
}

const Property* find_property(std::string_view id) {
  for (const Property& p : catalogue()) {
    if (id == p.id) return &p;
  }
  return nullptr;
}

}  // namespace ropecheck::props

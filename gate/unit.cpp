#include "gate/unit.hpp"

#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <tuple>

#include "impl/abi.hpp"
#include "properties/edge_positions.hpp"
#include "properties/generators.hpp"
#include "properties/runner.hpp"

namespace ropecheck::gate {

namespace {

using Clock = std::chrono::steady_clock;
using props::Finding;
using props::Judge;
using props::Judgement;
using props::Property;

// A failure found at the very end of a unit's budget still gets this long to shrink.
constexpr double kMinShrinkSeconds = 1.0;
// The worst excess seen is kept beside the shrunk case when it is this many times larger.
constexpr double kWorstExcessFactor = 1.5;
// Up to this many tokens a case is shrunk token by token and value by value.
constexpr int64_t kFewTokens = 64;

Clock::time_point after(Clock::time_point t, double seconds) {
  return t + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// RapidCheck reports through a listener; the gate reports itself.
class SilentListener : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

// Judges cases of one property for one kernel and keeps the outcome's counts, the largest
// error/bound measured and the largest excess of a failing case.
struct CaseEvaluator {
  const rc_kernel_desc& kernel;
  const Property& property;
  Judge& judge;
  PropertyOutcome& out;
  std::string& internal_error;

  // ropecheck's own failure sets internal_error (never a pass) and returns a skip.
  // `count`: tally the case as checked/skipped (shrink candidates are not counted).
  Judgement operator()(const Case& c, bool count = true) const {
    Judgement j = judge.judge(kernel, property, c);
    if (j.finding == Finding::kInternal) {
      internal_error = j.reason;
      j.finding = Finding::kSkip;
      return j;
    }
    if (j.finding == Finding::kSkip) {
      if (count) ++out.skipped;
      out.skip_reason = j.reason;
      return j;
    }
    if (count) ++out.checked;
    // NaN ranks highest: a NaN error is the worst there is.
    if (j.worst_ratio > out.worst_ratio || (std::isnan(j.worst_ratio) && !std::isnan(out.worst_ratio))) {
      out.worst_ratio = j.worst_ratio;
      out.worst_capped = j.worst_capped;
    }
    if (j.failed() && (j.worst_ratio > out.worst_failure_ratio || std::isnan(j.worst_ratio))) {
      out.worst_failure_ratio = j.worst_ratio;
      out.worst_failure = c;
      out.worst_failure_detail = j.detail;
    }
    return j;
  }
  bool fails(const Case& c) const { return internal_error.empty() && (*this)(c, false).failed(); }
};

// Records the (shrunk) failure; keeps the worst excess only where it tells more than the case.
void record_failure(PropertyOutcome& out, const Judgement& j, const Case& c) {
  out.failed = true;
  out.crash_class = j.finding == Finding::kCrash;
  out.finding_property = j.property;
  out.differed_on = j.differed_on;
  out.reason = j.reason;
  out.detail = j.detail;
  out.counterexample = c;
  out.failure_ratio = j.worst_ratio;
  const bool worse = std::isnan(out.worst_failure_ratio) ||
                     (out.worst_failure_ratio > kWorstExcessFactor * out.failure_ratio && out.failure_ratio > 0);
  if (!worse) {
    out.worst_failure.reset();
    out.worst_failure_ratio = 0;
    out.worst_failure_detail.clear();
  }
}

// The same case bit for bit, in what shrinking changes (tokens, heads, padding, values).
bool same_case(const Case& a, const Case& b) {
  return a.positions == b.positions && a.axis_positions == b.axis_positions && a.n_heads == b.n_heads && a.n_kv_heads == b.n_kv_heads &&
         a.head_pad == b.head_pad && a.token_pad == b.token_pad && a.poison == b.poison && a.x.size() == b.x.size() &&
         std::memcmp(a.x.data(), b.x.data(), a.x.size() * sizeof(double)) == 0;
}

// Removes token k (and its inputs) from a case.
Case drop_token(const Case& c, int64_t k) {
  Case d = c;
  d.positions.erase(d.positions.begin() + k);
  for (std::vector<int64_t>& row : d.axis_positions) row.erase(row.begin() + k);
  const auto per_token = static_cast<std::ptrdiff_t>(c.n_heads * c.spec.head_dim);
  d.x.erase(d.x.begin() + k * per_token, d.x.begin() + (k + 1) * per_token);
  d.poison = d.x.empty() ? 0 : c.poison % static_cast<int64_t>(d.x.size());
  return d;
}

// Keeps only token k.
Case only_token(const Case& c, int64_t k) {
  Case d = c;
  d.positions = {c.positions[static_cast<size_t>(k)]};
  for (std::vector<int64_t>& row : d.axis_positions) row = {row[static_cast<size_t>(k)]};
  const auto per_token = static_cast<std::ptrdiff_t>(c.n_heads * c.spec.head_dim);
  d.x.assign(c.x.begin() + k * per_token, c.x.begin() + (k + 1) * per_token);
  d.poison = d.x.empty() ? 0 : c.poison % static_cast<int64_t>(d.x.size());
  return d;
}

// Removes head h of every token (a k head when h is one of the last n_kv_heads).
Case drop_head(const Case& c, int64_t h) {
  Case d = c;
  d.n_heads = c.n_heads - 1;
  if (h >= c.n_q_heads()) d.n_kv_heads = c.n_kv_heads - 1;
  d.x.clear();
  for (int64_t k = 0; k < c.n_tokens(); ++k) {
    for (int64_t hh = 0; hh < c.n_heads; ++hh) {
      if (hh == h) continue;
      for (int64_t i = 0; i < c.spec.head_dim; ++i) d.x.push_back(c.x[c.at(k, hh, i)]);
    }
  }
  d.poison = d.x.empty() ? 0 : c.poison % static_cast<int64_t>(d.x.size());
  return d;
}

}  // namespace

Case shrink_case(Case c, size_t min_tokens, const std::function<bool(const Case&)>& fails, Clock::time_point deadline,
                 bool* cut) {
  bool stopped = false;
  // Every candidate is tried only before the deadline; after it, the case is left as it is.
  auto try_case = [&](const Case& d) {
    if (stopped || Clock::now() >= deadline) {
      stopped = true;
      return false;
    }
    return fails(d);
  };
  // A call of many tokens (the 65539 of many_tokens_case) is first halved from the end while
  // it fails: one token at a time would be as many judgements as tokens, each of a large case.
  while (c.n_tokens() > kFewTokens && c.n_tokens() / 2 >= static_cast<int64_t>(min_tokens)) {
    Case d = c;
    const int64_t keep = c.n_tokens() / 2;
    d.positions.resize(static_cast<size_t>(keep));
    for (std::vector<int64_t>& row : d.axis_positions) row.resize(static_cast<size_t>(keep));
    d.x.resize(static_cast<size_t>(keep * c.n_heads * c.spec.head_dim));
    d.poison = d.x.empty() ? 0 : c.poison % static_cast<int64_t>(d.x.size());
    if (!try_case(d)) break;
    c = std::move(d);
  }
  for (bool progress = c.n_tokens() <= kFewTokens; progress;) {
    progress = false;
    // From the last token down: the earlier (smaller) positions stay.
    for (int64_t k = c.n_tokens() - 1; k >= 0 && c.n_tokens() > static_cast<int64_t>(min_tokens); --k) {
      Case d = drop_token(c, k);
      if (try_case(d)) {
        c = std::move(d);
        progress = true;
        break;
      }
    }
  }
  for (int64_t h = c.n_heads - 1; h >= 0 && c.n_heads > 1; --h) {
    Case d = drop_head(c, h);
    if (try_case(d)) c = std::move(d);
  }
  // Simpler positions: 0 or 1 (on every axis) where the failure does not need the original one.
  for (size_t k = 0; k < c.positions.size() && c.n_tokens() <= kFewTokens; ++k) {
    for (int64_t t : {int64_t{0}, int64_t{1}}) {
      const std::vector<int64_t> axes = c.token_axes(k);
      if (*std::max_element(axes.begin(), axes.end()) <= t) break;
      Case d = c;
      d.set_text_token(k, t);
      if (try_case(d)) {
        c = std::move(d);
        break;
      }
    }
  }
  if (c.head_pad || c.token_pad) {
    Case d = c;
    d.head_pad = d.token_pad = 0;
    if (try_case(d)) c = std::move(d);
  }
  // Simpler values: zero each component that is not needed for the failure (in a case of a
  // few vectors: one judgement per component).
  for (size_t i = 0; i < c.x.size() && c.n_tokens() <= kFewTokens; ++i) {
    if (c.x[i] == 0) continue;
    Case d = c;
    d.x[i] = 0;
    if (try_case(d)) c = std::move(d);
  }
  if (cut) *cut = stopped;
  return c;
}

std::optional<Case> smallest_failing_position(const Case& c, const std::vector<int64_t>& below,
                                              const std::function<bool(const Case&)>& fails, Clock::time_point deadline) {
  if (c.n_tokens() > kFewTokens) return std::nullopt;  // a call of many tokens: not token by token
  std::vector<int64_t> order(static_cast<size_t>(c.n_tokens()));
  for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int64_t>(k);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return c.positions[static_cast<size_t>(a)] < c.positions[static_cast<size_t>(b)]; });
  std::optional<Case> found;
  for (int64_t k : order) {
    if (Clock::now() >= deadline) return found;
    Case d = only_token(c, k);
    if (fails(d)) {
      found = std::move(d);
      break;
    }
  }
  if (!found) return std::nullopt;
  // Positions per axis: the failing token as it is (a bisection of one axis would not say which).
  if (!found->axis_positions.empty()) return found;
  // Bisect between the largest listed position under the failing one that passes (with the
  // same values) and the failing one.  A property need not be monotone in t, so this finds
  // *a* failing position no larger than the edge position, the smallest where it is.
  int64_t hi = found->positions[0];
  const auto at = [&](int64_t t) {
    Case d = *found;
    d.positions[0] = t;
    return d;
  };
  auto it = std::lower_bound(below.begin(), below.end(), hi);
  while (it != below.begin() && Clock::now() < deadline) {
    const int64_t lo = *--it;
    if (lo < 0) break;
    if (!fails(at(lo))) {
      int64_t pass = lo;
      while (hi - pass > 1 && Clock::now() < deadline) {
        const int64_t mid = pass + (hi - pass) / 2;
        if (fails(at(mid))) {
          hi = mid;
        } else {
          pass = mid;
        }
      }
      break;
    }
    hi = lo;  // the listed position under it fails too: go further down
  }
  return at(hi);
}

std::vector<Case> narrowing_candidates(const Case& c, size_t min_tokens) {
  std::vector<Case> out = {c};
  const auto min_t = static_cast<int64_t>(min_tokens);
  if (c.n_tokens() > min_t) {
    for (int64_t k = 0; k < c.n_tokens() && k < kFewTokens; ++k) {
      out.push_back(min_t == 1 ? only_token(c, k) : drop_token(c, k));
    }
  }
  // Every case below also with the first token alone, so one round can combine two steps.
  const Case first = c.n_tokens() > min_t && min_t == 1 ? only_token(c, 0) : c;
  for (const Case* base : {&c, &first}) {
    // A head less (a q head or, for a q/k call, the k head: drop_head keeps the call shape valid
    // or the judge skips it as undeclared).
    for (int64_t h = 0; h < base->n_heads && base->n_heads > 1; ++h) out.push_back(drop_head(*base, h));
    if (base->head_pad || base->token_pad) {
      Case d = *base;
      d.head_pad = d.token_pad = 0;
      out.push_back(std::move(d));
    }
    // Simpler positions for each token: 0, 1 and a ladder of powers of two below it (where a
    // bisection would look).
    for (size_t k = 0; k < base->positions.size() && k < static_cast<size_t>(kFewTokens); ++k) {
      const std::vector<int64_t> axes = base->token_axes(k);
      const int64_t t = *std::max_element(axes.begin(), axes.end());
      std::vector<int64_t> simpler = {0, 1};
      for (int64_t p = 2; p > 0 && p < t; p = p > INT64_MAX / 4 ? -1 : p * 4) simpler.push_back(p);
      for (int64_t s : simpler) {
        if (s >= t) continue;
        Case d = *base;
        d.set_text_token(k, s);
        out.push_back(std::move(d));
      }
    }
    // One pair alone (the other rotated components zeroed) in every head: which pairs fail.
    for (int j = 0; j < base->spec.pairs() && j < 256; ++j) {
      Case d = *base;
      for (int64_t k = 0; k < d.n_tokens(); ++k) {
        for (int64_t h = 0; h < d.n_heads; ++h) {
          for (int jj = 0; jj < d.spec.pairs(); ++jj) {
            if (jj == j) continue;
            d.x[d.at(k, h, d.first_comp(jj))] = 0;
            d.x[d.at(k, h, d.second_comp(jj))] = 0;
          }
        }
      }
      if (d.x != base->x) out.push_back(std::move(d));
    }
  }
  // Smallest first: the first failing candidate is the smallest the round can show.
  const auto size_of = [](const Case& d) {
    const auto nonzero = std::count_if(d.x.begin(), d.x.end(), [](double v) { return v != 0; });
    int64_t largest = 0;
    for (int64_t t : d.all_positions()) largest = std::max(largest, t < 0 ? -(t + 1) : t);
    return std::make_tuple(d.n_tokens(), d.n_heads, largest, d.head_pad + d.token_pad, static_cast<int64_t>(nonzero));
  };
  std::stable_sort(out.begin(), out.end(), [&](const Case& a, const Case& b) { return size_of(a) < size_of(b); });
  std::vector<Case> unique;
  for (Case& d : out) {
    if (std::none_of(unique.begin(), unique.end(), [&](const Case& u) {
          return u.positions == d.positions && u.axis_positions == d.axis_positions && u.x == d.x && u.n_heads == d.n_heads && u.n_kv_heads == d.n_kv_heads &&
                 u.head_pad == d.head_pad && u.token_pad == d.token_pad;
        })) {
      unique.push_back(std::move(d));
    }
  }
  return unique;
}

Case many_tokens_case(const rc_kernel_desc& kernel, const RopeSpec& spec, uint64_t seed) {
  std::vector<Case> edge = sweep_cases(kernel, spec, seed);
  Case c = edge.front();  // its head layout (q only, or q and k) and values
  const int64_t per_token = c.n_heads * spec.head_dim;
  const std::vector<double> x = std::vector<double>(c.x.begin(), c.x.begin() + per_token);
  const std::vector<int64_t> edges = props::edge_positions(spec, kernel.max_position);
  c.positions.clear();
  c.x.clear();
  constexpr int64_t kTokens = 65536 + 3;
  c.positions.reserve(kTokens);
  c.x.reserve(static_cast<size_t>(kTokens * per_token));
  for (int64_t k = 0; k < kTokens; ++k) {
    c.positions.push_back(edges[static_cast<size_t>(k) % edges.size()]);
    c.x.insert(c.x.end(), x.begin(), x.end());
  }
  c.head_pad = c.token_pad = 0;
  c.poison = 0;
  return c;
}

std::vector<Case> sweep_cases(const rc_kernel_desc& kernel, const RopeSpec& spec, uint64_t seed) {
  const std::vector<int64_t> edges = props::edge_positions(spec, kernel.max_position);
  std::mt19937_64 gen(seed);
  // Inputs in [-2, 2] with a few exact zeros; rounded to the kernel's input dtype.
  auto value = [&] {
    const uint64_t bits = gen();
    if ((bits & 31) == 0) return (bits & 32) ? 0.0 : -0.0;
    return props::round_to_dtype(static_cast<double>(bits >> 11) * 0x1p-53 * 4.0 - 2.0, kernel.in_dtype);
  };
  std::vector<Case> cases;
  constexpr size_t kTokensPerCase = 6;
  for (size_t first = 0; first < edges.size(); first += kTokensPerCase) {
    Case c;
    c.spec = spec;
    for (size_t i = first; i < std::min(edges.size(), first + kTokensPerCase); ++i) c.positions.push_back(edges[i]);
    if (c.positions.size() == 1 && first > 0) c.positions.insert(c.positions.begin(), edges[first - 1]);
    const size_t n = cases.size();
    // Positions per axis (M-RoPE), in turn: text tokens (the edges on every axis); the edges on
    // axis 0 with small positions on the others (a long video or a long text before an image:
    // large t, small h and w); and the reverse (small t, the edges on h, w, ...: a huge image).
    if (spec.n_axes() > 1 && n % 3 != 0) {
      std::vector<int64_t> edge_row = c.positions, small_row(c.positions.size());
      for (size_t k = 0; k < small_row.size(); ++k) small_row[k] = static_cast<int64_t>((k * 7 + n) % 61);
      c.positions = n % 3 == 1 ? edge_row : small_row;
      c.axis_positions.assign(static_cast<size_t>(spec.n_axes() - 1), n % 3 == 1 ? small_row : edge_row);
      // h and w differ (a token's row and column), so an axis swapped for another shows.
      if (c.axis_positions.size() >= 2) {
        std::vector<int64_t>& last = c.axis_positions.back();
        if (n % 3 == 1) {
          for (int64_t& t : last) t = (t * 3 + 5) % 64;
        } else {
          std::reverse(last.begin(), last.end());
        }
      }
    }
    // Odd head counts and a padded layout every other case; with a kernel that takes q and k
    // together, a packed MQA view (1 + 1 heads) and GQA (2 + 1) in buffers of their own, in
    // turn with q-only cases if it takes those too.
    const bool qk = impl::has_feature(kernel, RC_FEATURE_QK) &&
                    (!impl::has_feature(kernel, RC_FEATURE_Q_ONLY) || (n / 2) % 2 == 1);
    c.n_heads = (n % 2) ? 3 : (qk ? 2 : 1);
    if (qk) {
      c.n_kv_heads = 1;
      c.separate_kv = n % 2 == 1;
    }
    if (n % 2) {
      c.head_pad = 1;
      c.token_pad = 2;
    }
    c.x.resize(static_cast<size_t>(c.n_tokens() * c.n_heads * spec.head_dim));
    for (double& x : c.x) x = value();
    c.shift = 16 << (2 * (cases.size() % 8));
    c.scale_exponent = (cases.size() % 2) ? -1 : 1;
    c.poison = static_cast<int64_t>(gen() % c.x.size());
    // ABI 2 features, each in turn with the plain call, only for a kernel declaring it (so an
    // ABI 1 kernel's sweep is what it was): inverse calls every third case, the rotary offsets
    // of gen::rotary_offsets (MLA's head_dim − rotary_dim first), the edge positions negated in
    // every fourth case, thread hints 0, 1, 2, 4 (periods 3, 4 and 4·4: every combination meets).
    if (impl::has_feature(kernel, RC_FEATURE_INVERSE)) c.inverse = n % 3 == 1;
    if (impl::has_feature(kernel, RC_FEATURE_ROTARY_OFFSET)) {
      std::vector<int32_t> offsets = props::gen::rotary_offsets(spec);
      std::rotate(offsets.begin(), offsets.begin() + 1, offsets.end());  // the MLA offset first, 0 last
      c.rotary_offset = offsets[n % offsets.size()];
    }
    if (impl::has_feature(kernel, RC_FEATURE_NEGATIVE_POSITIONS) && n % 4 == 3) {
      for (int64_t& t : c.positions) t = -t;
      for (std::vector<int64_t>& row : c.axis_positions) {
        for (int64_t& t : row) t = -t;
      }
    }
    if (impl::has_feature(kernel, RC_FEATURE_THREADS)) c.n_threads = std::array<int32_t, 4>{0, 1, 2, 4}[(n / 4) % 4];
    cases.push_back(std::move(c));
  }
  return cases;
}

UnitResult run_unit(const rc_kernel_desc& kernel, const RopeSpec& spec, const GateOptions& options) {
  const auto start = Clock::now();
  auto deadline = options.deadline;
  if (options.unit_budget_seconds >= 0) deadline = std::min(deadline, after(start, options.unit_budget_seconds));
  // How long one failure may be shrunk: up to the unit's deadline (at least a second), never
  // more than shrink_seconds, and never past the gate's hard deadline.
  auto shrink_deadline = [&](Clock::time_point found) {
    const auto budget_end = deadline == Clock::time_point::max() ? deadline : std::max(deadline, after(found, kMinShrinkSeconds));
    return std::min({budget_end, after(found, options.shrink_seconds), options.hard_deadline});
  };
  UnitResult result;
  result.kernel = kernel.name;
  result.spec_name = options.random_specs ? std::string("(generated specs)")
                                          : (spec.name.empty() ? std::string(to_string(spec.type)) : spec.name);
  std::vector<const Property*> selected;
  for (const Property& p : props::catalogue()) {
    if (options.properties.empty() ||
        std::find(options.properties.begin(), options.properties.end(), p.id) != options.properties.end()) {
      selected.push_back(&p);
    }
  }
  const bool sweep_phase = options.phase != GateOptions::Phase::kGenerated;
  const bool generated_phase = options.phase != GateOptions::Phase::kSweep;
  std::vector<Case> sweep = options.random_specs || !sweep_phase ? std::vector<Case>{}
                           : options.sweep.empty()                ? sweep_cases(kernel, spec, options.seed)
                                                                  : options.sweep;
  // A call with more tokens than a CUDA grid dimension holds (65535): engines launch a block
  // per token and have left the tokens past the grid unrotated.  Judged for agreement only
  // (65539 tokens are a large case for the exact properties' repeated calls).
  std::optional<Case> many_tokens;
  if (options.many_tokens && !options.random_specs && !sweep.empty()) many_tokens = many_tokens_case(kernel, spec, options.seed);
  const std::vector<int64_t> edges =
      options.random_specs ? std::vector<int64_t>{} : props::edge_positions(spec, kernel.max_position);
  Judge judge;
  judge.before_case = options.before_case;
  // A confirmed failure, on the case it was found on, before any shrinking: told to the
  // caller (GateOptions::on_violation).  With fail_fast it is the unit's answer, unshrunk.
  bool stop = false;
  const auto found = [&](const PropertyOutcome& out, const Judgement& v, const Case& c) {
    if (!options.on_violation && !options.fail_fast) return;
    PropertyOutcome first = out;
    record_failure(first, v, c);
    first.shrink_cut = true;  // not shrunk (yet)
    if (options.on_violation) options.on_violation(first);
    stop = options.fail_fast;
  };

  for (size_t pi = 0; pi < selected.size() && !stop; ++pi) {
    const Property* p = selected[pi];
    // Each property gets an equal slice of the unit's budget.
    const auto property_deadline =
        deadline == Clock::time_point::max()
            ? deadline
            : start + (deadline - start) * static_cast<int64_t>(pi + 1) / static_cast<int64_t>(selected.size());
    PropertyOutcome out;
    out.property = p->id;
    const auto refused = [&] {  // a spec prepare refused: no case, no time
      out.skip_reason = "prepare refused the spec: " + result.refusal;
      result.properties.push_back(std::move(out));
    };
    if (!result.refusal.empty()) {
      refused();
      continue;
    }
    const CaseEvaluator eval{kernel, *p, judge, out, result.internal_error};
    const size_t min_tokens = p->needs_two_tokens ? 2 : 1;
    // 1. The deterministic sweep, in increasing position.
    std::vector<const Case*> cases;
    for (const Case& c : sweep) cases.push_back(&c);
    if (many_tokens && std::string(p->id) == "agreesWithExactReferenceWithinContract") cases.push_back(&*many_tokens);
    for (const Case* cp : cases) {
      const Case& c = *cp;
      if (!result.internal_error.empty()) break;
      const Judgement v = eval(c);
      if (!v.failed()) continue;
      found(out, v, c);
      if (v.property != p->id || !options.shrink || stop) {  // did not reproduce (nothing stable to shrink), or no shrinking
        record_failure(out, v, c);
        out.shrink_cut = stop;
        break;
      }
      const auto until = shrink_deadline(Clock::now());
      // The last failing candidate is the one shrinking keeps: its judgement is the final one
      // (the shrunk case is not judged again, after the deadline).
      std::optional<std::pair<Case, Judgement>> last;
      const auto fails = [&](const Case& d) {
        if (!result.internal_error.empty()) return false;
        Judgement j = eval(d, false);
        if (!j.failed()) return false;
        last.emplace(d, std::move(j));
        return true;
      };
      // The smallest failing edge position first (it names the bug class), then the rest.
      std::optional<Case> small;
      if (min_tokens == 1) small = smallest_failing_position(c, edges, fails, until);
      bool cut = false;
      const Case minimal = shrink_case(small ? *small : c, min_tokens, fails, until, &cut);
      Judgement final_verdict;
      if (last && same_case(last->first, minimal)) {
        final_verdict = last->second;
      } else if (result.internal_error.empty() && !same_case(minimal, c)) {
        final_verdict = eval(minimal, false);  // not expected: shrink_case keeps its last failing candidate
      }
      record_failure(out, final_verdict.failed() ? final_verdict : v, final_verdict.failed() ? minimal : c);
      out.shrink_cut = cut || Clock::now() >= until;
      break;
    }
    // Prepare ran on the sweep's first case (a crash there names that case): a refusal of the
    // spec is the unit's answer, once.
    if (!options.random_specs && !sweep.empty() && result.internal_error.empty()) {
      result.refusal = judge.runner(kernel, spec).prepare_refusal();
      if (!result.refusal.empty()) {
        refused();
        continue;
      }
    }
    // 2. Generated cases, in batches so the deadline is honoured; RapidCheck shrinks a
    // failing case to the smallest one that still fails (fewest tokens and heads, simplest
    // positions and values; smallest head_dim when specs are generated).
    props::gen::Constraints k = props::gen::Constraints::of(kernel);
    if (p->needs_two_tokens) k.max_heads = 1;
    for (uint64_t batch = 0; generated_phase && !out.failed && result.internal_error.empty(); ++batch) {
      if (Clock::now() >= property_deadline) break;
      if (options.max_cases >= 0 && out.generated >= options.max_cases) break;
      const int n = options.max_cases >= 0 ? std::min(25, options.max_cases - out.generated) : 25;
      std::optional<Case> last_failing;
      Judgement last_verdict;
      Clock::time_point until = Clock::time_point::max();
      bool stop_shrinking = false;
      auto property = [&] {
        RC_PRE(result.internal_error.empty());  // after an internal error, run nothing more
        // Once a failure is found every call is a shrink candidate: none after the deadline,
        // and none for a failure that did not reproduce.
        if (last_failing && (stop_shrinking || Clock::now() >= until)) {
          out.shrink_cut = out.shrink_cut || !stop_shrinking;
          RC_DISCARD("shrinking stopped");
        }
        // Nor a new case past the deadline in the middle of a batch (RapidCheck gives up).
        if (!last_failing && Clock::now() >= property_deadline) RC_DISCARD("deadline");
        const Case c = options.random_specs ? *props::gen::case_for(k) : *props::gen::case_with_spec(spec, k);
        const Judgement v = eval(c, !last_failing);
        if (v.failed()) {
          if (!last_failing) {
            until = shrink_deadline(Clock::now());
            found(out, v, c);
            stop_shrinking = v.property != p->id || !options.shrink || stop;
          }
          // RapidCheck re-runs shrunk candidates; the last failing one is the final, smallest.
          last_failing = c;
          last_verdict = v;
          RC_FAIL(v.reason);
        }
        RC_PRE(v.finding != Finding::kSkip);
      };
      rc::detail::TestParams params;
      // A function of (seed, property, batch) only: the same seed gives the same cases.
      params.seed = options.seed * 0x9E3779B97F4A7C15ull + batch * 1000003u + std::hash<std::string>{}(p->id);
      params.maxSuccess = n;
      params.maxSize = 100;
      params.maxDiscardRatio = 20;
      SilentListener listener;
      rc::detail::TestMetadata meta;
      meta.id = p->id;
      const rc::detail::TestResult r = rc::detail::checkProperty(rc::detail::toProperty(property), meta, params, listener);
      rc::detail::SuccessResult success;
      rc::detail::GaveUpResult gave_up;
      rc::detail::FailureResult failure;
      rc::detail::Error error;
      if (r.match(success)) {
        out.generated += success.numSuccess;
      } else if (r.match(gave_up)) {
        out.generated += gave_up.numSuccess;
        break;  // the property does not apply to what this kernel supports
      } else if (r.match(failure)) {
        out.generated += failure.numSuccess + 1;
        if (last_failing) {
          record_failure(out, last_verdict, *last_failing);
          out.shrink_cut = (out.shrink_cut && !stop_shrinking) || stop;
        } else if (result.internal_error.empty()) {
          // Not a verdict of ours (every exception is caught by the judge): never a pass.
          result.internal_error = "generated case failed outside the property: " + failure.description;
        }
      } else if (r.match(error)) {
        result.internal_error = "test generation failed: " + error.description;
      }
    }
    result.properties.push_back(std::move(out));
    if (!result.internal_error.empty()) break;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace ropecheck::gate

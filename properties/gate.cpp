#include "properties/gate.hpp"

#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "properties/edge_positions.hpp"
#include "properties/generators.hpp"
#include "properties/runner.hpp"
#include "properties/spec_cache.hpp"
#include "reference/builtin_specs.hpp"
#include "reference/exact_reference.hpp"
#include "reference/fast_oracle.hpp"

namespace ropecheck::props {

namespace {

// RapidCheck reports through a listener; the gate reports itself.
class SilentListener : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

bool is_crash_class(const Verdict& v) { return is_crash_reason(v.reason); }

// The oracles of one (kernel, spec) unit.  The exact reference is built once and shared.
struct Oracles {
  std::shared_ptr<const ref::ExactReference> exact;
  std::shared_ptr<const ref::FastOracle> fast;
  std::unique_ptr<ref::CheckedOracle> checked;
  explicit Oracles(const RopeSpec& spec)
      : exact(std::make_shared<const ref::ExactReference>(spec)),
        fast(std::make_shared<const ref::FastOracle>(exact)),
        checked(std::make_unique<ref::CheckedOracle>(fast, 1000)) {}
};

// Attaches a call log to a runner for one scope (detached on every way out).
class LogScope {
 public:
  LogScope(const KernelRunner& runner, CallLog& log) : runner_(runner) { runner_.attach_log(&log); }
  ~LogScope() { runner_.attach_log(nullptr); }
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  const KernelRunner& runner_;
};

// Re-judges a violation found with the fast oracle using the exact reference alone, on the
// outputs the kernel gave the first time (`log`, replayed; a call the first evaluation did
// not make goes to the kernel).  Returns the exact verdict (fail: confirmed; otherwise the
// fast oracle was wrong).
Verdict confirm(const KernelRunner& runner, const Oracles& o, const Property& p, const Case& c, CallLog& log) {
  log.mode = CallLog::Mode::kReplay;
  const LogScope replay(runner, log);
  return evaluate(p, Context{runner, *o.exact}, c);
}

// The runner (prepared handle) and oracles of a spec: built once for a unit with a fixed
// spec; with generated specs, kept for the last few (shrinking revisits them).
struct Prepared {
  KernelRunner runner;
  Oracles oracles;
  Prepared(const rc_kernel_desc& kernel, const RopeSpec& spec) : runner(kernel, spec), oracles(spec) {}
};
using PreparedSpecs = SpecCache<Prepared>;

struct CaseEvaluator {
  const rc_kernel_desc& kernel;
  const Property& property;
  const GateOptions& options;
  PreparedSpecs& prepared;

  // Evaluates one case and tallies it; returns the verdict (fail only if exact-confirmed, or
  // crash-class).  An exception of ropecheck's own sets *internal_error: never a pass.
  Verdict operator()(const Case& c, PropertyOutcome& out, std::string* internal_error) const {
    Verdict v;
    try {
      v = judge(c);
    } catch (const ref::OracleMismatch& e) {
      *internal_error = std::string("fast oracle disagreed with the exact reference: ") + e.what();
      return Verdict::skip("oracle mismatch");
    } catch (const std::exception& e) {
      *internal_error = std::string("checking ") + property.id + " threw: " + e.what() + " (" + describe(c) + ")";
      return Verdict::skip("internal error");
    }
    if (v.kind == Verdict::Kind::kSkip && v.reason == kNotConfirmed) {
      *internal_error = std::string("fast oracle reported a violation the exact reference does not confirm (") +
                        property.id + ", " + describe(c) + ")";
      return v;
    }
    if (v.kind == Verdict::Kind::kSkip) {
      ++out.skipped;
    } else {
      ++out.checked;
      out.worst_ratio = std::max(out.worst_ratio, v.worst_ratio);
    }
    return v;
  }

 private:
  // A skip reason no property gives (they name a rule): marks "fast fail, exact pass".
  static constexpr const char* kNotConfirmed = "(ropecheck: fast-oracle violation not confirmed)";

  Verdict judge(const Case& c) const {
    // Announced first: prepare runs in prepared.get, and a crash there must name this case.
    if (options.before_case) options.before_case(c, property.id);
    const Prepared& state = prepared.get(spec_cache_key(c.spec), [&] { return std::make_unique<Prepared>(kernel, c.spec); });
    CallLog log;
    Verdict v;
    {
      const LogScope record(state.runner, log);
      v = evaluate(property, Context{state.runner, *state.oracles.checked}, c);
    }
    if (v.failed() && !is_crash_class(v)) {  // a crash needs no oracle to confirm it
      const Verdict exact = confirm(state.runner, state.oracles, property, c, log);
      if (!exact.failed()) return Verdict::skip(kNotConfirmed);
      v = exact;
    }
    return v;
  }
};

void record_failure(PropertyOutcome& out, const Verdict& v, const Case& c) {
  out.failed = true;
  out.crash_class = is_crash_class(v);
  out.reason = v.reason;
  out.detail = v.detail;
  out.counterexample = c;
}

// Removes token k (and its inputs) from a case.
Case drop_token(const Case& c, int64_t k) {
  Case d = c;
  d.positions.erase(d.positions.begin() + k);
  const auto per_token = static_cast<std::ptrdiff_t>(c.n_heads * c.spec.head_dim);
  d.x.erase(d.x.begin() + k * per_token, d.x.begin() + (k + 1) * per_token);
  d.poison = d.x.empty() ? 0 : c.poison % static_cast<int64_t>(d.x.size());
  return d;
}

// Removes head h of every token.
Case drop_head(const Case& c, int64_t h) {
  Case d = c;
  d.n_heads = c.n_heads - 1;
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

Case shrink_case(Case c, size_t min_tokens, const std::function<bool(const Case&)>& fails) {
  for (bool progress = true; progress;) {
    progress = false;
    for (int64_t k = 0; k < c.n_tokens() && c.n_tokens() > static_cast<int64_t>(min_tokens); ++k) {
      Case d = drop_token(c, k);
      if (fails(d)) {
        c = std::move(d);
        progress = true;
        break;
      }
    }
  }
  for (int64_t h = c.n_heads - 1; h >= 0 && c.n_heads > 1; --h) {
    Case d = drop_head(c, h);
    if (fails(d)) c = std::move(d);
  }
  // Simpler positions: 0 or 1 where the failure does not need the original one.
  for (size_t k = 0; k < c.positions.size(); ++k) {
    for (int64_t t : {int64_t{0}, int64_t{1}}) {
      if (c.positions[k] <= t) break;
      Case d = c;
      d.positions[k] = t;
      if (fails(d)) {
        c = std::move(d);
        break;
      }
    }
  }
  if (c.head_pad || c.token_pad) {
    Case d = c;
    d.head_pad = d.token_pad = 0;
    if (fails(d)) c = std::move(d);
  }
  // Simpler values: zero each component that is not needed for the failure.
  for (size_t i = 0; i < c.x.size(); ++i) {
    if (c.x[i] == 0) continue;
    Case d = c;
    d.x[i] = 0;
    if (fails(d)) c = std::move(d);
  }
  return c;
}

std::vector<Case> sweep_cases(const rc_kernel_desc& kernel, const RopeSpec& spec, uint64_t seed) {
  const std::vector<int64_t> edges = edge_positions(spec, kernel.max_position);
  std::mt19937_64 gen(seed);
  // Inputs in [-2, 2] with a few exact zeros; rounded to the kernel's input dtype.
  auto value = [&] {
    const uint64_t bits = gen();
    if ((bits & 31) == 0) return (bits & 32) ? 0.0 : -0.0;
    return round_to_dtype(static_cast<double>(bits >> 11) * 0x1p-53 * 4.0 - 2.0, kernel.in_dtype);
  };
  std::vector<Case> cases;
  constexpr size_t kTokensPerCase = 6;
  for (size_t first = 0; first < edges.size(); first += kTokensPerCase) {
    Case c;
    c.spec = spec;
    for (size_t i = first; i < std::min(edges.size(), first + kTokensPerCase); ++i) c.positions.push_back(edges[i]);
    if (c.positions.size() == 1 && first > 0) c.positions.insert(c.positions.begin(), edges[first - 1]);
    c.n_heads = (cases.size() % 2) ? 3 : 1;  // odd head counts, and a padded layout every other case
    if (cases.size() % 2) {
      c.head_pad = 1;
      c.token_pad = 2;
    }
    c.x.resize(static_cast<size_t>(c.n_tokens() * c.n_heads * spec.head_dim));
    for (double& x : c.x) x = value();
    c.shift = 16 << (2 * (cases.size() % 8));
    c.scale_exponent = (cases.size() % 2) ? -1 : 1;
    c.poison = static_cast<int64_t>(gen() % c.x.size());
    cases.push_back(std::move(c));
  }
  return cases;
}

UnitResult run_unit(const rc_kernel_desc& kernel, const RopeSpec& spec, const GateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto deadline = options.deadline;
  if (options.unit_budget_seconds >= 0) {
    deadline = std::min(deadline, start + std::chrono::microseconds(static_cast<int64_t>(options.unit_budget_seconds * 1e6)));
  }
  UnitResult result;
  result.kernel = kernel.name;
  result.spec_name = options.random_specs ? std::string("(generated specs)")
                                          : (spec.name.empty() ? std::string(to_string(spec.type)) : spec.name);
  std::vector<const Property*> selected;
  for (const Property& p : catalogue()) {
    if (options.properties.empty() ||
        std::find(options.properties.begin(), options.properties.end(), p.id) != options.properties.end()) {
      selected.push_back(&p);
    }
  }
  const std::vector<Case> sweep = options.random_specs ? std::vector<Case>{} : sweep_cases(kernel, spec, options.seed);
  PreparedSpecs prepared(16);

  for (size_t pi = 0; pi < selected.size(); ++pi) {
    const Property* p = selected[pi];
    // Each property gets an equal slice of the unit's budget.
    const auto property_deadline =
        deadline == std::chrono::steady_clock::time_point::max()
            ? deadline
            : start + (deadline - start) * static_cast<int64_t>(pi + 1) / static_cast<int64_t>(selected.size());
    PropertyOutcome out;
    out.property = p->id;
    const CaseEvaluator eval{kernel, *p, options, prepared};
    // 1. The deterministic sweep.
    for (const Case& c : sweep) {
      if (!result.internal_error.empty()) break;
      const Verdict v = eval(c, out, &result.internal_error);
      if (v.failed()) {
        // Shrink the sweep case greedily (fewest tokens and heads, no padding, fewest
        // non-zero inputs), keeping the last verdict that failed.
        PropertyOutcome scratch;
        const Case small = shrink_case(c, p->needs_two_tokens ? 2 : 1, [&](const Case& d) {
          return eval(d, scratch, &result.internal_error).failed();
        });
        const Verdict final_verdict = eval(small, scratch, &result.internal_error);
        record_failure(out, final_verdict.failed() ? final_verdict : v, final_verdict.failed() ? small : c);
        break;
      }
    }
    // 2. Generated cases, in batches so the deadline is honoured; RapidCheck shrinks a
    // failing case to the smallest one that still fails (fewest tokens and heads, simplest
    // positions and values; smallest head_dim when specs are generated).
    gen::Constraints k = gen::Constraints::of(kernel);
    if (p->needs_two_tokens) k.max_heads = 1;
    int generated = 0;
    for (uint64_t batch = 0; !out.failed && result.internal_error.empty(); ++batch) {
      if (std::chrono::steady_clock::now() >= property_deadline) break;
      if (options.max_cases >= 0 && generated >= options.max_cases) break;
      const int n = options.max_cases >= 0 ? std::min(25, options.max_cases - generated) : 25;
      std::optional<Case> last_failing;
      Verdict last_verdict;
      auto property = [&] {
        RC_PRE(result.internal_error.empty());  // after an internal error, run nothing more
        const Case c = options.random_specs ? *gen::case_for(k) : *gen::case_with_spec(spec, k);
        PropertyOutcome scratch;
        const Verdict v = eval(c, scratch, &result.internal_error);
        if (v.failed()) {
          // RapidCheck re-runs shrunk candidates; the last failing one is the final, smallest.
          last_failing = c;
          last_verdict = v;
          RC_FAIL(v.reason);
        }
        RC_PRE(v.kind != Verdict::Kind::kSkip);
      };
      rc::detail::TestParams params;
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
        out.checked += success.numSuccess;
      } else if (r.match(gave_up)) {
        out.checked += gave_up.numSuccess;
        break;  // the property does not apply to what this kernel supports
      } else if (r.match(failure)) {
        out.checked += failure.numSuccess + 1;
        if (last_failing) {
          record_failure(out, last_verdict, *last_failing);
        } else if (result.internal_error.empty()) {
          // Not a verdict of ours (every exception is caught in CaseEvaluator): never a pass.
          result.internal_error = "generated case failed outside the property: " + failure.description;
        }
      } else if (r.match(error)) {
        result.internal_error = "test generation failed: " + error.description;
      }
      generated += n;
    }
    result.properties.push_back(std::move(out));
    if (!result.internal_error.empty()) break;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Verdict replay(const rc_kernel_desc& kernel, const Property& property, const Case& c) {
  const KernelRunner runner(kernel, c.spec);
  const ref::ExactReference exact(c.spec);
  return evaluate(property, Context{runner, exact}, c);
}

std::vector<RopeSpec> default_gate_specs() {
  // Data, not code: reference/specs/gate/ (reference/builtin_specs.hpp), read and validated once.
  std::vector<RopeSpec> out;
  for (const BuiltinSpec& b : builtin_gate_specs()) out.push_back(b.spec);
  return out;
}

}  // namespace ropecheck::props

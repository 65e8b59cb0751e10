#include "properties/gate.hpp"

#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "properties/edge_positions.hpp"
#include "properties/generators.hpp"
#include "properties/runner.hpp"
#include "properties/judge.hpp"

namespace ropecheck::props {

namespace {

// RapidCheck reports through a listener; the gate reports itself.
class SilentListener : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

struct CaseEvaluator {
  const rc_kernel_desc& kernel;
  const Property& property;
  Judge& judge;

  // Judges one case and tallies it; returns the judgement.  ropecheck's own failure sets
  // *internal_error (never a pass) and returns a skip.
  Judgement operator()(const Case& c, PropertyOutcome& out, std::string* internal_error) const {
    Judgement j = judge.judge(kernel, property, c);
    switch (j.finding) {
      case Finding::kInternal:
        *internal_error = j.reason;
        j.finding = Finding::kSkip;
        return j;
      case Finding::kSkip:
        ++out.skipped;
        return j;
      default:
        ++out.checked;
        out.worst_ratio = std::max(out.worst_ratio, j.worst_ratio);
        return j;
    }
  }
};

void record_failure(PropertyOutcome& out, const Judgement& j, const Case& c) {
  out.failed = true;
  out.crash_class = j.finding == Finding::kCrash;
  out.finding_property = j.property;
  out.reason = j.reason;
  out.detail = j.detail;
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
  Judge judge;
  judge.before_case = options.before_case;

  for (size_t pi = 0; pi < selected.size(); ++pi) {
    const Property* p = selected[pi];
    // Each property gets an equal slice of the unit's budget.
    const auto property_deadline =
        deadline == std::chrono::steady_clock::time_point::max()
            ? deadline
            : start + (deadline - start) * static_cast<int64_t>(pi + 1) / static_cast<int64_t>(selected.size());
    PropertyOutcome out;
    out.property = p->id;
    const CaseEvaluator eval{kernel, *p, judge};
    // 1. The deterministic sweep.
    for (const Case& c : sweep) {
      if (!result.internal_error.empty()) break;
      const Judgement v = eval(c, out, &result.internal_error);
      if (v.failed()) {
        // Shrink the sweep case greedily (fewest tokens and heads, no padding, fewest
        // non-zero inputs), keeping the last verdict that failed.
        PropertyOutcome scratch;
        const Case small = shrink_case(c, p->needs_two_tokens ? 2 : 1, [&](const Case& d) {
          return eval(d, scratch, &result.internal_error).failed();
        });
        const Judgement final_verdict = eval(small, scratch, &result.internal_error);
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
      Judgement last_verdict;
      auto property = [&] {
        RC_PRE(result.internal_error.empty());  // after an internal error, run nothing more
        const Case c = options.random_specs ? *gen::case_for(k) : *gen::case_with_spec(spec, k);
        PropertyOutcome scratch;
        const Judgement v = eval(c, scratch, &result.internal_error);
        if (v.failed()) {
          // RapidCheck re-runs shrunk candidates; the last failing one is the final, smallest.
          last_failing = c;
          last_verdict = v;
          RC_FAIL(v.reason);
        }
        RC_PRE(v.finding != Finding::kSkip);
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

Judgement replay(const rc_kernel_desc& kernel, const Property& property, const Case& c) {
  Judge judge;
  return judge.judge_exact(kernel, property, c);
}

std::vector<RopeSpec> default_gate_specs() {
  std::vector<RopeSpec> out;
  auto make = [](const char* name, int head_dim, int rotary_dim, double base, Layout layout, RopeType type,
                 double factor, int64_t max_pos, int64_t l0) {
    RopeSpec s;
    s.name = name;
    s.head_dim = head_dim;
    s.rotary_dim = rotary_dim;
    s.base = base;
    s.layout = layout;
    s.type = type;
    s.factor = factor;
    s.max_position_embeddings = max_pos;
    s.original_max_position_embeddings = l0;
    return s;
  };
  out.push_back(make("default d128 half-split", 128, 128, 1e4, Layout::kHalfSplit, RopeType::kDefault, 1, 4096, 0));
  out.push_back(make("default d64 interleaved", 64, 64, 1e4, Layout::kInterleaved, RopeType::kDefault, 1, 2048, 0));
  out.push_back(make("partial d80/32 (phi-2)", 80, 32, 1e4, Layout::kHalfSplit, RopeType::kDefault, 1, 2048, 0));
  out.push_back(make("linear s4 d96", 96, 96, 1e4, Layout::kInterleaved, RopeType::kLinear, 4, 8192, 0));
  out.push_back(make("ntk s8 d64", 64, 64, 1e4, Layout::kHalfSplit, RopeType::kNtk, 8, 4096, 0));
  RopeSpec dyn = make("dynamic s2 d128", 128, 128, 1e4, Layout::kHalfSplit, RopeType::kDynamic, 2, 4096, 0);
  dyn.seq_len = 16384;
  out.push_back(dyn);
  out.push_back(make("yarn s16 d128 (design.md)", 128, 128, 1e4, Layout::kHalfSplit, RopeType::kYarn, 16, 65536, 4096));
  RopeSpec yarn2 = make("yarn s40 d64 deepseek-style", 64, 64, 1e4, Layout::kInterleaved, RopeType::kYarn, 40, 163840, 4096);
  yarn2.mscale = 1.0;
  yarn2.mscale_all_dim = 1.0;
  yarn2.beta_fast = 32;
  out.push_back(yarn2);
  RopeSpec llama = make("llama3 (Llama-3.1-8B)", 128, 128, 500000, Layout::kHalfSplit, RopeType::kLlama3, 8, 131072, 8192);
  out.push_back(llama);
  RopeSpec lr = make("longrope d96 (Phi-3 style)", 96, 96, 1e4, Layout::kHalfSplit, RopeType::kLongrope, 32, 131072, 4096);
  lr.seq_len = 131072;
  for (int j = 0; j < 48; ++j) {
    lr.short_factor.push_back(1.0 + j / 32.0);
    lr.long_factor.push_back(1.0 + j * j / 64.0);
  }
  out.push_back(lr);
  for (const RopeSpec& s : out) validate(s);
  return out;
}

}  // namespace ropecheck::props

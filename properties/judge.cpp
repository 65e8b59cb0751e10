#include "properties/judge.hpp"

#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "properties/recipe_view.hpp"
#include "properties/spec_cache.hpp"
#include "reference/exact_reference.hpp"

namespace ropecheck::props {

const char* to_string(Finding finding) {
  switch (finding) {
    case Finding::kPass: return "pass";
    case Finding::kSkip: return "skip";
    case Finding::kViolation: return "violation";
    case Finding::kCrash: return "crash";
    case Finding::kInternal: return "internal";
  }
  return "?";
}

int exit_code(Finding finding) {
  Tally t;
  tally(t, finding);
  return t.exit_code();
}

void tally(Tally& t, Finding finding) {
  switch (finding) {
    case Finding::kViolation: t.violation = true; break;
    case Finding::kCrash: t.crash = true; break;
    case Finding::kInternal: t.internal = true; break;
    case Finding::kPass:
    case Finding::kSkip: break;
  }
}

Judgement finding_of_child(const impl::ChildOutcome& outcome, const std::string& what) {
  Judgement j;
  if (outcome.internal_fault()) {
    j.finding = Finding::kInternal;
    j.reason = what + ": " + outcome.describe();
  } else if (outcome.kernel_fault()) {
    j.finding = Finding::kCrash;
    // The verdict is written by the child's wrapper only after the function returned, so a
    // child that exited without one was ended by the kernel, whatever the status says.
    j.reason = outcome.end == impl::ChildOutcome::End::kExited
                   ? what + " ended the process (exit status " + std::to_string(outcome.exit_status) +
                         "); a kernel must return, never exit"
                   : what + " " + outcome.describe();
  } else {
    j.finding = Finding::kInternal;
    j.reason = what + ": the child ended with a verdict (" + std::to_string(outcome.verdict) +
               ") where none was expected";
  }
  return j;
}

namespace {

// Remembers the heads the oracle rotated lately: the properties and, in the fuzzers, every
// kernel of a set judge the same heads again, so the oracle works once per head.
class MemoOracle final : public ref::Oracle {
 public:
  explicit MemoOracle(const ref::Oracle& inner) : inner_(inner) {}
  const char* name() const override { return inner_.name(); }
  const RopeSpec& spec() const override { return inner_.spec(); }
  double theta(int pair) const override { return inner_.theta(pair); }
  double attention_factor() const override { return inner_.attention_factor(); }
  void rotate(int64_t t, const double* x, double* out_hi, double* out_lo) const override {
    const size_t hd = static_cast<size_t>(spec().head_dim);
    const Entry* hit = nullptr;
    for (const Entry& e : memo_) {
      if (e.t == t && std::memcmp(e.x.data(), x, hd * sizeof(double)) == 0) {
        hit = &e;
        break;
      }
    }
    if (hit == nullptr) {
      if (memo_.size() >= 64) memo_.clear();
      Entry e{t, std::vector<double>(x, x + hd), std::vector<double>(hd), std::vector<double>(hd)};
      inner_.rotate(t, e.x.data(), e.hi.data(), e.lo.data());
      memo_.push_back(std::move(e));
      hit = &memo_.back();
    }
    for (size_t i = 0; i < hd; ++i) {
      if (out_lo) {
        out_hi[i] = hit->hi[i];
        out_lo[i] = hit->lo[i];
      } else {
        out_hi[i] = hit->hi[i] + hit->lo[i];
      }
    }
  }
  void rotate_pair(int64_t t, int pair, double x0, double x1, double y_hi[2], double y_lo[2]) const override {
    inner_.rotate_pair(t, pair, x0, x1, y_hi, y_lo);
  }
  double score(const double* q, int64_t t, const double* k, int64_t s) const override {
    return inner_.score(q, t, k, s);
  }

 private:
  struct Entry {
    int64_t t;
    std::vector<double> x, hi, lo;
  };
  const ref::Oracle& inner_;
  mutable std::vector<Entry> memo_;
};

// Attaches a call log to a runner for one scope (detached on every way out).
class LogScope {
 public:
  LogScope(const KernelRunner& runner, CallLog* log) : runner_(runner) { runner_.attach_log(log); }
  ~LogScope() { runner_.attach_log(nullptr); }
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  const KernelRunner& runner_;
};

Judgement from_verdict(const Verdict& v, const Property& p) {
  Judgement j;
  j.property = p.id;
  j.reason = v.reason;
  j.detail = v.detail;
  j.worst_ratio = v.worst_ratio;
  j.worst_ulp = v.worst_ulp;
  j.worst_capped = v.worst_capped;
  switch (v.kind) {
    case Verdict::Kind::kPass: j.finding = Finding::kPass; break;
    case Verdict::Kind::kSkip: j.finding = Finding::kSkip; break;
    case Verdict::Kind::kFail: j.finding = is_crash_reason(v.reason) ? Finding::kCrash : Finding::kViolation; break;
  }
  return j;
}

Judgement internal(const Property& p, std::string reason) {
  Judgement j;
  j.finding = Finding::kInternal;
  j.property = p.id;
  j.reason = std::move(reason);
  return j;
}

}  // namespace

// Everything prepared for one spec: the oracles, and a runner (prepared handle) per kernel.
struct Judge::Prepared {
  std::shared_ptr<const ref::ExactReference> exact;
  std::shared_ptr<const ref::FastOracle> fast;
  std::unique_ptr<ref::CheckedOracle> checked;
  std::unique_ptr<MemoOracle> memo;  // over `checked`
  RopeSpec spec;
  std::vector<std::pair<const rc_kernel_desc*, std::unique_ptr<KernelRunner>>> runners;

  Prepared(const RopeSpec& s, const Options& o)
      : exact(std::make_shared<const ref::ExactReference>(s)),
        fast(std::make_shared<const ref::FastOracle>(exact)),
        checked(std::make_unique<ref::CheckedOracle>(fast, o.spot_check_every)),
        memo(std::make_unique<MemoOracle>(*checked)),
        spec(s) {
    if (o.first_spot_check_on_one_pair) {
      double hi[2], lo[2];
      checked->rotate_pair((int64_t{1} << 31) - 1, s.pairs() - 1, 1.0, -0.5, hi, lo);
    }
  }

  const KernelRunner& runner(const rc_kernel_desc& kernel) {
    for (auto& [d, r] : runners) {
      if (d == &kernel) return *r;
    }
    runners.emplace_back(&kernel, std::make_unique<KernelRunner>(kernel, spec));  // prepare runs here
    return *runners.back().second;
  }

  // The kernel's recipe view (θ̂ inferred once per kernel and spec; the inference calls the
  // kernel, so the caller builds it before recording a property's calls).
  std::vector<std::pair<const rc_kernel_desc*, std::unique_ptr<RecipeView>>> views;
  const RecipeView& recipe_view(const rc_kernel_desc& kernel) {
    for (auto& [d, v] : views) {
      if (d == &kernel) return *v;
    }
    auto view = std::make_unique<RecipeView>(runner(kernel), *exact);
    views.emplace_back(&kernel, std::move(view));
    return *views.back().second;
  }
};

struct Judge::State {
  explicit State(size_t capacity) : cache(capacity) {}
  SpecCache<Prepared> cache;
  // The spec asked for last: callers ask for the same one many times in a row (every kernel of
  // a set, every property of a case), and comparing the key is cheaper than hashing it.  Valid
  // while it is the cache's most recent entry, i.e. until the next cache.get.
  std::string last_key;
  Prepared* last = nullptr;
};

Judge::Judge() : Judge(Options{}) {}
Judge::Judge(Options options) : options_(options), state_(std::make_unique<State>(options.capacity)) {}
Judge::~Judge() = default;

Judge::Prepared& Judge::prepared(const RopeSpec& spec) {
  State& st = *state_;
  std::string key = spec_cache_key(spec);
  if (st.last != nullptr && key == st.last_key) return *st.last;
  st.last = nullptr;  // get() may drop it
  Prepared& p = st.cache.get(key, [&] { return std::make_unique<Prepared>(spec, options_); });
  st.last_key = std::move(key);
  st.last = &p;
  return p;
}

const KernelRunner& Judge::runner(const rc_kernel_desc& kernel, const RopeSpec& spec) {
  return prepared(spec).runner(kernel);
}

const ref::FastOracle& Judge::fast_oracle(const RopeSpec& spec) { return *prepared(spec).fast; }

std::shared_ptr<const ref::FastOracle> Judge::fast_oracle_shared(const RopeSpec& spec) { return prepared(spec).fast; }

uint64_t Judge::spot_checks() const {
  uint64_t n = 0;
  state_->cache.for_each([&](const Prepared& p) { n += p.checked->spot_checks(); });
  return n;
}

Judgement Judge::judge(const rc_kernel_desc& kernel, const Property& property, const Case& c) {
  return decide(kernel, property, c, false);
}

Judgement Judge::judge_exact(const rc_kernel_desc& kernel, const Property& property, const Case& c) {
  return decide(kernel, property, c, true);
}

Judgement Judge::confirm(const rc_kernel_desc& kernel, const Property& property, const Case& c,
                         const std::string& seen) {
  Judgement j = judge(kernel, property, c);
  if (j.finding == Finding::kSkip) {
    return internal(property, std::string("a failure of ") + property.id + " was seen on a case the kernel does not declare (" +
                                  j.reason + "): " + seen + " (" + describe(c) + ")");
  }
  if (j.finding != Finding::kPass) return j;
  // The same words as a violation decide() ran twice with different outcomes: it is the same finding.
  Judgement nd;
  nd.finding = Finding::kViolation;
  nd.property = "kernelIsDeterministic";
  nd.reason = std::string("the same call gave different results: ") + property.id + " failed on one run (" + seen +
              ") and held when the case was run again";
  nd.detail = "first run: " + seen + "\n" + describe(c) + "\nsecond run of the same case: the property held";
  return nd;
}

Judgement Judge::decide(const rc_kernel_desc& kernel, const Property& property, const Case& c, bool exact_only) {
  try {
    // Announced first: prepare runs below, and a crash there must name this case.
    if (before_case) before_case(c, property.id);
    Prepared& p = prepared(c.spec);
    const KernelRunner& runner = p.runner(kernel);
    // Built before any call is recorded: its calls are not the property's.
    const RecipeView* view = property.needs_recipe_view ? &p.recipe_view(kernel) : nullptr;
    // Exact only — unless the case is so large (a call of 65539 tokens has millions of pairs,
    // minutes of MPFR) that it is judged like everywhere else: the validated fast oracle,
    // every violation confirmed by the exact reference.
    const bool huge = static_cast<double>(c.n_tokens()) * static_cast<double>(c.n_heads) * c.spec.pairs() > kExactOnlyPairs;
    // A call at a sequence length of its own is judged against that length's spec: the oracles
    // this judge prepares for it, of the kind being used (p stays: the cache keeps 16 specs).
    const auto memo_for = [this](const RopeSpec& s) -> const ref::Oracle& { return *prepared(s).memo; };
    const auto exact_for = [this](const RopeSpec& s) -> const ref::Oracle& { return *prepared(s).exact; };
    if (exact_only && !huge) {
      return from_verdict(evaluate(property, Context{runner, *p.exact, view, exact_for}, c), property);
    }

    CallLog log;
    Verdict v;
    {
      const LogScope record(runner, &log);
      v = evaluate(property, Context{runner, *p.memo, view, memo_for}, c);
    }
    if (!v.failed() || is_crash_reason(v.reason)) return from_verdict(v, property);  // a crash needs no oracle

    // Confirm with the exact reference, on the outputs the kernel gave (a call the first
    // evaluation did not make goes to the kernel).
    log.mode = CallLog::Mode::kReplay;
    Verdict exact;
    {
      const LogScope replay(runner, &log);
      exact = property.confirm ? props::confirm(property, Context{runner, *p.exact, view, exact_for}, c, v)
                               : evaluate(property, Context{runner, *p.exact, view, exact_for}, c);
    }
    if (!exact.failed()) {
      return internal(property, std::string("the fast oracle reported a violation of ") + property.id +
                                    " that the exact reference does not confirm (" + describe(c) + "): " + v.reason);
    }
    Judgement first = from_verdict(exact, property);
    if (exact_only || !options_.recheck_failures || first.finding != Finding::kViolation) return first;

    // Run it again, calling the kernel afresh: a violation nobody can replay is not a
    // counterexample, but it is a finding of its own.
    const Verdict again = evaluate(property, Context{runner, *p.memo, view, memo_for}, c);
    if (again.failed()) return first;
    Judgement nd = first;
    nd.property = "kernelIsDeterministic";
    nd.differed_on = property.id;
    nd.reason = std::string("the same call gave different results: ") + property.id + " failed on one run (" +
                exact.reason + ") and " + (again.passed() ? "held" : "was skipped (" + again.reason + ")") +
                " when the case was run again";
    nd.detail = "first run:\n" + exact.detail + "\nsecond run of the same case: " +
                (again.passed() ? std::string("the property held") : "skipped: " + again.reason);
    return nd;
  } catch (const ref::OracleMismatch& e) {
    return internal(property, std::string("the fast oracle disagreed with the exact reference: ") + e.what());
  } catch (const KernelThrew& e) {  // prepare threw while the runner was built
    Judgement j;
    j.finding = Finding::kCrash;
    j.property = property.id;
    j.reason = std::string("crash: ") + e.what();
    j.detail = describe(c);
    return j;
  } catch (const std::exception& e) {
    return internal(property, std::string("checking ") + property.id + " threw: " + e.what() + " (" + describe(c) + ")");
  }
}

}  // namespace ropecheck::props

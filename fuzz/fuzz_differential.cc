// fuzz_differential: bytes -> one RoPE case (every rope type, both layouts, partial rotary,
// head_dim up to 256, 1-3 tokens at positions biased to design.md's edge positions, 1-2
// heads, optional stride padding, raw f32/f16/bf16/f64 bit patterns) -> every kernel of the
// target set that declares support for it, judged by the judge (props::Judge, the one of
// `ropecheck check`) on the catalogue's agreesWithExactReferenceWithinContract: the fast
// oracle within the bound of the kernel's own accuracy contract, a pair over its bound
// confirmed by the exact reference on the outputs the kernel gave, so a fast-oracle slip can
// never be blamed on a kernel.
//
// Routing (each kernel judges the case as rounded to its own input dtype):
//  - a NaN/Inf among the inputs -> nonFiniteInputStaysInItsPair (the agreement bound assumes
//    finite inputs), with the first non-finite element as the poisoned one;
//  - a position outside [0, max_position] -> positionsBeyondMaximumAreRefused, which judges the
//    call with these very positions if the kernel supports the case otherwise (design.md:
//    "values just beyond it must be rejected");
//  - |x| so large that a·r could overflow the kernel's dtypes -> skipped (no kernel can be
//    right there; the metamorphic target covers huge values with its exact properties).
#include <algorithm>
#include <cmath>
#include <optional>
#include <ostream>
#include <sstream>
#include <utility>
#include <vector>

#include "fuzz/targets.hpp"

namespace ropecheck::fuzz {

namespace {

// The first pair of kernel `d` over its bound on `c` (else its worst pair), with every kernel's
// output there: where to look first.  Runs the kernels again; the verdict is the judge's.
std::string every_kernel_at_failing_pair(const props::Case& base, const rc_kernel_desc& d, const props::Case& c) {
  props::Judge& judge = fuzz_judge();
  std::optional<props::PairMeasurement> at;
  double worst = -1;
  try {
    const props::Context exact{judge.runner(d, c.spec), judge.fast_oracle(c.spec).exact()};
    props::measure_agreement(exact, c, [&](const props::PairMeasurement& m) {
      const bool over = !(m.err <= m.bound);  // NaN is over
      const double ratio = over ? INFINITY : m.bound > 0 ? m.err / m.bound : 0.0;
      if (ratio > worst) {
        worst = ratio;
        at = m;
      }
      return !over;
    });
    return at ? every_kernel_pair(base, at->token, at->head, at->pair) : "";
  } catch (const std::exception& e) {  // the report's extra must not turn the finding into another
    return std::string("(every kernel's output is not shown: ") + e.what() + ")\n";
  }
}

}  // namespace

Result fuzz_differential(const uint8_t* data, size_t size, const RunOptions& opt) {
  std::optional<Decoded> d = decode_case(data, size);
  if (!d) return {props::Finding::kSkip, "the bytes give no valid spec"};
  const props::Case& base = d->base;
  props::Judge& judge = fuzz_judge();
  std::ostream* tr = opt.trace;
  if (tr) *tr << "differential: " << props::describe(base) << "\n";
  static const props::Property& agrees = *props::find_property("agreesWithExactReferenceWithinContract");
  static const props::Property& non_finite = *props::find_property("nonFiniteInputStaysInItsPair");
  static const props::Property& refusal = *props::find_property("positionsBeyondMaximumAreRefused");
  const auto& kernels = target_kernels();
  const double a = judge.fast_oracle(base.spec).attention_factor();
  std::vector<uint8_t> checked(kernels.size(), 0);
  std::vector<std::string> skipped(kernels.size());
  // The case as the kernels of each input dtype (and kind of call) see it, made once per dtype
  // and call (the kernels of a set mostly share a few).
  std::vector<std::pair<std::pair<int32_t, uint64_t>, props::Case>> rounded;
  auto rounded_for = [&](const rc_kernel_desc& kd) -> const props::Case& {
    const std::pair<int32_t, uint64_t> key(kd.in_dtype, call_key(kd));
    for (const auto& [k, c] : rounded) {
      if (k == key) return c;
    }
    return rounded.emplace_back(key, case_for_kernel(base, kd)).second;
  };
  for (size_t n = 0; n < kernels.size(); ++n) {
    const rc_kernel_desc& kd = *kernels[n];
    auto skip = [&](const std::string& why) {
      if (tr) *tr << "  " << kd.name << ": skipped: " << why << "\n";
      skipped[n] = why;
    };

    const props::Property* p = &agrees;
    const props::Case& as_seen = rounded_for(kd);
    std::optional<props::Case> changed;  // the NaN route judges a changed copy
    if (!all_finite(as_seen)) {
      p = &non_finite;
      props::Case& c = changed.emplace(as_seen);
      const auto bad = std::find_if(c.x.begin(), c.x.end(), [](double v) { return !std::isfinite(v); });
      c.poison = bad - c.x.begin();
      for (double& v : c.x) {
        if (!std::isfinite(v)) v = 0;
      }
    } else if (std::any_of(as_seen.positions.begin(), as_seen.positions.end(),
                           [&](int64_t t) { return t < 0 || t > kd.max_position; })) {
      p = &refusal;  // judged on these very positions, if the kernel supports the case otherwise
    } else {
      double max_abs = 0;
      for (double v : as_seen.x) max_abs = std::max(max_abs, std::fabs(v));
      if (max_abs > safe_magnitude(kd, a)) {
        // The runner is asked only here: the properties check what the kernel declares.
        const std::string why = judge.runner(kd, base.spec).unsupported_reason(as_seen);
        skip(why.empty() ? "|x| this large could overflow the kernel's dtypes" : why);
        continue;
      }
    }
    const props::Case& c = changed ? *changed : as_seen;

    const props::Judgement j = judge.judge(kd, *p, c);
    if (j.finding == props::Finding::kSkip) {
      skip(j.reason);
      continue;
    }
    if (j.finding != props::Finding::kPass) {
      const bool locate = j.finding == props::Finding::kViolation && p == &agrees && j.property == p->id;
      return failure_result("differential", n, j, c, locate ? every_kernel_at_failing_pair(base, kd, c) : "");
    }
    checked[n] = 1;
    if (tr) {
      *tr << "  " << kd.name << ": " << j.property << " holds";
      if (p == &agrees) *tr << "; worst error/bound " << j.worst_ratio;
      *tr << "\n";
    }
  }
  return kernels_result(std::move(checked), std::move(skipped));
}

}  // namespace ropecheck::fuzz

#ifndef ROPECHECK_FUZZ_LIBRARY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_differential, data, size);
}
#endif

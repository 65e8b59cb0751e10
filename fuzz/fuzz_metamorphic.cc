// fuzz_metamorphic: bytes -> one RoPE case (the same decoder as fuzz_differential) -> the
// catalogue's exact properties, on every kernel of the target set that accepts the case:
// layout permutation (interleaved = permuted half-split), in-place = out-of-place, tokens and
// heads independent, power-of-two scaling bit-exact, determinism, strided = contiguous, NaN/Inf
// confined to its pair, positions beyond the maximum refused.  No oracle is involved (the
// layout property reads θ and a from it only), so these run at any magnitude and position
// and catch bugs that keep a kernel within its bound: aliasing, stride and batch mix-ups,
// state kept between calls.  Each catalogue property is judged by the judge (props::Judge, as
// in `ropecheck check`); one input byte picks the property (or all of them).
#include <algorithm>
#include <cmath>
#include <ostream>
#include <sstream>

#include "fuzz/targets.hpp"

namespace ropecheck::fuzz {

Result fuzz_metamorphic(const uint8_t* data, size_t size, const RunOptions& opt) {
  std::optional<Decoded> d = decode_case(data, size);
  if (!d) return {props::Finding::kSkip, "the bytes give no valid spec"};
  props::Case base = d->base;
  // The properties take a finite case (the NaN property poisons its own copy).
  for (double& v : base.x) {
    if (!std::isfinite(v)) v = 0;
  }
  props::Judge& judge = fuzz_judge();
  constexpr size_t kCount = sizeof kMetamorphicProperties / sizeof kMetamorphicProperties[0];
  const size_t first = d->choice.property < kCount ? d->choice.property : 0;
  const size_t last = d->choice.property < kCount ? first + 1 : kCount;
  std::ostream* tr = opt.trace;
  if (tr) {
    *tr << "metamorphic: " << props::describe(base) << "; "
        << (last - first == 1 ? kMetamorphicProperties[first] : "every exact property") << "\n";
  }
  const auto& kernels = target_kernels();
  const double a = judge.fast_oracle(base.spec).attention_factor();
  std::vector<uint8_t> checked(kernels.size(), 0);
  std::vector<std::string> skipped(kernels.size());
  // Every kernel is prepared for the spec first, in a row: the layout property prepares a
  // kernel for the other layout, and the built-in position-exact kernels share the frequencies
  // of the last spec prepared (impl make_exact_angles), so preparing lazily between properties
  // would compute them twice per kernel.
  std::vector<props::Case> cases;
  for (size_t n = 0; n < kernels.size(); ++n) {
    cases.push_back(case_for_kernel(base, *kernels[n]));
    skipped[n] = judge.runner(*kernels[n], base.spec).unsupported_reason(cases[n]);
  }
  for (size_t n = 0; n < kernels.size(); ++n) {
    const rc_kernel_desc& kd = *kernels[n];
    const props::Case& c = cases[n];
    if (!skipped[n].empty()) {
      if (tr) *tr << "  " << kd.name << ": skipped: " << skipped[n] << "\n";
      continue;
    }
    skipped[n] = "|x| this large could overflow the kernel's dtypes";  // unless a property says otherwise
    double max_abs = 0;
    for (double v : c.x) max_abs = std::max(max_abs, std::fabs(v));
    for (size_t i = first; i < last; ++i) {
      const props::Property* p = props::find_property(kMetamorphicProperties[i]);
      // The layout property compares within a bound: an overflowing rotation gives Inf − Inf.
      if (i == 0 && max_abs > safe_magnitude(kd, a)) continue;
      const props::Judgement j = judge.judge(kd, *p, c);
      if (j.finding != props::Finding::kPass && j.finding != props::Finding::kSkip) {
        return failure_result("metamorphic", n, j, c);
      }
      if (j.finding == props::Finding::kPass) {
        checked[n] = 1;
      } else {
        skipped[n] = std::string(p->id) + ": " + j.reason;
      }
      if (tr) {
        *tr << "  " << kd.name << ": " << p->id
            << (j.finding == props::Finding::kPass ? " holds" : " skipped: " + j.reason) << "\n";
      }
    }
  }
  return kernels_result(std::move(checked), std::move(skipped));
}

}  // namespace ropecheck::fuzz

#ifndef ROPECHECK_FUZZ_LIBRARY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_metamorphic, data, size);
}
#endif

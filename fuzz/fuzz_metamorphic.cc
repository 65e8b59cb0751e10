// fuzz_metamorphic: bytes -> one RoPE case (the same decoder as fuzz_differential) -> the
// catalogue's exact properties, on every kernel of the target set that accepts the case:
// layout permutation (interleaved = permuted half-split), in-place = out-of-place, tokens and
// heads independent, power-of-two scaling bit-exact, determinism, strided = contiguous, NaN/Inf
// confined to its pair, positions beyond the maximum refused.  No oracle is involved (the
// layout property reads θ and a from it only), so these run at any magnitude and position
// and catch bugs that keep a kernel within its bound: aliasing, stride and batch mix-ups,
// state kept between calls.  The catalogue functions are called as they are; one input byte
// picks the property (or all of them).
#include <algorithm>
#include <cmath>
#include <ostream>
#include <sstream>

#include "fuzz/fuzz_common.hpp"

namespace ropecheck::fuzz {

Result fuzz_metamorphic(const uint8_t* data, size_t size, const RunOptions& opt) {
  std::optional<Decoded> d = decode_case(data, size);
  if (!d) return {Outcome::kSkip, "the bytes give no valid spec"};
  props::Case base = d->base;
  // The properties take a finite case (the NaN property poisons its own copy).
  for (double& v : base.x) {
    if (!std::isfinite(v)) v = 0;
  }
  SpecEntry& e = spec_entry(base.spec);
  e.memo->clear();
  constexpr size_t kCount = sizeof kMetamorphicProperties / sizeof kMetamorphicProperties[0];
  const size_t first = d->choice.property < kCount ? d->choice.property : 0;
  const size_t last = d->choice.property < kCount ? first + 1 : kCount;
  std::ostream* tr = opt.trace;
  if (tr) {
    *tr << "metamorphic: " << props::describe(base) << "; "
        << (last - first == 1 ? kMetamorphicProperties[first] : "every exact property") << "\n";
  }
  const auto& kernels = target_kernels();
  const double a = e.fast->attention_factor();
  std::vector<uint8_t> checked(kernels.size(), 0);
  std::vector<std::string> skipped(kernels.size());
  for (size_t n = 0; n < kernels.size(); ++n) {
    const rc_kernel_desc& kd = *kernels[n];
    const props::KernelRunner& runner = *e.runners[n];
    const props::Case c = case_for_kernel(base, kd);
    const std::string why = runner.unsupported_reason(c);
    if (!why.empty()) {
      if (tr) *tr << "  " << kd.name << ": skipped: " << why << "\n";
      skipped[n] = why;
      continue;
    }
    skipped[n] = "|x| this large could overflow the kernel's dtypes";  // unless a property says otherwise
    double max_abs = 0;
    for (double v : c.x) max_abs = std::max(max_abs, std::fabs(v));
    for (size_t i = first; i < last; ++i) {
      const props::Property* p = props::find_property(kMetamorphicProperties[i]);
      // The layout property compares within a bound: an overflowing rotation gives Inf − Inf.
      if (i == 0 && max_abs > safe_magnitude(kd, a)) continue;
      const props::Verdict v = p->fn(props::Context{runner, *e.memo}, c);
      if (v.failed()) return {failure_outcome(v), violation_report("metamorphic", kd, p->id, v, c)};
      if (v.passed()) {
        checked[n] = 1;
      } else {
        skipped[n] = std::string(p->id) + ": " + v.reason;
      }
      if (tr) {
        *tr << "  " << kd.name << ": " << p->id << (v.passed() ? " holds" : " skipped: " + v.reason) << "\n";
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

// fuzz_differential: bytes -> one RoPE case (every rope type, both layouts, partial rotary,
// head_dim up to 256, 1-3 tokens at positions biased to design.md's edge positions, 1-2
// heads, optional stride padding, raw f32/f16/bf16/f64 bit patterns) -> every kernel of the
// target set that declares support for it, judged against the fast oracle within the bound
// of the kernel's own accuracy contract (the catalogue's measure_agreement, one code path
// with the gate and the reports).  A pair over its bound is re-judged by the exact reference
// (CheckedOracle::confirm_pair_error) before anything is reported, so a fast-oracle slip can
// never be blamed on a kernel.
//
// Routing (each kernel judges the case as rounded to its own input dtype):
//  - a NaN/Inf among the inputs -> nonFiniteInputStaysInItsPair (the agreement bound assumes
//    finite inputs), with the first non-finite element as the poisoned one;
//  - a position outside [0, max_position] in an otherwise supported case -> the call must be
//    refused with nothing written (design.md: "values just beyond it must be rejected");
//  - |x| so large that a·r could overflow the kernel's dtypes -> skipped (no kernel can be
//    right there; the metamorphic target covers huge values with its exact properties).
#include <algorithm>
#include <cmath>
#include <ostream>
#include <sstream>

#include "fuzz/fuzz_common.hpp"

namespace ropecheck::fuzz {

Result fuzz_differential(const uint8_t* data, size_t size, const RunOptions& opt) {
  std::optional<Decoded> d = decode_case(data, size);
  if (!d) return {Outcome::kSkip, "the bytes give no valid spec"};
  const props::Case& base = d->base;
  SpecEntry& e = spec_entry(base.spec);
  e.memo->clear();
  std::ostream* tr = opt.trace;
  if (tr) *tr << "differential: " << props::describe(base) << "\n";
  const auto& kernels = target_kernels();
  const double a = e.fast->attention_factor();
  std::vector<uint8_t> checked(kernels.size(), 0);
  std::vector<std::string> skipped(kernels.size());
  for (size_t n = 0; n < kernels.size(); ++n) {
    const rc_kernel_desc& kd = *kernels[n];
    const props::KernelRunner& runner = *e.runners[n];
    const props::Context ctx{runner, *e.memo};
    const props::Case c = case_for_kernel(base, kd);
    auto say = [&](const std::string& what) {
      if (tr) *tr << "  " << kd.name << ": " << what << "\n";
    };
    auto skip = [&](const std::string& why) {
      say("skipped: " + why);
      skipped[n] = why;
    };

    if (!all_finite(c)) {
      props::Case clean = c;
      const auto bad = std::find_if(clean.x.begin(), clean.x.end(), [](double v) { return !std::isfinite(v); });
      clean.poison = bad - clean.x.begin();
      for (double& v : clean.x) {
        if (!std::isfinite(v)) v = 0;
      }
      const props::Property* p = props::find_property("nonFiniteInputStaysInItsPair");
      const props::Verdict v = p->fn(ctx, clean);
      if (v.failed()) return {failure_outcome(v), violation_report("differential", kd, p->id, v, clean)};
      if (v.passed()) {
        checked[n] = 1;
        say("NaN/Inf stays in its pair");
      } else {
        skip(v.reason);
      }
      continue;
    }

    const std::string why = runner.unsupported_reason(c);
    if (!why.empty()) {
      props::Case inside = c;
      for (int64_t& t : inside.positions) t = std::clamp<int64_t>(t, 0, kd.max_position);
      if (inside.positions != c.positions && runner.unsupported_reason(inside).empty()) {
        const props::RunOutput y = runner.run(c);
        if (y.status == 0 || !y.out_of_bounds.empty()) {
          const props::Verdict v = props::Verdict::fail(
              y.status == 0 ? "accepted a position outside [0, max_position = " + std::to_string(kd.max_position) + "]"
                            : "out-of-bounds write on refusal: " + y.out_of_bounds,
              props::describe(c));
          return {failure_outcome(v), violation_report("differential", kd, "positionsBeyondMaximumAreRefused", v, c)};
        }
        checked[n] = 1;
        say("refused a position outside its range, as it must");
      } else {
        skip(why);
      }
      continue;
    }

    double max_abs = 0;
    for (double v : c.x) max_abs = std::max(max_abs, std::fabs(v));
    if (max_abs > safe_magnitude(kd, a)) {
      skip("|x| this large could overflow the kernel's dtypes");
      continue;
    }

    std::optional<props::PairMeasurement> over;
    double worst = 0;
    props::RunOutput y;
    const std::optional<props::Verdict> early = props::measure_agreement(
        ctx, c,
        [&](const props::PairMeasurement& m) {
          if (!(m.err <= m.bound)) {  // NaN fails too
            over = m;
            return false;
          }
          worst = std::max(worst, m.bound > 0 ? m.err / m.bound : 0.0);
          return true;
        },
        &y);
    if (early && early->failed()) {
      return {failure_outcome(*early),
              violation_report("differential", kd, "agreesWithExactReferenceWithinContract", *early, c)};
    }
    if (early) {
      skip(early->reason);
      continue;
    }
    if (over) {
      const double yy[2] = {y.y[over->i0], y.y[over->i1]};
      if (!e.checked->confirm_pair_error(over->t, over->pair, c.x[over->i0], c.x[over->i1], yy, over->bound)) {
        std::ostringstream os;
        os << "kernel " << kd.name << ": the fast oracle put pair " << over->pair << " at t=" << over->t
           << " over its bound but the exact reference does not confirm it\n" << props::case_to_json(c);
        throw ref::OracleMismatch(os.str());
      }
      // Confirmed.  The catalogue's own verdict, judged by the exact reference, carries the evidence.
      const props::Property* p = props::find_property("agreesWithExactReferenceWithinContract");
      props::Verdict v = p->fn(props::Context{runner, e.fast->exact()}, c);
      if (!v.failed()) {
        v = props::Verdict::fail("pair error exceeds the contract bound (confirmed by the exact reference)",
                                 props::describe(c));
      }
      return {Outcome::kViolation,
              violation_report("differential", kd, p->id, v, c, every_kernel_pair(base, over->token, over->head, over->pair))};
    }
    checked[n] = 1;
    std::ostringstream os;
    os << "agrees; worst error/bound " << worst;
    say(os.str());
  }
  return kernels_result(std::move(checked), std::move(skipped));
}

}  // namespace ropecheck::fuzz

#ifndef ROPECHECK_FUZZ_LIBRARY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_differential, data, size);
}
#endif

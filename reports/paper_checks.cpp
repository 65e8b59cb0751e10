#include "reports/paper_checks.hpp"

#include <cmath>
#include <complex>
#include <random>

#include "properties/runner.hpp"

namespace ropecheck::report {

RopeSpec paper_spec() {
  RopeSpec s;
  s.name = "paper: d128 base 1e4 (Wang et al. 2024; RoFormer)";
  s.head_dim = s.rotary_dim = 128;
  s.base = 10000;
  s.max_position_embeddings = 262144;
  return s;
}

ShiftTable shift_invariance_table(const std::vector<std::pair<const rc_kernel_desc*, std::string>>& kernels,
                                  const ref::Oracle& oracle, int samples, uint64_t seed) {
  ShiftTable tab;
  tab.samples = samples;
  tab.seed = seed;
  const RopeSpec& spec = oracle.spec();
  const auto hd = static_cast<size_t>(spec.head_dim);
  for (const auto& [desc, what] : kernels) {
    const props::KernelRunner runner(*desc, spec);
    ShiftRow row;
    row.kernel = desc->name;
    row.what = what;
    row.mean_abs_diff.assign(tab.deltas.size(), 0.0);
    row.max_abs_diff.assign(tab.deltas.size(), 0.0);
    std::mt19937_64 gen(seed);  // the same (q, k) for every kernel, up to dtype rounding
    double score_sum = 0;
    for (int i = 0; i < samples; ++i) {
      std::vector<double> qk(2 * hd);
      for (double& v : qk) v = runner.round_to_input(static_cast<double>(gen() >> 11) * 0x1p-52 - 1.0);
      const double exact = oracle.score(qk.data(), tab.m_minus_n, qk.data() + hd, 0);
      score_sum += std::fabs(exact);
      for (size_t di = 0; di < tab.deltas.size(); ++di) {
        props::Case c;
        c.spec = spec;
        c.positions = {tab.m_minus_n + tab.deltas[di], tab.deltas[di]};
        c.x = qk;
        const props::RunOutput out = runner.run(c);
        if (out.status != 0 || !out.out_of_bounds.empty()) {
          throw std::runtime_error(std::string("paper check: kernel ") + desc->name + " failed at Δ = " +
                                   std::to_string(tab.deltas[di]));
        }
        long double s = 0;
        for (size_t k = 0; k < hd; ++k) s += static_cast<long double>(out.y[k]) * out.y[hd + k];
        const double diff = static_cast<double>(std::fabs(s - exact));
        row.mean_abs_diff[di] += diff / samples;
        row.max_abs_diff[di] = std::max(row.max_abs_diff[di], diff);
      }
    }
    tab.mean_abs_score = score_sum / samples;
    tab.rows.push_back(row);
  }
  return tab;
}

DecayCurve roformer_decay(const ref::Oracle& oracle, int64_t max_distance) {
  DecayCurve dc;
  std::vector<int64_t> dist;
  for (int64_t d = 0; d <= std::min<int64_t>(256, max_distance); ++d) dist.push_back(d);
  for (double e = 8.125; e <= std::log2(static_cast<double>(max_distance)) + 1e-9; e += 0.125) {
    const auto d = static_cast<int64_t>(std::llround(std::exp2(e)));
    if (d > dist.back()) dist.push_back(d);
  }
  const int pairs = oracle.spec().pairs();
  for (int64_t d : dist) {
    std::complex<double> s = 0;
    double sum = 0;
    for (int j = 0; j < pairs; ++j) {
      double y[2];
      oracle.rotate_pair(d, j, 1.0, 0.0, y, nullptr);  // e^{i d θ_j} (a = 1 for the paper spec)
      s += std::complex<double>(y[0], y[1]);
      sum += std::abs(s);  // |S_{j+1}|
    }
    dc.distance.push_back(d);
    dc.mean_abs_s.push_back(sum / pairs);
  }
  return dc;
}

}  // namespace ropecheck::report

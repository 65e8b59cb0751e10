// The exact RoPE reference, written once, generic over a Boost.Multiprecision number type
// (mpfr_float at runtime precision in production; any fixed type such as cpp_bin_float_100
// works too).  Naive on purpose: each formula is the textbook one from HuggingFace
// `modeling_rope_utils` / shared/design.md, evaluated in Real and rounded only by the caller.
// Nothing here is shared with the optimized kernels in impl/.
//
// The rotation is computed two independent ways:
//  - rotate_euclidean: 2x2 blocks with the library's sin/cos of the unreduced angle;
//  - rotate_complex:   (x0 + i x1) * e^{i phi}, with phi reduced by our own multiple of 2π
//                      and e^{i phi} summed from the exponential series in complex
//                      arithmetic — no sin or cos involved.
// Tests require the two to agree to 2^-100 of the pair norm.
#pragma once

#include <cstdint>
#include <vector>

#include <boost/multiprecision/number.hpp>

#include "rope_spec.hpp"

namespace ropecheck::ref {

template <class Real>
struct Frequencies {
  std::vector<Real> theta;  // θ'_j, j = 0 .. rotary_dim/2 - 1
  Real attention_factor;    // a: multiplies cos and sin (1 except yarn, longrope)
};

namespace detail {

template <class Real>
Real from_double(double v) {
  return Real(v);  // exact: every binary64 is representable in a wider binary Real
}

template <class Real>
Real two_pi() {
  using boost::multiprecision::atan;
  return Real(8) * atan(Real(1));
}

// YaRN's m(s, μ) = 0.1·μ·ln s + 1 for s > 1, else 1.
template <class Real>
Real yarn_mscale(const Real& s, const Real& mu) {
  using boost::multiprecision::log;
  if (s <= 1) return Real(1);
  return Real(1) / Real(10) * mu * log(s) + Real(1);
}

// HF rounds the ramp endpoints through Python floats; the 0.001 nudge is a binary64 value.
template <class Real>
Real yarn_correction_dim(const Real& rotations, const Real& d, const Real& base,
                         const Real& original_max) {
  using boost::multiprecision::log;
  return d * log(original_max / (rotations * two_pi<Real>())) / (Real(2) * log(base));
}

}  // namespace detail

// θ_j = b^(-2j/d) from ln b (a loop over the pairs takes ln b once: the costly part at high
// precision).
template <class Real>
Real base_theta_from_log(const Real& log_base, int pair, int rotary_dim) {
  using boost::multiprecision::exp;
  return exp(-(Real(2 * pair) / Real(rotary_dim)) * log_base);
}
// θ_j = b^(-2j/d) for an effective base b.
template <class Real>
Real base_theta(const Real& base, int pair, int rotary_dim) {
  using boost::multiprecision::log;
  return base_theta_from_log(Real(log(base)), pair, rotary_dim);
}

template <class Real>
Frequencies<Real> frequencies(const RopeSpec& spec) {
  using boost::multiprecision::ceil;
  using boost::multiprecision::floor;
  using boost::multiprecision::log;
  using boost::multiprecision::pow;
  using boost::multiprecision::sqrt;
  using detail::from_double;

  const int d = spec.rotary_dim;
  const int n = spec.pairs();
  const Real rd(d);
  const Real s = from_double<Real>(spec.factor);
  Real b = from_double<Real>(spec.base);

  Frequencies<Real> f;
  f.attention_factor = Real(1);
  f.theta.resize(static_cast<size_t>(n));

  switch (spec.type) {
    case RopeType::kNtk:  // b' = b · s^(d/(d-2))
      b = b * pow(s, rd / (rd - 2));
      break;
    case RopeType::kDynamic: {  // b' = b · (s·L/L_max − (s−1))^(d/(d−2)) once L > L_max
      const int64_t L = spec.effective_seq_len();
      if (L > spec.max_position_embeddings) {
        const Real ratio = s * Real(L) / Real(spec.max_position_embeddings) - (s - 1);
        b = b * pow(ratio, rd / (rd - 2));
      }
      break;
    }
    default:
      break;
  }

  const Real log_b = log(b);
  for (int j = 0; j < n; ++j) {
    int k = j, dj = d;
    spec.frequency_exponent(j, &k, &dj);  // (j, d) but for N-D RoPE: each axis's own exponent
    f.theta[static_cast<size_t>(j)] = base_theta_from_log(log_b, k, dj);
  }

  switch (spec.type) {
    case RopeType::kDefault:
    case RopeType::kNtk:
    case RopeType::kDynamic:
      break;
    case RopeType::kLinear:
      for (auto& t : f.theta) t /= s;
      break;
    case RopeType::kYarn: {
      const Real L0(spec.effective_original_max());
      Real lo = detail::yarn_correction_dim(from_double<Real>(spec.beta_fast), rd, b, L0);
      Real hi = detail::yarn_correction_dim(from_double<Real>(spec.beta_slow), rd, b, L0);
      if (spec.truncate) {
        lo = floor(lo);
        hi = ceil(hi);
      }
      if (lo < 0) lo = 0;
      if (hi > rd - 1) hi = rd - 1;
      if (lo == hi) hi += from_double<Real>(0.001);
      for (int j = 0; j < n; ++j) {
        Real ramp = (Real(j) - lo) / (hi - lo);
        if (ramp < 0) ramp = 0;
        if (ramp > 1) ramp = 1;
        Real& t = f.theta[static_cast<size_t>(j)];
        t = (t / s) * ramp + t * (Real(1) - ramp);
      }
      if (spec.attention_factor) {
        f.attention_factor = from_double<Real>(*spec.attention_factor);
      } else if (spec.mscale != 0 && spec.mscale_all_dim != 0) {
        f.attention_factor = detail::yarn_mscale(s, from_double<Real>(spec.mscale)) /
                             detail::yarn_mscale(s, from_double<Real>(spec.mscale_all_dim));
      } else {
        f.attention_factor = detail::yarn_mscale(s, Real(1));
      }
      break;
    }
    case RopeType::kLlama3: {
      const Real L0(spec.effective_original_max());
      const Real lf = from_double<Real>(spec.low_freq_factor);
      const Real hf = from_double<Real>(spec.high_freq_factor);
      const Real low_freq_wavelen = L0 / lf;
      const Real high_freq_wavelen = L0 / hf;
      for (auto& t : f.theta) {
        const Real wavelen = detail::two_pi<Real>() / t;
        if (wavelen < high_freq_wavelen) continue;  // high frequency: kept
        if (wavelen > low_freq_wavelen) {           // low frequency: interpolated
          t /= s;
          continue;
        }
        // lf == hf (Llama 4): the smooth band is the single wavelength L0/lf, where HF's
        // _compute_llama3_parameters divides 0 by 0; its first step (θ/s only beyond
        // low_freq_wavelen) keeps θ there, and so does ropecheck.
        if (lf == hf) continue;
        const Real gamma = (L0 / wavelen - lf) / (hf - lf);  // smooth band
        t = (Real(1) - gamma) * t / s + gamma * t;
      }
      break;
    }
    case RopeType::kLongrope: {
      const int64_t L0 = spec.effective_original_max();
      const std::vector<double>& ext =
          spec.effective_seq_len() > L0 ? spec.long_factor : spec.short_factor;
      for (int j = 0; j < n; ++j) {
        Real& t = f.theta[static_cast<size_t>(j)];
        t = t / from_double<Real>(ext[static_cast<size_t>(j)]);
      }
      if (spec.attention_factor) {
        f.attention_factor = from_double<Real>(*spec.attention_factor);
      } else if (s > 1) {
        f.attention_factor = sqrt(Real(1) + log(s) / log(Real(L0)));
      }
      break;
    }
    case RopeType::kProportional:
      // Gemma 4's global layers.  HF _compute_proportional_rope_parameters:
      //   rope_angles = int(partial_rotary_factor * head_dim // 2)
      //   inv_freq = cat(1 / base ** (arange(0, 2*rope_angles, 2) / head_dim), zeros(head_dim//2 - rope_angles))
      //   inv_freq /= factor
      // then rotate_half over the whole head: pair j = (j, j + head_dim/2), j < head_dim/2.  So
      // with d = rotary_dim = head_dim (validate) and the θ_j above:
      //   j <  rope_angles:  θ'_j = b^(-2j/d) / s    (the exponent over the whole head)
      //   j >= rope_angles:  θ'_j = 0                (the pair is turned by R(0) = I)
      // Google's gemma apply_rope(rope_proportion=) computes the same θ' (timescale padded with
      // inf, angle t/timescale/scale_factor; it refuses scale_factor < 1, HF does not).  HF is
      // followed: any factor in the linear domain.
      for (int j = 0; j < n; ++j) {
        Real& t = f.theta[static_cast<size_t>(j)];
        t = j < spec.rope_angles ? Real(t / s) : Real(0);
      }
      break;
    case RopeType::kNone:
      // No rope (NoPE layers: Llama 4's no_rope_layers; HF's Llama4TextAttention skips
      // apply_rotary_emb when use_rope is 0): θ'_j = 0 for every pair and a = 1, so every pair is
      // turned by R(0) = I.  The base's θ_j above are overwritten, not scaled.
      for (auto& t : f.theta) t = Real(0);
      break;
  }
  return f;
}

// A token's position on every axis of the spec (spec.n_axes() values; one for 1-D RoPE).  A
// single t is the position on every axis — a text token of M-RoPE, for which M-RoPE is 1-D
// RoPE with the same frequencies.
inline std::vector<int64_t> on_every_axis(const RopeSpec& spec, int64_t t) {
  return std::vector<int64_t>(static_cast<size_t>(spec.n_axes()), t);
}
// The position pair j is rotated by: that of its axis (RopeSpec::axis_of_pair).
inline int64_t position_of_pair(const RopeSpec& spec, const std::vector<int64_t>& t, int pair) {
  return t.at(static_cast<size_t>(spec.axis_of_pair(pair)));
}

// Euclidean form: y = a · [[cos φ, −sin φ], [sin φ, cos φ]] · x for every pair, φ = t_a(j)·θ_j
// (t_a(j) the position of pair j's axis), pass-through components copied.  x has head_dim
// entries.
template <class Real>
std::vector<Real> rotate_euclidean(const RopeSpec& spec, const Frequencies<Real>& f,
                                   const std::vector<int64_t>& t, const std::vector<Real>& x) {
  using boost::multiprecision::cos;
  using boost::multiprecision::sin;
  std::vector<Real> y(x);
  for (int j = 0; j < spec.pairs(); ++j) {
    const Real phi = Real(position_of_pair(spec, t, j)) * f.theta[static_cast<size_t>(j)];
    const Real c = cos(phi) * f.attention_factor;
    const Real sn = sin(phi) * f.attention_factor;
    const size_t i0 = static_cast<size_t>(spec.first_index(j));
    const size_t i1 = static_cast<size_t>(spec.second_index(j));
    y[i0] = x[i0] * c - x[i1] * sn;
    y[i1] = x[i0] * sn + x[i1] * c;
  }
  return y;
}
template <class Real>
std::vector<Real> rotate_euclidean(const RopeSpec& spec, const Frequencies<Real>& f, int64_t t,
                                   const std::vector<Real>& x) {
  return rotate_euclidean<Real>(spec, f, on_every_axis(spec, t), x);
}

// Minimal complex arithmetic over Real, so that the complex path shares no code with the
// Euclidean one (std::complex is unspecified for non-builtin types).
template <class Real>
struct Complex {
  Real re, im;
  friend Complex operator*(const Complex& a, const Complex& b) {
    return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
  }
  friend Complex operator+(const Complex& a, const Complex& b) {
    return {a.re + b.re, a.im + b.im};
  }
  Complex conj() const { return {re, -im}; }
};

// e^{iφ}: reduce φ to [−π, π] by an explicit multiple of 2π, then sum the exponential
// series Σ (iφ)^n / n! until the term is below 2^-(precision+8).  |φ| ≤ π keeps the
// largest term below π^3/6, so at most ~3 bits are lost to cancellation.
template <class Real>
Complex<Real> exp_i(const Real& phi, int precision_bits) {
  using boost::multiprecision::abs;
  using boost::multiprecision::ldexp;
  using boost::multiprecision::round;
  const Real tau = detail::two_pi<Real>();
  const Real r = phi - tau * round(phi / tau);
  const Real eps = ldexp(Real(1), -(precision_bits + 8));
  Complex<Real> sum{Real(1), Real(0)};
  Complex<Real> term{Real(1), Real(0)};
  const Complex<Real> iz{Real(0), r};
  for (int k = 1; k < 10000; ++k) {
    term = term * iz;
    term.re /= k;
    term.im /= k;
    sum = sum + term;
    if (abs(term.re) + abs(term.im) < eps) break;
  }
  return sum;
}

// Complex form: z_j = (x_{i0} + i x_{i1}) · a · e^{i t_a(j) θ_j}.
template <class Real>
std::vector<Real> rotate_complex(const RopeSpec& spec, const Frequencies<Real>& f, const std::vector<int64_t>& t,
                                 const std::vector<Real>& x, int precision_bits) {
  std::vector<Real> y(x);
  for (int j = 0; j < spec.pairs(); ++j) {
    const size_t i0 = static_cast<size_t>(spec.first_index(j));
    const size_t i1 = static_cast<size_t>(spec.second_index(j));
    const Complex<Real> z{x[i0], x[i1]};
    const Real pos(position_of_pair(spec, t, j));
    const Complex<Real> w = z * exp_i<Real>(Real(pos * f.theta[static_cast<size_t>(j)]), precision_bits);
    y[i0] = w.re * f.attention_factor;
    y[i1] = w.im * f.attention_factor;
  }
  return y;
}
template <class Real>
std::vector<Real> rotate_complex(const RopeSpec& spec, const Frequencies<Real>& f, int64_t t,
                                 const std::vector<Real>& x, int precision_bits) {
  return rotate_complex<Real>(spec, f, on_every_axis(spec, t), x, precision_bits);
}

// Plain dot product of two head vectors.
template <class Real>
Real dot(const std::vector<Real>& a, const std::vector<Real>& b) {
  Real sum(0);
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

// Closed form of <R(q,t), R(k,s)>: a² · Re Σ_j q_j conj(k_j) e^{i(t_a(j)−s_a(j))θ_j} plus the
// pass-through dot product.  Depends on the per-axis differences t − s only; each is formed
// exactly in Real.
template <class Real>
Real score_closed_form(const RopeSpec& spec, const Frequencies<Real>& f,
                       const std::vector<Real>& q, const std::vector<int64_t>& t, const std::vector<Real>& k,
                       const std::vector<int64_t>& s, int precision_bits) {
  Real sum(0);
  for (int j = 0; j < spec.pairs(); ++j) {
    const Real delta = Real(position_of_pair(spec, t, j)) - Real(position_of_pair(spec, s, j));
    const size_t i0 = static_cast<size_t>(spec.first_index(j));
    const size_t i1 = static_cast<size_t>(spec.second_index(j));
    const Complex<Real> qz{q[i0], q[i1]};
    const Complex<Real> kz{k[i0], k[i1]};
    sum += (qz * kz.conj() * exp_i<Real>(Real(delta * f.theta[static_cast<size_t>(j)]), precision_bits)).re;
  }
  sum *= f.attention_factor * f.attention_factor;
  for (int c = spec.rotary_dim; c < spec.head_dim; ++c) {
    sum += q[static_cast<size_t>(c)] * k[static_cast<size_t>(c)];
  }
  return sum;
}
template <class Real>
Real score_closed_form(const RopeSpec& spec, const Frequencies<Real>& f, const std::vector<Real>& q, int64_t t,
                       const std::vector<Real>& k, int64_t s, int precision_bits) {
  return score_closed_form<Real>(spec, f, q, on_every_axis(spec, t), k, on_every_axis(spec, s), precision_bits);
}

}  // namespace ropecheck::ref

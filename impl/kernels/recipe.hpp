// The frequency recipes of every RoPE variant, generic over the number type the kernel forms
// its frequencies in: float (the HuggingFace fp32 recipe: per-pair tensors in float32, the
// scalar parameters -- b', the YaRN correction range, the attention factor, the llama3
// wavelength thresholds -- in Python doubles, exactly as modeling_rope_utils does), double,
// or dd (double-double, for the position-exact kernels).  This is kernel code, written
// independently of reference/: a kernel computes its own frequencies, as real kernels do.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../ropecheck_kernel.h"
#include "dd.hpp"

namespace ropecheck::impl {

// P: the type of the scalar parameters.  HF computes them in Python (double) even when the
// tensors are float32.
template <class T>
using ParamT = std::conditional_t<std::is_same_v<T, float>, double, T>;

namespace recipe_detail {
inline float pow_(float b, float e) { return std::pow(b, e); }
inline double pow_(double b, double e) { return std::pow(b, e); }
inline dd pow_(dd b, dd e) { return pow(b, e); }
// b^e for one base and many exponents.  float/double: the library pow itself (HF's rounding);
// dd: log b once, then exp(e log b) -- what pow(b, e) computes, bit for bit, at half the cost.
template <class T>
struct PowOf {
  T b;
  T operator()(T e) const { return pow_(b, e); }
};
template <>
struct PowOf<dd> {
  dd log_b;
  dd operator()(dd e) const { return exp(e * log_b); }
};
inline PowOf<float> pow_of(float b) { return {b}; }
inline PowOf<double> pow_of(double b) { return {b}; }
inline PowOf<dd> pow_of(dd b) { return {log(b)}; }
inline double log_(double x) { return std::log(x); }
inline dd log_(dd x) { return log(x); }
inline double sqrt_(double x) { return std::sqrt(x); }
inline dd sqrt_(dd x) { return sqrt(x); }
inline double floor_(double x) { return std::floor(x); }
inline dd floor_(dd x) { return floor(x); }
inline double ceil_(double x) { return std::ceil(x); }
inline dd ceil_(dd x) { return ceil(x); }
template <class T, class U>
T to(U v) {
  return static_cast<T>(v);
}
template <>
inline float to<float, dd>(dd v) { return static_cast<float>(static_cast<double>(v)); }
// A length (seq_len, max_position_embeddings, L0: any int64) as a parameter of type P.  double:
// rounded, as Python's float(seq_len) does in HF.  dd: exact -- a length above 2^53 rounded to
// double first would carry a relative error up to 2^-54 into b' (dynamic), the YaRN correction
// range and the llama3 smoothing, 2^38 times the 2^-92 the double-double recipe declares.
template <class P>
P from_length(int64_t v) {
  return P(static_cast<double>(v));
}
template <>
inline dd from_length<dd>(int64_t v) { return dd(v); }
}  // namespace recipe_detail

template <class T>
struct Frequencies {
  std::vector<T> theta;  // theta'_j, j = 0 .. rotary_dim/2 - 1
  T attention{1};        // attention factor a (multiplies cos and sin)
};

inline int64_t effective_l0(const rc_spec& s) {
  return s.original_max_position_embeddings > 0 ? s.original_max_position_embeddings
                                                : s.max_position_embeddings;
}
inline int64_t effective_seq_len(const rc_spec& s) {
  return s.seq_len > 0 ? s.seq_len : s.max_position_embeddings;
}

// Checks the parts of the spec the recipes rely on.  Returns an rc_status.
int check_spec(const rc_spec& s);

// N-D RoPE: several axes (n_axes > 1) without mrope_section, the widths in axes_dims
// (RC_FEATURE_AXES_DIMS).  An older caller never sets n_axes > 1 without mrope_section, so
// axes_dims is read only then.
inline bool is_nd(const rc_spec& s) { return s.n_axes > 1 && s.mrope_section == nullptr; }

// theta_j = b'^(-2k/D): the frequency index k and the exponent's denominator D of pair j --
// (j, rotary_dim) but for N-D RoPE (rc_spec.axes_dims, checked by check_spec): pair i of axis a
// (axes_dims[a]/2 consecutive pairs, axis 0's first) has (i, axes_dims[a]) -- FLUX EmbedND and
// the Qwen2-VL ViT, a rope of its own per axis -- or, dealt (Pixtral), (n_axes*i + a, rotary_dim).
inline void frequency_exponent(const rc_spec& s, int pair, int* k, int* d) {
  *k = pair;
  *d = s.rotary_dim;
  if (!is_nd(s)) return;
  int start = 0;
  for (int a = 0; a < s.n_axes; ++a) {
    const int width = s.axes_dims[a];
    if (pair < start + width / 2) {
      const int i = pair - start;
      if (s.axes_dealt) {
        *k = s.n_axes * i + a;
      } else {
        *k = i;
        *d = width;
      }
      return;
    }
    start += width / 2;
  }
}

// Computes theta'_j and a for spec `s` in type T.  Returns RC_OK or RC_ERR_SPEC.
template <class T>
int compute_frequencies(const rc_spec& s, Frequencies<T>* out) {
  using namespace recipe_detail;
  using P = ParamT<T>;
  if (int st = check_spec(s); st != RC_OK) return st;
  const int d = s.rotary_dim;
  const int pairs = d / 2;
  const P fac = P(s.factor);

  // b': the (possibly NTK-rescaled) base, a scalar parameter.
  P base = P(s.base);
  if (s.rope_type == RC_ROPE_NTK) {
    base = base * pow_(fac, P(d) / P(d - 2));
  } else if (s.rope_type == RC_ROPE_DYNAMIC) {
    const int64_t len = effective_seq_len(s);
    if (len > s.max_position_embeddings) {
      P q = fac * from_length<P>(len) / from_length<P>(s.max_position_embeddings) - (fac - P(1.0));
      base = base * pow_(q, P(d) / P(d - 2));
    }
  }
  const T tbase = to<T>(base);
  // b' must be a finite T.  The fp32 recipe (HF's base ** arange(...).float() / dim) overflows
  // above 3.4e38 -- e.g. NTK with b = 1e30, s = 1e6, or dynamic at a long seq_len -- and then
  // every θ'_j but θ'_0 is 1/inf = 0, which no θ error bound describes: refuse the spec.
  if (!std::isfinite(static_cast<double>(tbase))) return RC_ERR_SPEC;

  std::vector<T> theta(pairs);
  std::vector<T> pos_freq(pairs);  // b'^(2j/d)
  const auto base_pow = pow_of(tbase);
  for (int j = 0; j < pairs; ++j) {
    // HF: arange(0, d, 2).float() / d -- the exponent is rounded in T before pow.  N-D RoPE: the
    // pair's own index and width (frequency_exponent; FLUX: arange(0, d_a, 2) / d_a per axis).
    int k = 0, dk = 0;
    frequency_exponent(s, j, &k, &dk);
    T e = T(static_cast<double>(2 * k)) / T(static_cast<double>(dk));
    pos_freq[j] = base_pow(e);
    theta[j] = T(1.0) / pos_freq[j];
  }
  P attention = P(1.0);
  const P l0 = from_length<P>(effective_l0(s));

  switch (s.rope_type) {
    case RC_ROPE_DEFAULT:
    case RC_ROPE_NTK:
    case RC_ROPE_DYNAMIC:
      break;
    case RC_ROPE_LINEAR:
      for (auto& th : theta) th = th / to<T>(fac);
      break;
    case RC_ROPE_YARN: {
      const P two_pi = P(kTwoPi);
      auto corr = [&](double rotations) {
        return P(static_cast<double>(d)) * log_(l0 / (P(rotations) * two_pi)) /
               (P(2.0) * log_(P(s.base)));
      };
      P lo = corr(s.beta_fast), hi = corr(s.beta_slow);
      if (s.truncate) {
        lo = floor_(lo);
        hi = ceil_(hi);
      }
      if (lo < P(0.0)) lo = P(0.0);
      if (hi > P(static_cast<double>(d - 1))) hi = P(static_cast<double>(d - 1));
      if (lo == hi) hi = hi + P(0.001);
      const T tlo = to<T>(lo), tspan = to<T>(hi - lo);
      for (int j = 0; j < pairs; ++j) {
        T ramp = (T(static_cast<double>(j)) - tlo) / tspan;
        if (ramp < T(0.0)) ramp = T(0.0);
        if (ramp > T(1.0)) ramp = T(1.0);
        const T extrap_factor = T(1.0) - ramp;
        const T extrap = T(1.0) / pos_freq[j];
        const T interp = T(1.0) / (to<T>(fac) * pos_freq[j]);
        theta[j] = interp * (T(1.0) - extrap_factor) + extrap * extrap_factor;
      }
      auto m = [](P scale, P ms) {
        return scale <= P(1.0) ? P(1.0) : P(0.1) * ms * log_(scale) + P(1.0);
      };
      if (s.has_attention_factor) {
        attention = P(s.attention_factor);
      } else if (s.mscale != 0.0 && s.mscale_all_dim != 0.0) {
        attention = m(fac, P(s.mscale)) / m(fac, P(s.mscale_all_dim));
      } else {
        attention = m(fac, P(1.0));
      }
      break;
    }
    case RC_ROPE_LLAMA3: {
      const P lf = P(s.low_freq_factor), hf = P(s.high_freq_factor);
      const T low_wavelen = to<T>(l0 / lf), high_wavelen = to<T>(l0 / hf);
      const T two_pi = to<T>(P(kTwoPi));
      for (int j = 0; j < pairs; ++j) {
        const T th = theta[j];
        const T wavelen = two_pi / th;
        const T llama = wavelen > low_wavelen ? th / to<T>(fac) : th;
        // lf == hf (Llama 4): no smooth band, and no 0/0 at wavelen == L0/lf (θ is kept there).
        const bool medium = hf > lf && !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
        if (!medium) {
          theta[j] = llama;
          continue;
        }
        const T smooth = (to<T>(l0) / wavelen - to<T>(lf)) / to<T>(hf - lf);
        theta[j] = (T(1.0) - smooth) * llama / to<T>(fac) + smooth * llama;
      }
      break;
    }
    case RC_ROPE_LONGROPE: {
      const bool use_long = effective_seq_len(s) > effective_l0(s);
      const double* ext = use_long ? s.long_factor : s.short_factor;
      for (int j = 0; j < pairs; ++j) theta[j] = T(1.0) / (to<T>(P(ext[j])) * pos_freq[j]);
      if (s.has_attention_factor) {
        attention = P(s.attention_factor);
      } else if (fac > P(1.0)) {
        attention = sqrt_(P(1.0) + log_(fac) / log_(l0));
      }
      break;
    }
    case RC_ROPE_PROPORTIONAL:
      // HF _compute_proportional_rope_parameters: 1/base**(arange(0, 2*rope_angles, 2)/head_dim)
      // (the exponent over the whole head, d = rotary_dim = head_dim), cat'ed with zeros up to
      // head_dim/2, then inv_freq /= factor.
      for (int j = 0; j < pairs; ++j) theta[j] = j < s.rope_angles ? theta[j] / to<T>(fac) : T(0.0);
      break;
    case RC_ROPE_NONE:  // no rope (NoPE layers): theta = 0 exactly, a = 1 -- the identity
      for (auto& th : theta) th = T(0.0);
      break;
    default:
      return RC_ERR_SPEC;
  }
  out->theta = std::move(theta);
  out->attention = to<T>(attention);
  return RC_OK;
}

}  // namespace ropecheck::impl

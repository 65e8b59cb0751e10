// RopeSpec itself: names of its enums, SpecError, and validation against the supported
// domain.  The readers live beside it: spec_json.cpp (ropecheck's own JSON), hf_config.cpp
// (a HuggingFace config.json), spec_reading.cpp (what both share).
//
// Every rejection names the field by the path the user wrote (e.g. "rope_scaling.factor" in
// a config.json, "scaling.factor" in a ropecheck spec) and states the rule it breaks.
#include "rope_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "spec_reading.hpp"

namespace ropecheck {

const char* to_string(Layout layout) {
  return layout == Layout::kInterleaved ? "interleaved" : "half_split";
}

const char* to_string(RopeType type) {
  switch (type) {
    case RopeType::kDefault: return "default";
    case RopeType::kLinear: return "linear";
    case RopeType::kNtk: return "ntk";
    case RopeType::kDynamic: return "dynamic";
    case RopeType::kYarn: return "yarn";
    case RopeType::kLlama3: return "llama3";
    case RopeType::kLongrope: return "longrope";
    case RopeType::kProportional: return "proportional";
    case RopeType::kNone: return "none";
  }
  return "?";
}

SpecError::SpecError(std::string field, std::string rule)
    : std::runtime_error(field + ": " + rule), field_(std::move(field)), rule_(std::move(rule)) {}

int RopeSpec::axis_of_pair(int pair) const {
  const int n = n_axes();
  if (n == 1) return 0;
  if (!axes_dims.empty()) {  // N-D: consecutive blocks of axes_dims[a]/2 pairs
    int end = 0;
    for (int a = 0; a < n; ++a) {
      end += axes_dims[static_cast<size_t>(a)] / 2;
      if (pair < end) return a;
    }
    return n - 1;
  }
  if (mrope_interleaved) {
    for (int a = 1; a < n; ++a) {
      if (pair % n == a && pair < n * mrope_section[static_cast<size_t>(a)]) return a;
    }
    return 0;
  }
  int end = 0;
  for (int a = 0; a < n; ++a) {
    end += mrope_section[static_cast<size_t>(a)];
    if (pair < end) return a;
  }
  return n - 1;  // not reached for a valid spec (the sections sum to the pairs)
}

void RopeSpec::frequency_exponent(int pair, int* k, int* d) const {
  *k = pair;
  *d = rotary_dim;
  if (axes_dims.empty()) return;
  int start = 0;
  const int n = n_axes();
  for (int a = 0; a < n; ++a) {
    const int width = axes_dims[static_cast<size_t>(a)];
    if (pair < start + width / 2 || a == n - 1) {
      const int i = pair - start;
      if (axes_dealt) {
        *k = n * i + a;  // Pixtral: freqs[a::n] of the whole rotary_dim
      } else {
        *k = i;          // FLUX / Qwen2-VL ViT: a rope of dim d_a per axis
        *d = width;
      }
      return;
    }
    start += width / 2;
  }
}

namespace detail {

const FieldNames& own_names() {
  static const FieldNames names = {
      {"head_dim", "head_dim"},
      {"rotary_dim", "rotary_dim"},
      {"base", "base"},
      {"factor", "scaling.factor"},
      {"max_position_embeddings", "max_position_embeddings"},
      {"original_max_position_embeddings", "scaling.original_max_position_embeddings"},
      {"seq_len", "seq_len"},
      {"beta_fast", "scaling.beta_fast"},
      {"beta_slow", "scaling.beta_slow"},
      {"mscale", "scaling.mscale"},
      {"mscale_all_dim", "scaling.mscale_all_dim"},
      {"attention_factor", "scaling.attention_factor"},
      {"low_freq_factor", "scaling.low_freq_factor"},
      {"high_freq_factor", "scaling.high_freq_factor"},
      {"short_factor", "scaling.short_factor"},
      {"long_factor", "scaling.long_factor"},
      {"mrope_section", "mrope_section"},
      {"axes_dims", "axes_dims"},
      {"rope_angles", "scaling.rope_angles"},
  };
  return names;
}

// The shortest decimal that reads back as v (1e-299, not 9.9999999999999999e-300).
std::string fmt(double v) {
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << v;
    if (digits == 17 || std::strtod(os.str().c_str(), nullptr) == v || std::isnan(v)) return os.str();
  }
  return "";
}

void validate_with(const RopeSpec& s, const FieldNames& names) {
  auto fail = [&](const char* key, const std::string& rule) {
    auto it = names.find(key);
    throw SpecError(it != names.end() ? it->second : key, rule);
  };
  auto finite = [&](const char* key, double v) {
    if (!std::isfinite(v)) fail(key, "must be a finite number, got " + fmt(v));
  };
  auto positive = [&](const char* key, double v) {
    finite(key, v);
    if (!(v > 0)) fail(key, "must be > 0, got " + fmt(v));
  };
  // The supported domain (rope_spec.hpp, namespace domain): `range` is its text for messages.
  auto within = [&](const char* key, double v, double lo, double hi, const char* range) {
    finite(key, v);
    if (!(v >= lo && v <= hi)) {
      fail(key, std::string("must be in ") + range + " (ropecheck's supported domain), got " + fmt(v));
    }
  };
  auto scale = [&](const char* key, double v) {
    positive(key, v);
    within(key, v, domain::kMinScale, domain::kMaxScale, "[1e-12, 1e6]");
  };

  constexpr int kMaxHeadDim = 1 << 16;
  if (s.head_dim <= 0 || s.head_dim > kMaxHeadDim) {
    fail("head_dim", "must be in [1, 65536], got " + std::to_string(s.head_dim));
  }
  if (s.rotary_dim < 2) fail("rotary_dim", "must be >= 2, got " + std::to_string(s.rotary_dim));
  if (s.rotary_dim % 2 != 0) {
    fail("rotary_dim", "must be even (components are rotated in pairs), got " +
                           std::to_string(s.rotary_dim));
  }
  if (s.rotary_dim > s.head_dim) {
    fail("rotary_dim", "must be <= head_dim = " + std::to_string(s.head_dim) + ", got " +
                           std::to_string(s.rotary_dim));
  }
  finite("base", s.base);
  if (!(s.base > 1)) fail("base", "must be > 1, got " + fmt(s.base));
  within("base", s.base, 1, domain::kMaxBase, "(1, 1e30]");
  if (s.max_position_embeddings < 0) fail("max_position_embeddings", "must be >= 0");
  if (s.original_max_position_embeddings < 0) {
    fail("original_max_position_embeddings", "must be >= 0");
  }
  if (s.seq_len < 0) fail("seq_len", "must be >= 0");
  if (s.type != RopeType::kProportional && s.rope_angles != 0) {
    fail("rope_angles", std::string("is used by proportional scaling only (this spec is ") + to_string(s.type) +
                            "), got " + std::to_string(s.rope_angles));
  }

  // Scaling-specific rules.  Fields that a type does not use are still checked for NaN/Inf:
  // a NaN anywhere in a spec is a bug in whatever wrote it.
  finite("factor", s.factor);
  finite("beta_fast", s.beta_fast);
  finite("beta_slow", s.beta_slow);
  finite("mscale", s.mscale);
  finite("mscale_all_dim", s.mscale_all_dim);
  finite("low_freq_factor", s.low_freq_factor);
  finite("high_freq_factor", s.high_freq_factor);
  if (s.attention_factor) {
    positive("attention_factor", *s.attention_factor);
    within("attention_factor", *s.attention_factor, domain::kMinAttention, domain::kMaxAttention,
           "[1/16, 16]");
  }
  for (const auto* list : {&s.short_factor, &s.long_factor}) {
    const char* key = list == &s.short_factor ? "short_factor" : "long_factor";
    for (size_t i = 0; i < list->size(); ++i) {
      const double v = (*list)[i];
      if (!std::isfinite(v) || !(v > 0)) {
        fail(key, "entry " + std::to_string(i) + " must be a finite number > 0, got " + fmt(v));
      }
      if (!(v >= domain::kMinScale && v <= domain::kMaxScale)) {
        fail(key, "entry " + std::to_string(i) +
                      " must be in [1e-12, 1e6] (ropecheck's supported domain), got " + fmt(v));
      }
    }
  }

  // The supported domain.  Every θ'_j is b'^(-e), e = 2j/d in [0, (d-2)/d], divided by at most
  // one of s, ext_j (both in [1e-12, 1e6]) or mixed between θ_j and θ_j/s, where b' is
  //   default, linear, yarn, llama3, longrope: b' = b in (1, 1e30];
  //   ntk:      b' = b s^(d/(d-2)), d >= 4 so the exponent is in (1, 2]: b' in [1e-24, 1e42],
  //             and b'^(-e) <= s^(-e d/(d-2)) <= 1/s for s < 1;
  //   dynamic:  b' = b q^(d/(d-2)), q = s L/Lmax - (s - 1) in [1, s L] (s >= 1, Lmax >= 1,
  //             L <= 2^63 - 1): q < 9.3e24, b' < 8.6e79.
  // So |ln b'| < 185 and θ'_j in [1/8.6e79, 1e12]: finite and normal, and |t θ'_j| < 2^103 at
  // every int64 t (the exact reference then works at <= 320 bits).  YaRN's correction dims
  // d ln(L0/(2π β)) / (2 ln b) have L0/(2π β) in [1.6e-101, 1.5e118]: finite, and so are the
  // dims (|ln| < 272, ln b >= 2^-52).  The attention factor
  // is the given one, in [1/16, 16], or m(s, μ)/m(s, μ') with m = 0.1 μ ln s + 1 in [1, 14.9]
  // (μ in [0, 10]), or longrope's sqrt(1 + ln s / ln L0) < 4.6: never 0, negative or infinite,
  // and at most 16, which the case generators' inputs (at most 1/64 of the dtype's largest
  // value, properties/generators.hpp) need for the exact rotated pair (<= 2 a |x|max) to be
  // representable -- beyond it an exact result overflows and no kernel could pass.
  // The error model's terms are products of these with unit roundoffs: finite too
  // (impl/tests/domain_test.cpp sweeps the corners and random specs for every contract).

  if (!s.mrope_section.empty()) {
    // Rules of HF's M-RoPE (rope_spec.hpp): 2 to 8 axes (HF: 3; 2-D and N-D RoPE have more or
    // fewer), each with at least one pair, the pairs of every axis within rotary_dim/2.
    const int n = s.n_axes();
    if (n < 2 || n > 8) fail("mrope_section", "must list 2 to 8 axes (pairs per axis), got " + std::to_string(n));
    int sum = 0;
    for (int a = 0; a < n; ++a) {
      const int sec = s.mrope_section[static_cast<size_t>(a)];
      if (sec < 1) {
        fail("mrope_section", "axis " + std::to_string(a) + " must have at least one pair, got " + std::to_string(sec));
      }
      sum += std::min(sec, 1 << 20);
    }
    if (sum != s.pairs()) {
      fail("mrope_section", "must sum to rotary_dim/2 = " + std::to_string(s.pairs()) + " pairs, got " + std::to_string(sum));
    }
    if (s.mrope_interleaved) {
      for (int a = 1; a < n; ++a) {
        const int sec = s.mrope_section[static_cast<size_t>(a)];
        // Axis a takes pairs a, a + n, ..., a + n·(sec − 1): the last must exist.
        if (a + n * (sec - 1) >= s.pairs()) {
          fail("mrope_section", "interleaved: axis " + std::to_string(a) + " needs pair " + std::to_string(a + n * (sec - 1)) +
                                    " (pairs " + std::to_string(a) + ", " + std::to_string(a + n) + ", ... every " +
                                    std::to_string(n) + "th), beyond rotary_dim/2 = " + std::to_string(s.pairs()));
        }
      }
    }
  }
  if (!s.axes_dims.empty()) {
    // N-D RoPE (rope_spec.hpp): 2 to 8 axes, each an even width >= 2, summing to rotary_dim; the
    // default frequencies only (FLUX, the Qwen2-VL ViT and Pixtral scale none); dealt needs
    // equal widths (the 1-D frequencies dealt in turn).
    const int n = static_cast<int>(s.axes_dims.size());
    if (!s.mrope_section.empty()) fail("axes_dims", "cannot be combined with mrope_section (one multi-axis rule per spec)");
    if (n < 2 || n > 8) fail("axes_dims", "must list 2 to 8 axes (components per axis), got " + std::to_string(n));
    int64_t sum = 0;
    for (int a = 0; a < n; ++a) {
      const int w = s.axes_dims[static_cast<size_t>(a)];
      if (w < 2 || w % 2 != 0) fail("axes_dims", "axis " + std::to_string(a) + " must have an even width >= 2, got " + std::to_string(w));
      sum += w;
    }
    if (sum != s.rotary_dim) fail("axes_dims", "must sum to rotary_dim = " + std::to_string(s.rotary_dim) + ", got " + std::to_string(sum));
    if (s.type != RopeType::kDefault) {
      fail("axes_dims", std::string("N-D RoPE takes the default frequencies only, got scaling ") + to_string(s.type));
    }
    if (s.axes_dealt) {
      for (int a = 1; a < n; ++a) {
        if (s.axes_dims[static_cast<size_t>(a)] != s.axes_dims[0]) {
          fail("axes_dims", "dealt frequencies (Pixtral) need every axis the same width");
        }
      }
    }
  } else if (s.axes_dealt) {
    fail("axes_dims", "axes_frequencies \"dealt\" needs axes_dims");
  }
  switch (s.type) {
    case RopeType::kDefault:
      break;
    case RopeType::kLinear:
      scale("factor", s.factor);
      break;
    case RopeType::kNtk:
    case RopeType::kDynamic:
      scale("factor", s.factor);
      // b' = b·(...)^(d/(d−2)) is undefined for d = 2.
      if (s.rotary_dim < 4) {
        fail("rotary_dim", std::string("must be >= 4 for ") + to_string(s.type) +
                               " scaling (exponent d/(d-2)), got " + std::to_string(s.rotary_dim));
      }
      if (s.type == RopeType::kDynamic) {
        if (s.max_position_embeddings <= 0) {
          fail("max_position_embeddings", "must be > 0 for dynamic scaling");
        }
        if (s.factor < 1) fail("factor", "must be >= 1 for dynamic scaling, got " + fmt(s.factor));
      }
      break;
    case RopeType::kYarn:
      scale("factor", s.factor);
      positive("beta_fast", s.beta_fast);
      within("beta_fast", s.beta_fast, domain::kMinBeta, domain::kMaxBeta, "[1e-100, 1e100]");
      positive("beta_slow", s.beta_slow);
      within("beta_slow", s.beta_slow, domain::kMinBeta, domain::kMaxBeta, "[1e-100, 1e100]");
      // HF treats 0 as absent; a negative μ can make m(s, μ) zero or negative.
      within("mscale", s.mscale, 0, domain::kMaxMscale, "[0, 10] (0 = absent)");
      within("mscale_all_dim", s.mscale_all_dim, 0, domain::kMaxMscale, "[0, 10] (0 = absent)");
      if (s.effective_original_max() <= 0) {
        fail("original_max_position_embeddings",
             "must be > 0 for yarn (or give max_position_embeddings)");
      }
      break;
    case RopeType::kLlama3:
      scale("factor", s.factor);
      scale("low_freq_factor", s.low_freq_factor);
      scale("high_freq_factor", s.high_freq_factor);
      // Equal factors are what Llama 4 ships (HF's _validate_llama3_parameters only warns):
      // the smooth band is then empty.  Below, the bands would overlap.
      if (!(s.high_freq_factor >= s.low_freq_factor)) {
        fail("high_freq_factor", "must be >= low_freq_factor = " + fmt(s.low_freq_factor) +
                                     ", got " + fmt(s.high_freq_factor));
      }
      if (s.effective_original_max() <= 0) {
        fail("original_max_position_embeddings", "must be > 0 for llama3");
      }
      break;
    case RopeType::kLongrope: {
      scale("factor", s.factor);  // max_position_embeddings / L0 when not given
      if (s.effective_original_max() <= 1) {
        fail("original_max_position_embeddings", "must be > 1 for longrope");
      }
      const size_t want = static_cast<size_t>(s.pairs());
      for (const auto* list : {&s.short_factor, &s.long_factor}) {
        const char* key = list == &s.short_factor ? "short_factor" : "long_factor";
        if (list->empty()) fail(key, "is required for longrope (rotary_dim/2 numbers)");
        if (list->size() != want) {
          fail(key, "must have rotary_dim/2 = " + std::to_string(want) + " entries, got " +
                        std::to_string(list->size()));
        }
      }
      break;
    }
    case RopeType::kProportional:
      // θ_j = b^(-2j/d)/s for j < rope_angles, else 0: within the linear domain above.
      scale("factor", s.factor);
      if (s.rotary_dim != s.head_dim) {
        fail("rotary_dim", "must equal head_dim = " + std::to_string(s.head_dim) +
                               " for proportional scaling (it pairs (i, i + head_dim/2) over the whole head and "
                               "zeroes the frequencies of pairs >= rope_angles; the rotated share is rope_angles), got " +
                               std::to_string(s.rotary_dim));
      }
      if (s.rope_angles < 1 || s.rope_angles > s.pairs()) {
        fail("rope_angles", "must be in [1, rotary_dim/2 = " + std::to_string(s.pairs()) +
                                "] for proportional scaling (pairs with a non-zero frequency), got " +
                                std::to_string(s.rope_angles));
      }
      break;
    case RopeType::kNone:
      // No rope (NoPE layers): θ' = 0 for every pair, a = 1.  The scaling fields are unused, as for
      // default (checked for NaN above only); positions per axis would be read by nothing.
      if (!s.mrope_section.empty()) {
        fail("mrope_section", "has no meaning for rope type none (no pair turns, so no axis is read)");
      }
      break;
  }
}

}  // namespace detail

void validate(const RopeSpec& spec) { detail::validate_with(spec, detail::own_names()); }

}  // namespace ropecheck

// RopeSpec: everything that determines the RoPE frequencies and the pair layout of one
// attention head.  Read from ropecheck's own JSON or from a HuggingFace config.json, and
// validated once, here, so that every consumer (the exact reference, the kernels through the
// C ABI, the CLI) can rely on its invariants.  Field meanings follow HuggingFace
// `modeling_rope_utils`; see shared/design.md for the formulas.
//
// Declared here, defined beside it: the readers (spec_json.cpp, hf_config.cpp), which read
// files through input_file.hpp and JSON through json_document.hpp; positions.cpp and
// head_vector.cpp.  The specs ropecheck ships are in builtin_specs.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ropecheck {

// Pair layout: which two components of a head are rotated together.
enum class Layout {
  kHalfSplit,    // GPT-NeoX / HF rotate_half: pair i = (i, i + rotary_dim/2)
  kInterleaved,  // GPT-J: pair i = (2i, 2i + 1)
};

// Values equal the C ABI's rc_rope_type (impl/ropecheck_kernel.h); append only.
// kNone: no rope (NoPE layers, e.g. Llama 4's no_rope_layers): θ'_j = 0 for every pair, a = 1 -- the
// identity; every other field is the model's and unused.
enum class RopeType { kDefault, kLinear, kNtk, kDynamic, kYarn, kLlama3, kLongrope, kProportional, kNone };

const char* to_string(Layout layout);
const char* to_string(RopeType type);

struct RopeSpec {
  std::string name;  // free-form label, e.g. the model name; not used in the math

  int head_dim = 0;    // components per head
  int rotary_dim = 0;  // leading components that are rotated (even, <= head_dim)
  double base = 10000.0;  // rope_theta
  Layout layout = Layout::kHalfSplit;
  RopeType type = RopeType::kDefault;

  double factor = 1.0;  // scaling factor s (linear, ntk, dynamic, yarn, llama3, longrope)
  // L_max: the model's max_position_embeddings (dynamic NTK threshold, longrope default s).
  int64_t max_position_embeddings = 0;
  // L0: the pre-training context (yarn, llama3, longrope).  0 = use max_position_embeddings.
  int64_t original_max_position_embeddings = 0;
  // Current sequence length L for the length-dependent variants (dynamic, longrope).
  // 0 = max_position_embeddings.
  int64_t seq_len = 0;

  // YaRN.
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 0.0;          // 0 = absent: HF then ignores mscale_all_dim too
  double mscale_all_dim = 0.0;  // 0 = absent (HF treats it as falsy)
  std::optional<double> attention_factor;  // yarn and longrope: given attention factor
  bool truncate = true;                    // yarn: floor/ceil the correction range

  // llama3.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;

  // longrope: one rescale factor per pair (rotary_dim / 2 each).
  std::vector<double> short_factor;
  std::vector<double> long_factor;

  // Multi-axis RoPE (M-RoPE): every token has one position per axis (t, h, w for Qwen-VL; a
  // text token has the same on every axis), and pair j is rotated by the position of axis
  // axis_of_pair(j), with the frequency θ'_j of the 1-D rule (scaling and partial rotary as
  // for one axis).  mrope_section[a] is the number of pairs of axis a (summing to rotary_dim/2).
  //  - chunked (HF qwen2_vl apply_multimodal_rotary_pos_emb: cos/sin split by mrope_section
  //    over the frequency index, chunk i taken from axis i % 3): pairs [0, s0) are axis 0,
  //    [s0, s0 + s1) axis 1, ...;
  //  - interleaved (HF qwen3_vl Qwen3VLTextRotaryEmbedding.apply_interleaved_mrope: for axis
  //    a >= 1, freqs[..., a : 3·s_a : 3] come from axis a, every other index from axis 0): pair
  //    j is axis a >= 1 when j % n == a and j < n·s_a, else axis 0 (n = the number of axes; HF
  //    writes 3).
  // Empty: one axis (every 1-D variant).
  std::vector<int> mrope_section;
  bool mrope_interleaved = false;

  // N-D RoPE (vision towers, diffusion transformers): every axis a rope of its own over a block of
  // axes_dims[a] components (axes_dims[a]/2 consecutive pairs, axis 0's first), summing to
  // rotary_dim; positions per axis as for M-RoPE.  Frequencies (default type only):
  //  - per axis (axes_dealt false): θ_{a,i} = b^(-2i/d_a) for the i-th pair of axis a -- FLUX
  //    (black-forest-labs flux `EmbedND`: `rope(ids[..., a], axes_dim[a], theta)` concatenated,
  //    pairs (2i, 2i+1); diffusers FluxPosEmbed, axes_dims_rope [16, 56, 56], θ 1e4), and the
  //    Qwen2-VL ViT (HF qwen2_vl VisionRotaryEmbedding(head_dim/2): [h freqs | w freqs], then
  //    cat(freqs, freqs) for rotate_half: axes_dims [head_dim/2, head_dim/2], half-split);
  //  - dealt (axes_dealt true): the 1-D frequencies of the whole rotary_dim dealt to the axes in
  //    turn, θ_{a,i} = b^(-2(n·i + a)/rotary_dim) -- Pixtral (HF PixtralRotaryEmbedding:
  //    freqs_h = outer(h, freqs[::2]), freqs_w = outer(w, freqs[1::2]), [h | w], rotate_half);
  //    every axis the same width.
  // Empty: no N-D rope.  Exclusive with mrope_section.
  std::vector<int> axes_dims;
  bool axes_dealt = false;

  // proportional (Gemma 4's global layers; HF `_compute_proportional_rope_parameters`, Google's
  // gemma `apply_rope(rope_proportion=)`): pairs j < rope_angles rotate at θ_j = b^(-2j/d)/s,
  // the other rotary_dim/2 - rope_angles pairs at θ = 0 (the identity).  d = rotary_dim, which
  // must equal head_dim: the pairing and the exponent run over the whole head, not over the
  // 2·rope_angles components that actually turn.  HF: rope_angles = int(partial_rotary_factor
  // * head_dim // 2).  0 for every other type.
  // Why rotary_dim = head_dim and not 2·rope_angles: every consumer's pair layout (first_index,
  // second_index, the cos/sin cache widths, pass-through, the kernels through rc_spec) then
  // holds unchanged -- HF's cos/sin for this type are head_dim wide with cos 1, sin 0 on the
  // padded pairs -- and only the frequencies know the type.  A zero-frequency pair is not a
  // pass-through dim: a kernel computes x·cos 0 − y·sin 0 there, exact in IEEE arithmetic, and
  // is judged by the same bound (its angle term is 0).
  int rope_angles = 0;

  int pairs() const { return rotary_dim / 2; }
  int n_axes() const {
    return !mrope_section.empty() ? static_cast<int>(mrope_section.size())
                                  : axes_dims.empty() ? 1 : static_cast<int>(axes_dims.size());
  }
  int axis_of_pair(int pair) const;
  // Whether the variant defines negative positions: N-D RoPE, whose image and video axes may be
  // centred on 0 (rows -h/2 .. h/2 - 1, as the centred diffusion ropes of issue 17 use);
  // R(x, -t) = R^-1(x, t) there.  1-D and M-RoPE positions count tokens from 0.
  bool negative_positions() const { return !axes_dims.empty(); }
  // θ_j = b'^(-2k/D): the frequency index k and exponent denominator D of pair j -- (j, rotary_dim)
  // but for N-D RoPE (axes_dims).
  void frequency_exponent(int pair, int* k, int* d) const;
  // Index of the two components of pair i within a head.
  int first_index(int pair) const { return layout == Layout::kInterleaved ? 2 * pair : pair; }
  int second_index(int pair) const {
    return layout == Layout::kInterleaved ? 2 * pair + 1 : pair + rotary_dim / 2;
  }
  // L0 with its default applied.
  int64_t effective_original_max() const {
    return original_max_position_embeddings > 0 ? original_max_position_embeddings
                                                : max_position_embeddings;
  }
  int64_t effective_seq_len() const { return seq_len > 0 ? seq_len : max_position_embeddings; }
};

// A spec or input that breaks a rule.  `field` is the JSON path of the offending value
// (e.g. "rope_scaling.factor"), `rule` says what it must satisfy.  The CLI maps this to
// exit code 2.
class SpecError : public std::runtime_error {
 public:
  SpecError(std::string field, std::string rule);
  const std::string& field() const { return field_; }
  const std::string& rule() const { return rule_; }

 private:
  std::string field_;
  std::string rule_;
};

// The supported parameter domain (README.md, "Spec files").  Generous around what real
// models use -- factor ~1/64 .. 1e3, rope_theta 1e4 .. 1e9, betas 0.5 .. 64, mscale <= 1,
// attention factors near 1 -- and narrow enough that every quantity of the exact reference and
// of the error model is a finite, normal binary64 at every int64 position: θ'_j in
// [1e-80, 1e12] (so |t·θ'_j| < 2^103), |ln b'| < 185, the YaRN correction dims finite, the
// attention factor in [1/16, 16] (derivation at validate_with, rope_spec.cpp).  validate
// rejects a value outside it naming the field and the range (exit code 2).
namespace domain {
inline constexpr double kMaxBase = 1e30;       // base (rope_theta) in (1, kMaxBase]
// factor, longrope factors and llama3's low/high_freq_factor in [kMinScale, kMaxScale].  Down
// to 1e-12, not 1e-6: then θ' reaches 1e12 and t·θ' passes 2^96 below 2^63, where the fast
// oracle hands over to the exact reference -- a path valid specs must be able to reach.
inline constexpr double kMinScale = 1e-12;
inline constexpr double kMaxScale = 1e6;
// yarn beta_fast, beta_slow in [kMinBeta, kMaxBeta]: a correction dim k in [0, d - 1] needs
// beta = L0/(2 pi) b^(-2k/d), down to 1.6e-61 at b = 1e30, k = d - 1 (the bound tightness
// test puts the dims exactly there).
inline constexpr double kMinBeta = 1e-100;
inline constexpr double kMaxBeta = 1e100;
inline constexpr double kMaxMscale = 10;       // yarn mscale, mscale_all_dim in [0, kMaxMscale]
inline constexpr double kMinAttention = 1.0 / 16;  // a given attention_factor in
inline constexpr double kMaxAttention = 16;        //   [kMinAttention, kMaxAttention]
}  // namespace domain

// Throws SpecError naming the first field that breaks a rule.
void validate(const RopeSpec& spec);

// Parse ropecheck's own spec JSON (documented in README.md, "Spec files").
RopeSpec spec_from_json_text(const std::string& text, const std::string& origin = "spec");
// Parse a HuggingFace model config.json with one rope (ropes_from_hf_config_text below reads
// any; a config with several layer types' ropes is a SpecError here).
RopeSpec spec_from_hf_config_text(const std::string& text, const std::string& origin = "config");
// A HuggingFace config.json can hold several ropes: one per HF layer type (Gemma 3's
// sliding_attention and full_attention layers, reference/hf_config.cpp), and layers with none
// (Llama 4's no_rope_layers).
struct HfLayerRope {
  RopeSpec spec;           // named "<model>/<layer_type>" when the config has several layer types
  std::string layer_type;  // HF's layer_types name; "" when the config names none
  std::vector<int> layers; // the layers it applies to; empty when the config lists no layers
};
struct HfModelRopes {
  // At least one; one per layer type that has rope, then, when some layers have none, one spec
  // of rope type none for them (named "<model>/nope": the identity, checked as such).
  std::vector<HfLayerRope> ropes;
  std::vector<int> layers_without_rope;  // NoPE layers (the none spec's layers)
  // MLA (DeepSeek-V2/V3 qk_rope_head_dim): the spec is the rope slice; the q/k head is
  // [qk_nope_head_dim | rope slice].  0 otherwise.
  int mla_qk_nope_head_dim = 0;
  // "layers with no rope (checked as rope type none, the identity: spec M/nope): 3, 7, 11" for
  // the CLI; "" when none.
  std::string nope_note() const;
};
HfModelRopes ropes_from_hf_config_text(const std::string& text, const std::string& origin = "config");
HfModelRopes load_hf_config_ropes(const std::string& path);
// Serialize to ropecheck's own JSON (round-trips through spec_from_json_text).
std::string spec_to_json_text(const RopeSpec& spec, int indent = 2);

RopeSpec load_spec_file(const std::string& path);       // ropecheck JSON
RopeSpec load_hf_config_file(const std::string& path);  // HuggingFace config.json

// Positions are int64 and non-negative.  Accepts decimal integers and the forms 2^k, 2^k+n,
// 2^k-n (e.g. "2^63-1").  Throws SpecError("positions", ...) on anything else.
int64_t parse_position(const std::string& text);
// As parse_position, and a leading '-' for a negative position ("-1", "-2^31+1", "-2^63"):
// ABI 2 kernels may declare them (RC_FEATURE_NEGATIVE_POSITIONS, R(x, -t) = R^-1(x, t)), and a
// saved case holds what it was called with.  Every int64 reads back.
int64_t parse_signed_position(const std::string& text);
std::vector<int64_t> parse_position_list(const std::string& comma_separated);
// A token's position for a spec with n_axes axes (M-RoPE): "t:h:w" (n_axes values, each as
// parse_position, or parse_signed_position when `negative`: a spec whose positions may be
// negative, RopeSpec::negative_positions), or one value meaning that position on every axis (a
// text token).  Throws SpecError("positions", ...) on anything else.  The list form is
// comma-separated.
std::vector<int64_t> parse_axis_position(const std::string& text, int n_axes, bool negative = false);
std::vector<std::vector<int64_t>> parse_axis_position_list(const std::string& comma_separated, int n_axes,
                                                           bool negative = false);
// "t:h:w" in decimal (one value: "t"), as parse_axis_position reads it back.
std::string format_axis_position(const std::vector<int64_t>& t);
// A position for people: 2^k-2 .. 2^k+2 (k >= 8) as "2^k[+-n]" ("2^8-1", "2^31-1",
// "2^63-1"), anything else in decimal ("0", "4099", "65504"); a negative t as "-" and its
// magnitude so written ("-2^31+1", "-2^63").  parse_signed_position reads every t back,
// parse_position every t >= 0.
std::string format_position(int64_t t);

// A head vector given as JSON text (`ropecheck ref --input/--q/--k`): an array of `head_dim`
// entries, numbers meaning the binary64 they parse to, strings exact decimals.  Returns every
// entry as an exact decimal string.  Throws SpecError naming `what` (or `what[i]`) on
// anything else, a number beyond the binary64 range (1e999) included.
std::vector<std::string> parse_head_vector(const std::string& json_text, const std::string& what,
                                           int head_dim);
// The exact decimal expansion of a binary64 (so MPFR reads back the same value at any
// precision; "%.17g" round-trips in double only).
std::string exact_decimal(double v);

}  // namespace ropecheck

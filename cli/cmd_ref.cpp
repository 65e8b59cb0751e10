// `ropecheck ref`: the exact reference from the command line.
#include <cinttypes>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "exact_reference.hpp"
#include "properties/exit_codes.hpp"
#include "input_file.hpp"
#include "json_document.hpp"
#include "rope_spec.hpp"

namespace ropecheck::cli {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kRefHelp = R"(Usage:
  ropecheck ref (--spec FILE | --hf-config FILE) [--positions LIST]
                [--input JSON | --random SEED] [--digits N]
  ropecheck ref --score (--spec FILE | --hf-config FILE)
                (--q JSON --k JSON | --random SEED) --t T --s S [--digits N]

Prints, as JSON on stdout, the exact RoPE of a spec: the frequencies theta'_j, the
attention factor a, and the input rotated at each position (y = a * R(t*theta') x, pass-
through dims copied).  With --score, prints <R(q,t), R(k,s)> computed from the closed form
a^2 Re sum_j q_j conj(k_j) e^{i(t-s)theta'_j} (+ pass-through dot product).  Every value is
a decimal string with N significant digits, right to 2^-60 of the pair norm or better at
every int64 position.

Options:
  --spec FILE        ropecheck spec JSON (README.md, "Spec files").
  --hf-config FILE   a model's HuggingFace config.json (README.md, "HF configs"): its
                     text model's rope, one per layer type ("layer_types": [...] when it
                     has several, e.g. Gemma 3), "layers_without_rope" (Llama 4), "mla"
                     (DeepSeek: the spec is the qk_rope_head_dim slice), and for yarn with
                     mscale_all_dim the softmax scale factor m(s, mscale_all_dim)^2.
  --positions LIST   comma-separated positions, each a non-negative integer or 2^k[+-n]
                     (default: 0).  Example: --positions 0,1,4096,2^31-1,2^63-1
                     A multi-axis spec (mrope_section: M-RoPE; axes_dims: N-D) takes t:h:w
                     per token, one value per axis, or one value meaning it on every axis (a
                     text token); the output then lists the axis of every pair.  N-D specs
                     also take negative (centred) positions.  Example: 7:3:5,12 or -3:5

  --input JSON       the head vector: a JSON array of head_dim values, inline or @FILE.
                     Numbers are taken as the binary64 they parse to; strings are exact
                     decimals, e.g. ["0.1", "-2", ...].  Example: --input '[1,0,0,1]'
  --random SEED      use a deterministic pseudo-random vector (uniform in [-2, 2]) from
                     SEED, an integer in [0, 2^64-1], instead of --input; printed in the
                     output as JSON numbers, which --input reads back as the same binary64.
  --digits N         significant digits per value (default 40, 30 to 45: the reference is
                     right to about 2^-150 of the pair norm, i.e. ~45 digits).
  --score            print the attention score instead of rotated vectors.
  --q JSON, --k JSON query and key vectors for --score (same forms as --input).
  --t T, --s S       query and key positions for --score (same forms as --positions,
                     t:h:w for a multi-axis spec).
  --help             this text.

Examples:
  ropecheck ref --hf-config llama31.json --positions 0,2^31-1 --random 1
  ropecheck ref --spec spec.json --input '[1, 0, 0.5, "0.1"]' --positions 8192
  ropecheck ref --spec spec.json --score --random 3 --t 15 --s 18

Exit codes: 0 ok; 2 bad usage, bad spec (the message names the field) or bad input.
)";

// A vector argument (--input/--q/--k, inline JSON or @FILE): its exact decimal strings for
// the reference (rope_spec.hpp: parse_head_vector) and the JSON as given, for the output.
struct VectorArg {
  std::vector<std::string> decimals;
  nlohmann::json given;
};

VectorArg parse_vector(const std::string& value, const std::string& option, int head_dim) {
  const std::string text =
      !value.empty() && value[0] == '@' ? read_input_file(value.substr(1), option + " file") : value;
  std::vector<std::string> decimals = parse_head_vector(text, option, head_dim);
  return {std::move(decimals), parse_json_document(text, option, option)};  // read, so well-formed
}

// Deterministic across platforms: mt19937_64 is fully specified; the mapping to [-2, 2] is
// ours (std::uniform_real_distribution is implementation-defined).
std::vector<double> random_vector(std::mt19937_64& gen, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = static_cast<double>(gen() >> 11) * 0x1p-53 * 4.0 - 2.0;
  return v;
}

int parse_digits(const std::string& text) {
  try {
    return parse_int(text, "--digits", 30, 45);
  } catch (const UsageError& e) {
    throw UsageError(std::string(e.what()) + " (the reference is right to ~2^-150 of the pair norm, about 45 digits)");
  }
}

// JSON numbers (printed to round trip), so feeding the printed vector back through --input
// gives the same binary64 values; a 17-digit *string* would be read as an exact decimal.
json doubles_as_json(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(x);
  return a;
}

}  // namespace

int run_ref(const Args& argv) {
  const ParsedArgs args(argv,
                        {"--spec", "--hf-config", "--positions", "--input", "--random",
                         "--digits", "--q", "--k", "--t", "--s"},
                        {"--help", "--score"});
  if (args.flag("--help")) {
    std::fputs(kRefHelp, stdout);
    return kExitOk;
  }
  if (!args.positional().empty()) {
    throw UsageError("unexpected argument '" + args.positional().front() + "'");
  }
  if (args.has("--spec") == args.has("--hf-config")) {
    throw UsageError("give exactly one of --spec FILE or --hf-config FILE");
  }
  // Numeric options through args.hpp's one parser (digits only: " 7" and "+7" were seeds),
  // before any file is read.
  // The reference prints `d` digits after the leading one (scientific): N significant is N - 1.
  const int digits = (args.has("--digits") ? parse_digits(args.get("--digits")) : 40) - 1;
  const bool random = args.has("--random");
  const uint64_t seed = random ? parse_unsigned("--random", args.get("--random"), 0, UINT64_MAX) : 0;
  // One output object per rope: the spec as understood, theta', a, and the vector(s) it rotates.
  const auto one_rope = [&](const RopeSpec& spec) {
    const ref::ExactReference ref(spec);
    json out;
    out["spec"] = json::parse(spec_to_json_text(spec));
    out["theta"] = ref.theta_decimal(digits);
    out["attention_factor"] = ref.attention_factor_decimal(digits);
    const std::string softmax = ref.softmax_scale_decimal(digits);
    if (!softmax.empty()) out["softmax_scale_factor"] = softmax;
    if (spec.n_axes() > 1) {
      json axes = json::array();
      for (int j = 0; j < spec.pairs(); ++j) axes.push_back(spec.axis_of_pair(j));
      out["axis_of_pair"] = axes;
    }

    std::mt19937_64 gen(seed);  // per rope: every layer type gets the same random vector
    if (random) out["random_seed"] = args.get("--random");
    if (args.flag("--score")) {
      if (args.has("--positions") || args.has("--input")) {
        throw UsageError("--score takes --t/--s and --q/--k (or --random), not --positions/--input");
      }
      if (!args.has("--t") || !args.has("--s")) throw UsageError("--score needs --t T and --s S");
      if (random == (args.has("--q") || args.has("--k"))) {
        throw UsageError("--score needs either --q JSON and --k JSON, or --random SEED");
      }
      std::vector<std::string> q, k;
      if (random) {
        const auto qd = random_vector(gen, spec.head_dim);
        const auto kd = random_vector(gen, spec.head_dim);
        for (double x : qd) q.push_back(exact_decimal(x));
        for (double x : kd) k.push_back(exact_decimal(x));
        out["q"] = doubles_as_json(qd);
        out["k"] = doubles_as_json(kd);
      } else {
        if (!args.has("--q") || !args.has("--k")) throw UsageError("--score needs both --q and --k");
        VectorArg qa = parse_vector(args.get("--q"), "--q", spec.head_dim);
        VectorArg ka = parse_vector(args.get("--k"), "--k", spec.head_dim);
        q = std::move(qa.decimals);
        k = std::move(ka.decimals);
        out["q"] = qa.given;
        out["k"] = ka.given;
      }
      const std::vector<int64_t> t = parse_axis_position(args.get("--t"), spec.n_axes(), spec.negative_positions());
      const std::vector<int64_t> s = parse_axis_position(args.get("--s"), spec.n_axes(), spec.negative_positions());
      out["t"] = format_axis_position(t);
      out["s"] = format_axis_position(s);
      out["score"] = ref.score_decimal(q, t, k, s, digits);
    } else {
      if (args.has("--q") || args.has("--k") || args.has("--t") || args.has("--s")) {
        throw UsageError("--q/--k/--t/--s are for --score");
      }
      if (random == args.has("--input")) {
        throw UsageError("give exactly one of --input JSON or --random SEED");
      }
      std::vector<std::string> x;
      if (random) {
        const auto xd = random_vector(gen, spec.head_dim);
        for (double v : xd) x.push_back(exact_decimal(v));
        out["input"] = doubles_as_json(xd);
      } else {
        VectorArg xa = parse_vector(args.get("--input"), "--input", spec.head_dim);
        x = std::move(xa.decimals);
        out["input"] = xa.given;
      }
      json results = json::array();
      for (const std::vector<int64_t>& t : parse_axis_position_list(args.get("--positions", "0"), spec.n_axes(), spec.negative_positions())) {
        results.push_back({{"position", format_axis_position(t)}, {"output", ref.rotate_decimal(t, x, digits)}});
      }
      out["results"] = results;
    }
    return out;
  };

  json out;
  if (args.has("--spec")) {
    out = one_rope(load_spec_file(args.get("--spec")));
  } else {
    // A config with one rope prints as a spec does; one with several layer types' ropes
    // (Gemma 3) prints each under "layer_types"; layers without rope (Llama 4) are listed.
    const HfModelRopes model = load_hf_config_ropes(args.get("--hf-config"));
    const auto layer_info = [](json& o, const HfLayerRope& r) {
      if (!r.layer_type.empty()) o["layer_type"] = r.layer_type;
      if (!r.layers.empty()) o["layers"] = r.layers;
    };
    if (model.ropes.size() == 1) {
      out = one_rope(model.ropes.front().spec);
      layer_info(out, model.ropes.front());
    } else {
      out["layer_types"] = json::array();
      for (const HfLayerRope& r : model.ropes) {
        json o;
        layer_info(o, r);
        const json rope = one_rope(r.spec);
        for (auto it = rope.begin(); it != rope.end(); ++it) o[it.key()] = it.value();
        out["layer_types"].push_back(std::move(o));
      }
    }
    if (!model.layers_without_rope.empty()) out["layers_without_rope"] = model.layers_without_rope;
    if (model.mla_qk_nope_head_dim > 0) {
      const int rope = model.ropes.front().spec.head_dim;
      out["mla"] = {{"qk_nope_head_dim", model.mla_qk_nope_head_dim}, {"qk_rope_head_dim", rope},
                    {"qk_head_dim", model.mla_qk_nope_head_dim + rope}};
    }
  }
  std::puts(out.dump(2).c_str());
  return kExitOk;
}

}  // namespace ropecheck::cli

// Spec reading and validation: every kind of bad spec is rejected with a SpecError that
// names the field (by the name the user wrote) and the rule; real HuggingFace configs
// (reference/specs/hf, written from the models' published config.json) parse to the
// expected head geometry and scaling.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "rope_spec.hpp"

namespace ropecheck {
namespace {

std::string spec_dir() { return ROPECHECK_SOURCE_DIR "/reference/specs/"; }

// Expects `text` (ropecheck JSON, or HF config when hf) to be rejected naming `field`.
void expect_rejected(const std::string& text, const std::string& field, bool hf = false,
                     const std::string& rule_part = "") {
  try {
    if (hf) {
      spec_from_hf_config_text(text);
    } else {
      spec_from_json_text(text);
    }
    ADD_FAILURE() << "accepted: " << text;
  } catch (const SpecError& e) {
    EXPECT_EQ(e.field(), field) << e.what();
    if (!rule_part.empty()) {
      EXPECT_NE(std::string(e.what()).find(rule_part), std::string::npos) << e.what();
    }
  }
}

TEST(SpecValidation, RejectsOddOrTooLargeRotaryDim) {
  expect_rejected(R"({"head_dim": 16, "rotary_dim": 7})", "rotary_dim", false, "even");
  expect_rejected(R"({"head_dim": 16, "rotary_dim": 18})", "rotary_dim", false, "<= head_dim");
  expect_rejected(R"({"head_dim": 0})", "head_dim");
  // rotary_dim defaults to head_dim: the message names the field the spec has (it named rotary_dim).
  expect_rejected(R"({"head_dim": 15})", "head_dim", false, "even");
  // HF: head_dim 80 × 0.45 = 36 is fine, × 0.4125 = 33 is odd: the message names the factor.
  expect_rejected(R"({"head_dim": 80, "partial_rotary_factor": 0.4125})", "partial_rotary_factor", true, "even");
  expect_rejected(R"({"head_dim": 80, "partial_rotary_factor": 1.5})", "partial_rotary_factor", true);
}

TEST(SpecValidation, RejectsBaseAtMostOne) {
  expect_rejected(R"({"head_dim": 8, "base": 1})", "base", false, "> 1");
  expect_rejected(R"({"head_dim": 8, "base": -5})", "base");
  expect_rejected(R"({"head_dim": 8, "rope_theta": 0.5})", "rope_theta", true);
}

TEST(SpecValidation, RejectsFactorAtMostZero) {
  for (const char* type : {"linear", "ntk", "dynamic", "yarn", "llama3"}) {
    const std::string t = type;
    expect_rejected(R"({"head_dim": 8, "max_position_embeddings": 64, "scaling": {"type": ")" + t +
                        R"(", "factor": 0, "original_max_position_embeddings": 32}})",
                    "scaling.factor", false, "> 0");
    expect_rejected(R"({"head_dim": 8, "max_position_embeddings": 64, "rope_scaling": {"rope_type": ")" +
                        t + R"(", "factor": -2, "original_max_position_embeddings": 32,
                        "low_freq_factor": 1, "high_freq_factor": 4}})",
                    "rope_scaling.factor", true);
  }
}

TEST(SpecValidation, RejectsNanAndInfinityAnywhere) {
  expect_rejected(R"({"head_dim": 8, "base": NaN})", "base", false, "finite");
  expect_rejected(R"({"head_dim": 8, "base": Infinity})", "base", false, "finite");
  // Beyond binary64: named by where it stands, not only by the document (it used to be "spec").
  expect_rejected(R"({"head_dim": 8, "base": 1e999})", "base", false, "finite");
  expect_rejected(R"({"head_dim": 8, "scaling": {"type": "linear", "factor": -Infinity}})",
                  "scaling.factor", false, "finite");
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"type": "yarn", "factor": 2, "beta_fast": NaN}})",
                  "rope_scaling.beta_fast", true, "finite");
  expect_rejected(R"({"head_dim": 4, "max_position_embeddings": 8, "rope_scaling": {"type": "longrope",
                      "original_max_position_embeddings": 4, "short_factor": [1, NaN], "long_factor": [1, 2]}})",
                  "rope_scaling.short_factor[1]", true);
  // Also where the value is not read as a number: a bare NaN is not a name (it was taken as
  // the reader's internal marker string), and an ignored comment may not hold one either.
  expect_rejected(R"({"head_dim": 8, "name": NaN})", "name", false, "string");
  expect_rejected(R"({"head_dim": 8, "comment": Infinity})", "comment", false, "NaN or Infinity");
  expect_rejected(R"({"head_dim": 8, "comment": {"notes": [1, -Infinity]}})", "comment", false, "NaN or Infinity");
  // In an HF config the name is a label: a bare NaN there is passed over (the internal marker
  // string used to become the spec's name), falling back to model_type.
  EXPECT_EQ(spec_from_hf_config_text(R"({"head_dim": 8, "_name_or_path": NaN, "model_type": "llama"})").name, "llama");
  EXPECT_EQ(spec_from_hf_config_text(R"({"head_dim": 8, "_name_or_path": Infinity})").name, "");
  // A NaN inside a string is just text, not a number.
  EXPECT_NO_THROW(spec_from_json_text(R"({"name": "NaN Infinity", "head_dim": 8})"));
  EXPECT_NO_THROW(spec_from_json_text(R"({"comment": ["NaN", {"x": "Infinity"}], "head_dim": 8})"));
}

TEST(SpecValidation, RejectsMissingOrWrongLengthLongropeFactors) {
  const std::string head = R"({"head_dim": 8, "max_position_embeddings": 16384, "scaling": {"type": "longrope",
      "original_max_position_embeddings": 4096, )";
  expect_rejected(head + R"("long_factor": [1, 2, 3, 4]}})", "scaling.short_factor", false, "required");
  expect_rejected(head + R"("short_factor": [1, 1, 1, 1], "long_factor": [1, 2, 3]}})",
                  "scaling.long_factor", false, "4 entries");
  expect_rejected(head + R"("short_factor": [1, 1, 1, 0], "long_factor": [1, 2, 3, 4]}})",
                  "scaling.short_factor", false, "> 0");
  EXPECT_NO_THROW(spec_from_json_text(head + R"("short_factor": [1, 1, 1, 1], "long_factor": [1, 2, 3, 4]}})"));
}

// longrope's default s = L_max / L0 is one rounding of the integer quotient, as HF's Python
// int / int is.  Expected values from /usr/bin/python3: 16384 / 4096 and
// 227840475888798747 / 525916559523 (= 433225.5217357052; the three-rounding
// double(L_max) / double(L0) gives 433225.52173570526, one ulp above).
TEST(SpecValidation, LongropeDefaultFactorIsTheRoundedQuotientOfTheLengths) {
  const auto spec_with = [](const char* l_max, const char* l0) {
    return spec_from_json_text(std::string(R"({"head_dim": 8, "max_position_embeddings": )") + l_max +
                               R"(, "scaling": {"type": "longrope", "original_max_position_embeddings": )" + l0 +
                               R"(, "short_factor": [1, 1, 1, 1], "long_factor": [1, 2, 3, 4]}})");
  };
  EXPECT_EQ(spec_with("16384", "4096").factor, 4.0);
  EXPECT_EQ(spec_with("227840475888798747", "525916559523").factor, 433225.5217357052);
  EXPECT_NE(433225.5217357052, 227840475888798747.0 / 525916559523.0);  // the case is not vacuous
}

TEST(SpecValidation, RejectsUnknownRopeTypeAndUnknownFields) {
  expect_rejected(R"({"head_dim": 8, "scaling": {"type": "mrope"}})", "scaling.type", false, "unknown rope type");
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"rope_type": "su2"}})", "rope_scaling.rope_type", true);
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"type": "dynamo", "factor": 2}})", "rope_scaling.type", true);
  expect_rejected(R"({"head_dim": 8, "bsae": 10000})", "bsae", false, "unknown field");
  expect_rejected(R"({"head_dim": 8, "layout": "diagonal"})", "layout");
}

// HF's rope_scaling keys (modeling_rope_utils): a key HF defines for no type is rejected by
// name, a key HF requires for the type must be there.  Before, {"rope_type": "linear",
// "factr": 4} and a linear/dynamic/yarn block without "factor" were checked as factor 1.
TEST(SpecValidation, RejectsUnknownAndMissingRopeScalingKeysAsHfDefinesThem) {
  const auto hf = [](const std::string& scaling) {
    return R"({"head_dim": 128, "max_position_embeddings": 131072, "rope_scaling": {)" + scaling + "}}";
  };
  expect_rejected(hf(R"("rope_type": "linear", "factr": 4)"), "rope_scaling.factr", true, "unknown key");
  expect_rejected(hf(R"("type": "yarn", "factor": 4, "short_mscale": 1.2)"), "rope_scaling.short_mscale", true,
                  "Phi-3.5-MoE's own attention scale");
  expect_rejected(hf(R"("type": "yarn", "factor": 4, "shrt_mscale": 1.2)"), "rope_scaling.shrt_mscale", true,
                  "unknown key");
  for (const char* type : {"linear", "dynamic", "yarn", "ntk"}) {
    expect_rejected(hf(std::string(R"("rope_type": ")") + type + R"(")"), "rope_scaling.factor", true,
                    std::string("is required for rope_type \"") + type + "\"");
    expect_rejected(hf(std::string(R"("type": ")") + type + R"(", "factor": null)"), "rope_scaling.factor", true,
                    "is required");
    // ropecheck's own format: the same rule.
    expect_rejected(std::string(R"({"head_dim": 8, "max_position_embeddings": 64, "scaling": {"type": ")") + type +
                        R"("}})",
                    "scaling.factor", false, "is required");
  }
  const std::vector<std::pair<std::string, std::string>> llama3 = {
      {"factor", "8"}, {"original_max_position_embeddings", "8192"}, {"low_freq_factor", "1"}, {"high_freq_factor", "4"}};
  const auto llama3_without = [&](const std::string& omit) {
    std::string text = R"("rope_type": "llama3")";
    for (const auto& [k, v] : llama3) {
      if (k != omit) text += ", \"" + k + "\": " + v;
    }
    return hf(text);
  };
  EXPECT_NO_THROW(spec_from_hf_config_text(llama3_without("")));
  for (const auto& [key, value] : llama3) {
    expect_rejected(llama3_without(key), "rope_scaling." + key, true, "is required for rope_type \"llama3\"");
  }
  expect_rejected(hf(R"("rope_type": "longrope", "short_factor": [1])"), "rope_scaling.long_factor", true,
                  "is required");
  // Still accepted: "type" for "rope_type", both spellings together, HF's yarn keys, a key HF
  // defines for another type (HF warns and ignores it), and the real configs (HfConfigs.*).
  EXPECT_NO_THROW(spec_from_hf_config_text(hf(R"("type": "linear", "factor": 4)")));
  EXPECT_NO_THROW(spec_from_hf_config_text(hf(R"("type": "dynamic", "rope_type": "dynamic", "factor": 2)")));
  EXPECT_NO_THROW(spec_from_hf_config_text(hf(R"("rope_type": "yarn", "factor": 40, "beta_fast": 32, "beta_slow": 1,
      "mscale": 1, "mscale_all_dim": 1, "original_max_position_embeddings": 4096, "attention_factor": 1.1,
      "truncate": false)")));
  EXPECT_NO_THROW(spec_from_hf_config_text(hf(R"("rope_type": "linear", "factor": 4, "original_max_position_embeddings": 4096)")));
  EXPECT_NO_THROW(spec_from_hf_config_text(hf(R"("rope_type": "default")")));
  EXPECT_EQ(spec_from_hf_config_text(hf(R"("rope_type": "linear", "factor": 4)")).factor, 4.0);
}

TEST(SpecValidation, RejectsMalformedJsonAndWrongTypes) {
  expect_rejected(R"({"head_dim": 8,)", "spec", false, "malformed JSON");
  expect_rejected(R"({"head_dim": 8,)", "config", true, "malformed JSON");
  expect_rejected(R"([1, 2])", "spec", false, "object");
  expect_rejected(R"({"head_dim": "128"})", "head_dim", false, "number");
  expect_rejected(R"({"head_dim": 8.5})", "head_dim", false, "integer");
  expect_rejected(R"({"base": 10000})", "head_dim", false, "required");
  expect_rejected(R"({"hidden_size": 100, "num_attention_heads": 3})", "hidden_size", true);
}

TEST(SpecValidation, RejectsAKeyGivenTwice) {
  // nlohmann keeps the last of two equal keys: a typo'd second "base" would silently win.
  try {
    spec_from_json_text(R"({"head_dim": 8, "base": 10000, "max_position_embeddings": 64, "base": 500000})");
    ADD_FAILURE() << "a duplicate key was accepted";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("the key \"base\" is given twice"), std::string::npos) << e.what();
  }
  EXPECT_THROW(spec_from_json_text(R"({"head_dim": 8, "scaling": {"type": "linear", "factor": 2, "factor": 4}})"),
               SpecError);
  // The same key in two different objects is fine (text_config: the value must agree).
  EXPECT_NO_THROW(spec_from_hf_config_text(
      R"({"rope_theta": 10000, "text_config": {"head_dim": 8, "rope_theta": 10000, "max_position_embeddings": 64,
          "rope_scaling": {"rope_type": "linear", "factor": 2}}})"));
}

TEST(SpecValidation, RejectsScalingSpecificNonsense) {
  expect_rejected(R"({"head_dim": 2, "scaling": {"type": "ntk", "factor": 2}})", "head_dim", false, "d/(d-2)");
  expect_rejected(R"({"head_dim": 8, "rotary_dim": 2, "scaling": {"type": "ntk", "factor": 2}})", "rotary_dim",
                  false, "d/(d-2)");
  expect_rejected(R"({"head_dim": 8, "scaling": {"type": "dynamic", "factor": 2}})", "max_position_embeddings");
  expect_rejected(R"({"head_dim": 8, "scaling": {"type": "llama3", "low_freq_factor": 4, "high_freq_factor": 1}})",
                  "scaling.high_freq_factor", false, ">= low_freq_factor = 4");
  // Equal factors (Llama 4 ships 1 and 1; HF only warns) are accepted: the smooth band is empty.
  const RopeSpec llama4 = spec_from_json_text(
      R"({"head_dim": 8, "scaling": {"type": "llama3", "factor": 16, "low_freq_factor": 1, "high_freq_factor": 1}})");
  EXPECT_EQ(llama4.low_freq_factor, llama4.high_freq_factor);
  expect_rejected(R"({"head_dim": 8, "scaling": {"type": "yarn", "factor": 4}})",
                  "scaling.original_max_position_embeddings");
}

// The supported domain (rope_spec.hpp, namespace domain): just outside each limit is rejected
// naming the field and the range; the limits themselves are accepted.  Before the domain,
// a linear factor of 1e-299 hung the exact reference (t·θ beyond double) and an NTK factor of
// 1e300 made every error bound NaN (b' = inf): both passed validation.
TEST(SpecValidation, RejectsParametersOutsideTheSupportedDomain) {
  const auto spec = [](const std::string& scaling, const std::string& top = R"("base": 10000)") {
    return R"({"head_dim": 8, "max_position_embeddings": 4096, )" + top + R"(, "scaling": {)" + scaling + "}}";
  };
  const std::string scale_range = "[1e-12, 1e6] (ropecheck's supported domain)";
  // The audit's specs.
  expect_rejected(R"({"head_dim": 4, "scaling": {"type": "linear", "factor": 1e-299}})", "scaling.factor", false,
                  "must be in " + scale_range + ", got 1e-299");
  expect_rejected(R"({"head_dim": 4, "scaling": {"type": "ntk", "factor": 1e300}})", "scaling.factor", false,
                  scale_range);
  expect_rejected(spec(R"("type": "yarn", "factor": 1e-300)"), "scaling.factor", false, scale_range);
  // Every bounded field, just outside either end.
  for (const char* type : {"linear", "ntk", "yarn", "llama3"}) {
    for (const char* f : {"9.9e-13", "1.01e6"}) {
      expect_rejected(spec(std::string(R"("type": ")") + type + R"(", "factor": )" + f), "scaling.factor", false,
                      scale_range);
    }
  }
  expect_rejected(spec(R"("type": "dynamic", "factor": 1.01e6)", R"("seq_len": 8192)"), "scaling.factor", false,
                  scale_range);
  expect_rejected(spec(R"("type": "default")", R"("base": 1.01e30)"), "base", false,
                  "must be in (1, 1e30] (ropecheck's supported domain)");
  for (const char* beta : {"beta_fast", "beta_slow"}) {
    for (const char* v : {"9.9e-101", "1.01e100"}) {
      expect_rejected(spec(std::string(R"("type": "yarn", "factor": 4, ")") + beta + "\": " + v),
                      std::string("scaling.") + beta, false, "[1e-100, 1e100] (ropecheck's supported domain)");
    }
  }
  for (const char* m : {"mscale", "mscale_all_dim"}) {
    for (const char* v : {"-0.5", "10.5"}) {
      expect_rejected(spec(std::string(R"("type": "yarn", "factor": 4, ")") + m + "\": " + v),
                      std::string("scaling.") + m, false, "[0, 10]");
    }
  }
  for (const char* v : {"0.0624", "16.1"}) {
    expect_rejected(spec(std::string(R"("type": "yarn", "factor": 4, "attention_factor": )") + v),
                    "scaling.attention_factor", false, "[1/16, 16]");
  }
  expect_rejected(spec(R"("type": "llama3", "low_freq_factor": 1e-13, "high_freq_factor": 4)"),
                  "scaling.low_freq_factor", false, scale_range);
  expect_rejected(spec(R"("type": "llama3", "low_freq_factor": 1, "high_freq_factor": 2e6)"),
                  "scaling.high_freq_factor", false, scale_range);
  expect_rejected(spec(R"("type": "longrope", "original_max_position_embeddings": 1024,
                          "short_factor": [1, 1, 1, 1], "long_factor": [1, 1, 2e6, 1])"),
                  "scaling.long_factor", false, "entry 2 must be in [1e-12, 1e6]");
  // HF configs: the same rule under the user's names.
  expect_rejected(R"({"head_dim": 8, "rope_theta": 1e31})", "rope_theta", true, "(1, 1e30]");
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"rope_type": "linear", "factor": 1e-13}})",
                  "rope_scaling.factor", true, scale_range);
  // The limits themselves are inside.
  EXPECT_NO_THROW(spec_from_json_text(spec(R"("type": "ntk", "factor": 1e6)", R"("base": 1e30)")));
  EXPECT_NO_THROW(spec_from_json_text(spec(R"("type": "linear", "factor": 1e-12)")));
  EXPECT_NO_THROW(spec_from_json_text(spec(R"("type": "dynamic", "factor": 1e6)",
                                           R"("base": 1e30, "seq_len": 9223372036854775807)")));
  EXPECT_NO_THROW(spec_from_json_text(spec(R"("type": "yarn", "factor": 1e-12, "beta_fast": 1e100, "beta_slow": 1e-100,
                                              "mscale": 10, "mscale_all_dim": 0, "attention_factor": 0.0625)")));
}

// M-RoPE (rope_spec.hpp): the sections are pairs per axis, summing to rotary_dim/2; an
// interleaved axis a takes pairs a, a + n, ... and its last must exist.
TEST(SpecValidation, RejectsMalformedMropeSections) {
  expect_rejected(R"({"head_dim": 16, "mrope_section": [2, 3, 2]})", "mrope_section", false, "sum to rotary_dim/2 = 8");
  expect_rejected(R"({"head_dim": 16, "mrope_section": [8]})", "mrope_section", false, "2 to 8 axes");
  expect_rejected(R"({"head_dim": 16, "mrope_section": [4, 4, 0]})", "mrope_section", false, "axis 2");
  expect_rejected(R"({"head_dim": 16, "mrope_section": [9, -1]})", "mrope_section", false, "axis 1");
  expect_rejected(R"({"head_dim": 16, "mrope_section": [2, 3.5, 2.5]})", "mrope_section[1]", false, "integer");
  expect_rejected(R"({"head_dim": 16, "mrope_section": "16,24,24"})", "mrope_section", false, "array");
  expect_rejected(R"({"head_dim": 16, "mrope_interleaved": true})", "mrope_interleaved", false, "needs mrope_section");
  // Interleaved [1, 1, 6] over 8 pairs: axis 2 would need pairs 2, 5, 8, ... — 8 does not exist.
  expect_rejected(R"({"head_dim": 16, "mrope_section": [1, 1, 6], "mrope_interleaved": true})", "mrope_section", false,
                  "needs pair 17");
  // Partial rotary: the sections count the rotated pairs.
  expect_rejected(R"({"head_dim": 20, "rotary_dim": 16, "mrope_section": [4, 3, 3]})", "mrope_section", false,
                  "rotary_dim/2 = 8");
}

// The axis of each pair, written out by hand from HF's two index maps.
TEST(SpecValidation, MropeAxisOfPairFollowsQwen2VlChunksAndQwen3VlInterleaving) {
  const RopeSpec chunked = spec_from_json_text(R"({"head_dim": 16, "mrope_section": [2, 3, 3]})");
  EXPECT_EQ(chunked.n_axes(), 3);
  std::vector<int> axes;
  for (int j = 0; j < chunked.pairs(); ++j) axes.push_back(chunked.axis_of_pair(j));
  EXPECT_EQ(axes, (std::vector<int>{0, 0, 1, 1, 1, 2, 2, 2}));
  // Qwen3-VL [24, 20, 20] over 64 pairs: h = 1, 4, ..., 58; w = 2, 5, ..., 59; t the rest
  // (0, 3, ..., 57 and 60..63: 24 pairs).
  const RopeSpec inter = spec_from_json_text(R"({"head_dim": 128, "mrope_section": [24, 20, 20], "mrope_interleaved": true})");
  int count[3] = {0, 0, 0};
  for (int j = 0; j < inter.pairs(); ++j) {
    const int a = inter.axis_of_pair(j);
    ++count[a];
    if (j < 60) {
      EXPECT_EQ(a, j % 3) << "pair " << j;
    } else {
      EXPECT_EQ(a, 0) << "pair " << j;
    }
  }
  EXPECT_EQ(count[0], 24);
  EXPECT_EQ(count[1], 20);
  EXPECT_EQ(count[2], 20);
  // A 1-D spec has one axis.
  EXPECT_EQ(spec_from_json_text(R"({"head_dim": 16})").n_axes(), 1);
  // Round trip through ropecheck's JSON.
  const RopeSpec back = spec_from_json_text(spec_to_json_text(inter));
  EXPECT_EQ(back.mrope_section, inter.mrope_section);
  EXPECT_TRUE(back.mrope_interleaved);
}

TEST(Positions, AxisPositionsAreOnePerAxisOrOneForEvery) {
  EXPECT_EQ(parse_axis_position("7:3:5", 3), (std::vector<int64_t>{7, 3, 5}));
  EXPECT_EQ(parse_axis_position("2^40", 3), (std::vector<int64_t>{int64_t{1} << 40}));
  EXPECT_EQ(format_axis_position({7, 3, 5}), "7:3:5");
  for (const char* bad : {"7:3", "7:3:5:1", "7::5", ":", "7:-1:2", "7:x:2"}) {
    EXPECT_THROW(parse_axis_position(bad, 3), SpecError) << bad;
  }
  EXPECT_THROW(parse_axis_position("7:3", 1), SpecError);
  EXPECT_EQ(parse_axis_position_list("1:2:3, 4", 3).size(), 2u);
  EXPECT_THROW(parse_axis_position_list("1:2:3,", 3), SpecError);
}

TEST(Positions, ParsesIntegersAndPowersOfTwoAndRejectsTheRest) {
  EXPECT_EQ(parse_position("0"), 0);
  EXPECT_EQ(parse_position("4096"), 4096);
  EXPECT_EQ(parse_position("2^31-1"), 2147483647);
  EXPECT_EQ(parse_position("2^24+1"), 16777217);
  EXPECT_EQ(parse_position("2^63-1"), INT64_MAX);
  EXPECT_EQ(parse_position("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"-1", "2^63", "9223372036854775808", "1e5", "", "12a", "2^64-1", "2^3-9"}) {
    try {
      parse_position(bad);
      ADD_FAILURE() << "accepted position " << bad;
    } catch (const SpecError& e) {
      EXPECT_EQ(e.field(), "positions");
    }
  }
  EXPECT_EQ(parse_position_list("0, 1,2^53"), (std::vector<int64_t>{0, 1, int64_t{1} << 53}));
  EXPECT_EQ(parse_position_list(" 7 "), (std::vector<int64_t>{7}));
  // A stray comma is a typo, not a shorter list ("1," was once accepted as "1").
  for (const char* bad : {"", " ", "1,", "1, ", ",1", "1,,2", ","}) {
    try {
      parse_position_list(bad);
      ADD_FAILURE() << "accepted position list '" << bad << "'";
    } catch (const SpecError& e) {
      EXPECT_EQ(e.field(), "positions");
    }
  }
}

// `ropecheck ref --input/--q/--k`: numbers are the binary64 they parse to (exact decimals
// out), strings exact decimals.  A number beyond binary64 (1e999) used to escape as
// nlohmann's out_of_range.406 -- exit code 4, "internal error" -- where the spec reader gave 2.
TEST(HeadVectors, NumbersAreBinary64StringsAreDecimalsAndTheRestIsNamed) {
  EXPECT_EQ(parse_head_vector(R"([0.1, "0.1", 2, -0.0])", "--input", 4),
            (std::vector<std::string>{"1.000000000000000055511151231257827021181583404541015625e-01", "0.1",
                                      "2e+00", "-0e+00"}));
  EXPECT_EQ(parse_head_vector(R"(["1e999", 0])", "--q", 2)[0], "1e999");  // exact decimals need no double
  EXPECT_EQ(parse_head_vector("[1e-99999]", "--k", 1)[0], "0e+00");  // underflow: the binary64 it parses to
  const auto expect_bad = [](const std::string& text, const std::string& what, int n, const std::string& field,
                             const std::string& rule_part) {
    try {
      parse_head_vector(text, what, n);
      ADD_FAILURE() << "accepted " << text;
    } catch (const SpecError& e) {
      EXPECT_EQ(e.field(), field) << e.what();
      EXPECT_NE(std::string(e.what()).find(rule_part), std::string::npos) << e.what();
    }
  };
  expect_bad("[1e999, 0, 0, 1]", "--input", 4, "--input[0]", "beyond the binary64 range");
  expect_bad("[0, -1e999]", "--q", 2, "--q[1]", "give an exact decimal as a string");
  expect_bad("[NaN, 0]", "--input", 2, "--input[0]", "got NaN (NaN and Infinity are not JSON)");
  expect_bad("[0, \"1\", -Infinity]", "--k", 3, "--k[2]", "got -Infinity");
  expect_bad("[0, 1", "--input", 2, "--input", "malformed JSON");
  expect_bad("[0, 1, 2]", "--input", 2, "--input", "head_dim = 2");
  expect_bad(R"({"x": 1})", "--input", 1, "--input", "array");
  expect_bad("[0, true]", "--input", 2, "--input[1]", "number or a decimal string");
}

// Issue 15, fault 17: a value ropecheck derives is named by the keys the config has.  An odd
// head_dim was reported as "partial_rotary_factor: must be even" in a config without one, and
// rope_theta: 1e400 as a JSON overflow of the whole file.
TEST(HfConfigs, MessagesNameTheKeysTheConfigHas) {
  expect_rejected(R"({"head_dim": 127})", "head_dim", true, "must be even (components are rotated in pairs), got 127");
  expect_rejected(R"({"hidden_size": 4064, "num_attention_heads": 32})", "hidden_size / num_attention_heads", true,
                  "even");
  expect_rejected(R"({"hidden_size": 4194304, "num_attention_heads": 8})", "hidden_size / num_attention_heads", true,
                  "[1, 65536]");
  expect_rejected(R"({"head_dim": 80, "partial_rotary_factor": 0.4125})", "partial_rotary_factor", true,
                  "gives rotary_dim = int(head_dim 80 * 0.4125) = 33, which must be even");
  expect_rejected(R"({"head_dim": 8, "partial_rotary_factor": 0.1})", "partial_rotary_factor", true,
                  "= 0, which must be at least 2");
  expect_rejected(R"({"head_dim": 128, "rope_theta": 1e400})", "rope_theta", true, "got 1e400");
  expect_rejected(R"({"head_dim": 1e400})", "head_dim", true, "got 1e400");
  expect_rejected(R"({"head_dim": 2, "max_position_embeddings": 64, "rope_scaling": {"rope_type": "dynamic",
                      "factor": 2}})", "head_dim", true, "d/(d-2)");
  expect_rejected(R"({"head_dim": 8, "partial_rotary_factor": 0.25, "max_position_embeddings": 64,
                      "rope_scaling": {"rope_type": "ntk", "factor": 2}})", "partial_rotary_factor", true, "d/(d-2)");
  // Phi-3 keeps L0 at the top level; longrope's factor is derived from it when not given.
  const std::string longrope = R"("rope_scaling": {"rope_type": "longrope", "short_factor": [1, 1],
                                   "long_factor": [1, 2]}, "head_dim": 4, )";
  expect_rejected("{" + longrope + R"("max_position_embeddings": 64, "original_max_position_embeddings": 1})",
                  "original_max_position_embeddings", true, "> 1");
  expect_rejected("{" + longrope + R"("max_position_embeddings": 4611686018427387904,
                  "original_max_position_embeddings": 2})",
                  "max_position_embeddings / original_max_position_embeddings", true, "[1e-12, 1e6]");
  expect_rejected(R"({"head_dim": 4, "max_position_embeddings": 4611686018427387904, "rope_scaling": {
                      "rope_type": "longrope", "short_factor": [1, 1], "long_factor": [1, 2],
                      "original_max_position_embeddings": 2}})",
                  "max_position_embeddings / rope_scaling.original_max_position_embeddings", true, "[1e-12, 1e6]");
}

TEST(HfConfigs, Llama31ReadsLlama3Scaling) {
  const RopeSpec s = load_hf_config_file(spec_dir() + "hf/llama-3.1-8b.config.json");
  EXPECT_EQ(s.head_dim, 128);
  EXPECT_EQ(s.rotary_dim, 128);
  EXPECT_EQ(s.base, 500000.0);
  EXPECT_EQ(s.type, RopeType::kLlama3);
  EXPECT_EQ(s.factor, 8.0);
  EXPECT_EQ(s.original_max_position_embeddings, 8192);
  EXPECT_EQ(s.max_position_embeddings, 131072);
  EXPECT_EQ(s.layout, Layout::kHalfSplit);
}

TEST(HfConfigs, Qwen2PlainAndWithYarn) {
  const RopeSpec plain = load_hf_config_file(spec_dir() + "hf/qwen2-7b-instruct.config.json");
  EXPECT_EQ(plain.head_dim, 128);  // 3584 / 28
  EXPECT_EQ(plain.type, RopeType::kDefault);
  EXPECT_EQ(plain.base, 1e6);
  const RopeSpec yarn = load_hf_config_file(spec_dir() + "hf/qwen2-7b-instruct-yarn.config.json");
  EXPECT_EQ(yarn.type, RopeType::kYarn);
  EXPECT_EQ(yarn.factor, 4.0);
  EXPECT_EQ(yarn.original_max_position_embeddings, 32768);
}

TEST(HfConfigs, Phi2PartialRotary) {
  const RopeSpec s = load_hf_config_file(spec_dir() + "hf/phi-2.config.json");
  EXPECT_EQ(s.head_dim, 80);
  EXPECT_EQ(s.rotary_dim, 32);  // int(80 × 0.4)
}

// ---------------------------------------------------------------------------------------
// Real configs with several ropes, MLA and GPT-NeoX's spellings (issue 18).  The files are
// written by hand from the published config.json, rope-relevant keys only.
HfModelRopes ropes_of(const std::string& file) { return load_hf_config_ropes(spec_dir() + "hf/" + file); }

std::vector<int> every(int first, int step, int end) {
  std::vector<int> v;
  for (int i = first; i < end; i += step) v.push_back(i);
  return v;
}

TEST(HfConfigs, Llama4ScoutIsInterleavedLlama3WithEqualFreqFactorsAndNopeLayers) {
  const HfModelRopes m = ropes_of("llama-4-scout-17b-16e.config.json");
  ASSERT_EQ(m.ropes.size(), 2u);  // the llama3 rope, then the NoPE layers' spec
  const RopeSpec& s = m.ropes[0].spec;
  EXPECT_EQ(s.name, "meta-llama/Llama-4-Scout-17B-16E-Instruct/chunked_attention");
  EXPECT_EQ(m.ropes[0].layer_type, "chunked_attention");
  EXPECT_EQ(s.type, RopeType::kLlama3);
  EXPECT_EQ(s.factor, 16.0);
  EXPECT_EQ(s.low_freq_factor, 1.0);
  EXPECT_EQ(s.high_freq_factor, 1.0);
  EXPECT_EQ(s.layout, Layout::kInterleaved);
  EXPECT_EQ(s.head_dim, 128);
  // no_rope_layers is empty: HF's default, every 4th of the 48 layers has no rope.
  EXPECT_EQ(m.layers_without_rope, every(3, 4, 48));
  EXPECT_EQ(m.ropes[0].layers.size(), 36u);
  EXPECT_EQ(m.nope_note().rfind("layers with no rope (checked as rope type none, the identity: spec "
                                "meta-llama/Llama-4-Scout-17B-16E-Instruct/nope): 3, 7, 11,",
                                0),
            0u)
      << m.nope_note();
  // The NoPE layers (HF modeling_llama4: `if self.use_rope: apply_rotary_emb(...)`, use_rope =
  // no_rope_layers[layer]) as one spec of rope type none with the text model's head geometry.
  const HfLayerRope& nope = m.ropes[1];
  EXPECT_EQ(nope.spec.name, "meta-llama/Llama-4-Scout-17B-16E-Instruct/nope");
  EXPECT_EQ(nope.spec.type, RopeType::kNone);
  EXPECT_EQ(nope.layer_type, "full_attention");  // HF Llama4TextConfig's name for a layer without rope
  EXPECT_EQ(nope.layers, every(3, 4, 48));
  EXPECT_EQ(nope.spec.head_dim, 128);
  EXPECT_EQ(nope.spec.rotary_dim, 128);
  EXPECT_EQ(nope.spec.layout, Layout::kInterleaved);
  EXPECT_EQ(nope.spec.base, 500000.0);  // the model's, unused by the type
  // The one-rope reader returns the rope, not the NoPE layers' identity.
  EXPECT_EQ(load_hf_config_file(spec_dir() + "hf/llama-4-scout-17b-16e.config.json").type, RopeType::kLlama3);
}

// No rope (NoPE layers): θ' = 0 for every pair, a = 1.  Its spec JSON is {"type": "none"}; the
// scaling fields it does not read are ignored as for default, rope_angles and mrope_section are
// refused naming them; HF configs have no such rope_type (they list no_rope_layers).
TEST(SpecValidation, RopeTypeNoneReadsNoScalingAndRoundTrips) {
  const RopeSpec s = spec_from_json_text(
      R"({"name": "m/nope", "head_dim": 12, "rotary_dim": 8, "base": 500000, "layout": "interleaved",
          "max_position_embeddings": 4096, "scaling": {"type": "none"}})");
  EXPECT_EQ(s.type, RopeType::kNone);
  EXPECT_EQ(s.factor, 1.0);
  EXPECT_STREQ(to_string(s.type), "none");
  const RopeSpec back = spec_from_json_text(spec_to_json_text(s));
  EXPECT_EQ(back.type, RopeType::kNone);
  EXPECT_EQ(back.rotary_dim, 8);
  EXPECT_EQ(back.layout, Layout::kInterleaved);
  EXPECT_EQ(nlohmann::json::parse(spec_to_json_text(s))["scaling"], nlohmann::json::parse(R"({"type": "none"})"));
  // A factor is ignored, as for default (validated for NaN only).
  EXPECT_EQ(spec_from_json_text(R"({"head_dim": 8, "scaling": {"type": "none", "factor": 4}})").type, RopeType::kNone);
  expect_rejected(R"({"head_dim": 8, "scaling": {"type": "none", "factor": NaN}})", "scaling.factor", false, "finite");
  expect_rejected(R"({"head_dim": 16, "scaling": {"type": "none", "rope_angles": 4}})", "scaling.rope_angles", false,
                  "proportional scaling only");
  expect_rejected(R"({"head_dim": 16, "mrope_section": [4, 2, 2], "scaling": {"type": "none"}})", "mrope_section",
                  false, "no meaning for rope type none");
  expect_rejected(R"({"head_dim": 16, "axes_dims": [8, 8], "scaling": {"type": "none"}})", "axes_dims", false,
                  "default frequencies only");
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"rope_type": "none"}})", "rope_scaling.rope_type", true,
                  "not an HF rope_type");
  expect_rejected(R"({"head_dim": 8, "rope_parameters": {"rope_type": "none", "rope_theta": 10000}})",
                  "rope_parameters.rope_type", true, "no_rope_layers");
}

// A config with one rope layer type and no_rope_layers but no layer_types (SmolLM3's form): the
// rope is named by the model, the NoPE spec "<model>/nope", and every NoPE layer is listed.
TEST(HfConfigs, NoRopeLayersWithoutLayerTypesGiveANopeSpec) {
  const HfModelRopes m = ropes_from_hf_config_text(
      R"({"_name_or_path": "smol", "head_dim": 64, "rope_theta": 2000000, "num_hidden_layers": 4,
          "no_rope_layers": [1, 1, 1, 0], "max_position_embeddings": 65536})");
  ASSERT_EQ(m.ropes.size(), 2u);
  EXPECT_EQ(m.ropes[0].spec.name, "smol");
  EXPECT_EQ(m.ropes[0].spec.type, RopeType::kDefault);
  EXPECT_EQ(m.ropes[0].layers, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(m.ropes[1].spec.name, "smol/nope");
  EXPECT_EQ(m.ropes[1].spec.type, RopeType::kNone);
  EXPECT_EQ(m.ropes[1].layer_type, "");
  EXPECT_EQ(m.ropes[1].layers, (std::vector<int>{3}));
  EXPECT_EQ(m.layers_without_rope, (std::vector<int>{3}));
  // Gemma 3 has none: no NoPE spec.
  for (const HfLayerRope& r : ropes_of("gemma-3-27b.config.json").ropes) EXPECT_NE(r.spec.type, RopeType::kNone);
}

TEST(HfConfigs, Gemma3HasASlidingAndAFullAttentionRope) {
  const HfModelRopes m = ropes_of("gemma-3-27b.config.json");
  ASSERT_EQ(m.ropes.size(), 2u);
  const HfLayerRope &sliding = m.ropes[0], &full = m.ropes[1];
  EXPECT_EQ(sliding.spec.name, "google/gemma-3-27b-it/sliding_attention");
  EXPECT_EQ(sliding.spec.type, RopeType::kDefault);  // unscaled, rope_local_base_freq
  EXPECT_EQ(sliding.spec.base, 1e4);
  EXPECT_EQ(sliding.layers.size(), 52u);
  EXPECT_EQ(full.spec.name, "google/gemma-3-27b-it/full_attention");
  EXPECT_EQ(full.spec.type, RopeType::kLinear);
  EXPECT_EQ(full.spec.factor, 8.0);
  EXPECT_EQ(full.spec.base, 1e6);
  EXPECT_EQ(full.layers, every(5, 6, 62));  // sliding_window_pattern 6
  for (const HfLayerRope& r : m.ropes) EXPECT_EQ(r.spec.head_dim, 128);
  EXPECT_TRUE(m.layers_without_rope.empty());
  // The single-spec reader refuses it, naming the file, rather than pick one.
  expect_rejected(R"({"model_type": "gemma3_text", "head_dim": 8, "num_hidden_layers": 6})", "config", true,
                  "sliding_attention, full_attention");
}

TEST(HfConfigs, DeepSeekV3IsTheInterleavedRopeSliceOfMla) {
  const HfModelRopes m = ropes_of("deepseek-v3.config.json");
  ASSERT_EQ(m.ropes.size(), 1u);
  const RopeSpec& s = m.ropes[0].spec;
  EXPECT_EQ(s.name, "deepseek-ai/DeepSeek-V3");
  EXPECT_EQ(s.head_dim, 64);  // qk_rope_head_dim, not hidden_size / num_attention_heads = 56
  EXPECT_EQ(s.rotary_dim, 64);
  EXPECT_EQ(s.layout, Layout::kInterleaved);
  EXPECT_EQ(s.type, RopeType::kYarn);
  EXPECT_EQ(s.factor, 40.0);
  EXPECT_EQ(s.mscale, 1.0);
  EXPECT_EQ(s.mscale_all_dim, 1.0);
  EXPECT_EQ(s.original_max_position_embeddings, 4096);
  EXPECT_EQ(m.mla_qk_nope_head_dim, 128);
  // rope_interleave false (HF DeepseekV3Config) is the rotate_half layout.
  EXPECT_EQ(spec_from_hf_config_text(R"({"qk_rope_head_dim": 64, "rope_interleave": false})").layout,
            Layout::kHalfSplit);
}

TEST(HfConfigs, GptNeoxRotaryPctAndRotaryEmbBase) {
  const RopeSpec s = load_hf_config_file(spec_dir() + "hf/gpt-neox-20b.config.json");
  EXPECT_EQ(s.head_dim, 96);    // 6144 / 64
  EXPECT_EQ(s.rotary_dim, 24);  // int(96 * 0.25), not 96
  EXPECT_EQ(s.base, 1e4);
  EXPECT_EQ(spec_from_hf_config_text(R"({"head_dim": 8, "rotary_emb_base": 500000})").base, 5e5);
  expect_rejected(R"({"head_dim": 80, "rotary_pct": 0.4125})", "rotary_pct", true, "int(head_dim 80 * 0.4125) = 33");
  expect_rejected(R"({"head_dim": 8, "rotary_pct": 0.5, "partial_rotary_factor": 0.25})", "rotary_pct", true,
                  "give one");
}

// HF's code rotates interleaved pairs for these model types (the layout follows model_type).
TEST(HfConfigs, LayoutFollowsTheModelTypesHfRotatesInterleaved) {
  for (const char* type : {"llama4_text", "cohere", "glm", "glm4"}) {
    EXPECT_EQ(spec_from_hf_config_text(std::string(R"({"head_dim": 8, "num_hidden_layers": 4, "model_type": ")") +
                                       type + "\"}").layout,
              Layout::kInterleaved) << type;
  }
  for (const char* type : {"llama", "qwen2", "glm4_moe", "gpt_neox"}) {
    EXPECT_EQ(spec_from_hf_config_text(std::string(R"({"head_dim": 8, "model_type": ")") + type + "\"}").layout,
              Layout::kHalfSplit) << type;
  }
}

// HF GlmConfig / Glm4Config default partial_rotary_factor to 0.5: THUDM's HF-format glm-4-9b-chat
// config.json has no such key and rotates 64 of its 128 dims, not 128.
TEST(HfConfigs, GlmRotatesHalfTheHeadWhenTheConfigGivesNoShare) {
  const RopeSpec s = load_hf_config_file(spec_dir() + "hf/glm-4-9b-chat.config.json");
  EXPECT_EQ(s.head_dim, 128);
  EXPECT_EQ(s.rotary_dim, 64);
  EXPECT_EQ(s.layout, Layout::kInterleaved);
  for (const char* type : {"glm", "glm4"}) {
    const std::string t = std::string(R"({"head_dim": 128, "model_type": ")") + type + "\"";
    EXPECT_EQ(spec_from_hf_config_text(t + "}").rotary_dim, 64) << type;
    EXPECT_EQ(spec_from_hf_config_text(t + R"(, "partial_rotary_factor": 1.0})").rotary_dim, 128) << type;
    // A rope_parameters share agreeing with the default is read; one that differs is refused by name.
    EXPECT_EQ(spec_from_hf_config_text(t + R"(, "rope_parameters": {"rope_type": "default",
        "partial_rotary_factor": 0.5}})").rotary_dim, 64) << type;
    expect_rejected(t + R"(, "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.25}})",
                    "rope_parameters.partial_rotary_factor", true, "default 0.5");
  }
  EXPECT_EQ(spec_from_hf_config_text(R"({"head_dim": 128, "model_type": "llama"})").rotary_dim, 128);
}

TEST(HfConfigs, GptOssAndQwen25) {
  const HfModelRopes oss = ropes_of("gpt-oss-20b.config.json");
  ASSERT_EQ(oss.ropes.size(), 2u);  // one per layer type, even when they agree
  for (const HfLayerRope& r : oss.ropes) {
    EXPECT_EQ(r.spec.type, RopeType::kYarn);
    EXPECT_FALSE(r.spec.truncate);
    EXPECT_EQ(r.layers.size(), 12u);
  }
  const RopeSpec q = load_hf_config_file(spec_dir() + "hf/qwen2.5-7b.config.json");
  EXPECT_EQ(q.name, "Qwen/Qwen2.5-7B");  // one layer type: the name as before
  EXPECT_EQ(q.head_dim, 128);
}

// M-RoPE in HF configs: Qwen2-VL's {"type": "mrope", "mrope_section"} (HF Qwen2VLConfig makes the
// type "default"), Qwen3-VL's text_config with mrope_interleaved; malformed sections name the
// HF path.
TEST(HfConfigs, ReadsMropeSectionsAndNamesTheirPathWhenMalformed) {
  const RopeSpec q2 = load_hf_config_file(spec_dir() + "hf/qwen2.5-vl-7b.config.json");
  EXPECT_EQ(q2.head_dim, 128);
  EXPECT_EQ(q2.type, RopeType::kDefault);
  EXPECT_EQ(q2.mrope_section, (std::vector<int>{16, 24, 24}));
  EXPECT_FALSE(q2.mrope_interleaved);
  const HfModelRopes q3 = load_hf_config_ropes(spec_dir() + "hf/qwen3-vl-8b.config.json");
  ASSERT_EQ(q3.ropes.size(), 1u);
  EXPECT_EQ(q3.ropes[0].spec.mrope_section, (std::vector<int>{24, 20, 20}));
  EXPECT_TRUE(q3.ropes[0].spec.mrope_interleaved);
  EXPECT_EQ(q3.ropes[0].spec.base, 5000000.0);
  expect_rejected(R"({"head_dim": 128, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 20]}})",
                  "rope_scaling.mrope_section", true, "sum to rotary_dim/2 = 64");
  expect_rejected(R"({"text_config": {"head_dim": 128, "rope_scaling": {"rope_type": "default", "mrope_interleaved": true}}})",
                  "text_config.rope_scaling.mrope_interleaved", true, "needs mrope_section");
  expect_rejected(R"({"head_dim": 128, "rope_scaling": {"type": "mrope"}})", "rope_scaling.type", true, "unknown rope type");
}

// Vision towers (issue 17): Qwen2-VL's ViT (head_dim = embed_dim / num_heads: its vision
// hidden_size is the merger's output) is per-axis [40, 40] at theta 1e4; a Pixtral tower deals
// its head's frequencies to rows and columns, positions below image_size / patch_size; a tower
// without rope keys (SigLIP) adds no spec; malformed towers are refused naming the key.
TEST(HfConfigs, ReadsVisionTowersAsTwoAxisSpecs) {
  const HfModelRopes q = load_hf_config_ropes(spec_dir() + "hf/qwen2-vl-7b.config.json");
  ASSERT_EQ(q.ropes.size(), 2u);
  EXPECT_EQ(q.ropes[0].spec.mrope_section, (std::vector<int>{16, 24, 24}));
  const RopeSpec& v = q.ropes[1].spec;
  EXPECT_EQ(q.ropes[1].layer_type, "vision");
  EXPECT_EQ(v.name, "Qwen/Qwen2-VL-7B-Instruct/vision");
  EXPECT_EQ(v.head_dim, 80);  // 1280 / 16, not 3584 / 16
  EXPECT_EQ(v.rotary_dim, 80);
  EXPECT_EQ(v.axes_dims, (std::vector<int>{40, 40}));
  EXPECT_FALSE(v.axes_dealt);
  EXPECT_EQ(v.layout, Layout::kHalfSplit);
  EXPECT_EQ(v.base, 10000.0);
  // The one-spec reader gives the language model's rope, not the tower's.
  EXPECT_EQ(load_hf_config_file(spec_dir() + "hf/qwen2-vl-7b.config.json").mrope_section, (std::vector<int>{16, 24, 24}));

  const HfModelRopes px = ropes_from_hf_config_text(R"({"model_type": "llava", "_name_or_path": "px",
      "text_config": {"head_dim": 128, "hidden_size": 5120, "num_attention_heads": 32, "rope_theta": 1e9},
      "vision_config": {"model_type": "pixtral", "head_dim": 64, "hidden_size": 1024, "num_attention_heads": 16,
                        "image_size": 1024, "patch_size": 16, "rope_theta": 10000.0}})");
  ASSERT_EQ(px.ropes.size(), 2u);
  EXPECT_EQ(px.ropes[1].spec.axes_dims, (std::vector<int>{32, 32}));
  EXPECT_TRUE(px.ropes[1].spec.axes_dealt);
  EXPECT_EQ(px.ropes[1].spec.max_position_embeddings, 64);
  int k = 0, d = 0;
  px.ropes[1].spec.frequency_exponent(16, &k, &d);  // the first column pair: freqs[1]
  EXPECT_EQ(k, 1);
  EXPECT_EQ(d, 64);

  EXPECT_EQ(ropes_from_hf_config_text(R"({"text_config": {"head_dim": 8},
      "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 1152}})").ropes.size(), 1u);
  expect_rejected(R"({"model_type": "qwen2_vl", "head_dim": 128, "vision_config": {"embed_dim": 1280}})",
                  "vision_config.num_heads", true, "required");
  expect_rejected(R"({"model_type": "qwen2_vl", "head_dim": 128, "vision_config": {"embed_dim": 1000, "num_heads": 16}})",
                  "vision_config.embed_dim", true, "divisible by 4");
  expect_rejected(R"({"head_dim": 128, "vision_config": {"model_type": "qwen2_5_vl", "hidden_size": 1280, "num_heads": 16,
                     "rope_theta": 1e6}})",
                  "vision_config.rope_theta", true, "not read");
  expect_rejected(R"({"head_dim": 128, "vision_config": {"model_type": "pixtral", "head_dim": 64, "image_size": 1024}})",
                  "vision_config.patch_size", true, "required");
}

// A key that changes the rope is read or refused naming it -- never skipped.
TEST(HfConfigs, RefusesWhatWouldChangeTheRopeUnread) {
  expect_rejected(R"({"head_dim": 128, "rope_ratio": 500})", "rope_ratio", true, "ChatGLM");
  expect_rejected(R"({"rope_ratio": 500, "text_config": {"head_dim": 128}})", "rope_ratio", true, "text_config");
  expect_rejected(R"({"text_config": {"head_dim": 128, "rope_ratio": 500}})", "text_config.rope_ratio", true, "ChatGLM");
  expect_rejected(R"({"head_dim": 256, "rotary_dim": 64})", "rotary_dim", true, "interleaved");
  expect_rejected(R"({"head_dim": 64, "rotary_emb_fraction": 0.5})", "rotary_emb_fraction", true);
  // Gemma 4's full-attention layers have a head size of their own (global_head_dim).
  expect_rejected(R"({"text_config": {"head_dim": 256, "global_head_dim": 512}})", "text_config.global_head_dim", true,
                  "Gemma 4");
  expect_rejected(R"({"text_config": {"head_dim": 8}, "vision_config": {"rope_theta": 10000}})",
                  "vision_config.rope_theta", true, "does not read");
  expect_rejected(R"({"rope_theta": 500000, "text_config": {"head_dim": 8}})", "rope_theta", true, "text_config");
  expect_rejected(R"({"rope_theta": 5e5, "text_config": {"head_dim": 8, "rope_theta": 1e4}})", "rope_theta", true,
                  "another value");
  expect_rejected(R"({"head_dim": 8, "num_hidden_layers": 8, "sliding_window_pattern": 4})",
                  "sliding_window_pattern", true, "gemma3 only");
  expect_rejected(R"({"model_type": "cohere2", "head_dim": 8})", "model_type", true);
  expect_rejected(R"({"head_dim": 8, "rope_interleave": true})", "rope_interleave", true);
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"rope_type": "linear", "factor": 2, "alpha": 4}})",
                  "rope_scaling.alpha", true, "\"dynamic\" only");
  expect_rejected(R"({"head_dim": 8, "rope_scaling": {"rope_type": "linear", "factor": 2},
                      "rope_parameters": {"rope_type": "linear", "factor": 2}})", "rope_scaling", true, "give one");
  expect_rejected(R"({"head_dim": 8, "num_hidden_layers": 2, "rope_local_base_freq": 10000})",
                  "rope_local_base_freq", true, "no layer is one");
  expect_rejected(R"({"qk_rope_head_dim": 64, "partial_rotary_factor": 0.5})", "partial_rotary_factor", true);
  // Odd or too many rotary dims stay refused whichever key gives them.
  expect_rejected(R"({"head_dim": 8, "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 1.5}})",
                  "rope_parameters.partial_rotary_factor", true, "(0, 1]");
  expect_rejected(R"({"qk_rope_head_dim": 63})", "qk_rope_head_dim", true, "even");
}

TEST(HfConfigs, HunyuanDynamicAlphaIsStaticNtk) {
  // Hunyuan's DynamicNTKAlpha: base' = rope_theta * alpha^(d/(d-2)), whatever the sequence length.
  const RopeSpec s = spec_from_hf_config_text(R"({"head_dim": 128, "rope_theta": 10000, "max_position_embeddings": 32768,
      "rope_scaling": {"type": "dynamic", "alpha": 1000.0, "factor": 1.0, "beta_fast": 32, "beta_slow": 1,
                       "mscale": 1.0, "mscale_all_dim": 1.0}})");
  EXPECT_EQ(s.type, RopeType::kNtk);
  EXPECT_EQ(s.factor, 1000.0);
}

TEST(HfConfigs, RopeParametersFlatAndPerLayerType) {
  // HF's newer rope_parameters, flat: the same rope as rope_scaling + rope_theta.
  const RopeSpec flat = spec_from_hf_config_text(R"({"head_dim": 64, "max_position_embeddings": 8192,
      "rope_parameters": {"rope_type": "linear", "factor": 4, "rope_theta": 500000}})");
  const RopeSpec old = spec_from_hf_config_text(R"({"head_dim": 64, "max_position_embeddings": 8192,
      "rope_theta": 500000, "rope_scaling": {"rope_type": "linear", "factor": 4}})");
  EXPECT_EQ(spec_to_json_text(flat), spec_to_json_text(old));
  EXPECT_EQ(spec_from_hf_config_text(R"({"head_dim": 8, "rope_parameters": {"rope_theta": 5e5}})").type,
            RopeType::kDefault);  // rope_type defaults there, as in HF
  // Keyed by layer type (HF standardize_rope_params), rope_theta defaulting to the top-level one.
  const std::string layered = R"({"model_type": "x", "head_dim": 64, "rope_theta": 20000, "layer_types":
      ["sliding_attention", "sliding_attention", "full_attention"], "rope_parameters": {
      "sliding_attention": {"rope_type": "default"},
      "full_attention": {"rope_type": "yarn", "factor": 8, "original_max_position_embeddings": 4096,
                         "rope_theta": 1e6, "partial_rotary_factor": 0.5}}})";
  const HfModelRopes m = ropes_from_hf_config_text(layered);
  ASSERT_EQ(m.ropes.size(), 2u);
  EXPECT_EQ(m.ropes[0].spec.name, "x/sliding_attention");
  EXPECT_EQ(m.ropes[0].spec.base, 20000.0);
  EXPECT_EQ(m.ropes[0].layers, (std::vector<int>{0, 1}));
  EXPECT_EQ(m.ropes[1].spec.base, 1e6);
  EXPECT_EQ(m.ropes[1].spec.rotary_dim, 32);
  EXPECT_EQ(m.ropes[1].layers, (std::vector<int>{2}));
  // A malformed per-layer entry is named by its layer type and field.
  const auto bad = [&](const std::string& from, const std::string& to) {
    std::string t = layered;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  expect_rejected(bad(R"("factor": 8)", R"("factor": -8)"), "rope_parameters.full_attention.factor", true, "> 0");
  expect_rejected(bad(R"("rope_theta": 1e6)", R"("rope_theta": 0.5)"), "rope_parameters.full_attention.rope_theta",
                  true, "> 1");
  expect_rejected(bad(R"("rope_type": "default")", R"("rope_type": "nope")"),
                  "rope_parameters.sliding_attention.rope_type", true, "unknown rope type");
  expect_rejected(bad(R"("sliding_attention": {)", R"("chunked_attention": {)"),
                  "rope_parameters.chunked_attention", true, "not a layer type");
  expect_rejected(bad(R"("full_attention": {)", R"("sliding_attention2": {)"),
                  "rope_parameters.sliding_attention2", true, "not a layer type");
  expect_rejected(bad(R"(, "full_attention"])", "]"), "rope_parameters.full_attention", true, "not a layer type");
  expect_rejected(bad(R"("original_max_position_embeddings": 4096,)", ""),
                  "rope_parameters.full_attention.original_max_position_embeddings", true, "yarn");
  expect_rejected(bad(R"(, "full_attention"])", R"(, "full_attention", "full_attention"], "num_hidden_layers": 3)"),
                  "layer_types", true, "num_hidden_layers is 3");
  expect_rejected(R"({"head_dim": 8, "no_rope_layers": [1, 2]})", "no_rope_layers[1]", true, "0 (it has none)");
  expect_rejected(R"({"head_dim": 8, "no_rope_layers": [0, 0]})", "no_rope_layers", true, "nothing to check");
}

// Every key of the file survives parse → serialize with its value (judged against the file
// itself, not against a second serialization, which would hide a field the serializer drops),
// and a second round trip changes nothing.
void expect_contains(const nlohmann::json& original, const nlohmann::json& written, const std::string& where) {
  for (auto it = original.begin(); it != original.end(); ++it) {
    ASSERT_TRUE(written.contains(it.key())) << where << it.key() << " was dropped";
    const nlohmann::json& w = written.at(it.key());
    if (it->is_object()) {
      expect_contains(*it, w, where + it.key() + ".");
    } else if (it->is_number()) {
      EXPECT_EQ(it->get<double>(), w.get<double>()) << where << it.key();
    } else {
      EXPECT_EQ(*it, w) << where << it.key();
    }
  }
}

// proportional (Gemma 4, HF _compute_proportional_rope_parameters): the pairing runs over the
// whole head, so rotary_dim must be head_dim; rope_angles counts the turning pairs.
TEST(SpecValidation, ProportionalNamesRotaryDimAndRopeAngles) {
  const RopeSpec s = spec_from_json_text(
      R"({"head_dim": 512, "base": 1e6, "scaling": {"type": "proportional", "rope_angles": 64}})");
  EXPECT_EQ(s.type, RopeType::kProportional);
  EXPECT_EQ(s.rotary_dim, 512);
  EXPECT_EQ(s.rope_angles, 64);
  EXPECT_EQ(s.factor, 1.0);
  // Absent: every pair turns (HF's partial_rotary_factor 1.0).
  EXPECT_EQ(spec_from_json_text(R"({"head_dim": 16, "scaling": {"type": "proportional"}})").rope_angles, 8);
  expect_rejected(R"({"head_dim": 512, "rotary_dim": 128, "scaling": {"type": "proportional", "rope_angles": 64}})",
                  "rotary_dim", false, "must equal head_dim = 512");
  expect_rejected(R"({"head_dim": 16, "scaling": {"type": "proportional", "rope_angles": 9}})",
                  "scaling.rope_angles", false, "[1, rotary_dim/2 = 8]");
  expect_rejected(R"({"head_dim": 16, "scaling": {"type": "proportional", "rope_angles": 0}})",
                  "scaling.rope_angles", false, "[1, rotary_dim/2 = 8]");
  expect_rejected(R"({"head_dim": 16, "scaling": {"type": "linear", "factor": 2, "rope_angles": 4}})",
                  "scaling.rope_angles", false, "proportional scaling only");
  expect_rejected(R"({"head_dim": 16, "scaling": {"type": "proportional", "factor": 0}})", "scaling.factor", false,
                  "> 0");
}

TEST(HfConfigs, ProportionalReadsItsShareAsRopeAngles) {
  // HF: rope_angles = int(partial_rotary_factor * head_dim // 2); rotary_dim stays head_dim.
  const RopeSpec s = spec_from_hf_config_text(
      R"({"head_dim": 512, "rope_theta": 1000000, "max_position_embeddings": 131072,
          "rope_scaling": {"rope_type": "proportional", "partial_rotary_factor": 0.25}})");
  EXPECT_EQ(s.type, RopeType::kProportional);
  EXPECT_EQ(s.rotary_dim, 512);
  EXPECT_EQ(s.rope_angles, 64);
  // The top-level factor means the same for proportional (not rotary_dim = 128).
  const RopeSpec top = spec_from_hf_config_text(
      R"({"head_dim": 256, "partial_rotary_factor": 0.3, "rope_scaling": {"rope_type": "proportional"}})");
  EXPECT_EQ(top.rotary_dim, 256);
  EXPECT_EQ(top.rope_angles, 38);  // int(76.8 // 2)
  EXPECT_EQ(spec_from_hf_config_text(R"({"head_dim": 64, "rope_scaling": {"rope_type": "proportional"}})").rope_angles,
            32);
  expect_rejected(R"({"head_dim": 512, "rope_scaling": {"rope_type": "proportional", "partial_rotary_factor": 0.001}})",
                  "rope_scaling.partial_rotary_factor", true, "no pair would rotate");
  expect_rejected(R"({"head_dim": 512, "rope_scaling": {"rope_type": "proportional", "partial_rotary_factor": 1.5}})",
                  "rope_scaling.partial_rotary_factor", true, "(0, 1]");
  // Another type does not read it there: named, not ignored.
  expect_rejected(R"({"head_dim": 64, "rope_scaling": {"rope_type": "linear", "factor": 2, "partial_rotary_factor": 0.5}})",
                  "rope_scaling.partial_rotary_factor", true, "unknown key");
}

TEST(OwnSpecs, RoundTripThroughJson) {
  for (const char* f : {"yarn-d128.json", "gptj-interleaved-partial.json"}) {
    std::ifstream in(spec_dir() + f);
    const nlohmann::json original = nlohmann::json::parse(in);
    const RopeSpec s = load_spec_file(spec_dir() + f);
    const std::string text = spec_to_json_text(s);
    expect_contains(original, nlohmann::json::parse(text), std::string(f) + ": ");
    EXPECT_EQ(spec_to_json_text(spec_from_json_text(text)), text) << f;
  }
}

}  // namespace
}  // namespace ropecheck

// parse_json_document (json_document.hpp), the entry point of every JSON document a user
// gives: nesting beyond kMaxJsonDepth is refused before the parser runs (a spec nested 10^5
// deep in its "comment" crashed ropecheck with a stack overflow: issue 15, fault 11), brackets
// inside strings are not nesting, a number beyond binary64 is named by where it stands, NaN /
// Infinity tokens become markers, a key given twice is refused.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "json_document.hpp"
#include "rope_spec.hpp"

namespace ropecheck {
namespace {

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// The message of the SpecError that reading `text` through `read` throws, after checking its field.
template <class Read>
std::string refusal(Read read, const std::string& text, const std::string& field) {
  try {
    read(text);
  } catch (const SpecError& e) {
    EXPECT_EQ(e.field(), field) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted " << text.substr(0, 80);
  return "";
}

TEST(JsonDocument, RefusesNestingDeeperThanTheLimitBeforeParsing) {
  const auto parse = [](const std::string& t) { return parse_json_document(t, "spec.json"); };
  EXPECT_NO_THROW(parse(nested(kMaxJsonDepth)));
  std::string why = refusal(parse, nested(kMaxJsonDepth + 1), "spec.json");
  EXPECT_NE(why.find("nest 257 deep (deeper than 256 from byte 256)"), std::string::npos) << why;
  why = refusal(parse, R"({"a": {"b": )" + nested(100000) + "}}", "spec.json");
  EXPECT_NE(why.find("nest 100002 deep"), std::string::npos) << why;
  // Objects count as arrays do; unbalanced closers are the parser's to report.
  std::string objects;
  for (int i = 0; i < 300; ++i) objects += R"({"k": )";
  refusal(parse, objects + "1" + std::string(300, '}'), "spec.json");
  why = refusal(parse, "]]]", "spec.json");
  EXPECT_NE(why.find("malformed JSON"), std::string::npos) << why;
}

TEST(JsonDocument, BracketsInsideStringsAreNotNesting) {
  const std::string brackets(100000, '[');
  const nlohmann::json j = parse_json_document(R"({"comment": ")" + brackets + R"(\"[", "x": [1]})", "spec");
  EXPECT_EQ(j.at("comment").get<std::string>().size(), brackets.size() + 2);
  EXPECT_EQ(j.at("x"), nlohmann::json::array({1}));
}

// Every reader of a user's JSON goes through it: the readers refuse the deep document
// (they used to crash on it) naming the file they were given.
TEST(JsonDocument, SpecHfConfigAndHeadVectorReadersRefuseDeepDocuments) {
  const std::string deep = nested(100000);
  refusal([](const std::string& t) { return spec_from_json_text(t, "deep.json"); },
          R"({"head_dim": 8, "comment": )" + deep + "}", "deep.json");
  refusal([](const std::string& t) { return spec_from_hf_config_text(t, "config.json"); },
          R"({"head_dim": 8, "unread_key": )" + deep + "}", "config.json");
  refusal([](const std::string& t) { return parse_head_vector(t, "--input", 1); }, "[" + deep + "]", "--input");
  const std::string path = ::testing::TempDir() + "json_document_test_deep.json";
  std::ofstream(path) << R"({"head_dim": 8, "comment": )" << deep << "}";
  refusal([](const std::string& p) { return load_spec_file(p); }, path, path);
}

TEST(JsonDocument, NamesANumberBeyondBinary64ByWhereItStands) {
  const auto parse = [](const std::string& t) { return parse_json_document(t, "config.json"); };
  std::string why = refusal(parse, R"({"head_dim": 8, "rope_theta": 1e400})", "rope_theta");
  EXPECT_NE(why.find("rope_theta: must be a finite number, got 1e400 (beyond the binary64 range)"), std::string::npos)
      << why;
  refusal(parse, R"({"rope_scaling": {"rope_type": "longrope", "long_factor": [1, 2, [3], -1e999]}})",
          "rope_scaling.long_factor[3]");
  refusal(parse, R"({"a": [{"b": 1}, {"c": [0, 1e999]}]})", "a[1].c[1]");
  refusal(parse, "1e999", "config.json");  // no field to name: the document
  refusal([](const std::string& t) { return parse_json_document(t, "case.json", "case"); },
          R"({"spec": {"base": 1e999}})", "case.spec.base");
}

TEST(JsonDocument, MarksNanAndInfinityAndRefusesADuplicateKey) {
  const nlohmann::json j = parse_json_document(R"({"a": NaN, "b": [-Infinity, "NaN"], "c": Infinity})", "x");
  EXPECT_EQ(nonfinite_token(j.at("a")), "NaN");
  EXPECT_EQ(nonfinite_token(j.at("b")[0]), "-Infinity");
  EXPECT_FALSE(is_nonfinite_marker(j.at("b")[1]));  // the string "NaN" is a string
  EXPECT_EQ(nonfinite_token(j.at("c")), "Infinity");
  EXPECT_TRUE(holds_nonfinite_marker(j.at("b")));
  const std::string why = refusal([](const std::string& t) { return parse_json_document(t, "x"); },
                                  R"({"s": {"base": 1, "base": 2}})", "x");
  EXPECT_NE(why.find("the key \"base\" is given twice in one object"), std::string::npos) << why;
}

}  // namespace
}  // namespace ropecheck

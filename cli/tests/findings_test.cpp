// Issue 15's faults in what commands promise and replay: outputs that cannot be written are
// errors (fault 13), counterexamples are validated as input (14) and recognised by their
// content, not their name (15).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/wait.h>
#include <string>

#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace {

using Result = ropecheck::testing::CommandResult;
Result run(const std::string& args) { return ropecheck::testing::run_ropecheck(args); }

std::string temp_dir(const std::string& name) {
  const std::string d = std::string(::testing::TempDir()) + "/findings-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Fault 13: --json /dev/full and --junit /dev/full (a full disk) exited 0 with nothing written,
// and --json '' too; a CI job then trusts a file that is not there.
TEST(Outputs, AFileThatCannotBeWrittenIsExitTwoNamingIt) {
  const std::string d = temp_dir("full");
  for (const char* opt : {"--json", "--junit"}) {
    const Result r = run("check --kernel table_f32 --cases 1 --quiet --out-dir " + d + " " + std::string(opt) + " /dev/full");
    EXPECT_EQ(r.exit_code, 2) << opt << "\n" << r.out;
    EXPECT_NE(r.out.find("cannot write /dev/full"), std::string::npos) << r.out;
  }
  const Result empty = run("check --kernel table_f32 --cases 1 --quiet --json ''");
  EXPECT_EQ(empty.exit_code, 2) << empty.out;
  EXPECT_NE(empty.out.find("--json needs a file name"), std::string::npos) << empty.out;
  // A violation still decides the exit code over an unwritten file (the finding is real).
}

// A counterexample of the in-place-only wrong kernel, saved by check, for the repro tests.
std::string saved_counterexample(const std::string& d) {
  const Result r = run("check --plugin " INPLACE_PLUGIN " --property agreesWithExactReferenceWithinContract --cases 2 "
                       "--quiet --out-dir " + d);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(r.out, m, std::regex("reproduce: ropecheck repro (\\S+)"))) << r.out;
  return m[1].str();
}

// Fault 14: repro of a counterexample with an out-of-range scale_exponent, or whose values do
// not fit its kernel's input dtype, exited 0: it must refuse it (exit 2), never pass.
TEST(Repro, ACounterexampleOutOfRangeIsRefused) {
  const std::string d = temp_dir("range");
  const std::string file = saved_counterexample(d);
  ASSERT_EQ(run("repro " + file).exit_code, 1);
  nlohmann::json j = nlohmann::json::parse(read(file));
  auto write_variant = [&](const std::string& name, const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json v = j;
    change(v);
    const std::string path = d + "/" + name + ".json";
    std::ofstream(path) << v.dump(2);
    return path;
  };
  for (const auto& [name, change] :
       std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>>{
           {"exponent-2-40", [](nlohmann::json& v) { v["case"]["scale_exponent"] = int64_t{1} << 40; }},
           {"exponent-huge", [](nlohmann::json& v) { v["case"]["scale_exponent"] = 1e300; }},
           {"x-not-f32", [](nlohmann::json& v) { v["case"]["x"][0] = "0x1.0000000000001p+0"; }},
           {"x-short", [](nlohmann::json& v) { v["case"]["x"].erase(0); }},
           {"heads-zero", [](nlohmann::json& v) { v["case"]["n_heads"] = 0; }},
           {"finding-unknown", [](nlohmann::json& v) { v["finding"] = "maybe"; }}}) {
    const Result r = run("repro " + write_variant(name, change));
    EXPECT_EQ(r.exit_code, 2) << name << "\n" << r.out;
    EXPECT_EQ(r.out.find("PASSES"), std::string::npos) << name << "\n" << r.out;
  }
}

// Fault 15: repro chose the replay by the file's path: a counterexample saved under a folder
// named spec/ (or renamed spec-....json) was replayed as a fuzz input of the spec target and
// exited 0.  The content decides.
TEST(Repro, ACounterexampleIsRecognisedByItsContentWhateverItsName) {
  const std::string d = temp_dir("names");
  const std::string file = saved_counterexample(d);
  std::filesystem::create_directories(d + "/spec");
  for (const std::string& renamed : {d + "/spec/x.json", d + "/spec-crash-1234.json", d + "/differential-crash-abc"}) {
    std::filesystem::copy_file(file, renamed, std::filesystem::copy_options::overwrite_existing);
    const Result r = run("repro " + renamed);
    EXPECT_EQ(r.exit_code, 1) << renamed << "\n" << r.out;
    EXPECT_NE(r.out.find("REPRODUCED: in_place_only_wrong violates"), std::string::npos) << r.out;
  }
}

// Fault 13 for what goes to standard output, and fault 8: `kernels` on a full disk is exit 2,
// and its table keeps its columns aligned whatever the names.
TEST(Outputs, StandardOutputOnAFullDiskIsExitTwo) {
  const int code = std::system((std::string(ROPECHECK_BINARY) + " kernels > /dev/full 2>/dev/null").c_str());
  ASSERT_TRUE(WIFEXITED(code));
  EXPECT_EQ(WEXITSTATUS(code), 2);
  const Result r = run("kernels --plugin " INPLACE_PLUGIN);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string header, line;
  std::getline(lines, header);
  const size_t col = header.find("dtypes");
  ASSERT_NE(col, std::string::npos);
  while (std::getline(lines, line) && !line.empty()) {
    ASSERT_GT(line.size(), col) << line;
    EXPECT_TRUE(line[col - 1] == ' ' && line[col] != ' ') << line;  // every row's dtypes under the header's
  }
  EXPECT_NE(r.out.find("in_place_only_wrong"), std::string::npos);
  EXPECT_NE(r.out.find("2..1024"), std::string::npos) << "rotary_dim range shown";
}

}  // namespace

// The report (reports/): a small report is generated once through the same pipeline as
// `ropecheck report` (run_sweep → write_report) and then checked from the outside:
//  - every cell of report.md, and every worst case of report.json, matches a direct
//    recomputation — the kernel run alone on that position, compared with the MPFR
//    ExactReference (exact view) or the recipe reference (recipe view);
//  - report.json validates against the schema table of reports/SCHEMA.md;
//  - report.html is self-contained and renders in headless Chromium with all its plots
//    (skipped, with a message, when chromium is not installed; CI installs it).
//
// Tolerances: a printed "%.3g" value is compared with half a unit of its third significant
// digit; a worst case's error (printed to 17 digits in JSON) with the fast oracle's
// contract (kFastOracleErrorBound·r, in ulp of r) plus 1e-12 relative.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "impl/registry.hpp"
#include "properties/recipe_view.hpp"
#include "reference/error_model.hpp"
#include "reference/exact_reference.hpp"
#include "reports/emulated_kernels.hpp"
#include "reports/paper_checks.hpp"
#include "reports/sweep.hpp"
#include "reports/writers.hpp"

namespace ropecheck::report {
namespace {

using json = nlohmann::json;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const rc_kernel_desc* kernel(const std::string& name) {
  for (const rc_kernel_desc* d : impl::builtin_kernels()) {
    if (name == d->name) return d;
  }
  return nullptr;
}

RopeSpec test_spec() {
  RopeSpec s;
  s.name = "test d64 b1e4";
  s.head_dim = s.rotary_dim = 64;
  s.base = 10000;
  s.max_position_embeddings = 4096;
  return s;
}

// One report for the whole suite: an f32 recipe (inferred view), an f64 recipe, an exact_dd
// kernel with bf16 storage; positions up to 2^40 so the HF kernel's angle error shows.
struct Fixture {
  std::string dir;
  ReportData data;
  std::vector<const rc_kernel_desc*> kernels;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture fx;
    // One directory per test: CTest runs each TEST in its own process, possibly in parallel.
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fx.dir = std::string(ROPECHECK_BINARY_DIR) + "/report_test_out/" + (info ? info->name() : "all");
    if (std::system(("rm -rf '" + fx.dir + "'").c_str()) != 0) ADD_FAILURE() << "cannot clear " << fx.dir;
    const RopeSpec spec = test_spec();
    props::Judge judge;
    SweepOptions opt;
    opt.positions = parse_position_sweep("0:2^40:log:40");
    opt.threads = 2;
    opt.chunk = 16;  // several chunks per thread: exercises the merge
    opt.seed = 5;
    fx.kernels = {kernel("scalar_f32_hf"), kernel("scalar_f64"), kernel("table_bf16")};
    fx.data.specs.push_back({"test-d64", spec, "test", "specs/test-d64.json"});
    for (const rc_kernel_desc* d : fx.kernels) {
      fx.data.runs.push_back(run_sweep(*d, spec, "test-d64", judge, opt));
    }
    const RopeSpec ps = paper_spec();
    const ref::FastOracle po(ps);
    fx.data.shift = shift_invariance_table({{kernel("scalar_f32_hf"), "fp32"}, {&kEmulBf16AngleKernel, "EMULATION"}},
                                           po, 8, 3);
    fx.data.decay = roformer_decay(po, 4096);
    fx.data.has_paper = true;
    fx.data.command = "report_test";
    fx.data.positions_text = "0:2^40:log:40";
    fx.data.threads = 2;
    const std::string warning = write_report(fx.data, fx.dir);
    EXPECT_EQ(warning, "");
    return fx;
  }();
  return f;
}

// Direct recomputation of one pair of one sample: the kernel run alone on that position.
struct Direct {
  double exact_ulps, recipe_ulps, r;
  double y[2];
};
Direct direct(const rc_kernel_desc& d, const SweepResult& run, const ref::ExactReference& exact,
              const props::RecipeView& view, int64_t sample, int pair) {
  const props::KernelRunner runner(d, run.spec);
  props::Case c;
  c.spec = run.spec;
  c.positions = {run.samples[static_cast<size_t>(sample)]};
  c.x = sweep_input(runner, run.seed, sample);
  const props::RunOutput out = runner.run(c);
  EXPECT_EQ(out.status, 0);
  std::vector<double> hi(c.x.size()), lo(c.x.size());
  exact.rotate(c.positions[0], c.x.data(), hi.data(), lo.data());
  const auto i0 = static_cast<size_t>(run.spec.first_index(pair)), i1 = static_cast<size_t>(run.spec.second_index(pair));
  Direct r{};
  r.r = exact.attention_factor() * std::hypot(c.x[i0], c.x[i1]);
  r.y[0] = out.y[i0];
  r.y[1] = out.y[i1];
  const double err = std::hypot((out.y[i0] - hi[i0]) - lo[i0], (out.y[i1] - hi[i1]) - lo[i1]);
  r.exact_ulps = ref::ulps_of_pair_norm(err, r.r, d.out_dtype);
  r.recipe_ulps = r.exact_ulps;
  if (view.kind() == props::RecipeView::Kind::kInferred) {
    r.recipe_ulps = ref::ulps_of_pair_norm(view.error(c.positions[0], pair, c.x[i0], c.x[i1], out.y[i0], out.y[i1]),
                                           r.r, d.out_dtype);
  }
  return r;
}

// "Max = X ulp (RMS = Y)" → (X, Y).
bool parse_cell(const std::string& s, double* mx, double* rms) {
  static const std::regex re(R"(Max = ([-+0-9.e]+) ulp \(RMS = ([-+0-9.e]+)\))");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  *mx = std::stod(m[1]);
  *rms = std::stod(m[2]);
  return true;
}
// Half a unit in the third significant digit of a %.3g-printed value.
double printed_tolerance(double printed) {
  if (printed == 0) return 1e-300;
  return 0.5 * std::pow(10.0, std::floor(std::log10(std::fabs(printed))) - 2) * (1 + 1e-9);
}

std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line.substr(1));
  std::string cell;
  while (std::getline(ss, cell, '|')) {
    const size_t a = cell.find_first_not_of(' '), b = cell.find_last_not_of(' ');
    cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
  }
  return cells;
}

TEST(Report, EveryCellOfReportMdMatchesADirectComparisonWithTheExactReference) {
  const Fixture& fx = fixture();
  const std::string md = read(fx.dir + "/report.md");
  ASSERT_FALSE(md.empty());
  int checked_cells = 0;
  for (size_t ri = 0; ri < fx.data.runs.size(); ++ri) {
    const SweepResult& run = fx.data.runs[ri];
    ASSERT_EQ(run.skipped, "") << run.kernel;
    // Built-in kernels within their contracts: the judge found nothing on their worst cases.
    EXPECT_FALSE(run.finding) << run.kernel << ": " << run.finding->judgement.reason;
    EXPECT_TRUE(run.notes.empty()) << run.kernel << ": " << run.notes.front();
    const rc_kernel_desc& d = *fx.kernels[ri];
    const ref::ExactReference exact(run.spec);
    const props::KernelRunner runner(d, run.spec);
    const props::RecipeView view(runner, exact);
    // Recompute every (sample, pair) directly, bucketed like the report.
    const int pairs = run.spec.pairs(), fb = frequency_band_count(pairs);
    std::vector<Cell> ex(static_cast<size_t>(kPositionBands * fb)), rc(ex.size());
    for (size_t s = 0; s < run.samples.size(); ++s) {
      for (int j = 0; j < pairs; ++j) {
        const Direct r = direct(d, run, exact, view, static_cast<int64_t>(s), j);
        const size_t cell = static_cast<size_t>(position_band(run.samples[s]) * fb + frequency_band(j, pairs));
        Worst w;
        w.valid = true;
        w.ulps = r.exact_ulps;
        ex[cell].add(w);
        w.ulps = r.recipe_ulps;
        rc[cell].add(w);
      }
    }
    // Find this run's two tables in report.md and compare every printed cell.
    const std::string head = "## " + run.kernel + " — " + run.spec_label + "\n";
    const size_t at = md.find(head);
    ASSERT_NE(at, std::string::npos) << head;
    for (int view_i = 0; view_i < 2; ++view_i) {
      const std::string title = view_i == 0 ? "### Against exact mathematics" : "### Against the kernel's own recipe";
      size_t p = md.find(title, at);
      ASSERT_NE(p, std::string::npos);
      p = md.find("\n|", p);  // the table header
      std::istringstream lines(md.substr(p + 1));
      std::string line;
      std::getline(lines, line);  // header
      std::getline(lines, line);  // ---
      while (std::getline(lines, line) && !line.empty() && line[0] == '|') {
        const std::vector<std::string> cells = split_row(line);
        int band = -1;
        for (int b = 0; b < kPositionBands; ++b) {
          if (cells[0] == position_band_label(b)) band = b;
        }
        ASSERT_GE(band, 0) << line;
        for (int f = 0; f < fb; ++f) {
          const Cell& want = (view_i == 0 ? ex : rc)[static_cast<size_t>(band * fb + f)];
          const std::string& text = cells[static_cast<size_t>(1 + f)];
          if (want.n == 0) {
            EXPECT_EQ(text, "—");
            continue;
          }
          double mx = 0, rms = 0;
          ASSERT_TRUE(parse_cell(text, &mx, &rms)) << text;
          EXPECT_NEAR(mx, want.max, printed_tolerance(mx))
              << run.kernel << (view_i ? " recipe" : " exact") << " band " << band << "/" << f << ": " << text;
          EXPECT_NEAR(rms, want.rms(), printed_tolerance(rms))
              << run.kernel << (view_i ? " recipe" : " exact") << " band " << band << "/" << f << ": " << text;
          ++checked_cells;
        }
      }
    }
  }
  std::printf("checked %d report.md cells against direct recomputation\n", checked_cells);
  EXPECT_GT(checked_cells, 3 * 2 * 4 * 8);  // 3 kernels, 2 views, 4 frequency bands, ≥ 8 position bands
}

TEST(Report, EveryWorstCaseInReportJsonIsConfirmedByTheExactReference) {
  const Fixture& fx = fixture();
  const json j = json::parse(read(fx.dir + "/report.json"));
  int checked = 0;
  for (size_t ri = 0; ri < fx.data.runs.size(); ++ri) {
    const SweepResult& run = fx.data.runs[ri];
    const rc_kernel_desc& d = *fx.kernels[ri];
    const ref::ExactReference exact(run.spec);
    const props::KernelRunner runner(d, run.spec);
    const props::RecipeView view(runner, exact);
    const json& jr = j["runs"][ri];
    ASSERT_EQ(jr["kernel"], run.kernel);
    for (const char* vname : {"exact", "recipe"}) {
      for (const json& cell : jr["views"][vname]["cells"]) {
        const json& w = cell["worst"];
        const int64_t sample = w["sample"].get<int64_t>();
        const int pair = w["pair"].get<int>();
        ASSERT_EQ(std::to_string(run.samples[static_cast<size_t>(sample)]), w["position"].get<std::string>());
        const Direct r = direct(d, run, exact, view, sample, pair);
        const double got = w["error_ulps"].get<double>();
        const double want = std::string(vname) == "exact" ? r.exact_ulps : r.recipe_ulps;
        const double tol = ref::ulps_of_pair_norm(ref::kFastOracleErrorBound * r.r, r.r, d.out_dtype) + 1e-12 * want;
        EXPECT_NEAR(got, want, tol) << run.kernel << " " << vname << " t=" << w["position"] << " pair " << pair;
        // The printed kernel output is what the kernel returns for that head, bit for bit.
        EXPECT_EQ(w["y"][0].get<std::string>(), props::hexfloat(r.y[0]));
        EXPECT_EQ(w["y"][1].get<std::string>(), props::hexfloat(r.y[1]));
        // The reproducer names the spec file, the position and the whole input head.
        const std::string rep = w["reproducer"].get<std::string>();
        EXPECT_NE(rep.find("--positions " + w["position"].get<std::string>() + " "), std::string::npos) << rep;
        const size_t a = rep.find("--input '") + 9;
        const json input = json::parse(rep.substr(a, rep.rfind('\'') - a));
        const std::vector<double> x = sweep_input(runner, run.seed, sample);
        ASSERT_EQ(input.size(), x.size());
        for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(input[i].get<double>(), x[i]) << rep;
        const std::string spec_file = rep.substr(rep.find("--spec ") + 7, rep.find(" --positions") - rep.find("--spec ") - 7);
        const RopeSpec reread = load_spec_file(spec_file);
        EXPECT_EQ(spec_to_json_text(reread), spec_to_json_text(run.spec));
        ++checked;
      }
    }
  }
  std::printf("confirmed %d worst cases\n", checked);
  EXPECT_GT(checked, 40);
}

// ---- schema ------------------------------------------------------------------------------

struct SchemaRow {
  std::string path, type, required;
};
std::vector<SchemaRow> schema_rows() {
  const std::string text = read(std::string(ROPECHECK_SOURCE_DIR) + "/reports/SCHEMA.md");
  static const std::regex row(R"(^\| `([^`]+)` \| ([a-z|\\]+) \| ([a-z ]+) \|)");
  std::vector<SchemaRow> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) {
      std::string type = m[2];
      type.erase(std::remove(type.begin(), type.end(), '\\'), type.end());
      rows.push_back({m[1], type, m[3]});
    }
  }
  return rows;
}

bool has_type(const json& v, const std::string& types) {
  std::stringstream ss(types);
  std::string t;
  while (std::getline(ss, t, '|')) {
    if ((t == "string" && v.is_string()) || (t == "null" && v.is_null()) || (t == "boolean" && v.is_boolean()) ||
        (t == "integer" && v.is_number_integer()) || (t == "number" && v.is_number()) ||
        (t == "array" && v.is_array()) || (t == "object" && v.is_object())) {
      return true;
    }
  }
  return false;
}

// Walks `path` from `node`; `ctx` carries the nearest enclosing `skipped` / `available`.
void check_path(const json& node, const std::vector<std::string>& segs, size_t i, const SchemaRow& row,
                bool not_skipped, bool available, const std::string& where, int* errors, int* seen) {
  if (node.is_object() && node.contains("skipped")) not_skipped = node["skipped"].is_null();
  if (node.is_object() && node.contains("available")) available = node["available"].is_boolean() && node["available"].get<bool>();
  std::string seg = segs[i];
  const bool each = seg.size() > 2 && seg.substr(seg.size() - 2) == "[]";
  if (each) seg = seg.substr(0, seg.size() - 2);
  std::vector<std::pair<std::string, const json*>> next;
  if (seg == "*") {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) next.push_back({it.key(), &it.value()});
    }
  } else if (node.is_object() && node.contains(seg)) {
    next.push_back({seg, &node[seg]});
  } else {
    const bool needed = row.required == "yes" || (row.required == "if not skipped" && not_skipped) ||
                        (row.required == "if available" && not_skipped && available);
    if (needed) {
      ADD_FAILURE() << "report.json: " << where << "." << seg << " is required (" << row.required << ") by SCHEMA.md";
      ++*errors;
    }
    return;
  }
  for (const auto& [key, child] : next) {
    const std::string w = where + "." + key;
    if (each) {
      if (!child->is_array()) {
        ADD_FAILURE() << "report.json: " << w << " must be an array";
        ++*errors;
        continue;
      }
      for (size_t k = 0; k < child->size(); ++k) {
        const json& el = (*child)[k];
        if (i + 1 == segs.size()) {
          ++*seen;
          if (!has_type(el, row.type)) {
            ADD_FAILURE() << "report.json: " << w << "[" << k << "] must be " << row.type;
            ++*errors;
          }
        } else {
          check_path(el, segs, i + 1, row, not_skipped, available, w + "[" + std::to_string(k) + "]", errors, seen);
        }
      }
    } else if (i + 1 == segs.size()) {
      ++*seen;
      if (!has_type(*child, row.type)) {
        ADD_FAILURE() << "report.json: " << w << " must be " << row.type << ", is " << child->type_name();
        ++*errors;
      }
    } else {
      check_path(*child, segs, i + 1, row, not_skipped, available, w, errors, seen);
    }
  }
}

TEST(Report, ReportJsonValidatesAgainstItsDocumentedSchema) {
  const Fixture& fx = fixture();
  const json j = json::parse(read(fx.dir + "/report.json"));
  // The fixture's kernels hold: the same report with a finding of the judge (as the campaign
  // records one: a saved counterexample and its replay command) shows the findings' fields.
  ReportData with_finding = fx.data;
  props::Judgement violation;
  violation.finding = props::Finding::kViolation;
  violation.property = "agreesWithExactReferenceWithinContract";
  violation.reason = "pair error exceeds the contract bound";
  violation.detail = "evidence";
  with_finding.findings.push_back({"scalar_f32_hf", "test-d64", violation, "dir/cases/scalar_f32_hf__x.json"});
  // ... and a run whose kernel printed (the campaign captures it: runs[].kernel_output).
  for (SweepResult& r : with_finding.runs) {
    if (!r.skipped.empty()) continue;
    r.kernel_output = "a kernel's own line <b>\n";
    r.kernel_output_bytes = r.kernel_output.size();
    break;
  }
  const std::string finding_dir = fx.dir + "-finding";
  ASSERT_EQ(std::system(("rm -rf '" + finding_dir + "'").c_str()), 0);
  EXPECT_EQ(write_report(with_finding, finding_dir), "");
  const json jf = json::parse(read(finding_dir + "/report.json"));
  ASSERT_EQ(jf["findings"].size(), 1u);
  EXPECT_EQ(jf["findings"][0]["reproducer"], "ropecheck repro dir/cases/scalar_f32_hf__x.json");
  EXPECT_NE(read(finding_dir + "/report.md").find("- **FAIL** scalar_f32_hf — test-d64"), std::string::npos);
  EXPECT_NE(read(finding_dir + "/report.html").find("a kernel's own line &lt;b&gt;"), std::string::npos)
      << "report.html does not show (escaped) what the kernel printed";
  const std::vector<SchemaRow> rows = schema_rows();
  ASSERT_GT(rows.size(), 50u) << "SCHEMA.md's table was not found";
  int errors = 0, total_seen = 0;
  for (const SchemaRow& row : rows) {
    std::vector<std::string> segs;
    std::stringstream ss(row.path);
    std::string s;
    while (std::getline(ss, s, '.')) segs.push_back(s);
    int seen = 0;
    check_path(j, segs, 0, row, true, true, "", &errors, &seen);
    check_path(jf, segs, 0, row, true, true, "", &errors, &seen);
    // Every documented field appears in one of the two reports (they have every kind of run,
    // view and finding).
    if (row.path != "runs[].worst_case_file") {
      EXPECT_GT(seen, 0) << row.path << " never appears in the report";
    }
    total_seen += seen;
  }
  EXPECT_EQ(j["schema"], "ropecheck-report/1");
  // Not vacuous: a broken document fails the same validator.
  json broken = j;
  broken["runs"][0]["views"]["exact"]["cells"][0].erase("max_ulps");
  broken["runs"][1]["samples"] = "many";
  int broken_errors = 0, ignored = 0;
  ::testing::TestPartResultArray failures;
  {
    // Intercepts the validator's ADD_FAILUREs: they are expected here.
    ::testing::ScopedFakeTestPartResultReporter quiet(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    for (const SchemaRow& row : rows) {
      std::vector<std::string> segs;
      std::stringstream ss(row.path);
      std::string s;
      while (std::getline(ss, s, '.')) segs.push_back(s);
      check_path(broken, segs, 0, row, true, true, "", &broken_errors, &ignored);
    }
  }
  EXPECT_EQ(broken_errors, 2);
  std::printf("validated %d values against %zu schema rows\n", total_seen, rows.size());
  EXPECT_EQ(errors, 0);
}

// A spec warning (ropecheck report passes props::conditioning_warning's sentences) is in all
// three documents, escaped in the HTML.
TEST(Report, SpecWarningsAppearInEveryDocument) {
  const Fixture& fx = fixture();
  ReportData d = fx.data;
  d.warnings = {"spec yarn/half_split d=64/64: low = 3 <and> high"};
  const std::string dir = fx.dir + "-warned";
  ASSERT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
  EXPECT_EQ(write_report(d, dir), "");
  const json j = json::parse(read(dir + "/report.json"));
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["warnings"][0], d.warnings[0]);
  EXPECT_NE(read(dir + "/report.md").find("**Warning:** spec yarn/half_split d=64/64: low = 3 <and> high"),
            std::string::npos);
  EXPECT_NE(read(dir + "/report.html").find("<strong>Warning:</strong> spec yarn/half_split d=64/64: low = 3 &lt;and&gt; high"),
            std::string::npos);
  EXPECT_EQ(json::parse(read(fx.dir + "/report.json"))["warnings"].size(), 0u);
}

// ---- HTML ----------------------------------------------------------------------------------

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string cmd = std::string("command -v ") + name + " > /dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  return "";
}

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

TEST(Report, ReportHtmlIsSelfContainedWithInlinedPlots) {
  const Fixture& fx = fixture();
  const std::string html = read(fx.dir + "/report.html");
  ASSERT_FALSE(html.empty());
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 4)) ++svgs;
  // Per spec: exact and recipe error curves and a histogram; one heat map per run; two paper plots.
  EXPECT_EQ(svgs, 3u + fx.data.runs.size() + 2u);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
}

TEST(Report, ReportHtmlRendersInHeadlessChromiumWithAllPlots) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (Debian package `chromium`; scripts/install-deps.sh installs it "
                    "in CI): the HTML rendering check is skipped";
  }
  const Fixture& fx = fixture();
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --enable-logging=stderr --v=0";
  const std::string profile = fx.dir + "/chromium-profile";
  const std::string url = " 'file://" + fx.dir + "/report.html'";
  int status = 0;
  const std::string dom = run_capture("timeout 120 " + chromium + flags + " --user-data-dir='" + profile + "-dom'" +
                                          " --dump-dom" + url + " 2> '" + fx.dir + "/chromium-dom.log'",
                                      &status);
  ASSERT_EQ(status, 0) << read(fx.dir + "/chromium-dom.log");
  // The page's own render check: every inlined SVG has a non-empty layout box.
  static const std::regex check(R"re(id="render-check"[^>]*data-svg-total="(\d+)"[^>]*data-svg-rendered="(\d+)")re");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, check)) << "render check did not run (JavaScript error?)";
  const int total = std::stoi(m[1]), rendered = std::stoi(m[2]);
  std::printf("chromium: %d of %d plots rendered\n", rendered, total);
  EXPECT_EQ(total, static_cast<int>(3 + fx.data.runs.size() + 2));
  EXPECT_EQ(rendered, total);
  // No JavaScript error or failed resource load was logged.
  const std::string log = read(fx.dir + "/chromium-dom.log");
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
  EXPECT_EQ(log.find("Failed to load resource"), std::string::npos) << log;
  // And a screenshot (kept in the build tree for people to look at).
  const std::string png = fx.dir + "/report.png";
  run_capture("timeout 120 " + chromium + flags + " --user-data-dir='" + profile + "-png'" +
                  " --window-size=1400,2000 --screenshot='" + png + "'" + url + " > /dev/null 2>&1",
              &status);
  struct stat st{};
  ASSERT_EQ(::stat(png.c_str(), &st), 0) << "no screenshot written";
  EXPECT_GT(st.st_size, 20000) << "screenshot suspiciously small (blank page?)";
}

}  // namespace
}  // namespace ropecheck::report

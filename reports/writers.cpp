#include "reports/writers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "impl/registry.hpp"
#include "properties/case.hpp"
#include "properties/counterexample.hpp"
#include "properties/output_file.hpp"

namespace ropecheck::report {

namespace {

using json = nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string g3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
std::string g17(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string hex(double v) { return props::hexfloat(v); }

std::string slug(const std::string& s) {
  std::string o;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    o += ok ? c : '_';
  }
  while (o.find("__") != std::string::npos) o.replace(o.find("__"), 2, "_");
  return o.substr(0, 60);
}

std::string run_id(const SweepResult& r) { return slug(r.kernel) + "__" + slug(r.spec_label); }

const SpecEntry* find_spec(const ReportData& d, const std::string& label) {
  for (const SpecEntry& s : d.specs) {
    if (s.label == label) return &s;
  }
  return nullptr;
}

std::string freq_band_label(const SweepResult& r, int f) {
  const int pairs = r.spec.pairs();
  const int lo = frequency_band_first(f, pairs), hi = frequency_band_first(f + 1, pairs) - 1;
  return "j " + std::to_string(lo) + "-" + std::to_string(hi) + " (θ " + g3(r.theta[static_cast<size_t>(lo)]) +
         " … " + g3(r.theta[static_cast<size_t>(hi)]) + ")";
}

// A small table model rendered as Markdown or HTML, so both print the same strings.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string md() const {
    std::string s = "|";
    for (const auto& h : header) s += " " + h + " |";
    s += "\n|";
    for (size_t i = 0; i < header.size(); ++i) s += i ? "---|" : "---|";
    s += "\n";
    for (const auto& r : rows) {
      s += "|";
      for (const auto& c : r) s += " " + c + " |";
      s += "\n";
    }
    return s;
  }
  std::string html() const {
    std::string s = "<table><thead><tr>";
    for (const auto& h : header) s += "<th>" + markup_escape(h) + "</th>";
    s += "</tr></thead><tbody>";
    for (const auto& r : rows) {
      s += "<tr>";
      for (const auto& c : r) s += "<td>" + markup_escape(c) + "</td>";
      s += "</tr>";
    }
    return s + "</tbody></table>\n";
  }
};

Table band_table(const SweepResult& r, const View& v) {
  Table t;
  const int fb = frequency_band_count(r.spec.pairs());
  t.header.push_back("positions");
  for (int f = 0; f < fb; ++f) t.header.push_back(freq_band_label(r, f));
  t.header.push_back("bound (max, ulp)");
  t.header.push_back("error/bound (max)");
  for (int b = 0; b < kPositionBands; ++b) {
    Cell row;
    std::vector<std::string> cells{position_band_label(b)};
    for (int f = 0; f < fb; ++f) {
      const Cell& c = v.cells[static_cast<size_t>(b * fb + f)];
      row.merge(c);
      cells.push_back(cell_text(c));
    }
    if (row.n == 0) continue;
    cells.push_back(g3(row.max_bound_ulps));
    cells.push_back(g3(row.max_ratio));
    t.rows.push_back(cells);
  }
  return t;
}

std::string within_text(const SweepResult& r, const View& v, double e) {
  bool all = false;
  const int64_t t = stays_within(r, v, e, &all);
  if (t < 0) return "never (t = 0 exceeds)";
  return (all ? "≥ " : "") + format_position(t) + (all ? " (all)" : "");
}

Table within_table(const ReportData& d, bool recipe) {
  Table t;
  t.header = {"kernel", "spec"};
  for (double e : kWithinUlps) t.header.push_back("≤ " + g3(e) + " ulp up to");
  t.header.push_back("max measured");
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty()) continue;
    const View& v = recipe ? r.recipe : r.exact;
    std::vector<std::string> row{r.kernel, r.spec_label};
    if (!v.available) {
      for (size_t i = 0; i <= kWithinUlps.size(); ++i) row.push_back(i == 0 ? "view unavailable" : "");
    } else {
      for (double e : kWithinUlps) row.push_back(within_text(r, v, e));
      row.push_back(format_position(r.samples.back()));
    }
    t.rows.push_back(row);
  }
  return t;
}

Table summary_table(const ReportData& d) {
  Table t;
  t.header = {"kernel", "spec", "positions", "exact view", "bound holds", "recipe view", "recipe bound holds"};
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty()) {
      t.rows.push_back({r.kernel, r.spec_label, "skipped: " + r.skipped, "", "", "", ""});
      continue;
    }
    const std::string holds = r.exact.overall.max_ratio <= 1 ? "yes (" + g3(r.exact.overall.max_ratio) + ")"
                                                              : "NO (" + g3(r.exact.overall.max_ratio) + ")";
    std::string rv = "unavailable", rholds = "";
    if (r.recipe.available) {
      rv = cell_text(r.recipe.overall);
      rholds = r.recipe.overall.max_ratio <= 1 ? "yes (" + g3(r.recipe.overall.max_ratio) + ")"
                                               : "NO (" + g3(r.recipe.overall.max_ratio) + ")";
    }
    t.rows.push_back({r.kernel, r.spec_label,
                      std::to_string(r.samples.size()) + " in [" + format_position(r.samples.front()) + ", " +
                          format_position(r.samples.back()) + "]",
                      cell_text(r.exact.overall), holds, rv, rholds});
  }
  return t;
}

Table shift_table(const ShiftTable& s) {
  Table t;
  t.header = {"kernel", "what"};
  for (int64_t dl : s.deltas) t.header.push_back("Δ = " + std::to_string(dl));
  for (const ShiftRow& r : s.rows) {
    std::vector<std::string> row{r.kernel, r.what};
    for (double v : r.mean_abs_diff) row.push_back(g3(v));
    t.rows.push_back(row);
  }
  return t;
}

Table decay_table(const DecayCurve& dc) {
  Table t;
  t.header = {"relative distance m − n", "(1/(d/2)) Σ_j |S_j|"};
  for (int64_t want : {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384, 65536}) {
    for (size_t i = 0; i < dc.distance.size(); ++i) {
      if (dc.distance[i] == want) t.rows.push_back({std::to_string(want), g3(dc.mean_abs_s[i])});
    }
  }
  return t;
}

json worst_json(const SweepResult& r, const Worst& w, const std::string& spec_path) {
  if (!w.valid) return nullptr;
  return {{"position", std::to_string(w.t)},
          {"pair", w.pair},
          {"sample", w.sample},
          {"x", {hex(w.x[0]), hex(w.x[1])}},
          {"y", {hex(w.y[0]), hex(w.y[1])}},
          {"reference", {hex(w.ref[0]), hex(w.ref[1])}},
          {"pair_norm", w.r},
          {"error", w.err},
          {"error_ulps", w.ulps},
          {"bound", w.bound},
          {"bound_ulps", w.bound_ulps},
          {"reproducer", reproducer(r, w, spec_path)}};
}

json cell_json(const SweepResult& r, const Cell& c, const std::string& spec_path) {
  return {{"n", c.n},
          {"max_ulps", c.max},
          {"rms_ulps", c.rms()},
          {"max_bound_ulps", c.max_bound_ulps},
          {"max_ratio", c.max_ratio},
          {"text", cell_text(c)},
          {"worst", worst_json(r, c.worst, spec_path)}};
}

json view_json(const SweepResult& r, const View& v, const std::string& spec_path) {
  json j = {{"available", v.available}, {"note", v.note}};
  if (!v.available) return j;
  j["overall"] = cell_json(r, v.overall, spec_path);
  json cells = json::array();
  const int pairs = r.spec.pairs(), fb = frequency_band_count(pairs);
  for (int b = 0; b < kPositionBands; ++b) {
    for (int f = 0; f < fb; ++f) {
      const Cell& c = v.cells[static_cast<size_t>(b * fb + f)];
      if (c.n == 0) continue;
      json cj = {{"position_band", b},
                 {"position_band_label", position_band_label(b)},
                 {"frequency_band", f},
                 {"pairs", {frequency_band_first(f, pairs), frequency_band_first(f + 1, pairs) - 1}}};
      const json stats = cell_json(r, c, spec_path);
      for (auto it = stats.begin(); it != stats.end(); ++it) cj[it.key()] = it.value();
      cells.push_back(cj);
    }
  }
  j["cells"] = cells;
  json within = json::array();
  for (double e : kWithinUlps) {
    bool all = false;
    const int64_t t = stays_within(r, v, e, &all);
    within.push_back({{"ulps", e}, {"up_to", t < 0 ? json(nullptr) : json(std::to_string(t))}, {"all_samples", all}});
  }
  j["stays_within"] = within;
  return j;
}

// ---- gnuplot ---------------------------------------------------------------------------

std::string num(double v) { return std::isfinite(v) && v > 0 ? g17(v) : "NaN"; }

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                         "#17becf", "#7f7f7f", "#bcbd22"};

struct PlotSet {
  std::vector<std::pair<std::string, std::string>> svgs;  // (title, file) in order
  std::string script;
};

void add_plot(PlotSet& ps, const std::string& dir, const std::string& name, const std::string& title,
              const std::string& body, const std::string& size = "760,440") {
  ps.script += "set terminal svg size " + size + " fixed enhanced font 'Helvetica,11' background '#ffffff'\n";
  ps.script += "set output '" + dir + "/plots/" + name + ".svg'\n";
  ps.script += "reset\nset datafile missing 'NaN'\nset grid lc rgb '#dddddd'\nset key outside right top\n";
  ps.script += body + "\nunset output\n";
  ps.svgs.push_back({title, name});
}

PlotSet make_plots(const ReportData& d, const std::string& dir) {
  PlotSet ps;
  // Per-run data files.
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty()) continue;
    std::string bins = "# t_bin_start exact_max exact_bound recipe_max recipe_bound (ulp of the pair norm)\n";
    for (int b = 1; b < kPositionBins; ++b) {
      if (r.exact.bin_max[static_cast<size_t>(b)] < 0) continue;
      bins += g17(position_bin_start(b)) + " " + num(r.exact.bin_max[static_cast<size_t>(b)]) + " " +
              num(r.exact.bin_bound[static_cast<size_t>(b)]) + " " +
              num(r.recipe.available ? r.recipe.bin_max[static_cast<size_t>(b)] : -1) + " " +
              num(r.recipe.available ? r.recipe.bin_bound[static_cast<size_t>(b)] : -1) + "\n";
    }
    write_output_file(dir + "/data/" + run_id(r) + "_bins.dat", bins);
    std::string hist = "# ulp_bin_start exact_count recipe_count\n";
    for (int b = 1; b < kHistBins; ++b) {
      const int64_t e = r.exact.hist[static_cast<size_t>(b)];
      const int64_t rc = r.recipe.available ? r.recipe.hist[static_cast<size_t>(b)] : 0;
      hist += g17(hist_bin_start(b)) + " " + (e ? std::to_string(e) : "NaN") + " " + (rc ? std::to_string(rc) : "NaN") + "\n";
    }
    write_output_file(dir + "/data/" + run_id(r) + "_hist.dat", hist);
    std::string heat = "# log2(t)+1 pair log2(max error ulp)\n";
    const int pairs = r.spec.pairs();
    int row_lo = kHeatRows, row_hi = -1;
    for (int row = 0; row < kHeatRows; ++row) {
      for (int j = 0; j < pairs; ++j) {
        if (r.exact.heat[static_cast<size_t>(row * pairs + j)] >= 0) {
          row_lo = std::min(row_lo, row);
          row_hi = std::max(row_hi, row);
        }
      }
    }
    for (int row = row_lo; row <= row_hi; ++row) {
      for (int j = 0; j < pairs; ++j) {
        const float v = r.exact.heat[static_cast<size_t>(row * pairs + j)];
        heat += std::to_string(row) + " " + std::to_string(j) + " " +
                (v < 0 ? "NaN" : g17(std::log2(std::max(static_cast<double>(v), 0x1p-30)))) + "\n";
      }
      heat += "\n";
    }
    write_output_file(dir + "/data/" + run_id(r) + "_heat.dat", heat);
  }
  // Per spec: error vs position (both views) and histogram, all kernels side by side.
  for (const SpecEntry& s : d.specs) {
    for (int view = 0; view < 2; ++view) {
      std::string plot;
      int i = 0;
      for (const SweepResult& r : d.runs) {
        if (r.spec_label != s.label || !r.skipped.empty() || (view == 1 && !r.recipe.available)) continue;
        const std::string c = kColors[i++ % 10];
        const std::string f = "'" + dir + "/data/" + run_id(r) + "_bins.dat'";
        const int col = view == 0 ? 2 : 4;
        plot += std::string(plot.empty() ? "plot " : ", ") + f + " using 1:" + std::to_string(col) +
                 " with linespoints pt 7 ps 0.3 lw 1.5 lc rgb '" + c + "' title '" + r.kernel + "' noenhanced, " + f +
                " using 1:" + std::to_string(col + 1) + " with lines dt 2 lw 1 lc rgb '" + c +
                "' notitle";
      }
      if (plot.empty()) continue;
      const std::string name = std::string(view == 0 ? "error_exact__" : "error_recipe__") + slug(s.label);
      const std::string title = std::string(view == 0 ? "Error against exact math" : "Error against the kernel's own recipe") +
                                " — " + s.label;
      add_plot(ps, dir, name, title,
               "set logscale x 2\nset logscale y 10\nset xtics 256\nset format x '2^{%L}'\nset format y '10^{%L}'\nset xlabel 'position t'\n"
               "set ylabel 'max error (ulp of the pair norm), dashed: bound'\nset title \"" + title + "\" noenhanced\n" + plot);
    }
    std::string plot;
    int i = 0;
    for (const SweepResult& r : d.runs) {
      if (r.spec_label != s.label || !r.skipped.empty()) continue;
      const std::string c = kColors[i++ % 10];
      plot += std::string(plot.empty() ? "plot " : ", ") + "'" + dir + "/data/" + run_id(r) +
              "_hist.dat' using 1:2 with steps lw 1.5 lc rgb '" + c + "' title '" + r.kernel + "' noenhanced";
    }
    if (!plot.empty()) {
      const std::string title = "Error histogram (exact view) — " + s.label;
      add_plot(ps, dir, "hist__" + slug(s.label), title,
               "set logscale x 2\nset logscale y 10\nset xtics 16\nset format x '2^{%L}'\nset format y '10^{%L}'\nset xlabel 'error (ulp of the pair norm)'\nset ylabel 'pairs'\n"
               "set title \"" + title + "\" noenhanced\n" + plot);
    }
  }
  // Heat maps, one per run.
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty()) continue;
    const std::string title = "log2(max error, ulp): " + r.kernel + " — " + r.spec_label;
    add_plot(ps, dir, "heat__" + run_id(r), title,
             "set xlabel 'log2(t) (octave of the position)'\nset ylabel 'pair j (θ decreasing)'\n"
             "set cblabel 'log2 max error (ulp)'\nset palette rgbformulae 22,13,-31\nunset key\n"
             "set title \"" + title + "\" noenhanced\nset xrange [*:*]\nset yrange [*:*]\n"
             "plot '" + dir + "/data/" + run_id(r) + "_heat.dat' using ($1-1):2:3 with image",
             "520,360");
  }
  // Paper checks.
  if (d.has_paper) {
    std::string data = "# index delta";
    for (const ShiftRow& r : d.shift.rows) data += " " + r.kernel;
    data += "\n";
    for (size_t i = 0; i < d.shift.deltas.size(); ++i) {
      data += std::to_string(i) + " " + std::to_string(d.shift.deltas[i]);
      for (const ShiftRow& r : d.shift.rows) data += " " + num(r.mean_abs_diff[i]);
      data += "\n";
    }
    write_output_file(dir + "/data/shift_invariance.dat", data);
    std::string plot;
    for (size_t k = 0; k < d.shift.rows.size(); ++k) {
      plot += std::string(plot.empty() ? "plot " : ", ") + "'" + dir + "/data/shift_invariance.dat' using 1:" +
              std::to_string(k + 3) + ":xtic(2) with linespoints pt 7 lw 1.5 lc rgb '" + kColors[k % 10] +
              "' title '" + d.shift.rows[k].kernel + "' noenhanced";
    }
    add_plot(ps, dir, "paper_shift_invariance", "Shift invariance (Wang et al. 2024 style)",
             "set logscale y\nset format y '10^{%L}'\nset xlabel 'common shift Δ'\n"
             "set ylabel 'mean |s(m+Δ, n+Δ) − s_{exact}|'\nset title 'Attention score under a common shift, d=128, base 1e4, m−n=16'\n" +
                 plot);
    std::string dd = "# distance mean_abs_S\n";
    for (size_t i = 0; i < d.decay.distance.size(); ++i) {
      if (d.decay.distance[i] > 0) dd += std::to_string(d.decay.distance[i]) + " " + g17(d.decay.mean_abs_s[i]) + "\n";
    }
    write_output_file(dir + "/data/roformer_decay.dat", dd);
    add_plot(ps, dir, "paper_roformer_decay", "RoFormer long-term decay",
             "set logscale x 2\nset xtics 4\nset format x '2^{%L}'\nset xlabel 'relative distance m − n'\n"
             "set ylabel '(1/(d/2)) Σ_j |S_j|'\nset title 'Long-term decay of the RoPE upper bound (RoFormer §3.4.3), d=128, base 1e4'\n"
             "plot '" + dir + "/data/roformer_decay.dat' using 1:2 with lines lw 2 lc rgb '#1f77b4' notitle");
  }
  return ps;
}

const char* finding_tag(const props::Judgement& j) {
  switch (j.finding) {
    case props::Finding::kViolation: return "FAIL";
    case props::Finding::kCrash: return "CRASH";
    default: return "INTERNAL ERROR";
  }
}

json findings_json(const ReportData& d) {
  json out = json::array();
  for (const ReportFinding& f : d.findings) {
    const props::Judgement& j = f.judgement;
    out.push_back({{"kernel", f.kernel},
                   {"spec", f.spec_label},
                   {"property", j.property},
                   {"finding", props::to_string(j.finding)},
                   {"reason", j.reason},
                   {"detail", j.detail},
                   {"case_file", f.case_file.empty() ? json(nullptr) : json(f.case_file)},
                   {"reproducer", f.case_file.empty() ? json(nullptr) : json("ropecheck repro " + f.case_file)}});
  }
  return out;
}

// The findings section: one line per finding, its evidence, and the command that replays it.
std::string findings_md(const ReportData& d) {
  std::ostringstream md;
  md << "## Findings\n\n";
  if (d.findings.empty()) {
    md << "None: every case the judge decided held (each worst case and each pair over its bound re-measured alone "
          "and, where it exceeds its bound or differs from the sweep, judged; properties/judge.hpp).\n\n";
  }
  for (const ReportFinding& f : d.findings) {
    const props::Judgement& j = f.judgement;
    md << "- **" << finding_tag(j) << "** " << f.kernel << " — " << f.spec_label << ": `" << j.property << "`: " << j.reason
       << "\n";
    if (!f.case_file.empty()) md << "  - replay: `ropecheck repro " << f.case_file << "`\n";
    if (!j.detail.empty()) md << "\n```\n" << j.detail << "\n```\n";
    md << "\n";
  }
  return md.str();
}

std::string findings_html(const ReportData& d) {
  std::ostringstream h;
  h << "<h2>Findings</h2>\n";
  if (d.findings.empty()) h << "<p class=\"note\">None: every case the judge decided held.</p>\n";
  for (const ReportFinding& f : d.findings) {
    const props::Judgement& j = f.judgement;
    h << "<p><strong>" << finding_tag(j) << "</strong> " << markup_escape(f.kernel + " — " + f.spec_label) << ": <code>"
      << markup_escape(j.property) << "</code>: " << markup_escape(j.reason) << "</p>\n";
    if (!j.detail.empty()) h << "<pre>" << markup_escape(j.detail) << "</pre>\n";
    if (!f.case_file.empty()) h << "<p class=\"note\">replay: <code>ropecheck repro " << markup_escape(f.case_file) << "</code></p>\n";
  }
  return h.str();
}

std::string inline_svg(const std::string& path) {
  const std::string s = read_file(path);
  const size_t at = s.find("<svg");
  return at == std::string::npos ? "" : s.substr(at);
}

}  // namespace

int64_t stays_within(const SweepResult& run, const View& view, double ulps, bool* all) {
  *all = true;
  int64_t last = -1;
  for (size_t i = 0; i < run.samples.size() && i < view.sample_max.size(); ++i) {
    if (!(view.sample_max[i] <= ulps)) {
      *all = false;
      return last;
    }
    last = run.samples[i];
  }
  return last;
}

std::string cell_text(const Cell& c) {
  if (c.n == 0) return "—";
  return "Max = " + g3(c.max) + " ulp (RMS = " + g3(c.rms()) + ")";
}

std::string reproducer(const SweepResult& r, const Worst& w, const std::string& spec_path) {
  const std::vector<double> x = sweep_input(r.in_dtype, r.spec.head_dim, r.seed, w.sample);
  std::string in = "[";
  for (size_t i = 0; i < x.size(); ++i) in += (i ? "," : "") + g17(x[i]);
  in += "]";
  return "ropecheck ref --spec " + spec_path + " --positions " + std::to_string(w.t) + " --input '" + in + "'";
}

std::string write_report(const ReportData& d, const std::string& dir) {
  std::string warning;
  for (const SpecEntry& s : d.specs) write_output_file(dir + "/" + s.file, spec_to_json_text(s.spec) + "\n");
  auto spec_path = [&](const SweepResult& r) {
    const SpecEntry* s = find_spec(d, r.spec_label);
    return dir + "/" + (s ? s->file : "specs/unknown.json");
  };
  // Worst cases as gate-replayable counterexample files (`ropecheck repro FILE`).
  std::map<std::string, std::string> case_files;
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty() || !r.exact.overall.worst.valid) continue;
    const Worst& w = r.exact.overall.worst;
    const props::Case& c = r.worst_case;
    // In the one counterexample format, as a case that held when it was saved (finding "pass"):
    // replaying it shows the kernel's worst measured pair again.
    props::Counterexample cx;
    cx.kernel = r.kernel;
    cx.property = "agreesWithExactReferenceWithinContract";
    cx.finding = props::Finding::kPass;
    for (const auto& [k, p] : d.plugins) {
      if (k == r.kernel) cx.plugin = p;
    }
    cx.reason = "worst pair of the report sweep (pair " + std::to_string(w.pair) + ", " + g3(w.ulps) + " ulp)";
    cx.worst_ratio = w.ratio();
    cx.c = c;
    const std::string file = "cases/" + run_id(r) + "__worst.json";
    write_output_file(dir + "/" + file, props::counterexample_to_json(cx));
    case_files[run_id(r)] = dir + "/" + file;
  }

  // ---- JSON ----
  json root;
  root["schema"] = "ropecheck-report/1";
  root["generated_by"] = {{"tool", "ropecheck report"}, {"command", d.command}, {"threads", d.threads}, {"seconds", d.seconds}};
  root["positions"] = d.positions_text;
  root["warnings"] = d.warnings;
  root["ulp_thresholds"] = kWithinUlps;
  root["error_metric"] = "error in ulp of the pair norm r = a*|(x0, x1)| in the kernel's output dtype (reference/error_model.hpp)";
  json specs = json::array();
  for (const SpecEntry& s : d.specs) {
    specs.push_back({{"label", s.label}, {"origin", s.origin}, {"file", s.file}, {"spec", json::parse(spec_to_json_text(s.spec))}});
  }
  root["specs"] = specs;
  json runs = json::array();
  for (const SweepResult& r : d.runs) {
    json j = {{"kernel", r.kernel}, {"spec", r.spec_label}};
    // A multi-axis spec's run: "text" (every axis at the swept position) or the axis measured alone.
    if (r.spec.n_axes() > 1) j["axes"] = r.axis < 0 ? json("text") : json(r.axis);
    if (!r.skipped.empty()) {
      j["skipped"] = r.skipped;
      j["refusal"] = r.refusal.empty() ? json(nullptr) : json(r.refusal);
      runs.push_back(j);
      continue;
    }
    j["skipped"] = nullptr;
    j["refusal"] = nullptr;
    j["in_dtype"] = impl::dtype_name(r.in_dtype);
    j["out_dtype"] = impl::dtype_name(r.out_dtype);
    j["max_position"] = std::to_string(r.max_position);
    j["angle_recipe"] = r.angle_recipe;
    j["theta_rel_error"] = r.theta_rel_error;
    j["theta_rel_error_per_pair"] = r.theta_rel_error_per_pair;
    j["samples"] = r.samples.size();
    j["first_position"] = std::to_string(r.samples.front());
    j["last_position"] = std::to_string(r.samples.back());
    j["pairs_measured"] = r.pairs.size();
    j["seed"] = r.seed;
    j["seconds"] = r.seconds;
    j["spot_checks"] = r.spot_checks;
    if (case_files.count(run_id(r))) j["worst_case_file"] = case_files[run_id(r)];
    json th = json::array();
    for (double v : r.theta_hat) th.push_back(hex(v));
    j["theta_hat"] = th;
    j["notes"] = r.notes;
    if (r.kernel_output_bytes > 0) {
      j["kernel_output"] = r.kernel_output;
      j["kernel_output_bytes"] = r.kernel_output_bytes;
    }
    j["views"] = {{"exact", view_json(r, r.exact, spec_path(r))}, {"recipe", view_json(r, r.recipe, spec_path(r))}};
    runs.push_back(j);
  }
  root["runs"] = runs;
  root["findings"] = findings_json(d);
  if (d.has_paper) {
    json rows = json::array();
    for (const ShiftRow& r : d.shift.rows) {
      rows.push_back({{"kernel", r.kernel}, {"what", r.what}, {"mean_abs_diff", r.mean_abs_diff}, {"max_abs_diff", r.max_abs_diff}});
    }
    json deltas = json::array();
    for (int64_t dl : d.shift.deltas) deltas.push_back(dl);
    root["paper_checks"] = {
        {"shift_invariance",
         {{"spec", "d=128 base=1e4 default half_split"}, {"m_minus_n", d.shift.m_minus_n}, {"deltas", deltas},
          {"samples", d.shift.samples}, {"seed", d.shift.seed}, {"mean_abs_score", d.shift.mean_abs_score}, {"rows", rows}}},
        {"long_term_decay", {{"spec", "d=128 base=1e4"}, {"distance", d.decay.distance}, {"mean_abs_S", d.decay.mean_abs_s}}}};
  }
  write_output_file(dir + "/report.json", root.dump(1) + "\n");

  // ---- Markdown ----
  std::ostringstream md;
  md << "# ropecheck accuracy report\n\n"
     << "Command: `" << d.command << "`  \n"
     << "Positions: `" << d.positions_text << "` plus each spec's edge positions up to each kernel's declared "
     << "maximum; " << d.threads << " threads, " << g3(d.seconds) << " s.\n\n"
     << "Error metric: ‖y − y_ref‖ in **ulp of the pair norm** r = a·‖(x0, x1)‖ in the kernel's output dtype "
        "(components cancel, so never ulp of a component). Inputs uniform in [-1, 1), one head per position. "
        "Two views: **exact** — against exact mathematics (FastOracle, every reported worst case re-judged by the "
        "MPFR ExactReference); **recipe** — against an exact rotation by the angle the kernel's own declared recipe "
        "forms (θ̂ inferred from the kernel at powers of two; isolates the rotation arithmetic). Bounds come from the "
        "kernel's declared accuracy contract (reference/error_model.hpp; recipe view: properties/recipe_view.hpp). "
        "Cells: `Max = X ulp (RMS = Y)`.\n\n";
  for (const std::string& w : d.warnings) md << "**Warning:** " << w << "\n\n";
  md << "## Summary\n\n" << summary_table(d).md() << "\n";
  md << findings_md(d);
  md << "## Largest position within a given error (exact view)\n\n"
     << "Read: the kernel's error stays at or below E ulp for every measured position up to the one shown "
        "(sampled positions; \"(all)\": no measured position exceeds E).\n\n"
     << within_table(d, false).md() << "\n";
  md << "### Recipe view\n\n" << within_table(d, true).md() << "\n";
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty()) continue;
    md << "## " << r.kernel << " — " << r.spec_label << "\n\n"
       << r.samples.size() << " positions in [" << format_position(r.samples.front()) << ", "
       << format_position(r.samples.back()) << "], " << r.pairs.size() << " of " << r.spec.pairs()
       << " pairs, seed " << r.seed << ", " << r.spot_checks << " oracle calls checked against the exact reference, "
       << g3(r.seconds) << " s. Declared angle recipe `" << r.angle_recipe << "`, eps_theta = "
       << g3(r.theta_rel_error) << " u" << (r.theta_rel_error_per_pair != 0 ? " + " + g3(r.theta_rel_error_per_pair) + " u per pair" : "")
       << ".\n\n";
    md << "### Against exact mathematics\n\n" << band_table(r, r.exact).md() << "\n";
    md << "### Against the kernel's own recipe\n\n" << r.recipe.note << "\n\n";
    if (r.recipe.available) md << band_table(r, r.recipe).md() << "\n";
    for (const std::string& note : r.notes) md << "**Note:** " << note << "\n\n";
    if (r.kernel_output_bytes > 0) {
      md << "**The kernel printed " << r.kernel_output_bytes << " bytes during this run** (the last of them):\n\n```\n"
         << r.kernel_output.substr(r.kernel_output.size() - std::min<size_t>(r.kernel_output.size(), 2048)) << "\n```\n\n";
    }
    md << "### Worst cases\n\n";
    for (int view = 0; view < 2; ++view) {
      const View& v = view == 0 ? r.exact : r.recipe;
      if (!v.available || !v.overall.worst.valid) continue;
      const Worst& w = v.overall.worst;
      md << "- " << (view == 0 ? "exact view" : "recipe view") << ": **" << g3(w.ulps) << " ulp** (bound "
         << g3(w.bound_ulps) << " ulp, ratio " << g3(w.bound > 0 ? w.err / w.bound : 0) << ") at t = " << w.t
         << ", pair " << w.pair << " (θ = " << g3(r.theta[static_cast<size_t>(w.pair)]) << "): x = (" << hex(w.x[0])
         << ", " << hex(w.x[1]) << "), kernel y = (" << hex(w.y[0]) << ", " << hex(w.y[1]) << "), "
         << (view == 0 ? "exact" : "recipe reference") << " (" << hex(w.ref[0]) << ", " << hex(w.ref[1]) << ")\n";
      if (view == 0) {
        md << "  - exact answer for the whole head: `" << reproducer(r, w, spec_path(r)) << "`\n";
      }
    }
    if (case_files.count(run_id(r))) {
      md << "  - replay through the gate: `ropecheck repro " << case_files[run_id(r)] << "`\n";
    }
    md << "\n";
  }
  if (d.has_paper) {
    md << "## Paper checks\n\n### Shift invariance (\"When Precision Meets Position\", Wang et al. 2024)\n\n"
       << "mean |s(m+Δ, n+Δ) − s_exact| over " << d.shift.samples << " random (q, k) (uniform [-1, 1), seed "
       << d.shift.seed << "), d = 128, base 1e4, m − n = " << d.shift.m_minus_n
       << "; s_exact is the exact closed form for the kernel's actual inputs (mean |s_exact| = "
       << g3(d.shift.mean_abs_score) << ").\n\n"
       << shift_table(d.shift).md() << "\n"
       << "### Long-term decay (RoFormer, Su et al. 2021, §3.4.3)\n\n"
       << "From the exact reference: S_j = Σ_{k<j} e^{i(m−n)θ_k}, d = 128, base 1e4.\n\n"
       << decay_table(d.decay).md() << "\n";
  }
  write_output_file(dir + "/report.md", md.str());

  // ---- plots and HTML ----
  const PlotSet ps = make_plots(d, dir);
  write_output_file(dir + "/plots/plots.gp", ps.script);
  const std::string cmd = "gnuplot '" + dir + "/plots/plots.gp' > '" + dir + "/plots/gnuplot.log' 2>&1";
  const int rc = std::system(cmd.c_str());
  bool plots_ok = rc == 0;
  if (!plots_ok) {
    warning = "gnuplot failed or is not installed (see " + dir + "/plots/gnuplot.log): the HTML report has no plots";
  } else {
    // gnuplot may end well without writing a plot (its output is a file like any other).
    for (const auto& svg : ps.svgs) {
      const std::string path = dir + "/plots/" + svg.second + ".svg";
      if (inline_svg(path).empty()) throw OutputError(path, "gnuplot did not write it (see " + dir + "/plots/gnuplot.log)");
    }
  }
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ropecheck accuracy report</title>\n"
    << "<style>body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;max-width:1600px;color:#222}"
       "table{border-collapse:collapse;margin:0.5em 0 1.2em;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}"
       "th{background:#f0f0f0}h2{border-bottom:2px solid #ddd;margin-top:1.6em}.plots{display:flex;flex-wrap:wrap;gap:10px}"
       ".plots figure{margin:0;border:1px solid #eee}.plots figcaption{font-size:12px;color:#555;padding:2px 6px}"
       ".note{color:#555;font-size:13px}code{font-size:12px;word-break:break-all}</style></head>\n<body>\n";
  h << "<h1>ropecheck accuracy report</h1>\n<p class=\"note\">Command: <code>" << markup_escape(d.command)
    << "</code><br>Positions: <code>" << markup_escape(d.positions_text)
    << "</code> plus each spec's edge positions up to each kernel's declared maximum. Error in ulp of the pair "
       "norm; exact view: against exact mathematics; recipe view: against an exact rotation by the kernel's own "
       "declared angle recipe. Full tables: report.md; machine-readable: report.json.</p>\n";
  for (const std::string& w : d.warnings) h << "<p><strong>Warning:</strong> " << markup_escape(w) << "</p>\n";
  h << "<h2>Up to which position does each kernel stay within a given error?</h2>\n"
    << "<p class=\"note\">Exact view (what the user gets). Largest measured position up to which every measured "
       "position has max error ≤ E ulp.</p>\n"
    << within_table(d, false).html() << "<p class=\"note\">Recipe view (rotation arithmetic only).</p>\n"
    << within_table(d, true).html();
  h << "<h2>Summary</h2>\n" << summary_table(d).html() << findings_html(d);
  auto figure = [&](const std::string& name, const std::string& title) {
    const std::string svg = plots_ok ? inline_svg(dir + "/plots/" + name + ".svg") : "";
    if (svg.empty()) return std::string("<p class=\"note\">(plot " + markup_escape(name) + " unavailable)</p>");
    return "<figure>" + svg + "<figcaption>" + markup_escape(title) + "</figcaption></figure>\n";
  };
  h << "<h2>Error against position</h2>\n<div class=\"plots\">\n";
  for (const auto& [title, name] : ps.svgs) {
    if (name.rfind("error_", 0) == 0) h << figure(name, title);
  }
  h << "</div>\n<h2>Error histograms</h2>\n<div class=\"plots\">\n";
  for (const auto& [title, name] : ps.svgs) {
    if (name.rfind("hist__", 0) == 0) h << figure(name, title);
  }
  h << "</div>\n<h2>Frequency × position heat maps (exact view)</h2>\n<div class=\"plots\">\n";
  for (const auto& [title, name] : ps.svgs) {
    if (name.rfind("heat__", 0) == 0) h << figure(name, title);
  }
  h << "</div>\n";
  for (const SweepResult& r : d.runs) {
    if (!r.skipped.empty()) continue;
    h << "<h2>" << markup_escape(r.kernel + " — " + r.spec_label) << "</h2>\n";
    for (const std::string& note : r.notes) h << "<p><strong>Note:</strong> " << markup_escape(note) << "</p>\n";
    if (r.kernel_output_bytes > 0) {
      h << "<p><strong>The kernel printed " << r.kernel_output_bytes << " bytes during this run</strong> (the last of them):</p>\n<pre>"
        << markup_escape(r.kernel_output.substr(r.kernel_output.size() - std::min<size_t>(r.kernel_output.size(), 2048)))
        << "</pre>\n";
    }
    h << "<h3>Against exact mathematics</h3>\n"
      << band_table(r, r.exact).html() << "<h3>Against the kernel's own recipe</h3>\n<p class=\"note\">"
      << markup_escape(r.recipe.note) << "</p>\n";
    if (r.recipe.available) h << band_table(r, r.recipe).html();
    if (r.exact.overall.worst.valid) {
      h << "<p class=\"note\">Worst pair (exact view), exact answer: <code>"
        << markup_escape(reproducer(r, r.exact.overall.worst, spec_path(r))) << "</code></p>\n";
    }
  }
  if (d.has_paper) {
    h << "<h2>Paper checks</h2>\n<h3>Shift invariance (Wang et al. 2024 style)</h3>\n<p class=\"note\">mean |s(m+Δ, "
         "n+Δ) − s_exact|, d = 128, base 1e4, m − n = 16, "
      << d.shift.samples << " random (q, k); mean |s_exact| = " << g3(d.shift.mean_abs_score) << ".</p>\n"
      << shift_table(d.shift).html() << "<h3>Long-term decay (RoFormer)</h3>\n" << decay_table(d.decay).html()
      << "<div class=\"plots\">\n";
    for (const auto& [title, name] : ps.svgs) {
      if (name.rfind("paper_", 0) == 0) h << figure(name, title);
    }
    h << "</div>\n";
  }
  // A render self-check for headless tests: counts the plots that have a non-empty layout box.
  h << "<p id=\"render-check\" class=\"note\">render check: not run</p>\n"
    << "<script>window.addEventListener('load',function(){var n=0,s=document.querySelectorAll('figure svg');"
       "for(var i=0;i<s.length;i++){var b=s[i].getBoundingClientRect();if(b.width>10&&b.height>10)n++;}"
       "var p=document.getElementById('render-check');p.setAttribute('data-svg-total',s.length);"
       "p.setAttribute('data-svg-rendered',n);p.textContent='render check: '+n+' of '+s.length+' plots rendered';});"
       "</script>\n</body></html>\n";
  write_output_file(dir + "/report.html", h.str());
  return warning;
}

}  // namespace ropecheck::report

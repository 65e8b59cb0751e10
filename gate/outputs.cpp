// The gate's outputs: JUnit XML for CI dashboards and the full JSON (gate/campaign.hpp).
#include <sstream>

#include <nlohmann/json.hpp>

#include "gate/campaign.hpp"
#include "gate/protocol.hpp"
#include "properties/output_file.hpp"

namespace ropecheck::gate {

namespace {
// The specs kernel k's prepare refused.
std::vector<const Refusal*> refusals_of(const CampaignResult& r, const std::string& k) {
  std::vector<const Refusal*> out;
  for (const Refusal& f : r.refusals) {
    if (f.kernel == k) out.push_back(&f);
  }
  return out;
}
}  // namespace

std::string junit_xml(const CampaignResult& r, const std::vector<std::string>& warnings) {
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ropecheck\">\n";
  for (const std::string& k : r.kernels) {
    const auto found = r.cells.find(k);
    const std::map<std::string, Cell> row = found == r.cells.end() ? std::map<std::string, Cell>{} : found->second;
    const auto ie = r.internal_errors.find(k);
    const std::vector<std::string> internal = ie == r.internal_errors.end() ? std::vector<std::string>{} : ie->second;
    const std::vector<const Refusal*> refused = refusals_of(r, k);  // a skipped testcase each
    int failures = 0, errors = internal.empty() ? 0 : 1, skipped = static_cast<int>(refused.size());
    for (const auto& [p, c] : row) {
      failures += c.failed;
      errors += c.crashed;
      skipped += c.status() == "n/a";
    }
    x << "  <testsuite name=\"" << markup_escape(k) << "\" tests=\"" << row.size() + refused.size() + !internal.empty() << "\" failures=\""
      << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\">\n";
    if (!warnings.empty()) {
      x << "    <properties>\n";
      for (const std::string& w : warnings) x << "      <property name=\"warning\" value=\"" << markup_escape(w) << "\"/>\n";
      x << "    </properties>\n";
    }
    for (const auto& [p, c] : row) {
      x << "    <testcase classname=\"ropecheck." << markup_escape(k) << "\" name=\"" << markup_escape(p) << "\" time=\""
        << c.seconds << "\">";
      if (c.crashed) {
        x << "<error message=\"" << markup_escape(c.reason) << "\">" << markup_escape(c.repro) << "</error>";
      } else if (c.failed) {
        x << "<failure message=\"" << markup_escape(c.reason) << "\">" << markup_escape(c.repro) << "</failure>";
      } else if (c.status() == "n/a") {
        // After an internal error a unit stops: its properties may be unreached, not n/a.
        x << "<skipped message=\""
          << (internal.empty() ? "not applicable to this kernel's declared capabilities"
                               : "no case checked: not applicable to this kernel's declared capabilities, or not "
                                 "reached after the internal error (see ropecheckInternalError)")
          << "\"/>";
      } else {
        x << "<system-out>" << c.checked << " cases checked</system-out>";
      }
      x << "</testcase>\n";
    }
    for (const Refusal* f : refused) {
      x << "    <testcase classname=\"ropecheck." << markup_escape(k) << "\" name=\"" << markup_escape("spec " + f->spec)
        << "\"><skipped message=\"" << markup_escape("prepare refused the spec: " + f->reason) << "\"/></testcase>\n";
    }
    if (!internal.empty()) {  // ropecheck failed: nothing above is a complete verdict (exit 4)
      std::string all;
      for (const std::string& e : internal) all += e + "\n";
      x << "    <testcase classname=\"ropecheck." << markup_escape(k)
        << "\" name=\"ropecheckInternalError\"><error message=\"ropecheck internal error (please report)\">"
        << markup_escape(all) << "</error></testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

std::string gate_json(const CampaignResult& r, const CampaignOptions& o, const std::vector<std::string>& warnings) {
  using json = nlohmann::ordered_json;
  json j;
  j["seed"] = o.seed;
  j["shard"] = std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count);
  j["seconds"] = r.seconds;
  if (o.fail_fast) j["fail_fast"] = {{"stopped", r.stopped}, {"units_not_finished", r.unfinished_units}};
  json us = json::array();
  for (const UnitRun& u : r.units) {
    json uj = unit_to_json(u.result);
    if (!u.crash.empty()) uj["crash"] = u.crash;
    if (u.kernel_output_bytes > 0) {
      uj["kernel_output"] = u.kernel_output;
      uj["kernel_output_bytes"] = u.kernel_output_bytes;
    }
    us.push_back(uj);
  }
  j["units"] = us;
  // Per kernel and property, over its units: what ran and the largest error/bound measured.
  // "bound_capped": that largest ratio is on a pair whose bound is capped at 2.02·|x| — any
  // output of the right norm passes there, so a ratio near 0.99 says nothing about the kernel.
  json cells = json::object();
  for (const auto& [k, row] : r.cells) {
    json kj = json::object();
    for (const auto& [p, c] : row) {
      kj[p] = {{"status", c.status()},       {"checked", c.checked},
               {"skipped", c.skipped},       {"generated_cases", c.generated},
               {"worst_ratio", ratio_to_json(c.worst_ratio)}, {"bound_capped", c.worst_capped}};
    }
    cells[k] = kj;
  }
  j["kernels"] = cells;
  // Specs a kernel's prepare refused, with its reason (once per kernel × spec unit).
  json refusals = json::array();
  for (const Refusal& f : r.refusals) refusals.push_back({{"kernel", f.kernel}, {"spec", f.spec}, {"reason", f.reason}});
  j["refusals"] = refusals;
  // Specs a kernel does not declare (rope type, layout, shape, feature): nothing checked on them.
  json not_declared = json::array();
  for (const Refusal& f : r.not_declared) not_declared.push_back({{"kernel", f.kernel}, {"spec", f.spec}, {"reason", f.reason}});
  j["not_declared"] = not_declared;
  j["warnings"] = warnings;
  j["recipe_notes"] = r.recipe_notes;  // kernel → why the own-recipe property was not checked
  j["exit_code"] = r.tally.exit_code();
  // A kernel's output or a plugin's strings need not be UTF-8: replaced, never a throw.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace ropecheck::gate

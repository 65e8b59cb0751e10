// The report's specs, chosen one way for `ropecheck report` and for the report's calls that
// `ropecheck vectors` records (cli/cmd_report.cpp): --spec files (labelled by file name), then
// --hf-config files (one spec per layer type with rope, labelled FILE-LAYER_TYPE), else the
// gate's default specs marked for the report (reference/specs/gate/index.json).
#pragma once

#include <string>
#include <vector>

#include "reports/campaign.hpp"

namespace ropecheck::cli {

// `who` prefixes what the HF reader notes on stderr (NoPE layers).
std::vector<report::SpecChoice> report_specs(const std::vector<std::string>& spec_files, const std::vector<std::string>& hf_configs,
                                             const char* who);

}  // namespace ropecheck::cli

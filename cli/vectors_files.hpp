// Golden-vector files on the command line: `ropecheck judge` and `ropecheck report --from` read
// cases.npz and outputs.npz the same way (gate/vectors_file.hpp: exit 2 naming the array) and
// load the contract the cases were written for (built in, or from --plugin).
#pragma once

#include <string>
#include <vector>

#include "args.hpp"
#include "gate/vectors.hpp"
#include "gate/vectors_file.hpp"
#include "kernel_selection.hpp"
#include "reference/input_file.hpp"

namespace ropecheck::cli {

// cases.npz with every call's status and outputs from outputs.npz.
inline gate::VectorCases read_vector_files(const std::string& cases_path, const std::string& outputs_path) {
  const std::vector<uint8_t> cb = read_input_file_bytes(cases_path, "cases file", gate::kMaxVectorsFileBytes);
  gate::VectorCases cases = gate::read_cases_npz(cb.data(), cb.size(), cases_path);
  const std::vector<uint8_t> ob = read_input_file_bytes(outputs_path, "outputs file", gate::kMaxVectorsFileBytes);
  gate::read_outputs_npz(cases, ob.data(), ob.size(), outputs_path);
  return cases;
}

// The kernel set holding the contract of `cases` (sel.set.find(cases.kernel)).
inline KernelSelection contract_selection(const gate::VectorCases& cases, const std::vector<std::string>& plugins) {
  KernelSelection sel{impl::KernelSet::with_builtins(), {}};
  if (!plugins.empty() || sel.set.find(cases.kernel) == nullptr) {
    if (plugins.empty()) {
      throw UsageError("the cases were written for the contract of " + cases.kernel + ", which is not built in: give --plugin " +
                       (cases.plugin.empty() ? std::string("LIB.so") : cases.plugin));
    }
    sel = select_kernels(plugins, {cases.kernel});
  }
  return sel;
}

}  // namespace ropecheck::cli

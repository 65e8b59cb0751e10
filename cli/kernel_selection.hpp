// The one rule by which every command (check, report, fuzz, kernels) picks its kernels:
//  --kernel NAME ... : exactly these, in the order given (each must exist; `all` = every
//                      kernel of the set, built-in and plugin);
//  no --kernel       : the kernels of the --plugin libraries if any were given, else every
//                      built-in kernel.
// A kernel whose accuracy contract would let any output pass is refused for every command
// that judges (props::reject_implausible).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "args.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "properties/case.hpp"

namespace ropecheck::cli {

struct KernelSelection {
  impl::KernelSet set;                      // built-ins and the plugins' kernels (kept loaded)
  std::vector<const impl::Kernel*> kernels;  // the selected ones
  std::vector<const rc_kernel_desc*> descs() const {
    std::vector<const rc_kernel_desc*> d;
    for (const impl::Kernel* k : kernels) d.push_back(k->desc);
    return d;
  }
  // "" for a built-in kernel, else the absolute path of its plugin.
  std::string plugin_of(const std::string& kernel) const {
    const impl::Kernel* k = set.find(kernel);
    return k == nullptr || k->origin == "built-in" ? "" : k->origin;
  }
};

// Throws UsageError (unknown kernel, nothing selected, implausible contract) or the plugin
// loader's errors (PluginError: exit 2; PluginCrashed: exit 3).  A plugin is loaded and listed
// in a supervised child first; `load_timeout` (s) is how long that may take: each command
// passes its own hang limit.
inline KernelSelection select_kernels(const std::vector<std::string>& plugins, const std::vector<std::string>& names,
                                      bool refuse_implausible = true, double load_timeout = impl::kPluginProbeSeconds) {
  KernelSelection s{impl::KernelSet::with_builtins(), {}};
  const size_t n_builtin = s.set.all().size();
  impl::PluginLoadOptions load;
  load.probe_timeout = load_timeout;
  for (const std::string& p : plugins) impl::load_plugin(s.set, p, load);
  auto add = [&](const impl::Kernel* k) {
    if (std::find(s.kernels.begin(), s.kernels.end(), k) == s.kernels.end()) s.kernels.push_back(k);
  };
  if (names.empty()) {
    const size_t from = plugins.empty() ? 0 : n_builtin;
    for (size_t i = from; i < s.set.all().size(); ++i) add(&s.set.all()[i]);
    if (s.kernels.empty()) throw UsageError("no kernel selected: the plugins define none");
  }
  for (const std::string& name : names) {
    if (name == "all") {
      for (const impl::Kernel& k : s.set.all()) add(&k);
      continue;
    }
    const impl::Kernel* k = s.set.find(name);
    if (k == nullptr) {
      std::string known;
      for (const impl::Kernel& kk : s.set.all()) known += std::string(known.empty() ? "" : ", ") + kk.desc->name;
      throw UsageError("unknown kernel '" + name + "' (known: " + known + ")");
    }
    add(k);
  }
  if (refuse_implausible) {
    if (const std::string why = props::reject_implausible(s.descs()); !why.empty()) throw UsageError(why);
  }
  return s;
}

}  // namespace ropecheck::cli

// Loading kernels from a shared library (`--plugin lib.so`), first in a supervised child, and
// validating descriptors.
#pragma once

#include <string>

#include "impl/plugin_error.hpp"
#include "impl/registry.hpp"


namespace ropecheck::impl {

struct DescriptorProblem {
  std::string field;  // empty if the descriptor is valid
  std::string rule;
  explicit operator bool() const { return !field.empty(); }
};

// Checks every field of one descriptor.  Never crashes on garbage in non-pointer fields (the
// fuzzers call it on fuzzed descriptors); `name` and `description` must be NULL or valid
// C strings.
DescriptorProblem check_descriptor(const rc_kernel_desc& desc);
// Throws PluginError(origin, name, field, rule) if check_descriptor finds a problem.
void validate_descriptor(const rc_kernel_desc& desc, const std::string& origin);

// How long a plugin may take to load and list its kernels in the probe's child.
inline constexpr double kPluginProbeSeconds = 20;

struct PluginLoadOptions {
  // Load and list the plugin in a supervised child first (probe_plugin), and in this process
  // only if that went cleanly: a plugin that crashes, exits or hangs while loading is then a
  // PluginCrashed instead of the end (or the hang) of ropecheck.
  bool probe = true;
  double probe_timeout = kPluginProbeSeconds;  // s; 0: no limit
};

// Runs in a supervised child (isolation.hpp) what load_plugin runs: dlopen (the library's
// constructors), ROPECHECK_PLUGIN_SYMBOL, the ABI version and every descriptor, then dlclose (its
// destructors).  Returns the number of kernels.  Throws PluginError for what load_plugin refuses,
// PluginCrashed if the plugin crashed, called exit(), let a C++ exception out or took longer
// than `timeout_seconds` (0: no limit) — naming the plugin, what happened and what it printed —
// and std::runtime_error if no child could be started.
int probe_plugin(const std::string& path, double timeout_seconds = kPluginProbeSeconds);

// dlopen()s `path` (always a file path: "lib.so" is the file in the current directory), calls
// its ROPECHECK_PLUGIN_SYMBOL, checks the ABI version and every descriptor, and adds its kernels
// to `set` (names must be unique across the set), all or none.  The kernels' origin is the
// absolute path.  With opt.probe (the default) probe_plugin runs first.  Throws PluginError or
// PluginCrashed.  Returns the number of kernels added.
int load_plugin(KernelSet& set, const std::string& path, const PluginLoadOptions& opt = {});

}  // namespace ropecheck::impl

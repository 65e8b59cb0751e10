// Loading kernels from a shared library (`--plugin lib.so`) and validating descriptors.
#pragma once

#include <stdexcept>
#include <string>

#include "impl/registry.hpp"

namespace ropecheck::impl {

// A plugin or descriptor that breaks the ABI.  what() names the file, the kernel and the
// field.  The CLI maps it to exit code 2 (kExitUsage).
class PluginError : public std::runtime_error {
 public:
  PluginError(std::string file, std::string kernel, std::string field, std::string rule);
  const std::string& file() const { return file_; }
  const std::string& kernel() const { return kernel_; }
  const std::string& field() const { return field_; }
  const std::string& rule() const { return rule_; }

 private:
  std::string file_, kernel_, field_, rule_;
};

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

// dlopen()s `path`, calls its ROPECHECK_PLUGIN_SYMBOL, checks the ABI version and every
// descriptor, and adds its kernels to `set` (names must be unique across the set).
// Throws PluginError.  Returns the number of kernels added.
int load_plugin(KernelSet& set, const std::string& path);

}  // namespace ropecheck::impl

// The two ways loading a plugin fails, apart from plugin_loader.hpp so that registry.cpp (a
// duplicate kernel name) and the loader throw the same type without including each other.
#pragma once

#include <stdexcept>
#include <string>

namespace ropecheck::impl {

// A plugin or descriptor that breaks the ABI: a missing file or symbol, another ABI version, a
// descriptor field out of its range, a name taken.  what() names the file, the kernel and the
// field.  The CLI maps it to exit code 2 (kExitUsage): the user gave something unusable.
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

// A plugin whose library constructors or ropecheck_plugin_kernels crashed, called exit(), hung
// or let a C++ exception out while a supervised child loaded it (plugin_loader.hpp,
// probe_plugin).  The CLI maps it to exit code 3 (kExitCrash), like a kernel that crashes when
// called.  Not a PluginError: code that catches PluginError as "bad input" must not take a
// crash for one.
class PluginCrashed : public std::runtime_error {
 public:
  // `happened`: "crashed with SIGSEGV (segmentation fault)", "hung: no result within 20 s
  // (killed)", ... (ChildOutcome::describe); `output`: what the plugin printed meanwhile.
  PluginCrashed(std::string file, std::string happened, std::string output = "");
  const std::string& file() const { return file_; }
  const std::string& happened() const { return happened_; }
  const std::string& output() const { return output_; }

 private:
  std::string file_, happened_, output_;
};

}  // namespace ropecheck::impl

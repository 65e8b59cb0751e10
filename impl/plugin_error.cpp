#include "impl/plugin_error.hpp"

#include "impl/ropecheck_kernel.h"

namespace ropecheck::impl {

namespace {

// What the plugin printed, indented under the message: its last 2000 bytes at most (the end is
// where a crash explains itself).
std::string printed(const std::string& output) {
  if (output.empty()) return "";
  constexpr size_t kShown = 2000;
  std::string text = output.size() > kShown ? "..." + output.substr(output.size() - kShown) : output;
  if (text.back() == '\n') text.pop_back();
  std::string out = "\n  it printed:";
  size_t at = 0;
  for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) out += "\n    " + text.substr(at, nl - at);
  return out + "\n    " + text.substr(at);
}

}  // namespace

PluginError::PluginError(std::string file, std::string kernel, std::string field, std::string rule)
    : std::runtime_error("plugin " + file + (kernel.empty() ? "" : ", kernel '" + kernel + "'") +
                         (field.empty() ? "" : ", field " + field) + ": " + rule),
      file_(std::move(file)),
      kernel_(std::move(kernel)),
      field_(std::move(field)),
      rule_(std::move(rule)) {}

PluginCrashed::PluginCrashed(std::string file, std::string happened, std::string output)
    : std::runtime_error("plugin " + file + ": " + happened +
                         " while being loaded (in its library constructors or " ROPECHECK_PLUGIN_SYMBOL
                         "); none of its kernels was used" + printed(output)),
      file_(std::move(file)),
      happened_(std::move(happened)),
      output_(std::move(output)) {}

}  // namespace ropecheck::impl

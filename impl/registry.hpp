// The registry: the built-in kernels (one line each in registry.cpp) and a KernelSet that also
// holds plugin kernels.  (A RopeSpec becomes the ABI's rc_spec in properties/c_spec.hpp.)
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "impl/ropecheck_kernel.h"

namespace ropecheck::impl {

// Default RoPE (rope_type DEFAULT, base 10000, factor 1, no context length) on `head_dim`
// components of which the first `rotary_dim` rotate, every other field at the value
// ropecheck_kernel.h documents for "absent" -- what ropecheck passes for such a spec
// (properties/tests/c_spec_test.cpp checks it against to_c_spec).  For tests and benchmarks
// that call kernels without the reference.
rc_spec default_rope_spec(int32_t head_dim, int32_t rotary_dim, int32_t layout = RC_LAYOUT_HALF_SPLIT);

// The built-in kernels, in registry order.
const std::vector<const rc_kernel_desc*>& builtin_kernels();

struct Kernel {
  const rc_kernel_desc* desc = nullptr;
  std::string origin;  // "built-in" or the plugin's path
};

// Built-in and plugin kernels by name.  Plugin libraries stay loaded while the set lives.
class KernelSet {
 public:
  static KernelSet with_builtins();
  // Throws PluginError (plugin_error.hpp) if the name is already taken.
  void add(const rc_kernel_desc* desc, std::string origin,
           std::shared_ptr<void> keep_alive = nullptr);
  const Kernel* find(std::string_view name) const;  // nullptr if absent
  const std::vector<Kernel>& all() const { return kernels_; }

 private:
  std::vector<Kernel> kernels_;
  std::vector<std::shared_ptr<void>> keep_alive_;
};

// Human-readable names of the ABI's enum values ("?" for unknown values).
const char* dtype_name(int32_t dtype);
const char* layout_name(int32_t layout);
const char* rope_type_name(int32_t type);
const char* angle_recipe_name(int32_t recipe);
const char* rounding_name(int32_t rounding);

}  // namespace ropecheck::impl

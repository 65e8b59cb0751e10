// A RopeSpec (reference/) as the kernel ABI's rc_spec (impl/ropecheck_kernel.h): what every
// caller of a kernel passes.  It lives here, the first folder that sees both the reference and
// the ABI, so that impl/ needs nothing from reference/.
#pragma once

#include <vector>

#include "impl/ropecheck_kernel.h"
#include "reference/rope_spec.hpp"

namespace ropecheck::props {

// An rc_spec together with the storage its longrope factor, mrope_section and axes_dims pointers point into.  Copies and
// moves re-point the factors at their own storage.
class CSpec {
 public:
  explicit CSpec(const RopeSpec& spec);
  CSpec(const CSpec& other);
  CSpec& operator=(const CSpec& other);
  const rc_spec& get() const { return spec_; }
  const rc_spec* ptr() const { return &spec_; }

 private:
  void repoint();
  rc_spec spec_{};
  std::vector<double> short_factor_, long_factor_;
  std::vector<int32_t> mrope_section_, axes_dims_;
};
CSpec to_c_spec(const RopeSpec& spec);

}  // namespace ropecheck::props

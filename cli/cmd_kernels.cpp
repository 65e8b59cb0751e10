// `ropecheck kernels`: lists the built-in kernels and those of --plugin libraries with their
// contracts (impl/ropecheck_kernel.h).  A plugin that breaks the ABI exits 2 with a message
// naming the file, kernel and field.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "properties/exit_codes.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"

namespace ropecheck::cli {
namespace {

constexpr const char* kHelp = R"(usage: ropecheck kernels [--plugin lib.so]... [--json]

Lists every kernel ropecheck can check -- the built-in ones and those exported by plugins --
with its contract: input/output dtypes, layouts, scaling kinds, in-place support, maximum
position, head_dim/rotary_dim rules, and accuracy contract (how it forms the angle, the
declared relative error of theta, its sin/cos accuracy in ulp).

options:
  --plugin lib.so   load the kernels of a shared library exporting ropecheck_plugin_kernels
                    (impl/ropecheck_kernel.h); may be given several times.  A library with a
                    wrong ABI version, no such symbol, or an inconsistent descriptor is an
                    error (exit 2).
  --json            print a JSON array instead of the table.
  --help            this text.

example:
  ropecheck kernels --plugin build/impl/libropecheck_sample_plugin.so --json
)";

std::string mask_names(uint32_t mask, int n, const char* (*name)(int32_t)) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (mask & (1u << i)) s += (s.empty() ? "" : ",") + std::string(name(i));
  }
  return s;
}
std::string placement(uint32_t p) {
  if (p == (RC_PLACE_IN_PLACE | RC_PLACE_OUT_OF_PLACE)) return "both";
  return p == RC_PLACE_IN_PLACE ? "in-place only" : "out-of-place only";
}

nlohmann::json to_json(const impl::Kernel& k) {
  const rc_kernel_desc& d = *k.desc;
  const rc_accuracy& a = d.accuracy;
  nlohmann::json layouts = nlohmann::json::array(), scalings = nlohmann::json::array();
  for (int i = 0; i < 2; ++i) if (d.layouts & (1u << i)) layouts.push_back(impl::layout_name(i));
  for (int i = 0; i < 7; ++i) if (d.scalings & (1u << i)) scalings.push_back(impl::rope_type_name(i));
  return {
      {"name", d.name},
      {"origin", k.origin},
      {"description", d.description},
      {"abi_version", d.abi_version},
      {"in_dtype", impl::dtype_name(d.in_dtype)},
      {"out_dtype", impl::dtype_name(d.out_dtype)},
      {"layouts", layouts},
      {"scalings", scalings},
      {"in_place", (d.placement & RC_PLACE_IN_PLACE) != 0},
      {"out_of_place", (d.placement & RC_PLACE_OUT_OF_PLACE) != 0},
      {"max_position", d.max_position},
      {"head_dim", {{"min", d.head_dim_min}, {"max", d.head_dim_max}, {"multiple_of", d.head_dim_multiple}}},
      {"rotary_dim", {{"min", d.rotary_dim_min}, {"max", d.rotary_dim_max}, {"multiple_of", d.rotary_dim_multiple}}},
      {"has_prepare", d.prepare != nullptr},
      {"accuracy",
       {{"angle_recipe", impl::angle_recipe_name(a.angle_recipe)},
        {"angle_dtype", impl::dtype_name(a.angle_dtype)},
        {"position_dtype", impl::dtype_name(a.position_dtype)},
        {"sincos_dtype", impl::dtype_name(a.sincos_dtype)},
        {"compute_dtype", impl::dtype_name(a.compute_dtype)},
        {"output_rounding", impl::rounding_name(a.output_rounding)},
        {"angle_unit_roundoff", a.angle_unit_roundoff},
        {"theta_rel_error_u", a.theta_rel_error},
        {"angle_product_error_u", a.angle_product_error},
        {"reduced_angle_abs_error", a.reduced_angle_abs_error},
        {"sincos_ulp", a.sincos_ulp},
        {"attention_rel_error_u", a.attention_rel_error}}},
  };
}

}  // namespace

int run_kernels(const Args& raw) {
  const ParsedArgs args(raw, {"--plugin"}, {"--json", "--help"}, {"--plugin"});
  if (args.flag("--help")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument " + args.positional()[0]);
  impl::KernelSet set = impl::KernelSet::with_builtins();
  for (const std::string& path : args.all("--plugin")) impl::load_plugin(set, path);
  if (args.flag("--json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const impl::Kernel& k : set.all()) out.push_back(to_json(k));
    std::puts(out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-20s %-9s %-11s %-6s %-10s %-16s %-24s %s\n", "name", "dtypes", "layouts",
              "place", "max_pos", "head_dim", "angle recipe", "sin/cos ulp, scalings");
  for (const impl::Kernel& k : set.all()) {
    const rc_kernel_desc& d = *k.desc;
    const std::string dt = std::string(impl::dtype_name(d.in_dtype)) + "->" + impl::dtype_name(d.out_dtype);
    const std::string hd = std::to_string(d.head_dim_min) + ".." + std::to_string(d.head_dim_max) +
                           " %" + std::to_string(d.head_dim_multiple);
    std::printf("%-20s %-9s %-11s %-6s %-10lld %-16s %-24s %g, %s%s\n", d.name, dt.c_str(),
                d.layouts == RC_LAYOUT_ALL ? "both" : impl::layout_name(d.layouts == 1u ? 0 : 1),
                placement(d.placement) == "both" ? "both" : (d.placement & RC_PLACE_IN_PLACE ? "in" : "out"),
                static_cast<long long>(d.max_position), hd.c_str(),
                impl::angle_recipe_name(d.accuracy.angle_recipe), d.accuracy.sincos_ulp,
                d.scalings == RC_SCALING_ALL ? "all" : mask_names(d.scalings, 7, impl::rope_type_name).c_str(),
                k.origin == "built-in" ? "" : ("  [" + k.origin + "]").c_str());
  }
  return kExitOk;
}

}  // namespace ropecheck::cli

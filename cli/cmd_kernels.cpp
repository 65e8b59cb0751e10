// `ropecheck kernels`: lists the built-in kernels and those of --plugin libraries with their
// contracts (impl/ropecheck_kernel.h).  A plugin that breaks the ABI exits 2 with a message
// naming the file, kernel and field.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "properties/exit_codes.hpp"
#include "properties/output_file.hpp"
#include "impl/plugin_loader.hpp"
#include "impl/abi.hpp"
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

nlohmann::json features_json(const rc_kernel_desc& d) {
  nlohmann::json out = nlohmann::json::array();
  for (uint32_t f = 1; f <= RC_FEATURE_ALL; f <<= 1) {
    if (impl::has_feature(d, f)) out.push_back(impl::feature_name(f));
  }
  return out;
}

nlohmann::json position_dtypes_json(const rc_kernel_desc& d) {
  nlohmann::json out = nlohmann::json::array();
  if (impl::position_dtypes_of(d) & RC_POSITIONS_I64) out.push_back("i64");
  if (impl::position_dtypes_of(d) & RC_POSITIONS_I32) out.push_back("i32");
  return out;
}

// "q (ABI 1)", or the v2 call: "q+k, i64, cache cos_sin_halves f32, inverse".
std::string call_text(const rc_kernel_desc& d) {
  if (!impl::is_abi2(d)) return "q (ABI 1)";
  std::string s = impl::has_feature(d, RC_FEATURE_QK) ? (impl::has_feature(d, RC_FEATURE_Q_ONLY) ? "q, q+k" : "q+k") : "q";
  s += impl::position_dtypes_of(d) == (RC_POSITIONS_I64 | RC_POSITIONS_I32) ? ", i64|i32"
       : impl::position_dtypes_of(d) == RC_POSITIONS_I32                     ? ", i32"
                                                                               : ", i64";
  if (impl::cache_of(d) != RC_CACHE_NONE) {
    s += std::string(", cache ") + impl::cache_convention_name(impl::cache_of(d)) + " " + impl::dtype_name(impl::cache_dtype_of(d));
  }
  for (uint32_t f : {RC_FEATURE_INVERSE, RC_FEATURE_ROTARY_OFFSET, RC_FEATURE_NEGATIVE_POSITIONS, RC_FEATURE_THREADS, RC_FEATURE_SEQ_LEN,
                     RC_FEATURE_MULTI_AXIS, RC_FEATURE_AXES_DIMS}) {
    if (impl::has_feature(d, f)) s += std::string(", ") + impl::feature_name(f);
  }
  return s;
}

nlohmann::json to_json(const impl::Kernel& k) {
  const rc_kernel_desc& d = *k.desc;
  const rc_accuracy& a = d.accuracy;
  nlohmann::json layouts = nlohmann::json::array(), scalings = nlohmann::json::array();
  for (int i = 0; i < 2; ++i) if (d.layouts & (1u << i)) layouts.push_back(impl::layout_name(i));
  for (int i = 0; i <= RC_ROPE_NONE; ++i) if (d.scalings & (1u << i)) scalings.push_back(impl::rope_type_name(i));
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
      {"has_prepare", d.prepare != nullptr || impl::prepare2_of(d) != nullptr},
      {"features", features_json(d)},
      {"position_dtypes", position_dtypes_json(d)},
      {"cache", impl::cache_convention_name(impl::cache_of(d))},
      {"cache_dtype", impl::cache_of(d) == RC_CACHE_NONE ? "" : impl::dtype_name(impl::cache_dtype_of(d))},
      {"theta_rel_error_per_pair_u", impl::theta_error_per_pair_of(d)},
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
    write_stdout(out.dump(2) + "\n");
    return kExitOk;
  }
  // Columns as wide as their longest cell: plugin kernels have long names.
  std::vector<std::vector<std::string>> rows = {{"name", "dtypes", "layouts", "place", "max_position", "head_dim",
                                                 "rotary_dim", "angle (recipe, dtype, position)", "theta err",
                                                 "sin/cos", "reduction", "scalings", "call", "origin"}};
  auto range = [](int lo, int hi, int multiple) {
    return std::to_string(lo) + ".." + std::to_string(hi) + (multiple > 1 ? " %" + std::to_string(multiple) : "");
  };
  auto num = [](double v, const char* unit) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%g%s", v, unit);
    return std::string(buf);
  };
  for (const impl::Kernel& k : set.all()) {
    const rc_kernel_desc& d = *k.desc;
    const rc_accuracy& a = d.accuracy;
    rows.push_back({d.name, std::string(impl::dtype_name(d.in_dtype)) + "->" + impl::dtype_name(d.out_dtype),
                    d.layouts == RC_LAYOUT_ALL ? "both" : mask_names(d.layouts, 2, impl::layout_name),
                    placement(d.placement), std::to_string(d.max_position),
                    range(d.head_dim_min, d.head_dim_max, d.head_dim_multiple),
                    range(d.rotary_dim_min, d.rotary_dim_max, d.rotary_dim_multiple),
                    std::string(impl::angle_recipe_name(a.angle_recipe)) + ", " + impl::dtype_name(a.angle_dtype) +
                        ", t in " + impl::dtype_name(a.position_dtype),
                    num(a.theta_rel_error, " u") +
                        (impl::theta_error_per_pair_of(d) != 0 ? " + " + num(impl::theta_error_per_pair_of(d), " u*j") : ""),
                    num(a.sincos_ulp, " ulp"), num(a.reduced_angle_abs_error, " rad"),
                    d.scalings == RC_SCALING_ALL ? "all" : mask_names(d.scalings, RC_ROPE_NONE + 1, impl::rope_type_name), call_text(d),
                    k.origin});
  }
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  out += "\ntheta err: declared relative error of the frequencies, in units of the angle dtype's u (+ per pair index j);\n"
         "sin/cos: their error in ulp of their dtype; reduction: absolute angle error of range reduction; call: how\n"
         "ropecheck may call the kernel (ABI 2 features: q alone or q and k, position dtypes, the cos/sin cache it\n"
         "reads).  `ropecheck kernels --json` has every field of the contract.\n";
  write_stdout(out);
  return kExitOk;
}

}  // namespace ropecheck::cli

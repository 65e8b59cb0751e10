// fuzz_descriptor: bytes -> an rc_kernel_desc whose non-pointer fields are fuzzed (each
// either a plausible value or raw bits, so both the deep checks and garbage are reached) and
// whose pointers are valid strings and functions or NULL -> check_descriptor.  It must never
// crash (it runs on whatever a plugin hands us), and a descriptor it accepts must satisfy
// every invariant the loader promises — the runner, the generators and the error model
// divide by the multiples and trust the enums.  An accepted descriptor is then used the way
// ropecheck uses one: a KernelRunner, unsupported_reason and the error-model bound.
#include <cmath>
#include <cstring>
#include <ostream>
#include <sstream>
#include <string>

#include "fuzz/targets.hpp"
#include "impl/abi.hpp"
#include "impl/plugin_loader.hpp"
#include "reference/error_model.hpp"

namespace ropecheck::fuzz {

namespace {

int dummy_prepare(const rc_spec*, void**) { return RC_ERR_SPEC; }  // leaves *handle untouched
void dummy_release(void*) {}
int dummy_apply(const rc_spec*, void*, const int64_t*, int64_t, int64_t, int64_t, int64_t, const void*, void*) {
  return RC_ERR_UNSUPPORTED;
}
int dummy_apply2(const rc_spec*, void*, const rc_call*) { return RC_ERR_UNSUPPORTED; }
int dummy_prepare2(const rc_spec*, void**, char*, int32_t) { return RC_ERR_SPEC; }

template <class T>
T plausible_or_raw(FuzzedDataProvider& f, T lo, T hi) {
  return f.ConsumeBool() ? f.ConsumeIntegralInRange<T>(lo, hi) : f.ConsumeIntegral<T>();
}
double double_or_raw(FuzzedDataProvider& f) {
  static const double kPlausible[] = {0.0, 1.0, 4.0, 0x1p-24, 0x1p-53, 0.5, 1e-7, -1.0, 0x1p-104, 1e300};
  if (f.ConsumeBool()) return kPlausible[f.ConsumeIntegralInRange<size_t>(0, 9)];
  double v;
  const uint64_t bits = f.ConsumeIntegral<uint64_t>();
  std::memcpy(&v, &bits, sizeof v);  // NaN, Inf, subnormals, negative zero
  return v;
}

bool name_ok(const char* n) {
  if (n == nullptr || n[0] == '\0' || std::strlen(n) > 64) return false;
  for (const char* c = n; *c; ++c) {
    const bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                    *c == '-' || *c == '.';
    if (!ok) return false;
  }
  return true;
}
bool storage(int32_t t) { return t >= RC_DTYPE_F32 && t <= RC_DTYPE_BF16; }

// The invariants an accepted descriptor must satisfy; empty if all hold.
std::string broken_invariant(const rc_kernel_desc& d) {
  const rc_accuracy& a = d.accuracy;
  if (d.abi_version != RC_ABI_1 && d.abi_version != RC_ABI_2) return "abi_version";
  if (!name_ok(d.name)) return "name";
  if (d.description == nullptr) return "description";
  if (!storage(d.in_dtype) || !storage(d.out_dtype)) return "in_dtype/out_dtype";
  if (d.layouts == 0 || (d.layouts & ~RC_LAYOUT_ALL)) return "layouts";
  if (d.scalings == 0 || (d.scalings & ~RC_SCALING_ALL)) return "scalings";
  if (d.placement == 0 || (d.placement & ~(RC_PLACE_IN_PLACE | RC_PLACE_OUT_OF_PLACE))) return "placement";
  if (d.max_position <= 0) return "max_position";
  if (d.head_dim_min < 1 || d.head_dim_max < d.head_dim_min || d.head_dim_multiple < 1) return "head_dim range";
  if (d.rotary_dim_min < 2 || d.rotary_dim_max < d.rotary_dim_min || d.rotary_dim_multiple < 2 ||
      d.rotary_dim_multiple % 2)
    return "rotary_dim range";
  if (d.rotary_dim_min > d.head_dim_max) return "rotary_dim_min <= head_dim_max";
  if (a.angle_recipe < RC_ANGLE_F32_INVFREQ_F32_PRODUCT || a.angle_recipe > RC_ANGLE_OTHER) return "angle_recipe";
  if (a.angle_dtype < RC_DTYPE_F32 || a.angle_dtype > RC_DTYPE_F64X2) return "angle_dtype";
  if (a.position_dtype < RC_DTYPE_F32 || a.position_dtype > RC_DTYPE_I64) return "position_dtype";
  if (!storage(a.sincos_dtype) || !storage(a.compute_dtype)) return "sincos/compute dtype";
  if (a.output_rounding < RC_ROUND_NONE || a.output_rounding > RC_ROUND_OTHER) return "output_rounding";
  if (a.output_rounding == RC_ROUND_NONE && a.compute_dtype != d.out_dtype) return "output_rounding NONE needs compute = out";
  if (!(a.angle_unit_roundoff > 0 && a.angle_unit_roundoff <= 0.5)) return "angle_unit_roundoff";
  for (double v : {a.theta_rel_error, a.angle_product_error, a.reduced_angle_abs_error, a.sincos_ulp, a.attention_rel_error}) {
    if (!(std::isfinite(v) && v >= 0)) return "accuracy error terms finite and >= 0";
  }
  if ((d.prepare == nullptr) != (d.release == nullptr)) return "prepare/release";
  if (d.abi_version == RC_ABI_1) return d.apply == nullptr ? "apply" : "";
  // ABI 2: how the kernel is called, and what it reads.
  if (d.apply2 == nullptr) return "apply2";
  if ((d.features & ~RC_FEATURE_ALL) || !(d.features & (RC_FEATURE_Q_ONLY | RC_FEATURE_QK))) return "features";
  if (d.position_dtypes == 0 || (d.position_dtypes & ~(RC_POSITIONS_I64 | RC_POSITIONS_I32))) return "position_dtypes";
  if (d.position_dtypes == RC_POSITIONS_I32 && d.max_position > INT32_MAX) return "int32 positions beyond 2^31 - 1";
  if (d.cache < RC_CACHE_NONE || d.cache > RC_CACHE_REPEAT_INTERLEAVED) return "cache";
  if (d.cache != RC_CACHE_NONE) {
    if (d.cache_dtype != RC_DTYPE_F32 && d.cache_dtype != RC_DTYPE_BF16 && d.cache_dtype != RC_DTYPE_F16) return "cache_dtype";
    if (d.max_position >= impl::kMaxCacheRows) return "cache rows";
    if (a.angle_recipe != RC_ANGLE_TABLE) return "a cache reader's angle recipe";
  }
  if (!(std::isfinite(d.theta_rel_error_per_pair) && d.theta_rel_error_per_pair >= 0)) return "theta_rel_error_per_pair";
  return "";
}

}  // namespace

Result fuzz_descriptor(const uint8_t* data, size_t size, const RunOptions& opt) {
  FuzzedDataProvider f(data, size);
  rc_kernel_desc d;
  std::memset(&d, 0, sizeof d);
  // ABI 1, ABI 2, or raw bits (a descriptor of another version or garbage).
  switch (f.ConsumeIntegralInRange<uint8_t>(0, 2)) {
    case 0: d.abi_version = RC_ABI_1; break;
    case 1: d.abi_version = RC_ABI_2; break;
    default: d.abi_version = f.ConsumeIntegral<int32_t>(); break;
  }
  static const char* const kNames[] = {"fuzzed_kernel", "", "bad name!", "x.y-z_0",
                                       "a123456789012345678901234567890123456789012345678901234567890123"};
  const std::string fuzzed_name = f.ConsumeRandomLengthString(80);
  const uint8_t name_sel = f.ConsumeIntegralInRange<uint8_t>(0, 6);
  d.name = name_sel < 5 ? kNames[name_sel] : name_sel == 5 ? fuzzed_name.c_str() : nullptr;
  d.description = f.ConsumeBool() ? "fuzzed descriptor" : nullptr;
  d.in_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  d.out_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  d.layouts = plausible_or_raw<uint32_t>(f, 0, 4);
  d.scalings = plausible_or_raw<uint32_t>(f, 0, 0x80);
  d.placement = plausible_or_raw<uint32_t>(f, 0, 4);
  d.max_position = plausible_or_raw<int64_t>(f, -2, int64_t{1} << 53);
  d.head_dim_min = plausible_or_raw<int32_t>(f, -1, 300);
  d.head_dim_max = plausible_or_raw<int32_t>(f, -1, 300);
  d.head_dim_multiple = plausible_or_raw<int32_t>(f, -1, 16);
  d.rotary_dim_min = plausible_or_raw<int32_t>(f, -1, 300);
  d.rotary_dim_max = plausible_or_raw<int32_t>(f, -1, 300);
  d.rotary_dim_multiple = plausible_or_raw<int32_t>(f, -1, 16);
  rc_accuracy& a = d.accuracy;
  a.angle_recipe = plausible_or_raw<int32_t>(f, 0, 6);
  a.angle_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  a.position_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  a.sincos_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  a.compute_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  a.output_rounding = plausible_or_raw<int32_t>(f, 0, 4);
  a.angle_unit_roundoff = double_or_raw(f);
  a.theta_rel_error = double_or_raw(f);
  a.angle_product_error = double_or_raw(f);
  a.reduced_angle_abs_error = double_or_raw(f);
  a.sincos_ulp = double_or_raw(f);
  a.attention_rel_error = double_or_raw(f);
  const uint8_t fns = f.ConsumeIntegral<uint8_t>();
  d.prepare = fns & 1 ? dummy_prepare : nullptr;
  d.release = fns & 2 ? dummy_release : nullptr;
  d.apply = fns & 4 ? nullptr : dummy_apply;
  // ABI 2's fields (read only when abi_version says 2).
  d.features = plausible_or_raw<uint32_t>(f, 0, RC_FEATURE_ALL + 1);
  d.position_dtypes = plausible_or_raw<uint32_t>(f, 0, 4);
  d.cache = plausible_or_raw<int32_t>(f, 0, 5);
  d.cache_dtype = plausible_or_raw<int32_t>(f, 0, 7);
  d.theta_rel_error_per_pair = double_or_raw(f);
  d.prepare2 = fns & 8 ? dummy_prepare2 : nullptr;
  d.apply2 = fns & 16 ? nullptr : dummy_apply2;

  const impl::DescriptorProblem p = impl::check_descriptor(d);
  std::ostream* tr = opt.trace;
  auto fail = [&](const std::string& why) {
    std::ostringstream os;
    os << kViolationMarker << "\ntarget:   descriptor\n" << why << "\nname=" << (d.name ? d.name : "(null)")
       << " abi=" << d.abi_version << " in=" << d.in_dtype << " out=" << d.out_dtype << " layouts=" << d.layouts
       << " scalings=" << d.scalings << " placement=" << d.placement << " max_position=" << d.max_position
       << " head_dim=[" << d.head_dim_min << "," << d.head_dim_max << "]/" << d.head_dim_multiple << " rotary_dim=["
       << d.rotary_dim_min << "," << d.rotary_dim_max << "]/" << d.rotary_dim_multiple << "\n";
    return Result{props::Finding::kViolation, os.str()};
  };
  bool threw = false;
  try {
    impl::validate_descriptor(d, "fuzz");
  } catch (const impl::PluginError&) {
    threw = true;
  }
  if (threw != static_cast<bool>(p)) return fail("validate_descriptor and check_descriptor disagree");
  if (p) {
    if (p.rule.empty()) return fail("a rejection must say which rule failed (field " + p.field + ")");
    if (tr) *tr << "descriptor: rejected (" << p.field << ": " << p.rule << ")\n";
    return {props::Finding::kPass, ""};
  }
  if (const std::string bad = broken_invariant(d); !bad.empty()) {
    return fail("check_descriptor accepted a descriptor that breaks: " + bad);
  }
  // Use it as ropecheck does: nothing here may divide by zero or overflow (UBSan watches).
  RopeSpec s;
  s.head_dim = 128;
  s.rotary_dim = 128;
  props::KernelRunner runner(d, s);
  props::Case c;
  c.spec = s;
  c.positions = {0, d.max_position};
  c.x.assign(256, 1.0);
  (void)runner.unsupported_reason(c);
  const double b = ref::pair_bound(d, s, 5, d.max_position, 1e-3, 1.0, 1.0);
  if (!(b >= 0)) return fail("the error model gave a negative or NaN bound for an accepted descriptor");
  if (tr) *tr << "descriptor: accepted, invariants hold, bound(t=max) = " << b << "\n";
  return {props::Finding::kPass, ""};
}

}  // namespace ropecheck::fuzz

#ifndef ROPECHECK_FUZZ_LIBRARY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ropecheck::fuzz::libfuzzer_entry(ropecheck::fuzz::fuzz_descriptor, data, size);
}
#endif

#include "impl/plugin_loader.hpp"

#include "impl/abi.hpp"

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "impl/isolation.hpp"

namespace ropecheck::impl {

namespace {

bool storage_dtype(int32_t t) {
  return t == RC_DTYPE_F32 || t == RC_DTYPE_F64 || t == RC_DTYPE_F16 || t == RC_DTYPE_BF16;
}
bool any_dtype(int32_t t) { return t >= RC_DTYPE_F32 && t <= RC_DTYPE_I64; }
bool nonneg_finite(double v) { return std::isfinite(v) && v >= 0.0; }

// Well-formed UTF-8 without control characters (the description lands in JSON, XML and
// terminals), at most `max_bytes` long.
bool printable_utf8(const char* s, size_t max_bytes) {
  const size_t n = strnlen(s, max_bytes + 1);
  if (n > max_bytes) return false;
  for (size_t i = 0; i < n;) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t cp = c;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n && extra > 0) return false;  // cut short
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // No overlong forms, surrogates or values beyond U+10FFFF.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace

DescriptorProblem check_descriptor(const rc_kernel_desc& d) {
  auto bad = [](const char* field, std::string rule) {
    return DescriptorProblem{field, std::move(rule)};
  };
  if (d.abi_version < ROPECHECK_ABI_VERSION_MIN || d.abi_version > ROPECHECK_ABI_VERSION)
    return bad("abi_version", "is " + std::to_string(d.abi_version) + ", ropecheck reads ABI versions " +
                                  std::to_string(ROPECHECK_ABI_VERSION_MIN) + " to " + std::to_string(ROPECHECK_ABI_VERSION));
  if (d.name == nullptr || d.name[0] == '\0') return bad("name", "must be a non-empty string");
  const size_t len = strnlen(d.name, 65);
  if (len > 64) return bad("name", "must be at most 64 characters");
  for (size_t i = 0; i < len; ++i) {
    const char c = d.name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return bad("name", "may contain only [A-Za-z0-9_.-]");
  }
  if (d.description == nullptr) return bad("description", "must not be NULL");
  if (!printable_utf8(d.description, 1024)) {
    return bad("description", "must be UTF-8 text without control characters, at most 1024 bytes");
  }
  if (!storage_dtype(d.in_dtype)) return bad("in_dtype", "must be F32, F64, F16 or BF16");
  if (!storage_dtype(d.out_dtype)) return bad("out_dtype", "must be F32, F64, F16 or BF16");
  if (d.layouts == 0 || (d.layouts & ~RC_LAYOUT_ALL) != 0)
    return bad("layouts", "must be a non-empty mask of RC_LAYOUT_BIT values");
  if (d.scalings == 0 || (d.scalings & ~RC_SCALING_ALL) != 0)
    return bad("scalings", "must be a non-empty mask of RC_SCALING_BIT values");
  if (d.placement == 0 || (d.placement & ~(RC_PLACE_IN_PLACE | RC_PLACE_OUT_OF_PLACE)) != 0)
    return bad("placement", "must be a non-empty mask of RC_PLACE_* values");
  if (d.max_position <= 0) return bad("max_position", "must be > 0");
  if (d.head_dim_min < 1 || d.head_dim_max < d.head_dim_min)
    return bad("head_dim_min/head_dim_max", "must satisfy 1 <= min <= max");
  if (d.head_dim_multiple < 1) return bad("head_dim_multiple", "must be >= 1");
  if (d.rotary_dim_min < 2 || d.rotary_dim_max < d.rotary_dim_min)
    return bad("rotary_dim_min/rotary_dim_max", "must satisfy 2 <= min <= max");
  if (d.rotary_dim_multiple < 2 || d.rotary_dim_multiple % 2 != 0)
    return bad("rotary_dim_multiple", "must be even and >= 2");
  if (d.rotary_dim_min > d.head_dim_max)
    return bad("rotary_dim_min", "exceeds head_dim_max: no head_dim is accepted");
  const rc_accuracy& a = d.accuracy;
  if (a.angle_recipe < RC_ANGLE_F32_INVFREQ_F32_PRODUCT || a.angle_recipe > RC_ANGLE_OTHER)
    return bad("accuracy.angle_recipe", "must be an rc_angle_recipe value");
  if (!any_dtype(a.angle_dtype) || a.angle_dtype == RC_DTYPE_I64)
    return bad("accuracy.angle_dtype", "must be a floating rc_dtype");
  if (!any_dtype(a.position_dtype)) return bad("accuracy.position_dtype", "must be an rc_dtype");
  if (!storage_dtype(a.sincos_dtype))
    return bad("accuracy.sincos_dtype", "must be F32, F64, F16 or BF16");
  if (!storage_dtype(a.compute_dtype))
    return bad("accuracy.compute_dtype", "must be F32, F64, F16 or BF16");
  if (a.output_rounding < RC_ROUND_NONE || a.output_rounding > RC_ROUND_OTHER)
    return bad("accuracy.output_rounding", "must be an rc_rounding value");
  if (a.output_rounding == RC_ROUND_NONE && a.compute_dtype != d.out_dtype)
    return bad("accuracy.output_rounding",
               "is NONE but compute_dtype differs from out_dtype (the result must be rounded)");
  if (!(a.angle_unit_roundoff > 0.0 && a.angle_unit_roundoff <= 0.5))
    return bad("accuracy.angle_unit_roundoff", "must be in (0, 0.5]");
  if (!nonneg_finite(a.theta_rel_error)) return bad("accuracy.theta_rel_error", "must be finite and >= 0");
  if (!nonneg_finite(a.angle_product_error))
    return bad("accuracy.angle_product_error", "must be finite and >= 0");
  if (!nonneg_finite(a.reduced_angle_abs_error))
    return bad("accuracy.reduced_angle_abs_error", "must be finite and >= 0");
  if (!nonneg_finite(a.sincos_ulp)) return bad("accuracy.sincos_ulp", "must be finite and >= 0");
  if (!nonneg_finite(a.attention_rel_error))
    return bad("accuracy.attention_rel_error", "must be finite and >= 0");
  if ((d.prepare == nullptr) != (d.release == nullptr))
    return bad("prepare/release", "must be both set or both NULL");
  if (!is_abi2(d)) {
    if (d.apply == nullptr) return bad("apply", "must not be NULL");
    return {};
  }
  // ABI 2: the fields after `apply` (an ABI 1 descriptor has none).
  if ((d.features & ~RC_FEATURE_ALL) != 0) return bad("features", "has bits that are no RC_FEATURE_* value");
  if ((d.features & (RC_FEATURE_Q_ONLY | RC_FEATURE_QK)) == 0) {
    return bad("features", "must contain RC_FEATURE_Q_ONLY or RC_FEATURE_QK (how the kernel is called)");
  }
  if ((d.features & RC_FEATURE_SEQ_LEN) != 0 && d.cache != RC_CACHE_NONE) {
    return bad("features", "RC_FEATURE_SEQ_LEN needs a kernel that computes its own cos/sin (cache RC_CACHE_NONE): the "
                           "cache ropecheck builds holds the frequencies of the spec's sequence length");
  }
  if (d.position_dtypes == 0 || (d.position_dtypes & ~(RC_POSITIONS_I64 | RC_POSITIONS_I32)) != 0) {
    return bad("position_dtypes", "must be a non-empty mask of RC_POSITIONS_I64 and RC_POSITIONS_I32");
  }
  if (d.position_dtypes == RC_POSITIONS_I32 && d.max_position > INT32_MAX) {
    return bad("max_position", "exceeds 2^31 - 1 for a kernel that takes int32 positions only");
  }
  if (d.cache < RC_CACHE_NONE || d.cache > RC_CACHE_REPEAT_INTERLEAVED) {
    return bad("cache", "must be an rc_cache_convention value");
  }
  if (d.cache != RC_CACHE_NONE) {
    if (d.cache_dtype != RC_DTYPE_F32 && d.cache_dtype != RC_DTYPE_BF16 && d.cache_dtype != RC_DTYPE_F16) {
      return bad("cache_dtype", "must be F32, BF16 or F16 for a kernel that reads a cache");
    }
    // ropecheck builds the cache, one row per position up to max_position.
    if (d.max_position > kMaxCacheRows - 1) {
      return bad("max_position", "must be below " + std::to_string(kMaxCacheRows) +
                                     " for a kernel that reads a cos/sin cache (its rows)");
    }
    if (a.angle_recipe != RC_ANGLE_TABLE) {
      return bad("accuracy.angle_recipe", "must be RC_ANGLE_TABLE for a kernel that reads a cos/sin cache");
    }
  }
  if (!nonneg_finite(d.theta_rel_error_per_pair)) return bad("theta_rel_error_per_pair", "must be finite and >= 0");
  if (d.apply2 == nullptr) return bad("apply2", "must not be NULL in an ABI 2 descriptor");
  return {};
}

void validate_descriptor(const rc_kernel_desc& desc, const std::string& origin) {
  if (DescriptorProblem p = check_descriptor(desc)) {
    std::string name;
    if (p.field != "name" && desc.name != nullptr) name = desc.name;
    throw PluginError(origin, name, p.field, p.rule);
  }
}

namespace {

// The plugin's file: `path` made absolute (the kernels' origin, so a saved counterexample
// replays from any directory).  Throws PluginError if it is not a regular file.
std::string plugin_file(const std::string& path) {
  // Always a file path: a bare "lib.so" is the file in the current directory, never a library
  // found on the dynamic linker's search path.
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec).lexically_normal();
  const std::string file = ec ? path : abs.string();
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw PluginError(path, "", "",
                      std::filesystem::exists(file, ec) ? "cannot load: not a regular file" : "cannot load: no such file");
  }
  return file;
}

// A loaded plugin whose kernels have passed validate_descriptor.
struct Listing {
  std::string file;
  std::shared_ptr<void> library;  // dlclose()s when the last copy goes
  std::vector<const rc_kernel_desc*> kernels;
};

// Loads and lists `path` in this process.  Throws PluginError, or PluginCrashed if the listing
// function lets a C++ exception out.
Listing list_plugin(const std::string& path) {
  Listing l;
  l.file = plugin_file(path);
  // RTLD_LOCAL: two plugins may define the same internal symbols.
  void* lib = dlopen(l.file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* err = dlerror();
    throw PluginError(path, "", "", std::string("cannot load: ") + (err ? err : "dlopen failed"));
  }
  l.library = std::shared_ptr<void>(lib, [](void* h) { dlclose(h); });
  void* sym = dlsym(lib, ROPECHECK_PLUGIN_SYMBOL);
  if (sym == nullptr) {
    throw PluginError(path, "", "", std::string("does not export the symbol ") +
                                        ROPECHECK_PLUGIN_SYMBOL + " (see impl/ropecheck_kernel.h)");
  }
  rc_plugin_kernels_fn fn;
  static_assert(sizeof(fn) == sizeof(sym));
  std::memcpy(&fn, &sym, sizeof(fn));  // object pointer -> function pointer, POSIX-style
  int32_t count = -1, abi = -1;
  const rc_kernel_desc* const* descs = nullptr;
  try {
    descs = fn(&count, &abi);
  } catch (const std::exception& e) {
    throw PluginCrashed(path, std::string("let a C++ exception out of " ROPECHECK_PLUGIN_SYMBOL ": ") + e.what());
  } catch (...) {
    throw PluginCrashed(path, "let an exception out of " ROPECHECK_PLUGIN_SYMBOL);
  }
  if (abi < ROPECHECK_ABI_VERSION_MIN || abi > ROPECHECK_ABI_VERSION) {
    throw PluginError(path, "", "abi_version",
                      "plugin was built for ABI version " + std::to_string(abi) + ", ropecheck reads ABI versions " +
                          std::to_string(ROPECHECK_ABI_VERSION_MIN) + " to " + std::to_string(ROPECHECK_ABI_VERSION) +
                          " (rebuild it against this impl/ropecheck_kernel.h)");
  }
  if (count < 0 || count > 4096) {
    throw PluginError(path, "", "count", "must be in [0, 4096], is " + std::to_string(count));
  }
  if (count > 0 && descs == nullptr) throw PluginError(path, "", "", "returned NULL descriptors");
  for (int32_t i = 0; i < count; ++i) {
    if (descs[i] == nullptr) {
      throw PluginError(path, "", "descriptor[" + std::to_string(i) + "]", "is NULL");
    }
    // A plugin built against ABI 1 has descriptors of ABI 1's size: their abi_version must
    // say so before anything past `apply` is read.
    if (descs[i]->abi_version > abi) {
      throw PluginError(path, descs[i]->name ? descs[i]->name : "", "abi_version",
                        "is " + std::to_string(descs[i]->abi_version) + " in a plugin built for ABI version " +
                            std::to_string(abi));
    }
    validate_descriptor(*descs[i], path);
    l.kernels.push_back(descs[i]);
  }
  return l;
}

// The probe child's verdicts; its output carries the details.
enum ProbeVerdict : int {
  kProbeClean = 0,    // output: the number of kernels
  kProbeRefused = 1,  // output: PluginError's file, kernel, field and rule, NUL-separated
  kProbeCrashed = 2,  // output: PluginCrashed::happened()
};

}  // namespace

int probe_plugin(const std::string& path, double timeout_seconds) {
  plugin_file(path);  // a missing file needs no child
  SuperviseOptions opt;
  opt.overall_timeout = timeout_seconds;
  opt.capture_kernel_output = true;  // shown if it crashes, never mixed into ropecheck's output
  const ChildOutcome o = run_supervised(
      [&path](const ChildChannel& ch) {
        try {
          const size_t n = list_plugin(path).kernels.size();  // dlclose()d here: destructors run too
          ch.write(std::to_string(n));
          return kProbeClean;
        } catch (const PluginError& e) {
          ch.write(e.file() + '\0' + e.kernel() + '\0' + e.field() + '\0' + e.rule());
          return kProbeRefused;
        } catch (const PluginCrashed& e) {
          ch.write(e.happened());
          return kProbeCrashed;
        }
      },
      opt);
  if (o.kernel_fault()) throw PluginCrashed(path, o.describe(), o.kernel_output);
  if (o.end != ChildOutcome::End::kVerdict) {
    throw std::runtime_error("cannot check plugin " + path + " in a child process: " + o.describe());
  }
  switch (o.verdict) {
    case kProbeClean:
      return std::stoi(o.output);
    case kProbeRefused: {
      std::vector<std::string> f(1);
      for (char c : o.output) {
        if (c == '\0') {
          f.emplace_back();
        } else {
          f.back().push_back(c);
        }
      }
      f.resize(4);
      throw PluginError(f[0], f[1], f[2], f[3]);
    }
    case kProbeCrashed:
      throw PluginCrashed(path, o.output, o.kernel_output);
    default:
      throw std::runtime_error("plugin probe of " + path + " " + o.describe());
  }
}

int load_plugin(KernelSet& set, const std::string& path, const PluginLoadOptions& opt) {
  if (opt.probe) probe_plugin(path, opt.probe_timeout);
  const Listing l = list_plugin(path);
  KernelSet staged = set;  // all or nothing: a name already taken adds no kernel
  for (const rc_kernel_desc* d : l.kernels) staged.add(d, l.file, l.library);
  set = std::move(staged);
  return static_cast<int>(l.kernels.size());
}

}  // namespace ropecheck::impl

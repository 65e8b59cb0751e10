// Plugin loading: the sample plugin loads and runs; a wrong ABI version, a missing symbol,
// an inconsistent descriptor and a missing file are refused with messages naming the file,
// kernel and field (a bare file name is a file in the current directory); a plugin whose
// listing function crashes or hangs is a PluginCrashed naming it, found in a child process
// (ropecheck itself survives it); every misbehaving test plugin's mode loads except those;
// check_descriptor survives garbage in non-pointer fields.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "impl/plugin_loader.hpp"
#include "impl/registry.hpp"
#include "impl/tests/plugins/test_plugins.hpp"

namespace ropecheck::impl {
namespace {

std::string load_error(const std::string& path) {
  KernelSet set = KernelSet::with_builtins();
  const size_t before = set.all().size();
  try {
    load_plugin(set, path);
  } catch (const PluginError& e) {
    EXPECT_EQ(set.all().size(), before) << "a refused plugin must add no kernel";
    return e.what();
  }
  return "";
}

TEST(PluginLoader, SamplePluginLoadsListsAndRotates) {
  KernelSet set = KernelSet::with_builtins();
  EXPECT_EQ(load_plugin(set, SAMPLE_PLUGIN), 1);
  const Kernel* k = set.find("sample_f32_f64angle");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->origin, SAMPLE_PLUGIN);
  // Rotating (1, 0) at t = 1 by theta_0 = 1 gives (cos 1, sin 1) rounded to float.
  const rc_spec spec = default_rope_spec(4, 4);
  const int64_t pos = 1;
  const float x[4] = {1, 0, 0, 0};
  float y[4] = {};
  ASSERT_EQ(k->desc->apply(&spec, nullptr, &pos, 1, 1, 4, 4, x, y), RC_OK);
  EXPECT_EQ(y[0], static_cast<float>(std::cos(1.0)));
  EXPECT_EQ(y[2], static_cast<float>(std::sin(1.0)));
  // Loading it twice collides on the name.
  EXPECT_THROW(load_plugin(set, SAMPLE_PLUGIN), PluginError);
}

TEST(PluginLoader, BareFileNameIsAFileInTheCurrentDirectoryAndOriginIsAbsolute) {
  // "lib.so" without a slash means the file here, never a library on the linker's search
  // path; the origin recorded (and saved in counterexamples) is absolute.
  const std::filesystem::path plugin(SAMPLE_PLUGIN);
  const std::filesystem::path here = std::filesystem::current_path();
  std::filesystem::current_path(plugin.parent_path());
  KernelSet set = KernelSet::with_builtins();
  EXPECT_EQ(load_plugin(set, plugin.filename().string()), 1);
  EXPECT_NE(load_error("libc.so.6").find("cannot load: no such file"), std::string::npos);
  std::filesystem::current_path(here);
  const Kernel* k = set.find("sample_f32_f64angle");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(std::filesystem::path(k->origin).is_absolute()) << k->origin;
  EXPECT_TRUE(std::filesystem::equivalent(k->origin, plugin));
}

TEST(PluginLoader, WrongAbiVersionIsRefused) {
  const std::string msg = load_error(BAD_ABI_PLUGIN);
  EXPECT_NE(msg.find("ABI version 42"), std::string::npos) << msg;
  EXPECT_NE(msg.find(BAD_ABI_PLUGIN), std::string::npos) << msg;
}

TEST(PluginLoader, MissingSymbolIsRefused) {
  const std::string msg = load_error(NO_SYMBOL_PLUGIN);
  EXPECT_NE(msg.find(ROPECHECK_PLUGIN_SYMBOL), std::string::npos) << msg;
}

TEST(PluginLoader, InconsistentDescriptorNamesKernelAndField) {
  const std::string msg = load_error(BAD_DESC_PLUGIN);
  EXPECT_NE(msg.find("half_prepared"), std::string::npos) << msg;
  EXPECT_NE(msg.find("prepare/release"), std::string::npos) << msg;
}

TEST(PluginLoader, NonexistentFileIsRefused) {
  const std::string msg = load_error("/nonexistent/librope.so");
  EXPECT_NE(msg.find("cannot load"), std::string::npos) << msg;
}

TEST(PluginLoader, WithoutTheProbeTheSamePluginLoadsTheSameWay) {
  KernelSet set;
  PluginLoadOptions opt;
  opt.probe = false;
  EXPECT_EQ(load_plugin(set, SAMPLE_PLUGIN, opt), 1);
  EXPECT_NE(set.find("sample_f32_f64angle"), nullptr);
  opt.probe = false;
  const std::string msg = [&] {
    try {
      KernelSet other;
      load_plugin(other, BAD_ABI_PLUGIN, opt);
    } catch (const PluginError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_EQ(msg, load_error(BAD_ABI_PLUGIN)) << "the probe must refuse in the same words";
}

// What load_plugin throws as a PluginCrashed (empty if it does not).
std::string crash_of(const std::string& path, double probe_timeout = kPluginProbeSeconds) {
  KernelSet set = KernelSet::with_builtins();
  const size_t before = set.all().size();
  PluginLoadOptions opt;
  opt.probe_timeout = probe_timeout;
  try {
    load_plugin(set, path, opt);
  } catch (const PluginCrashed& e) {
    EXPECT_EQ(set.all().size(), before) << "a crashed plugin must add no kernel";
    EXPECT_EQ(e.file(), path);
    return e.what();
  }
  return "";
}

// Issue 15 fault 18: a segfault in the listing function killed every command (exit 139).
TEST(PluginLoader, ListingThatCrashesIsAPluginCrashNamingThePluginAndTheSignal) {
  const std::string msg = crash_of(LIST_CRASHES_PLUGIN);
  EXPECT_NE(msg.find(LIST_CRASHES_PLUGIN), std::string::npos) << msg;
  EXPECT_NE(msg.find("crashed with SIGSEGV"), std::string::npos) << msg;
  EXPECT_NE(msg.find("while being loaded"), std::string::npos) << msg;
  EXPECT_NE(msg.find(ROPECHECK_PLUGIN_SYMBOL), std::string::npos) << msg;
}

// ... and a hang there never returned.
TEST(PluginLoader, ListingThatHangsIsKilledAfterTheProbeTimeout) {
  const auto start = std::chrono::steady_clock::now();
  const std::string msg = crash_of(LIST_HANGS_PLUGIN, 1.0);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(msg.find("hung: no result within 1 s"), std::string::npos) << msg;
  EXPECT_NE(msg.find(LIST_HANGS_PLUGIN), std::string::npos) << msg;
  EXPECT_GE(s, 1.0);
  EXPECT_LT(s, 10.0);
}

TEST(PluginLoader, PluginCrashedIsNotAPluginError) {
  // The CLI maps PluginError to exit 2 (bad input) and PluginCrashed to exit 3 (the kernel).
  static_assert(!std::is_base_of_v<PluginError, PluginCrashed>);
  const PluginCrashed e("lib.so", "crashed with SIGSEGV (segmentation fault)", "constructor running\nabout to list\n");
  const std::string msg = e.what();
  EXPECT_NE(msg.find("it printed:\n    constructor running\n    about to list"), std::string::npos) << msg;
  EXPECT_EQ(e.output(), "constructor running\nabout to list\n");
}

// Every mode of impl/tests/plugins/misbehaving_plugin.c (MISBEHAVING_PLUGINS: "MODE=path|..."
// from ROPECHECK_MISBEHAVING_MODES): the kernels misbehave only when called, so each loads --
// all into one set, under distinct names -- except the two whose listing function misbehaves.
TEST(PluginLoader, EveryMisbehavingModeLoadsExceptThoseWhoseListingMisbehaves) {
  KernelSet set;  // no built-ins: BUILTIN_NAME is named like one
  std::set<std::string> modes;
  for (const auto& [mode, path] : test::misbehaving_plugins(MISBEHAVING_PLUGINS)) {
    modes.insert(mode);
    if (mode == "LIST_CRASHES" || mode == "LIST_HANGS") {
      EXPECT_NE(crash_of(path, 1.0), "") << mode;
    } else {
      EXPECT_EQ(load_plugin(set, path), 1) << mode;
    }
  }
  EXPECT_EQ(set.all().size(), modes.size() - 2);
  for (const char* required : {"CRASH", "HANG", "FORKS", "WRITES_PAST_ROW", "INTERMITTENT", "BATCH_DEPENDENT",
                               "LIST_CRASHES", "LIST_HANGS", "CLOSES_FDS", "PRINTS"}) {
    EXPECT_EQ(modes.count(required), 1u) << required << " is not in the list of modes";
  }
}

TEST(DescriptorCheck, BuiltinsAreValidAndUnique) {
  KernelSet set = KernelSet::with_builtins();  // add() throws on a duplicate name
  for (const Kernel& k : set.all()) {
    const DescriptorProblem p = check_descriptor(*k.desc);
    EXPECT_FALSE(p) << k.desc->name << ": " << p.field << " " << p.rule;
  }
}

TEST(DescriptorCheck, EachBrokenFieldIsNamed) {
  // The ABI 1 fields: the first built-in descriptor read as ABI 1 (it ends at `apply`).
  rc_kernel_desc good = *builtin_kernels().front();
  good.abi_version = RC_ABI_1;
  struct Case {
    const char* field;
    void (*breakit)(rc_kernel_desc&);
  };
  const Case cases[] = {
      {"abi_version", [](rc_kernel_desc& d) { d.abi_version = 0; }},
      {"name", [](rc_kernel_desc& d) { d.name = ""; }},
      {"name", [](rc_kernel_desc& d) { d.name = "has space"; }},
      {"description", [](rc_kernel_desc& d) { d.description = "latin-1 \xe9t\xe9"; }},
      {"description", [](rc_kernel_desc& d) { d.description = "overlong \xc0\xaf slash"; }},
      {"description", [](rc_kernel_desc& d) { d.description = "cut short \xe2\x82"; }},
      {"description", [](rc_kernel_desc& d) { d.description = "surrogate \xed\xa0\x80"; }},
      {"description", [](rc_kernel_desc& d) { d.description = "escape \x1b[31m"; }},
      {"in_dtype", [](rc_kernel_desc& d) { d.in_dtype = RC_DTYPE_I64; }},
      {"out_dtype", [](rc_kernel_desc& d) { d.out_dtype = 0; }},
      {"layouts", [](rc_kernel_desc& d) { d.layouts = 0; }},
      {"scalings", [](rc_kernel_desc& d) { d.scalings = RC_SCALING_ALL + 1; }},  // a bit beyond the last type
      {"placement", [](rc_kernel_desc& d) { d.placement = 0; }},
      {"max_position", [](rc_kernel_desc& d) { d.max_position = 0; }},
      {"rotary_dim_multiple", [](rc_kernel_desc& d) { d.rotary_dim_multiple = 3; }},
      {"accuracy.sincos_ulp", [](rc_kernel_desc& d) { d.accuracy.sincos_ulp = -1; }},
      {"accuracy.output_rounding",
       [](rc_kernel_desc& d) { d.accuracy.compute_dtype = RC_DTYPE_F64; }},
      {"apply", [](rc_kernel_desc& d) { d.apply = nullptr; }},
      {"prepare/release", [](rc_kernel_desc& d) { d.release = nullptr; }},
  };
  for (const Case& c : cases) {
    rc_kernel_desc d = good;
    c.breakit(d);
    EXPECT_EQ(check_descriptor(d).field, c.field);
  }
  rc_kernel_desc d = good;
  d.description = "\u03b8 \u2264 2\u207b\u00b2\u2074 \u2014 f32 \U0001F680";  // UTF-8 text is fine
  EXPECT_FALSE(check_descriptor(d)) << check_descriptor(d).rule;
}

// ABI 2's fields are read only from an ABI 2 descriptor; each broken one is named.
int some_apply2(const rc_spec*, void*, const rc_call*) { return RC_ERR_UNSUPPORTED; }

TEST(DescriptorCheck, Abi2FieldsAreCheckedAndAbi1DescriptorsNeverRead) {
  rc_kernel_desc v1 = *builtin_kernels().front();
  v1.abi_version = RC_ABI_1;  // read as an ABI 1 descriptor
  // An ABI 1 descriptor ends at `apply`: garbage after it changes nothing.
  v1.features = 0xFFFFFFFFu;
  v1.cache = 77;
  v1.apply2 = nullptr;
  EXPECT_FALSE(check_descriptor(v1)) << check_descriptor(v1).field;
  // The scaling kinds are append-only: the mask of every type an ABI 1 plugin could name
  // (RC_SCALING_ALL before proportional), and before none, still loads.
  v1.scalings = RC_SCALING_ALL & ~RC_SCALING_BIT(RC_ROPE_PROPORTIONAL) & ~RC_SCALING_BIT(RC_ROPE_NONE);
  EXPECT_EQ(v1.scalings, 0x7Fu);
  EXPECT_FALSE(check_descriptor(v1)) << check_descriptor(v1).field;
  v1.scalings = RC_SCALING_ALL & ~RC_SCALING_BIT(RC_ROPE_NONE);
  EXPECT_EQ(v1.scalings, 0xFFu);
  EXPECT_FALSE(check_descriptor(v1)) << check_descriptor(v1).field;

  rc_kernel_desc good = *builtin_kernels().front();
  good.abi_version = RC_ABI_2;
  good.apply = nullptr;  // optional in ABI 2
  good.features = RC_FEATURE_Q_ONLY;
  good.position_dtypes = RC_POSITIONS_I64;
  good.cache = RC_CACHE_NONE;
  good.cache_dtype = 0;
  good.theta_rel_error_per_pair = 0;
  good.prepare2 = nullptr;
  good.apply2 = some_apply2;
  ASSERT_FALSE(check_descriptor(good)) << check_descriptor(good).field << ": " << check_descriptor(good).rule;
  struct Case {
    const char* field;
    void (*breakit)(rc_kernel_desc&);
  };
  const Case cases[] = {
      {"abi_version", [](rc_kernel_desc& d) { d.abi_version = 3; }},
      {"features", [](rc_kernel_desc& d) { d.features = 0; }},
      {"features", [](rc_kernel_desc& d) { d.features = RC_FEATURE_Q_ONLY | 0x400u; }},
      {"features", [](rc_kernel_desc& d) { d.features = RC_FEATURE_INVERSE; }},
      {"position_dtypes", [](rc_kernel_desc& d) { d.position_dtypes = 0; }},
      {"max_position", [](rc_kernel_desc& d) { d.position_dtypes = RC_POSITIONS_I32; }},
      {"cache", [](rc_kernel_desc& d) { d.cache = 9; }},
      {"cache_dtype", [](rc_kernel_desc& d) { d.cache = RC_CACHE_COS_SIN_HALVES; d.cache_dtype = RC_DTYPE_F64; }},
      {"max_position", [](rc_kernel_desc& d) { d.cache = RC_CACHE_FULL_WIDTH; d.cache_dtype = RC_DTYPE_F32; }},
      {"theta_rel_error_per_pair", [](rc_kernel_desc& d) { d.theta_rel_error_per_pair = -1; }},
      {"apply2", [](rc_kernel_desc& d) { d.apply2 = nullptr; }},
  };
  for (const Case& c : cases) {
    rc_kernel_desc d = good;
    c.breakit(d);
    EXPECT_EQ(check_descriptor(d).field, c.field) << check_descriptor(d).rule;
  }
  // A cache kernel within kMaxCacheRows that declares its cos/sin a table: accepted.
  rc_kernel_desc cache = good;
  cache.cache = RC_CACHE_COS_SIN_HALVES;
  cache.cache_dtype = RC_DTYPE_F32;
  cache.max_position = 131071;
  cache.accuracy.angle_recipe = RC_ANGLE_TABLE;
  EXPECT_FALSE(check_descriptor(cache)) << check_descriptor(cache).field << ": " << check_descriptor(cache).rule;
  cache.accuracy.angle_recipe = RC_ANGLE_F32_INVFREQ_F32_PRODUCT;
  EXPECT_EQ(check_descriptor(cache).field, "accuracy.angle_recipe");
}

TEST(DescriptorCheck, GarbageScalarFieldsNeverCrash) {
  std::mt19937_64 rng(1234);  // seed printed by the name: reproducible
  const rc_kernel_desc good = *builtin_kernels().front();
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    rc_kernel_desc d = good;
    // Overwrite the bytes between name/description and the function pointers.
    unsigned char* p = reinterpret_cast<unsigned char*>(&d.in_dtype);
    unsigned char* end = reinterpret_cast<unsigned char*>(&d.prepare);
    for (; p < end; ++p) {
      if (rng() % 4 == 0) *p = static_cast<unsigned char>(rng());
    }
    if (check_descriptor(d)) ++rejected;
  }
  EXPECT_GT(rejected, 10000);
}

}  // namespace
}  // namespace ropecheck::impl

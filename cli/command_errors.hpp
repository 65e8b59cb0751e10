// How every ropecheck command ends on an exception: one message on stderr naming the
// command, and the exit code of exit_codes.hpp.  Used by main.cpp, by report's measuring
// child (which must end with the same code) and by fuzz/'s stand-alone `ropecheck fuzz`.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>

#include "args.hpp"
#include "properties/exit_codes.hpp"
#include "properties/output_file.hpp"
#include "impl/plugin_loader.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::cli {

inline int exit_code_of(const char* command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {  // bad usage: the message says what to give instead
    std::fprintf(stderr, "ropecheck %s: %s\n", command, e.what());
    return kExitUsage;
  } catch (const SpecError& e) {  // a spec, config or input value: names the field and the rule
    std::fprintf(stderr, "ropecheck %s: error: %s\n", command, e.what());
    return kExitUsage;
  } catch (const OutputError& e) {  // a promised output that could not be written (full disk, no directory)
    std::fprintf(stderr, "ropecheck %s: error: %s\n", command, e.what());
    return kExitUsage;
  } catch (const impl::PluginError& e) {  // a plugin that cannot be loaded or is inconsistent
    std::fprintf(stderr, "ropecheck %s: error: %s\n", command, e.what());
    return kExitUsage;
  } catch (const impl::PluginCrashed& e) {  // a plugin that crashed, exited or hung while loading
    std::fprintf(stderr, "ropecheck %s: CRASH: %s\n", command, e.what());
    return kExitCrash;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ropecheck %s: internal error: %s\n", command, e.what());
    return kExitInternal;
  }
}

}  // namespace ropecheck::cli

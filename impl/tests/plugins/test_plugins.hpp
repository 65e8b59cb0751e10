// The test plugins' paths, for tests in any folder: MISBEHAVING_PLUGINS is the compile
// definition "MODE=path|MODE=path|..." that impl/CMakeLists.txt builds from
// ROPECHECK_MISBEHAVING_MODES (every MB_ mode of misbehaving_plugin.c).
#pragma once

#include <map>
#include <sstream>
#include <string>

namespace ropecheck::test {

// Mode (MB_ name without the prefix) -> path of its module.
inline std::map<std::string, std::string> misbehaving_plugins(const std::string& list) {
  std::map<std::string, std::string> paths;
  std::istringstream in(list);
  for (std::string entry; std::getline(in, entry, '|');) {
    const size_t eq = entry.find('=');
    paths[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return paths;
}

}  // namespace ropecheck::test

// Replay main: the same fuzz target, built without libFuzzer (any compiler), runs
// LLVMFuzzerTestOneInput on every file of the files and directories given, printing each
// input's decoded case.  Ordinary ctest replays the seed corpora with it; a crash file found
// on a fuzzing cluster replays with it under GCC.  A violation traps, as under libFuzzer.
//
//   fuzz_differential_replay [-v] FILE_OR_DIR...    (-v: every kernel's verdict too)
//
// libFuzzer-style options (-runs=..., -dict=...) are ignored so that the same command lines
// work for both builds.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void collect(const std::string& path, std::vector<std::string>* files) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: cannot open %s\n", path.c_str());
    std::exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    files->push_back(path);
    return;
  }
  DIR* dir = opendir(path.c_str());
  std::vector<std::string> names;
  while (dirent* e = dir ? readdir(dir) : nullptr) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  if (dir) closedir(dir);
  std::sort(names.begin(), names.end());  // a stable order: reproducible logs
  for (const std::string& n : names) collect(path + "/" + n, files);
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-v")) {
      verbose = true;
    } else if (argv[i][0] == '-') {
      continue;  // a libFuzzer option
    } else {
      collect(argv[i], &files);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [-v] FILE_OR_DIR...  (replays fuzz inputs of target %s)\n", argv[0],
                 ROPECHECK_FUZZ_TARGET);
    return 2;
  }
  for (const std::string& f : files) {
    FILE* fp = std::fopen(f.c_str(), "rb");
    std::vector<uint8_t> bytes;
    if (fp) {
      int c;
      while ((c = std::fgetc(fp)) != EOF) bytes.push_back(static_cast<uint8_t>(c));
      std::fclose(fp);
    }
    std::ostringstream trace;
    ropecheck::fuzz::entry_options().trace = &trace;
    std::fprintf(stderr, "%s (%zu bytes)\n", f.c_str(), bytes.size());
    const int rc = LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    std::string t = trace.str();
    if (!verbose) t = t.substr(0, t.find('\n') + 1);  // the decoded case only
    std::fprintf(stderr, "  %s", t.c_str());
    if (rc != 0) return 1;
  }
  std::fprintf(stderr, "replayed %zu inputs of target %s: no violation\n", files.size(), ROPECHECK_FUZZ_TARGET);
  return 0;
}

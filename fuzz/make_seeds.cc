// fuzz_make_seeds OUTDIR [SOURCE_DIR]: writes the seed corpora OUTDIR/<target>/ from the
// hard-case file and the special values (decode.cpp, seed_inputs), plus, for the spec
// target, the example specs of SOURCE_DIR/reference/specs and specs/hf.  The committed
// fuzz/corpus/ is its output (cmake --build ... --target fuzz-seeds regenerates it).
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "fuzz/decode.hpp"
#include "fuzz/fuzz_common.hpp"

int main(int argc, char** argv) {
  using namespace ropecheck::fuzz;
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUTDIR [SOURCE_DIR]\n");
    return 2;
  }
  const std::string out = argv[1];
  mkdir(out.c_str(), 0755);
  size_t total = 0;
  for (const std::string& t : fuzz_target_names()) {
    const std::string dir = out + "/" + t;
    mkdir(dir.c_str(), 0755);
    std::vector<std::vector<uint8_t>> seeds = seed_inputs(t);
    // The committed corpus carries the ABI 2 call seeds too (seed_inputs adds them only for a
    // set with an ABI 2 kernel; the built-ins are ABI 1), so a libFuzzer run over a plugin
    // set starts from q/k calls.
    if ((t == "differential" || t == "metamorphic") && !decoder_reads_calls()) {
      for (std::vector<uint8_t>& s : call_seeds()) seeds.push_back(std::move(s));
    }
    if (t == "spec" && argc > 2) {
      for (const std::string sub : {"/reference/specs", "/reference/specs/hf"}) {
        const std::string d = std::string(argv[2]) + sub;
        if (DIR* dp = opendir(d.c_str())) {
          while (dirent* e = readdir(dp)) {
            const std::string n = e->d_name;
            if (n.size() > 5 && n.substr(n.size() - 5) == ".json") seeds.push_back(read_file_bytes(d + "/" + n));
          }
          closedir(dp);
        }
      }
    }
    for (const auto& s : seeds) {
      std::ofstream(dir + "/seed-" + short_hash(s), std::ios::binary)
          .write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
    }
    std::printf("%s: %zu seeds\n", dir.c_str(), seeds.size());
    total += seeds.size();
  }
  std::printf("%zu seeds in all\n", total);
  return 0;
}

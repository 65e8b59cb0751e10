// read_input_file (input_file.hpp), the one reader of every input file: a regular file is
// read whole; a device, FIFO, directory, missing, unreadable or too large file is refused
// at once with a SpecError naming the file and the rule.  The loaders go through it, so
// `--spec /dev/zero` is exit 2, not a hang (issue 15, fault 12).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <string>

#include "input_file.hpp"
#include "rope_spec.hpp"

namespace ropecheck {
namespace {

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "input_file_test_" + name; }

std::string write_file(const std::string& name, const std::string& content) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// Runs read_input_file(path) and returns the SpecError's message ("" if it read the file).
std::string refusal(const std::string& path, size_t max_bytes = kMaxInputFileBytes) {
  try {
    read_input_file(path, "spec file", max_bytes);
  } catch (const SpecError& e) {
    EXPECT_EQ(e.field(), path) << e.what();
    return e.what();
  }
  return "";
}

TEST(InputFile, ReadsARegularFileWholeAsTextAndAsBytes) {
  const std::string content = std::string("{\"head_dim\": 8}\n") + '\0' + "\xff tail";
  const std::string path = write_file("regular", content);
  EXPECT_EQ(read_input_file(path, "spec file"), content);
  const std::vector<uint8_t> bytes = read_input_file_bytes(path, "fuzz reproducer");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), content);
  EXPECT_EQ(read_input_file(write_file("empty", ""), "spec file"), "");
  // /proc reports size 0 for files that are not empty: the size is a hint, the end of file decides.
  EXPECT_NE(read_input_file("/proc/self/status", "status").find("Pid:"), std::string::npos);
}

TEST(InputFile, RefusesDevicesThatNeverEnd) {
  for (const char* dev : {"/dev/zero", "/dev/urandom"}) {
    const std::string why = refusal(dev);
    EXPECT_NE(why.find("must be a regular file, this is a character device"), std::string::npos) << why;
  }
  // The loaders read through it (they used to read /dev/zero until memory ran out).
  EXPECT_THROW(load_spec_file("/dev/zero"), SpecError);
  EXPECT_THROW(load_hf_config_file("/dev/urandom"), SpecError);
}

// A FIFO nobody writes to: opening it for reading would wait for a writer forever.  If the
// reader blocks anyway, the test opens the writer end itself so that the read ends and the
// failure is reported instead of a hung test.
TEST(InputFile, RefusesAFifoWithoutAWriterWithoutBlocking) {
  const std::string fifo = temp_path("fifo");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  auto pending = std::async(std::launch::async, [&] { return refusal(fifo); });
  if (pending.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "read_input_file blocked on a FIFO without a writer";
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
  }
  const std::string why = pending.get();
  EXPECT_NE(why.find("must be a regular file, this is a FIFO"), std::string::npos) << why;
  ::unlink(fifo.c_str());
}

TEST(InputFile, RefusesDirectoriesAndMissingFilesNamingThem) {
  std::string why = refusal("/");
  EXPECT_NE(why.find("/: the spec file is a directory"), std::string::npos) << why;
  why = refusal(temp_path("does-not-exist.json"));
  EXPECT_NE(why.find("cannot open the spec file: No such file or directory"), std::string::npos) << why;
}

// As root every file is readable, so an unreadable one is made by the kernel instead:
// /proc/self/mem opens, and reading its first page (never mapped) fails.
TEST(InputFile, RefusesFilesItCannotRead) {
  std::string why = refusal("/proc/self/mem");
  EXPECT_NE(why.find("cannot read the spec file"), std::string::npos) << why;
  if (::geteuid() != 0) {
    const std::string path = write_file("unreadable", "{}");
    ::chmod(path.c_str(), 0);
    why = refusal(path);
    EXPECT_NE(why.find("cannot open the spec file: Permission denied"), std::string::npos) << why;
  }
}

TEST(InputFile, RefusesFilesLargerThanTheLimitAndReadsOnesAtIt) {
  const std::string path = write_file("sixteen", std::string(16, 'x'));
  EXPECT_EQ(read_input_file(path, "spec file", 16).size(), 16u);
  const std::string why = refusal(path, 15);
  EXPECT_NE(why.find("the spec file is 16 bytes, more than the 15 bytes ropecheck reads"), std::string::npos) << why;
  // A file whose size is not known in advance (/proc) is cut off at the limit too.
  EXPECT_THROW(read_input_file("/proc/self/status", "status", 8), SpecError);
}

}  // namespace
}  // namespace ropecheck

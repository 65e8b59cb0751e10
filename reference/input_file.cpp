// read_input_file (input_file.hpp): open without blocking, check the kind and size of what
// was opened (not of what the path named a moment before), then read at most max_bytes + 1.
#include "input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "rope_spec.hpp"

namespace ropecheck {

namespace {

// Closes the descriptor however the read ends.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string kind_of(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

template <class Bytes>
Bytes read_bounded(const std::string& path, const std::string& what, size_t max_bytes) {
  const auto fail = [&](const std::string& rule) { return SpecError(path, rule); };
  // O_NONBLOCK: opening a FIFO that has no writer would otherwise wait for one forever.
  // O_NOCTTY: a terminal named as input must not become our controlling terminal.
  const Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) {
    const int e = errno;
    throw fail("cannot open the " + what + ": " + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw fail("cannot read the " + what + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw fail("the " + what + " is a directory, not a file");
  if (!S_ISREG(st.st_mode)) {
    // /dev/zero and /dev/urandom never end, a FIFO may never be written: refused, not read.
    throw fail("the " + what + " must be a regular file, this is " + kind_of(st.st_mode));
  }
  const std::string limit = std::to_string(max_bytes) + " bytes";
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    throw fail("the " + what + " is " + std::to_string(st.st_size) + " bytes, more than the " + limit +
               " ropecheck reads");
  }
  // A regular file never blocks; blocking reads keep EAGAIN out of the loop below.
  const int flags = ::fcntl(f.fd, F_GETFL);
  if (flags >= 0) ::fcntl(f.fd, F_SETFL, flags & ~O_NONBLOCK);
  // st_size may be stale (the file grows, or /proc reports 0): read to the end, but never
  // past max_bytes + 1, which is enough to tell that the limit is exceeded.
  const size_t cap = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  Bytes out;
  out.resize(std::min(static_cast<size_t>(st.st_size) + 1, cap));
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() >= cap) break;
      out.resize(std::min(cap, std::max<size_t>(out.size() * 2, 4096)));
    }
    const ssize_t n = ::read(f.fd, &out[used], out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail("cannot read the " + what + ": " + std::strerror(errno));
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) throw fail("the " + what + " is larger than the " + limit + " ropecheck reads");
  out.resize(used);
  return out;
}

}  // namespace

std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes) {
  return read_bounded<std::string>(path, what, max_bytes);
}

std::vector<uint8_t> read_input_file_bytes(const std::string& path, const std::string& what,
                                           size_t max_bytes) {
  return read_bounded<std::vector<uint8_t>>(path, what, max_bytes);
}

}  // namespace ropecheck

// Writing the files a command promises (JUnit XML, JSON, counterexamples, reports): a CI job
// trusts a file it asked for, so a file that could not be written whole — no directory, a
// full disk (/dev/full), an empty name — is an error naming the file (exit 2), never a
// silent success.  Every output of every command goes through write_output_file.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace ropecheck {

// A promised output that could not be written.  what(): "cannot write FILE: why".
class OutputError : public std::runtime_error {
 public:
  OutputError(const std::string& path, const std::string& why);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `content` to `path` (creating its parent directories), flushes and closes it, and
// checks every step; throws OutputError if any fails.
void write_output_file(const std::string& path, std::string_view content);

// Text for XML or HTML (JUnit files, report.html): & < > " escaped, and control characters
// other than newline and tab (which XML 1.0 does not allow; a kernel's output may hold any)
// replaced by a space.
std::string markup_escape(std::string_view text);

// Writes `content` to standard output and flushes it; throws OutputError("standard output",
// ...) if the write or the flush fails (e.g. stdout on a full disk).
void write_stdout(std::string_view content);

}  // namespace ropecheck

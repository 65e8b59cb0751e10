#include "properties/output_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ropecheck {

OutputError::OutputError(const std::string& path, const std::string& why)
    : std::runtime_error("cannot write " + (path.empty() ? std::string("''") : path) + ": " + why), path_(path) {}

namespace {

// fwrite + fflush, then the stream's error flag: a full disk shows only at the flush.
void write_all(std::FILE* f, std::string_view content, const std::string& name) {
  errno = 0;
  if (!content.empty() && std::fwrite(content.data(), 1, content.size(), f) != content.size()) {
    throw OutputError(name, errno ? std::strerror(errno) : "short write");
  }
  if (std::fflush(f) != 0 || std::ferror(f)) throw OutputError(name, errno ? std::strerror(errno) : "write failed");
}

}  // namespace

void write_output_file(const std::string& path, std::string_view content) {
  if (path.empty()) throw OutputError(path, "the file name is empty");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw OutputError(path, "cannot create the directory " + parent.string() + ": " + ec.message());
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw OutputError(path, std::strerror(errno));
  try {
    write_all(f, content, path);
  } catch (...) {
    std::fclose(f);
    throw;
  }
  if (std::fclose(f) != 0) throw OutputError(path, std::strerror(errno));
}

std::string markup_escape(std::string_view text) {
  std::string o;
  o.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' ? ' ' : c;
    }
  }
  return o;
}

void write_stdout(std::string_view content) { write_all(stdout, content, "standard output"); }

}  // namespace ropecheck

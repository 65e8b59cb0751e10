// The one way ropecheck reads an input file: spec files, HF config.json files,
// counterexamples, fuzz reproducers, `ref --input @FILE`.  Every command should read its
// inputs through here, so all of them refuse the same things with the same words.
//
// A path the user names may be anything: /dev/zero or /dev/urandom (endless), a FIFO with no
// writer (blocks forever in open() or read()), a directory, a 100 GB log.  Only a regular file
// of at most `max_bytes` is read; anything else is refused at once, without blocking and
// without reading more than max_bytes + 1 bytes, by a SpecError naming the file (field) and
// the rule -- the CLI maps SpecError to exit code 2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ropecheck {

// 64 MiB: far above any real input (a spec is < 1 KiB, a longrope HF config ~ 10 KiB, a
// counterexample of the largest generated case a few MiB), far below what would exhaust memory
// once nlohmann builds its tree (~10x the text).
inline constexpr size_t kMaxInputFileBytes = size_t{64} << 20;

// The whole file as text.  `what` says what the file is for messages ("spec file",
// "HF config", "counterexample", ...).  Throws SpecError(path, rule) when the file does not
// exist or cannot be opened or read, is a directory, is not a regular file (device, FIFO,
// socket), or is larger than max_bytes.
std::string read_input_file(const std::string& path, const std::string& what,
                            size_t max_bytes = kMaxInputFileBytes);

// The same, as bytes (fuzz reproducers are binary).
std::vector<uint8_t> read_input_file_bytes(const std::string& path, const std::string& what,
                                           size_t max_bytes = kMaxInputFileBytes);

}  // namespace ropecheck

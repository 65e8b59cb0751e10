// A small, strict option parser shared by the subcommands: "--name value", "--name=value"
// and flags.  Unknown options are errors (exit 2), never silently ignored.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cerrno>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ropecheck::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An integer option value in [lo, hi]: decimal digits only, since strtoull would take a
// sign ("-1" wraps round to 2^64-1), leading space or "0x".  Every numeric option of every
// command goes through here, so they accept and word the same things.
inline uint64_t parse_unsigned(const std::string& opt, const std::string& v, uint64_t lo, uint64_t hi) {
  const auto show = [](uint64_t n) { return n == UINT64_MAX ? std::string("2^64-1") : std::to_string(n); };
  errno = 0;
  char* end = nullptr;
  const unsigned long long n =
      v.empty() || v.find_first_not_of("0123456789") != std::string::npos ? 0 : std::strtoull(v.c_str(), &end, 10);
  if (end == nullptr || *end != '\0' || errno != 0 || n < lo || n > hi) {
    throw UsageError(opt + " must be an integer in [" + show(lo) + ", " + show(hi) + "], got \"" + v + "\"");
  }
  return n;
}

// The same for an int-sized option (0 <= lo <= hi).
inline int parse_int(const std::string& v, const std::string& opt, int lo, int hi) {
  return static_cast<int>(parse_unsigned(opt, v, static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)));
}

class ParsedArgs {
 public:
  // `valued`: options that take a value; `flags`: options without one.  Options listed in
  // `repeatable` may be given several times (all values kept, in order).
  ParsedArgs(const std::vector<std::string>& args, const std::set<std::string>& valued,
             const std::set<std::string>& flags,
             const std::set<std::string>& repeatable = {}) {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string a = args[i];
      if (a.rfind("--", 0) != 0) {
        positional_.push_back(a);
        continue;
      }
      std::string value;
      bool has_value = false;
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_value = true;
      }
      if (flags.count(a)) {
        if (has_value) throw UsageError("option " + a + " takes no value");
        flags_.insert(a);
      } else if (valued.count(a)) {
        if (!has_value) {
          if (i + 1 >= args.size()) throw UsageError("option " + a + " needs a value");
          // "--junit --quiet": the value is missing, not a file named "--quiet" (a value that
          // really starts with an option's name can be given as --junit=--quiet).
          const std::string& next = args[i + 1];
          const std::string next_name = next.substr(0, next.find('='));
          if (valued.count(next_name) || flags.count(next_name)) {
            throw UsageError("option " + a + " needs a value (got the option " + next_name + ")");
          }
          value = args[++i];
        }
        if (values_.count(a) && !repeatable.count(a)) {
          throw UsageError("option " + a + " given more than once");
        }
        values_[a].push_back(value);
      } else {
        throw UsageError("unknown option " + a + " (see --help)");
      }
    }
  }

  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second.back();
  }
  std::vector<std::string> all(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::set<std::string> flags_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace ropecheck::cli

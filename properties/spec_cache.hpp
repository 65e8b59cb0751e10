// What is prepared per spec (kernel runners with their handles, oracles), kept for the specs
// used most recently.  Preparing costs the frequencies in MPFR, a kernel's prepare and, for a
// table kernel, the rows it fills; RapidCheck's shrinking, the gate's generated cases and the
// fuzzers come back to the same specs many times.  One cache for the gate (capacity 1: the
// spec of the unit), the catalogue tests and the fuzzers.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "impl/kernels/common.hpp"
#include "properties/c_spec.hpp"
#include "reference/rope_spec.hpp"

namespace ropecheck::props {

// Every field a kernel or the exact math reads (impl::spec_key of the C spec): equal keys mean
// equal specs, so spec choices that decode to the same spec share an entry.
inline std::string spec_cache_key(const RopeSpec& spec) { return impl::spec_key(to_c_spec(spec).get()); }

// Least recently used out.  Not thread-safe.
template <class Entry>
class SpecCache {
 public:
  explicit SpecCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The entry for `key`, made by make() (returning std::unique_ptr<Entry>) when absent; it
  // becomes the most recent.  On a miss the oldest entries are dropped *before* make() runs,
  // so a full cache never holds capacity + 1 prepared specs.  A reference stays valid until
  // its entry is dropped, i.e. at most until capacity other keys have been asked for.
  template <class Make>
  Entry& get(const std::string& key, Make&& make) {
    if (auto hit = index_.find(key); hit != index_.end()) {
      order_.splice(order_.begin(), order_, hit->second);
      return *hit->second->second;
    }
    while (order_.size() >= capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    std::unique_ptr<Entry> made = make();
    order_.emplace_front(key, std::move(made));
    index_.emplace(key, order_.begin());
    return *order_.front().second;
  }

  // Calls f(entry) for every entry, most recent first.
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : order_) f(*s.second);
  }

  void clear() {
    index_.clear();
    order_.clear();
  }
  size_t size() const { return order_.size(); }

 private:
  using Slot = std::pair<std::string, std::unique_ptr<Entry>>;
  size_t capacity_;
  std::list<Slot> order_;  // front = most recent
  std::unordered_map<std::string, typename std::list<Slot>::iterator> index_;
};

}  // namespace ropecheck::props

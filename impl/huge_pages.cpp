// Large allocations of the `ropecheck` executable and the Python module in transparent huge
// pages.
//
// The gate's edge sweep judges one call of 65539 tokens per kernel: the case, the kernel's
// guarded buffers, their copies and the output hold hundreds of MiB, all touched once.  On a
// virtual machine each 4 KiB page fault is costly; they were half of `check`'s time on the CI
// host (the llama-3.1-8b config over the built-in kernels, single runs: 7.5 s, 2.9 s with
// huge pages).  Linux backs memory advised MADV_HUGEPAGE with 2 MiB pages when its policy is
// "madvise" (the default of Debian's kernels): 512 times fewer faults.  This operator new
// advises every block of at least kLarge bytes (every std::vector of that size).  Linked into
// the executable it replaces the program's; in the Python module (python/CMakeLists.txt) the
// version script keeps it local, so only the module's own allocations use it, never torch's,
// numpy's or the interpreter's (ropecheck.check's sweep with the 65539-token call: 3.3 s, 2.2 s).
// Every block comes from malloc and goes back to free, whoever frees it.  Nothing changes in
// what is computed; a kernel that writes past its buffer is still caught by the guards around
// it (properties/runner.cpp), which do not depend on page size.  Not under the sanitizers,
// whose operator new must stay to catch overflows.
#if defined(__SANITIZE_ADDRESS__)
#define ROPECHECK_HUGE_PAGES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define ROPECHECK_HUGE_PAGES 0
#endif
#endif
#ifndef ROPECHECK_HUGE_PAGES
#if defined(__linux__) && !defined(__SANITIZE_THREAD__)
#define ROPECHECK_HUGE_PAGES 1
#else
#define ROPECHECK_HUGE_PAGES 0
#endif
#endif

#if ROPECHECK_HUGE_PAGES
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t kLarge = std::size_t{8} << 20;
constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

// Advises the whole 2 MiB pages inside [p, p + n): glibc serves such blocks from a fresh
// mapping of their own, untouched until the caller writes it.
void advise_huge(void* p, std::size_t n) {
  const auto from = (reinterpret_cast<std::uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const auto to = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(kHugePage - 1);
  if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);  // advice: failure is harmless
}

void* allocate(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  if (n >= kLarge) advise_huge(p, n);
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif

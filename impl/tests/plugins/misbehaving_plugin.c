/* misbehaving_plugin.c -- kernels that break the contract, for the isolation and verdict tests
 * of the plugin loader and of `ropecheck check`, `report`, `fuzz` and `repro`
 * (impl/tests/plugin_loader_test.cpp, cli/tests/gate_test.cpp, fuzz/tests/fuzz_verdict_test.cpp).
 * Each wraps the sample plugin's correct kernel and is built once per MISBEHAVIOUR, one of the
 * MB_ names below, as the module ropecheck_mb_<name in lower case> (impl/tests/plugins/
 * CMakeLists.txt, which reads the list of modes from the #defines below).  "At 4096" means: on
 * a call whose largest position is >= 4096, so a sweep of edge positions reaches the bad call
 * after a number of good ones and must name the case that triggered it.
 *
 *   MB_CRASH            segfaults at 4096
 *   MB_HANG             spins forever at 65536
 *   MB_WRITES_PAST_END  writes one element past the output at 4096 (out of place)
 *   MB_IN_PLACE_WRONG   declares in-place calls only, and adds 1 to the first component of
 *                       every vector (a wrong kernel that only an in-place check can see)
 *   MB_THROWS           lets a C++ exception out of apply at 4096 (throw_from_kernel, in
 *                       throwing_hook.cpp)
 *   MB_EXIT0            exit(0) at 4096 (the process "ends well" without a verdict)
 *   MB_EXIT1            _exit(1) at 4096 (the status the in-process fuzz driver used for a
 *                       violation)
 *   MB_NAN              a NaN output at 4096
 *   MB_VACUOUS          correct, but declares an accuracy contract that allows anything (a
 *                       reduced-angle error of 1 rad), which the commands must refuse
 *   MB_HEAD_DIM_100     declares only head_dim 100, which the fuzz decoder never generates
 *   MB_IN_PLACE         declares in-place calls only (correct: checked through in-place
 *                       calls, it passes)
 *   MB_BUILTIN_NAME     named like a built-in kernel ("scalar_f64")
 *   MB_PREPARE_REFUSES  prepare refuses every spec (reachable on paper, never checked)
 *   MB_WRONG_FIRST_CALL wrong (adds 1 to the first component of every vector) on the first
 *                       call it answers in a process, right on every later one: a lazily
 *                       initialised table filled after its first use
 *   MB_FORKS            on its first call in a process, forks a grandchild that sleeps 600 s
 *                       with the inherited stdout/stderr open (a helper process that outlives
 *                       its caller), then answers correctly
 *   MB_WRITES_PAST_ROW  at 4096 (out of place), writes element head_dim of every vector -- one
 *                       past the row, in the stride gap or the next vector -- copying the
 *                       input's element there, vector by vector, as ggml does for an odd
 *                       head_dim: in a gap, input padding lands in output padding; in the next
 *                       vector, that vector's own result overwrites it; past the last vector,
 *                       it lands beyond the output (after a read past the input)
 *   MB_INTERMITTENT     returns RC_ERR_INTERNAL on every 100th call in a process (writing
 *                       nothing), correct otherwise: a failure that does not replay
 *   MB_BATCH_DEPENDENT  when n_tokens > 1, rotates the last token by its index in the batch
 *                       (n_tokens - 1) instead of its position; correct for a single token
 *   MB_LIST_CRASHES     the listing function (ropecheck_plugin_kernels) segfaults
 *   MB_LIST_HANGS       the listing function spins forever
 *   MB_CLOSES_FDS       closes every file descriptor >= 3 it can on every call
 *                       (close_range(3, ~0U), else 3..1023), then answers correctly
 *   MB_PRINTS           prints a line to stdout and one to stderr on every call, then answers
 *                       correctly
 *   MB_ABORT            abort()s at 4096 (SIGABRT: a failed assert in a kernel)
 *
 * EXIT0, EXIT1 and NAN act on a call the sample kernel answered (RC_OK, every position within
 * its range), after it has; CRASH, HANG and THROWS act before it, on the positions alone. */
#define ropecheck_plugin_kernels sample_plugin_kernels /* keep the sample's entry point apart */
#include "sample_plugin/sample_plugin.c"
#undef ropecheck_plugin_kernels

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MB_CRASH 1
#define MB_HANG 2
#define MB_WRITES_PAST_END 3
#define MB_IN_PLACE_WRONG 4
#define MB_THROWS 5
#define MB_EXIT0 6
#define MB_EXIT1 7
#define MB_NAN 8
#define MB_VACUOUS 9
#define MB_HEAD_DIM_100 10
#define MB_IN_PLACE 11
#define MB_BUILTIN_NAME 12
#define MB_PREPARE_REFUSES 13
#define MB_WRONG_FIRST_CALL 14
#define MB_FORKS 15
#define MB_WRITES_PAST_ROW 16
#define MB_INTERMITTENT 17
#define MB_BATCH_DEPENDENT 18
#define MB_LIST_CRASHES 19
#define MB_LIST_HANGS 20
#define MB_CLOSES_FDS 21
#define MB_PRINTS 22
#define MB_ABORT 23

#if !defined(MISBEHAVIOUR) || MISBEHAVIOUR < MB_CRASH || MISBEHAVIOUR > MB_ABORT
#error "define MISBEHAVIOUR to one of the MB_ names at the top of this file"
#endif

#if MISBEHAVIOUR == MB_THROWS
void throw_from_kernel(void); /* throwing_hook.cpp: throws std::runtime_error */
#endif

static int misbehaving_apply(const rc_spec* spec, void* handle, const int64_t* positions, int64_t n_tokens,
                             int64_t n_heads, int64_t token_stride, int64_t head_stride, const void* in,
                             void* out) {
  int64_t max_t = 0;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (positions[k] > max_t) max_t = positions[k];
  }
#if MISBEHAVIOUR == MB_CRASH
  if (max_t >= 4096) {
    volatile int* volatile nowhere = NULL;
    *nowhere = 1; /* segfault */
  }
#elif MISBEHAVIOUR == MB_ABORT
  if (max_t >= 4096) abort(); /* SIGABRT, as a failed assert() in a kernel */
#elif MISBEHAVIOUR == MB_HANG
  if (max_t >= 65536) {
    for (volatile int spin = 1; spin;) {
    } /* hang */
  }
#elif MISBEHAVIOUR == MB_THROWS
  if (max_t >= 4096) throw_from_kernel();
#elif MISBEHAVIOUR == MB_FORKS
  static pid_t forked_in = 0; /* the process that has its sleeper (isolated runs fork) */
  if (forked_in != getpid()) {
    forked_in = getpid();
    if (fork() == 0) {
      sleep(600);
      _exit(0);
    }
  }
#elif MISBEHAVIOUR == MB_INTERMITTENT
  static unsigned long calls = 0;
  if (__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) % 100 == 0) return RC_ERR_INTERNAL;
#elif MISBEHAVIOUR == MB_CLOSES_FDS
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
    for (int fd = 3; fd < 1024; ++fd) close(fd);
#elif MISBEHAVIOUR == MB_PRINTS
  printf("misbehaving kernel 'prints': %lld tokens on stdout\n", (long long)n_tokens);
  fprintf(stderr, "misbehaving kernel 'prints': %lld heads on stderr\n", (long long)n_heads);
#elif MISBEHAVIOUR == MB_BATCH_DEPENDENT
  if (n_tokens > 1) {
    /* Tokens 0 .. n-2 right, then the last one at its index: two calls, each safe in place. */
    const int64_t last = n_tokens - 1;
    const size_t elem = sizeof(float);
    /* Every position checked before anything is written (a refusal writes nothing): the one
       defect of this mode is the batch dependence. */
    for (int64_t k = 0; k < n_tokens; ++k) {
      if (positions[k] < 0 || positions[k] > SAMPLE_MAX_POSITION) return RC_ERR_POSITION;
    }
    int rc = sample_apply(spec, handle, positions, last, n_heads, token_stride, head_stride, in, out);
    if (rc != RC_OK) return rc;
    return sample_apply(spec, handle, &last, 1, n_heads, token_stride, head_stride,
                        (const char*)in + last * token_stride * elem, (char*)out + last * token_stride * elem);
  }
#endif
  const int rc = sample_apply(spec, handle, positions, n_tokens, n_heads, token_stride, head_stride, in, out);
#if MISBEHAVIOUR == MB_IN_PLACE_WRONG || MISBEHAVIOUR == MB_WRONG_FIRST_CALL
  int wrong = rc == RC_OK;
#if MISBEHAVIOUR == MB_WRONG_FIRST_CALL
  static pid_t answered_in = 0; /* the process of the first answered call (isolated runs fork) */
  wrong = wrong && n_tokens > 0 && n_heads > 0 && answered_in != getpid();
  if (wrong) answered_in = getpid();
#endif
  if (wrong) {
    for (int64_t k = 0; k < n_tokens; ++k) {
      for (int64_t h = 0; h < n_heads; ++h) ((float*)out)[k * token_stride + h * head_stride] += 1.0f;
    }
  }
#elif MISBEHAVIOUR == MB_WRITES_PAST_END
  if (rc == RC_OK && out != in && n_tokens > 0 && n_heads > 0 && max_t >= 4096) {
    const int64_t last = (n_tokens - 1) * token_stride + (n_heads - 1) * head_stride + spec->head_dim - 1;
    ((float*)out)[last + 1] = 0.0f; /* one element past the end */
  }
#elif MISBEHAVIOUR == MB_WRITES_PAST_ROW
  if (rc == RC_OK && out != in && max_t >= 4096) {
    /* Vector by vector, each followed by its spill, so that a spill into the next vector is
     * overwritten by that vector's own result (the call above already checked the arguments). */
    for (int64_t k = 0; k < n_tokens; ++k) {
      for (int64_t h = 0; h < n_heads; ++h) {
        const int64_t at = k * token_stride + h * head_stride;
        sample_apply(spec, handle, &positions[k], 1, 1, token_stride, head_stride, (const float*)in + at,
                     (float*)out + at);
        ((float*)out)[at + spec->head_dim] = ((const float*)in)[at + spec->head_dim];
      }
    }
  }
#elif MISBEHAVIOUR == MB_EXIT0 || MISBEHAVIOUR == MB_EXIT1 || MISBEHAVIOUR == MB_NAN
  if (rc == RC_OK && max_t >= 4096 && max_t <= SAMPLE_MAX_POSITION) {
#if MISBEHAVIOUR == MB_EXIT0
    exit(0);
#elif MISBEHAVIOUR == MB_EXIT1
    _exit(1);
#else
    if (n_tokens > 0 && n_heads > 0) ((float*)out)[0] = nanf("");
#endif
  }
#endif
  return rc;
}

#if MISBEHAVIOUR == MB_PREPARE_REFUSES
static int refusing_prepare(const rc_spec* spec, void** handle) {
  (void)spec;
  (void)handle;
  return RC_ERR_SPEC;
}
static void no_release(void* handle) { (void)handle; }
#endif

static rc_kernel_desc misbehaving_kernel;
static const rc_kernel_desc* misbehaving_kernels[1];

RC_EXPORT const rc_kernel_desc* const* ropecheck_plugin_kernels(int32_t* count, int32_t* abi_version) {
  static const char* const names[] = {"",
                                      "crashes_at_4096",
                                      "hangs_at_65536",
                                      "writes_past_end",
                                      "in_place_only_wrong",
                                      "throws_at_4096",
                                      "exits_0_at_4096",
                                      "exits_1_at_4096",
                                      "nan_at_4096",
                                      "claims_one_radian",
                                      "head_dim_100_only",
                                      "in_place_only",
                                      "scalar_f64",
                                      "prepare_refuses",
                                      "wrong_on_first_call",
                                      "forks_a_sleeper",
                                      "writes_past_each_row",
                                      "fails_every_100th_call",
                                      "batch_dependent",
                                      "list_crashes",
                                      "list_hangs",
                                      "closes_fds",
                                      "prints",
                                      "aborts_at_4096"};
#if MISBEHAVIOUR == MB_LIST_CRASHES
  volatile int* volatile nowhere = NULL;
  *nowhere = 1; /* segfault */
#elif MISBEHAVIOUR == MB_LIST_HANGS
  for (volatile int spin = 1; spin;) {
  } /* hang */
#endif
  memcpy(&misbehaving_kernel, &sample_kernel, sizeof misbehaving_kernel);
  misbehaving_kernel.name = names[MISBEHAVIOUR];
  misbehaving_kernel.apply = misbehaving_apply;
  /* Called the ABI 1 way (apply): the sample's apply2 would bypass the misbehaviour. */
  misbehaving_kernel.abi_version = RC_ABI_1;
#if MISBEHAVIOUR == MB_IN_PLACE_WRONG || MISBEHAVIOUR == MB_IN_PLACE
  misbehaving_kernel.placement = RC_PLACE_IN_PLACE;
#elif MISBEHAVIOUR == MB_VACUOUS
  misbehaving_kernel.accuracy.reduced_angle_abs_error = 1.0;
#elif MISBEHAVIOUR == MB_HEAD_DIM_100
  misbehaving_kernel.head_dim_min = 100;
  misbehaving_kernel.head_dim_max = 100;
#elif MISBEHAVIOUR == MB_PREPARE_REFUSES
  misbehaving_kernel.prepare = refusing_prepare;
  misbehaving_kernel.release = no_release;
#endif
  misbehaving_kernels[0] = &misbehaving_kernel;
  *count = 1;
  *abi_version = ROPECHECK_ABI_VERSION;
  return misbehaving_kernels;
}

// Linked into every test executable (cmake/RopecheckTesting.cmake): ::testing::TempDir() is
// the build's own folder (ROPECHECK_TEST_TMPDIR) unless TEST_TMPDIR is already set, so two
// builds testing at once on one machine never share /tmp/<name>.
#include <cstdlib>

namespace {
const int kTestTmpdirSet = ::setenv("TEST_TMPDIR", ROPECHECK_TEST_TMPDIR, 0);
}  // namespace

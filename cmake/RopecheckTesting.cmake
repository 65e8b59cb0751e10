# ropecheck_add_test(NAME <name> SOURCES <src...> [LIBS <lib...>] [LABELS <label...>]
#                    [TIMEOUT <seconds>] [ENVIRONMENT <VAR=value...>])
# One GoogleTest executable; each TEST becomes its own CTest test (gtest_discover_tests) so
# ctest -j runs them in parallel and the summary line counts real tests.  Default label:
# "unit".  Long runs carry the label "long", which CI excludes (see README.md).
include(GoogleTest)
# Every test's ::testing::TempDir() is this build's own folder: two builds testing at once on
# one machine (two worktrees, a CI job beside a developer) never share /tmp/<name>.
set(ROPECHECK_TEST_TMPDIR "${CMAKE_BINARY_DIR}/test-tmp/")
file(MAKE_DIRECTORY "${ROPECHECK_TEST_TMPDIR}")
function(ropecheck_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ENVIRONMENT" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES} ${PROJECT_SOURCE_DIR}/cmake/test_tmpdir.cpp)
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main ropecheck_options)
  target_compile_definitions(${T_NAME} PRIVATE
    ROPECHECK_SOURCE_DIR="${PROJECT_SOURCE_DIR}" ROPECHECK_TEST_TMPDIR="${ROPECHECK_TEST_TMPDIR}")
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${T_ENVIRONMENT}"
    DISCOVERY_TIMEOUT 120)
endfunction()

# The test plugins (misbehaving modes, bad ABI, ...) are built once, in impl/tests/plugins/.

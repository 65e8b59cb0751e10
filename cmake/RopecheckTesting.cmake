# ropecheck_add_test(NAME <name> SOURCES <src...> [LIBS <lib...>] [LABELS <label...>]
#                    [TIMEOUT <seconds>] [ENVIRONMENT <VAR=value...>])
# One GoogleTest executable; each TEST becomes its own CTest test (gtest_discover_tests) so
# ctest -j runs them in parallel and the summary line counts real tests.  Default label:
# "unit".  Long runs carry the label "long", which CI excludes (see README.md).
include(GoogleTest)
function(ropecheck_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ENVIRONMENT" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main ropecheck_options)
  target_compile_definitions(${T_NAME} PRIVATE
    ROPECHECK_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${T_ENVIRONMENT}"
    DISCOVERY_TIMEOUT 120)
endfunction()

# ropecheck_add_misbehaving_plugin(<target> <MODE>)
# impl/tests/misbehaving_plugin.c built as one of its kernels: MODE is an MB_ name from the top
# of that file without the prefix (CRASH, EXIT0, NAN, ...).  A module named lib<target>.so.
function(ropecheck_add_misbehaving_plugin target mode)
  add_library(${target} MODULE ${PROJECT_SOURCE_DIR}/impl/tests/misbehaving_plugin.c)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/impl)
  target_link_libraries(${target} PRIVATE m)
  target_compile_definitions(${target} PRIVATE MISBEHAVIOUR=MB_${mode})
  set_target_properties(${target} PROPERTIES PREFIX "lib")
  if(ROPECHECK_SANITIZE)
    # These kernels misbehave on purpose (CRASH stores through NULL): UBSan would end the
    # process with exit 1 before the signal the tests expect.  ASan stays on.
    target_compile_options(${target} PRIVATE -fno-sanitize=undefined)
  endif()
  if(mode STREQUAL "THROWS")
    # The exception crosses the C frame of apply: give it unwind tables.
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/impl/tests/throwing_hook.cpp)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:-fexceptions>)
  endif()
endfunction()

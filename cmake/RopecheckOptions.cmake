# Warnings and sanitizers for every ropecheck target (attached through ropecheck_options).
add_library(ropecheck_options INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(ropecheck_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(ROPECHECK_WERROR)
    target_compile_options(ropecheck_options INTERFACE -Werror)
  endif()
endif()
if(ROPECHECK_SANITIZE)
  # Applied globally so third-party inline code and plugins built here are instrumented too.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

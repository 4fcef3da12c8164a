# Shared compile settings as INTERFACE targets, so every component opts in
# by linking `roar::warnings` (and the preload its own stricter flags).
option(ROAR_WERROR "Treat warnings as errors (dev and CI builds)" OFF)
set(ROAR_SANITIZE "" CACHE STRING "Sanitizers for the host programs: e.g. address;undefined or thread")

add_library(roar_warnings INTERFACE)
add_library(roar::warnings ALIAS roar_warnings)
target_compile_options(roar_warnings INTERFACE -Wall -Wextra -Wshadow -Wno-missing-field-initializers
                                               $<$<BOOL:${ROAR_WERROR}>:-Werror>)

# Unity builds (-DCMAKE_UNITY_BUILD=ON; packaging/setup.sh builds its trees
# so, in about half the compiler time): a target's sources are compiled
# eight to a file, so two files of one target must not define the same
# name in their anonymous namespaces. GCC warns about a class whose member
# has a type from an anonymous namespace unless the class is in the main
# file, which a unity file never is: that warning is off there only.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(roar_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-subobject-linkage>)
endif()

# Sanitizers apply to the CLI, collector and proxy, never to the preload
# library (a sanitizer runtime cannot be injected into arbitrary programs).
# A sanitized build is its own build tree (README "Working on roar"):
#   -DROAR_SANITIZE="address;undefined"  tests labelled asan (ctest -L asan)
#   -DROAR_SANITIZE=thread               tests labelled tsan (ctest -L tsan)
# Any report ends the program (-fno-sanitize-recover, halt_on_error); the
# runtime options, leak suppressions with their reasons, and a death
# callback that leaves a file in ROAR_SANITIZER_REPORTS (so a report in a
# program a test expected to fail is still caught) are compiled into every
# sanitized program from cmake/sanitizer_options.cpp.
add_library(roar_sanitizers INTERFACE)
add_library(roar::sanitizers ALIAS roar_sanitizers)
string(REPLACE "," ";" ROAR_SANITIZE "${ROAR_SANITIZE}")
set(ROAR_SANITIZER_LABEL "")
set(ROAR_SANITIZER_REPORTS "${CMAKE_BINARY_DIR}/sanitizer-reports")
if(ROAR_SANITIZE)
  list(JOIN ROAR_SANITIZE "," _roar_san)
  # GCC's -Wmaybe-uninitialized gives false positives once sanitizers change
  # the optimised code (boost::optional inside Boost.Beast's parser): off in
  # sanitized builds only; the normal build keeps it, with -Werror.
  target_compile_options(roar_sanitizers INTERFACE -fsanitize=${_roar_san} -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=all
                                                   $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  target_link_options(roar_sanitizers INTERFACE -fsanitize=${_roar_san})
  # Compiled into each sanitized program, never into a library (in a unity
  # build a library's copy would share an object with code the program
  # needs, and the two copies would clash).
  target_sources(roar_sanitizers INTERFACE
                 $<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:${CMAKE_CURRENT_LIST_DIR}/sanitizer_options.cpp>)
  target_compile_definitions(roar_sanitizers INTERFACE ROAR_SANITIZER_REPORTS="${ROAR_SANITIZER_REPORTS}")
  if("address" IN_LIST ROAR_SANITIZE)
    set(ROAR_SANITIZER_LABEL asan)
  elseif("thread" IN_LIST ROAR_SANITIZE)
    set(ROAR_SANITIZER_LABEL tsan)
    # Boost.Asio's handler blocks use std::atomic_thread_fence, which GCC
    # warns ThreadSanitizer cannot follow (-Wtsan): a warning, not an error,
    # in TSan trees (a race it hides would need Asio's own fences to matter).
    target_compile_options(roar_sanitizers INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-error=tsan>)
  endif()
endif()

# Shared compile settings as INTERFACE targets, so every component opts in
# by linking `roar::warnings` (and the preload its own stricter flags).
option(ROAR_WERROR "Treat warnings as errors (dev and CI builds)" OFF)
set(ROAR_SANITIZE "" CACHE STRING "Sanitizers for the host programs: e.g. address;undefined or thread")

add_library(roar_warnings INTERFACE)
add_library(roar::warnings ALIAS roar_warnings)
target_compile_options(roar_warnings INTERFACE -Wall -Wextra -Wshadow -Wno-missing-field-initializers
                                               $<$<BOOL:${ROAR_WERROR}>:-Werror>)

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
  target_sources(roar_sanitizers INTERFACE ${CMAKE_CURRENT_LIST_DIR}/sanitizer_options.cpp)
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

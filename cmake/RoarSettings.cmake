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
add_library(roar_sanitizers INTERFACE)
add_library(roar::sanitizers ALIAS roar_sanitizers)
if(ROAR_SANITIZE)
  list(JOIN ROAR_SANITIZE "," _roar_san)
  target_compile_options(roar_sanitizers INTERFACE -fsanitize=${_roar_san} -fno-omit-frame-pointer)
  target_link_options(roar_sanitizers INTERFACE -fsanitize=${_roar_san})
endif()

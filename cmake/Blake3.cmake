# BLAKE3's reference C implementation, compiled from the sources Debian ships
# in librust-blake3-dev (the crate's c/ directory). The x86-64 assembly
# kernels are used; the dispatcher picks SSE2/SSE4.1/AVX2/AVX-512 at run time.
file(GLOB _roar_blake3_dirs LIST_DIRECTORIES true /usr/share/cargo/registry/blake3-*/c)
list(SORT _roar_blake3_dirs COMPARE NATURAL ORDER DESCENDING)
list(GET _roar_blake3_dirs 0 ROAR_BLAKE3_DIR)
if(NOT EXISTS "${ROAR_BLAKE3_DIR}/blake3.c")
  message(FATAL_ERROR "BLAKE3 C sources not found: install librust-blake3-dev (packaging/install-deps.sh)")
endif()
message(STATUS "BLAKE3 sources: ${ROAR_BLAKE3_DIR}")
add_library(roar_blake3 STATIC
  ${ROAR_BLAKE3_DIR}/blake3.c
  ${ROAR_BLAKE3_DIR}/blake3_dispatch.c
  ${ROAR_BLAKE3_DIR}/blake3_portable.c
  ${ROAR_BLAKE3_DIR}/blake3_sse2_x86-64_unix.S
  ${ROAR_BLAKE3_DIR}/blake3_sse41_x86-64_unix.S
  ${ROAR_BLAKE3_DIR}/blake3_avx2_x86-64_unix.S
  ${ROAR_BLAKE3_DIR}/blake3_avx512_x86-64_unix.S)
target_include_directories(roar_blake3 SYSTEM PUBLIC ${ROAR_BLAKE3_DIR})
target_compile_options(roar_blake3 PRIVATE -O3)
# Built as its authors build it: one object per source, in unity builds too.
set_target_properties(roar_blake3 PROPERTIES UNITY_BUILD OFF)
add_library(roar::blake3 ALIAS roar_blake3)

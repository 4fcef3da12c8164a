# fmt and toml++ compiled into roar's own programs instead of loaded from
# libfmt.so and libtomlplusplus.so. Both are C++ libraries that bring
# libstdc++.so with them; loading them (and libstdc++) is most of what any
# `roar` command costs before main() on a VM where a page fault costs
# 15-20 us (row 2d in docs/benchmarks.md). The `roar` program then links
# libstdc++ statically too (cli/CMakeLists.txt).
#
# roar::fmt: fmt's compiled part (vformat, the float formatting, the
# locale hooks) built once from Debian's headers (libfmt-dev) in
# fmt_compiled.cpp; every other file includes fmt as usual. The
# header-only mode was not used: it adds about 4 s to every file that
# includes fmt.
find_package(fmt REQUIRED)
get_target_property(_roar_fmt_includes fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
add_library(roar_fmt STATIC ${CMAKE_CURRENT_LIST_DIR}/fmt_compiled.cpp)
target_include_directories(roar_fmt SYSTEM PUBLIC ${_roar_fmt_includes})
add_library(roar::fmt ALIAS roar_fmt)

# roar::toml: toml++ in its header-only mode, which compiles its parser
# into the two files that read TOML (cli/src/config.cpp and the gateway's
# config.cpp).
pkg_check_modules(TOMLPP REQUIRED tomlplusplus)
add_library(roar_toml INTERFACE)
target_include_directories(roar_toml SYSTEM INTERFACE ${TOMLPP_INCLUDE_DIRS})
target_compile_definitions(roar_toml INTERFACE TOML_HEADER_ONLY=1)
add_library(roar::toml ALIAS roar_toml)

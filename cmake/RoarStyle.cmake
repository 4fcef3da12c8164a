# Source layout and static checks over the project's own C and C++ files:
#   format        rewrites them with the root .clang-format
#   check_format  fails on any file that differs (also the CTest style/format)
#   tidy          runs clang-tidy with the root .clang-tidy over the build's
#                 compile_commands.json (slow; not part of the test suite)
file(GLOB_RECURSE ROAR_STYLE_SOURCES CONFIGURE_DEPENDS
     LIST_DIRECTORIES false
     ${PROJECT_SOURCE_DIR}/preload/*.c ${PROJECT_SOURCE_DIR}/preload/*.h
     ${PROJECT_SOURCE_DIR}/collector/*.cpp ${PROJECT_SOURCE_DIR}/collector/*.hpp ${PROJECT_SOURCE_DIR}/collector/*.h
     ${PROJECT_SOURCE_DIR}/proxy/*.cpp ${PROJECT_SOURCE_DIR}/proxy/*.hpp
     ${PROJECT_SOURCE_DIR}/cli/*.cpp ${PROJECT_SOURCE_DIR}/cli/*.hpp
     ${PROJECT_SOURCE_DIR}/tests/unit/*.cpp ${PROJECT_SOURCE_DIR}/tests/unit/*.hpp
     ${PROJECT_SOURCE_DIR}/tests/fuzz/*.cpp ${PROJECT_SOURCE_DIR}/tests/fuzz/*.hpp
     ${PROJECT_SOURCE_DIR}/tests/functional/*.c ${PROJECT_SOURCE_DIR}/cmake/*.cpp
     ${PROJECT_SOURCE_DIR}/bench/tools/*.c ${PROJECT_SOURCE_DIR}/bench/tools/*.cpp)
list(FILTER ROAR_STYLE_SOURCES EXCLUDE REGEX "/node_modules/")

find_program(ROAR_CLANG_FORMAT NAMES clang-format clang-format-14)
if(ROAR_CLANG_FORMAT)
  add_custom_target(format
    COMMAND ${ROAR_CLANG_FORMAT} -i ${ROAR_STYLE_SOURCES}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "clang-format: rewriting sources")
  add_custom_target(check_format
    COMMAND ${ROAR_CLANG_FORMAT} --dry-run --Werror ${ROAR_STYLE_SOURCES}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "clang-format: checking sources")
else()
  message(STATUS "clang-format not found: no format/check_format targets (packaging/install-deps.sh --test installs it)")
endif()

find_program(ROAR_CLANG_TIDY NAMES clang-tidy clang-tidy-14)
if(ROAR_CLANG_TIDY)
  set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
  set(_roar_tidy_sources ${ROAR_STYLE_SOURCES})
  list(FILTER _roar_tidy_sources INCLUDE REGEX "/(collector|proxy|cli)/src/.*\\.cpp$")
  add_custom_target(tidy
    COMMAND ${ROAR_CLANG_TIDY} -p ${PROJECT_BINARY_DIR} --quiet ${_roar_tidy_sources}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "clang-tidy: collector, proxy and cli sources")
endif()

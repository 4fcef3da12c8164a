// Catch2's main, built once per tree and linked into the collector, cli,
// proxy and gateway unit-test binaries (tests/CMakeLists.txt).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

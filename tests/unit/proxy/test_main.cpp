// Catch2 main for roar_proxy_tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

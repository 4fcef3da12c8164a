// Catch2 main for roar_gateway_tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

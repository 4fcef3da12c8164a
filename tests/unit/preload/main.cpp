// Catch2 main for the preload unit tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

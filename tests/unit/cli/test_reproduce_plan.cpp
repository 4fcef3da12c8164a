// The pure parts of `roar reproduce`'s plan: the order jobs run in and
// moving recorded paths into the rebuild's checkout.
#include "reproduce_plan.hpp"

#include <catch2/catch.hpp>

using namespace roar::cli;

TEST_CASE("Jobs run oldest first, ties in the order they were stored", "[cli][reproduce]")
{
    const std::vector<double> started = {30.0, 10.0, 20.0, 10.0};
    const std::vector<int64_t> rows = {4, 2, 3, 1};
    CHECK(dependency_order(started, rows) == std::vector<size_t>{3, 1, 2, 0});
}

TEST_CASE("A path inside the work tree is relative to it and one outside is not", "[cli][reproduce]")
{
    CHECK(relative_to("/repo/out/a.txt", "/repo") == std::optional<std::string>("out/a.txt"));
    CHECK(relative_to("/repo", "/repo") == std::optional<std::string>(""));
    CHECK_FALSE(relative_to("/repository/a.txt", "/repo").has_value());
    CHECK_FALSE(relative_to("/data/raw.csv", "/repo").has_value());
    CHECK_FALSE(relative_to("/repo/a.txt", "").has_value());
}

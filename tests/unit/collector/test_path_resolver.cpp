// Lexical path resolution.
#include "roar/collector/path_resolver.hpp"

#include <catch2/catch.hpp>

using roar::collector::path_is_within;
using roar::collector::resolve_path;

TEST_CASE("relative paths resolve against the base, lexically", "[collector][paths]")
{
    CHECK(resolve_path("/home/u/proj", "data.csv") == "/home/u/proj/data.csv");
    CHECK(resolve_path("/home/u/proj", "./a/../b//c.txt") == "/home/u/proj/b/c.txt");
    CHECK(resolve_path("/home/u/proj", "../other/x") == "/home/u/other/x");
    CHECK(resolve_path("/home/u/proj", "/etc/passwd") == "/etc/passwd");
    CHECK(resolve_path("/", "../../x") == "/x");
    CHECK(resolve_path("/a", ".") == "/a");
    CHECK(resolve_path("/a", "..") == "/");
}

TEST_CASE("containment respects component boundaries", "[collector][paths]")
{
    CHECK(path_is_within("/a/b/c", "/a/b"));
    CHECK(path_is_within("/a/b", "/a/b"));
    CHECK_FALSE(path_is_within("/a/bc", "/a/b"));
    CHECK(path_is_within("/x", "/"));
}

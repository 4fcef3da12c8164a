// Path resolution: by text, and as the kernel does for ".." after a
// symbolic link (on real links in a fresh temporary directory).
#include "roar/collector/path_resolver.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fmt/format.h>

using roar::collector::has_dot_dot;
using roar::collector::path_is_within;
using roar::collector::PathResolver;
using roar::collector::resolve_path;
using roar::test::TempDir;

namespace fs = std::filesystem;

namespace {

// real/sub/ and alias -> real/sub, as a shell's `ln -s real/sub alias`.
struct LinkedTree {
    TempDir dir;
    std::string root = dir.path().string();
    LinkedTree()
    {
        fs::create_directories(dir / "real/sub/deeper");
        fs::create_directory_symlink("real/sub", dir / "alias");
    }
    std::string at(const std::string& name) const { return root + "/" + name; }
};

} // namespace

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

TEST_CASE("only a whole component of two dots is a '..'", "[collector][paths]")
{
    CHECK(has_dot_dot(".."));
    CHECK(has_dot_dot("../a"));
    CHECK(has_dot_dot("a/.."));
    CHECK(has_dot_dot("a/../b"));
    CHECK(has_dot_dot("a//..//b"));
    CHECK_FALSE(has_dot_dot("a..b"));
    CHECK_FALSE(has_dot_dot("..a/b"));
    CHECK_FALSE(has_dot_dot("a/b.."));
    CHECK_FALSE(has_dot_dot("a/./b"));
    CHECK_FALSE(has_dot_dot(""));
}

TEST_CASE("'..' after a symbolic link to a directory goes up from the link's target, as the kernel does",
          "[collector][paths]")
{
    LinkedTree t;
    PathResolver r;
    CHECK(r.resolve(t.root, "alias/../x.txt") == t.at("real/x.txt"));
    CHECK(r.resolve(t.at("alias"), "../x.txt") == t.at("real/x.txt"));
    CHECK(r.resolve("/", t.at("alias/../x.txt")) == t.at("real/x.txt"));
    CHECK(r.resolve(t.root, "alias/../../x.txt") == t.at("x.txt"));
    CHECK(r.resolve(t.root, "alias/..") == t.at("real"));
}

TEST_CASE("'..' after a real directory stays as written, links before it included", "[collector][paths]")
{
    LinkedTree t;
    PathResolver r;
    CHECK(r.resolve(t.root, "real/sub/../x.txt") == t.at("real/x.txt"));
    // deeper is an entry of the directory alias names: its ".." is that directory.
    CHECK(r.resolve(t.root, "alias/deeper/../x.txt") == t.at("alias/x.txt"));
    CHECK(r.resolve(t.root, "missing/../x.txt") == t.at("x.txt"));
    CHECK(r.resolve("/", "/../x") == "/x");
}

TEST_CASE("chains of links, absolute targets and targets with '..' are followed", "[collector][paths]")
{
    LinkedTree t;
    fs::create_directory_symlink("alias", t.dir / "alias2");               // a link to a link
    fs::create_directory_symlink(t.at("real/sub"), t.dir / "absolute");    // an absolute target
    fs::create_directory_symlink("../real/sub/deeper", t.dir / "real/up"); // a target going up
    PathResolver r;
    CHECK(r.resolve(t.root, "alias2/../x.txt") == t.at("real/x.txt"));
    CHECK(r.resolve(t.root, "absolute/../x.txt") == t.at("real/x.txt"));
    CHECK(r.resolve(t.root, "real/up/../x.txt") == t.at("real/sub/x.txt"));
}

TEST_CASE("a loop of links resolves by text instead of hanging", "[collector][paths]")
{
    TempDir dir;
    fs::create_directory_symlink("b", dir / "a");
    fs::create_directory_symlink("a", dir / "b");
    PathResolver r;
    CHECK(r.resolve(dir.path().string(), "a/../x") == (dir / "x").string());
}

TEST_CASE("paths without '..' cost no lookup, and one directory's '..' is looked up once", "[collector][paths]")
{
    LinkedTree t;
    PathResolver r;
    CHECK(r.resolve(t.root, "alias/x.txt") == t.at("alias/x.txt"));
    CHECK(r.resolve(t.root, "/etc/passwd") == "/etc/passwd");
    CHECK(r.lookups() == 0);
    CHECK(r.resolve(t.at("alias"), "../data/first") == t.at("real/data/first"));
    const uint64_t first = r.lookups(); // the link, then its target (a directory)
    CHECK(first == 2);
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(r.resolve(t.at("alias"), fmt::format("../data/f_{}", i)) == t.at(fmt::format("real/data/f_{}", i)));
    }
    CHECK(r.lookups() == first);
}

TEST_CASE("after forget() a changed link is looked up again", "[collector][paths]")
{
    LinkedTree t;
    PathResolver r;
    CHECK(r.resolve(t.root, "alias/../x.txt") == t.at("real/x.txt"));
    fs::remove(t.dir / "alias");
    fs::create_directory_symlink("real/sub/deeper", t.dir / "alias");
    r.forget();
    CHECK(r.resolve(t.root, "alias/../x.txt") == t.at("real/sub/x.txt"));
}

TEST_CASE("a full cache starts over and still answers right", "[collector][paths]")
{
    LinkedTree t;
    PathResolver r(2);
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 5; ++i) {
            const std::string link = fmt::format("link{}", i);
            if (round == 0) {
                fs::create_directory_symlink("real/sub", t.dir / link);
            }
            CHECK(r.resolve(t.root, link + "/../x.txt") == t.at("real/x.txt"));
        }
    }
}

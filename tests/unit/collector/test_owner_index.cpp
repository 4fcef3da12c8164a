// OwnerIndex: the cached path -> owner table environment capture looks
// paths up in.
#include "roar/collector/environment/owner_index.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using roar::collector::OwnerIndex;
using roar::collector::PathOwner;
using roar::test::TempDir;

namespace {

OwnerIndex sample(std::string_view identity)
{
    return OwnerIndex::build(identity, {{"libc6", "2.36-9", "amd64"}, {"python3.11", "3.11.2-6", "amd64"}},
                             {{"/usr/lib/python3.11/os.py", 1},
                              {"/usr/lib/x86_64-linux-gnu/libc.so.6", 0},
                              {"/usr/share/doc", 0},
                              {"/usr/share/doc", 1},
                              {"/usr/lib/python3.11/os.py", 1}});
}

} // namespace

TEST_CASE("an index finds each listed path's owner and nothing for others", "[collector][environment][index]")
{
    const OwnerIndex index = sample("id");
    REQUIRE(index.owner_count() == 2);
    CHECK(index.entry_count() == 3); // the repeated os.py counts once
    REQUIRE(index.find("/usr/lib/x86_64-linux-gnu/libc.so.6") == 0u);
    CHECK(index.owner(0).name == "libc6");
    CHECK(index.owner(0).version == "2.36-9");
    CHECK(index.owner(0).detail == "amd64");
    CHECK(index.find("/usr/lib/python3.11/os.py") == 1u);
    CHECK_FALSE(index.find("/usr/lib/python3.11/os.pyc"));
    CHECK_FALSE(index.find("/usr/lib/python3.11"));
    CHECK_FALSE(index.find(""));
}

TEST_CASE("a path two owners list is marked shared", "[collector][environment][index]")
{
    CHECK(sample("id").find("/usr/share/doc") == OwnerIndex::k_shared);
}

TEST_CASE("a saved index loads back only under the same identity", "[collector][environment][index]")
{
    TempDir dir;
    const auto file = dir / "cache" / "x.idx";
    REQUIRE(sample("status 1:2:3:4").save(file));
    auto loaded = OwnerIndex::load(file, "status 1:2:3:4");
    REQUIRE(loaded);
    CHECK(loaded->find("/usr/lib/python3.11/os.py") == 1u);
    CHECK(loaded->owner(1).name == "python3.11");
    CHECK_FALSE(OwnerIndex::load(file, "status 1:2:3:5"));
    CHECK_FALSE(OwnerIndex::load(dir / "absent.idx", "status 1:2:3:4"));

    OwnerIndex moved = std::move(*loaded);
    CHECK(moved.find("/usr/lib/x86_64-linux-gnu/libc.so.6") == 0u);
}

TEST_CASE("an empty index is valid", "[collector][environment][index]")
{
    TempDir dir;
    const OwnerIndex empty = OwnerIndex::build("e", {}, {});
    CHECK_FALSE(empty.find("/x"));
    REQUIRE(empty.save(dir / "e.idx"));
    auto loaded = OwnerIndex::load(dir / "e.idx", "e");
    REQUIRE(loaded);
    CHECK(loaded->entry_count() == 0);
}

TEST_CASE("a truncated or foreign cache file is refused, not read past its end", "[collector][environment][index]")
{
    TempDir dir;
    const auto file = dir / "x.idx";
    REQUIRE(sample("id").save(file));
    std::filesystem::resize_file(file, std::filesystem::file_size(file) - 5);
    CHECK_FALSE(OwnerIndex::load(file, "id"));
    roar::test::write_file(file, "not an index at all, but long enough to hold a header");
    CHECK_FALSE(OwnerIndex::load(file, "id"));
}

TEST_CASE("an index built in memory survives being moved", "[collector][environment][index]")
{
    OwnerIndex a = OwnerIndex::build("m", {{"tiny", "1", ""}}, {{"/a", 0}});
    OwnerIndex b = std::move(a);
    CHECK(b.find("/a") == 0u);
    CHECK(b.owner(0).name == "tiny");
    CHECK_FALSE(a.find("/a"));
}

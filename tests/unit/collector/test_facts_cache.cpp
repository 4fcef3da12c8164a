// FactsCache and the environment cache's location.
#include "roar/collector/environment/facts_cache.hpp"

#include "environment_fixtures.hpp"
#include "scoped_env.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

using namespace roar::collector;
using roar::test::put;
using roar::test::ScopedEnv;
using roar::test::TempDir;

TEST_CASE("the cache lives under XDG_CACHE_HOME, else under HOME/.cache", "[collector][environment][cache]")
{
    {
        ScopedEnv xdg("XDG_CACHE_HOME", "/x/cache");
        CHECK(default_environment_cache_dir() == "/x/cache/roar/environment");
    }
    ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    ScopedEnv home("HOME", "/home/u");
    CHECK(default_environment_cache_dir() == "/home/u/.cache/roar/environment");
}

TEST_CASE("facts survive a save and a new reader; a damaged file reads as empty", "[collector][environment][cache]")
{
    TempDir dir;
    const auto file = dir / "sub/facts.json";
    {
        FactsCache cache(file);
        CHECK_FALSE(cache.find("k"));
        REQUIRE(cache.save()); // nothing to write
        CHECK_FALSE(std::filesystem::exists(file));
        cache.put("k", {{"version", "3.11.2"}});
        REQUIRE(cache.save());
    }
    FactsCache again(file);
    REQUIRE(again.find("k"));
    CHECK(again.find("k")->at("version") == "3.11.2");

    put(file, "{not json");
    FactsCache damaged(file);
    CHECK_FALSE(damaged.find("k"));
}

TEST_CASE("identity keys change with any part of a file's identity", "[collector][environment][cache]")
{
    FileIdentity a{1, 2, 3, 4, true};
    FileIdentity b = a;
    b.mtime_ns = 5;
    CHECK(identity_key(a) == "1:2:3:4");
    CHECK(identity_key(a) != identity_key(b));
    CHECK(short_name("/usr/lib/python3/dist-packages") == short_name("/usr/lib/python3/dist-packages"));
    CHECK(short_name("/a").size() == 16);
    CHECK(short_name("/a") != short_name("/b"));
}

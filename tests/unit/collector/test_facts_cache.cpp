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

TEST_CASE("a save leaves out facts about files that were replaced or deleted", "[collector][environment][cache]")
{
    TempDir dir;
    const auto file = dir / "facts.json";
    const std::string kept_path = (dir / "kept tool").string(); // a space in the path
    const std::string changed_path = (dir / "changed").string();
    const std::string gone_path = (dir / "gone").string();
    put(kept_path, "a");
    put(changed_path, "b");
    put(gone_path, "c");
    const auto key = [](const std::string& kind, const std::string& path) {
        return kind + " " + path + " " + identity_key(*identify_file(path));
    };
    const std::string kept = key("libraries", kept_path);
    const std::string python = key("python-version", kept_path);
    const std::string changed = key("libraries", changed_path);
    const std::string gone = key("python-version", gone_path);
    {
        FactsCache cache(file);
        for (const auto& k : {kept, python, changed, gone}) {
            cache.put(k, nlohmann::json::array());
        }
        cache.put("nvidia-smi /no/such/smi 1:2:3:4 driver x", nlohmann::json::array()); // not a kind it knows
        cache.put("libraries", nlohmann::json::array());                                // no path: kept
        REQUIRE(cache.save());
    }
    put(changed_path, "bb"); // another size: another identity
    std::filesystem::remove(gone_path);
    {
        FactsCache cache(file);
        cache.put("new", 1); // a save only happens when something changed
        REQUIRE(cache.save());
    }
    FactsCache after(file);
    CHECK(after.find(kept));
    CHECK(after.find(python));
    CHECK_FALSE(after.find(changed));
    CHECK_FALSE(after.find(gone));
    CHECK(after.find("nvidia-smi /no/such/smi 1:2:3:4 driver x"));
    CHECK(after.find("libraries"));
    CHECK(after.find("new"));
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

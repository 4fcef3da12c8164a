// FactsCache and the environment cache's location.
#include "roar/collector/environment/facts_cache.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

using namespace roar::collector;
using roar::test::put;
using roar::test::TempDir;

namespace {

// Sets an environment variable for the scope, restoring it afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name)
    {
        if (const char* old = std::getenv(name)) {
            m_old = old;
        }
        if (value) {
            setenv(name, value, 1);
        } else {
            unsetenv(name);
        }
    }
    ~ScopedEnv()
    {
        if (m_old) {
            setenv(m_name, m_old->c_str(), 1);
        } else {
            unsetenv(m_name);
        }
    }

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

} // namespace

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

// roar.toml: defaults, validation with the list of valid keys, and edits
// that keep the user's comments.
#include "config.hpp"

#include "../collector/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

using namespace roar::cli;

namespace {
std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
} // namespace

TEST_CASE("the default roar.toml parses to the defaults", "[cli][config]")
{
    roar::test::TempDir dir;
    roar::test::write_file(dir / "roar.toml", default_config_text());
    auto c = Config::load(dir / "roar.toml");
    REQUIRE(c);
    CHECK(c->ring_size_mb == 64);
    CHECK_FALSE(c->proxy_enabled);
    CHECK(c->proxy_port == 9090);
    CHECK(c->filter_defaults);
}

TEST_CASE("unknown keys and wrong types are rejected with a useful message", "[cli][config]")
{
    roar::test::TempDir dir;
    roar::test::write_file(dir / "roar.toml", "[proxy]\nenabeld = true\n");
    auto c = Config::load(dir / "roar.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find("unknown key 'proxy.enabeld'") != std::string::npos);
    CHECK(c.error().message.find("proxy.enabled") != std::string::npos);

    roar::test::write_file(dir / "roar.toml", "[proxy]\nport = \"x\"\n");
    auto t = Config::load(dir / "roar.toml");
    REQUIRE_FALSE(t);
    CHECK(t.error().message.find("proxy.port") != std::string::npos);

    roar::test::write_file(dir / "roar.toml", "[proxy\n");
    CHECK_FALSE(Config::load(dir / "roar.toml"));
}

TEST_CASE("the OpenLineage schema base and producer must be absolute URLs", "[cli][config]")
{
    roar::test::TempDir dir;
    roar::test::write_file(dir / "roar.toml", "[export]\nopenlineage_schema_base = \"https://docs.example.com/f\"\n"
                                              "openlineage_producer = \"https://git.example.com/roar/tree/v1\"\n");
    auto good = Config::load(dir / "roar.toml");
    REQUIRE(good);
    CHECK(good->openlineage_schema_base == "https://docs.example.com/f");
    CHECK(good->openlineage_producer == "https://git.example.com/roar/tree/v1");
    for (const char* key : {"openlineage_schema_base", "openlineage_producer"}) {
        for (const char* bad : {"docs/facets", "://x", "https://a b", "https://x/#frag"}) {
            roar::test::write_file(dir / "roar.toml", fmt::format("[export]\n{} = \"{}\"\n", key, bad));
            auto c = Config::load(dir / "roar.toml");
            REQUIRE_FALSE(c);
            CHECK(c.error().message.find(fmt::format("export.{}", key)) != std::string::npos);
        }
    }
}

TEST_CASE("config set edits one line and keeps comments", "[cli][config]")
{
    roar::test::TempDir dir;
    roar::test::write_file(dir / "roar.toml", default_config_text());
    REQUIRE(config_set(dir / "roar.toml", "proxy.enabled", "true"));
    REQUIRE(config_set(dir / "roar.toml", "proxy.upstream_endpoint", "http://127.0.0.1:9000"));
    REQUIRE(config_set(dir / "roar.toml", "filter.exclude", "[\"data/raw/\"]"));
    const std::string text = slurp(dir / "roar.toml");
    CHECK(text.find("# route the job's S3 calls") != std::string::npos);
    auto c = Config::load(dir / "roar.toml");
    REQUIRE(c);
    CHECK(c->proxy_enabled);
    CHECK(c->proxy_upstream == "http://127.0.0.1:9000");
    CHECK(c->filter_exclude == std::vector<std::string>{"data/raw/"});
    CHECK(*config_get(dir / "roar.toml", "proxy.enabled") == "true");

    CHECK_FALSE(config_set(dir / "roar.toml", "proxy.enabled", "maybe"));
    CHECK_FALSE(config_set(dir / "roar.toml", "nope.key", "1"));
    CHECK(Config::load(dir / "roar.toml")); // still valid after refused edits
}

TEST_CASE("a missing roar.toml means defaults", "[cli][config]")
{
    roar::test::TempDir dir;
    auto c = Config::load(dir / "absent.toml");
    REQUIRE(c);
    CHECK(c->ring_size_mb == 64);
}

TEST_CASE("environment capture is on by default and only imported packages are listed unless asked", "[cli][config]")
{
    roar::test::TempDir dir;
    roar::test::write_file(dir / "roar.toml", default_config_text());
    auto defaults = Config::load(dir / "roar.toml");
    REQUIRE(defaults);
    CHECK(defaults->capture_environment);
    CHECK_FALSE(defaults->record_all_packages);
    roar::test::write_file(dir / "roar.toml", "[run]\nrecord_all_packages = true\ncapture_environment = false\n");
    auto set = Config::load(dir / "roar.toml");
    REQUIRE(set);
    CHECK_FALSE(set->capture_environment);
    CHECK(set->record_all_packages);
    roar::test::write_file(dir / "roar.toml", "[run]\nrecord_all_packages = \"yes\"\n");
    CHECK_FALSE(Config::load(dir / "roar.toml"));
}

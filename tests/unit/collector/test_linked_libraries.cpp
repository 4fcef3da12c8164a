// LinkedLibraries: the shared libraries an executable loads, found without
// running it.
#include "roar/collector/environment/linked_libraries.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace roar::collector;
using roar::test::TempDir;

namespace {

// An ld.so.cache in glibc's 1.1 format with the given entries (flags,
// soname, path); strings are addressed from the start of the file.
std::string make_ld_so_cache(const std::vector<std::tuple<uint32_t, std::string, std::string>>& entries)
{
    const size_t header = 48, entry = 24;
    std::string strings;
    const size_t strings_at = header + entries.size() * entry;
    std::string out(strings_at, '\0');
    std::memcpy(out.data(), "glibc-ld.so.cache1.1", 20);
    const auto count = uint32_t(entries.size());
    std::memcpy(out.data() + 20, &count, 4);
    for (size_t i = 0; i < entries.size(); ++i) {
        const auto& [flags, key, value] = entries[i];
        const auto key_at = uint32_t(strings_at + strings.size());
        strings += key + '\0';
        const auto value_at = uint32_t(strings_at + strings.size());
        strings += value + '\0';
        std::memcpy(out.data() + header + i * entry, &flags, 4);
        std::memcpy(out.data() + header + i * entry + 4, &key_at, 4);
        std::memcpy(out.data() + header + i * entry + 8, &value_at, 4);
    }
    return out + strings;
}

} // namespace

#if defined(__x86_64__)
TEST_CASE("ld.so.cache: this architecture's entries, the first of each name", "[collector][environment][libraries]")
{
    const auto map = parse_ld_so_cache(make_ld_so_cache({
        {0x0303, "libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"},
        {0x0003, "libz.so.1", "/lib/i386-linux-gnu/libz.so.1"}, // 32-bit
        {0x0303, "libz.so.1", "/usr/local/lib/libz.so.1"},      // shadowed
        {0x0303, "libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6"},
    }));
    CHECK(map.size() == 2);
    CHECK(map.at("libz.so.1") == "/lib/x86_64-linux-gnu/libz.so.1");
    CHECK(map.at("libm.so.6") == "/lib/x86_64-linux-gnu/libm.so.6");
}
#endif

TEST_CASE("ld.so.cache: other formats and damaged files give nothing", "[collector][environment][libraries]")
{
    CHECK(parse_ld_so_cache("ld.so-1.7.0").empty());
    std::string truncated = make_ld_so_cache({{0x0303, "libz.so.1", "/lib/libz.so.1"}});
    truncated.resize(60);
    CHECK(parse_ld_so_cache(truncated).empty());
}

TEST_CASE("an executable's libraries include libc, found through the real loader cache",
          "[collector][environment][libraries]")
{
    TempDir dir;
    FactsCache facts(dir / "facts.json");
    LinkedLibraries libraries("/etc/ld.so.cache", facts);
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const auto libs = libraries.of(self);
    const bool has_libc = std::any_of(libs.begin(), libs.end(), [](const std::string& p) {
        return p.size() > 10 && p.substr(p.size() - 10) == "/libc.so.6" && std::filesystem::exists(p);
    });
    CHECK(has_libc);
    for (const auto& lib : libs) {
        CHECK(lib.front() == '/');
    }

    // The answer is remembered for this executable.
    REQUIRE(facts.save());
    FactsCache again(dir / "facts.json");
    const auto id = identify_file(self);
    REQUIRE(id);
    CHECK(again.find("libraries " + self + " " + identity_key(*id)));
}

TEST_CASE("a script or a missing file links nothing", "[collector][environment][libraries]")
{
    TempDir dir;
    roar::test::put(dir / "script.sh", "#!/bin/sh\n");
    FactsCache facts(dir / "facts.json");
    LinkedLibraries libraries(dir / "no-cache", facts);
    CHECK(libraries.of((dir / "script.sh").string()).empty());
    CHECK(libraries.of((dir / "absent").string()).empty());
}

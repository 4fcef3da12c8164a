// Input/output filtering defaults and overrides.
#include "roar/collector/path_filter.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <fnmatch.h>
#include <string>
#include <vector>

using roar::collector::PathFilter;

TEST_CASE("system and interpreter files are filtered by default", "[collector][filter]")
{
    PathFilter f(PathFilter::default_excludes(), {});
    CHECK_FALSE(f.accepts("/usr/lib/python3.11/os.py"));
    CHECK_FALSE(f.accepts("/etc/ld.so.cache"));
    CHECK_FALSE(f.accepts("/proc/self/status"));
    CHECK_FALSE(f.accepts("/home/u/.venv/lib/python3.11/site-packages/numpy/__init__.py"));
    CHECK_FALSE(f.accepts("/home/u/proj/__pycache__/mod.cpython-311.pyc"));
    CHECK_FALSE(f.accepts("/home/u/proj/.roar/roar.db"));
    CHECK(f.accepts("/home/u/proj/data.csv"));
    CHECK(f.accepts("/usrdata/x")); // prefixes end at a component
}

TEST_CASE("include patterns win over excludes", "[collector][filter]")
{
    PathFilter f({"/data/raw/", "*.tmp"}, {"/data/raw/keep.csv"});
    CHECK_FALSE(f.accepts("/data/raw/a.csv"));
    CHECK(f.accepts("/data/raw/keep.csv"));
    CHECK_FALSE(f.accepts("/x/y/z.tmp"));
    CHECK(f.accepts("/data/rawx/a.csv"));
}

TEST_CASE("a glob pattern matches exactly what fnmatch(3) matches, '*' crossing '/'", "[collector][filter]")
{
    // Patterns of every kind the filter treats apart ('*' only, and with
    // '?', brackets or escapes), against paths built from the bytes that
    // matter to them, non-UTF-8 bytes included.
    const std::vector<std::string> patterns = {"*/.roar/*",
                                               "*/site-packages/*",
                                               "*/lib/python3*/*",
                                               "*.pyc",
                                               "*",
                                               "**",
                                               "a*",
                                               "*a",
                                               "*a*b*",
                                               "/x/*/y",
                                               "/x/*y*",
                                               "*/*/*",
                                               "*ab*ab",
                                               "a*a*a",
                                               "/d/\xff*",
                                               "*?.csv",
                                               "/d/[ab]*",
                                               "*\\*x",
                                               ""};
    const std::string alphabet = std::string("ab/.*xy") + '\xff';
    std::vector<std::string> paths = {"",
                                      "/",
                                      "a",
                                      "ab",
                                      "/x/y",
                                      "/x/q/y",
                                      "/home/u/.roar/roar.db",
                                      "/v/lib/site-packages/np/__init__.py",
                                      "/v/lib/python3.11/os.py",
                                      "/p/m.cpython-311.pyc",
                                      "/d/\xff\xfe",
                                      "/d/a.csv",
                                      "/d/c.csv",
                                      "/q/*x"};
    uint32_t seed = 12345;
    for (int i = 0; i < 3000; ++i) {
        std::string p;
        seed = seed * 1103515245u + 12345u;
        const size_t len = (seed >> 16) % 12;
        for (size_t k = 0; k < len; ++k) {
            seed = seed * 1103515245u + 12345u;
            p += alphabet[(seed >> 16) % alphabet.size()];
        }
        paths.push_back(p);
    }
    for (const auto& pattern : patterns) {
        const PathFilter f({pattern}, {});
        for (const auto& path : paths) {
            INFO("pattern '" << pattern << "', path '" << path << "'");
            REQUIRE(f.accepts(path) == (fnmatch(pattern.c_str(), path.c_str(), 0) != 0));
        }
    }
}

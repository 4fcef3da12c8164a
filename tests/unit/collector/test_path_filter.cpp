// Input/output filtering defaults and overrides.
#include "roar/collector/path_filter.hpp"

#include <catch2/catch.hpp>

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

// read_git_state: git is asked only where a work tree can be.
#include "roar/collector/git_state.hpp"

#include "scoped_env.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

using roar::test::ScopedEnv;

TEST_CASE("git is not started outside any work tree", "[collector][git]")
{
    namespace fs = std::filesystem;
    roar::test::TempDir tmp;
    // A `git` that records that it ran and says "not a git repository".
    fs::create_directories(tmp / "bin");
    const fs::path marker = tmp / "git-ran";
    roar::test::write_file(tmp / "bin" / "git", "#!/bin/sh\ntouch '" + marker.string() + "'\nexit 128\n");
    fs::permissions(tmp / "bin" / "git", fs::perms::owner_all);
    const std::string path = (tmp / "bin").string() + ":/usr/bin:/bin";
    ScopedEnv use_fake_git("PATH", path.c_str());
    ScopedEnv no_git_dir("GIT_DIR", nullptr);
    ScopedEnv no_work_tree("GIT_WORK_TREE", nullptr);
    fs::create_directories(tmp / "work" / "sub");
    REQUIRE_FALSE(fs::exists("/.git"));

    SECTION("no .git in the directory or above: git never runs")
    {
        CHECK_FALSE(roar::collector::read_git_state((tmp / "work" / "sub").string()));
        CHECK_FALSE(fs::exists(marker));
    }
    SECTION("a .git above the directory: git is asked")
    {
        fs::create_directories(tmp / "work" / ".git");
        CHECK_FALSE(roar::collector::read_git_state((tmp / "work" / "sub").string()));
        CHECK(fs::exists(marker));
    }
    SECTION("GIT_DIR set: git is asked")
    {
        ScopedEnv git_dir("GIT_DIR", (tmp / "elsewhere").c_str());
        CHECK_FALSE(roar::collector::read_git_state((tmp / "work").string()));
        CHECK(fs::exists(marker));
    }
}

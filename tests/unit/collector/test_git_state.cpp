// read_git_state: git is asked only where a work tree can be.
#include "roar/collector/git_state.hpp"

#include "scoped_env.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

using roar::test::ScopedEnv;

namespace {

// A fresh repository under `tmp`, made by the real git; nullopt (with a
// warning) when git is not installed.
std::optional<std::filesystem::path> real_git_repo(const roar::test::TempDir& tmp)
{
    if (std::system("git --version > /dev/null 2>&1") != 0) {
        WARN("git is not installed: skipped");
        return std::nullopt;
    }
    const std::filesystem::path repo = tmp / "repo";
    REQUIRE(std::system(("git init -q '" + repo.string() + "'").c_str()) == 0);
    return repo;
}

} // namespace

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

TEST_CASE("remote.origin.url is read from a plain repository config", "[collector][git]")
{
    using roar::collector::plain_origin_url;
    SECTION("the url of the origin section")
    {
        CHECK(plain_origin_url("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://example.invalid/a.git\n"
                               "\tfetch = +refs/heads/*:refs/remotes/origin/*\n")
              == "https://example.invalid/a.git");
    }
    SECTION("the last url wins, across repeated sections, as git config --get says")
    {
        CHECK(plain_origin_url("[remote \"origin\"]\nurl = one\n[remote \"origin\"]\nurl = two\n") == "two");
    }
    SECTION("section and key names ignore case; the remote's name does not")
    {
        CHECK(plain_origin_url("[REMOTE \"origin\"]\n  URL = u\n") == "u");
        CHECK_FALSE(plain_origin_url("[remote \"Origin\"]\nurl = u\n"));
    }
    SECTION("a comment after the value and CRLF line ends are dropped")
    {
        CHECK(plain_origin_url("[remote \"origin\"]\r\n\turl = git@host:team/repo.git # ours\r\n")
              == "git@host:team/repo.git");
        CHECK(plain_origin_url("; note\n# note\n[remote \"origin\"] ; header comment\n\turl=u;x\n") == "u");
    }
    SECTION("other remotes and sections are not the origin")
    {
        CHECK_FALSE(plain_origin_url("[remote \"upstream\"]\nurl = u\n"));
        CHECK_FALSE(plain_origin_url("[core]\nurl = u\n"));
        CHECK_FALSE(plain_origin_url(""));
    }
    SECTION("whatever the file alone cannot settle is left to git")
    {
        const char* unsure[] = {
            "[include]\npath = other\n[remote \"origin\"]\nurl = u\n",
            "[includeIf \"gitdir:~/w/\"]\npath = other\n[remote \"origin\"]\nurl = u\n",
            "[remote.origin]\nurl = u\n",
            "[remote \"origin\"]\nurl = \"quoted\"\n",
            "[remote \"origin\"]\nurl = a\\\\b\n",
            "[remote \"origin\"]\nurl = with space\n",
            "[remote \"origin\"]\nurl\n",
            "[remote \"origin\"] url = u\n",
            "[alias]\nx = one \\\n[remote \"origin\"]\nurl = u\n",
            "[remote \"origin\"]\n1url = u\n",
            "\xEF\xBB\xBF[remote \"origin\"]\nurl = u\n",
            "[remote \"ori\\\"gin\"]\nurl = u\n",
        };
        for (const char* text : unsure) {
            INFO(text);
            CHECK_FALSE(plain_origin_url(text));
        }
    }
}

TEST_CASE("the remote comes from the config file without a git config process", "[collector][git]")
{
    namespace fs = std::filesystem;
    roar::test::TempDir tmp;
    // A `git` that logs its arguments and answers status as a clean tree.
    fs::create_directories(tmp / "bin");
    const fs::path log = tmp / "git-args";
    roar::test::write_file(tmp / "bin" / "git",
                           "#!/bin/sh\necho \"$*\" >> '" + log.string()
                               + "'\ncase \"$*\" in *config*) echo from-git-config ;; "
                                 "*status*) printf '# branch.oid 1111111111111111111111111111111111111111\\0"
                                 "# branch.head main\\0' ;; esac\nexit 0\n");
    fs::permissions(tmp / "bin" / "git", fs::perms::owner_all);
    const std::string path = (tmp / "bin").string() + ":/usr/bin:/bin";
    ScopedEnv use_fake_git("PATH", path.c_str());
    ScopedEnv no_git_dir("GIT_DIR", nullptr);
    ScopedEnv no_work_tree("GIT_WORK_TREE", nullptr);
    ScopedEnv no_parameters("GIT_CONFIG_PARAMETERS", nullptr);
    ScopedEnv no_count("GIT_CONFIG_COUNT", nullptr);
    fs::create_directories(tmp / "work" / ".git");

    SECTION("a plain origin url: only git status runs")
    {
        roar::test::write_file(tmp / "work" / ".git" / "config", "[remote \"origin\"]\n\turl = https://h/r.git\n");
        const auto state = roar::collector::read_git_state((tmp / "work").string());
        REQUIRE(state);
        CHECK(state->remote == "https://h/r.git");
        CHECK(state->branch == "main");
        CHECK(roar::test::read_file(log).find("config") == std::string::npos);
    }
    SECTION("no origin in the file: git config is asked (another file may set it)")
    {
        roar::test::write_file(tmp / "work" / ".git" / "config", "[core]\n\tbare = false\n");
        const auto state = roar::collector::read_git_state((tmp / "work").string());
        REQUIRE(state);
        CHECK(state->remote == "from-git-config");
    }
    SECTION("config given in the environment: git config is asked")
    {
        roar::test::write_file(tmp / "work" / ".git" / "config", "[remote \"origin\"]\n\turl = https://h/r.git\n");
        ScopedEnv count("GIT_CONFIG_COUNT", "1");
        const auto state = roar::collector::read_git_state((tmp / "work").string());
        REQUIRE(state);
        CHECK(state->remote == "from-git-config");
    }
    SECTION("a per-worktree config: git config is asked")
    {
        roar::test::write_file(tmp / "work" / ".git" / "config", "[remote \"origin\"]\n\turl = https://h/r.git\n");
        roar::test::write_file(tmp / "work" / ".git" / "config.worktree", "");
        const auto state = roar::collector::read_git_state((tmp / "work").string());
        REQUIRE(state);
        CHECK(state->remote == "from-git-config");
    }
}

TEST_CASE("the config file's url is the one git config gives", "[collector][git]")
{
    roar::test::TempDir tmp;
    const auto made = real_git_repo(tmp);
    if (!made) {
        return;
    }
    const std::filesystem::path& repo = *made;
    const std::string remotes[] = {"https://example.invalid/team/repo.git", "git@host:team/repo.git",
                                   "/srv/git/repo.git", "ssh://u@h:2222/~/r.git"};
    for (const std::string& url : remotes) {
        INFO(url);
        std::system(("git -C '" + repo.string() + "' remote remove origin > /dev/null 2>&1").c_str());
        REQUIRE(std::system(("git -C '" + repo.string() + "' remote add origin '" + url + "'").c_str()) == 0);
        CHECK(roar::collector::plain_origin_url(roar::test::read_file(repo / ".git" / "config")) == url);
    }
}

TEST_CASE("reading the git state does not rewrite the repository's index", "[collector][git]")
{
    namespace fs = std::filesystem;
    roar::test::TempDir tmp;
    const auto made = real_git_repo(tmp);
    if (!made) {
        return;
    }
    const fs::path& repo = *made;
    const std::string git = "git -C '" + repo.string() + "' -c user.name=t -c user.email=t@example.invalid ";
    roar::test::write_file(repo / "tracked.txt", "same bytes\n");
    REQUIRE(std::system((git + "add tracked.txt && " + git + "commit -q -m one").c_str()) == 0);
    // Same content, new time: git status would refresh the entry and, when
    // it may take index.lock, write the index back.
    fs::last_write_time(repo / "tracked.txt", fs::last_write_time(repo / "tracked.txt") + std::chrono::hours(1));
    const std::string before = roar::test::read_file(repo / ".git" / "index");
    const auto state = roar::collector::read_git_state(repo.string());
    REQUIRE(state);
    CHECK_FALSE(state->dirty);
    CHECK(roar::test::read_file(repo / ".git" / "index") == before);
}

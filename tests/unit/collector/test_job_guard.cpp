#include "roar/collector/job_guard.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <csignal>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using roar::collector::environment_block_holds;
using roar::collector::JobGuard;

namespace {

std::string block(std::initializer_list<std::string> entries, bool final_nul = true)
{
    std::string out;
    for (const auto& e : entries) {
        out += e;
        out.push_back('\0');
    }
    if (!final_nul && !out.empty()) {
        out.pop_back();
    }
    return out;
}

bool holds(const std::string& b, const std::string& marker)
{
    return environment_block_holds(b.data(), b.size(), marker);
}

// Starts `sleep 30` with `marker` in its environment; its pid.
pid_t marked_sleep(const std::string& marker)
{
    const pid_t pid = fork();
    if (pid == 0) {
        char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
        char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), const_cast<char*>(marker.c_str()), nullptr};
        execve("/bin/sleep", argv, envp);
        _exit(127);
    }
    return pid;
}

bool alive(pid_t pid) { return kill(pid, 0) == 0; }

// Waits up to `seconds` for `pid` (not our child) to be gone.
bool gone_within(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 20; ++i) {
        waitpid(pid, nullptr, WNOHANG); // reaped here when a test made us a subreaper
        if (!alive(pid)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return !alive(pid);
}

std::string unique_marker(const char* what)
{
    return "ROAR_GUARD_TEST=" + std::string(what) + "-" + std::to_string(getpid());
}

} // namespace

TEST_CASE("an environment block holds a marker only as a whole entry", "[collector][guard]")
{
    const std::string marker = "ROAR_JOB=abc";
    CHECK(holds(block({"A=1", "ROAR_JOB=abc", "B=2"}), marker));
    CHECK(holds(block({"ROAR_JOB=abc"}), marker));
    CHECK(holds(block({"A=1", "ROAR_JOB=abc"}, false), marker)); // no final NUL
    CHECK_FALSE(holds(block({"ROAR_JOB=abcd"}), marker));
    CHECK_FALSE(holds(block({"XROAR_JOB=abc"}), marker));
    CHECK_FALSE(holds(block({"ROAR_JOB=ab"}), marker));
    CHECK_FALSE(holds(block({"OTHER=ROAR_JOB=abc"}), marker));
    CHECK_FALSE(holds("", marker));
}

TEST_CASE("a job guard released at the job's end leaves every process alone", "[collector][guard]")
{
    const std::string marker = unique_marker("released");
    auto guard = JobGuard::start(marker);
    REQUIRE(guard);
    // The installed guard program runs it (beside this test binary's shim,
    // as beside roar's), not a fork of this process.
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink(fmt::format("/proc/{}/exe", guard->pid()), ec);
    CHECK(exe.filename() == "roar-guard");
    const pid_t sleeper = marked_sleep(marker);
    REQUIRE(sleeper > 0);
    guard->release();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(alive(sleeper));
    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);
}

TEST_CASE("a job guard whose roar run died ends the job's processes, and only those", "[collector][guard]")
{
    // Both ways of running it: the guard program, and a fork of roar run
    // where the program is not installed.
    const bool forked = GENERATE(false, true);
    CAPTURE(forked);
    const std::string marker = unique_marker("died");
    // Plays roar run: starts the guard and a marked process, tells us the
    // process's pid, and dies by SIGKILL without releasing the guard.
    int report[2];
    REQUIRE(pipe(report) == 0);
    const pid_t bystander = marked_sleep(unique_marker("bystander"));
    const pid_t runner = fork();
    REQUIRE(runner >= 0);
    if (runner == 0) {
        close(report[0]);
        if (forked) {
            setenv("ROAR_GUARD_PROGRAM", "/nonexistent/roar-guard", 1);
        }
        auto guard = JobGuard::start(marker);
        const pid_t sleeper = guard ? marked_sleep(marker) : -1;
        [[maybe_unused]] ssize_t n = write(report[1], &sleeper, sizeof sleeper);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    close(report[1]);
    pid_t sleeper = -1;
    REQUIRE(read(report[0], &sleeper, sizeof sleeper) == static_cast<ssize_t>(sizeof sleeper));
    close(report[0]);
    REQUIRE(sleeper > 0);
    int status = 0;
    REQUIRE(waitpid(runner, &status, 0) == runner);
    CHECK(WIFSIGNALED(status));
    CHECK(gone_within(sleeper, 5));
    CHECK(alive(bystander));
    kill(bystander, SIGKILL);
    waitpid(bystander, nullptr, 0);
}

TEST_CASE("a job guard refuses a marker that is not NAME=VALUE", "[collector][guard]")
{
    CHECK_FALSE(JobGuard::start(""));
    CHECK_FALSE(JobGuard::start("NOEQUALS"));
}

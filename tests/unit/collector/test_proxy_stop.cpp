// proxy_control::stop: SIGTERM, a wait that ends when the process exits,
// SIGKILL after the timeout; true only for a clean exit.
#include "roar/collector/proxy_control.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>

#include <sys/wait.h>
#include <unistd.h>

using namespace roar::collector;

namespace {

// A child that exits with `status` when asked to stop, or ignores SIGTERM
// when `status` is negative. It is ready once it has written a byte.
pid_t child_that_exits_with(int status)
{
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, nullptr);
        [[maybe_unused]] ssize_t n = write(ready[1], "x", 1);
        int sig = 0;
        while (true) {
            sigwait(&term, &sig);
            if (status >= 0) {
                _exit(status);
            }
        }
    }
    close(ready[1]);
    char c;
    REQUIRE(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    return pid;
}

bool reaped(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD; }

} // namespace

TEST_CASE("stopping a child that exits cleanly on SIGTERM reports it and reaps it", "[collector][proxy_control]")
{
    const pid_t pid = child_that_exits_with(0);
    CHECK(proxy_control::stop(pid, std::chrono::seconds(10), true));
    CHECK(reaped(pid));
}

TEST_CASE("a child that exits with a failure status is reaped and reported as not clean", "[collector][proxy_control]")
{
    const pid_t pid = child_that_exits_with(3);
    CHECK_FALSE(proxy_control::stop(pid, std::chrono::seconds(10), true));
    CHECK(reaped(pid));
}

TEST_CASE("a child that ignores SIGTERM is killed after the timeout and reaped", "[collector][proxy_control]")
{
    const pid_t pid = child_that_exits_with(-1);
    CHECK_FALSE(proxy_control::stop(pid, std::chrono::milliseconds(100), true));
    CHECK(reaped(pid));
}

TEST_CASE("stopping a process that is not a child waits until it is gone", "[collector][proxy_control]")
{
    // The middle process forks the target and reaps it, late; this test is
    // the target's grandparent, so it cannot wait for it itself.
    int out[2];
    REQUIRE(pipe(out) == 0);
    const pid_t middle = fork();
    REQUIRE(middle >= 0);
    if (middle == 0) {
        // Before the fork: the SIGTERM may come before the target runs at
        // all, and must not reach the test framework's handler there.
        signal(SIGTERM, SIG_DFL);
        const pid_t target = fork();
        if (target == 0) {
            pause();
            _exit(0);
        }
        [[maybe_unused]] ssize_t n = write(out[1], &target, sizeof target);
        usleep(200'000); // the target is a zombie for a while after it exits
        waitpid(target, nullptr, 0);
        _exit(0);
    }
    close(out[1]);
    pid_t target = 0;
    REQUIRE(read(out[0], &target, sizeof target) == sizeof target);
    close(out[0]);
    CHECK(proxy_control::stop(target, std::chrono::seconds(10), false));
    CHECK(kill(target, 0) != 0); // gone, not only exited: its parent has reaped it
    int status = 0;
    REQUIRE(waitpid(middle, &status, 0) == middle); // it exits once it has reaped the target
    CHECK(WIFEXITED(status));
}

// Core of the process tree: exec with env repair and probe, spawn, fork,
// exit and wait, driven through a fake libc table.
#include "fake_libc.hpp"

#include <algorithm>
#include <sys/wait.h>

using namespace roar::preload::test;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

TEST_CASE("exec reports EXEC before the call, then EXEC_FAILED with -errno", "[preload][exec]")
{
    ShimFixture f;
    char* argv[] = {(char*)"true", (char*)"--flag", nullptr};
    char* envp[] = {(char*)"PATH=/usr/bin", nullptr};
    errno = 0;
    CHECK(roar_core_exec(&f.L, f.S, ROAR_K_EXECVE, ROAR_AT_FDCWD, "/bin/true", argv, envp, 0) == -1);
    CHECK(errno == ENOENT);
    std::vector<Event> ev; // (a WRITE_FD for stdout may come first when stdio wrote to it)
    for (auto& e : f.events()) {
        if (e.h.op != ROAR_OP_WRITE_FD) {
            ev.push_back(e);
        }
    }
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.op == ROAR_OP_EXEC);
    CHECK(ev[0].s1 == "/bin/true");
    CHECK(split_nul(ev[0].s3) == std::vector<std::string>{"true", "--flag"});
    CHECK((ev[0].h.flags & (ROAR_EXEC_STATIC | ROAR_EXEC_NOT_ELF | ROAR_EXEC_GO)) == 0);
    CHECK(ev[0].h.pid == 1000);
    CHECK(g_fake.head_at_call >= ev[0].h.nslots);
    CHECK(ev[1].h.op == ROAR_OP_EXEC_FAILED);
    CHECK(ev[1].h.result == -ENOENT);
}

TEST_CASE("exec repairs a scrubbed environment", "[preload][exec][env]")
{
    ShimFixture f;
    char* argv[] = {(char*)"x", nullptr};
    char* envp[] = {(char*)"LANG=C", nullptr};
    roar_core_exec(&f.L, f.S, ROAR_K_EXECVE, ROAR_AT_FDCWD, "/bin/true", argv, envp, 0);
    auto& env = g_fake.env_seen;
    CHECK(has(env, "LANG=C"));
    CHECK(has(env, "LD_PRELOAD=/opt/roar/lib/roar/libroar_preload.so"));
    CHECK(has(env, "ROAR_RING=/roar-test"));
    CHECK(has(env, "ROAR_JOB_ID=job1"));
    CHECK(has(env, "ROAR_PRELOAD=/opt/roar/lib/roar/libroar_preload.so"));
    CHECK(has(env, "ROAR_KEEP_ENV=AWS_ENDPOINT_URL:AWS_ENDPOINT_URL_S3"));
    CHECK(has(env, "AWS_ENDPOINT_URL=http://127.0.0.1:9"));
    CHECK(g_fake.argv_seen == std::vector<std::string>{"x"});
}

TEST_CASE("execvp resolves the file on PATH for the probe", "[preload][exec]")
{
    ShimFixture f;
    char* argv[] = {(char*)"sh", (char*)"-c", (char*)"true", nullptr};
    setenv("PATH", "/nonexistent:/bin:/usr/bin", 1);
    roar_core_exec(&f.L, f.S, ROAR_K_EXECVPE, ROAR_AT_FDCWD, "sh", argv, nullptr, 0);
    auto ev = f.events_of(ROAR_OP_EXEC);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].s1 == "/bin/sh");
    REQUIRE(g_fake.calls.size() == 1);
    CHECK(g_fake.calls[0] == "execvpe sh"); // libc still does its own search
}

TEST_CASE("posix_spawn repairs envp and reports SPAWN with the child pid", "[preload][spawn][env]")
{
    ShimFixture f;
    char* argv[] = {(char*)"cat", (char*)"a", nullptr};
    char* envp[] = {nullptr};
    pid_t pid = 0;
    CHECK(roar_core_spawn(&f.L, f.S, 0, &pid, "/bin/cat", nullptr, nullptr, argv, envp) == 0);
    CHECK(pid == 4343);
    CHECK(has(g_fake.env_seen, "ROAR_RING=/roar-test"));
    auto ev = f.events_of(ROAR_OP_SPAWN);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.result == 4343);
    CHECK(ev[0].s1 == "/bin/cat");
    CHECK(split_nul(ev[0].s3) == std::vector<std::string>{"cat", "a"});
}

TEST_CASE("fork: FORK in the parent first; PROC_START(FORKED) in the child", "[preload][fork]")
{
    ShimFixture f;
    SECTION("parent")
    {
        CHECK(roar_core_fork(&f.L, f.S, ROAR_K_FORK) == 4242);
        auto ev = f.events();
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].h.op == ROAR_OP_FORK);
        CHECK(g_fake.head_at_call == 1);
        CHECK(f.S->pid == 1000);
    }
    SECTION("child")
    {
        g_fake.fork_result = 0;
        g_fake.new_pid = 2000;
        g_fake.ppid = 1000;
        const uint32_t generation = f.S->fork_generation;
        CHECK(roar_core_fork(&f.L, f.S, ROAR_K_VFORK) == 0);
        auto ev = f.events();
        REQUIRE(ev.size() == 2);
        CHECK(ev[1].h.op == ROAR_OP_PROC_START);
        CHECK(ev[1].h.pid == 2000);
        CHECK(ev[1].h.fd == 1000);
        CHECK(ev[1].h.flags == ROAR_START_FORKED);
        CHECK(f.S->pid == 2000);
        CHECK(f.S->fork_generation == generation + 1);
        // The atfork handler and the hook both run in the child: once only.
        roar_fork_child(&f.L, f.S, 2000);
        CHECK(f.events_of(ROAR_OP_PROC_START).size() == 1);
    }
}

TEST_CASE("_exit reports PROC_EXIT with the status before exiting", "[preload][exit]")
{
    ShimFixture f;
    std::jmp_buf jump;
    g_fake.exit_jump = &jump;
    if (setjmp(jump) == 0) {
        roar_core_exit(&f.L, f.S, ROAR_K__EXIT, 3);
    }
    CHECK(g_fake.exit_status == 3);
    auto ev = f.events_of(ROAR_OP_PROC_EXIT);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.result == 3);
    CHECK(ev[0].h.flags == 0);
    roar_report_exit(f.S, 0, 1); // the destructor later: nothing more
    CHECK(f.events_of(ROAR_OP_PROC_EXIT).size() == 1);
}

TEST_CASE("a reaped child is reported with its raw wait status", "[preload][wait]")
{
    ShimFixture f;
    int status = 0;
    g_fake.wait_status = 7 << 8; // exited 7
    CHECK(roar_core_wait(&f.L, f.S, ROAR_K_WAITPID, -1, &status, 0, nullptr) == 555);
    CHECK(status == (7 << 8));
    g_fake.wait_status = 0x137f; // stopped by SIGSTOP: not reaped
    roar_core_wait(&f.L, f.S, ROAR_K_WAITPID, -1, nullptr, WUNTRACED, nullptr);
    auto ev = f.events_of(ROAR_OP_WAIT);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.fd == 555);
    CHECK(ev[0].h.result == (7 << 8));
}

TEST_CASE("waitid's siginfo is converted to a wait status", "[preload][wait]")
{
    ShimFixture f;
    siginfo_t si{};
    g_fake.waitid_info.si_pid = 321;
    g_fake.waitid_info.si_code = CLD_KILLED;
    g_fake.waitid_info.si_status = SIGKILL;
    roar_core_waitid(&f.L, f.S, P_ALL, 0, &si, WEXITED);
    g_fake.waitid_info.si_code = CLD_EXITED;
    g_fake.waitid_info.si_status = 2;
    roar_core_waitid(&f.L, f.S, P_ALL, 0, &si, WEXITED);
    roar_core_waitid(&f.L, f.S, P_ALL, 0, &si, WEXITED | WNOWAIT); // not reaped
    auto ev = f.events_of(ROAR_OP_WAIT);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.fd == 321);
    CHECK(WIFSIGNALED((int)ev[0].h.result));
    CHECK(WTERMSIG((int)ev[0].h.result) == SIGKILL);
    CHECK(WIFEXITED((int)ev[1].h.result));
    CHECK(WEXITSTATUS((int)ev[1].h.result) == 2);
}

// fork/exec of the traced command and reaping of its process tree. An
// exec failure in the child travels back through a close-on-exec pipe so
// the parent can report it as a clear error instead of a silent 127.
#include "roar/collector/job_launcher.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace roar::collector {

namespace {

volatile sig_atomic_t g_root_pid = 0;
uint32_t* volatile g_wake_word = nullptr;
struct sigaction g_saved[5];
const int k_handled_signals[5] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGCHLD};

void wake_on_child(int)
{
    const int saved = errno;
    if (uint32_t* word = g_wake_word) {
        __atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
        syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
    }
    errno = saved;
}

void forward_signal(int sig)
{
    const int saved = errno;
    if (g_root_pid > 0) {
        kill(g_root_pid, sig);
    }
    errno = saved;
}

} // namespace

Result<JobLauncher> JobLauncher::start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                       uint32_t* wake_word, ChildTracer* tracer, bool trace_root)
{
    if (argv.empty()) {
        return fail("no command given");
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    std::vector<char*> cargv;
    for (const auto& a : argv) {
        cargv.push_back(const_cast<char*>(a.c_str()));
    }
    cargv.push_back(nullptr);
    std::vector<char*> cenv;
    for (const auto& e : env) {
        cenv.push_back(const_cast<char*>(e.c_str()));
    }
    cenv.push_back(nullptr);

    // A traced root waits at this gate until the tracer has attached: its
    // filter must never be in place without a tracer (syscalls would fail
    // with ENOSYS).
    int gate[2] = {-1, -1};
    if (tracer && trace_root && pipe2(gate, O_CLOEXEC) != 0) {
        gate[0] = gate[1] = -1;
    }
    if (gate[0] < 0) {
        // Nothing to do between fork and exec: posix_spawnp starts the
        // command without copying roar's page tables (vfork semantics),
        // which on a VM costs milliseconds at every `roar run` (the copy,
        // then a write fault on each page either process touches). It
        // reports an exec failure itself. ENOEXEC is left to the fork
        // below: execvpe runs such a file with /bin/sh, as shells do.
        pid_t spawned = -1;
        const int err = posix_spawnp(&spawned, cargv[0], nullptr, nullptr, cargv.data(), cenv.data());
        if (err == 0) {
            return JobLauncher::started(spawned, wake_word, tracer);
        }
        if (err != ENOEXEC) {
            return fail("cannot run '{}': {}", argv[0], std::strerror(err));
        }
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        const int err = errno;
        if (gate[0] >= 0) {
            close(gate[0]);
            close(gate[1]);
        }
        return fail("cannot create a pipe: {}", std::strerror(err));
    }
    const pid_t child = fork();
    if (child < 0) {
        const int err = errno;
        close(report[0]);
        close(report[1]);
        if (gate[0] >= 0) {
            close(gate[0]);
            close(gate[1]);
        }
        return fail("cannot fork: {}", std::strerror(err));
    }
    if (child == 0) {
        close(report[0]);
        if (gate[0] >= 0) {
            close(gate[1]);
            char verdict = 0;
            ssize_t got;
            do {
                got = read(gate[0], &verdict, 1);
            } while (got < 0 && errno == EINTR);
            // A filter that fails to install leaves the command traced but
            // unfiltered: the tracer notices at exec and lets it go.
            if (got == 1 && verdict == 1) {
                tracer->install_filter();
            }
            close(gate[0]);
        }
        execvpe(cargv[0], cargv.data(), cenv.data());
        const int err = errno;
        [[maybe_unused]] ssize_t n = write(report[1], &err, sizeof err);
        _exit(err == ENOENT ? 127 : 126);
    }
    close(report[1]);
    if (gate[0] >= 0) {
        close(gate[0]);
        const char verdict = tracer->attach_root(child) ? 1 : 0;
        [[maybe_unused]] ssize_t sent = write(gate[1], &verdict, 1);
        close(gate[1]);
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(report[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == sizeof child_errno) {
        if (!(tracer && tracer->waits_for_children())) { // else the tracer's thread reaps it
            int status;
            waitpid(child, &status, 0);
        }
        return fail("cannot run '{}': {}", argv[0], std::strerror(child_errno));
    }
    return JobLauncher::started(child, wake_word, tracer);
}

// Takes over `child`, the job's root: roar's signal handlers forward
// termination to it and wake the drain loop when a child exits.
JobLauncher JobLauncher::started(pid_t child, uint32_t* wake_word, ChildTracer* tracer)
{
    g_root_pid = child;
    g_wake_word = wake_word;
    for (int i = 0; i < 5; ++i) {
        struct sigaction sa { };
        const int sig = k_handled_signals[i];
        sa.sa_handler = sig == SIGINT || sig == SIGQUIT ? SIG_IGN : sig == SIGCHLD ? wake_on_child : forward_signal;
        if (sig == SIGCHLD && tracer && tracer->waits_for_children()) {
            // The tracer's thread is woken by the wait itself and rings the
            // doorbell on exits: a handler would wake us on every ptrace stop.
            sa.sa_handler = SIG_DFL;
        }
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(k_handled_signals[i], &sa, &g_saved[i]);
    }
    return JobLauncher(child, tracer);
}

JobLauncher::JobLauncher(JobLauncher&& other) noexcept
    : m_root(other.m_root),
      m_tracer(other.m_tracer),
      m_active(other.m_active),
      m_root_exited(other.m_root_exited),
      m_root_status(other.m_root_status),
      m_reaped(std::move(other.m_reaped)),
      m_services(std::move(other.m_services))
{
    other.m_active = false;
}

JobLauncher::~JobLauncher()
{
    if (!m_active) {
        return;
    }
    for (int i = 0; i < 5; ++i) {
        sigaction(k_handled_signals[i], &g_saved[i], nullptr);
    }
    g_root_pid = 0;
    g_wake_word = nullptr;
}

void JobLauncher::reaped_one(pid_t pid, int status)
{
    m_reaped.push_back({pid, status});
    if (pid == m_root) {
        m_root_exited = true;
        m_root_status = status;
    }
}

bool JobLauncher::reap()
{
    if (m_tracer && m_tracer->waits_for_children()) {
        // Waiting here too would take ptrace stops from the tracer's thread.
        std::vector<Reaped> exits;
        bool none_left = false;
        m_tracer->take_reaped(exits, none_left);
        for (const auto& r : exits) {
            reaped_one(r.pid, r.status);
        }
        return m_root_exited && (none_left || only_services_remain());
    }
    for (;;) {
        int status = 0;
        const pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
        if (pid > 0) {
            reaped_one(pid, status);
            continue;
        }
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        if (pid < 0) {
            return errno == ECHILD && m_root_exited; // ECHILD: no children left
        }
        // pid == 0: children still running. Once the root is gone, the job is
        // over when every remaining child is a service.
        return m_root_exited && only_services_remain();
    }
}

bool JobLauncher::only_services_remain() const
{
    if (m_services.empty()) {
        return false;
    }
    // Children hang off the thread that forked them (or, for adopted
    // orphans, the main thread): read every thread's children list.
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(task.path() / "children");
        pid_t child;
        while (in >> child) {
            if (std::find(m_services.begin(), m_services.end(), child) == m_services.end()) {
                return false;
            }
        }
    }
    return !ec;
}

void JobLauncher::signal_root(int sig) const { kill(m_root, sig); }

int exit_code_of(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return 1;
}

} // namespace roar::collector

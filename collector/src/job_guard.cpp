// The job guard (job_guard.hpp): roar run's side. The guard's own process
// is job_guard_process.cpp, run by the `roar-guard` program (spawned: no
// copy of roar run's page tables, no write faults on its pages afterwards)
// or, when that is not installed, in a forked child of roar run.
#include "roar/collector/job_guard.hpp"

#include "job_guard_process.hpp"

#include "roar/collector/install_layout.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace roar::collector {

bool environment_block_holds(const char* block, size_t size, const std::string& marker)
{
    return block_holds(block, size, marker.data(), marker.size());
}

Result<JobGuard> JobGuard::start(const std::string& marker)
{
    if (marker.empty() || marker.find('=') == std::string::npos || marker.find('\0') != std::string::npos) {
        return fail("the job guard needs a NAME=VALUE marker, not '{}'", marker);
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        return fail("cannot create the job guard's pipe: {}", std::strerror(errno));
    }
    if (auto program = find_guard_program()) {
        return spawn(*program, marker, pipefd);
    }
    const pid_t pid = fork();
    if (pid < 0) {
        const int err = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return fail("cannot fork the job guard: {}", std::strerror(err));
    }
    if (pid == 0) {
        close(pipefd[1]);
        run_job_guard(pipefd[0], marker.c_str(), marker.size());
    }
    close(pipefd[0]);
    return JobGuard(pid, pipefd[1]);
}

Result<JobGuard> JobGuard::spawn(const std::filesystem::path& program, const std::string& marker, int pipefd[2])
{
    // The read end becomes the guard's descriptor 3. dup2 onto itself would
    // keep its close-on-exec flag, so it is moved off 3 first.
    if (pipefd[0] == 3) {
        const int moved = fcntl(pipefd[0], F_DUPFD_CLOEXEC, 4);
        close(pipefd[0]);
        pipefd[0] = moved;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[0], 3);
    // Its environment is empty: the guard must not carry the marker it
    // looks for.
    std::string program_text = program.string();
    std::string marker_arg = marker;
    char* argv[] = {program_text.data(), marker_arg.data(), nullptr};
    char* envp[] = {nullptr};
    pid_t pid = -1;
    const int err = pipefd[0] < 0 ? errno : posix_spawn(&pid, program_text.c_str(), &actions, nullptr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    if (pipefd[0] >= 0) {
        close(pipefd[0]);
    }
    if (err != 0) {
        close(pipefd[1]);
        return fail("cannot start the job guard {}: {}", program_text, std::strerror(err));
    }
    return JobGuard(pid, pipefd[1]);
}

JobGuard::JobGuard(JobGuard&& other) noexcept : m_pid(other.m_pid), m_fd(other.m_fd)
{
    other.m_pid = -1;
    other.m_fd = -1;
}

JobGuard::~JobGuard() { release(false); }

void JobGuard::release(bool reap)
{
    if (m_fd >= 0) {
        const char quit = 'q';
        ssize_t n;
        do {
            n = write(m_fd, &quit, 1);
        } while (n < 0 && errno == EINTR);
        close(m_fd);
        m_fd = -1;
    }
    if (reap && m_pid > 0) {
        int status = 0;
        while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
        m_pid = -1;
    }
}

} // namespace roar::collector

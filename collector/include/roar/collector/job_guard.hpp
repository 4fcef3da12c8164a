// The job guard: a small process that outlives `roar run` only to end the
// job's processes when roar run dies without finishing the job (SIGKILL,
// OOM killer, a crash). While roar run lives, the job's orphans are its
// (child-subreaper) children and it waits for them; once it is gone they
// would run on unrecorded, so the guard ends them.
#pragma once

#include "roar/collector/result.hpp"

#include <sys/types.h>

#include <filesystem>

#include <string>

namespace roar::collector {

class JobGuard {
public:
    // Starts the guard: the `roar-guard` program installed beside the
    // shim (find_guard_program), or a fork of this process when there is
    // none. `marker` is one environment entry ("NAME=VALUE")
    // that every process of this job carries and no other process does
    // (the job's ring name): after roar run dies the guard ends, with
    // SIGTERM and after a grace period SIGKILL, every process whose initial
    // environment holds it. The guard ignores terminal and termination
    // signals, holds no descriptor of roar run but its end of a pipe, and
    // uses only async-signal-safe calls (it is forked from a process that
    // may have threads).
    static Result<JobGuard> start(const std::string& marker);

    JobGuard(JobGuard&& other) noexcept;
    JobGuard& operator=(JobGuard&&) = delete;
    JobGuard(const JobGuard&) = delete;
    ~JobGuard(); // release()

    pid_t pid() const { return m_pid; }

    // The job ended normally: the guard exits without touching anything,
    // and is reaped here when `reap` (this process is the one that waits
    // for its children again).
    void release(bool reap = true);

private:
    JobGuard(pid_t pid, int fd) : m_pid(pid), m_fd(fd) { }
    static Result<JobGuard> spawn(const std::filesystem::path& program, const std::string& marker, int pipefd[2]);
    pid_t m_pid = -1;
    int m_fd = -1; // write end: its last close without a 'q' means "roar run died"
};

// Whether the NUL-separated environment block `block` (as in
// /proc/PID/environ) holds the entry `marker` exactly. Exposed for tests.
bool environment_block_holds(const char* block, size_t size, const std::string& marker);

} // namespace roar::collector

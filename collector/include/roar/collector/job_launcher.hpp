// Starting and supervising the traced command: fork/exec with the shim's
// environment, child-subreaper so orphaned descendants stay in the job,
// signal forwarding, and reaping until every descendant is gone.
#pragma once

#include "roar/collector/result.hpp"

#include <sys/types.h>

#include <cstdint>

#include <string>
#include <vector>

namespace roar::collector {

struct Reaped {
    pid_t pid;
    int status; // raw wait status
};

class JobLauncher {
public:
    // Makes this process a child subreaper, forwards SIGTERM/SIGHUP to the
    // job and ignores SIGINT/SIGQUIT (the terminal delivers those to the
    // job itself), then starts `argv` with environment `env` ("K=V").
    // Fails with a clear message if the command cannot be executed. When
    // `wake_word` is given, every SIGCHLD bumps it and wakes its futex
    // waiters, so a loop sleeping on it (the ring's doorbell) notices an
    // exit at once instead of at its next poll.
    static Result<JobLauncher> start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                     uint32_t* wake_word = nullptr);

    JobLauncher(JobLauncher&&) noexcept;
    JobLauncher& operator=(JobLauncher&&) = delete;
    ~JobLauncher(); // restores signal dispositions

    pid_t root_pid() const { return m_root; }

    // Declares `pid`, a child of this process, part of the job's machinery
    // (roar-proxy) rather than of the job: it does not keep the job alive.
    void add_service(pid_t pid) { m_services.push_back(pid); }

    // Reaps exited descendants without blocking. Returns true once the root
    // command and every orphan adopted from it have exited (services may
    // still run; the caller stops them).
    bool reap();

    // Raw wait status of the root command (valid once reap() returned true
    // or root_exited()).
    int root_status() const { return m_root_status; }
    bool root_exited() const { return m_root_exited; }

    // Every descendant this process reaped, root included, in order.
    const std::vector<Reaped>& reaped() const { return m_reaped; }

    // Sends `sig` to the root command.
    void signal_root(int sig) const;

private:
    explicit JobLauncher(pid_t root) : m_root(root) { }
    bool only_services_remain() const;
    pid_t m_root;
    bool m_active = true;
    bool m_root_exited = false;
    int m_root_status = 0;
    std::vector<Reaped> m_reaped;
    std::vector<pid_t> m_services;
};

// The shell-style exit code for raw wait status `status`: the exit code,
// or 128+N when killed by signal N.
int exit_code_of(int status);

} // namespace roar::collector

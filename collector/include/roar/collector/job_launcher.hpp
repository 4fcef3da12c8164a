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

// What the launcher needs from roar's ptrace tracer (tracer.hpp). While the
// tracer's thread runs it is the only thread of this process that waits
// for children (ptrace stops are reported to any waiter in the thread
// group), and it hands every exit it reaps to the launcher.
class ChildTracer {
public:
    virtual ~ChildTracer() = default;
    // In the parent, right after fork: attaches to `child`. True when the
    // child must install the tracer's filter (install_filter) before exec.
    virtual bool attach_root(pid_t child) = 0;
    // In the child, between fork and exec: installs the syscall filter.
    // Async-signal-safe. Returns 0 or -errno.
    virtual int install_filter() const noexcept = 0;
    // Whether the tracer's thread now waits for every child in our stead.
    virtual bool waits_for_children() const = 0;
    // Moves the exits reaped since the last call into `out`; `none_left` is
    // set when the tracer found no child or tracee left at all.
    virtual void take_reaped(std::vector<Reaped>& out, bool& none_left) = 0;
};

class JobLauncher {
public:
    // Makes this process a child subreaper, forwards SIGTERM/SIGHUP to the
    // job and ignores SIGINT/SIGQUIT (the terminal delivers those to the
    // job itself), then starts `argv` with environment `env` ("K=V").
    // Fails with a clear message if the command cannot be executed. When
    // `wake_word` is given, every SIGCHLD bumps it and wakes its futex
    // waiters, so a loop sleeping on it (the ring's doorbell) notices an
    // exit at once instead of at its next poll. With `tracer`, reaping goes
    // through it whenever its thread runs, and with `trace_root` the
    // command runs under its ptrace filter from its first instruction.
    static Result<JobLauncher> start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                     uint32_t* wake_word = nullptr, ChildTracer* tracer = nullptr,
                                     bool trace_root = false);

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
    JobLauncher(pid_t root, ChildTracer* tracer) : m_root(root), m_tracer(tracer) { }
    static JobLauncher started(pid_t child, uint32_t* wake_word, ChildTracer* tracer);
    bool only_services_remain() const;
    void reaped_one(pid_t pid, int status);
    pid_t m_root;
    ChildTracer* m_tracer = nullptr;
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

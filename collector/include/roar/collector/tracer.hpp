// roar's ptrace tracer: observes the processes of a job the preload shim
// cannot enter (static and Go programs, anything that runs without the shim
// after an exec) with ptrace under a seccomp filter (syscall_filter.h) that
// stops only on the file and process syscalls roar records. It publishes
// into the job's ring the same events, with the same meaning, the shim
// publishes for the libc calls, so the collector tells them apart only by
// ROAR_START_TRACED on the process.
//
// One thread (started when the first process needs it) does all ptrace
// work and is, from then on, the only thread of roar run that waits for
// children: the launcher takes reaped exits from it (ChildTracer).
// Processes reach it three ways: the job's root command (attach_root, from
// the launcher), a shim process about to exec a static or Go program (its
// EXEC with ROAR_EXEC_TRACE_REQUEST, answered by on_event with
// PTRACE_SEIZE before the record is consumed), and every child of a traced
// process (auto-attached). See docs/ARCHITECTURE.md, "The ptrace tracer".
#pragma once

#include "roar/collector/event_ring.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/job_launcher.hpp"
#include "roar/collector/path_filter.hpp"
#include "roar/collector/result.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector {

enum class TracerMode {
    off,       // never ptrace: what the shim cannot enter is noted as not observed
    automatic, // trace what the shim cannot enter (run.tracer = "auto", the default)
    complete,  // the whole job runs under the filter: raw syscalls of dynamic programs too
};

// Parses "off", "auto" or "complete".
Result<TracerMode> parse_tracer_mode(const std::string& text);

struct TracerOptions {
    TracerMode mode = TracerMode::automatic;
    std::string ring_name;    // the job's ring, mapped again as a producer
    std::string preload_path; // the shim: an image whose LD_PRELOAD has it is the shim's
    // The job's S3 routing (S3-ROUTING.md), as its environment has it: the
    // values of ROAR_S3_PROXY, ROAR_S3_SECRET, ROAR_S3_HOSTS, ROAR_S3_TLS
    // ("" when unset). With a proxy, the filter also stops on connect and
    // getpeername and the tracer routes traced programs' S3 connections.
    std::string s3_proxy, s3_secret, s3_hosts, s3_tls;
    std::string hosts_file = "/etc/hosts"; // names whose addresses route by name (Go resolves names itself)
    // The record's path filter. With it, a read-only fd the tracer learns
    // (its open ran unstopped) is hashed at that stop when the filter
    // accepts its file, the file is small and its inode is unchanged since
    // before the job: the OPEN carries the digest, so a file the job reads
    // and then replaces with an unstopped open keeps the digest of the
    // bytes it read. Without it nothing is hashed (roar-events).
    std::optional<PathFilter> digest_filter;
    // This machine's hash cache (Store::cache_lookup_for_thread), called on
    // the tracer's thread: a file it holds a digest for is not read while
    // its reader is stopped. The tracer's other digests are kept for it
    // (take_hashed).
    std::function<std::optional<std::string>(const FileIdentity&)> cached_digest;
};

// Counters for the run report and the benchmark.
struct TracerStats {
    uint64_t processes = 0; // process images the tracer published (PROC_START)
    uint64_t stops = 0;     // ptrace stops handled
    uint64_t syscalls = 0;  // filter stops (syscall entries)
};

class Tracer final : public ChildTracer {
public:
    // Maps the job's ring and records the mode in its header (so shims know
    // whether to ask). Starts no thread: nothing is traced yet.
    static Result<std::unique_ptr<Tracer>> create(const TracerOptions& options);
    ~Tracer() override; // stops the thread (see stop())

    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // Whether the root command, whose executable probed as `exec_flags`
    // (ROAR_EXEC_*), runs traced from its start: in automatic mode when
    // the shim cannot enter it, in complete mode always; never for setuid,
    // file-capability or 32-bit executables. Starts the thread and checks
    // that ptrace and seccomp are permitted here when it says yes.
    bool wants_root(int exec_flags);

    // ChildTracer (for JobLauncher).
    bool attach_root(pid_t child) override;
    int install_filter() const noexcept override;
    bool waits_for_children() const override;
    void take_reaped(std::vector<Reaped>& out, bool& none_left) override;

    // The ring sink, called for every record after the JobTracker's: seizes
    // the thread of a hand-off request (so the shim sees itself traced when
    // the record is consumed) and releases a tracee parked at a PRE_MODIFY
    // the tracer published once the collector has taken it.
    void on_event(const RawEvent& event);

    // Ends the thread. Call when the job is over (the launcher's reap()
    // returned true): a tracee still alive would be killed with it
    // (PTRACE_O_EXITKILL), never left running under a filter nobody answers.
    void stop();

    // Sentences for the run report, each said once (why tracing was not
    // possible, processes that could not be traced).
    std::vector<std::string> notes() const;

    TracerStats stats() const;

    // The files the tracer hashed (the cache did not know them), for the
    // hash cache; call after stop().
    std::vector<FileDigest> take_hashed();

    struct State; // the thread and everything it owns (tracer.cpp)

private:
    explicit Tracer(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

} // namespace roar::collector

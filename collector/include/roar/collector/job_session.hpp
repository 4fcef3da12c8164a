// One job from launch to record, below every entry point that runs one
// (`roar run`, `roar-events`): the event ring, the job's environment, the
// job-scoped roar-proxy (owned by the session, so it stops on every path
// out, exceptions included), launching and supervising the command, and
// draining the ring while it runs. For `roar run` the session also
// interprets the events, hashes what the job read and wrote, and stores
// the record, saving it to a recovery file when the store cannot take it.
#pragma once

#include "roar/collector/environment/job_environment.hpp"
#include "roar/collector/event_ring.hpp"
#include "roar/collector/git_state.hpp"
#include "roar/collector/job_launcher.hpp"
#include "roar/collector/job_record.hpp"
#include "roar/collector/path_filter.hpp"
#include "roar/collector/proxy_control.hpp"
#include "roar/collector/redact.hpp"
#include "roar/collector/s3_routing.hpp"
#include "roar/collector/store/recovery.hpp"
#include "roar/collector/store/store.hpp"
#include "roar/collector/tracer.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector {

struct JobSessionOptions {
    std::vector<std::string> command;
    std::string uid; // empty: a fresh one
    uint64_t ring_bytes = 64ull << 20;
    uint32_t sync_timeout_ms = 10000;
    // Run a roar-proxy for the job's S3 calls (binary, upstream; listen
    // address, ring and readiness are the session's). Its log goes to
    // `proxy_log_dir`/proxy-<uid>.log when that is set.
    std::optional<proxy_control::StartOptions> proxy;
    std::filesystem::path proxy_log_dir;
    // ptrace tracing of what the shim cannot enter (run.tracer, see
    // tracer.hpp); when it cannot run here, a note says why.
    TracerMode tracer = TracerMode::off;
    // With `proxy`: which S3 connections the shim routes to it (issue 17;
    // proxy_address is the session's). No endpoint variable is set.
    S3RoutingConfig s3_routing;
};

// What `roar run` records and how (the CLI builds it from roar.toml).
struct RecordingOptions {
    std::string cwd; // where the job runs
    PathFilter filter;
    Redactor redactor; // secrets leave the record before it is returned (default: the built-in rules)
    // Capture the environment the job ran in (machine, Python interpreters
    // and the distributions they imported, Debian packages of the system
    // files it used) into JobRecord::environment, once it has finished.
    std::optional<EnvironmentOptions> environment;
    // A progress line on stderr while the job's files are hashed and
    // recorded, shown when that takes more than a second; the caller sets
    // it only when stderr is a terminal and output is for a person.
    bool progress = false;
    // git already started by the caller (`roar run` does so first thing, to
    // run it beside its own start), used when its directory is `cwd` and
    // it was not finished yet; else record() starts git itself.
    GitStateReader* started_git = nullptr;
};

// How storing a job went.
struct StoredJob {
    std::optional<int64_t> row;     // the stored job; empty when it was not stored
    std::vector<std::string> notes; // one line each for the user (database moved, recovery file)
};

// The machine as jobs record it in their `hostname`; `roar status` on a
// shared store compares it with each job's to know which files are on
// this disk.
std::string host_name();

// A job record opened here and now for `command` run in `cwd`: a fresh
// uid, argv and command, this machine's name and this user, the start time.
JobRecord new_job_record(const std::vector<std::string>& command, const std::string& cwd);

class JobSession {
public:
    explicit JobSession(JobSessionOptions options);

    const std::string& uid() const { return m_options.uid; }

    // Runs the command under the shim, handing every raw event to `sink`
    // until the command and every orphan it left have exited; returns the
    // command's raw wait status. Throws FatalError when the job cannot be
    // started (exit code 127 when the command cannot be executed).
    int run(const EventRing::Sink& sink);

    // Runs the command (as run()) and returns its record: the processes,
    // what it read, wrote and deleted, hashed through `store`'s cache
    // (files the job finished writing are hashed while it runs), and notes
    // on anything that makes the record incomplete; secrets redacted by
    // `recording.redactor`, so neither the store, a recovery file nor a
    // report ever sees them.
    JobRecord record(Store& store, const RecordingOptions& recording);

    // The ring's counters and the session's own notes, after run() or record().
    const RingCounters& counters() const { return m_counters; }
    const std::vector<std::string>& notes() const { return m_notes; }
    // The ptrace tracer's counters (zero when nothing was traced).
    const TracerStats& tracer_stats() const { return m_tracer_stats; }

    // Stores `job` in `store` (opened for writing) as step `step` when
    // given. When the database was deleted or replaced since `store` was
    // opened, the job goes into the database now at that path (a new one
    // when it is gone) and a note says so; when storing fails, the record
    // is saved to a recovery file in `places` and a note says where.
    static StoredJob store(Store& store, const JobRecord& job, std::optional<int64_t> step,
                           const RecoveryPlaces& places);

private:
    // `recorded`: the record's path filter (record()), handed to the
    // tracer for the digests of the files it learns were read; null from run().
    // `before_reaping` runs before anything reaps every child of this
    // process (record() collects git there).
    void run_job(const EventRing::Sink& sink, const std::function<void(const JobLauncher&)>& launched,
                 const std::function<void()>& after_batch, const PathFilter* recorded,
                 const std::function<void()>& before_reaping);
    // proxy.intercept_tls: the job's trust variables ("NAME=value"; empty,
    // with a note, when the roar CA cannot be used); adds the CA's
    // directory to `proxy_env`.
    std::vector<std::string> tls_interception_environment(std::vector<std::string>& proxy_env);

    JobSessionOptions m_options;
    int m_root_flags = 0; // what the command's executable is (ROAR_EXEC_*)
    int m_root_status = 0;
    std::vector<Reaped> m_reaped;
    RingCounters m_counters;
    TracerStats m_tracer_stats;
    // record()'s hash cache for the tracer, and the files the tracer hashed.
    std::function<std::optional<std::string>(const FileIdentity&)> m_cached_digest;
    std::vector<FileDigest> m_tracer_hashed;
    std::vector<std::string> m_notes;
};

} // namespace roar::collector

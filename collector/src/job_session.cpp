// A job session (see job_session.hpp): ring, environment, proxy, launch and
// drain loop once for every entry point; recording and storing for roar run.
#include "roar/collector/job_session.hpp"

#include "roar/collector/early_hasher.hpp"
#include "roar/collector/exec_probe.h"
#include "roar/collector/git_state.hpp"
#include "roar/collector/progress.hpp"
#include "roar/collector/hash_pool.hpp"
#include "roar/collector/job_guard.hpp"
#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_environment.hpp"
#include "roar/collector/job_tracker.hpp"
#include "roar/collector/s3_route.h"
#include "roar/collector/store/step_matching.hpp"
#include "roar/proxy/tls_ca.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <malloc.h>
#include <pwd.h>
#include <random>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

// Recording a job of at least this many uses leaves enough freed memory
// to be worth giving back before it is stored.
constexpr size_t k_trim_before_storing = 100000;

// How long a job runs before its proxy is started without an S3 connection
// (longer than a trivial command, much shorter than an S3 client's start);
// $ROAR_PROXY_START_DELAY_MS, a whole number, replaces it (tests use it to
// tell the two ways of starting apart whatever the machine's speed).
std::chrono::milliseconds proxy_start_delay()
{
    constexpr std::chrono::milliseconds k_default{20};
    const char* text = std::getenv("ROAR_PROXY_START_DELAY_MS");
    if (text == nullptr) {
        return k_default;
    }
    const std::string_view value(text);
    unsigned long ms = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec != std::errc() || end != value.data() + value.size()) {
        return k_default;
    }
    return std::chrono::milliseconds(std::min<unsigned long>(ms, 24ul * 3600 * 1000));
}

std::string new_job_uid()
{
    std::random_device rd;
    return fmt::format("{:08x}{:04x}", rd(), rd() & 0xffff);
}

double now_seconds()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// What the executable of `command` is (static, setuid, Go ...: ROAR_EXEC_*),
// so an unobserved root command is reported with the reason.
int probe_command(const std::string& command)
{
    char buf[4096];
    const char* path = roar_exec_resolve(command.c_str(), std::getenv("PATH"), buf, sizeof buf);
    return roar_exec_probe_at(AT_FDCWD, path);
}

// The value of NAME in the "NAME=value" list `env`; "" when unset.
// The git part of a job's environment record: the work tree's top
// directory and, for a dirty tree, its recorded diff against `commit`
// (`roar reproduce` re-applies it): {"root", "diff": {"base", "bytes",
// "patch"}} with "too_large" or "failed" instead of "patch" when there is none.
nlohmann::json git_environment(const GitState& git)
{
    nlohmann::json out = nlohmann::json::object();
    if (!git.root.empty()) {
        out["root"] = git.root;
    }
    if (git.dirty) {
        nlohmann::json diff = {{"base", git.commit}, {"bytes", git.diff_bytes}};
        if (git.diff_too_large) {
            diff["too_large"] = true;
        } else if (git.diff_failed || git.commit.empty()) {
            diff["failed"] = true;
        } else {
            diff["patch"] = git.diff;
        }
        out["diff"] = std::move(diff);
    }
    return out;
}

std::string environment_value(const std::vector<std::string>& env, const char* name)
{
    const std::string prefix = std::string(name) + "=";
    for (const auto& entry : env) {
        if (entry.rfind(prefix, 0) == 0) {
            return entry.substr(prefix.size());
        }
    }
    return {};
}

std::string user_name()
{
    if (const struct passwd* pw = getpwuid(getuid())) {
        return pw->pw_name;
    }
    return std::to_string(getuid());
}

} // namespace

// ROAR_HOST when set (a cluster node's stable name, or a test standing in
// for another machine), else gethostname.
std::string host_name()
{
    if (const char* given = std::getenv("ROAR_HOST"); given && *given) {
        return given;
    }
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

std::vector<std::string> JobSession::tls_interception_environment(std::vector<std::string>& proxy_env)
{
    // proxy.intercept_tls: the roar CA (made on first use) and the job's
    // trust in it; the proxy finds the same CA through ROAR_CA_DIR.
    const auto getenv_c = [](const char* name) -> const char* { return std::getenv(name); };
    const auto fail_note = [this](const std::string& why) {
        m_notes.push_back(fmt::format("proxy.intercept_tls: {}; S3 calls over TLS are not observed", why));
        return std::vector<std::string>{};
    };
    auto dir = proxy::ca_directory(getenv_c);
    if (!dir) {
        return fail_note(dir.error());
    }
    auto ca = proxy::RoarCa::open(*dir);
    if (!ca) {
        return fail_note(ca.error());
    }
    auto trust = proxy::job_trust_environment(*ca, proxy::system_ca_file(), getenv_c, m_notes);
    if (!trust) {
        return fail_note(trust.error());
    }
    proxy_env.push_back(fmt::format("{}={}", proxy::k_ca_dir_env, dir->string()));
    return *trust;
}

JobRecord new_job_record(const std::vector<std::string>& command, const std::string& cwd)
{
    JobRecord job;
    job.uid = new_job_uid();
    job.argv = command;
    job.command = join_command(command);
    job.cwd = cwd;
    job.hostname = host_name();
    job.user = user_name();
    job.started_at = now_seconds();
    return job;
}

JobSession::JobSession(JobSessionOptions options) : m_options(std::move(options))
{
    if (m_options.uid.empty()) {
        m_options.uid = new_job_uid();
    }
}

void JobSession::run_job(const EventRing::Sink& sink, const std::function<void(const JobLauncher&)>& launched,
                         const std::function<void()>& after_batch, const PathFilter* recorded,
                         const std::function<void()>& before_reaping)
{
    if (m_options.command.empty()) {
        throw FatalError("no command given");
    }
    auto preload = find_preload_library();
    if (!preload) {
        throw FatalError(preload.error().message);
    }
    auto ring = EventRing::create(ring_name_for_job(m_options.uid), m_options.ring_bytes, m_options.sync_timeout_ms);
    if (!ring) {
        throw FatalError(ring.error().message);
    }
    std::vector<std::string> env = job_environment(*preload, ring->name(), m_options.uid);

    // Declared before the launcher: on any way out, the launcher restores
    // the signal dispositions first, then the proxy is stopped and reaped.
    std::optional<proxy_control::ProxyChild> proxy;
    if (m_options.proxy) {
        proxy_control::StartOptions opts = *m_options.proxy;
        opts.port = 0;
        // roar run binds the proxy's socket and the job starts at once: its
        // S3 connections wait in the socket's queue until the proxy is up,
        // and a job with no S3 traffic does not wait for the proxy at all.
        opts.hand_over = true;
        // ... and the proxy itself starts with the job's first S3 connection
        // or once the job has run proxy_start_delay(), whichever is first: a
        // short job with no S3 traffic never starts it, and a longer one has
        // it started well before a typical S3 client (an interpreter and an
        // SDK to load) connects.
        opts.defer_start = proxy_start_delay();
        opts.ring = ring->name();
        // The shim routes the job's S3 connections to the proxy (issue 17):
        // the proxy gets the job's secret and routing rules, the job gets
        // them plus the proxy's address once it listens.
        auto secret = new_s3_route_secret();
        if (!secret) {
            throw FatalError(secret.error().message);
        }
        S3RoutingConfig routing = m_options.s3_routing;
        std::vector<std::string> trust_env;
        if (routing.intercept_tls) {
            trust_env = tls_interception_environment(opts.env);
            routing.intercept_tls = !trust_env.empty();
        }
        routing.proxy_address = "127.0.0.1:1"; // replaced once the proxy listens
        std::vector<std::string> warnings;
        auto routing_env = s3_routing_environment(
            routing, *secret, [](const char* name) { return std::getenv(name); }, &warnings);
        if (!routing_env) {
            throw FatalError(routing_env.error().message);
        }
        m_notes.insert(m_notes.end(), warnings.begin(), warnings.end());
        for (const auto& entry : *routing_env) {
            if (entry.rfind(ROAR_ENV_S3_SECRET "=", 0) == 0 || entry.rfind(ROAR_ENV_S3_HOSTS "=", 0) == 0
                || entry.rfind(ROAR_ENV_S3_TLS "=", 0) == 0) {
                opts.env.push_back(entry);
            }
        }
        if (!m_options.proxy_log_dir.empty()) {
            std::error_code ec;
            fs::create_directories(m_options.proxy_log_dir, ec);
            opts.log_file = (m_options.proxy_log_dir / fmt::format("proxy-{}.log", m_options.uid)).string();
        }
        auto started = proxy_control::ProxyChild::start(opts);
        if (auto* err = std::get_if<std::string>(&started)) {
            throw FatalError(
                fmt::format("cannot start roar-proxy for this job: {} (or run 'roar proxy disable')", *err));
        }
        proxy.emplace(std::move(std::get<proxy_control::ProxyChild>(started)));
        for (auto& entry : *routing_env) {
            if (entry.rfind(ROAR_ENV_S3_PROXY "=", 0) == 0) {
                entry = fmt::format(ROAR_ENV_S3_PROXY "=127.0.0.1:{}", proxy->port());
            }
        }
        set_environment(env, *routing_env);
        set_environment(env, trust_env);
    }
    // Ends the job's processes if roar run dies before the job does
    // (forked before the tracer's thread exists; job_guard.hpp).
    auto guard = JobGuard::start(fmt::format("{}={}", ROAR_ENV_JOB, m_options.uid));
    if (!guard) {
        m_notes.push_back(guard.error().message
                          + "; had roar run been killed, the job's processes would have run on unrecorded");
    }
    if (before_reaping) {
        before_reaping(); // git, started while the ring, proxy and guard were made
    }
    // Created after the proxy and git: once its thread runs, it reaps every
    // child until stop().
    std::unique_ptr<Tracer> tracer;
    m_root_flags = probe_command(m_options.command.front());
    bool trace_root = false;
    if (m_options.tracer != TracerMode::off) {
        TracerOptions tracer_options{m_options.tracer, ring->name(), preload->string()};
        // The tracer routes traced programs' S3 connections by the job's
        // own ROAR_S3_* (set above for roar run's proxy, or inherited).
        tracer_options.s3_proxy = environment_value(env, ROAR_ENV_S3_PROXY);
        tracer_options.s3_secret = environment_value(env, ROAR_ENV_S3_SECRET);
        tracer_options.s3_hosts = environment_value(env, ROAR_ENV_S3_HOSTS);
        tracer_options.s3_tls = environment_value(env, ROAR_ENV_S3_TLS);
        if (recorded) {
            tracer_options.digest_filter = *recorded;
            tracer_options.cached_digest = m_cached_digest;
        }
        auto created = Tracer::create(tracer_options);
        if (created) {
            tracer = std::move(*created);
            trace_root = tracer->wants_root(m_root_flags);
        } else {
            m_notes.push_back(created.error().message);
        }
    }
    const EventRing::Sink traced_sink = [&sink, &tracer](const RawEvent& event) {
        sink(event);
        if (tracer) {
            tracer->on_event(event); // after the sink: it may release a tracee parked at this record
        }
    };
    auto launcher = JobLauncher::start(m_options.command, env, ring->doorbell(), tracer.get(), trace_root);
    if (!launcher) {
        throw FatalError(launcher.error().message, 127);
    }
    if (launched) {
        launched(*launcher);
    }
    if (guard) {
        launcher->add_service(guard->pid());
    }
    pid_t proxy_service = -1;
    while (!launcher->reap()) {
        if (proxy) {
            if (auto failed = proxy->check_start(); !failed.empty()) {
                m_notes.push_back(failed + "; S3 calls of this job were not observed");
            }
            if (proxy->pid() > 0 && proxy->pid() != proxy_service) {
                proxy_service = proxy->pid(); // just started: a client waited, or the delay passed
                launcher->add_service(proxy_service);
            }
        }
        ring->drain(traced_sink);
        if (after_batch) {
            after_batch();
        }
        ring->wait(std::chrono::milliseconds(launcher->root_exited() ? 20 : 5));
    }
    if (tracer) {
        tracer->stop(); // every tracee is gone; from here on waitpid is ours again
        m_tracer_stats = tracer->stats();
        m_tracer_hashed = tracer->take_hashed();
        for (auto& note : tracer->notes()) {
            m_notes.push_back(std::move(note));
        }
    }
    if (guard) {
        guard->release(); // the job is over: the guard leaves without touching anything
    }
    if (proxy) {
        // The proxy publishes its last events before it exits.
        if (!proxy->stop(std::chrono::seconds(10))) {
            m_notes.push_back("roar-proxy did not stop cleanly; S3 events of requests still in flight may be missing");
        }
    }
    ring->drain(sink, true);
    m_root_status = launcher->root_status();
    m_reaped = launcher->reaped();
    m_counters = ring->counters();
}

int JobSession::run(const EventRing::Sink& sink)
{
    run_job(sink, {}, {}, nullptr, {});
    return m_root_status;
}

JobRecord JobSession::record(Store& store, const RecordingOptions& recording)
{
    // git runs while the job is prepared, and is waited for before the job
    // starts (run_job's before_reaping): the launcher reaps every child.
    std::optional<GitStateReader> own_git;
    GitStateReader& git = recording.started_git != nullptr && recording.started_git->pending()
                                  && recording.started_git->dir() == recording.cwd
                              ? *recording.started_git
                              : own_git.emplace(recording.cwd);
    // Hashing threads start only after the job (never fork with them running).
    std::optional<HashPool> hash_pool;
    auto pool = [&hash_pool]() -> HashPool& {
        if (!hash_pool) {
            hash_pool.emplace(HashPool::default_threads());
        }
        return *hash_pool;
    };
    // Files the job has finished writing are hashed while it runs (first
    // used after the fork, so the pool's threads start after it too).
    EarlyHasher early(pool);
    JobTracker tracker(
        recording.cwd, recording.filter, [&store](const std::string& path) { return store.digest_file(path); },
        [&store, &pool, &early](const std::vector<std::string>& paths) {
            return store.digest_files(paths, pool(), &early);
        });
    // The inputs' digests taken early come from the hash cache when it has
    // them, read on a connection of their own.
    early.use_cache(store.cache_batch_lookup_for_thread());
    tracker.hash_early(&early);
    m_cached_digest = store.cache_lookup_for_thread();

    JobRecord job = new_job_record(m_options.command, recording.cwd);
    job.uid = m_options.uid;
    job.env = recorded_environment();

    run_job([&tracker](const RawEvent& event) { tracker.on_event(event); },
            [&](const JobLauncher& launcher) {
                tracker.set_root(uint32_t(launcher.root_pid()), m_options.command, m_root_flags);
            },
            [&tracker] { tracker.start_early_hashes(); }, &recording.filter, [&] { job.git = git.finish(); });
    m_cached_digest = nullptr; // its connection closes with the tracer's options
    store.remember_digests(m_tracer_hashed);
    m_tracer_hashed.clear();
    job.notes = m_notes;
    job.ended_at = now_seconds();
    job.exit_code = exit_code_of(m_root_status);
    if (WIFSIGNALED(m_root_status)) {
        job.signal = WTERMSIG(m_root_status);
    }
    tracker.add_reaped(m_reaped);
    job.ring = m_counters;
    tracker.finish_processes(job);
    if (recording.environment) {
        // After the job, from what it opened: no subprocess, no network;
        // the machine's slow sources are read from a cache (facts_cache.hpp).
        // Before the paths are recorded, so that for a job of many files the
        // footprint is gone before the record's uses are made.
        job.environment = to_json(capture_job_environment(tracker.footprint(job), *recording.environment));
    }
    {
        ProgressLine progress(recording.progress, "roar: recording");
        tracker.show_progress(&progress);
        tracker.finish_paths(job);
        tracker.show_progress(nullptr);
    }
    // The uncommitted changes are part of what the job ran with: kept even
    // when environment capture is off.
    if (job.git && (job.environment.is_object() || job.git->dirty)) {
        if (!job.environment.is_object()) {
            job.environment = nlohmann::json::object();
        }
        job.environment["git"] = git_environment(*job.git);
    }
    if (job.ring.dropped > 0) {
        job.notes.push_back(fmt::format("{} events were dropped because the event ring was full and roar was not "
                                        "draining it (stalled for run.sync_timeout_ms, or gone); this record may "
                                        "miss file accesses",
                                        job.ring.dropped));
    }
    if (job.ring.full_waits > 0) {
        job.notes.push_back(fmt::format("processes waited {} times ({:.1f} ms in all) for roar to drain a full event "
                                        "ring",
                                        job.ring.full_waits, double(job.ring.full_wait_ns) / 1e6));
    }
    if (job.ring.skipped > 0) {
        job.notes.push_back(
            fmt::format("{} partly written events from killed processes were skipped", job.ring.skipped));
    }
    if (job.ring.sync_timeouts > 0) {
        job.notes.push_back(fmt::format("{} times a process stopped waiting for roar to hash a file it was about to "
                                        "overwrite; affected input digests are marked",
                                        job.ring.sync_timeouts));
    }
    recording.redactor.apply(job);
    return job;
}

StoredJob JobSession::store(Store& store, const JobRecord& job, std::optional<int64_t> step,
                            const RecoveryPlaces& places)
{
    StoredJob out;
    std::string failure;
    if (job.inputs.size() + job.outputs.size() >= k_trim_before_storing) {
        // What recording freed (the tracker's paths, and what the hashing
        // threads left in their own heaps) lies in holes between the
        // record's uses; given back now, it is not counted twice when the
        // store's page cache grows (a job with a million inputs: see row 1d
        // in docs/benchmarks.md).
        malloc_trim(0);
    }
    if (const std::string moved = store.moved(); !moved.empty()) {
        // Never into an unlinked file: the path is what later commands read.
        const bool gone = moved.ends_with("was deleted");
        if (auto reopened = store.reopen(true); !reopened) {
            failure = fmt::format("could not store job {}: {} while the job ran, and {}", job.uid, moved,
                                  reopened.error().message);
        } else {
            if (gone) {
                step.reset(); // a new database has no step @N to join
            }
            out.notes.push_back(fmt::format("{} while the job ran; {}", moved,
                                            gone ? "created a new database there and stored this job in it "
                                                   "(earlier jobs are not in it)"
                                                 : "stored this job in the database now there"));
        }
    }
    if (failure.empty()) {
        auto stored = store.store_job(job, step);
        if (stored) {
            out.row = *stored;
            return out;
        }
        failure = stored.error().message;
    }
    auto saved = write_recovery_file(places, job, step, failure);
    if (saved) {
        out.notes.push_back(fmt::format("{}; its record is saved in {} ('roar store sync' or 'roar import {}' "
                                        "stores it; the next 'roar run' does so by itself)",
                                        failure, saved->string(), saved->string()));
    } else {
        out.notes.push_back(fmt::format("{}, and its record could not be saved anywhere either ({}); it is lost",
                                        failure, saved.error().message));
    }
    return out;
}

} // namespace roar::collector

// `roar run CMD ARGS...`: runs the command under the shim with a fresh
// event ring, drains the ring while it runs, then resolves, hashes and
// stores the job and prints a short report on stderr.
#include "commands.hpp"

#include "git_state.hpp"
#include "project.hpp"
#include "proxy_control.hpp"
#include "text_style.hpp"
#include "job_queries.hpp"
#include "rerun.hpp"

#include "roar/collector/early_hasher.hpp"
#include "roar/collector/event_ring.hpp"
#include "roar/collector/exec_probe.h"
#include "roar/collector/hash_pool.hpp"
#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_launcher.hpp"
#include "roar/collector/job_tracker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <variant>
#include <cstring>
#include <iostream>
#include <pwd.h>
#include <sys/wait.h>
#include <random>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;
using namespace roar::collector;

namespace roar::cli {

namespace {

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

bool env_named(const char* entry, const char* name)
{
    const size_t n = std::strlen(name);
    return std::strncmp(entry, name, n) == 0 && entry[n] == '=';
}

// The job's environment: ours plus the shim's variables.
std::vector<std::string> job_environment(const fs::path& preload, const std::string& ring, const std::string& uid)
{
    std::vector<std::string> env;
    std::string ld_preload = preload.string();
    for (char** e = environ; *e; ++e) {
        if (env_named(*e, "LD_PRELOAD")) {
            std::string rest = *e + std::strlen("LD_PRELOAD=");
            if (!rest.empty() && rest.find(preload.string()) == std::string::npos) {
                ld_preload += ":" + rest;
            }
            continue;
        }
        if (env_named(*e, ROAR_ENV_RING) || env_named(*e, ROAR_ENV_PRELOAD) || env_named(*e, ROAR_ENV_JOB)
            || env_named(*e, ROAR_ENV_KEEP)) {
            continue;
        }
        env.emplace_back(*e);
    }
    env.push_back("LD_PRELOAD=" + ld_preload);
    env.push_back(fmt::format("{}={}", ROAR_ENV_RING, ring));
    env.push_back(fmt::format("{}={}", ROAR_ENV_PRELOAD, preload.string()));
    env.push_back(fmt::format("{}={}", ROAR_ENV_JOB, uid));
    return env;
}

// The job's environment as recorded: values of names that look secret
// are replaced before anything is stored; noise such as LS_COLORS is left out.
nlohmann::json recorded_environment()
{
    static const char* const k_secret_words[] = {"KEY",    "SECRET",     "TOKEN", "PASSWORD",
                                                 "PASSWD", "CREDENTIAL", "AUTH",  "SESSION"};
    static const char* const k_noise[] = {"LS_COLORS", "LESSOPEN", "LESSCLOSE", "_", "OLDPWD", "SHLVL", "PS1"};
    nlohmann::json env = nlohmann::json::object();
    for (char** e = environ; *e; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (!eq) {
            continue;
        }
        std::string name(*e, size_t(eq - *e));
        if (std::any_of(std::begin(k_noise), std::end(k_noise), [&](const char* n) { return name == n; })
            || name.rfind("ROAR_", 0) == 0 || name == "LD_PRELOAD") {
            continue;
        }
        std::string upper = name;
        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
        const bool secret = std::any_of(std::begin(k_secret_words), std::end(k_secret_words),
                                        [&](const char* w) { return upper.find(w) != std::string::npos; });
        env[name] = secret ? "<redacted>" : std::string(eq + 1);
    }
    return env;
}

// Puts each "NAME=value" of `entries` into `env`, replacing any NAME= already there.
void set_environment(std::vector<std::string>& env, const std::vector<std::string>& entries)
{
    for (const auto& entry : entries) {
        const std::string prefix = entry.substr(0, entry.find('=') + 1);
        std::erase_if(env, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
        env.push_back(entry);
    }
}

// Starts the job-scoped roar-proxy on a free port, publishing into `ring`.
proxy_control::ProxyProcess start_job_proxy(const Project& project, const std::string& ring, const std::string& uid)
{
    auto binary = find_proxy_binary();
    if (!binary) {
        throw FatalError(binary.error().message);
    }
    proxy_control::StartOptions opts;
    opts.binary = binary->string();
    opts.port = 0;
    opts.ring = ring;
    const char* env_upstream = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT");
    if (env_upstream == nullptr || *env_upstream == '\0') {
        opts.upstream = project.config().proxy_upstream;
    }
    std::error_code ec;
    fs::create_directories(project.roar_dir() / "logs", ec);
    opts.log_file = (project.roar_dir() / "logs" / fmt::format("proxy-{}.log", uid)).string();
    auto started = proxy_control::start(opts);
    if (auto* err = std::get_if<std::string>(&started)) {
        throw FatalError(fmt::format("cannot start roar-proxy for this job: {} (or run 'roar proxy disable')", *err));
    }
    return std::get<proxy_control::ProxyProcess>(started);
}

// What the executable of `command` is (static, setuid, Go ...: ROAR_EXEC_*),
// so an unobserved root command is reported with the reason.
int probe_command(const std::string& command)
{
    char buf[4096];
    const char* path = roar_exec_resolve(command.c_str(), std::getenv("PATH"), buf, sizeof buf);
    return roar_exec_probe_at(AT_FDCWD, path);
}

std::string user_name()
{
    if (const struct passwd* pw = getpwuid(getuid())) {
        return pw->pw_name;
    }
    return std::to_string(getuid());
}

std::string host_name()
{
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

void print_report(const Project& project, const JobRecord& job, const std::string& step)
{
    const int fd = 2;
    const bool ok = job.exit_code == 0;
    std::string out;
    out += fmt::format("{} {}\n", paint(fd, k_bold, "roar:"), job.command);
    out +=
        fmt::format("  {} in {} · job {}{}\n", paint(fd, ok ? k_green : k_red, fmt::format("exit {}", job.exit_code)),
                    human_duration(job.ended_at - job.started_at), job.uid, step.empty() ? "" : " (" + step + ")");
    auto list = [&](const char* label, const std::vector<ArtifactUse>& uses) {
        for (const auto& use : uses) {
            std::string digest;
            for (const char* alg : {"blake3", "etag"}) {
                if (auto it = use.hashes.find(alg); it != use.hashes.end()) {
                    digest = short_digest(alg, it->second);
                    break;
                }
            }
            out += fmt::format("  {:<4} {}  {}  {}\n", label, project.display_path(use.path), human_size(use.size),
                               paint(fd, k_dim, digest));
        }
    };
    list("in", job.inputs);
    list("out", job.outputs);
    for (const auto& use : job.deleted) {
        out += fmt::format("  {:<4} {}\n", "del", project.display_path(use.path));
    }
    if (job.inputs.empty() && job.outputs.empty()) {
        out += "  (no files read or written outside the filtered system paths)\n";
    }
    for (const auto& note : job.notes) {
        out += fmt::format("  {} {}\n", paint(fd, k_yellow, "note:"), note);
    }
    std::cerr << out << std::flush;
}

} // namespace

int cmd_run(const RunOptions& given)
{
    // `roar run @N [--name=value]`: step N's recorded command, in its recorded cwd.
    const RerunPlan rerun = plan_rerun(given.command, given.quiet);
    RunOptions options = given;
    options.command = rerun.command;
    if (options.command.empty()) {
        throw FatalError("roar run needs a command, e.g. 'roar run python3 train.py'");
    }
    Project project = Project::find();
    Database db = project.open_database(); // a broken database is reported before the job runs
    const Config& config = project.config();

    auto preload = find_preload_library();
    if (!preload) {
        throw FatalError(preload.error().message);
    }
    const std::string uid = new_job_uid();
    auto ring = EventRing::create(ring_name_for_job(uid), config.ring_size_mb << 20, config.sync_timeout_ms);
    if (!ring) {
        throw FatalError(ring.error().message);
    }

    std::vector<std::string> exclude =
        config.filter_defaults ? PathFilter::default_excludes() : std::vector<std::string>{};
    exclude.push_back(project.roar_dir().string() + "/");
    if (!options.quiet) {
        // roar appends its report to its own stderr after hashing: if that is
        // a file the job also writes to, its digest could never match.
        std::error_code ec;
        const fs::path report_target = fs::read_symlink("/proc/self/fd/2", ec);
        if (!ec && fs::is_regular_file(report_target, ec)) {
            exclude.push_back(report_target.string());
        }
    }
    exclude.insert(exclude.end(), config.filter_exclude.begin(), config.filter_exclude.end());
    const std::string cwd = fs::current_path().string();
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
        cwd, PathFilter(exclude, config.filter_include),
        [&db](const std::string& path) { return db.digest_file(path); },
        [&db, &pool, &early](const std::vector<std::string>& paths) { return db.digest_files(paths, pool(), &early); });
    tracker.hash_early(&early);

    JobRecord job;
    job.uid = uid;
    job.argv = options.command;
    job.command = join_command(options.command);
    job.cwd = cwd;
    job.hostname = host_name();
    job.user = user_name();
    job.env = recorded_environment();
    job.started_at = now_seconds();
    job.git = read_git_state(cwd);

    std::vector<std::string> env = job_environment(*preload, ring->name(), uid);
    std::optional<proxy_control::ProxyProcess> proxy;
    if (config.proxy_enabled) {
        proxy = start_job_proxy(project, ring->name(), uid);
        set_environment(env, proxy_control::job_environment(proxy->port));
    }
    auto launched = JobLauncher::start(options.command, env, ring->doorbell());
    if (!launched && proxy) {
        proxy_control::stop(proxy->pid, std::chrono::seconds(5), true);
    }
    if (!launched) {
        throw FatalError(launched.error().message, 127);
    }
    JobLauncher& launcher = *launched;
    tracker.set_root(uint32_t(launcher.root_pid()), options.command, probe_command(options.command.front()));
    auto sink = [&tracker](const RawEvent& event) { tracker.on_event(event); };
    if (proxy) {
        launcher.add_service(proxy->pid);
    }
    while (!launcher.reap()) {
        ring->drain(sink);
        tracker.start_early_hashes();
        ring->wait(std::chrono::milliseconds(launcher.root_exited() ? 20 : 5));
    }
    if (proxy) {
        // The proxy publishes its last events before it exits.
        if (!proxy_control::stop(proxy->pid, std::chrono::seconds(10), true)) {
            job.notes.push_back(
                "roar-proxy did not stop cleanly; S3 events of requests still in flight may be missing");
        }
    }
    ring->drain(sink, true);
    job.ended_at = now_seconds();
    const int status = launcher.root_status();
    job.exit_code = exit_code_of(status);
    if (WIFSIGNALED(status)) {
        job.signal = WTERMSIG(status);
    }
    tracker.add_reaped(launcher.reaped());
    job.ring = ring->counters();
    tracker.finish(job);
    if (job.ring.dropped > 0) {
        job.notes.push_back(fmt::format("{} events were dropped because the event ring was full; this record may "
                                        "miss file accesses (raise run.ring_size_mb)",
                                        job.ring.dropped));
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

    auto stored = db.store_job(job, rerun.step);
    if (!stored) {
        throw FatalError(stored.error().message, job.exit_code ? job.exit_code : 1);
    }
    if (options.quiet && !options.json) {
        return job.exit_code; // nothing to show: don't read the job back
    }
    nlohmann::json record = job_json(db, *stored);
    if (!options.quiet) {
        const std::string step = record["step"].is_null() ? "" : fmt::format("@{}", record["step"].get<int64_t>());
        print_report(project, job, step);
        print_stale_downstream(db, *stored);
    }
    if (options.json) {
        std::cout << record.dump(2) << std::endl;
    }
    return job.exit_code;
}

} // namespace roar::cli

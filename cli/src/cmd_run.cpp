// `roar run CMD ARGS...`: parses what to run (a command, or `@N` to re-run
// a step), runs it through a collector JobSession (which records the job
// and stores it, or saves it for later when it cannot), and prints a
// short report on stderr.
#include "commands.hpp"

#include "job_queries.hpp"
#include "project.hpp"
#include "rerun.hpp"
#include "text_style.hpp"

#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_session.hpp"
#include "roar/collector/path_filter.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace fs = std::filesystem;
using namespace roar::collector;

namespace roar::cli {

namespace {

// What roar records of this job, from roar.toml: the path filter, with the
// project's .roar/ and (when roar reports there) its own stderr left out.
PathFilter recording_filter(const Project& project, bool quiet)
{
    const Config& config = project.config();
    std::vector<std::string> exclude =
        config.filter_defaults ? PathFilter::default_excludes() : std::vector<std::string>{};
    exclude.push_back(project.roar_dir().string() + "/");
    if (auto preload = find_preload_library()) {
        exclude.push_back(preload->string()); // the loader maps it into every process; the tracer sees that open
    }
    if (!quiet) {
        // roar appends its report to its own stderr after hashing: if that is
        // a file the job also writes to, its digest could never match.
        std::error_code ec;
        const fs::path report_target = fs::read_symlink("/proc/self/fd/2", ec);
        if (!ec && fs::is_regular_file(report_target, ec)) {
            exclude.push_back(report_target.string());
        }
    }
    exclude.insert(exclude.end(), config.filter_exclude.begin(), config.filter_exclude.end());
    return PathFilter(exclude, config.filter_include);
}

// The job-scoped proxy's settings (proxy.upstream_endpoint unless the
// environment's ROAR_UPSTREAM_S3_ENDPOINT is set: the proxy reads that itself).
proxy_control::StartOptions job_proxy_options(const Project& project)
{
    auto binary = find_proxy_binary();
    if (!binary) {
        throw FatalError(binary.error().message);
    }
    proxy_control::StartOptions opts;
    opts.binary = binary->string();
    const char* env_upstream = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT");
    if (env_upstream == nullptr || *env_upstream == '\0') {
        opts.upstream = project.config().proxy_upstream;
    }
    return opts;
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
    Project project = Project::find();
    // A broken or read-only database is reported before the job runs.
    Store store = project.open_store(Access::write);
    // `roar run @N [--name=value]`: step N's recorded command, in its recorded cwd.
    const RerunPlan rerun = plan_rerun(store, given.command, given.quiet);
    if (rerun.command.empty()) {
        throw FatalError("roar run needs a command, e.g. 'roar run python3 train.py'");
    }
    const Config& config = project.config();

    JobSessionOptions options;
    options.command = rerun.command;
    options.ring_bytes = config.ring_size_mb << 20;
    options.sync_timeout_ms = config.sync_timeout_ms;
    options.tracer = parse_tracer_mode(config.tracer).value_or(TracerMode::off); // Config::load checked it
    if (config.proxy_enabled) {
        options.proxy = job_proxy_options(project);
        options.proxy_log_dir = project.roar_dir() / "logs";
    }
    JobSession session(options);
    RecordingOptions recording{fs::current_path().string(), recording_filter(project, given.quiet), {}};
    if (config.capture_environment) {
        recording.environment.emplace();
        recording.environment->record_all_packages = config.record_all_packages;
    }
    const JobRecord job = session.record(store, recording);
    const StoredJob stored = JobSession::store(store, job, rerun.step, project.recovery_places());
    for (const auto& note : stored.notes) {
        std::cerr << "roar: " << note << "\n";
    }
    if (!stored.row || (given.quiet && !given.json)) {
        return job.exit_code; // nothing to show: don't read the job back
    }
    const auto detail = store.job(*stored.row);
    if (!detail) {
        throw FatalError(fmt::format("job {} vanished from the database", job.uid));
    }
    if (!given.quiet) {
        print_report(project, job, detail->step ? fmt::format("@{}", *detail->step) : "");
        print_stale_downstream(store, *stored.row);
    }
    if (given.json) {
        std::cout << job_json(*detail).dump(2) << std::endl;
    }
    return job.exit_code;
}

} // namespace roar::cli

// `roar run CMD ARGS...`: parses what to run (a command, or `@N` to re-run
// a step), runs it through a collector JobSession (which records the job
// and stores it, or saves it for later when it cannot), and prints a
// short report on stderr.
#include "commands.hpp"

#include "job_queries.hpp"
#include "lineage.hpp"
#include "project.hpp"
#include "rerun.hpp"
#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_session.hpp"
#include "roar/collector/path_filter.hpp"
#include "roar/collector/progress.hpp"

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
    out += fmt::format("{} {}\n", paint(fd, k_bold, "roar:"), printable(job.command));
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
            out += fmt::format("  {:<4} {}  {}  {}\n", label, project.shown_path(use.path), human_size(use.size),
                               paint(fd, k_dim, digest));
        }
    };
    list("in", job.inputs);
    list("out", job.outputs);
    for (const auto& use : job.deleted) {
        out += fmt::format("  {:<4} {}\n", "del", project.shown_path(use.path));
    }
    if (job.inputs.empty() && job.outputs.empty()) {
        out += "  (no files read or written outside the filtered system paths)\n";
    }
    for (const auto& note : job.notes) {
        out += fmt::format("  {} {}\n", paint(fd, k_yellow, "note:"), printable(note));
    }
    std::cerr << out << std::flush;
}

// Runs and records one job; its exit status and stored row.
std::pair<int, std::optional<int64_t>> run_one(const Project& project, Store& store, const RunOptions& given,
                                               const std::vector<std::string>& command, std::optional<int64_t> step)
{
    const Config& config = project.config();
    JobSessionOptions options;
    options.command = command;
    options.ring_bytes = config.ring_size_mb << 20;
    options.sync_timeout_ms = config.sync_timeout_ms;
    options.tracer = parse_tracer_mode(config.tracer).value_or(TracerMode::off); // Config::load checked it
    if (config.proxy_enabled) {
        options.proxy = job_proxy_options(project);
        options.proxy_log_dir = project.roar_dir() / "logs";
        options.s3_routing.upstream_endpoint = options.proxy->upstream;
        if (const char* env = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT"); env != nullptr && *env != '\0') {
            options.s3_routing.upstream_endpoint = env;
        }
        options.s3_routing.s3_hosts = config.proxy_s3_hosts;
        options.s3_routing.intercept_tls = config.proxy_intercept_tls;
    }
    JobSession session(options);
    RecordingOptions recording{
        fs::current_path().string(), recording_filter(project, given.quiet), project.redactor(), {}};
    if (config.capture_environment) {
        recording.environment.emplace();
        recording.environment->record_all_packages = config.record_all_packages;
    }
    recording.progress = !given.quiet && !given.json && collector::stderr_shows_progress();
    const JobRecord job = session.record(store, recording);
    const StoredJob stored = JobSession::store(store, job, step, project.recovery_places());
    for (const auto& note : stored.notes) {
        std::cerr << "roar: " << printable(note) << "\n";
    }
    if (stored.row && !given.step_name.empty()) {
        store.name_job_step(*stored.row, given.step_name);
    }
    if (!stored.row || (given.quiet && !given.json)) {
        return {job.exit_code, stored.row}; // nothing to show: don't read the job back
    }
    const auto detail = store.job(*stored.row);
    if (!detail) {
        throw FatalError(fmt::format("job {} vanished from the database", job.uid));
    }
    if (!given.quiet) {
        std::string step_ref = detail->step ? fmt::format("@{}", *detail->step) : "";
        if (!given.step_name.empty() && detail->step) {
            step_ref = fmt::format("@{} = @{}", given.step_name, *detail->step);
        }
        print_report(project, job, step_ref);
    }
    if (given.json) {
        std::cout << job_json(*detail).dump(2) << std::endl;
    }
    return {job.exit_code, stored.row};
}

} // namespace

int cmd_run(const RunOptions& given)
{
    Project project = Project::find();
    // A broken or read-only database is reported before the job runs.
    Store store = project.open_store(Access::write);
    // `roar run @N [--name=value]`: each current job of step N, recorded
    // command and directory; else the command given.
    RerunPlan rerun = plan_rerun(store, given.command, given.quiet);
    if (rerun.jobs.empty() || rerun.jobs.front().command.empty()) {
        throw FatalError("roar run needs a command, e.g. 'roar run python3 train.py'");
    }
    // -n NAME: the step of that name, else the matched step gets the name.
    const std::string& name = given.step_name;
    if (!name.empty()) {
        if (!valid_step_name(name)) {
            throw FatalError(fmt::format("'{}' cannot name a step: use a letter or '_' first, then letters, digits, "
                                         "'_', '-' or '.' (e.g. 'roar run -n train -- python3 train.py')",
                                         name));
        }
        if (rerun.step) {
            throw FatalError(
                fmt::format("-n names the step of a new command; {} already refers to a step", rerun.label));
        }
        rerun.step = store.step_number_named(name);
    }
    int status = 0;
    std::optional<int64_t> last_row;
    for (const RerunJob& planned : rerun.jobs) {
        if (!planned.cwd.empty()) {
            std::error_code ec;
            fs::current_path(planned.cwd, ec);
            if (ec) {
                throw FatalError(fmt::format("cannot re-run {} in its recorded directory {}: {}", rerun.label,
                                             planned.cwd, ec.message()));
            }
        }
        const auto [exit_code, row] = run_one(project, store, given, planned.command, rerun.step);
        status = status != 0 ? status : exit_code;
        last_row = row ? row : last_row;
    }
    if (!given.quiet && last_row) {
        print_stale_downstream(store, *last_row);
    }
    return status;
}

} // namespace roar::cli

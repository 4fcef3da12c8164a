// `roar run CMD ARGS...`: parses what to run (a command, or `@N` to re-run
// a step), runs it through a collector JobSession (which records the job
// and stores it, or saves it for later when it cannot), and prints a
// short report on stderr.
#include "commands.hpp"

#include "job_queries.hpp"
#include "lineage.hpp"
#include "list_summary.hpp"
#include "project.hpp"
#include "rerun.hpp"
#include "run_report.hpp"
#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/extra_digests.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_session.hpp"
#include "roar/collector/path_filter.hpp"
#include "roar/collector/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sys/resource.h>

namespace fs = std::filesystem;
using namespace roar::collector;

namespace roar::cli {

namespace {

// What roar records of this job, from roar.toml: the path filter, with the
// project's .roar/ left out. Whether roar reports afterwards (-q) plays no
// part: a file the job inherited as stderr is recorded when the job wrote
// to it, and then roar does not append its report to it.
PathFilter recording_filter(const Project& project)
{
    const Config& config = project.config();
    std::vector<std::string> exclude =
        config.filter_defaults ? PathFilter::default_excludes() : std::vector<std::string>{};
    exclude.push_back(project.roar_dir().string() + "/");
    if (auto preload = find_preload_library()) {
        exclude.push_back(preload->string()); // the loader maps it into every process; the tracer sees that open
    }
    exclude.insert(exclude.end(), config.filter_exclude.begin(), config.filter_exclude.end());
    return PathFilter(exclude, config.filter_include);
}

// The regular file roar's own stderr writes to (`roar run cmd 2> log`), or "".
std::string stderr_file()
{
    std::error_code ec;
    const fs::path target = fs::read_symlink("/proc/self/fd/2", ec);
    if (ec || !fs::is_regular_file(target, ec)) {
        return "";
    }
    return target.string();
}

// A regular file that roar's stdout or stderr is, and so the job's too
// (`roar run cmd > out.log`: inherited from the user's shell), as it was
// before the job ran.
struct InheritedStdio {
    std::string path;
    FileIdentity before;
};

std::vector<InheritedStdio> inherited_stdio()
{
    std::vector<InheritedStdio> out;
    for (const char* link : {"/proc/self/fd/1", "/proc/self/fd/2"}) {
        std::error_code ec;
        const fs::path target = fs::read_symlink(link, ec);
        if (ec) {
            continue;
        }
        if (auto id = identify_file(target.string()); id && id->is_regular) {
            out.push_back({target.string(), *id});
        }
    }
    return out;
}

// An inherited stdout/stderr file stays an output of `job` only when the
// job changed it: the shim counts a stdio stream as written when libc has
// it in writing mode, which a program (python3) can be without writing a
// byte.
void drop_unwritten_stdio(JobRecord& job, const std::vector<InheritedStdio>& stdio)
{
    for (const auto& file : stdio) {
        const auto now = identify_file(file.path);
        if (now && *now == file.before) {
            std::erase_if(job.outputs, [&](const ArtifactUse& use) { return use.path == file.path; });
        }
    }
}

// Whether `path` is among what `job` recorded: appending the report to it
// would make its recorded digest false.
bool recorded_in(const JobRecord& job, const std::string& path)
{
    if (path.empty()) {
        return false;
    }
    for (const auto* uses : {&job.inputs, &job.outputs}) {
        if (std::any_of(uses->begin(), uses->end(), [&](const ArtifactUse& use) { return use.path == path; })) {
            return true;
        }
    }
    return false;
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
    opts.forward_checksums = project.config().proxy_forward_checksums;
    return opts;
}

// Entries of each list in the run report; past that, the first
// k_run_shown and the rest summarised by directory.
constexpr size_t k_run_listed = 10;
constexpr size_t k_run_shown = 5;

void print_report(const Project& project, const JobRecord& job, const std::string& step)
{
    const int fd = 2;
    const bool ok = job.exit_code == 0;
    std::string out;
    out += fmt::format("{} {}\n", paint(fd, k_bold, "roar:"), printable(job.command));
    out +=
        fmt::format("  {} in {} · job {}{}\n", paint(fd, ok ? k_green : k_red, fmt::format("exit {}", job.exit_code)),
                    human_duration(job.ended_at - job.started_at), job.uid, step.empty() ? "" : " (" + step + ")");
    const bool several_processes = std::any_of(job.processes.begin(), job.processes.end(),
                                               [&](const auto& p) { return p.pid != job.processes.front().pid; });
    auto list = [&](const char* label, const std::vector<ArtifactUse>& all_uses) {
        // A dataset is one entry ("data/train/  (dataset, 2,000 files,
        // 1.2 GiB)"), its files not listed again; datasets come first.
        std::vector<const ArtifactUse*> datasets, uses;
        for (const auto& use : all_uses) {
            (use.kind == "dataset" ? datasets : uses).push_back(&use);
        }
        std::vector<size_t> members(datasets.size(), 0);
        if (!datasets.empty()) {
            std::erase_if(uses, [&](const ArtifactUse* use) {
                for (size_t d = 0; d < datasets.size(); ++d) {
                    if ((use->kind == "file" || use->kind == "s3") && use->path.starts_with(datasets[d]->path)) {
                        ++members[d];
                        return true;
                    }
                }
                return false;
            });
            uses.insert(uses.begin(), datasets.begin(), datasets.end());
        }
        const size_t shown = uses.size() > k_run_listed ? k_run_shown : uses.size();
        for (size_t i = 0; i < shown; ++i) {
            const ArtifactUse& use = *uses[i];
            std::string digest;
            for (const char* alg : {"blake3", "etag"}) {
                if (auto it = use.hashes.find(alg); it != use.hashes.end()) {
                    digest = short_digest(alg, it->second);
                    break;
                }
            }
            // The process that made the call: always for S3, for files when
            // the job has more than one process.
            const std::string by = use.pid && (several_processes || use.kind == "s3")
                                       ? "  " + paint(fd, k_dim, process_label(job.processes, *use.pid))
                                       : "";
            out += fmt::format("  {:<4} {}", label, project.shown_path(use.path));
            if (i < datasets.size()) {
                out += fmt::format("  (dataset, {} files, {})  {}\n", human_count(members[i]), human_size(use.size),
                                   paint(fd, k_dim, digest));
                continue;
            }
            out += std::string_view(label) == "del"
                       ? by + "\n"
                       : fmt::format("  {}  {}{}\n", human_size(use.size), paint(fd, k_dim, digest), by);
        }
        if (shown == uses.size()) {
            return;
        }
        std::vector<ListedFile> rest;
        for (size_t i = shown; i < uses.size(); ++i) {
            rest.push_back({project.shown_path(uses[i]->path), uses[i]->size});
        }
        out += fmt::format("  {:<4} ... and {} more ('roar show {} --all' lists every one):\n", label,
                           human_count(rest.size()), job.uid);
        for (const auto& line : directory_groups(rest)) {
            out += fmt::format("         {}\n", line);
        }
    };
    list("in", job.inputs);
    list("out", job.outputs);
    list("del", job.deleted);
    if (job.inputs.empty() && job.outputs.empty()) {
        out += "  (no files read or written outside the filtered system paths)\n";
    }
    const auto gaps = unobserved_lines(job, [&](const std::string& path) { return project.shown_path(path); });
    if (!gaps.empty()) {
        out += fmt::format("  {} ('roar show {}' has the details):\n",
                           paint(fd, k_yellow, "roar could not observe all of this job"), job.uid);
        for (const auto& line : gaps) {
            out += fmt::format("    - {}\n", printable(line));
        }
    }
    std::cerr << out << std::flush;
}

// What running one job gave: its exit status, its stored row, and whether
// roar may write to its stderr afterwards.
struct RunOutcome {
    int exit_code = 0;
    std::optional<int64_t> row;
    bool report = false;
    int signal = 0; // the signal that killed the job, or 0
};

// Runs and records one job.
RunOutcome run_one(const Project& project, Store& store, const RunOptions& given,
                   const std::vector<std::string>& command, std::optional<int64_t> step, GitStateReader* started_git)
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
    const auto extra = parse_extra_digests(given.hash.empty() ? config.hash : given.hash);
    if (!extra) {
        throw FatalError(fmt::format("--hash: {}", extra.error().message));
    }
    const std::vector<InheritedStdio> stdio = inherited_stdio();
    JobSession session(options);
    RecordingOptions recording{fs::current_path().string(), recording_filter(project), project.redactor(), {}};
    if (config.capture_environment) {
        recording.environment.emplace();
        recording.environment->record_all_packages = config.record_all_packages;
    }
    recording.progress = !given.quiet && !given.json && collector::stderr_shows_progress();
    recording.started_git = started_git;
    JobRecord job = session.record(store, recording);
    drop_unwritten_stdio(job, stdio);
    add_extra_digests(job, *extra);
    const StoredJob stored = JobSession::store(store, job, step, project.recovery_places());
    for (const auto& note : stored.notes) {
        std::cerr << "roar: " << printable(note) << "\n";
    }
    if (stored.row && !given.step_name.empty()) {
        store.name_job_step(*stored.row, given.step_name);
    }
    // A report appended to a file the job wrote (`roar run cmd > log 2>&1`)
    // would change it after it was hashed: then only the record has it.
    const bool report = !given.quiet && !recorded_in(job, stderr_file());
    if (!stored.row) {
        if (report) {
            print_report(project, job, ""); // not stored (the note above says where it went): no step
        }
        return {job.exit_code, stored.row, report, job.signal.value_or(0)};
    }
    if (report) {
        // The report is made from the record in memory; of the stored job it
        // needs only the step (reading back every use of a job with 100,000
        // inputs took a tenth of `roar run`'s time after the job).
        const std::optional<int64_t> step_number = store.step_number_of_job(*stored.row);
        std::string step_ref = step_number ? fmt::format("@{}", *step_number) : "";
        if (!given.step_name.empty() && step_number) {
            step_ref = fmt::format("@{} = @{}", given.step_name, *step_number);
        }
        print_report(project, job, step_ref);
    }
    if (given.json) {
        const auto detail = store.job(*stored.row);
        if (!detail) {
            throw FatalError(fmt::format("job {} vanished from the database", job.uid));
        }
        std::cout << job_json(*detail).dump(2) << std::endl;
    }
    return {job.exit_code, stored.row, report, job.signal.value_or(0)};
}

} // namespace

void die_like_job(int signal)
{
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    // Dying of SIGSEGV or SIGABRT would leave a core file of roar's, whose
    // only fault is the job's: none (as sudo does).
    const struct rlimit no_core {
        0, 0
    };
    setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction dfl { };
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signal, &dfl, nullptr);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);
    raise(signal);
}

RunResult cmd_run(const RunOptions& given)
{
    // git's view of the directory (commit, branch, modified files) is taken
    // beside roar's own start; the job's session waits for it before the
    // job starts. A re-run elsewhere (`roar run @N`) asks git there itself.
    std::error_code cwd_error;
    const fs::path start_dir = fs::current_path(cwd_error);
    std::optional<GitStateReader> git;
    if (!cwd_error) {
        git.emplace(start_dir.string());
    }
    Project project = Project::find();
    // A broken or read-only database is reported before the job runs.
    Store store = project.open_store(Access::write);
    // `roar run @N [--name=value]`: each current job of step N, recorded
    // command and directory; else the command given.
    RerunPlan rerun = plan_rerun(store, given.command, given.quiet, disk_host(project.store_location()));
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
    RunResult status;
    std::optional<int64_t> last_row;
    bool report = !given.quiet;
    for (const RerunJob& planned : rerun.jobs) {
        if (!planned.cwd.empty()) {
            std::error_code ec;
            fs::current_path(planned.cwd, ec);
            if (ec) {
                throw FatalError(fmt::format("cannot re-run {} in its recorded directory {}: {}", rerun.label,
                                             planned.cwd, ec.message()));
            }
        }
        // git started for another directory (a re-run recorded elsewhere), or
        // already used, is collected now: the job's launcher must not reap
        // a git process as one of the job's.
        std::error_code here_error;
        if (git && (!git->pending() || git->dir() != fs::current_path(here_error).string())) {
            git.reset();
        }
        const RunOutcome ran = run_one(project, store, given, planned.command, rerun.step, git ? &*git : nullptr);
        if (status.exit_code == 0) {
            status = {ran.exit_code, ran.signal};
        }
        last_row = ran.row ? ran.row : last_row;
        report = report && ran.report;
    }
    if (report && last_row) {
        print_stale_downstream(store, *last_row, disk_host(project.store_location()));
    }
    return status;
}

} // namespace roar::cli

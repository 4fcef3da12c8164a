// `roar reproduce REF`: prints the plan to rebuild an artifact from its
// lineage (reproduce_plan.hpp), and with --run executes it: S3 external
// inputs HEADed as recorded (remote_check.hpp), a fresh checkout of the
// recorded commit (a detached git worktree, else a clone) with the recorded
// diff applied, external inputs copied in by digest, each job run under
// `roar run` in a store of the rebuild's own (DIR/.roar, so the original
// project's record is untouched), then every rebuilt output's BLAKE3
// compared with the recorded one. Outputs outside the repository are
// written in place, so --run refuses them unless --allow-outside-writes;
// paths in the recorded work tree are moved into the checkout wherever an
// argument names them, and a rebuilt job that still wrote there (a path a
// script names) or that roar did not record stops the rebuild.
#include "commands.hpp"

#include "child_process.hpp"
#include "project.hpp"
#include "remote_check.hpp"
#include "reproduce_plan.hpp"
#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/redact.hpp"
#include "roar/collector/store/step_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string_view>
#include <unistd.h>

namespace roar::cli {

namespace fs = std::filesystem;

namespace {

constexpr int k_refused = 2;

// The refusal `message` (exit 2); with --json the report says it too,
// with the members of `extra` (an object) added.
[[noreturn]] void refuse(const ReproduceOptions& options, const std::string& message,
                         const nlohmann::json& extra = nlohmann::json::object())
{
    if (options.json) {
        nlohmann::json report = {{"reproduced", false},
                                 {"refused", message},
                                 {"differences", nlohmann::json::array()},
                                 {"warnings", nlohmann::json::array()}};
        report.update(extra);
        std::cout << collector::bytes_json(report).dump(2) << std::endl;
    }
    throw FatalError(message, k_refused);
}

std::string short_digest(const std::string& digest) { return digest.empty() ? "(not hashed)" : digest.substr(0, 12); }

std::string job_label(const PlanJob& job)
{
    return job.step ? fmt::format("@{} ({})", *job.step, job.uid.substr(0, 8)) : job.uid.substr(0, 8);
}

// The BLAKE3 of the file at `path` now ("" when it cannot be read).
std::string current_blake3(const std::string& path)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return "";
    }
    const auto digest = collector::blake3_file(path);
    return digest ? digest->blake3 : "";
}

// `path` under the recorded root moved to `dir`; unchanged outside it.
std::string moved_path(const std::string& path, const std::string& root, const std::string& dir)
{
    const auto rel = relative_to(path, root);
    if (!rel) {
        return path;
    }
    return rel->empty() ? dir : dir + "/" + *rel;
}

bool is_remote(const std::string& path) { return path.rfind("s3://", 0) == 0; }

// HEADs (with the user's credentials, at the endpoint `status --remote`
// uses, `configured` being proxy.upstream_endpoint) every S3 external input
// of `plan`; results by input index. An S3 dataset (s3://b/prefix/) is not
// checked: a HEAD cannot see a changed listing, and its objects are
// inputs of their own.
std::map<size_t, RemoteResult> check_s3_inputs(const ReproducePlan& plan, const std::string& configured)
{
    std::map<size_t, RemoteResult> out;
    std::vector<size_t> asked;
    std::vector<RemoteObject> objects;
    for (size_t i = 0; i < plan.inputs.size(); ++i) {
        const PlanInput& in = plan.inputs[i];
        if (in.in_checkout || !is_remote(in.path)) {
            continue;
        }
        if (in.path.back() == '/') {
            out[i] = RemoteResult{RemoteState::not_checked,
                                  "an S3 dataset: a HEAD cannot see a changed listing (its objects are checked one "
                                  "by one)",
                                  {},
                                  std::nullopt};
            continue;
        }
        asked.push_back(i);
        objects.push_back({in.path, in.etag, in.size});
    }
    if (objects.empty()) {
        return out;
    }
    const auto env = proxy::process_env();
    auto results = check_remote(objects, {remote_endpoint(env, configured), proxy::resolve_credentials(env)});
    for (size_t k = 0; k < asked.size(); ++k) {
        out[asked[k]] = std::move(results[k]);
    }
    return out;
}

// The "remote" member of an input in the JSON plan.
nlohmann::json remote_json(const RemoteResult& r)
{
    return {{"state", r.state == RemoteState::not_checked ? "not_checked" : remote_state_name(r.state)},
            {"reason", r.reason},
            {"etag", r.etag},
            {"size", r.size ? nlohmann::json(*r.size) : nlohmann::json()}};
}

nlohmann::json plan_json(const ReproducePlan& plan, const EnvironmentDifferences& env_diffs,
                         const std::map<size_t, RemoteResult>& remote)
{
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& job : plan.jobs) {
        jobs.push_back({{"job_id", job.uid},
                        {"step", job.step ? nlohmann::json(*job.step) : nlohmann::json()},
                        {"argv", job.argv},
                        {"command", job.command},
                        {"cwd", job.cwd}});
    }
    nlohmann::json inputs = nlohmann::json::array();
    for (size_t i = 0; i < plan.inputs.size(); ++i) {
        const PlanInput& in = plan.inputs[i];
        nlohmann::json j = {{"path", in.path},
                            {"digest", in.digest},
                            {"from", in.in_checkout ? "checkout" : "external"},
                            {"seen_at", in.seen_at},
                            {"read_by", in.read_by}};
        if (is_remote(in.path)) {
            j["etag"] = in.etag;
            j["size"] = in.size ? nlohmann::json(*in.size) : nlohmann::json();
        }
        if (const auto r = remote.find(i); r != remote.end()) {
            j["remote"] = remote_json(r->second);
        }
        inputs.push_back(std::move(j));
    }
    nlohmann::json debian = nlohmann::json::array();
    for (const auto& d : env_diffs.debian) {
        debian.push_back({{"name", d.name},
                          {"architecture", d.architecture},
                          {"recorded", d.recorded},
                          {"here", d.here.empty() ? nlohmann::json() : nlohmann::json(d.here)}});
    }
    nlohmann::json outside = nlohmann::json::array();
    for (const auto& o : plan.outside_outputs) {
        outside.push_back({{"path", o.path}, {"job", o.job}});
    }
    nlohmann::json diff = nlohmann::json();
    if (plan.dirty && plan.diff.is_object()) {
        diff = {{"bytes", plan.diff.value("bytes", 0)}, {"recorded", plan.diff.contains("patch")}};
    }
    return {{"target", plan.target},
            {"git",
             {{"root", plan.root},
              {"commit", plan.commit},
              {"branch", plan.branch},
              {"dirty", plan.dirty},
              {"dirty_files", plan.dirty_files},
              {"diff", diff}}},
            {"environment_differences", env_diffs.lines},
            {"debian_package_differences", debian},
            {"inputs", inputs},
            {"outside_outputs", outside},
            {"jobs", jobs},
            {"problems", plan.problems}};
}

// How an S3 input stands now, for the plan's text: "present", "missing
// (HEAD answered 404)", ...
std::string remote_text(const RemoteResult& r)
{
    return r.reason.empty() ? remote_state_name(r.state) : fmt::format("{} ({})", remote_state_name(r.state), r.reason);
}

void print_plan(const ReproducePlan& plan, const EnvironmentDifferences& env_diffs,
                const std::map<size_t, RemoteResult>& remote)
{
    const int fd = 1;
    std::string out;
    out += fmt::format("{} {}: {} job{}\n", paint(fd, k_bold, "Plan to rebuild"), printable(plan.target),
                       plan.jobs.size(), plan.jobs.size() == 1 ? "" : "s");
    out += paint(fd, k_bold, "Git") + "\n";
    if (plan.commit.empty()) {
        out += "  no commit recorded\n";
    } else {
        out += fmt::format("  commit  {}{}\n", plan.commit, plan.branch.empty() ? "" : " (" + plan.branch + ")");
        if (!plan.root.empty()) {
            out += fmt::format("  repo    {}\n", printable(plan.root));
        }
        if (!plan.dirty) {
            out += "  tree    clean\n";
        } else {
            std::string state = "diff not recorded";
            if (plan.diff.contains("patch")) {
                state = fmt::format("recorded diff of {}, applied on --run",
                                    human_size(plan.diff.value("bytes", uint64_t(0))));
            } else if (plan.diff.is_object() && plan.diff.value("too_large", false)) {
                state = "diff larger than 4 MiB, not recorded";
            }
            out += fmt::format("  tree    dirty: {} ({})\n",
                               printable(fmt::format("{}", fmt::join(plan.dirty_files, ", "))), state);
            if (const auto p = plan.diff.find("patch"); p != plan.diff.end() && p->is_string()) {
                for (std::string_view rest = p->get_ref<const std::string&>(); !rest.empty();) {
                    const size_t nl = rest.find('\n');
                    out += "    " + printable(std::string(rest.substr(0, nl))) + "\n";
                    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
                }
            }
        }
    }
    out += paint(fd, k_bold, "Environment differences") + "\n";
    if (env_diffs.lines.empty()) {
        out += "  none (this machine has the recorded OS, interpreters and packages)\n";
    }
    for (const auto& d : env_diffs.lines) {
        out += "  " + printable(d) + "\n";
    }
    size_t external = 0;
    for (const auto& in : plan.inputs) {
        external += in.in_checkout ? 0 : 1;
    }
    out += fmt::format("{} ({})\n", paint(fd, k_bold, "External inputs"), external);
    for (size_t i = 0; i < plan.inputs.size(); ++i) {
        const PlanInput& in = plan.inputs[i];
        if (in.in_checkout) {
            continue;
        }
        std::string s3;
        if (is_remote(in.path)) {
            s3 = fmt::format("  etag {}  size {}", in.etag.empty() ? "(unknown)" : printable(in.etag),
                             in.size ? std::to_string(*in.size) : "(unknown)");
        }
        out += fmt::format("  {}  blake3 {}{}  last seen: {}\n", printable(in.path), short_digest(in.digest), s3,
                           printable(fmt::format("{}", fmt::join(in.seen_at, ", "))));
        if (const auto r = remote.find(i); r != remote.end()) {
            out += fmt::format("    now: {}\n", printable(remote_text(r->second)));
        }
    }
    out += fmt::format("{} ({})\n", paint(fd, k_bold, "From the checkout"), plan.inputs.size() - external);
    for (const auto& in : plan.inputs) {
        if (in.in_checkout) {
            out += fmt::format("  {}  blake3 {}\n", printable(in.path), short_digest(in.digest));
        }
    }
    if (!plan.outside_outputs.empty()) {
        out += fmt::format("{} ({}): --run writes them in place, so it refuses unless --allow-outside-writes\n",
                           paint(fd, k_bold, "Outputs outside the repository"), plan.outside_outputs.size());
        for (const auto& o : plan.outside_outputs) {
            out += fmt::format("  {}  (job {})\n", printable(o.path), o.job.substr(0, 8));
        }
    }
    out += fmt::format("{} (in dependency order)\n", paint(fd, k_bold, "Jobs"));
    for (size_t i = 0; i < plan.jobs.size(); ++i) {
        const auto& job = plan.jobs[i];
        out += fmt::format("  {}. {}  in {}\n     {}\n", i + 1, job_label(job), printable(job.cwd),
                           printable(collector::join_command(job.argv)));
    }
    for (const auto& p : plan.problems) {
        out += fmt::format("{} {}\n", paint(fd, k_yellow, "cannot run:"), printable(p));
    }
    std::cout << out;
}

// A fresh checkout of the plan's commit at `dir`: a detached worktree of
// the recorded repository, else a clone of it (or of its remote).
void check_out(const ReproduceOptions& options, const ReproducePlan& plan, const std::string& dir)
{
    const ChildResult worktree =
        run_child({"git", "-C", plan.root, "worktree", "add", "--detach", "--quiet", dir, plan.commit}, "", true);
    if (worktree.exit_code == 0) {
        return;
    }
    const std::string source = fs::exists(plan.root + "/.git") ? plan.root : plan.remote;
    if (source.empty()) {
        refuse(options, fmt::format("cannot check out {}: {}", plan.commit, worktree.out));
    }
    const ChildResult clone = run_child({"git", "clone", "--quiet", "--no-checkout", source, dir}, "", true);
    const ChildResult checkout =
        clone.exit_code == 0 ? run_child({"git", "-C", dir, "checkout", "--quiet", "--detach", plan.commit}, "", true)
                             : clone;
    if (checkout.exit_code != 0) {
        std::string why = checkout.out;
        while (!why.empty() && why.back() == '\n') {
            why.pop_back();
        }
        refuse(options, fmt::format("cannot check out commit {} from {}: {}", plan.commit, source, why));
    }
}

// Applies the recorded diff in `dir`, refusing when git cannot.
void apply_diff(const ReproduceOptions& options, const ReproducePlan& plan, const std::string& dir)
{
    const std::string patch_file = dir + "/.git-roar-reproduce.patch";
    {
        std::ofstream f(patch_file, std::ios::binary);
        f << plan.diff.value("patch", std::string());
        if (!f) {
            refuse(options, fmt::format("cannot write the recorded diff to {}", patch_file));
        }
    }
    const ChildResult r = run_child({"git", "-C", dir, "apply", "--whitespace=nowarn", patch_file}, "", true);
    std::error_code ec;
    fs::remove(patch_file, ec);
    if (r.exit_code != 0) {
        std::string why = r.out;
        while (!why.empty() && why.back() == '\n') {
            why.pop_back();
        }
        refuse(options, fmt::format("the recorded diff does not apply to {}: {}", plan.commit, printable(why)));
    }
}

// The directory to build in: --dir (new or empty), else a new one under TMPDIR.
std::string build_dir(const ReproduceOptions& options, const ReproducePlan& plan)
{
    std::error_code ec;
    if (!options.dir.empty()) {
        const fs::path dir = fs::absolute(options.dir, ec);
        if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
            refuse(options, fmt::format("--dir {} is not a directory: give a new or empty directory", options.dir));
        }
        if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
            refuse(options, fmt::format("--dir {} exists and is not empty: give a new directory", options.dir));
        }
        fs::remove(dir, ec); // git creates it
        return dir.lexically_normal().string();
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/roar-reproduce-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
        refuse(options, fmt::format("cannot create a directory under {}", pattern));
    }
    const std::string name = fs::path(plan.root).filename().string();
    return pattern + "/" + (name.empty() ? "tree" : name);
}

// The job `roar run` has just recorded in the rebuild's project at `dir`:
// the newest that ran in `cwd` and started at `since` (unix seconds) or
// later; nullopt when it recorded none. Throws FatalError when the
// rebuild's store cannot be read.
std::optional<collector::JobDetail> rebuilt_job(const std::string& dir, const std::string& cwd, double since)
{
    const Project rebuild = Project::find(dir);
    collector::Store store = rebuild.open_store(collector::Access::read);
    collector::JobFilter newest;
    newest.last = 8;
    const auto jobs = store.job_summaries(newest);
    for (auto it = jobs.rbegin(); it != jobs.rend() && it->started_at + 1 >= since; ++it) {
        if (auto detail = store.job(it->row); detail && detail->cwd == cwd) {
            return detail;
        }
    }
    return std::nullopt;
}

// The paths job `rebuilt` wrote or deleted in the recorded work tree
// `root` instead of in the checkout `dir`.
std::vector<std::string> original_tree_writes(const collector::JobDetail& rebuilt, const std::string& root,
                                              const std::string& dir)
{
    std::vector<std::string> out;
    for (const auto* uses : {&rebuilt.outputs, &rebuilt.deleted}) {
        for (const auto& use : *uses) {
            if (relative_to(use.path, root) && !relative_to(use.path, dir)
                && std::find(out.begin(), out.end(), use.path) == out.end()) {
                out.push_back(use.path);
            }
        }
    }
    return out;
}

// Why `roar run` failed, from the end of its stderr: its last "roar: "
// line, else the last line.
std::string failure_reason(const std::string& stderr_tail)
{
    std::string last, last_roar;
    for (std::string_view rest = stderr_tail; !rest.empty();) {
        const size_t nl = rest.find('\n');
        std::string line(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.pop_back();
        }
        if (line.rfind("roar: ", 0) == 0) {
            last_roar = line.substr(6);
        }
        if (!line.empty()) {
            last = line;
        }
    }
    return !last_roar.empty() ? last_roar : !last.empty() ? last : "it printed nothing";
}

double now_seconds()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Difference {
    std::string path, recorded, rebuilt, job;
};

// Refuses (naming each) when an S3 external input is missing or was
// modified since it was read; returns a warning for each that could not be
// checked (no credentials, 403, network): the rebuild then reads it as it
// is now.
std::vector<std::string> check_s3_before_run(const ReproduceOptions& options, const ReproducePlan& plan,
                                             const std::string& configured_endpoint)
{
    std::vector<std::string> warnings, unavailable;
    nlohmann::json details = nlohmann::json::array();
    for (const auto& [i, r] : check_s3_inputs(plan, configured_endpoint)) {
        const std::string& path = plan.inputs[i].path;
        if (r.state == RemoteState::not_checked) {
            warnings.push_back(
                fmt::format("S3 input {} was not checked ({}): the rebuild reads it as it is now", path, r.reason));
        } else if (r.state != RemoteState::present) {
            unavailable.push_back(fmt::format("{} is {} ({})", path, remote_state_name(r.state), r.reason));
            details.push_back({{"path", path}, {"state", remote_state_name(r.state)}, {"reason", r.reason}});
        }
    }
    for (const auto& w : warnings) {
        std::cerr << fmt::format("{} {}\n", paint(2, k_yellow, "roar: warning:"), printable(w));
    }
    if (!unavailable.empty()) {
        refuse(options,
               fmt::format("S3 input{} not available as recorded: {}; put {} back as recorded and try again",
                           unavailable.size() == 1 ? "" : "s", fmt::join(unavailable, "; "),
                           unavailable.size() == 1 ? "it" : "them"),
               {{"unavailable_inputs", details}, {"warnings", warnings}});
    }
    return warnings;
}

int run_plan(const ReproduceOptions& options, const ReproducePlan& plan, const Project& project)
{
    if (!plan.problems.empty()) {
        refuse(options, plan.problems.front());
    }
    if (plan.jobs.empty()) {
        refuse(options, "no recorded job to run");
    }
    if (!plan.outside_outputs.empty() && !options.allow_outside_writes) {
        std::vector<std::string> paths;
        for (const auto& o : plan.outside_outputs) {
            paths.push_back(o.path);
        }
        refuse(options, fmt::format("the jobs write outside the repository, where a rebuild would overwrite the files "
                                    "in place: {} (give --allow-outside-writes to rebuild them there and compare them)",
                                    fmt::join(paths, ", ")));
    }
    const std::vector<std::string> warnings = check_s3_before_run(options, plan, project.config().proxy_upstream);
    if (!options.json) {
        for (const auto& d : environment_differences(plan.jobs).lines) {
            std::cerr << fmt::format("{} this machine differs: {}\n", paint(2, k_yellow, "roar: note:"), printable(d));
        }
    }
    const std::string dir = build_dir(options, plan);
    const bool quiet = options.json;
    if (!quiet) {
        std::cerr << fmt::format("roar: checking out {} in {}\n", plan.commit.substr(0, 12), dir);
    }
    check_out(options, plan, dir);
    if (plan.dirty) {
        apply_diff(options, plan, dir);
    }
    for (size_t i = 0; i < plan.inputs.size(); ++i) {
        const PlanInput& in = plan.inputs[i];
        if (in.source.empty()) {
            continue; // in the checkout, or an S3 object
        }
        const std::string to = moved_path(in.path, plan.root, dir);
        if (to == in.source) {
            continue; // outside the repository: read where it is
        }
        std::error_code ec;
        fs::create_directories(fs::path(to).parent_path(), ec);
        // A copy, never a link: a job writing its input in place must not
        // change the original.
        if (!fs::copy_file(in.source, to, fs::copy_options::overwrite_existing, ec)) {
            refuse(options, fmt::format("cannot copy external input {} to {}: {}", in.source, to, ec.message()));
        }
    }

    // The rebuild's own store: never the original project's.
    unsetenv("ROAR_STORE_URL");
    // A roar.toml committed with store.url sends the rebuild's jobs to that
    // shared store; the password `roar init --store` kept in .roar/pgpass
    // is not in the checkout, so they read it where it is.
    if (std::error_code ec; fs::exists(project.pgpass_path(), ec) && std::getenv("PGPASSFILE") == nullptr) {
        setenv("PGPASSFILE", project.pgpass_path().c_str(), 1);
    }
    std::string self = fs::read_symlink("/proc/self/exe").string();
    if (const ChildResult init = run_child({self, "init", "-n"}, dir, true); init.exit_code != 0) {
        refuse(options, fmt::format("cannot make {} a roar project: {}", dir, init.out));
    }

    std::vector<Difference> differences;
    std::string first_divergent;
    size_t compared = 0;
    for (const auto& job : plan.jobs) {
        std::vector<std::string> argv = {self, "run", "-q", "--"};
        for (const auto& arg : job.argv) {
            argv.push_back(moved_argument(arg, plan.root, dir));
        }
        const std::string cwd = moved_path(job.cwd, plan.root, dir);
        if (!quiet) {
            std::cerr << fmt::format("roar: rebuilding {}: {}\n", job_label(job),
                                     printable(collector::join_command(job.argv)));
        }
        // The job's directory and those it wrote into existed before it
        // (made outside any recorded job, ignored by git): make them
        // again. (Outputs outside the repository got here only with
        // --allow-outside-writes.)
        if (std::error_code ec; !fs::is_directory(cwd, ec)) {
            fs::create_directories(cwd, ec);
        }
        for (const auto& out : job.outputs) {
            if (!is_remote(out.path)) {
                std::error_code ec;
                fs::create_directories(fs::path(moved_path(out.path, plan.root, dir)).parent_path(), ec);
            }
        }
        // A shell's $PWD is the checkout's directory, not the original's.
        setenv("PWD", cwd.c_str(), 1);
        const double since = now_seconds();
        const ChildResult r = run_child_keeping_stderr(argv, cwd, true);
        std::optional<collector::JobDetail> record;
        try {
            record = rebuilt_job(dir, cwd, since);
        } catch (const FatalError& e) {
            refuse(options,
                   fmt::format("{} was not rebuilt as recorded: roar run exited {} and the rebuild's record cannot be "
                               "read ({}); the rebuild stops here (in {})",
                               job_label(job), r.exit_code, e.what(), dir),
                   {{"directory", dir}});
        }
        if (!record) {
            // roar failed before (or while) running the job: a setup
            // failure, not a divergence.
            refuse(options,
                   fmt::format("{} was not rebuilt: roar run exited {} without recording a job ({}); the rebuild "
                               "stops here (in {})",
                               job_label(job), r.exit_code, failure_reason(r.out), dir),
                   {{"directory", dir}});
        }
        if (const auto strays = original_tree_writes(*record, plan.root, dir); !strays.empty()) {
            refuse(options,
                   fmt::format("the rebuild of {} wrote into the original work tree {}, not the checkout: {} (its "
                               "command or a program it ran names the recorded directory); the rebuild stops here",
                               job_label(job), plan.root, fmt::join(strays, ", ")),
                   {{"directory", dir}, {"original_tree_writes", strays}});
        }
        if (r.exit_code != job.exit_code && !quiet) {
            std::cerr << fmt::format("roar: {} exited {} (recorded {})\n", job_label(job), r.exit_code, job.exit_code);
        }
        bool diverged = false;
        for (const auto& out : job.outputs) {
            const auto b3 = out.hashes.find("blake3");
            if (is_remote(out.path) || b3 == out.hashes.end()) {
                continue;
            }
            ++compared;
            const std::string rebuilt = current_blake3(moved_path(out.path, plan.root, dir));
            if (rebuilt != b3->second) {
                differences.push_back({out.path, b3->second, rebuilt, job.uid});
                diverged = true;
            }
        }
        if (diverged && first_divergent.empty()) {
            first_divergent = job.uid;
        }
    }

    const bool reproduced = differences.empty();
    if (options.json) {
        nlohmann::json diffs = nlohmann::json::array();
        for (const auto& d : differences) {
            diffs.push_back({{"path", d.path}, {"recorded", d.recorded}, {"rebuilt", d.rebuilt}, {"job", d.job}});
        }
        nlohmann::json report = {
            {"reproduced", reproduced},
            {"differences", diffs},
            {"directory", dir},
            {"jobs", plan.jobs.size()},
            {"artifacts_compared", compared},
            {"warnings", warnings},
            {"first_divergent_job", first_divergent.empty() ? nlohmann::json() : nlohmann::json(first_divergent)}};
        std::cout << collector::bytes_json(report).dump(2) << std::endl;
    } else if (reproduced) {
        std::cout << fmt::format("reproduced bit-for-bit: {} artifact{} of {} job{} match the record (rebuilt in "
                                 "{})\n",
                                 compared, compared == 1 ? "" : "s", plan.jobs.size(), plan.jobs.size() == 1 ? "" : "s",
                                 printable(dir));
    } else {
        std::string out = fmt::format("not reproduced: {} of {} artifacts differ (rebuilt in {})\n", differences.size(),
                                      compared, printable(dir));
        for (const auto& job : plan.jobs) {
            if (job.uid == first_divergent) {
                out += fmt::format("first divergence: {}  {}\n", job_label(job),
                                   printable(collector::join_command(job.argv)));
            }
        }
        for (const auto& d : differences) {
            out += fmt::format("  {}  recorded {}  rebuilt {}  (job {})\n", printable(d.path), short_digest(d.recorded),
                               d.rebuilt.empty() ? "(missing)" : short_digest(d.rebuilt), d.job.substr(0, 8));
        }
        std::cout << out;
    }
    return reproduced ? 0 : 1;
}

} // namespace

int cmd_reproduce(const ReproduceOptions& options)
{
    Project project = Project::find();
    ReproducePlan plan;
    {
        collector::Store store = project.open_store(collector::Access::read);
        plan = make_reproduce_plan(store, project, options.ref);
    } // closed: the rebuild does not hold the original store open
    if (options.run) {
        return run_plan(options, plan, project);
    }
    const EnvironmentDifferences env_diffs = environment_differences(plan.jobs);
    const auto remote =
        options.remote ? check_s3_inputs(plan, project.config().proxy_upstream) : std::map<size_t, RemoteResult>{};
    if (options.json) {
        std::cout << collector::bytes_json(plan_json(plan, env_diffs, remote)).dump(2) << std::endl;
    } else {
        print_plan(plan, env_diffs, remote);
    }
    return 0;
}

} // namespace roar::cli

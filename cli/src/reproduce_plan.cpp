// Building `roar reproduce`'s plan (see reproduce_plan.hpp) from the
// store's upstream walk and job records, and comparing the recorded
// environment with this machine's (machine facts, Python interpreters, the
// distributions in their site directories and dpkg's installed packages).
#include "reproduce_plan.hpp"

#include "child_process.hpp"
#include "environment_diff.hpp"
#include "job_queries.hpp"

#include "roar/collector/environment/dpkg_owners.hpp"
#include "roar/collector/environment/facts_cache.hpp"
#include "roar/collector/environment/machine_facts.hpp"
#include "roar/collector/environment/python_version.hpp"
#include "roar/collector/redact.hpp"
#include "roar/collector/store/step_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <string_view>
#include <tuple>

namespace roar::cli {

namespace fs = std::filesystem;

namespace {

// The distributions installed in site directory `site`: normalized name
// -> version, from the NAME-VERSION.dist-info / .egg-info entries.
std::map<std::string, std::string> installed_in(const std::string& site)
{
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(site, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        for (const char* suffix : {".dist-info", ".egg-info"}) {
            const std::string s = suffix;
            if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
                name.resize(name.size() - s.size());
                const size_t dash = name.find('-');
                if (dash != std::string::npos) {
                    std::string version = name.substr(dash + 1);
                    if (const size_t py = version.find("-py"); py != std::string::npos) {
                        version.resize(py); // egg-info: NAME-VERSION-pyX.Y
                    }
                    out.emplace(normalized_distribution_name(name.substr(0, dash)), version);
                }
            }
        }
    }
    return out;
}

// The work tree's top directory of `cwd` per git ("" when not a work tree now).
std::string git_toplevel(const std::string& cwd)
{
    std::error_code ec;
    if (cwd.empty() || !fs::is_directory(cwd, ec)) {
        return "";
    }
    ChildResult r = run_child({"git", "-C", cwd, "rev-parse", "--show-toplevel"}, "", true);
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) {
        r.out.pop_back();
    }
    return r.exit_code == 0 ? r.out : "";
}

// The files tracked at `commit` in the repository at `root` (relative
// paths); empty when git cannot say.
std::set<std::string> tracked_at(const std::string& root, const std::string& commit)
{
    std::set<std::string> out;
    const ChildResult r = run_child({"git", "-C", root, "ls-tree", "-r", "-z", "--name-only", commit}, "", true);
    if (r.exit_code != 0) {
        return out;
    }
    size_t pos = 0;
    while (pos < r.out.size()) {
        size_t end = r.out.find('\0', pos);
        if (end == std::string::npos) {
            end = r.out.size();
        }
        out.insert(r.out.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

// The jobs upstream of artifact `id`, added to `uids` (in visiting order)
// with, for each root input, who read it.
void add_upstream(collector::Store& store, int64_t id, std::vector<std::string>& uids,
                  std::map<std::pair<std::string, int64_t>, PlanInput>& roots)
{
    const collector::Upstream up = store.upstream(id);
    for (const auto& job : up.jobs) {
        if (std::find(uids.begin(), uids.end(), job.uid) == uids.end()) {
            uids.push_back(job.uid);
        }
        for (const auto& in : job.inputs) {
            if (in.producer) {
                continue;
            }
            PlanInput& root = roots[{in.path, in.artifact}];
            root.path = in.path;
            root.digest = in.digest;
            root.artifact = in.artifact;
            if (std::find(root.read_by.begin(), root.read_by.end(), job.uid) == root.read_by.end()) {
                root.read_by.push_back(job.uid);
            }
        }
    }
}

// Fills the plan's git facts from its jobs and notes what would stop --run.
void decide_git(ReproducePlan& plan)
{
    std::set<std::string> commits, diffs;
    for (const auto& job : plan.jobs) {
        if (!job.git || job.git->commit.empty()) {
            plan.problems.push_back(fmt::format("job {} ran outside a git work tree (or before its first commit): "
                                                "there is no commit to check out",
                                                job.uid.substr(0, 8)));
            continue;
        }
        commits.insert(job.git->commit);
        const nlohmann::json diff =
            job.git_record.is_object() ? job.git_record.value("diff", nlohmann::json()) : nlohmann::json();
        if (job.git->dirty) {
            diffs.insert(diff.dump());
        }
        if (plan.commit.empty()) {
            plan.commit = job.git->commit;
            plan.branch = job.git->branch;
            plan.remote = job.git->remote;
        }
        if (job.git->dirty) {
            plan.dirty = true;
            plan.diff = diff;
            for (const auto& f : job.git->dirty_files) {
                if (std::find(plan.dirty_files.begin(), plan.dirty_files.end(), f) == plan.dirty_files.end()) {
                    plan.dirty_files.push_back(f);
                }
            }
        }
        if (plan.root.empty() && job.git_record.is_object()) {
            plan.root = json_text(job.git_record, "root");
        }
    }
    if (commits.size() > 1) {
        plan.problems.push_back(fmt::format("the jobs ran at {} different commits ({}): reproduce rebuilds from one "
                                            "checkout; re-run the pipeline at one commit first",
                                            commits.size(), fmt::join(commits, ", ")));
    } else if (diffs.size() > 1) {
        plan.problems.push_back("the jobs ran with different uncommitted changes: reproduce rebuilds from one "
                                "checkout; commit the changes and re-run the pipeline first");
    }
    if (plan.dirty) {
        if (plan.diff.is_null()) {
            plan.problems.push_back(fmt::format("the tree was dirty ({}) and its diff was not recorded (jobs recorded "
                                                "before roar kept diffs): commit the changes and re-run the pipeline",
                                                fmt::join(plan.dirty_files, ", ")));
        } else if (plan.diff.value("too_large", false)) {
            plan.problems.push_back(fmt::format("the tree was dirty and its diff ({} bytes) was larger than the 4 MiB "
                                                "roar records: commit the changes and re-run the pipeline",
                                                plan.diff.value("bytes", 0)));
        } else if (!plan.diff.contains("patch")) {
            plan.problems.push_back("the tree was dirty and git could not produce its diff when the job ran: commit "
                                    "the changes and re-run the pipeline");
        }
    }
    if (plan.root.empty() && !plan.jobs.empty()) {
        plan.root = git_toplevel(plan.jobs.front().cwd);
    }
    if (plan.root.empty() && !plan.commit.empty()) {
        plan.problems.push_back("the recorded work tree's directory is unknown and the jobs' directory is no longer "
                                "a git work tree: there is no repository to check the commit out from");
    }
}

} // namespace

std::optional<std::string> relative_to(const std::string& path, const std::string& root)
{
    if (root.empty()) {
        return std::nullopt;
    }
    if (path == root) {
        return std::string();
    }
    const std::string prefix = root.back() == '/' ? root : root + "/";
    if (path.rfind(prefix, 0) == 0) {
        return path.substr(prefix.size());
    }
    return std::nullopt;
}

namespace {

// Whether `c`, next to a recorded path in a command argument, ends it: a
// space, a quote or a shell or option separator. Anything else (letters,
// digits, '.', '-', a backslash, a glob) could continue a path.
bool ends_path(char c)
{
    static constexpr std::string_view k_ends = " \t\n\r'\"`;&|<>(),:=$}]";
    return k_ends.find(c) != std::string_view::npos;
}

std::string short_blake3(const std::string& digest) { return digest.substr(0, 12); }

} // namespace

std::string moved_argument(const std::string& arg, const std::string& root, const std::string& dir)
{
    std::string from = root;
    while (from.size() > 1 && from.back() == '/') {
        from.pop_back();
    }
    if (from.empty() || from == "/") {
        const auto rel = relative_to(arg, root);
        return !rel ? arg : rel->empty() ? dir : dir + "/" + *rel;
    }
    std::string out;
    size_t done = 0;
    for (size_t pos = arg.find(from); pos != std::string::npos; pos = arg.find(from, pos + 1)) {
        const size_t end = pos + from.size();
        const bool starts = pos == 0 || ends_path(arg[pos - 1]);
        const bool ends = end == arg.size() || arg[end] == '/' || ends_path(arg[end]);
        if (starts && ends && pos >= done) {
            out.append(arg, done, pos - done);
            out += dir;
            done = end;
        }
    }
    out.append(arg, done, std::string::npos);
    return out;
}

void locate_external_inputs(ReproducePlan& plan, const std::function<std::string(const std::string&)>& blake3_now)
{
    for (PlanInput& in : plan.inputs) {
        if (in.in_checkout || in.path.rfind("s3://", 0) == 0) {
            continue; // S3 objects are read where they are (--run HEADs them)
        }
        if (in.digest.empty()) {
            plan.problems.push_back(fmt::format("external input {} was not hashed when it was read: its content "
                                                "cannot be checked",
                                                in.path));
            continue;
        }
        // A location inside the work tree is copied into the checkout; one
        // outside it is read where the job reads it, so only the input's
        // own path will do.
        const bool movable = relative_to(in.path, plan.root).has_value();
        for (const auto& at : in.seen_at) {
            if (at.rfind("s3://", 0) != 0 && (movable || at == in.path) && blake3_now(at) == in.digest) {
                in.source = at;
                break;
            }
        }
        if (in.source.empty()) {
            plan.problems.push_back(fmt::format("external input {} (blake3 {}) is not available: no recorded "
                                                "location ({}) has that content now; put it back and try again",
                                                in.path, short_blake3(in.digest), fmt::join(in.seen_at, ", ")));
        }
    }
}

std::vector<size_t> dependency_order(const std::vector<double>& started_at, const std::vector<int64_t>& rows)
{
    std::vector<size_t> order(started_at.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return started_at[a] != started_at[b] ? started_at[a] < started_at[b] : rows[a] < rows[b];
    });
    return order;
}

ReproducePlan make_reproduce_plan(collector::Store& store, const Project& project, const std::string& text)
{
    ReproducePlan plan;
    plan.target = text;
    const auto snapshot = store.snapshot();
    const Ref ref = resolve_ref(store, project, text);
    std::vector<std::string> uids;
    std::map<std::pair<std::string, int64_t>, PlanInput> roots;
    if (ref.kind == Ref::Kind::artifact) {
        const auto artifact = store.artifact(ref.id);
        if (!artifact || artifact->produced_by.empty()) {
            throw FatalError(fmt::format("'{}' was not produced by a recorded job: there is nothing to rebuild "
                                         "('roar show {}' says where it came from)",
                                         text, text));
        }
        add_upstream(store, ref.id, uids, roots);
    } else {
        const auto job = store.job(ref.id);
        if (!job || job->outputs.empty()) {
            throw FatalError(fmt::format("job '{}' wrote nothing: there is nothing to rebuild", text));
        }
        for (const auto& out : job->outputs) {
            if (const auto id = store.artifact_at_path(out.path)) {
                add_upstream(store, *id, uids, roots);
            }
        }
        if (std::find(uids.begin(), uids.end(), job->uid) == uids.end()) {
            throw FatalError(fmt::format("job '{}''s outputs were rewritten by later jobs: name the artifact to "
                                         "rebuild instead",
                                         text));
        }
    }

    std::vector<PlanJob> jobs;
    for (const auto& uid : uids) {
        const auto matches = store.match_prefix(uid);
        auto detail = matches.jobs.empty() ? std::nullopt : store.job(matches.jobs.front());
        if (!detail) {
            continue;
        }
        PlanJob job;
        job.row = detail->row;
        job.uid = detail->uid;
        job.step = detail->step;
        job.argv = detail->argv;
        job.command = detail->command;
        job.cwd = detail->cwd;
        job.started_at = detail->started_at;
        job.exit_code = detail->exit_code;
        job.outputs = std::move(detail->outputs);
        job.git = detail->git;
        job.environment = detail->environment;
        if (job.environment.is_object()) {
            job.git_record = job.environment.value("git", nlohmann::json());
        }
        for (const auto& arg : job.argv) {
            if (arg.find(collector::k_redacted) != std::string::npos) {
                plan.problems.push_back(fmt::format("job {}'s recorded command had secrets redacted: {}",
                                                    job.uid.substr(0, 8), collector::join_command(job.argv)));
                break;
            }
        }
        jobs.push_back(std::move(job));
    }
    std::vector<double> starts;
    std::vector<int64_t> rows;
    for (const auto& job : jobs) {
        starts.push_back(job.started_at);
        rows.push_back(job.row);
    }
    for (size_t i : dependency_order(starts, rows)) {
        plan.jobs.push_back(std::move(jobs[i]));
    }
    decide_git(plan);

    // A job that ran in the clean tree is rebuilt with the later jobs'
    // diff applied: fine unless it read a file the diff changes.
    std::set<std::string> clean_jobs;
    for (const auto& job : plan.jobs) {
        if (job.git && !job.git->dirty) {
            clean_jobs.insert(job.uid);
        }
    }
    if (plan.dirty && !clean_jobs.empty()) {
        for (const auto& [key, input] : roots) {
            const auto rel = relative_to(input.path, plan.root);
            if (!rel || std::find(plan.dirty_files.begin(), plan.dirty_files.end(), *rel) == plan.dirty_files.end()) {
                continue;
            }
            for (const auto& uid : input.read_by) {
                if (clean_jobs.count(uid) > 0) {
                    plan.problems.push_back(fmt::format("job {} read {} before it was changed, later jobs after: "
                                                        "commit the change and re-run the pipeline first",
                                                        uid.substr(0, 8), *rel));
                }
            }
        }
    }
    std::set<std::string> tracked;
    if (!plan.root.empty() && !plan.commit.empty()) {
        tracked = tracked_at(plan.root, plan.commit);
    }
    for (auto& [key, input] : roots) {
        const auto rel = relative_to(input.path, plan.root);
        input.in_checkout =
            rel
            && (tracked.count(*rel) > 0
                || std::find(plan.dirty_files.begin(), plan.dirty_files.end(), *rel) != plan.dirty_files.end());
        if (input.artifact != 0) {
            if (const auto artifact = store.artifact(input.artifact)) {
                input.seen_at = artifact->paths;
                if (const auto etag = artifact->hashes.find("etag"); etag != artifact->hashes.end()) {
                    input.etag = etag->second;
                }
                input.size = artifact->size;
            }
        }
        if (std::find(input.seen_at.begin(), input.seen_at.end(), input.path) == input.seen_at.end()) {
            input.seen_at.insert(input.seen_at.begin(), input.path);
        }
        plan.inputs.push_back(std::move(input));
    }
    if (!plan.root.empty()) {
        for (const auto& job : plan.jobs) {
            if (!relative_to(job.cwd, plan.root)) {
                plan.problems.push_back(fmt::format("job {} ran in {}, outside the repository {}: it cannot be "
                                                    "rebuilt in a fresh checkout",
                                                    job.uid.substr(0, 8), job.cwd, plan.root));
            }
        }
    }
    // The same look-up --run makes, through the hash cache: a file
    // unchanged since it was last hashed is not read again.
    locate_external_inputs(plan, [&store](const std::string& path) {
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
            return std::string();
        }
        const auto digest = store.digest_file(path);
        return digest ? digest->blake3 : std::string();
    });
    for (const auto& job : plan.jobs) {
        for (const auto& out : job.outputs) {
            if (out.path.rfind("s3://", 0) != 0 && relative_to(out.path, plan.root)) {
                continue;
            }
            const auto same = [&](const PlanOutsideOutput& o) { return o.path == out.path; };
            if (auto it = std::find_if(plan.outside_outputs.begin(), plan.outside_outputs.end(), same);
                it != plan.outside_outputs.end()) {
                it->job = job.uid;
            } else {
                plan.outside_outputs.push_back({out.path, job.uid});
            }
        }
    }
    return plan;
}

std::vector<DebianDifference> debian_package_differences(const std::vector<PlanJob>& jobs,
                                                         const std::optional<std::vector<DebianPackage>>& installed)
{
    std::map<std::pair<std::string, std::string>, std::string> here; // (name, architecture) -> version
    if (installed) {
        for (const auto& p : *installed) {
            here.emplace(std::pair(p.name, p.architecture), p.version);
        }
    }
    std::map<std::tuple<std::string, std::string, std::string>, DebianDifference> found; // sorted, one per version
    for (const auto& job : jobs) {
        if (!job.environment.is_object()) {
            continue;
        }
        for (const auto& p : job.environment.value("system_packages", nlohmann::json::array())) {
            DebianDifference d{json_text(p, "name"), json_text(p, "architecture"), json_text(p, "version"), ""};
            if (d.name.empty()) {
                continue;
            }
            if (const auto it = here.find({d.name, d.architecture}); it != here.end()) {
                if (it->second == d.recorded) {
                    continue;
                }
                d.here = it->second;
            }
            found.try_emplace({d.name, d.architecture, d.recorded}, std::move(d));
        }
    }
    std::vector<DebianDifference> out;
    for (auto& [key, d] : found) {
        out.push_back(std::move(d));
    }
    return out;
}

std::string describe_debian_difference(const DebianDifference& d)
{
    const std::string name = d.architecture.empty() ? d.name : d.name + ":" + d.architecture;
    return d.here.empty() ? fmt::format("debian package {} {} is not installed here", name, d.recorded)
                          : fmt::format("debian package {}: {} here, recorded {}", name, d.here, d.recorded);
}

EnvironmentDifferences environment_differences(const std::vector<PlanJob>& jobs)
{
    EnvironmentDifferences result;
    std::vector<std::string>& out = result.lines;
    collector::FactsCache facts(collector::default_environment_cache_dir() / "facts.json");
    const collector::MachineFacts here = collector::read_machine_facts(collector::MachineSources{}, facts);
    std::set<std::string> said;
    auto add = [&](std::string line) {
        if (said.insert(line).second) {
            out.push_back(std::move(line));
        }
    };
    std::map<std::string, std::map<std::string, std::string>> sites; // site dir -> installed
    for (const auto& job : jobs) {
        const nlohmann::json& e = job.environment;
        if (!e.is_object()) {
            continue;
        }
        if (const auto m = e.find("machine"); m != e.end() && m->is_object()) {
            if (const std::string os = json_text(*m, "os"); !os.empty() && os != here.os) {
                add(fmt::format("os: recorded {}, here {}", os, here.os));
            }
            if (const std::string arch = json_text(*m, "arch"); !arch.empty() && arch != here.arch) {
                add(fmt::format("architecture: recorded {}, here {}", arch, here.arch));
            }
            std::vector<std::string> recorded_gpus, here_gpus;
            for (const auto& g : m->value("gpus", nlohmann::json::array())) {
                recorded_gpus.push_back(json_text(g, "name"));
            }
            for (const auto& g : here.gpus) {
                here_gpus.push_back(g.name);
            }
            if (recorded_gpus != here_gpus) {
                add(fmt::format("gpus: recorded {}, here {}",
                                recorded_gpus.empty() ? "none" : fmt::format("{}", fmt::join(recorded_gpus, ", ")),
                                here_gpus.empty() ? "none" : fmt::format("{}", fmt::join(here_gpus, ", "))));
            }
        }
        for (const auto& p : e.value("python", nlohmann::json::array())) {
            const std::string exe = json_text(p, "executable");
            std::string real = json_text(p, "real_executable");
            if (real.empty()) {
                real = exe;
            }
            std::error_code ec;
            if (!fs::exists(real, ec)) {
                add(fmt::format("python: {} (recorded {}) is not installed here", exe, json_text(p, "version")));
                continue;
            }
            const std::string version = json_text(p, "version");
            const auto found = collector::find_python_version(real, "", "", facts);
            if (!version.empty() && !found.version.empty() && found.version != version) {
                add(fmt::format("python: {} is {} here, recorded {}", exe, found.version, version));
            }
            std::vector<std::string> site_dirs;
            for (const auto& s : p.value("site_dirs", nlohmann::json::array())) {
                if (s.is_string()) {
                    site_dirs.push_back(s.get<std::string>());
                }
            }
            for (const auto& pkg : p.value("packages", nlohmann::json::array())) {
                const std::string name = json_text(pkg, "name");
                const std::string want = json_text(pkg, "version");
                std::string have;
                for (const auto& site : site_dirs) {
                    auto [it, fresh] = sites.try_emplace(site);
                    if (fresh) {
                        it->second = installed_in(site);
                    }
                    if (const auto d = it->second.find(normalized_distribution_name(name)); d != it->second.end()) {
                        have = d->second;
                        break;
                    }
                }
                if (have.empty()) {
                    add(fmt::format("python package {} {} is not installed for {}", name, want, exe));
                } else if (have != want) {
                    add(fmt::format("python package {}: {} here, recorded {}", name, have, want));
                }
            }
        }
    }

    // The recorder's own reader of dpkg's database (and its cached index).
    std::optional<std::vector<DebianPackage>> installed;
    auto dpkg = collector::DpkgOwners::open({"/var/lib/dpkg", collector::default_environment_cache_dir(), {}});
    if (dpkg) {
        installed.emplace();
        for (const auto& p : dpkg->packages()) {
            installed->push_back({std::string(p.name), std::string(p.version), std::string(p.architecture)});
        }
    }
    result.debian = debian_package_differences(jobs, installed);
    if (!dpkg && !result.debian.empty()) {
        add(fmt::format("debian packages: {} recorded, but this machine's cannot be read ({})", result.debian.size(),
                        dpkg.error().message));
    } else {
        for (const auto& d : result.debian) {
            add(describe_debian_difference(d));
        }
    }
    return result;
}

} // namespace roar::cli

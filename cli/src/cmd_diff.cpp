// `roar diff REF REF` / `roar diff @N`: what differs between two jobs
// (arguments, working directory, exit status, inputs and outputs with
// their digests and the programs that used them, environment variables,
// git state, and the environment records: machine, Python, packages).
// `@N` alone compares the step's last run with the one before it that wrote
// the same paths.
#include "commands.hpp"

#include "environment_diff.hpp"
#include "job_queries.hpp"
#include "lineage.hpp"
#include "list_summary.hpp"
#include "project.hpp"
#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <map>
#include <optional>

namespace roar::cli {

namespace {

// A use's identifying digest: blake3, else the first one recorded.
std::string use_digest(const collector::UseDetail& use)
{
    if (auto it = use.hashes.find("blake3"); it != use.hashes.end()) {
        return "blake3:" + it->second;
    }
    return use.hashes.empty() ? "" : use.hashes.begin()->first + ":" + use.hashes.begin()->second;
}

// Per pid of `job`, the programs it ran in exec order, by base name, as
// exec_chain() joins them ("sh>python3").
std::map<int64_t, std::string> pid_programs(const collector::JobDetail& job)
{
    std::map<int64_t, std::vector<std::string>> programs;
    for (const auto& p : job.processes) {
        const std::string& path = p.argv.empty() ? p.exe : p.argv.front();
        programs[p.pid].push_back(path.substr(path.rfind('/') + 1));
    }
    std::map<int64_t, std::string> chains;
    for (const auto& [pid, list] : programs) {
        chains[pid] = exec_chain(list);
    }
    return chains;
}

// The process `use` is attributed to in `job` ("python3 (pid 12)"), or ""
// when it has no pid.
std::string use_process(const collector::UseDetail& use, const std::map<int64_t, std::string>& programs)
{
    if (!use.pid) {
        return "";
    }
    const auto it = programs.find(*use.pid);
    return it == programs.end() ? fmt::format("pid {}", *use.pid) : fmt::format("{} (pid {})", it->second, *use.pid);
}

// Inputs (or, with `outputs`, outputs) added, removed and changed from job
// `a` to job `b`, how many are the same, and the paths whose
// process changed program (both jobs having a pid for it: pids alone
// differ from run to run).
nlohmann::json diff_uses(const collector::JobDetail& a, const collector::JobDetail& b, bool outputs,
                         const Project& project)
{
    const auto programs_a = pid_programs(a), programs_b = pid_programs(b);
    std::map<std::string, std::string> before, after;
    std::map<std::string, const collector::UseDetail*> use_before;
    for (const auto& u : outputs ? a.outputs : a.inputs) {
        before[u.path] = use_digest(u);
        use_before[u.path] = &u;
    }
    nlohmann::json process_changed = nlohmann::json::array();
    for (const auto& u : outputs ? b.outputs : b.inputs) {
        after[u.path] = use_digest(u);
        const auto was = use_before.find(u.path);
        if (was == use_before.end() || !was->second->pid || !u.pid) {
            continue;
        }
        const auto old_program = programs_a.find(*was->second->pid);
        const auto new_program = programs_b.find(*u.pid);
        if (old_program != programs_a.end() && new_program != programs_b.end()
            && old_program->second != new_program->second) {
            process_changed.push_back({{"path", project.display_path(u.path)},
                                       {"a", use_process(*was->second, programs_a)},
                                       {"b", use_process(u, programs_b)}});
        }
    }
    nlohmann::json added = nlohmann::json::array(), removed = nlohmann::json::array(),
                   changed = nlohmann::json::array();
    int64_t same = 0;
    for (const auto& [path, digest] : after) {
        auto it = before.find(path);
        if (it == before.end()) {
            added.push_back({{"path", project.display_path(path)}, {"digest", digest}});
        } else if (it->second != digest) {
            changed.push_back({{"path", project.display_path(path)}, {"a", it->second}, {"b", digest}});
        } else {
            ++same;
        }
    }
    for (const auto& [path, digest] : before) {
        if (!after.count(path)) {
            removed.push_back({{"path", project.display_path(path)}, {"digest", digest}});
        }
    }
    return {{"added", added},
            {"removed", removed},
            {"changed", changed},
            {"unchanged", same},
            {"process_changed", process_changed}};
}

// Keys of two JSON objects added, removed and changed from `a` to `b`.
nlohmann::json diff_objects(const nlohmann::json& a, const nlohmann::json& b)
{
    nlohmann::json added = nlohmann::json::object(), removed = nlohmann::json::object(),
                   changed = nlohmann::json::object();
    if (a.is_object() && b.is_object()) {
        for (const auto& [key, value] : b.items()) {
            if (!a.contains(key)) {
                added[key] = value;
            } else if (a[key] != value) {
                changed[key] = {a[key], value};
            }
        }
        for (const auto& [key, value] : a.items()) {
            if (!b.contains(key)) {
                removed[key] = value;
            }
        }
    } else if (a != b) {
        changed["(all)"] = {a, b};
    }
    return {{"added", added}, {"removed", removed}, {"changed", changed}};
}

nlohmann::json git_json(const std::optional<collector::GitDetail>& git)
{
    if (!git) {
        return nullptr;
    }
    return {{"commit", git->commit}, {"branch", git->branch}, {"remote", git->remote}, {"dirty", git->dirty}};
}

// The changes from `a`'s environment record to `b`'s; nullopt when either
// job has none (recorded before roar captured environments).
std::optional<std::vector<EnvironmentChange>> environment_changes(const collector::JobDetail& a,
                                                                  const collector::JobDetail& b)
{
    if (!a.environment.is_object() || !b.environment.is_object()) {
        return std::nullopt;
    }
    return compare_environment_records(a.environment, b.environment);
}

// The JSON of `changes` for jobs `a` and `b`: which job has a record
// ("recorded"), whether they were compared and the changes.
nlohmann::json environment_json(const std::optional<std::vector<EnvironmentChange>>& changes,
                                const collector::JobDetail& a, const collector::JobDetail& b)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : changes.value_or(std::vector<EnvironmentChange>{})) {
        list.push_back(environment_change_json(c));
    }
    return {{"recorded", {{"a", a.environment.is_object()}, {"b", b.environment.is_object()}}},
            {"compared", changes.has_value()},
            {"changes", list}};
}

// The text lines for `changes` between jobs `a` and `b`: one per change, or
// why the records were not compared; "" when they are equal.
std::string environment_text(const std::optional<std::vector<EnvironmentChange>>& changes,
                             const collector::JobDetail& a, const collector::JobDetail& b)
{
    if (!changes) {
        std::vector<std::string> missing;
        for (const auto* job : {&a, &b}) {
            if (!job->environment.is_object()) {
                missing.push_back(job->uid);
            }
        }
        return fmt::format("  environment not compared: job {} has no environment record (recorded before roar "
                           "captured environments, or with run.capture_environment = false)\n",
                           fmt::join(missing, " and job "));
    }
    std::string out;
    for (const auto& c : *changes) {
        out += fmt::format("    ~ {}\n", printable(describe_environment_change(c)));
    }
    return out.empty() ? out : "  environment\n" + out;
}

std::string step_text(const collector::JobDetail& job) { return job.step ? fmt::format(" (@{})", *job.step) : ""; }

} // namespace

int cmd_diff(const std::vector<std::string>& refs, bool json)
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();
    int64_t row_a = 0, row_b = 0;
    if (refs.size() == 1) {
        const std::string& ref = refs[0];
        if (ref.empty() || ref[0] != '@') {
            throw FatalError("give two jobs to compare ('roar diff REF REF') or one step ('roar diff @N')");
        }
        const Lineage g = Lineage::load(store);
        std::optional<int> index;
        const std::string name = ref.substr(1);
        if (valid_step_name(name)) {
            index = g.step_named(name);
        } else if (int64_t n = 0;
                   !name.empty() && name.size() < 12
                   && std::from_chars(name.data(), name.data() + name.size(), n).ptr == name.data() + name.size()) {
            index = g.step_index(n);
        } else {
            throw FatalError(fmt::format("'{}' is not a step reference (expected @N or @NAME)", ref));
        }
        if (!index) {
            throw FatalError(fmt::format("no step {} in this session ('roar dag' lists the steps)", ref));
        }
        const auto& runs = g.steps[size_t(*index)].executions;
        if (runs.size() < 2) {
            throw FatalError(fmt::format("step {} ran once: nothing to compare it with", ref));
        }
        // The latest run, and the run before it that wrote the same paths
        // (a named step's runs may write different files), else the one before.
        auto written = [&g](int x) {
            std::vector<uint32_t> paths;
            for (uint32_t u : g.executions[size_t(x)].outputs) {
                paths.push_back(g.uses[u].path);
            }
            std::sort(paths.begin(), paths.end());
            return paths;
        };
        const auto latest = written(runs.back());
        int previous = runs[runs.size() - 2];
        for (size_t k = runs.size() - 1; k-- > 0;) {
            if (written(runs[k]) == latest) {
                previous = runs[k];
                break;
            }
        }
        row_a = g.executions[size_t(previous)].job_row;
        row_b = g.executions[size_t(runs.back())].job_row;
    } else if (refs.size() == 2) {
        int64_t* rows[] = {&row_a, &row_b};
        for (size_t i = 0; i < 2; ++i) {
            const Ref r = resolve_ref(store, project, refs[i]);
            if (r.kind != Ref::Kind::job) {
                throw FatalError(fmt::format("'{}' is an artifact, not a job: 'roar diff' compares jobs", refs[i]));
            }
            *rows[i] = r.id;
        }
    } else {
        throw FatalError("give two jobs to compare ('roar diff REF REF') or one step ('roar diff @N')");
    }
    const auto a = store.job(row_a);
    const auto b = store.job(row_b);
    if (!a || !b) {
        throw FatalError("a job to compare vanished from the database");
    }

    nlohmann::json doc;
    doc["a"] = {{"job_uid", a->uid}, {"step", a->step ? nlohmann::json(*a->step) : nlohmann::json(nullptr)}};
    doc["b"] = {{"job_uid", b->uid}, {"step", b->step ? nlohmann::json(*b->step) : nlohmann::json(nullptr)}};
    doc["argv"] = {{"a", a->argv}, {"b", b->argv}, {"same", a->argv == b->argv}};
    doc["cwd"] = {{"a", a->cwd}, {"b", b->cwd}, {"same", a->cwd == b->cwd}};
    doc["exit_code"] = {{"a", a->exit_code}, {"b", b->exit_code}, {"same", a->exit_code == b->exit_code}};
    doc["inputs"] = diff_uses(*a, *b, false, project);
    doc["outputs"] = diff_uses(*a, *b, true, project);
    doc["env"] = diff_objects(a->env, b->env);
    doc["git"] = diff_objects(git_json(a->git), git_json(b->git));
    const auto env_changes = environment_changes(*a, *b);
    doc["environment"] = environment_json(env_changes, *a, *b);
    if (json) {
        std::cout << collector::bytes_json(doc).dump(2) << std::endl; // arguments, paths and values are bytes
        return 0;
    }
    const nlohmann::json shown = printable(doc); // recorded text, escaped for a terminal

    const int fd = 1;
    std::string out = fmt::format("{} job {}{} → job {}{}\n", paint(fd, k_bold, "roar diff:"), a->uid, step_text(*a),
                                  b->uid, step_text(*b));
    if (a->argv != b->argv) {
        out += fmt::format("  command  - {}\n           + {}\n", printable(a->command), printable(b->command));
    } else {
        out += fmt::format("  command  same: {}\n", printable(a->command));
    }
    if (a->cwd != b->cwd) {
        out += fmt::format("  cwd      {} → {}\n", printable(a->cwd), printable(b->cwd));
    }
    if (a->exit_code != b->exit_code) {
        out += fmt::format("  exit     {} → {}\n", a->exit_code, b->exit_code);
    }
    for (const char* side : {"inputs", "outputs"}) {
        const auto& d = shown[side];
        out += fmt::format("  {:<8} {} changed, {} added, {} removed, {} the same\n", side, d["changed"].size(),
                           d["added"].size(), d["removed"].size(), d["unchanged"].get<int64_t>());
        for (const auto& c : d["changed"]) {
            out += fmt::format("    ~ {}  {} → {}\n", c["path"].get<std::string>(), c["a"].get<std::string>(),
                               c["b"].get<std::string>());
        }
        for (const auto& c : d["added"]) {
            out += fmt::format("    + {}  {}\n", c["path"].get<std::string>(), c["digest"].get<std::string>());
        }
        for (const auto& c : d["removed"]) {
            out += fmt::format("    - {}  {}\n", c["path"].get<std::string>(), c["digest"].get<std::string>());
        }
        for (const auto& c : d["process_changed"]) {
            out += fmt::format("    p {}  {} by {} → {}\n", c["path"].get<std::string>(),
                               std::string_view(side) == "inputs" ? "read" : "written", c["a"].get<std::string>(),
                               c["b"].get<std::string>());
        }
    }
    for (const char* part : {"env", "git"}) {
        const auto& d = shown[part];
        if (d["added"].empty() && d["removed"].empty() && d["changed"].empty()) {
            continue;
        }
        out += fmt::format("  {}\n", part);
        // Strings quoted as they are (printable() escaped them already), not JSON-escaped again.
        const auto value = [](const nlohmann::json& v) {
            return v.is_string() ? "\"" + v.get<std::string>() + "\"" : v.dump();
        };
        for (const auto& [k, v] : d["changed"].items()) {
            out += fmt::format("    ~ {}: {} → {}\n", k, value(v[0]), value(v[1]));
        }
        for (const auto& [k, v] : d["added"].items()) {
            out += fmt::format("    + {}: {}\n", k, value(v));
        }
        for (const auto& [k, v] : d["removed"].items()) {
            out += fmt::format("    - {}: {}\n", k, value(v));
        }
    }
    out += environment_text(env_changes, *a, *b);
    std::cout << out;
    return 0;
}

} // namespace roar::cli

// `roar show REF` and `roar log`: a job's full record or an artifact's
// history, as text for people or JSON for programs.
#include "commands.hpp"

#include "job_queries.hpp"
#include "lineage.hpp"
#include "list_summary.hpp"
#include "numbers.hpp"
#include "project.hpp"
#include "text_style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <iostream>
#include <map>
#include <set>

namespace roar::cli {

namespace {

std::optional<uint64_t> size_of(const nlohmann::json& j)
{
    return j.is_number() ? std::optional<uint64_t>(j.get<uint64_t>()) : std::nullopt;
}

std::string digest_text(const nlohmann::json& hashes)
{
    for (const char* alg : {"blake3", "etag"}) {
        if (hashes.contains(alg)) {
            return short_digest(alg, hashes[alg].get<std::string>());
        }
    }
    return "";
}

// Entries a list shows before "... and N more" unless --all is given.
constexpr size_t k_listed = 50;
// The same for each process's reads, writes and deletes under "By process".
constexpr size_t k_per_process = 5;

// The line after a list cut at `shown` of `total` entries, or "".
std::string more_line(size_t shown, size_t total, const char* indent = "  ")
{
    if (shown >= total) {
        return "";
    }
    return fmt::format("{}... and {} more ('--all' lists every one; '--json' has them all)\n", indent,
                       human_count(total - shown));
}

// The files of `items` (JSON uses) past the first `shown`, by directory,
// one indented line each.
std::string rest_by_directory(const Project& project, const nlohmann::json& items, size_t shown)
{
    std::vector<ListedFile> rest;
    for (size_t i = shown; i < items.size(); ++i) {
        rest.push_back({project.shown_path(items[i]["path"].get<std::string>()), size_of(items[i]["size"])});
    }
    std::string out;
    for (const auto& line : directory_groups(rest)) {
        out += fmt::format("      {}\n", line);
    }
    return out;
}

std::string step_text(const nlohmann::json& step)
{
    return step.is_null() ? "-" : fmt::format("@{}", step.get<int64_t>());
}

// Per pid of the job's processes (`procs`, JSON), what the text view names
// it by: its last image's command line, the program by its base name, cut
// short. A pid has several records when it ran exec, and the last image is
// the one that made the calls (a shell's fork that execs the S3 client).
std::map<int64_t, std::string> process_names(const nlohmann::json& procs)
{
    constexpr size_t k_name_chars = 40;
    std::map<int64_t, std::string> names;
    for (const auto& p : procs) {
        std::string name;
        for (const auto& a : p["argv"]) {
            const auto arg = a.get<std::string>();
            name += name.empty() ? arg.substr(arg.rfind('/') + 1) : " " + arg;
        }
        if (name.empty()) {
            const auto exe = p["exe"].get<std::string>();
            name = exe.substr(exe.rfind('/') + 1);
        }
        if (name.size() > k_name_chars) {
            name = name.substr(0, k_name_chars - 3) + "...";
        }
        names[p["pid"].get<int64_t>()] = std::move(name);
    }
    return names;
}

// Per pid of the job's processes (`procs`, JSON), the programs it ran in
// exec order, by base name, as exec_chain() joins them ("sh>python3").
std::map<int64_t, std::string> pid_programs(const nlohmann::json& procs)
{
    std::map<int64_t, std::vector<std::string>> programs;
    for (const auto& p : procs) {
        std::string path = p["argv"].empty() ? p["exe"].get<std::string>() : p["argv"][0].get<std::string>();
        programs[p["pid"].get<int64_t>()].push_back(path.substr(path.rfind('/') + 1));
    }
    std::map<int64_t, std::string> chains;
    for (const auto& [pid, list] : programs) {
        chains[pid] = exec_chain(list);
    }
    return chains;
}

// The "By process" section: for each pid that read, wrote or deleted
// something in job `j` (local files and S3 alike), what it did, each list
// cut at `limit` entries; "" when no entry has a pid.
std::string by_process_text(const Project& project, const nlohmann::json& j, size_t limit, int fd)
{
    constexpr std::pair<const char*, const char*> k_lists[] = {
        {"inputs", "read"}, {"outputs", "wrote"}, {"deleted", "deleted"}};
    // pid -> verb -> paths, pids ascending.
    // A file of a dataset the job read is named by its dataset, once per
    // process, as in the lists above.
    std::map<int64_t, std::map<std::string, std::vector<std::string>>> done;
    std::set<std::pair<int64_t, std::string>> datasets_named;
    for (const auto& [list, verb] : k_lists) {
        for (const auto& item : j[list]) {
            if (!item.contains("pid") || !item["pid"].is_number()) {
                continue;
            }
            const int64_t pid = item["pid"].get<int64_t>();
            if (item.contains("dataset") && item["dataset"].is_string()) {
                const std::string dataset = item["dataset"].get<std::string>();
                if (datasets_named.emplace(pid, dataset).second) {
                    done[pid][verb].push_back(project.shown_path(dataset) + "  (dataset)");
                }
                continue;
            }
            done[pid][verb].push_back(project.shown_path(item["path"].get<std::string>()));
        }
    }
    if (done.empty()) {
        return "";
    }
    const auto programs = pid_programs(j["processes"]);
    std::string out = fmt::format("{} ({} with inputs or outputs)\n", paint(fd, k_bold, "By process"), done.size());
    for (const auto& [pid, verbs] : done) {
        const auto name = programs.find(pid);
        out += fmt::format("  pid {}{}\n", pid,
                           name == programs.end() ? " (not in the process list)" : " " + name->second);
        for (const auto& [list, verb] : k_lists) {
            const auto paths = verbs.find(verb);
            if (paths == verbs.end()) {
                continue;
            }
            for (size_t i = 0; i < paths->second.size() && i < limit; ++i) {
                out += fmt::format("    {:<7} {}\n", verb, paths->second[i]);
            }
            out += more_line(std::min(limit, paths->second.size()), paths->second.size(), "    ");
        }
    }
    return out;
}

// `environment`: environment_summary() of the job's environment record.
void print_job(const Project& project, const nlohmann::json& j, bool all, const std::string& environment)
{
    const size_t limit = all ? SIZE_MAX : k_listed;
    const int fd = 1;
    std::string out;
    out += fmt::format("{} {}  (step {})\n", paint(fd, k_bold, "Job"), j["job_id"].get<std::string>(),
                       step_text(j["step"]));
    out += fmt::format("  command   {}\n", j["command"].get<std::string>());
    if (j["kind"] == collector::k_job_kind_proxy) {
        out += "  kind      proxy daemon (this process's S3 calls through 'roar proxy start')\n";
    }
    out += fmt::format("  cwd       {}\n", j["cwd"].get<std::string>());
    const int code = j["exit_code"].get<int>();
    out += fmt::format("  status    {}  (exit {})\n", paint(fd, code == 0 ? k_green : k_red, j["status"]), code);
    out += fmt::format("  started   {}\n", j["started_at"].get<std::string>());
    out += fmt::format("  ended     {}  (took {})\n", j["ended_at"].get<std::string>(),
                       human_duration(j["duration_s"].get<double>()));
    out += fmt::format("  session   {}\n", j["session"].get<int64_t>());
    out += fmt::format("  host      {} (user {}, roar {})\n", j["host"].get<std::string>(),
                       j["user"].get<std::string>(), j["roar_version"].get<std::string>());
    if (!j["git"].is_null()) {
        const auto& g = j["git"];
        out += fmt::format("  git       {} on {}{}\n", g["commit"].get<std::string>().substr(0, 12),
                           g["branch"].get<std::string>(),
                           g["dirty"].get<bool>() ? fmt::format(" (dirty: {} files)", g["dirty_files"].size()) : "");
        if (!g["remote"].get<std::string>().empty()) {
            out += fmt::format("  remote    {}\n", g["remote"].get<std::string>());
        }
        for (const auto& f : g["dirty_files"]) {
            out += fmt::format("            {} {}\n", paint(fd, k_yellow, "modified:"), f.get<std::string>());
        }
    } else {
        out += "  git       (not in a git work tree)\n";
    }
    if (!environment.empty()) {
        out += fmt::format("  platform  {}  {}\n", environment,
                           paint(fd, k_dim, fmt::format("('roar env {}' has it all)", j["job_id"].get<std::string>())));
    }
    // S3 objects name the process that made the call (a job's local files
    // can number millions: their pid is in the JSON only).
    const auto names = process_names(j["processes"]);
    auto caller = [&](const nlohmann::json& item) -> std::string {
        if (item.value("kind", "") != "s3" || !item.contains("pid") || !item["pid"].is_number()) {
            return "";
        }
        const int64_t pid = item["pid"].get<int64_t>();
        const auto name = names.find(pid);
        return "  " + paint(fd, k_dim, fmt::format("pid {}{}", pid, name == names.end() ? "" : " " + name->second));
    };
    auto list = [&](const char* title, const nlohmann::json& all_items) {
        // A dataset is one entry here; its files are in --json, each with
        // the dataset's path.
        const nlohmann::json* view = &all_items;
        nlohmann::json filtered = nlohmann::json::array();
        size_t in_datasets = 0;
        if (std::any_of(all_items.begin(), all_items.end(), [](const auto& i) { return i.contains("dataset"); })) {
            for (const auto& item : all_items) {
                if (item.contains("dataset")) {
                    ++in_datasets;
                } else {
                    filtered.push_back(item);
                }
            }
            view = &filtered;
        }
        const nlohmann::json& items = *view;
        out += fmt::format("{} ({}{})\n", paint(fd, k_bold, title), items.size(),
                           in_datasets ? fmt::format(", with {} files in datasets", human_count(in_datasets)) : "");
        size_t shown = 0;
        for (const auto& item : items) {
            if (shown++ == limit) {
                break;
            }
            const std::string what =
                item.value("kind", "") == "dataset"
                    ? fmt::format("(dataset, {} files, {})", human_count(item.value("files", uint64_t(0))),
                                  human_size(size_of(item["size"])))
                    : human_size(size_of(item["size"]));
            out += fmt::format("  {}  {}  {}{}\n", project.shown_path(item["path"].get<std::string>()), what,
                               paint(fd, k_dim, digest_text(item["hashes"])), caller(item));
            if (item.contains("notes")) {
                for (const auto& note : item["notes"]) {
                    out += fmt::format("      note: {}\n", note.get<std::string>());
                }
            }
        }
        out += more_line(std::min(limit, items.size()), items.size());
        if (limit < items.size()) {
            out += rest_by_directory(project, items, limit);
        }
    };
    list("Inputs", j["inputs"]);
    list("Outputs", j["outputs"]);
    if (!j["deleted"].empty()) {
        list("Deleted", j["deleted"]);
    }
    out += fmt::format("{} ({})\n", paint(fd, k_bold, "Processes"), j["processes"].size());
    // Depth from the parent chain, so the tree reads as a tree.
    std::vector<int> depth(j["processes"].size(), 0);
    for (size_t i = 0; i < j["processes"].size(); ++i) {
        const auto& p = j["processes"][i];
        if (p["parent"].is_number()) {
            const size_t parent = p["parent"].get<size_t>();
            if (parent < i) {
                depth[i] = depth[parent] + 1;
            }
        }
        std::string argv;
        for (const auto& a : p["argv"]) {
            if (!argv.empty()) {
                argv += ' ';
            }
            argv += a.get<std::string>();
        }
        if (argv.size() > 100) {
            argv = argv.substr(0, 97) + "...";
        }
        std::string exit_text = p["exit_code"].is_null() ? "" : fmt::format("exit {}", p["exit_code"].get<int>());
        if (p.contains("tracer") && p["tracer"].is_string() && p["tracer"] != "shim") {
            // Seen by roar's ptrace tracer rather than (only) the shim.
            exit_text += (exit_text.empty() ? "" : " · ") + p["tracer"].get<std::string>();
        }
        out += fmt::format("  {}{} {}  {}\n", std::string(size_t(depth[i]) * 2, ' '), p["pid"].get<int64_t>(),
                           argv.empty() ? p["exe"].get<std::string>() : argv, paint(fd, k_dim, exit_text));
        for (const auto& note : p["notes"]) {
            if (note != "replaced by exec") {
                out += fmt::format("  {}  {} {}\n", std::string(size_t(depth[i]) * 2, ' '),
                                   paint(fd, k_yellow, "note:"), note.get<std::string>());
            }
        }
    }
    out += by_process_text(project, j, all ? SIZE_MAX : k_per_process, fd);
    const auto& env = j["env"];
    out += fmt::format("{} ({}; secrets are redacted, see docs/redaction.md)\n", paint(fd, k_bold, "Environment"),
                       env.size());
    for (const auto& [name, value] : env.items()) {
        std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        if (text.size() > 120) {
            text = text.substr(0, 117) + "...";
        }
        out += fmt::format("  {}={}\n", name, text == "<redacted>" ? paint(fd, k_dim, text) : text);
    }
    if (!j["notes"].empty()) {
        out += fmt::format("{}\n", paint(fd, k_bold, "Notes"));
        for (const auto& note : j["notes"]) {
            out += fmt::format("  {}\n", note.get<std::string>());
        }
    }
    std::cout << out;
}

// The upstream lineage as a tree: each artifact under the job that read
// it, each job under the artifact it produced; repeats say "see above".
std::string lineage_text(const Project& project, const nlohmann::json& a, int fd)
{
    const auto& lin = a["lineage"];
    std::map<std::string, const nlohmann::json*> by_uid;
    for (const auto& j : lin["jobs"]) {
        by_uid[j["job_id"].get<std::string>()] = &j;
    }
    std::string out =
        fmt::format("{} ({} job{}, {} source{})\n", paint(fd, k_bold, "Lineage"), lin["jobs"].size(),
                    lin["jobs"].size() == 1 ? "" : "s", lin["roots"].size(), lin["roots"].size() == 1 ? "" : "s");
    std::set<std::string> shown;
    auto job_line = [&](const nlohmann::json& j) {
        return fmt::format("{} {}  {}", paint(fd, k_cyan, step_text(j["step"])),
                           display_command(j["command"].get<std::string>()),
                           paint(fd, k_dim, "job " + j["job_id"].get<std::string>()));
    };
    auto walk = [&](auto&& self, const std::string& uid, const std::string& prefix) -> void {
        const nlohmann::json& j = *by_uid.at(uid);
        const auto& ins = j["inputs"];
        for (size_t i = 0; i < ins.size(); ++i) {
            const auto& in = ins[i];
            const bool last = i + 1 == ins.size();
            const std::string digest = in["digest"].get<std::string>().substr(0, 12);
            out += prefix + (last ? "└── " : "├── ") + project.shown_path(in["path"].get<std::string>()) + "  "
                   + paint(fd, k_dim, digest);
            const std::string child = prefix + (last ? "    " : "│   ");
            if (in["producer_job"].is_null()) {
                out += "  " + paint(fd, k_dim, "(source)") + "\n";
                continue;
            }
            const std::string from = in["producer_job"].get<std::string>();
            out += "\n" + child + "← " + job_line(*by_uid.at(from));
            if (!shown.insert(from).second) {
                out += paint(fd, k_dim, "  (inputs shown above)") + "\n";
                continue;
            }
            out += "\n";
            self(self, from, child);
        }
    };
    const std::string top = project.shown_path(a["paths"].empty() ? "" : a["paths"][0].get<std::string>());
    if (lin["produced_by"].is_null()) {
        out += fmt::format("  {}  {}\n", top, paint(fd, k_dim, "(source: no recorded job produced it)"));
        return out;
    }
    const std::string uid = lin["produced_by"].get<std::string>();
    shown.insert(uid);
    out += fmt::format("  {}\n  ← {}\n", top, job_line(*by_uid.at(uid)));
    walk(walk, uid, "  ");
    return out;
}

// The jobs of the active session that produced files of the dataset at
// `path` (as the session's latest reader of the dataset read them), each
// with how many: [{job_id, step, command, files}], oldest first.
nlohmann::json dataset_producers(collector::Store& store, const std::string& path)
{
    const Lineage g = Lineage::load(store);
    std::map<int, uint64_t> files; // execution -> files it produced
    for (const auto& p : g.paths) {
        if (p.path != path || p.uses.empty()) {
            continue;
        }
        const Execution& reader = g.executions[size_t(g.uses[p.uses.back()].execution)];
        for (uint32_t u : reader.inputs) {
            const Use& use = g.uses[u];
            if (use.producer >= 0 && g.paths[use.path].path.starts_with(path)) {
                ++files[use.producer];
            }
        }
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [exec, n] : files) {
        const Execution& e = g.executions[size_t(exec)];
        out.push_back(
            {{"job_id", e.job_id}, {"step", g.steps[size_t(e.step)].number}, {"command", e.command}, {"files", n}});
    }
    return out;
}

void print_artifact(const Project& project, const nlohmann::json& a, bool all)
{
    const size_t limit = all ? SIZE_MAX : k_listed;
    const int fd = 1;
    std::string out;
    out += fmt::format("{} {}  ({}, {})\n", paint(fd, k_bold, "Artifact"), digest_text(a["hashes"]),
                       a["kind"].get<std::string>(), human_size(size_of(a["size"])));
    for (const auto& [alg, digest] : a["hashes"].items()) {
        out += fmt::format("  {:<8} {}\n", alg, digest.get<std::string>());
    }
    out += fmt::format("{}\n", paint(fd, k_bold, "Seen at"));
    for (size_t i = 0; i < a["paths"].size() && i < limit; ++i) {
        out += fmt::format("  {}\n", project.shown_path(a["paths"][i].get<std::string>()));
    }
    out += more_line(std::min(limit, a["paths"].size()), a["paths"].size());
    // Seen at several paths, one job may write or read it at more than one:
    // each line then says which.
    const bool several_paths = a["paths"].size() > 1;
    auto jobs = [&](const char* title, const nlohmann::json& list) {
        out += fmt::format("{} ({})\n", paint(fd, k_bold, title), list.size());
        for (size_t i = 0; i < list.size() && i < limit; ++i) {
            const auto& j = list[i];
            out += fmt::format("  {} {}  {}  {}{}{}\n", step_text(j["step"]), j["job_id"].get<std::string>(),
                               j["started_at"].get<std::string>(), display_command(j["command"].get<std::string>()),
                               several_paths && j["path"].is_string()
                                   ? "  " + project.shown_path(j["path"].get<std::string>())
                                   : std::string(),
                               j["pid"].is_number() ? paint(fd, k_dim, fmt::format("  pid {}", j["pid"].get<int64_t>()))
                                                    : std::string());
        }
        out += more_line(std::min(limit, list.size()), list.size());
    };
    jobs("Produced by", a["produced_by"]);
    jobs("Consumed by", a["consumed_by"]);
    if (a.contains("files_produced_by")) {
        const auto& list = a["files_produced_by"];
        out += fmt::format("{} ({})\n", paint(fd, k_bold, "Its files produced by"), list.size());
        for (const auto& j : list) {
            out +=
                fmt::format("  {} {}  {} files  {}\n", step_text(j["step"]), j["job_id"].get<std::string>(),
                            human_count(j["files"].get<uint64_t>()), display_command(j["command"].get<std::string>()));
        }
    }
    if (a.contains("lineage")) {
        out += lineage_text(project, a, fd);
    }
    std::cout << out;
}

} // namespace

int cmd_show(const std::string& text, bool json, bool lineage, bool all)
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();
    const Ref ref = resolve_ref(store, project, text);
    if (lineage && ref.kind == Ref::Kind::job) {
        throw FatalError(fmt::format("--lineage is for artifacts: '{}' is a job; give one of its outputs (a path or "
                                     "digest) instead",
                                     text));
    }
    nlohmann::json record;
    std::string environment;
    if (ref.kind == Ref::Kind::job) {
        const auto job = store.job(ref.id);
        if (!job) {
            throw FatalError(fmt::format("job {} vanished from the database", ref.id));
        }
        record = job_json(*job);
        environment = environment_summary(job->environment);
    } else {
        const auto artifact = store.artifact(ref.id);
        if (!artifact) {
            throw FatalError(fmt::format("artifact {} vanished from the database", ref.id));
        }
        record = artifact_json(*artifact);
        if (artifact->kind == "dataset" && !ref.path.empty()) {
            record["files_produced_by"] = dataset_producers(store, ref.path);
        }
    }
    if (lineage) {
        record["lineage"] = upstream_json(store.upstream(ref.id));
    }
    if (json) {
        std::cout << record.dump(2) << std::endl;
    } else if (ref.kind == Ref::Kind::job) {
        print_job(project, printable(record), all, environment);
    } else {
        print_artifact(project, printable(record), all);
    }
    return 0;
}

int cmd_log(const LogOptions& options)
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();
    collector::JobFilter filter;
    filter.failed_only = options.failed_only;
    if (!options.last.empty()) {
        const auto n = parse_number(options.last, 1, INT64_MAX, "-n (a number of jobs)");
        if (!n) {
            throw FatalError(n.error().message);
        }
        filter.last = *n;
    }
    const std::optional<int64_t> active = store.active_session();
    if (options.session == "current") {
        // Nothing ran in this project yet: no session, so nothing to list.
        filter.session = active.value_or(0);
    } else if (!options.session.empty()) {
        const auto parsed = parse_number(options.session, 1, INT64_MAX, "--session (a session number or 'current')");
        if (!parsed) {
            throw FatalError(parsed.error().message);
        }
        const int64_t n = *parsed;
        if (!store.session_exists(n)) {
            throw FatalError(fmt::format("no session {} in this project (sessions are numbered from 1; "
                                         "'roar reset' starts a new one)",
                                         n));
        }
        filter.session = n;
    }
    nlohmann::json jobs = job_summaries_json(store.job_summaries(filter));
    if (options.json) {
        std::cout << jobs.dump(2) << std::endl;
        return 0;
    }
    if (jobs.empty()) {
        std::cout << (filter.session || filter.failed_only
                          ? "No jobs match.\n"
                          : "No jobs recorded yet (run one with 'roar run CMD ...').\n");
        return 0;
    }
    jobs = printable(jobs); // the text view: control characters escaped
    // Step numbers start again at @1 in each session, so a listing that
    // spans sessions says where each one begins.
    const bool several = jobs.front()["session"] != jobs.back()["session"];
    // Jobs of a shared store may run on many machines: then each line says where.
    const bool hosts =
        std::any_of(jobs.begin(), jobs.end(), [&](const auto& j) { return j["host"] != jobs.front()["host"]; });
    nlohmann::json session_shown;
    for (const auto& j : jobs) {
        if (several && j["session"] != session_shown) {
            session_shown = j["session"];
            const bool current = session_shown.is_number() && active && session_shown.get<int64_t>() == *active;
            std::cout << paint(1, k_dim,
                               session_shown.is_null() ? std::string("-- jobs outside any session --")
                                                       : fmt::format("-- session {}{} --", session_shown.get<int64_t>(),
                                                                     current ? " (current)" : ""))
                      << "\n";
        }
        std::string started = j["started_at"].get<std::string>();
        started = started.substr(0, 19);
        started[10] = ' ';
        std::cout << fmt::format(
            "{:<5} {}  {}  {:>9}  {}  {}{}\n", step_text(j["step"]), j["job_id"].get<std::string>(), started,
            human_duration(j["duration_s"].get<double>()),
            paint(1, j["status"] == "ok" ? k_green : k_red, fmt::format("{:<6}", j["status"].get<std::string>())),
            hosts ? paint(1, k_dim, fmt::format("[{}] ", j["host"].get<std::string>())) : std::string(),
            (j["kind"] == collector::k_job_kind_proxy ? paint(1, k_dim, "[proxy daemon] ") : std::string())
                + display_command(j["command"].get<std::string>()));
    }
    return 0;
}

} // namespace roar::cli

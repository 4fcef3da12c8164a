// show and log's records (see job_queries.hpp): the store answers, this
// file turns the answers into the JSON shapes users and scripts read.
#include "job_queries.hpp"

#include "numbers.hpp"
#include "lineage.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/path_resolver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

namespace fs = std::filesystem;

namespace roar::cli {

namespace {

bool is_hex(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit((unsigned char)c); });
}

nlohmann::json nullable(const std::optional<int64_t>& value)
{
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// A dataset's files (or S3 objects) stay listed one by one (each has its own lineage):
// each dataset entry gets its number of files ("files"), each of those
// files the dataset's path ("dataset"). Datasets are few, so a pass each.
void mark_dataset_members(nlohmann::json& list)
{
    for (auto& d : list) {
        if (d["kind"] != "dataset") {
            continue;
        }
        const std::string prefix = d["path"].get<std::string>();
        uint64_t files = 0;
        for (auto& item : list) {
            if ((item["kind"] == "file" || item["kind"] == "s3")
                && item["path"].get<std::string>().starts_with(prefix)) {
                item["dataset"] = prefix;
                ++files;
            }
        }
        d["files"] = files;
    }
}

nlohmann::json uses_json(const std::vector<collector::UseDetail>& uses)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& use : uses) {
        nlohmann::json item = {{"path", use.path}, {"hashes", use.hashes}};
        item["size"] = nullable(use.size);
        // One artifact may live in both places: the path says which this is.
        // (A dataset, local or S3, is the only artifact whose path ends in '/'.)
        item["kind"] = use.path.ends_with('/') ? "dataset" : use.path.rfind("s3://", 0) == 0 ? "s3" : "file";
        if (!use.notes.empty()) {
            item["notes"] = use.notes;
        }
        item["pid"] = nullable(use.pid); // null: unknown, or recorded before attribution (schema 6)
        list.push_back(std::move(item));
    }
    mark_dataset_members(list);
    return list;
}

nlohmann::json jobs_touching_json(const std::vector<collector::ArtifactUseByJob>& jobs)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& j : jobs) {
        list.push_back({{"job_id", j.uid},
                        {"step", nullable(j.step)},
                        {"command", j.command},
                        {"started_at", iso_time(j.started_at)},
                        {"path", j.path},
                        {"exit_code", j.exit_code},
                        {"pid", nullable(j.pid)}});
    }
    return list;
}

double duration_of(double started, double ended) { return std::round((ended - started) * 1000.0) / 1000.0; }

} // namespace

std::string iso_time(double seconds)
{
    const auto whole = static_cast<time_t>(seconds);
    const int millis = static_cast<int>((seconds - double(whole)) * 1000.0);
    struct tm tm;
    gmtime_r(&whole, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03d}Z", buf, millis);
}

Ref resolve_ref(collector::Store& store, const Project& project, const std::string& text)
{
    if (text.empty()) {
        throw FatalError("empty reference: give @N, a job id, a path or a digest prefix");
    }
    if (text.front() == '@') {
        const std::string number = text.substr(1);
        int64_t n = 0;
        if (valid_step_name(number)) { // @NAME
            const auto named = store.step_number_named(number);
            if (!named) {
                throw FatalError(fmt::format("no step {} in this session ('roar dag' lists the steps)", text));
            }
            n = *named;
        } else if (number.empty() || !std::all_of(number.begin(), number.end(), ::isdigit)) {
            throw FatalError(fmt::format("'{}' is not a step reference (expected @N or @NAME, e.g. @2)", text));
        } else {
            const auto parsed = parse_number(number, 1, INT64_MAX, "step number");
            if (!parsed) {
                throw FatalError(parsed.error().message);
            }
            n = *parsed;
        }
        if (auto job = store.latest_job_of_step(n)) {
            return {Ref::Kind::job, job->row, ""};
        }
        throw FatalError(fmt::format("no step {} in this session ('roar log' lists the jobs)", text));
    }
    // A path: as given, relative to the current directory, with its ".."
    // applied as the kernel does, as the job's own paths were recorded
    // (`alias/../x` is `real/x` when alias -> real/sub).
    std::error_code ec;
    const std::string cwd = fs::current_path(ec).string();
    collector::PathResolver resolver;
    const std::string abs = resolver.resolve(cwd, text);
    const std::string path = text.rfind("s3://", 0) == 0 ? text : abs;
    if (auto artifact = store.artifact_at_path(path)) {
        return {Ref::Kind::artifact, *artifact, path};
    }
    // A recorded dataset, named with or without its trailing '/'.
    if (!path.ends_with('/') && path.rfind("s3://", 0) != 0) {
        if (auto artifact = store.artifact_at_path(path + "/")) {
            return {Ref::Kind::artifact, *artifact, path + "/"};
        }
    }
    // A path copied from a text view: its escapes ("a\xff") stand for the recorded bytes.
    if (const std::string raw = collector::unescaped_text(text); raw != text) {
        const std::string raw_path = raw.rfind("s3://", 0) == 0 ? raw : resolver.resolve(cwd, raw);
        if (auto artifact = store.artifact_at_path(raw_path)) {
            return {Ref::Kind::artifact, *artifact, raw_path};
        }
    }
    std::string key = text;
    if (auto colon = key.find(':'); colon != std::string::npos) {
        key = key.substr(colon + 1); // "blake3:abcd" -> "abcd"
    }
    if (is_hex(key)) {
        std::string lower = key;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        const collector::PrefixMatches matches = store.match_prefix(lower);
        if (matches.jobs.size() + matches.artifacts.size() > 1) {
            throw FatalError(fmt::format("'{}' is ambiguous: it matches more than one job or artifact; give more "
                                         "characters",
                                         text));
        }
        if (matches.jobs.size() == 1) {
            return {Ref::Kind::job, matches.jobs.front(), ""};
        }
        if (matches.artifacts.size() == 1) {
            return {Ref::Kind::artifact, matches.artifacts.front(), ""};
        }
    }
    if (fs::exists(abs, ec)) {
        throw FatalError(fmt::format("{} is not recorded in any job", project.display_path(abs)));
    }
    throw FatalError(fmt::format("no job, step, path or digest matches '{}' ('roar log' lists the jobs)", text));
}

std::string environment_summary(const nlohmann::json& environment)
{
    if (!environment.is_object()) {
        return "";
    }
    auto plural = [](size_t n, const char* one, const char* many) {
        return fmt::format("{} {}", n, n == 1 ? one : many);
    };
    std::vector<std::string> parts;
    const auto machine = environment.value("machine", nlohmann::json::object());
    if (const auto os = machine.value("os", ""); !os.empty()) {
        parts.push_back(os);
    }
    if (const auto gpus = machine.value("gpus", nlohmann::json::array()); !gpus.empty()) {
        parts.push_back(plural(gpus.size(), "GPU", "GPUs"));
    }
    for (const auto& p : environment.value("python", nlohmann::json::array())) {
        parts.push_back(
            fmt::format("Python {} ({})", p.value("version", "?"),
                        plural(p.value("packages", nlohmann::json::array()).size(), "package", "packages")));
    }
    parts.push_back(plural(environment.value("system_packages", nlohmann::json::array()).size(), "Debian package",
                           "Debian packages"));
    if (const auto git = environment.value("git", nlohmann::json::object()); git.contains("diff")) {
        parts.push_back("uncommitted changes");
    }
    std::string out;
    for (const auto& part : parts) {
        out += (out.empty() ? "" : " · ") + part;
    }
    return out;
}

nlohmann::json job_json(const collector::JobDetail& job)
{
    nlohmann::json j;
    j["job_id"] = job.uid;
    j["kind"] = job.kind;
    j["step"] = nullable(job.step);
    j["session"] = job.session;
    j["command"] = job.command;
    j["argv"] = job.argv;
    j["cwd"] = job.cwd;
    j["exit_code"] = job.exit_code;
    j["signal"] = nullable(job.signal);
    j["status"] = job.exit_code == 0 ? "ok" : (job.signal ? "killed" : "failed");
    j["started_at"] = iso_time(job.started_at);
    j["ended_at"] = iso_time(job.ended_at);
    j["duration_s"] = duration_of(job.started_at, job.ended_at);
    j["host"] = job.host;
    j["user"] = job.user;
    if (job.git) {
        j["git"] = {{"commit", job.git->commit},
                    {"branch", job.git->branch},
                    {"remote", job.git->remote},
                    {"dirty", job.git->dirty},
                    {"dirty_files", job.git->dirty_files}};
    } else {
        j["git"] = nullptr;
    }
    j["env"] = job.env;
    j["dropped_events"] = job.dropped_events;
    j["notes"] = job.notes;
    j["roar_version"] = job.roar_version;
    j["inputs"] = uses_json(job.inputs);
    j["outputs"] = uses_json(job.outputs);
    j["deleted"] = uses_json(job.deleted);
    nlohmann::json procs = nlohmann::json::array();
    for (const auto& p : job.processes) {
        procs.push_back({
            {"seq", p.seq},
            {"pid", p.pid},
            {"ppid", p.ppid},
            {"parent", nullable(p.parent)},
            {"exe", p.exe},
            {"argv", p.argv},
            {"cwd", p.cwd},
            {"exit_code", nullable(p.exit_code)},
            {"signal", nullable(p.signal)},
            {"observed", p.observed},
            {"tracer", p.tracer ? nlohmann::json(*p.tracer) : nlohmann::json(nullptr)},
            {"notes", p.notes},
        });
    }
    j["processes"] = procs;
    return collector::bytes_json(j);
}

nlohmann::json artifact_json(const collector::ArtifactDetail& a)
{
    nlohmann::json j;
    j["artifact_id"] = a.id;
    j["kind"] = a.kind;
    j["size"] = nullable(a.size);
    j["first_seen"] = iso_time(a.first_seen);
    j["hashes"] = a.hashes;
    j["paths"] = a.paths;
    j["produced_by"] = jobs_touching_json(a.produced_by);
    j["consumed_by"] = jobs_touching_json(a.consumed_by);
    return collector::bytes_json(j);
}

nlohmann::json upstream_json(const collector::Upstream& upstream)
{
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& job : upstream.jobs) {
        nlohmann::json inputs = nlohmann::json::array();
        for (const auto& in : job.inputs) {
            inputs.push_back({{"path", in.path},
                              {"digest", in.digest},
                              {"artifact_id", in.artifact},
                              {"producer_job", in.producer ? nlohmann::json(*in.producer) : nlohmann::json(nullptr)}});
        }
        jobs.push_back({{"job_id", job.uid},
                        {"step", nullable(job.step)},
                        {"command", job.command},
                        {"started_at", iso_time(job.started_at)},
                        {"exit_code", job.exit_code},
                        {"session", job.session},
                        {"inputs", inputs}});
    }
    nlohmann::json roots = nlohmann::json::array();
    for (const auto& root : upstream.roots) {
        roots.push_back({{"path", root.path}, {"digest", root.digest}, {"artifact_id", root.artifact}});
    }
    return collector::bytes_json(
        {{"produced_by", upstream.produced_by ? nlohmann::json(*upstream.produced_by) : nlohmann::json(nullptr)},
         {"jobs", jobs},
         {"roots", roots}});
}

nlohmann::json job_summaries_json(const std::vector<collector::JobSummary>& jobs)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : jobs) {
        list.push_back({
            {"job_id", s.uid},
            {"kind", s.kind},
            {"step", nullable(s.step)},
            {"command", s.command},
            {"exit_code", s.exit_code},
            {"status", s.exit_code == 0 && !s.killed ? "ok" : (s.killed ? "killed" : "failed")},
            {"started_at", iso_time(s.started_at)},
            {"duration_s", duration_of(s.started_at, s.ended_at)},
            {"session", nullable(s.session)},
            {"host", s.host},
        });
    }
    return collector::bytes_json(list);
}

} // namespace roar::cli

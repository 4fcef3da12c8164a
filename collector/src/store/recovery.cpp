// Recovery files (see recovery.hpp): written atomically (temp file, fsync,
// rename) with mode 0600, tried in each place in turn, and imported by
// uid so a job is never stored twice.
#include "roar/collector/store/recovery.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/file_hasher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

constexpr const char* k_format = "roar-recovery";
constexpr int k_format_version = 1;

nlohmann::json opt(const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json opt(const std::optional<uint64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json use_json(const ArtifactUse& use)
{
    nlohmann::json j = {
        {"path", use.path}, {"kind", use.kind}, {"size", opt(use.size)}, {"hashes", use.hashes}, {"notes", use.notes}};
    if (use.pid) {
        j["pid"] = *use.pid;
    }
    return j;
}

nlohmann::json process_json(const ProcessRecord& p)
{
    return {{"pid", p.pid},
            {"ppid", p.ppid},
            {"parent", p.parent},
            {"exe", p.exe},
            {"argv", p.argv},
            {"cwd", p.cwd},
            {"started_at", p.started_at},
            {"exit_code", opt(p.exit_code)},
            {"signal", opt(p.signal)},
            {"observed", p.observed},
            {"tracer", p.tracer},
            {"replaced_by_exec", p.replaced_by_exec},
            {"notes", p.notes}};
}

std::optional<int> opt_int(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? std::nullopt : std::optional<int>(it->get<int>());
}

ArtifactUse use_from(const nlohmann::json& j)
{
    ArtifactUse use;
    use.path = j.at("path").get<std::string>();
    use.kind = j.value("kind", "file");
    if (const auto it = j.find("size"); it != j.end() && !it->is_null()) {
        use.size = it->get<uint64_t>();
    }
    use.hashes = j.value("hashes", std::map<std::string, std::string>{});
    use.notes = j.value("notes", std::vector<std::string>{});
    if (const auto it = j.find("pid"); it != j.end() && it->is_number_unsigned()) {
        const auto pid = it->get<uint64_t>(); // a pid out of range is unknown, not wrapped
        if (pid > 0 && pid <= UINT32_MAX) {
            use.pid = uint32_t(pid);
        }
    }
    return use;
}

ProcessRecord process_from(const nlohmann::json& j)
{
    ProcessRecord p;
    p.pid = j.value("pid", 0u);
    p.ppid = j.value("ppid", 0u);
    p.parent = j.value("parent", -1);
    p.exe = j.value("exe", "");
    p.argv = j.value("argv", std::vector<std::string>{});
    p.cwd = j.value("cwd", "");
    p.started_at = j.value("started_at", 0.0);
    p.exit_code = opt_int(j, "exit_code");
    p.signal = opt_int(j, "signal");
    p.observed = j.value("observed", true);
    p.tracer = j.value("tracer", "");
    p.replaced_by_exec = j.value("replaced_by_exec", false);
    p.notes = j.value("notes", std::vector<std::string>{});
    return p;
}

std::string env_or(const char* name, const std::string& fallback)
{
    const char* value = std::getenv(name);
    return value && *value ? std::string(value) : fallback;
}

// Writes `text` to `dir`/`name` through a temp file; an error on failure.
Result<fs::path> write_file_in(const fs::path& dir, const std::string& name, const std::string& text)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return fail("{}: {}", dir.string(), ec.message());
    }
    ::chmod(dir.c_str(), 0700);
    const fs::path target = dir / name;
    const fs::path temp = dir / (name + ".tmp");
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail("{}: {}", temp.string(), std::strerror(errno));
    }
    size_t done = 0;
    int err = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            err = n < 0 ? errno : ENOSPC;
            break;
        }
        done += size_t(n);
    }
    if (err == 0 && ::fsync(fd) != 0) {
        err = errno;
    }
    if (::close(fd) != 0 && err == 0) {
        err = errno;
    }
    if (err == 0 && ::rename(temp.c_str(), target.c_str()) != 0) {
        err = errno;
    }
    if (err != 0) {
        ::unlink(temp.c_str());
        return fail("{}: {}", target.string(), std::strerror(err));
    }
    return target;
}

} // namespace

RecoveryPlaces recovery_places(const fs::path& roar_dir)
{
    std::error_code ec;
    const fs::path dir = fs::absolute(roar_dir, ec);
    // Named after the project, so a project finds only its own files.
    const std::string project = blake3_hex(dir.string()).substr(0, 16);
    RecoveryPlaces places;
    places.dirs.push_back(dir / "recovery");
    const std::string home = env_or("HOME", "");
    const std::string state = env_or("XDG_STATE_HOME", home.empty() ? std::string() : home + "/.local/state");
    if (!state.empty()) {
        places.dirs.push_back(fs::path(state) / "roar" / "recovery" / project);
    }
    places.dirs.push_back(fs::path(env_or("TMPDIR", "/tmp")) / fmt::format("roar-recovery-{}", ::getuid()) / project);
    return places;
}

nlohmann::json job_record_json(const JobRecord& job)
{
    nlohmann::json j;
    j["uid"] = job.uid;
    j["argv"] = job.argv;
    j["command"] = job.command;
    j["cwd"] = job.cwd;
    j["started_at"] = job.started_at;
    j["ended_at"] = job.ended_at;
    j["exit_code"] = job.exit_code;
    j["signal"] = opt(job.signal);
    for (const auto& [key, uses] :
         {std::pair{"inputs", &job.inputs}, std::pair{"outputs", &job.outputs}, std::pair{"deleted", &job.deleted}}) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& use : *uses) {
            list.push_back(use_json(use));
        }
        j[key] = std::move(list);
    }
    nlohmann::json procs = nlohmann::json::array();
    for (const auto& p : job.processes) {
        procs.push_back(process_json(p));
    }
    j["processes"] = std::move(procs);
    j["notes"] = job.notes;
    j["ring"] = {{"dropped", job.ring.dropped},
                 {"truncated", job.ring.truncated},
                 {"sync_timeouts", job.ring.sync_timeouts},
                 {"skipped", job.ring.skipped},
                 {"consumed", job.ring.consumed}};
    j["hostname"] = job.hostname;
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
    if (!job.environment.is_null()) {
        j["environment"] = job.environment;
    }
    return bytes_json(j); // paths, arguments and environment are bytes: keep them exactly
}

Result<JobRecord> job_record_from_json(const nlohmann::json& doc)
{
    try {
        const nlohmann::json j = bytes_from_json(doc);
        JobRecord job;
        job.uid = j.at("uid").get<std::string>();
        job.argv = j.at("argv").get<std::vector<std::string>>();
        job.command = j.at("command").get<std::string>();
        job.cwd = j.at("cwd").get<std::string>();
        job.started_at = j.at("started_at").get<double>();
        job.ended_at = j.at("ended_at").get<double>();
        job.exit_code = j.at("exit_code").get<int>();
        job.signal = opt_int(j, "signal");
        for (const auto& use : j.value("inputs", nlohmann::json::array())) {
            job.inputs.push_back(use_from(use));
        }
        for (const auto& use : j.value("outputs", nlohmann::json::array())) {
            job.outputs.push_back(use_from(use));
        }
        for (const auto& use : j.value("deleted", nlohmann::json::array())) {
            job.deleted.push_back(use_from(use));
        }
        for (const auto& p : j.value("processes", nlohmann::json::array())) {
            job.processes.push_back(process_from(p));
        }
        job.notes = j.value("notes", std::vector<std::string>{});
        const auto ring = j.value("ring", nlohmann::json::object());
        job.ring.dropped = ring.value("dropped", uint64_t(0));
        job.ring.truncated = ring.value("truncated", uint64_t(0));
        job.ring.sync_timeouts = ring.value("sync_timeouts", uint64_t(0));
        job.ring.skipped = ring.value("skipped", uint64_t(0));
        job.ring.consumed = ring.value("consumed", uint64_t(0));
        job.hostname = j.value("hostname", "");
        job.user = j.value("user", "");
        if (const auto git = j.find("git"); git != j.end() && git->is_object()) {
            job.git = GitState{git->value("commit", ""), git->value("branch", ""), git->value("remote", ""),
                               git->value("dirty", false), git->value("dirty_files", std::vector<std::string>{})};
        }
        job.env = j.value("env", nlohmann::json::object());
        if (const auto environment = j.find("environment"); environment != j.end() && environment->is_object()) {
            job.environment = *environment;
        }
        if (job.uid.empty() || job.argv.empty()) {
            return fail("the job record has no uid or command");
        }
        return job;
    } catch (const nlohmann::json::exception& e) {
        return fail("the job record is incomplete: {}", e.what());
    }
}

Result<fs::path> write_recovery_file(const RecoveryPlaces& places, const JobRecord& job, std::optional<int64_t> step,
                                     const std::string& reason)
{
    nlohmann::json doc = {{"format", k_format},
                          {"version", k_format_version},
                          {"reason", reason},
                          {"step", step ? nlohmann::json(*step) : nlohmann::json(nullptr)},
                          {"job", job_record_json(job)}};
    std::string text;
    try {
        text = doc.dump(1) + "\n";
    } catch (const nlohmann::json::exception& e) {
        return fail("the record cannot be written as JSON: {}", e.what());
    }
    std::vector<std::string> failures;
    for (const auto& dir : places.dirs) {
        auto written = write_file_in(dir, job.uid + ".json", text);
        if (written) {
            return written;
        }
        failures.push_back(written.error().message);
    }
    return fail("{}", fmt::join(failures, "; "));
}

Result<ImportedJob> import_recovery_file(Store& store, const fs::path& file, const Redactor& redactor)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return fail("cannot read {}: {}", file.string(), std::strerror(errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = nlohmann::json::parse(text.str(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != k_format || !doc.contains("job")) {
        return fail("{} is not a roar recovery file", file.string());
    }
    if (doc.value("version", 0) > k_format_version) {
        return fail("{} was written by a newer roar (recovery format {}); upgrade roar to import it", file.string(),
                    doc.value("version", 0));
    }
    auto job = job_record_from_json(doc["job"]);
    if (!job) {
        return fail("{}: {}", file.string(), job.error().message);
    }
    redactor.apply(*job);
    ImportedJob out{job->uid, std::nullopt};
    if (!store.has_job(job->uid)) {
        std::optional<int64_t> step;
        if (const auto it = doc.find("step"); it != doc.end() && it->is_number_integer()) {
            step = it->get<int64_t>();
        }
        auto stored = store.store_job(*job, step);
        if (!stored && step) {
            stored = store.store_job(*job); // the step is gone (a reset since): match it afresh
        }
        if (!stored) {
            return tl::unexpected(stored.error());
        }
        out.row = *stored;
    }
    std::error_code ec;
    fs::remove(file, ec);
    return out;
}

std::vector<std::string> import_pending_recovery_files(Store& store, const RecoveryPlaces& places,
                                                       const Redactor& redactor)
{
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    for (const auto& dir : places.dirs) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".json" && entry.is_regular_file(ec)) {
                files.emplace_back(entry.last_write_time(ec), entry.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> lines;
    for (const auto& [when, file] : files) {
        auto imported = import_recovery_file(store, file, redactor);
        if (!imported) {
            lines.push_back(
                fmt::format("could not import the saved record {} yet: {}", file.string(), imported.error().message));
        } else if (imported->row) {
            lines.push_back(fmt::format("stored job {} from {}, saved when it could not be stored earlier",
                                        imported->uid, file.string()));
        } else {
            lines.push_back(fmt::format("removed {}: job {} is recorded already", file.string(), imported->uid));
        }
    }
    return lines;
}

} // namespace roar::collector

// `roar env REF`: the environment a job ran in (the record environment
// capture made when it finished: machine, Python interpreters with the
// distributions they imported, Debian packages of the system files it
// used, and a dirty git tree's recorded diff), as text or as the record
// itself (--json). An artifact stands for
// the job that last wrote it.
#include "commands.hpp"
#include "environment_diff.hpp"

#include "job_queries.hpp"
#include "project.hpp"
#include "text_style.hpp"
#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <iostream>

namespace roar::cli {

namespace {

// The job `ref` names: itself, or for an artifact the job that last wrote it.
int64_t job_row_of(collector::Store& store, const Project& project, const std::string& text)
{
    const Ref ref = resolve_ref(store, project, text);
    if (ref.kind == Ref::Kind::job) {
        return ref.id;
    }
    const auto artifact = store.artifact(ref.id);
    if (!artifact || artifact->produced_by.empty()) {
        throw FatalError(fmt::format("'{}' is an artifact no recorded job wrote; give a job (@N or a job id)", text));
    }
    const Ref producer = resolve_ref(store, project, artifact->produced_by.back().uid);
    return producer.id;
}

void print_environment(const collector::JobDetail& job, const nlohmann::json& e)
{
    const int fd = 1;
    std::string out;
    out += fmt::format("{} {}{}  {}\n", paint(fd, k_bold, "Job"), job.uid,
                       job.step ? fmt::format(" (@{})", *job.step) : "", display_command(job.command));
    const auto& m = e.value("machine", nlohmann::json::object());
    out += paint(fd, k_bold, "Machine") + "\n";
    out += fmt::format("  os        {}\n", json_text(m, "os"));
    out += fmt::format("  kernel    {} ({})\n", json_text(m, "kernel"), json_text(m, "arch"));
    out += fmt::format("  cpu       {} x {}\n", json_text(m, "cpu"), m.value("cpu_count", 0));
    out += fmt::format("  memory    {}\n", human_size(m.value("memory_bytes", uint64_t(0))));
    const auto gpus = m.value("gpus", nlohmann::json::array());
    if (gpus.empty()) {
        out += "  gpus      none\n";
    }
    for (const auto& g : gpus) {
        std::string extra = fmt::format("driver {}", json_text(g, "driver_version"));
        if (!json_text(g, "cuda_version").empty()) {
            extra += fmt::format(", CUDA {}", json_text(g, "cuda_version"));
        }
        if (g.contains("memory_bytes")) {
            extra += fmt::format(", {}", human_size(g.value("memory_bytes", uint64_t(0))));
        }
        out += fmt::format("  gpu       {} ({})\n", json_text(g, "name"), extra);
    }

    const auto python = e.value("python", nlohmann::json::array());
    out += fmt::format("{} ({})\n", paint(fd, k_bold, "Python"), python.size());
    for (const auto& p : python) {
        const std::string kind = json_text(p, "kind");
        out += fmt::format("  {}  {}  {}{}\n", json_text(p, "executable"), json_text(p, "version"), kind,
                           kind == "system" ? "" : " " + json_text(p, "prefix"));
        const auto packages = p.value("packages", nlohmann::json::array());
        for (const auto& pkg : packages) {
            out += fmt::format("    {} {}\n", json_text(pkg, "name"), json_text(pkg, "version"));
        }
        if (packages.empty()) {
            out += "    (no installed distribution imported)\n";
        }
        if (const auto installed = p.find("installed_packages"); installed != p.end() && installed->is_array()) {
            out += fmt::format("    {} installed in all ('--json' lists them)\n", installed->size());
        }
    }

    const auto system = e.value("system_packages", nlohmann::json::array());
    out += fmt::format("{} ({})\n", paint(fd, k_bold, "Debian packages"), system.size());
    for (const auto& pkg : system) {
        out += fmt::format(
            "  {} {}  {}\n", json_text(pkg, "name"), json_text(pkg, "version"),
            paint(fd, k_dim, fmt::format("{} file{}", pkg.value("files", 0), pkg.value("files", 0) == 1 ? "" : "s")));
    }
    if (const auto& f = e.value("system_files", nlohmann::json::object()); f.value("total", 0) > 0) {
        out += fmt::format("{} {}: {} in Debian packages, {} in Python distributions, {} standard library, {} other\n",
                           paint(fd, k_bold, "System files"), f.value("total", 0), f.value("debian_packages", 0),
                           f.value("python_distributions", 0), f.value("python_stdlib", 0), f.value("other", 0));
        for (const auto& example : f.value("other_examples", nlohmann::json::array())) {
            out += fmt::format("  other: {}\n", example.is_string() ? example.get<std::string>() : "");
        }
    }
    if (const auto& git = e.value("git", nlohmann::json::object()); git.contains("diff")) {
        const auto& d = git["diff"];
        const std::string base = json_text(d, "base").substr(0, 12);
        const std::string size = human_size(d.value("bytes", uint64_t(0)));
        if (d.contains("patch")) {
            out += fmt::format("{} {} of uncommitted changes against {} (recorded: 'roar reproduce' applies them)\n",
                               paint(fd, k_bold, "Git diff"), size, base);
        } else {
            out += fmt::format("{} {} of uncommitted changes against {} (not recorded: {})\n",
                               paint(fd, k_bold, "Git diff"), size, base,
                               d.value("too_large", false) ? "larger than 4 MiB" : "git diff failed");
        }
    }
    for (const auto& note : e.value("notes", nlohmann::json::array())) {
        out += fmt::format("{} {}\n", paint(fd, k_yellow, "note:"), note.is_string() ? note.get<std::string>() : "");
    }
    std::cout << out;
}

} // namespace

int cmd_env(const std::string& text, bool json)
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();
    const int64_t row = job_row_of(store, project, text);
    const auto job = store.job(row);
    if (!job) {
        throw FatalError(fmt::format("job {} vanished from the database", row));
    }
    if (!job->environment.is_object()) {
        throw FatalError(fmt::format("job {} has no environment record (recorded before roar captured environments, "
                                     "or with run.capture_environment = false)",
                                     job->uid));
    }
    if (json) {
        nlohmann::json out = job->environment;
        out["job_id"] = job->uid;
        std::cout << collector::bytes_json(out).dump(2) << std::endl; // paths that are not UTF-8 stay exact
    } else {
        print_environment(*job, printable(job->environment)); // control characters and odd bytes escaped
    }
    return 0;
}

} // namespace roar::cli

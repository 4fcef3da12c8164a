// The gaps of one job's record, grouped for the run report (see run_report.hpp).
#include "run_report.hpp"

#include "list_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace roar::cli {

namespace {

// Entries named before "and N more" in one line.
constexpr size_t k_named = 4;

// `items` joined with ", ", cut after `k_named` with "and N more".
std::string named_list(const std::vector<std::string>& items)
{
    std::string out;
    for (size_t i = 0; i < items.size() && i < k_named; ++i) {
        out += (i == 0 ? "" : ", ") + items[i];
    }
    if (items.size() > k_named) {
        out += fmt::format(" and {} more", human_count(items.size() - k_named));
    }
    return out;
}

std::string program_of(const collector::ProcessRecord& p)
{
    const std::string& path = p.argv.empty() ? p.exe : p.argv.front();
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The tracker's per-process job note ("process 12 (prog) was not observed:
// why"): the grouped process lines say it instead.
bool is_process_note(const std::string& note)
{
    return note.rfind("process ", 0) == 0 && note.find(") was not observed: ") != std::string::npos;
}

// File notes that describe what the job did rather than a gap in the record.
bool is_gap_note(const std::string& note) { return note.rfind("read partially", 0) != 0; }

} // namespace

std::string process_label(const std::vector<collector::ProcessRecord>& processes, uint32_t pid)
{
    std::vector<std::string> programs;
    for (const auto& p : processes) {
        if (p.pid == pid) {
            programs.push_back(program_of(p));
        }
    }
    return programs.empty() ? fmt::format("pid {}", pid) : fmt::format("pid {} {}", pid, exec_chain(programs));
}

std::vector<std::string> unobserved_lines(const collector::JobRecord& job,
                                          const std::function<std::string(const std::string&)>& shown_path)
{
    std::vector<std::string> lines;
    // Processes, by reason; within a reason, by program, in order of appearance.
    std::vector<std::string> reasons;
    std::map<std::string, std::vector<std::pair<std::string, std::vector<uint32_t>>>> by_reason;
    for (const auto& p : job.processes) {
        if (p.observed) {
            continue;
        }
        const std::string reason = p.notes.empty() ? std::string("no reason recorded") : p.notes.front();
        auto [at, fresh] = by_reason.try_emplace(reason);
        if (fresh) {
            reasons.push_back(reason);
        }
        auto& programs = at->second;
        const std::string program = program_of(p);
        auto it = std::find_if(programs.begin(), programs.end(), [&](const auto& e) { return e.first == program; });
        if (it == programs.end()) {
            programs.push_back({program, {}});
            it = programs.end() - 1;
        }
        it->second.push_back(p.pid);
    }
    for (const auto& reason : reasons) {
        size_t count = 0;
        std::vector<std::string> named;
        for (auto& [program, pids] : by_reason[reason]) {
            std::sort(pids.begin(), pids.end());
            count += pids.size();
            std::vector<std::string> pid_text;
            for (uint32_t pid : pids) {
                pid_text.push_back(std::to_string(pid));
            }
            named.push_back(fmt::format("{} (pid{} {})", program, pids.size() == 1 ? "" : "s", named_list(pid_text)));
        }
        lines.push_back(fmt::format("{} process{} not observed, {}: {}", human_count(count), count == 1 ? "" : "es",
                                    named_list(named), reason));
    }
    // The job's own notes (ring, tracer, S3 routing, lost events), each once.
    std::vector<std::string> seen;
    for (const auto& note : job.notes) {
        if (is_process_note(note) || std::find(seen.begin(), seen.end(), note) != seen.end()) {
            continue;
        }
        seen.push_back(note);
        lines.push_back(note);
    }
    // Files, by note.
    std::vector<std::string> file_notes;
    std::map<std::string, std::vector<std::string>> paths_by_note;
    for (const auto* uses : {&job.inputs, &job.outputs, &job.deleted}) {
        for (const auto& use : *uses) {
            for (const auto& note : use.notes) {
                if (!is_gap_note(note)) {
                    continue;
                }
                auto& paths = paths_by_note[note];
                if (paths.empty()) {
                    file_notes.push_back(note);
                }
                paths.push_back(shown_path(use.path));
            }
        }
    }
    for (const auto& note : file_notes) {
        const auto& paths = paths_by_note[note];
        lines.push_back(fmt::format("{} file{}, {}: {}", human_count(paths.size()), paths.size() == 1 ? "" : "s",
                                    named_list(paths), note));
    }
    return lines;
}

} // namespace roar::cli

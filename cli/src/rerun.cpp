// `roar run @N`: resolving a step to its recorded command, applying
// --name=value overrides, and the stale-steps report after a run (see
// rerun.hpp).
#include "rerun.hpp"

#include "lineage.hpp"
#include "project.hpp"
#include "text_style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>

using roar::collector::Statement;
namespace fs = std::filesystem;

namespace roar::cli {

namespace {

std::string step_list(const Lineage& g, const std::vector<int>& steps)
{
    std::vector<std::string> names;
    for (int s : steps) {
        names.push_back(fmt::format("@{}", g.steps[size_t(s)].number));
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

} // namespace

std::vector<std::string> apply_overrides(std::vector<std::string> argv, const std::vector<std::string>& overrides,
                                         const std::string& label)
{
    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        if (o.rfind("--", 0) != 0 || eq == std::string::npos || eq <= 2) {
            throw FatalError(fmt::format("'{}' is not an override: after {} give only --name=value arguments, e.g. "
                                         "'roar run {} --epochs=20'",
                                         o, label, label));
        }
        const std::string name = o.substr(0, eq);
        const std::string value = o.substr(eq + 1);
        bool found = false;
        for (size_t i = 1; i < argv.size(); ++i) {
            if (argv[i].rfind(name + "=", 0) == 0) {
                argv[i] = name + "=" + value;
                found = true;
            } else if (argv[i] == name && i + 1 < argv.size()) {
                argv[i + 1] = value;
                found = true;
                ++i;
            }
        }
        if (!found) {
            throw FatalError(fmt::format("{}'s command has no {} argument to override: {} (an override replaces "
                                         "an existing --name=x or --name x)",
                                         label, name, collector::join_command(argv)));
        }
    }
    return argv;
}

RerunPlan plan_rerun(const std::vector<std::string>& command, bool quiet)
{
    if (command.empty() || command.front().empty() || command.front()[0] != '@') {
        return {command, std::nullopt};
    }
    const std::string label = command.front();
    const std::string digits = label.substr(1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) || digits.size() > 12) {
        throw FatalError(fmt::format("'{}' is not a step reference (expected @N, e.g. 'roar run @2'; 'roar dag' "
                                     "lists the steps)",
                                     label));
    }
    const int64_t number = std::stoll(digits);
    Project project = Project::find();
    collector::Database db = project.open_database();
    Statement q(db.handle(), R"sql(
SELECT j.argv, j.cwd FROM jobs j JOIN steps st ON st.id = j.step_id
WHERE st.number = ?1 AND st.session_id = (SELECT id FROM sessions WHERE active = 1 ORDER BY id DESC LIMIT 1)
ORDER BY j.started_at DESC, j.id DESC LIMIT 1)sql");
    q.bind(1, number);
    if (!q.step()) {
        throw FatalError(fmt::format("no step {} in this session ('roar dag' lists the steps)", label));
    }
    auto argv = nlohmann::json::parse(q.column_text(0), nullptr, false);
    const std::string cwd = q.column_text(1);
    if (argv.is_discarded() || !argv.is_array() || argv.empty()) {
        throw FatalError(fmt::format("step {} has no recorded command to re-run", label));
    }
    RerunPlan plan;
    plan.step = number;
    plan.command = apply_overrides(argv.get<std::vector<std::string>>(),
                                   std::vector<std::string>(command.begin() + 1, command.end()), label);

    if (!quiet) {
        const Lineage g = Lineage::load(db);
        if (auto index = g.step_index(number)) {
            const auto upstream = g.stale_upstream(*index);
            if (!upstream.empty()) {
                std::cerr << fmt::format("{} {} depends on stale step{} {}: re-run {} first, or this run's outputs "
                                         "will be stale too\n",
                                         paint(2, k_yellow, "roar: note:"), label, upstream.size() == 1 ? "" : "s",
                                         step_list(g, upstream), upstream.size() == 1 ? "it" : "them");
            }
        }
        std::cerr << fmt::format("roar: re-running {}: {}\n", label, collector::join_command(plan.command));
    }
    std::error_code ec;
    fs::current_path(cwd, ec);
    if (ec) {
        throw FatalError(fmt::format("cannot re-run {} in its recorded directory {}: {}", label, cwd, ec.message()));
    }
    return plan;
}

void print_stale_downstream(collector::Database& db, int64_t job_row)
{
    Statement q(db.handle(), "SELECT st.number FROM jobs j JOIN steps st ON st.id = j.step_id WHERE j.id = ?1");
    q.bind(1, job_row);
    if (!q.step()) {
        return;
    }
    const int64_t number = q.column_int(0);
    // Only what this job wrote can have made later steps stale: when no
    // other job of the session read any of it, skip loading the pipeline
    // (a noticeable cost on a project with thousands of jobs).
    Statement consumed(db.handle(), R"sql(
SELECT 1 FROM job_io o
JOIN job_io i ON i.path = o.path AND i.direction = 'in' AND i.job_id != o.job_id
JOIN jobs j ON j.id = i.job_id AND j.session_id = (SELECT session_id FROM jobs WHERE id = ?1)
WHERE o.job_id = ?1 AND o.direction = 'out' LIMIT 1)sql");
    consumed.bind(1, job_row);
    if (!consumed.step()) {
        return;
    }
    const Lineage g = Lineage::load(db);
    const auto index = g.step_index(number);
    if (!index) {
        return;
    }
    const auto stale = g.stale_downstream(*index);
    if (!stale.empty()) {
        std::cerr << paint(2, k_yellow, fmt::format("Downstream steps are stale: {}", step_list(g, stale)))
                  << " (re-run them with 'roar run @N'; 'roar status' says why)\n";
    }
}

} // namespace roar::cli

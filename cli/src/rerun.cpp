// `roar run @N`: resolving a step to its recorded command, applying
// --name=value overrides, and the stale-steps report after a run (see
// rerun.hpp).
#include "rerun.hpp"

#include "lineage.hpp"
#include "numbers.hpp"
#include "project.hpp"
#include "text_style.hpp"

#include "roar/collector/redact.hpp"
#include "roar/collector/store/step_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iostream>

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

RerunPlan plan_rerun(collector::Store& store, const std::vector<std::string>& command, bool quiet)
{
    if (command.empty() || command.front().empty() || command.front()[0] != '@') {
        return {command, std::nullopt};
    }
    const std::string label = command.front();
    const std::string digits = label.substr(1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
        throw FatalError(fmt::format("'{}' is not a step reference (expected @N, e.g. 'roar run @2'; 'roar dag' "
                                     "lists the steps)",
                                     label));
    }
    const auto parsed = parse_number(digits, 1, INT64_MAX, "step number");
    if (!parsed) {
        throw FatalError(parsed.error().message);
    }
    const int64_t number = *parsed;
    const auto recorded = store.latest_job_of_step(number);
    if (!recorded) {
        throw FatalError(fmt::format("no step {} in this session ('roar dag' lists the steps)", label));
    }
    if (recorded->argv.empty()) {
        throw FatalError(fmt::format("step {} has no recorded command to re-run", label));
    }
    const std::string cwd = recorded->cwd;
    RerunPlan plan;
    plan.step = number;
    plan.command = apply_overrides(recorded->argv, std::vector<std::string>(command.begin() + 1, command.end()), label);
    // A secret was never stored: re-running would pass the placeholder.
    for (const auto& arg : plan.command) {
        if (arg.find(collector::k_redacted) != std::string::npos) {
            throw FatalError(fmt::format("{}'s recorded command had secrets redacted: {} (give them again as "
                                         "overrides, e.g. 'roar run {} --password=...', or run the command yourself)",
                                         label, collector::join_command(plan.command), label));
        }
    }

    if (!quiet) {
        const Lineage g = Lineage::load(store);
        if (auto index = g.step_index(number)) {
            const auto upstream = g.stale_upstream(*index);
            if (!upstream.empty()) {
                std::cerr << fmt::format("{} {} depends on stale step{} {}: re-run {} first, or this run's outputs "
                                         "will be stale too\n",
                                         paint(2, k_yellow, "roar: note:"), label, upstream.size() == 1 ? "" : "s",
                                         step_list(g, upstream), upstream.size() == 1 ? "it" : "them");
            }
        }
        std::cerr << fmt::format("roar: re-running {}: {}\n", label, printable(collector::join_command(plan.command)));
    }
    std::error_code ec;
    fs::current_path(cwd, ec);
    if (ec) {
        throw FatalError(fmt::format("cannot re-run {} in its recorded directory {}: {}", label, cwd, ec.message()));
    }
    return plan;
}

void print_stale_downstream(collector::Store& store, int64_t job_row)
{
    const auto number = store.step_number_of_job(job_row);
    // Only what this job wrote can have made later steps stale: when no
    // other job of the session read any of it, skip loading the pipeline
    // (a noticeable cost on a project with thousands of jobs).
    if (!number || !store.outputs_read_in_session(job_row)) {
        return;
    }
    const Lineage g = Lineage::load(store);
    const auto index = g.step_index(*number);
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

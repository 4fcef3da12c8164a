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

namespace roar::cli {

namespace {

std::string step_list(const Lineage& g, const std::vector<int>& steps)
{
    std::vector<std::string> names;
    for (int s : steps) {
        names.push_back(g.step_ref(s));
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

} // namespace

std::vector<std::string> apply_overrides(std::vector<std::string> argv, const std::vector<std::string>& overrides,
                                         const std::string& label)
{
    for (size_t k = 0; k < overrides.size(); ++k) {
        const std::string& o = overrides[k];
        if (o.rfind("--", 0) != 0 || o.size() < 3 || o[2] == '=') {
            throw FatalError(fmt::format("'{}' is not an override: after {} give only --name=value or --name value "
                                         "arguments, e.g. 'roar run {} --epochs=20'",
                                         o, label, label));
        }
        const auto eq = o.find('=');
        const bool joined = eq != std::string::npos;
        const std::string name = joined ? o.substr(0, eq) : o;
        std::optional<std::string> value;
        if (joined) {
            value = o.substr(eq + 1);
        } else if (k + 1 < overrides.size() && overrides[k + 1].rfind("--", 0) != 0) {
            value = overrides[++k];
        }
        bool found = false;
        for (size_t i = 1; i < argv.size(); ++i) {
            if (!value) { // a flag: present already, or appended
                found = found || argv[i] == name || argv[i].rfind(name + "=", 0) == 0;
            } else if (argv[i].rfind(name + "=", 0) == 0) {
                argv[i] = name + "=" + *value;
                found = true;
            } else if (argv[i] == name) {
                found = true;
                if (i + 1 < argv.size() && argv[i + 1].rfind("--", 0) != 0) {
                    argv[i + 1] = *value;
                    ++i;
                } else {
                    argv.insert(argv.begin() + long(i) + 1, *value);
                    ++i;
                }
            }
        }
        if (!found) {
            if (joined || !value) {
                argv.push_back(o);
            } else {
                argv.push_back(name);
                argv.push_back(*value);
            }
        }
    }
    return argv;
}

RerunPlan plan_rerun(collector::Store& store, const std::vector<std::string>& command, bool quiet,
                     const std::optional<std::string>& local_host)
{
    if (command.empty() || command.front().empty() || command.front()[0] != '@') {
        return {{RerunJob{command, {}}}, std::nullopt, {}};
    }
    const std::string label = command.front();
    const std::string ref = label.substr(1);
    const Lineage g = Lineage::load(store);
    std::optional<int> index;
    if (!ref.empty() && std::all_of(ref.begin(), ref.end(), ::isdigit)) {
        const auto number = parse_number(ref, 1, INT64_MAX, "step number");
        if (!number) {
            throw FatalError(number.error().message);
        }
        index = g.step_index(*number);
    } else if (valid_step_name(ref)) {
        index = g.step_named(ref);
    } else {
        throw FatalError(fmt::format("'{}' is not a step reference (expected @N or @NAME, e.g. 'roar run @2'; "
                                     "'roar dag' lists the steps)",
                                     label));
    }
    if (!index) {
        throw FatalError(fmt::format("no step {} in this session ('roar dag' lists the steps)", label));
    }
    const Step& step = g.steps[size_t(*index)];
    const std::vector<std::string> overrides(command.begin() + 1, command.end());
    RerunPlan plan;
    plan.step = step.number;
    plan.label = label;
    for (int x : step.current_jobs) {
        const auto detail = store.job(g.executions[size_t(x)].job_row);
        if (!detail || detail->argv.empty()) {
            throw FatalError(fmt::format("step {} has no recorded command to re-run", label));
        }
        RerunJob job{apply_overrides(detail->argv, overrides, label), detail->cwd};
        // A secret was never stored: re-running would pass the placeholder.
        for (const auto& arg : job.command) {
            if (arg.find(collector::k_redacted) != std::string::npos) {
                throw FatalError(fmt::format("{}'s recorded command had secrets redacted: {} (give them again as "
                                             "overrides, e.g. 'roar run {} --password=...', or run the command "
                                             "yourself)",
                                             label, printable(collector::join_command(job.command)), label));
            }
        }
        plan.jobs.push_back(std::move(job));
    }

    if (!quiet) {
        // Which jobs to re-run is the step's latest writers across every
        // machine (the load above: a path re-written on another machine
        // leaves the older job superseded, as it always did). Whether
        // upstream steps are stale is this disk's question: when a job of
        // the session ran on another machine, it is asked of the load that
        // compares only this machine's files with this disk (the steps are
        // the same).
        Lineage here;
        if (local_host && std::any_of(g.executions.begin(), g.executions.end(), [&](const Execution& e) {
                return e.host != *local_host;
            })) {
            LineageOptions options;
            options.local_host = local_host;
            here = Lineage::load(store, options);
        }
        const Lineage& judged = here.session_id != 0 ? here : g;
        const auto upstream = judged.stale_upstream(*index);
        if (!upstream.empty()) {
            std::cerr << fmt::format("{} {} depends on stale step{} {}: re-run {} first, or this run's outputs "
                                     "will be stale too\n",
                                     paint(2, k_yellow, "roar: note:"), label, upstream.size() == 1 ? "" : "s",
                                     step_list(judged, upstream), upstream.size() == 1 ? "it" : "them");
        }
        for (const auto& job : plan.jobs) {
            std::cerr << fmt::format("roar: re-running {}: {}\n", label,
                                     printable(collector::join_command(job.command)));
        }
    }
    return plan;
}

void print_stale_downstream(collector::Store& store, int64_t job_row, const std::optional<std::string>& local_host)
{
    const auto number = store.step_number_of_job(job_row);
    // Only what this job wrote can have made later steps stale: when no
    // other job of the session read any of it, skip loading the pipeline
    // (a noticeable cost on a project with thousands of jobs).
    if (!number || !store.outputs_read_in_session(job_row)) {
        return;
    }
    LineageOptions options;
    options.local_host = local_host;
    const Lineage g = Lineage::load(store, options);
    const auto index = g.step_index(*number);
    if (!index) {
        return;
    }
    // Stale steps downstream of this one, in the order the plan runs them.
    const auto downstream = g.stale_downstream(*index);
    std::vector<int> stale;
    for (int s : g.plan()) {
        if (std::binary_search(downstream.begin(), downstream.end(), s)) {
            stale.push_back(s);
        }
    }
    if (!stale.empty()) {
        std::cerr << paint(2, k_yellow, fmt::format("Downstream steps are stale: {}", step_list(g, stale)))
                  << " (re-run them in this order with 'roar run @N'; 'roar status' says why)\n";
    }
}

} // namespace roar::cli

// `roar pop`: removes the active session's newest job from the record
// (asking first unless -y). Files are never touched: what the job wrote
// stays on disk, only roar forgets the job.
#include "commands.hpp"

#include "project.hpp"
#include "text_style.hpp"

#include <fmt/format.h>

#include <iostream>
#include <string>

namespace roar::cli {

int cmd_pop(bool yes)
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::write);
    const auto session = store.active_session();
    collector::JobFilter filter;
    filter.session = session;
    filter.last = 1;
    const auto jobs = session ? store.job_summaries(filter) : std::vector<collector::JobSummary>{};
    if (jobs.empty()) {
        std::cout << "No jobs in this session to remove.\n";
        return 0;
    }
    const collector::JobSummary& job = jobs.back();
    const std::string what = fmt::format("job {}{}: {}", job.uid, job.step ? fmt::format(" (@{})", *job.step) : "",
                                         display_command(job.command));
    if (!yes) {
        std::cerr << fmt::format("Remove {} from the record? Files are left as they are. [y/N] ", what);
        std::string answer;
        if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) {
            std::cerr << "roar: nothing removed\n";
            return 1;
        }
    }
    store.delete_job(job.row);
    std::cout << fmt::format("Removed {} (files left as they are)\n", what);
    return 0;
}

} // namespace roar::cli

// `roar reset`: ends the active session and starts a new one, so the next
// jobs form a fresh pipeline (@1, @2, ...). Nothing is deleted: earlier
// jobs stay in `roar log` and `roar show`.
#include "commands.hpp"

#include "project.hpp"

#include <fmt/format.h>

#include <iostream>

namespace roar::cli {

int cmd_reset()
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::write);
    const int64_t jobs = store.active_session_job_count();
    const int64_t session = store.start_new_session();
    std::cout << fmt::format("Started session {}; the next job is step @1. The previous session's {} job{} stay in "
                             "'roar log' and 'roar show'.\n",
                             session, jobs, jobs == 1 ? "" : "s");
    return 0;
}

} // namespace roar::cli

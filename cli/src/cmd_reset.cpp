// `roar reset`: ends the active session and starts a new one, so the next
// jobs form a fresh pipeline (@1, @2, ...). Nothing is deleted: earlier
// jobs stay in `roar log` and `roar show`.
#include "commands.hpp"

#include "project.hpp"

#include <fmt/format.h>

#include <iostream>

using roar::collector::Statement;

namespace roar::cli {

int cmd_reset()
{
    Project project = Project::find();
    collector::Database db = project.open_database();
    int64_t jobs = 0;
    {
        Statement q(db.handle(), "SELECT count(*) FROM jobs WHERE session_id = "
                                 "(SELECT id FROM sessions WHERE active = 1 ORDER BY id DESC LIMIT 1)");
        q.step();
        jobs = q.column_int(0);
    }
    const int64_t session = db.start_new_session();
    std::cout << fmt::format("Started session {}; the next job is step @1. The previous session's {} job{} stay in "
                             "'roar log' and 'roar show'.\n",
                             session, jobs, jobs == 1 ? "" : "s");
    return 0;
}

} // namespace roar::cli

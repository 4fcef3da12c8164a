// roar-guard: the job guard's process (job_guard.hpp), spawned by roar run
// as `roar-guard NAME=VALUE` with the read end of its pipe as descriptor 3.
// A small static program, so that starting it costs roar run neither a
// fork of itself nor loading libraries (row 2d in docs/benchmarks.md).
#include "../src/job_guard_process.hpp"

#include <cstring>

int main(int argc, char** argv)
{
    if (argc != 2 || std::strchr(argv[1], '=') == nullptr) {
        return 2; // not started by roar run
    }
    roar::collector::run_job_guard(3, argv[1], std::strlen(argv[1]));
}

// roar-events: runs a command under the preload shim and prints every raw
// event from the ring as one JSON object per line. A developer's window
// into what the shim sees; `roar run` does the same and then interprets.
//
//   roar-events [--output FILE] [--ring-size BYTES] -- CMD ARGS...
#include "roar/collector/event_json.hpp"
#include "roar/collector/event_ring.hpp"
#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_launcher.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <unistd.h>

extern char** environ;

using namespace roar;
using namespace roar::collector;

int main(int argc, char** argv)
{
    std::string output;
    uint64_t ring_bytes = 64ull << 20;
    int i = 1;
    for (; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--output" && i + 1 < argc) {
            output = argv[++i];
        } else if (arg == "--ring-size" && i + 1 < argc) {
            ring_bytes = std::stoull(argv[++i]);
        } else {
            break;
        }
    }
    if (i >= argc) {
        std::fprintf(stderr, "usage: roar-events [--output FILE] [--ring-size BYTES] -- CMD ARGS...\n");
        return 2;
    }
    std::vector<std::string> command(argv + i, argv + argc);

    auto preload = find_preload_library();
    if (!preload) {
        std::fprintf(stderr, "roar-events: %s\n", preload.error().message.c_str());
        return 2;
    }
    std::random_device rd;
    const std::string uid = fmt::format("ev{:08x}{:08x}", rd(), rd());
    auto ring = EventRing::create(ring_name_for_job(uid), ring_bytes, 10000);
    if (!ring) {
        std::fprintf(stderr, "roar-events: %s\n", ring.error().message.c_str());
        return 2;
    }
    std::vector<std::string> env;
    std::string ld_preload = preload->string();
    for (char** e = environ; *e; ++e) {
        if (std::strncmp(*e, "LD_PRELOAD=", 11) == 0) {
            if ((*e)[11]) {
                ld_preload += ":" + std::string(*e + 11);
            }
            continue;
        }
        if (std::strncmp(*e, ROAR_ENV_RING "=", sizeof ROAR_ENV_RING) == 0
            || std::strncmp(*e, ROAR_ENV_PRELOAD "=", sizeof ROAR_ENV_PRELOAD) == 0) {
            continue;
        }
        env.emplace_back(*e);
    }
    env.push_back("LD_PRELOAD=" + ld_preload);
    env.push_back(std::string(ROAR_ENV_RING "=") + ring->name());
    env.push_back(std::string(ROAR_ENV_PRELOAD "=") + preload->string());
    env.push_back(std::string(ROAR_ENV_JOB "=") + uid);

    std::ofstream file;
    if (!output.empty()) {
        file.open(output);
    }
    std::ostream& out = output.empty() ? std::cout : file;
    auto sink = [&](const RawEvent& event) {
        out << event_to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    };

    auto job = JobLauncher::start(command, env, ring->doorbell());
    if (!job) {
        std::fprintf(stderr, "roar-events: %s\n", job.error().message.c_str());
        return 127;
    }
    while (!job->reap()) {
        ring->drain(sink);
        ring->wait(std::chrono::milliseconds(5));
    }
    ring->drain(sink, true);
    out.flush();
    const RingCounters c = ring->counters();
    std::fprintf(stderr, "roar-events: %llu events, %llu dropped, %llu truncated, %llu skipped, %llu sync timeouts\n",
                 (unsigned long long)c.consumed, (unsigned long long)c.dropped, (unsigned long long)c.truncated,
                 (unsigned long long)c.skipped, (unsigned long long)c.sync_timeouts);
    return exit_code_of(job->root_status());
}

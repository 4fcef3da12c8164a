// roar-events: runs a command under the preload shim and prints every raw
// event from the ring as one JSON object per line. A developer's window
// into what the shim sees; `roar run` runs the same JobSession and then
// interprets.
//
//   roar-events [--output FILE] [--ring-size BYTES] [--tracer auto|complete] -- CMD ARGS...
//
// --tracer adds roar run's ptrace tracer (static and Go programs; with
// "complete", every process), off by default.
#include "roar/collector/byte_text.hpp"
#include "roar/collector/event_json.hpp"
#include "roar/collector/job_session.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

using namespace roar;
using namespace roar::collector;

int main(int argc, char** argv)
{
    std::string output;
    uint64_t ring_bytes = 64ull << 20;
    TracerMode tracer = TracerMode::off;
    int i = 1;
    for (; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--output" && i + 1 < argc) {
            output = argv[++i];
        } else if (arg == "--tracer" && i + 1 < argc) {
            auto mode = parse_tracer_mode(argv[++i]);
            if (!mode) {
                std::fprintf(stderr, "roar-events: %s\n", mode.error().message.c_str());
                return 2;
            }
            tracer = *mode;
        } else if (arg == "--ring-size" && i + 1 < argc) {
            const std::string_view text = argv[++i];
            if (std::from_chars(text.data(), text.data() + text.size(), ring_bytes).ptr != text.data() + text.size()
                || ring_bytes == 0) {
                std::fprintf(stderr, "roar-events: --ring-size takes a number of bytes, not '%s'\n", argv[i]);
                return 2;
            }
        } else {
            break;
        }
    }
    if (i >= argc) {
        std::fprintf(
            stderr, "usage: roar-events [--output FILE] [--ring-size BYTES] [--tracer auto|complete] -- CMD ARGS...\n");
        return 2;
    }
    std::vector<std::string> command(argv + i, argv + argc);

    std::random_device rd;
    JobSessionOptions options;
    options.command = command;
    options.uid = fmt::format("ev{:08x}{:08x}", rd(), rd());
    options.ring_bytes = ring_bytes;
    options.tracer = tracer;
    JobSession session(options);

    std::ofstream file;
    if (!output.empty()) {
        file.open(output);
    }
    std::ostream& out = output.empty() ? std::cout : file;
    auto sink = [&](const RawEvent& event) {
        out << bytes_json(event_to_json(event)).dump() << '\n'; // paths and argv are bytes: escaped + "_b64"
    };
    int status = 0;
    try {
        status = session.run(sink);
    } catch (const FatalError& e) {
        std::fprintf(stderr, "roar-events: %s\n", e.what());
        return e.exit_code() == 127 ? 127 : 2;
    }
    out.flush();
    for (const auto& note : session.notes()) {
        std::fprintf(stderr, "roar-events: note: %s\n", note.c_str());
    }
    // Before the summary line (tests read the last line).
    const TracerStats& t = session.tracer_stats();
    std::fprintf(stderr, "roar-events: tracer: %llu processes, %llu stops, %llu syscall stops\n",
                 (unsigned long long)t.processes, (unsigned long long)t.stops, (unsigned long long)t.syscalls);
    const RingCounters& c = session.counters();
    std::fprintf(stderr,
                 "roar-events: %llu events, %llu dropped, %llu truncated, %llu skipped, %llu sync timeouts, "
                 "%llu full-ring waits\n",
                 (unsigned long long)c.consumed, (unsigned long long)c.dropped, (unsigned long long)c.truncated,
                 (unsigned long long)c.skipped, (unsigned long long)c.sync_timeouts, (unsigned long long)c.full_waits);
    return exit_code_of(status);
}

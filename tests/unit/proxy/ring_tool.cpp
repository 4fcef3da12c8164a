// roar_proxy_ring_tool: a tiny test helper for the proxy's functional
// tests. `create NAME [SLOTS]` makes an empty event ring, `dump NAME`
// prints its S3 records as JSON lines, `remove NAME` unlinks it.
#include "ring_test_support.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: roar_proxy_ring_tool create|dump|remove NAME [SLOTS]\n");
        return 2;
    }
    const std::string cmd = argv[1];
    const std::string name = argv[2];
    if (cmd == "create") {
        const std::uint64_t slots = argc > 3 ? std::stoull(argv[3]) : 65536;
        if (!roar::proxy::test::create_ring(name, slots)) {
            std::perror("create_ring");
            return 1;
        }
        return 0;
    }
    if (cmd == "remove") {
        return ::shm_unlink(name.c_str()) == 0 ? 0 : 1;
    }
    if (cmd == "dump") {
        std::uint64_t dropped = 0;
        for (const auto& r : roar::proxy::test::read_ring(name, &dropped)) {
            nlohmann::json j = {
                {"op", r.ev.op},           {"pid", r.ev.pid}, {"status", r.ev.flags}, {"bytes", r.ev.result},
                {"time_ns", r.ev.time_ns}, {"uri", r.s1},     {"etag", r.s2},         {"extra", r.s3}};
            std::cout << j.dump() << "\n";
        }
        std::cerr << "dropped=" << dropped << "\n";
        return 0;
    }
    std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
    return 2;
}

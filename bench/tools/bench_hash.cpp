// Bench row 3: roar's own hashing code, timed in-process.
//   bench_hash file FILE           roar::collector::blake3_file over FILE
//   bench_hash cache DB FILE       Database::digest_file twice on a fresh
//                                  database: the first call hashes and fills
//                                  the cache, the second must hit it
// Prints one JSON object with seconds, bytes and the digest, so the
// harness can check it against b3sum.
#include "roar/collector/database.hpp"
#include "roar/collector/file_hasher.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int usage()
{
    std::fprintf(stderr, "usage: bench_hash file FILE | bench_hash cache DB FILE\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace roar::collector;
    if (argc < 3) {
        return usage();
    }
    const std::string mode = argv[1];
    if (mode == "file") {
        const auto t0 = std::chrono::steady_clock::now();
        auto digest = blake3_file(argv[2]);
        const double secs = seconds_since(t0);
        if (!digest) {
            std::fprintf(stderr, "bench_hash: %s\n", digest.error().message.c_str());
            return 1;
        }
        std::printf("{\"seconds\":%.6f,\"bytes\":%llu,\"blake3\":\"%s\"}\n", secs,
                    static_cast<unsigned long long>(digest->identity.size), digest->blake3.c_str());
        return 0;
    }
    if (mode == "cache" && argc >= 4) {
        std::filesystem::remove(argv[2]);
        auto db = Database::create(argv[2]);
        if (!db) {
            std::fprintf(stderr, "bench_hash: %s\n", db.error().message.c_str());
            return 1;
        }
        auto t0 = std::chrono::steady_clock::now();
        auto first = db->digest_file(argv[3]);
        const double first_s = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        auto second = db->digest_file(argv[3]);
        const double second_s = seconds_since(t0);
        if (!first || !second) {
            std::fprintf(stderr, "bench_hash: %s\n", (!first ? first : second).error().message.c_str());
            return 1;
        }
        std::printf("{\"first_s\":%.6f,\"cached_s\":%.6f,\"same_digest\":%s,\"blake3\":\"%s\"}\n", first_s, second_s,
                    first->blake3 == second->blake3 ? "true" : "false", second->blake3.c_str());
        return 0;
    }
    return usage();
}

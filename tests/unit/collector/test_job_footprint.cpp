// JobFootprint: each path kept once and numbered, whatever the number of
// paths and their length, with each process's reads in order.
#include "roar/collector/environment/job_footprint.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace roar::collector;

TEST_CASE("a footprint numbers each path once and keeps each process's reads in order",
          "[collector][environment][footprint]")
{
    JobFootprint footprint;
    const size_t parent = footprint.add_process(10, "/usr/bin/python3.11", {"python3", "train.py"}, "/work");
    const size_t child = footprint.add_process(11, "/usr/bin/tar", {"tar", "cf", "x.tar"}, "/work");
    footprint.add_read(parent, "/usr/lib/python3.11/os.py", true);
    footprint.add_read(parent, "/work/train.py", false);
    footprint.add_read(child, "/work/train.py", false);
    footprint.add_read(parent, "/usr/lib/python3.11/os.py", true);
    REQUIRE(footprint.paths().size() == 2);
    CHECK(footprint.paths()[0] == "/usr/lib/python3.11/os.py");
    CHECK(footprint.paths()[1] == "/work/train.py");
    CHECK(footprint.filtered(0));
    CHECK_FALSE(footprint.filtered(1));
    CHECK(footprint.processes()[parent].reads == std::vector<uint32_t>{0, 1, 0});
    CHECK(footprint.processes()[child].reads == std::vector<uint32_t>{1});
    CHECK(footprint.contains("/work/train.py"));
    CHECK_FALSE(footprint.contains("/work/train"));
    CHECK_FALSE(JobFootprint().contains("/work/train.py"));
}

TEST_CASE("a footprint of many paths, some longer than its blocks, keeps every one's bytes",
          "[collector][environment][footprint]")
{
    JobFootprint footprint;
    const size_t p = footprint.add_process(1, "/bin/sh", {"sh"}, "/");
    const std::string long_path = "/data/" + std::string(100 * 1024, 'x');
    constexpr uint32_t k_paths = 50000; // past several growths of the index and many blocks
    for (uint32_t i = 0; i < k_paths; ++i) {
        footprint.add_read(p, "/data/d" + std::to_string(i % 97) + "/f" + std::to_string(i), i % 3 == 0);
        if (i == k_paths / 2) {
            footprint.add_read(p, long_path, false);
        }
    }
    for (uint32_t i = 0; i < k_paths; i += 7) { // read again: no new numbers
        footprint.add_read(p, "/data/d" + std::to_string(i % 97) + "/f" + std::to_string(i), i % 3 == 0);
    }
    REQUIRE(footprint.paths().size() == k_paths + 1);
    size_t wrong = 0;
    for (uint32_t i = 0; i < k_paths; ++i) {
        const uint32_t number = i <= k_paths / 2 ? i : i + 1;
        const std::string expected = "/data/d" + std::to_string(i % 97) + "/f" + std::to_string(i);
        if (footprint.paths()[number] != expected || footprint.filtered(number) != (i % 3 == 0)
            || !footprint.contains(expected)) {
            ++wrong;
        }
    }
    CHECK(wrong == 0);
    CHECK(footprint.paths()[k_paths / 2 + 1] == long_path);
    CHECK(footprint.contains(long_path));
    const auto& reads = footprint.processes()[p].reads;
    REQUIRE(reads.size() == k_paths + 1 + (k_paths + 6) / 7);
    CHECK(reads[k_paths + 1] == 0); // the first re-read: /data/d0/f0
    JobFootprint moved = std::move(footprint);
    CHECK(moved.paths()[7] == "/data/d7/f7"); // the views survive a move
}

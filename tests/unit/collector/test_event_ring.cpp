// The ring's producer/consumer protocol: round trips, wrap-around, a full
// ring waited on (and dropping only when its consumer is gone or stalled),
// a producer killed mid-record or while waiting, many producers.
#include "roar/collector/event_ring.h"
#include "roar/collector/event_ring.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>

#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace roar::collector;

namespace {

std::string unique_name()
{
    std::random_device rd;
    return "/roar-test-" + std::to_string(getpid()) + "-" + std::to_string(rd());
}

// Maps the ring the way a producer in another process would.
struct Producer {
    roar_ring ring{};
    void* base = nullptr;
    size_t size = 0;
    explicit Producer(const std::string& name)
    {
        const int fd = shm_open(name.c_str(), O_RDWR, 0);
        REQUIRE(fd >= 0);
        struct stat st;
        fstat(fd, &st);
        size = size_t(st.st_size);
        base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        REQUIRE(base != MAP_FAILED);
        REQUIRE(roar_ring_view(&ring, base, size) == 0);
    }
    ~Producer() { munmap(base, size); }
    int64_t publish(uint16_t op, int32_t fd, std::string_view s1, std::string_view s3 = {})
    {
        roar_event ev{};
        ev.op = op;
        ev.pid = 42;
        ev.fd = fd;
        roar_str a{s1.empty() ? nullptr : s1.data(), uint32_t(s1.size())};
        roar_str none{nullptr, 0};
        roar_str c{s3.empty() ? nullptr : s3.data(), uint32_t(s3.size())};
        return roar_ring_publish(&ring, &ev, a, none, c);
    }
};

// `n` producers of `ring`, each with its own mapping. Made on the test's
// thread: Catch's assertions (in Producer's constructor) are not
// thread-safe, so threads only publish through them.
std::vector<std::unique_ptr<Producer>> producers_of(const EventRing& ring, int n)
{
    std::vector<std::unique_ptr<Producer>> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::make_unique<Producer>(ring.name()));
    }
    return out;
}

} // namespace

TEST_CASE("records round-trip with their strings in order", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 64 * 1024, 100);
    REQUIRE(ring);
    Producer producer(ring->name());
    REQUIRE(producer.publish(ROAR_OP_OPEN, 3, "/data/a.csv") == 0);
    REQUIRE(producer.publish(ROAR_OP_PROC_START, 1, "/usr/bin/python3", std::string("python3\0x.py", 12)) > 0);

    std::vector<RawEvent> seen;
    std::vector<std::string> s1s, s3s;
    ring->drain([&](const RawEvent& e) {
        seen.push_back(e);
        s1s.emplace_back(e.s1);
        s3s.emplace_back(e.s3);
    });
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].header.op == ROAR_OP_OPEN);
    CHECK(seen[0].header.fd == 3);
    CHECK(s1s[0] == "/data/a.csv");
    CHECK_FALSE(seen[0].has_s2);
    CHECK(s1s[1] == "/usr/bin/python3");
    CHECK(s3s[1] == std::string("python3\0x.py", 12));
    CHECK(ring->counters().consumed == 2);
}

TEST_CASE("records that straddle the end of the slot area wrap intact", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 1024 * ROAR_SLOT_SIZE, 100); // 1024 slots, the minimum
    REQUIRE(ring);
    Producer producer(ring->name());
    const std::string long_path = "/" + std::string(300, 'p'); // 6 slots with the header
    size_t total = 0;
    for (int round = 0; round < 500; ++round) {
        REQUIRE(producer.publish(ROAR_OP_OPEN, round, long_path) >= 0);
        ring->drain([&](const RawEvent& e) {
            CHECK(e.s1 == long_path);
            CHECK(e.header.fd == int(total));
            ++total;
        });
    }
    CHECK(total == 500);
}

TEST_CASE("a full ring whose consumer frees nothing drops after the stall limit, then at once", "[collector][ring]")
{
    // Records without strings take exactly one slot.
    auto ring = EventRing::create(unique_name(), 1024 * ROAR_SLOT_SIZE, 100);
    REQUIRE(ring);
    Producer producer(ring->name());
    int accepted = 0;
    for (int i = 0; i < 1100; ++i) {
        if (producer.publish(ROAR_OP_CLOSE, i, "") >= 0) {
            ++accepted;
        }
    }
    CHECK(accepted == 1024);
    CHECK(ring->counters().dropped == 1100 - 1024);
    // Only the first producer waited (100 ms without progress); the stall
    // it declared made the others drop without waiting.
    CHECK(ring->counters().full_waits == 1);
    CHECK(ring->counters().full_wait_ns >= 100'000'000u);
    size_t drained = ring->drain([](const RawEvent&) {});
    CHECK(drained == 1024);
    CHECK(producer.publish(ROAR_OP_CLOSE, 1, "") >= 0); // room again
}

TEST_CASE("a full ring whose consumer is gone drops without waiting", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 1024 * ROAR_SLOT_SIZE, 60000);
    REQUIRE(ring);
    Producer producer(ring->name());
    for (int i = 0; i < 1024; ++i) {
        REQUIRE(producer.publish(ROAR_OP_CLOSE, i, "") >= 0);
    }
    producer.ring.hdr->consumer_pid = 0x3ffffff0; // no such process
    CHECK(producer.publish(ROAR_OP_CLOSE, 0, "") == -1);
    CHECK(ring->counters().dropped == 1);
    CHECK(ring->counters().full_waits == 0);
}

TEST_CASE("producers wait for a slow consumer instead of dropping, and the waits are counted", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 1024 * ROAR_SLOT_SIZE, 10000);
    REQUIRE(ring);
    constexpr int k_threads = 4, k_each = 5000;
    std::atomic<int> done{0}, refused{0};
    const auto producers = producers_of(*ring, k_threads);
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
            Producer& producer = *producers[size_t(t)];
            for (int i = 0; i < k_each; ++i) {
                if (producer.publish(ROAR_OP_OPEN, t, "/f/" + std::to_string(i)) < 0) {
                    ++refused;
                }
            }
            ++done;
        });
    }
    size_t total = 0;
    while (done < k_threads) {
        // A consumer slower than the producers: naps between drains.
        ring->wait(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        total += ring->drain([](const RawEvent&) {});
    }
    for (auto& th : threads) {
        th.join();
    }
    total += ring->drain([](const RawEvent&) {}, true);
    CHECK(refused == 0);
    CHECK(total == size_t(k_threads * k_each));
    CHECK(ring->counters().dropped == 0);
    CHECK(ring->counters().full_waits > 0);
    CHECK(ring->counters().full_wait_ns > 0);
}

TEST_CASE("a producer killed while waiting for space wedges no one", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 1024 * ROAR_SLOT_SIZE, 60000);
    REQUIRE(ring);
    Producer producer(ring->name());
    for (int i = 0; i < 1024; ++i) {
        REQUIRE(producer.publish(ROAR_OP_CLOSE, i, "") >= 0);
    }
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        producer.publish(ROAR_OP_CLOSE, 0, ""); // waits: the ring is full
        _exit(0);
    }
    while (__atomic_load_n(&producer.ring.hdr->space_wanted, __ATOMIC_ACQUIRE) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    kill(child, SIGKILL);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(ring->drain([](const RawEvent&) {}) == 1024);
    CHECK(producer.ring.hdr->space_wanted == 0); // the consumer cleared it when it freed space
    CHECK(producer.publish(ROAR_OP_CLOSE, 1, "") >= 0);
    CHECK(ring->counters().dropped == 0);
    CHECK(ring->counters().full_waits == 1);
}

TEST_CASE("a record reserved but never committed is skipped, later records survive", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 64 * 1024, 100);
    REQUIRE(ring);
    Producer producer(ring->name());
    REQUIRE(producer.publish(ROAR_OP_OPEN, 1, "/before") >= 0);
    uint64_t index = 0;
    REQUIRE(roar_ring_reserve(&producer.ring, 3, &index) == 0); // "killed" before commit
    REQUIRE(producer.publish(ROAR_OP_OPEN, 2, "/after") >= 0);

    std::vector<std::string> paths;
    auto sink = [&](const RawEvent& e) { paths.emplace_back(e.s1); };
    ring->drain(sink); // waits at the hole within the grace period
    CHECK(paths == std::vector<std::string>{"/before"});
    ring->drain(sink, true); // no producer left: skip it
    CHECK(paths == std::vector<std::string>{"/before", "/after"});
    CHECK(ring->counters().skipped == 1);
}

TEST_CASE("concurrent producers lose nothing", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 8 << 20, 100);
    REQUIRE(ring);
    constexpr int k_threads = 4, k_each = 20000;
    const auto producers = producers_of(*ring, k_threads);
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
            Producer& producer = *producers[size_t(t)];
            for (int i = 0; i < k_each; ++i) {
                while (producer.publish(ROAR_OP_OPEN, t, "/f/" + std::to_string(i)) < 0) {
                    std::this_thread::yield();
                }
            }
        });
    }
    std::vector<int> next(k_threads, 0);
    size_t total = 0;
    bool ordered = true;
    auto sink = [&](const RawEvent& e) {
        const int t = e.header.fd;
        ordered = ordered && std::string(e.s1) == "/f/" + std::to_string(next[size_t(t)]);
        ++next[size_t(t)];
        ++total;
    };
    while (total < size_t(k_threads * k_each)) {
        ring->drain(sink);
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(ordered);
    CHECK(total == size_t(k_threads * k_each));
    CHECK(ring->counters().consumed == size_t(k_threads * k_each));
}

TEST_CASE("a sync point returns once the consumer has processed the record", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 64 * 1024, 5000);
    REQUIRE(ring);
    Producer producer(ring->name());
    const int64_t index = producer.publish(ROAR_OP_PRE_MODIFY, 0, "/x");
    REQUIRE(index >= 0);
    // Atomic although the sync orders it: the ring's release/acquire pair
    // acts on two mappings of one shm object here, which ThreadSanitizer
    // cannot relate (in roar they are two processes).
    std::atomic<bool> processed{false};
    std::thread consumer([&] {
        while (!processed) {
            ring->wait(std::chrono::milliseconds(50));
            ring->drain([&](const RawEvent& e) { processed = e.header.op == ROAR_OP_PRE_MODIFY; });
        }
    });
    CHECK(roar_ring_sync(&producer.ring, uint64_t(index)) == 0);
    CHECK(processed);
    consumer.join();
}

TEST_CASE("a sync point does not wait for a consumer that is gone", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 64 * 1024, 60000);
    REQUIRE(ring);
    Producer producer(ring->name());
    producer.ring.hdr->heartbeat_ns = 1; // consumer last seen long ago
    const int64_t index = producer.publish(ROAR_OP_PRE_MODIFY, 0, "/x");
    const auto start = std::chrono::steady_clock::now();
    CHECK(roar_ring_sync(&producer.ring, uint64_t(index)) == -1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("rings left behind by a dead consumer are removed by the next create", "[collector][ring]")
{
    const std::string stale = unique_name();
    {
        auto ring = EventRing::create(stale, 64 * 1024, 100);
        REQUIRE(ring);
        // Simulate a consumer killed before its destructor: claim a pid that
        // cannot exist and keep the segment by renaming it away from RAII.
        Producer producer(ring->name());
        producer.ring.hdr->consumer_pid = 0x3ffffff0;
        std::filesystem::copy_file("/dev/shm" + stale, "/dev/shm" + stale + "-copy");
    }
    const std::string leftover = "/dev/shm" + stale + "-copy";
    REQUIRE(std::filesystem::exists(leftover));
    auto fresh = EventRing::create(unique_name(), 64 * 1024, 100);
    REQUIRE(fresh);
    CHECK_FALSE(std::filesystem::exists(leftover));
}

TEST_CASE("a producer that finds the ring half full wakes a sleeping consumer", "[collector][ring]")
{
    auto ring = EventRing::create(unique_name(), 1024 * ROAR_SLOT_SIZE, 100);
    REQUIRE(ring);
    Producer producer(ring->name());
    std::atomic<bool> woke{false};
    std::thread consumer([&] {
        ring->wait(std::chrono::milliseconds(20000));
        woke = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < 400; ++i) { // below half: nobody rings
        REQUIRE(producer.publish(ROAR_OP_CLOSE, i, "") >= 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(woke);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) { // past half: the first one over rings
        REQUIRE(producer.publish(ROAR_OP_CLOSE, i, "") >= 0);
    }
    consumer.join();
    CHECK(woke);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("decode_record: strings in order, corrupt headers refused", "[collector][ring]")
{
    roar_event ev{};
    ev.op = ROAR_OP_OPEN;
    ev.nslots = 2;
    ev.len1 = 4; // "abc\0"
    ev.len3 = 3; // "de\0"
    const std::string strings("abc\0de\0", 7);
    const auto raw = decode_record(ev, 9, 2, strings);
    REQUIRE(raw);
    CHECK(raw->index == 9);
    CHECK(raw->s1 == "abc");
    CHECK_FALSE(raw->has_s2);
    CHECK(raw->s3 == "de");

    CHECK_FALSE(decode_record(ev, 9, 1, strings));                                // more slots than the ring holds
    CHECK_FALSE(decode_record(ev, 9, 2, std::string_view(strings).substr(0, 6))); // strings cut short
    roar_event zero = ev;
    zero.nslots = 0;
    CHECK_FALSE(decode_record(zero, 9, 2, strings));
    roar_event too_many = ev;
    too_many.nslots = ROAR_MAX_RECORD_SLOTS + 1;
    CHECK_FALSE(decode_record(too_many, 9, UINT64_MAX, strings));
    roar_event overflow = ev;
    overflow.len2 = UINT32_MAX; // strings that cannot fit the record's slots
    CHECK_FALSE(decode_record(overflow, 9, 2, strings));
    CHECK_FALSE(record_fits(overflow, 2));
}

// Bench row 6: collector ingest. P producer processes publish file events
// (a PROC_START, then OPEN/CLOSE pairs over a pool of real files) into one
// event ring through the same lock-free C producer the shim uses, as fast
// as they can; this process is the single consumer, draining the way
// `roar run` does (drain, then wait for the doorbell or 5 ms).
//   bench_ingest ring   P EVENTS_PER_PROC RING_MB DIR        count only
//   bench_ingest sqlite P EVENTS_PER_PROC RING_MB DIR DB     JobTracker, hashing, store_job
// DIR holds the pool files (created here). Prints one JSON object.
#include "roar/collector/database.hpp"
#include "roar/collector/event_ring.h"
#include "roar/collector/event_ring.hpp"
#include "roar/collector/job_tracker.hpp"
#include "roar/collector/path_filter.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int k_pool_files = 1000;

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string pool_path(const std::string& dir, int proc, int i)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "/p%d/file%04d.dat", proc, i);
    return dir + buf;
}

uint64_t realtime_ns() { return roar_clock_ns(CLOCK_REALTIME); }

// The producer: maps the ring by name and publishes `events` records.
[[noreturn]] void produce(const std::string& ring_name, int proc, long events, const std::string& dir)
{
    const int fd = shm_open(ring_name.c_str(), O_RDWR, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        std::perror("bench_ingest: shm_open");
        _exit(1);
    }
    void* base = mmap(nullptr, size_t(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    roar_ring ring{};
    if (base == MAP_FAILED || roar_ring_view(&ring, base, uint64_t(st.st_size)) != 0) {
        std::fprintf(stderr, "bench_ingest: cannot map ring %s\n", ring_name.c_str());
        _exit(1);
    }
    const uint32_t pid = uint32_t(getpid());
    const uint32_t tid = uint32_t(syscall(SYS_gettid));
    const roar_str none{nullptr, 0};
    auto str = [](const std::string& s) { return roar_str{s.c_str(), uint32_t(s.size())}; };
    {
        roar_event ev{};
        ev.op = ROAR_OP_PROC_START;
        ev.pid = pid;
        ev.tid = tid;
        ev.fd = int32_t(getppid());
        ev.flags = ROAR_START_FORKED;
        ev.time_ns = realtime_ns();
        const std::string exe = "/proc/self/exe";
        roar_ring_publish(&ring, &ev, str(exe), str(dir), none);
    }
    std::vector<std::string> paths;
    for (int i = 0; i < k_pool_files; ++i) {
        paths.push_back(pool_path(dir, proc, i));
    }
    for (long i = 0; i + 1 < events; i += 2) {
        roar_event open_ev{};
        open_ev.op = ROAR_OP_OPEN;
        open_ev.pid = pid;
        open_ev.tid = tid;
        open_ev.fd = ROAR_AT_FDCWD;
        open_ev.fd2 = -1;
        open_ev.flags = O_RDONLY;
        open_ev.result = 3;
        open_ev.time_ns = realtime_ns();
        roar_ring_publish(&ring, &open_ev, str(paths[size_t(i / 2) % paths.size()]), none, none);
        roar_event close_ev{};
        close_ev.op = ROAR_OP_CLOSE;
        close_ev.pid = pid;
        close_ev.tid = tid;
        close_ev.fd = 3;
        close_ev.fd2 = 3;
        close_ev.time_ns = realtime_ns();
        roar_ring_publish(&ring, &close_ev, none, none, none);
    }
    roar_ring_ring_doorbell(&ring);
    _exit(0);
}

} // namespace

int main(int argc, char** argv)
{
    using namespace roar::collector;
    if (argc < 6 || (std::strcmp(argv[1], "sqlite") == 0 && argc < 7)) {
        std::fprintf(stderr, "usage: bench_ingest ring|sqlite PROCS EVENTS_PER_PROC RING_MB DIR [DB]\n");
        return 2;
    }
    const bool to_sqlite = std::strcmp(argv[1], "sqlite") == 0;
    const int procs = std::atoi(argv[2]);
    const long events = std::atol(argv[3]);
    const uint64_t ring_mb = std::strtoull(argv[4], nullptr, 10);
    const std::string dir = std::filesystem::absolute(argv[5]).string();
    for (int p = 0; p < procs; ++p) {
        std::filesystem::create_directories(dir + "/p" + std::to_string(p));
        for (int i = 0; i < k_pool_files; ++i) {
            const std::string path = pool_path(dir, p, i);
            if (!std::filesystem::exists(path)) {
                std::ofstream(path) << "pool file " << p << " " << i << "\n";
            }
        }
    }
    // The hash cache only trusts files older than two seconds.
    std::optional<Database> db;
    if (to_sqlite) {
        std::filesystem::remove(argv[6]);
        auto created = Database::create(argv[6]);
        if (!created) {
            std::fprintf(stderr, "bench_ingest: %s\n", created.error().message.c_str());
            return 1;
        }
        db.emplace(std::move(*created));
    }

    const std::string uid = "bench" + std::to_string(getpid());
    auto ring = EventRing::create(ring_name_for_job(uid), ring_mb << 20, 10000);
    if (!ring) {
        std::fprintf(stderr, "bench_ingest: %s\n", ring.error().message.c_str());
        return 1;
    }
    JobTracker tracker(dir, PathFilter(PathFilter::default_excludes(), {}),
                       [&db](const std::string& path) { return db ? db->digest_file(path) : blake3_file(path); });
    tracker.set_root(uint32_t(getpid()), {"bench_ingest"});
    uint64_t counted = 0;
    EventRing::Sink sink = to_sqlite ? EventRing::Sink([&tracker](const RawEvent& e) { tracker.on_event(e); })
                                     : EventRing::Sink([&counted](const RawEvent&) { ++counted; });

    JobRecord job;
    job.uid = uid;
    job.argv = {"bench_ingest", argv[1]};
    job.command = "bench_ingest";
    job.cwd = dir;
    job.started_at = double(realtime_ns()) / 1e9;

    const auto t0 = Clock::now();
    std::vector<pid_t> children;
    for (int p = 0; p < procs; ++p) {
        const pid_t pid = fork();
        if (pid == 0) {
            produce(ring->name(), p, events, dir);
        }
        children.push_back(pid);
    }
    size_t alive = children.size();
    std::vector<Reaped> reaped;
    while (alive > 0) {
        ring->drain(sink);
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            reaped.push_back({pid, status});
            --alive;
        }
        if (alive > 0) {
            ring->wait(std::chrono::milliseconds(5));
        }
    }
    ring->drain(sink, true);
    const double ingest_s = since(t0);
    const RingCounters counters = ring->counters();

    double finish_s = 0, store_s = 0;
    size_t inputs = 0;
    if (to_sqlite) {
        auto t1 = Clock::now();
        tracker.add_reaped(reaped);
        job.ended_at = double(realtime_ns()) / 1e9;
        job.ring = counters;
        tracker.finish(job);
        finish_s = since(t1);
        inputs = job.inputs.size();
        t1 = Clock::now();
        auto stored = db->store_job(job);
        store_s = since(t1);
        if (!stored) {
            std::fprintf(stderr, "bench_ingest: %s\n", stored.error().message.c_str());
            return 1;
        }
    }
    const uint64_t published = counters.consumed + counters.dropped;
    std::printf("{\"mode\":\"%s\",\"producers\":%d,\"published\":%llu,\"consumed\":%llu,\"dropped\":%llu,"
                "\"full_waits\":%llu,\"full_wait_ms\":%.1f,"
                "\"ring_mb\":%llu,\"ingest_s\":%.6f,\"events_per_s\":%.0f,\"finish_s\":%.6f,\"store_s\":%.6f,"
                "\"inputs\":%zu,\"total_events_per_s\":%.0f}\n",
                argv[1], procs, (unsigned long long)published, (unsigned long long)counters.consumed,
                (unsigned long long)counters.dropped, (unsigned long long)counters.full_waits,
                double(counters.full_wait_ns) / 1e6, (unsigned long long)ring_mb, ingest_s,
                double(counters.consumed) / ingest_s, finish_s, store_s, inputs,
                double(counters.consumed) / (ingest_s + finish_s + store_s));
    return 0;
}

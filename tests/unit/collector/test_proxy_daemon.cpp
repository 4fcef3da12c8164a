// ClientJobs and the journal (proxy_daemon.hpp): S3 events make one job
// per client process, attributed to it, stored when it exits or when the
// daemon stops, and a journal cut short by a kill still replays.
#include "raw_event.hpp"
#include "temp_dir.hpp"

#include "roar/collector/proxy_daemon.hpp"
#include "roar/collector/store/records.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace roar;
using namespace roar::collector;

namespace {

RawEvent s3_event(uint16_t op, uint32_t pid, std::string_view uri, std::string_view etag, int64_t bytes,
                  std::string_view extras = {})
{
    RawEvent e = test::raw_event(op, pid, 0, 0, bytes, uri, etag, extras);
    e.header.time_ns = 1'700'000'000'000'000'000ull;
    return e;
}

std::vector<std::filesystem::path> journals_in(const std::filesystem::path& dir)
{
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        out.push_back(entry.path());
    }
    return out;
}

// A child process that has exited and been reaped: its pid names no process.
uint32_t gone_pid()
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(0);
    }
    ::waitpid(pid, nullptr, 0);
    return static_cast<uint32_t>(pid);
}

// What a store callback was given.
struct Stored {
    std::vector<JobRecord> jobs;
    StoreClientJob callback()
    {
        return [this](const JobRecord& job) {
            jobs.push_back(job);
            return true;
        };
    }
};

} // namespace

TEST_CASE("a client's S3 calls become one job of kind proxy attributed to its pid", "[collector][proxy_daemon]")
{
    test::TempDir dir;
    Stored stored;
    ClientJobs jobs({dir / "journals"}, stored.callback());
    const auto self = static_cast<uint32_t>(::getpid());
    jobs.on_event(s3_event(ROAR_OP_S3_PUT, self, "s3://b/out.bin", "\"e1\"", 5, "blake3=abc"));
    jobs.on_event(s3_event(ROAR_OP_S3_GET, self, "s3://b/in.bin", "\"e2\"", 7));
    CHECK(jobs.open_jobs() == 1);
    CHECK(journals_in(dir / "journals").size() == 1);

    CHECK(jobs.close_all() == 1);
    REQUIRE(stored.jobs.size() == 1);
    const JobRecord& job = stored.jobs.front();
    REQUIRE(job.processes.size() == 1);
    CHECK(job.processes[0].pid == self);
    CHECK(job.processes[0].tracer == k_job_kind_proxy);
    CHECK(!job.argv.empty());
    REQUIRE(job.outputs.size() == 1);
    CHECK(job.outputs[0].path == "s3://b/out.bin");
    CHECK(job.outputs[0].pid == self);
    CHECK(job.outputs[0].hashes.at("blake3") == "abc");
    REQUIRE(job.inputs.size() == 1);
    CHECK(job.inputs[0].path == "s3://b/in.bin");
    CHECK(job.inputs[0].pid == self);
    CHECK(journals_in(dir / "journals").empty());
}

TEST_CASE("each client process gets its own job, closed once it has exited", "[collector][proxy_daemon]")
{
    test::TempDir dir;
    Stored stored;
    ClientJobs jobs({dir / "journals"}, stored.callback());
    const auto self = static_cast<uint32_t>(::getpid());
    const uint32_t gone = gone_pid();
    jobs.on_event(s3_event(ROAR_OP_S3_PUT, self, "s3://b/a", "\"a\"", 1));
    jobs.on_event(s3_event(ROAR_OP_S3_PUT, gone, "s3://b/b", "\"b\"", 1));
    CHECK(jobs.open_jobs() == 2);

    auto now = std::chrono::steady_clock::now();
    CHECK(jobs.close_finished(now) == 0); // the exit is noticed, its last events awaited
    CHECK(jobs.close_finished(now + std::chrono::seconds(2)) == 1);
    REQUIRE(stored.jobs.size() == 1);
    CHECK(stored.jobs[0].argv == std::vector<std::string>{"S3 client pid " + std::to_string(gone)});
    CHECK(stored.jobs[0].outputs.at(0).pid == gone);
    CHECK(jobs.open_jobs() == 1);

    CHECK(jobs.close_finished(now + std::chrono::seconds(61)) == 1); // idle
    CHECK(stored.jobs.at(1).outputs.at(0).path == "s3://b/a");
}

TEST_CASE("a journal cut short by a kill replays the records written before it", "[collector][proxy_daemon]")
{
    test::TempDir dir;
    {
        ClientJobs jobs({dir / "journals"}, [](const JobRecord&) { return false; }); // nothing gets stored
        const auto self = static_cast<uint32_t>(::getpid());
        jobs.on_event(s3_event(ROAR_OP_S3_PUT, self, "s3://b/kept", "\"k\"", 3));
        jobs.on_event(s3_event(ROAR_OP_S3_PUT, self, "s3://b/cut", "\"c\"", 3));
    }
    const auto journals = journals_in(dir / "journals");
    REQUIRE(journals.size() == 1);
    std::filesystem::resize_file(journals[0], std::filesystem::file_size(journals[0]) - 4); // the last record's tail

    Stored stored;
    CHECK(store_left_client_jobs(dir / "journals", stored.callback()) == 1);
    REQUIRE(stored.jobs.size() == 1);
    REQUIRE(stored.jobs[0].outputs.size() == 1);
    CHECK(stored.jobs[0].outputs[0].path == "s3://b/kept");
    CHECK(journals_in(dir / "journals").empty());
}

TEST_CASE("a file that is not a journal is refused", "[collector][proxy_daemon]")
{
    test::TempDir dir;
    test::write_file(dir / "x.journal", "not a journal");
    CHECK(!client_job_from_journal(dir / "x.journal"));
}

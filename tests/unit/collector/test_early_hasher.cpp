// Early hashing: a digest taken while the job runs is used only for a file
// that nothing changed since, even when a change keeps its size and
// mtime; the tracker hands it closed outputs under their final names and
// turns it off when a file is opened read-write.
#include "roar/collector/early_hasher.hpp"
#include "roar/collector/job_tracker.hpp"

#include "raw_event.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <utility>

using namespace roar::collector;
using roar::test::TempDir;

namespace {

// Waits until `early` holds `n` digests (hashing runs on the pool).
bool wait_for_digests(const EarlyHasher& early, size_t n)
{
    for (int i = 0; i < 500 && early.size() < n; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return early.size() == n;
}

// Overwrites the first bytes of `path` in place and puts its mtime back:
// the same size, inode and mtime, different bytes (only the ctime moves).
void rewrite_keeping_identity(const std::string& path, const std::string& bytes)
{
    struct stat before;
    REQUIRE(stat(path.c_str(), &before) == 0);
    const int fd = open(path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(pwrite(fd, bytes.data(), bytes.size(), 0) == ssize_t(bytes.size()));
    close(fd);
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
    const FileIdentity after = *identify_file(path);
    REQUIRE(after.device == uint64_t(before.st_dev));
    REQUIRE(after.inode == uint64_t(before.st_ino));
    REQUIRE(after.size == uint64_t(before.st_size));
    REQUIRE(after.mtime_ns == int64_t(before.st_mtim.tv_sec) * 1000000000 + before.st_mtim.tv_nsec);
}

// A tracker that hands closed outputs to an early hasher, in a temporary
// directory, with one process (pid 100) started.
class TrackedJob {
public:
    TrackedJob()
        : m_pool(1),
          m_early([this]() -> HashPool& { return m_pool; }),
          m_tracker(m_dir.path().string(), PathFilter(PathFilter::default_excludes(), {}),
                    [](const std::string& p) { return blake3_file(p); })
    {
        m_tracker.hash_early(&m_early);
        send(ROAR_OP_PROC_START, 1, 0, 0, "/bin/sh");
    }

    void send(uint16_t op, int fd, int flags, int64_t result, std::string s1, std::string s2 = {})
    {
        m_tracker.on_event(roar::test::raw_event(op, 100, fd, flags, result, s1, s2, {}, ROAR_AT_FDCWD));
    }

    std::tuple<TempDir&, EarlyHasher&, JobTracker&> parts() { return {m_dir, m_early, m_tracker}; }

private:
    TempDir m_dir;
    HashPool m_pool;
    EarlyHasher m_early;
    JobTracker m_tracker;
};

} // namespace

TEST_CASE("an unchanged file keeps its early digest", "[collector][early_hasher]")
{
    TempDir dir;
    const std::string path = (dir / "out.bin").string();
    const std::string content(3 << 20, 'x');
    roar::test::write_file(path, content);
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    early.submit(path);
    REQUIRE(wait_for_digests(early, 1));
    CHECK_FALSE(early.digest_for(*identify_file(path))); // not before finish()
    early.finish();
    auto digest = early.digest_for(*identify_file(path));
    REQUIRE(digest);
    CHECK(digest->blake3 == blake3_hex(content));
    CHECK(early.reason().empty());
}

TEST_CASE("a file changed after its early hash is not taken, even with the same size and mtime",
          "[collector][early_hasher]")
{
    TempDir dir;
    const std::string path = (dir / "out.bin").string();
    roar::test::write_file(path, std::string(100000, 'a'));
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    early.submit(path);
    REQUIRE(wait_for_digests(early, 1));
    const FileIdentity hashed = *identify_file(path);
    rewrite_keeping_identity(path, "bbbb");
    early.finish();
    CHECK_FALSE(early.digest_for(*identify_file(path)));
    // Asked with the identity it had (as if the ctime had not moved): the
    // inotify watch reported the change.
    CHECK_FALSE(early.digest_for(hashed));
}

TEST_CASE("a file that gains a second name, or is reached through a symlink, is not taken", "[collector][early_hasher]")
{
    TempDir dir;
    const std::string linked = (dir / "linked.bin").string();
    const std::string real = (dir / "real.bin").string();
    const std::string alias = (dir / "alias.bin").string();
    roar::test::write_file(linked, "linked");
    roar::test::write_file(real, "real");
    REQUIRE(symlink(real.c_str(), alias.c_str()) == 0);
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    early.submit(linked);
    early.submit(alias);
    REQUIRE(wait_for_digests(early, 1));
    REQUIRE(link(linked.c_str(), (dir / "second_name").c_str()) == 0);
    early.finish();
    CHECK_FALSE(early.digest_for(*identify_file(linked)));
    CHECK_FALSE(early.digest_for(*identify_file(real)));
}

TEST_CASE("discard drops early digests and stops taking more", "[collector][early_hasher]")
{
    TempDir dir;
    const std::string a = (dir / "a").string(), b = (dir / "b").string();
    roar::test::write_file(a, "a");
    roar::test::write_file(b, "b");
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    early.submit(a);
    REQUIRE(wait_for_digests(early, 1));
    early.discard("a file was opened read-write");
    early.submit(b);
    early.finish();
    CHECK_FALSE(early.digest_for(*identify_file(a)));
    CHECK_FALSE(early.digest_for(*identify_file(b)));
    CHECK(early.reason() == "a file was opened read-write");
}

TEST_CASE("a forbidden file's early digest is not taken", "[collector][early_hasher]")
{
    TempDir dir;
    const std::string path = (dir / "mapped.bin").string();
    roar::test::write_file(path, std::string(5000, 'm'));
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    early.submit(path);
    REQUIRE(wait_for_digests(early, 1));
    early.finish();
    const FileIdentity id = *identify_file(path);
    REQUIRE(early.digest_for(id));
    early.forbid(id.device, id.inode);
    CHECK_FALSE(early.digest_for(id));
    CHECK(early.reason().empty());
}

TEST_CASE("the tracker hashes a closed output early under its final name; a read-write open forbids only its own "
          "file, unless it cannot tell which file that is",
          "[collector][early_hasher][tracker]")
{
    TrackedJob t;
    auto [dir, early, tracker] = t.parts();
    auto send = [&t](auto&&... event) { t.send(std::forward<decltype(event)>(event)...); };
    // Written, closed, then renamed before the tracker hands it over.
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "ckpt.tmp");
    roar::test::write_file(dir / "ckpt.tmp", "weights");
    send(ROAR_OP_CLOSE, 3, 0, 0, "");
    REQUIRE(rename((dir / "ckpt.tmp").c_str(), (dir / "epoch_0.pt").c_str()) == 0);
    send(ROAR_OP_RENAME, ROAR_AT_FDCWD, 0, 0, "ckpt.tmp", "epoch_0.pt");
    tracker.start_early_hashes();
    REQUIRE(wait_for_digests(early, 1));
    // A read-only open changes nothing; a read-write one could back a
    // mapping of that file, and of no other.
    roar::test::write_file(dir / "in.txt", "in");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 4, "in.txt");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDWR, 5, "in.txt");
    CHECK(early.size() == 1);
    CHECK(early.reason().empty());
    // Through a symbolic link the file opened may not be the one the link
    // names when the event is read: nothing early is trusted.
    REQUIRE(symlink("epoch_0.pt", (dir / "link.pt").c_str()) == 0);
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDWR, 6, "link.pt");
    CHECK(early.size() == 0);
    CHECK(early.reason().find("link.pt was opened read-write") != std::string::npos);
    JobRecord job;
    tracker.finish(job);
    REQUIRE(job.outputs.size() == 1);
    CHECK(job.outputs[0].path == (dir / "epoch_0.pt").string());
    CHECK(job.outputs[0].hashes.at("blake3") == blake3_hex("weights"));
}

TEST_CASE("a file opened read-write and renamed before the tracker reads the open gets no early digest",
          "[collector][early_hasher][tracker]")
{
    TrackedJob t;
    auto [dir, early, tracker] = t.parts();
    auto send = [&t](auto&&... event) { t.send(std::forward<decltype(event)>(event)...); };
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "out.bin");
    roar::test::write_file(dir / "out.bin", "original");
    send(ROAR_OP_CLOSE, 3, 0, 0, "");
    tracker.start_early_hashes();
    REQUIRE(wait_for_digests(early, 1));
    // The job reopens it read-write (to map it), renames it into place and
    // starts a new out.bin, all before the tracker reads the reopen: at
    // that moment out.bin is the new file.
    REQUIRE(rename((dir / "out.bin").c_str(), (dir / "final.bin").c_str()) == 0);
    roar::test::write_file(dir / "out.bin", "other");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDWR, 4, "out.bin");
    send(ROAR_OP_RENAME, ROAR_AT_FDCWD, 0, 0, "out.bin", "final.bin");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 5, "out.bin");
    send(ROAR_OP_CLOSE, 5, 0, 0, "");
    send(ROAR_OP_CLOSE, 4, 0, 0, "");
    const FileIdentity mapped = *identify_file((dir / "final.bin").string());
    CHECK(early.reason().empty());
    JobRecord job;
    tracker.finish(job);
    CHECK_FALSE(early.digest_for(mapped)); // hashed after the job instead
    REQUIRE(job.outputs.size() == 2);
    CHECK(job.outputs[0].path == (dir / "final.bin").string());
    CHECK(job.outputs[0].hashes.at("blake3") == blake3_hex("original"));
}

TEST_CASE("a checkpoint written to a temp name and renamed every epoch is hashed early every epoch; a file "
          "rewritten in place at most twice",
          "[collector][early_hasher][tracker]")
{
    TrackedJob t;
    auto [dir, early, tracker] = t.parts();
    auto send = [&t](auto&&... event) { t.send(std::forward<decltype(event)>(event)...); };
    // The temp name is handed over before the rename is seen: the tracker
    // drained the close on its own, as it does when the job is slower.
    constexpr size_t k_epochs = 4;
    for (size_t epoch = 0; epoch < k_epochs; ++epoch) {
        const std::string final_name = "epoch_" + std::to_string(epoch) + ".pt";
        send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "ckpt.tmp");
        roar::test::write_file(dir / "ckpt.tmp", "weights of epoch " + std::to_string(epoch));
        send(ROAR_OP_CLOSE, 3, 0, 0, "");
        tracker.start_early_hashes();
        REQUIRE(wait_for_digests(early, epoch + 1));
        REQUIRE(rename((dir / "ckpt.tmp").c_str(), (dir / final_name).c_str()) == 0);
        send(ROAR_OP_RENAME, ROAR_AT_FDCWD, 0, 0, "ckpt.tmp", final_name);
    }
    // The same file truncated and rewritten, closed each time: hashed after
    // its first two closes only (each version is a new size, a new digest).
    for (size_t round = 0; round < 4; ++round) {
        send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "log.txt");
        roar::test::write_file(dir / "log.txt", std::string(10 + round, 'l'));
        send(ROAR_OP_CLOSE, 4, 0, 0, "");
        tracker.start_early_hashes();
        REQUIRE(wait_for_digests(early, k_epochs + std::min<size_t>(round + 1, 2)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // a third hash would land by now
    CHECK(early.size() == k_epochs + 2);
    JobRecord job;
    tracker.finish(job);
    REQUIRE(job.outputs.size() == k_epochs + 1);
    for (size_t epoch = 0; epoch < k_epochs; ++epoch) {
        CHECK(job.outputs[epoch].path == (dir / ("epoch_" + std::to_string(epoch) + ".pt")).string());
        CHECK(job.outputs[epoch].hashes.at("blake3") == blake3_hex("weights of epoch " + std::to_string(epoch)));
    }
}

namespace {

// Writes `content` to `path` and dates it ten seconds back: an input the
// early hasher may take (the hash cache's two-second rule).
void write_settled(const std::filesystem::path& path, const std::string& content)
{
    roar::test::write_file(path, content);
    struct timespec then;
    clock_gettime(CLOCK_REALTIME, &then);
    then.tv_sec -= 10;
    const struct timespec times[2] = {then, then};
    REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

} // namespace

TEST_CASE("an input's digest is taken early from the cache when it has it, else hashed; a file changed in the last "
          "two seconds is left to the end",
          "[collector][early_hasher]")
{
    TempDir dir;
    const std::string cached = (dir / "cached.bin").string(), fresh = (dir / "fresh.bin").string(),
                      recent = (dir / "recent.bin").string();
    write_settled(cached, "cached");
    write_settled(fresh, "fresh");
    roar::test::write_file(recent, "recent");
    const FileIdentity cached_id = *identify_file(cached);
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    size_t lookups = 0, batches = 0;
    early.use_cache([&](std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out) {
        ++batches;
        out.assign(ids.size(), std::nullopt);
        for (size_t i = 0; i < ids.size(); ++i) {
            ++lookups;
            if (ids[i] == cached_id) {
                out[i] = blake3_hex("what the cache says");
            }
        }
    });
    early.submit_inputs({cached, fresh, recent});
    REQUIRE(wait_for_digests(early, 2));
    early.finish();
    CHECK(lookups == 2); // the recent file is not even looked up
    CHECK(batches == 1); // the batch's files are looked up together
    bool from_cache = false;
    auto a = early.digest_for(cached_id, &from_cache);
    REQUIRE(a);
    CHECK(a->blake3 == blake3_hex("what the cache says"));
    CHECK(from_cache);
    auto b = early.digest_for(*identify_file(fresh), &from_cache);
    REQUIRE(b);
    CHECK(b->blake3 == blake3_hex("fresh"));
    CHECK_FALSE(from_cache);
    CHECK_FALSE(early.digest_for(*identify_file(recent)));
}

TEST_CASE("a long batch of inputs is looked up a chunk at a time", "[collector][early_hasher]")
{
    TempDir dir;
    std::vector<std::string> paths;
    for (size_t i = 0; i < EarlyHasher::k_input_chunk + 10; ++i) {
        paths.push_back((dir / ("in" + std::to_string(i))).string());
        write_settled(paths.back(), "input " + std::to_string(i));
    }
    HashPool pool(1);
    EarlyHasher early([&]() -> HashPool& { return pool; });
    std::vector<size_t> batch_sizes;
    early.use_cache([&](std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out) {
        batch_sizes.push_back(ids.size());
        out.assign(ids.size(), blake3_hex("from the cache"));
    });
    early.submit_inputs(paths);
    REQUIRE(wait_for_digests(early, paths.size()));
    early.finish();
    CHECK(batch_sizes == std::vector<size_t>{EarlyHasher::k_input_chunk, 10});
    bool from_cache = false;
    auto last = early.digest_for(*identify_file(paths.back()), &from_cache);
    REQUIRE(last);
    CHECK(last->blake3 == blake3_hex("from the cache"));
    CHECK(from_cache);
}

TEST_CASE("an input changed after its early digest, forbidden, or discarded is not taken", "[collector][early_hasher]")
{
    TempDir dir;
    const std::string changed = (dir / "changed").string(), mapped = (dir / "mapped").string(),
                      other = (dir / "other").string();
    write_settled(changed, "before");
    write_settled(mapped, "mapped");
    write_settled(other, "other");
    HashPool pool(1);
    {
        EarlyHasher early([&]() -> HashPool& { return pool; });
        early.submit_inputs({changed, mapped});
        REQUIRE(wait_for_digests(early, 2));
        roar::test::write_file(changed, "after, and longer"); // a new size and mtime
        const FileIdentity mapped_id = *identify_file(mapped);
        early.forbid(mapped_id.device, mapped_id.inode);
        early.finish();
        CHECK_FALSE(early.digest_for(*identify_file(changed)));
        CHECK_FALSE(early.digest_for(mapped_id));
    }
    EarlyHasher early([&]() -> HashPool& { return pool; });
    early.submit_inputs({other});
    REQUIRE(wait_for_digests(early, 1));
    early.discard("events were lost");
    early.finish();
    CHECK_FALSE(early.digest_for(*identify_file(other)));
}

TEST_CASE("the tracker takes a closed input's digest early, once per path, and only for a recorded file the job "
          "has not written",
          "[collector][early_hasher][tracker]")
{
    TrackedJob t;
    auto [dir, early, tracker] = t.parts();
    auto send = [&t](auto&&... event) { t.send(std::forward<decltype(event)>(event)...); };
    write_settled(dir / "data.csv", "rows");
    write_settled(dir / "notes.txt", "notes");
    size_t lookups = 0; // one per input taken (outputs are not looked up)
    early.use_cache([&](std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out) {
        lookups += ids.size();
        out.assign(ids.size(), std::nullopt);
    });
    // Read and closed twice: taken once.
    for (int round = 0; round < 2; ++round) {
        send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 3, "data.csv");
        send(ROAR_OP_CLOSE, 3, 0, 0, "");
        tracker.start_early_hashes();
    }
    REQUIRE(wait_for_digests(early, 1));
    // Written, then read: an output, not an input.
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 4, "notes.txt");
    send(ROAR_OP_CLOSE, 4, 0, 0, "");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 5, "notes.txt");
    send(ROAR_OP_CLOSE, 5, 0, 0, "");
    // Filtered out: never recorded, so never hashed.
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 6, "/etc/hostname");
    send(ROAR_OP_CLOSE, 6, 0, 0, "");
    tracker.start_early_hashes();
    REQUIRE(wait_for_digests(early, 2));                         // data.csv, and notes.txt as an output
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // anything more would land by now
    CHECK(early.size() == 2);
    early.finish();
    CHECK(lookups == 1);
    bool from_cache = true;
    auto digest = early.digest_for(*identify_file((dir / "data.csv").string()), &from_cache);
    REQUIRE(digest);
    CHECK(digest->blake3 == blake3_hex("rows"));
    CHECK_FALSE(from_cache);
}

// Hashing files the job has finished writing, and files it has finished
// reading, while the job still runs, so that little is left to hash after
// it (docs/ARCHITECTURE.md, "Hashing during the job"). An output's digest
// taken early is used only if the kernel reported no change to the file's
// inode since it was opened for hashing (inotify); an input's only if its
// mtime was two seconds old when it was hashed (the hash cache's rule: a
// later change moves the mtime). Either is used only if the identity is
// the same at the end, and nothing in the job could have changed the file
// unseen (a shared writable mapping, an unobserved process, a lost
// event): the tracker says so through forbid() for one file, discard()
// for all.
#pragma once

#include "roar/collector/file_hasher.hpp"
#include "roar/collector/hash_pool.hpp"

#include <array>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace roar::collector {

class EarlyHasher {
public:
    // `pool` returns the pool to hash on; it is first called at the first
    // submit (so its threads start only after the job has been forked).
    explicit EarlyHasher(std::function<HashPool&()> pool);
    EarlyHasher(const EarlyHasher&) = delete;
    EarlyHasher& operator=(const EarlyHasher&) = delete;
    ~EarlyHasher();

    // Queues the hashing of the file at `path` (which the job has just
    // closed after writing); does nothing once discarded or finished.
    void submit(const std::string& path);

    // Where submit_inputs() finds digests already known (the hash cache,
    // asked for a batch's files at once: `out` gets one entry per identity,
    // in order). Called on the pool's threads, one at a time. Before any
    // submit.
    using CacheLookup =
        std::function<void(std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out)>;
    void use_cache(CacheLookup lookup);

    // Queues taking the digests of the files at `paths`, which the job has
    // just closed after reading them: from the cache, else hashed, one
    // task for them all. Files changed in the last two seconds are left to
    // the end of the job, and so is every input past k_max_inputs (their
    // digests are held until then).
    void submit_inputs(std::vector<std::string> paths);
    static constexpr size_t k_max_inputs = 65536;
    // A batch's inputs are stat'ed and looked up this many at a time (one
    // cache transaction each), so that finish() waits for one chunk at most.
    static constexpr size_t k_input_chunk = 256;

    // Trusts no early digest from now on and takes no more; `reason` is
    // kept for reason().
    void discard(const std::string& reason);

    // Never trusts an early digest of the file (device, inode): the job
    // opened it read-write, so a shared writable mapping may change it
    // with no event and no inotify report.
    void forbid(uint64_t device, uint64_t inode);

    // Ends early hashing, after the job: drops queued hashes, waits for
    // running ones and reads what the kernel reported about watched files.
    void finish();

    // After finish(): the early digest of the file with identity `id`, if
    // it was taken early and nothing has changed it since; `from_cache` is
    // set when it came from the hash cache (it need not be stored again).
    std::optional<FileDigest> digest_for(const FileIdentity& id, bool* from_cache = nullptr) const;

    // Why early digests are not used ("" if they are), and how many there are.
    std::string reason() const;
    size_t size() const;

private:
    void hash(const std::string& path);
    void take_inputs(const std::vector<std::string>& paths);
    void take_input(const std::string& path, const FileIdentity& id, std::optional<std::string> known);

    std::function<HashPool&()> m_pool;
    int m_inotify = -1;
    mutable std::mutex m_mutex;
    std::condition_variable m_idle;
    size_t m_queued = 0;      // submitted and not yet done or dropped
    bool m_closed = false;    // finish() or discard(): no new hashes
    bool m_discarded = false; // discard(): no digest is kept
    std::string m_reason;
    // Digests by (device, inode, size, mtime_ns, ctime_ns), with the inotify watch of the inode.
    std::map<std::tuple<uint64_t, uint64_t, uint64_t, int64_t, int64_t>, std::pair<FileDigest, int>> m_digests;
    std::set<int> m_changed;                             // watches that reported a change
    std::set<std::pair<uint64_t, uint64_t>> m_forbidden; // (device, inode): forbid()
    // Inputs: BLAKE3 as bytes by (device, inode, size, mtime_ns, ctime_ns),
    // and whether it came from the cache.
    std::map<std::tuple<uint64_t, uint64_t, uint64_t, int64_t, int64_t>, std::pair<std::array<uint8_t, 32>, bool>>
        m_inputs;
    size_t m_inputs_taken = 0; // submitted with submit_inputs
    std::mutex m_lookup_mutex; // one lookup at a time: the cache's connection is not shared
    CacheLookup m_lookup;
};

} // namespace roar::collector

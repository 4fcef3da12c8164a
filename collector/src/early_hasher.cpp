// Early hashing (see early_hasher.hpp). Why each check is there:
//  - the inotify watch is added on the open file (/proc/self/fd/N) before
//    its identity is taken and its bytes read: any write, truncate or
//    transfer into it that completes later (even one already running, or
//    by a process roar does not see) queues IN_MODIFY, and a new hard link
//    or a timestamp reset IN_ATTRIB, so a change can never hide behind an
//    unchanged size and mtime;
//  - the file must be reached by its own path and have one link, so that
//    the job's opens of other names (which the tracker cannot tie to it)
//    do not exist;
//  - stores through a shared writable mapping are the one change inotify
//    does not report: the tracker forbids the digest of each file the job
//    opens read-write (a mapping needs that), and discards everything
//    when it cannot tell which file that was or may have missed such an
//    open;
//  - an input is not watched (a job may read a hundred thousand files):
//    it is taken only when its mtime is two seconds old, as the hash cache
//    trusts a file, so that any later change moves the mtime and the
//    identity at the end no longer matches.
#include "roar/collector/early_hasher.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roar/collector/blake3_tree.hpp"
#include "roar/collector/hex_digit.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fmt/format.h>

namespace roar::collector {

namespace {

auto key_of(const FileIdentity& id) { return std::make_tuple(id.device, id.inode, id.size, id.mtime_ns, id.ctime_ns); }

} // namespace

EarlyHasher::EarlyHasher(std::function<HashPool&()> pool) : m_pool(std::move(pool))
{
    m_inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m_inotify < 0) {
        m_closed = true;
        m_reason = fmt::format("inotify is not available ({})", std::strerror(errno));
    }
}

EarlyHasher::~EarlyHasher()
{
    finish();
    if (m_inotify >= 0) {
        close(m_inotify);
    }
}

void EarlyHasher::submit(const std::string& path)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed) {
            return;
        }
        ++m_queued;
    }
    m_pool().post([this, path] {
        hash(path);
        std::lock_guard lock(m_mutex);
        --m_queued;
        m_idle.notify_all();
    });
}

void EarlyHasher::use_cache(CacheLookup lookup)
{
    std::lock_guard lock(m_lookup_mutex);
    m_lookup = std::move(lookup);
}

void EarlyHasher::submit_inputs(std::vector<std::string> paths)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed || m_inputs_taken >= k_max_inputs) {
            return;
        }
        paths.resize(std::min(paths.size(), k_max_inputs - m_inputs_taken));
        m_inputs_taken += paths.size();
        ++m_queued;
    }
    m_pool().post([this, paths = std::move(paths)] {
        take_inputs(paths);
        std::lock_guard lock(m_mutex);
        --m_queued;
        m_idle.notify_all();
    });
}

void EarlyHasher::take_inputs(const std::vector<std::string>& paths)
{
    const auto closed = [this] {
        std::lock_guard lock(m_mutex);
        return m_closed; // finish() came first: the end of the job takes the rest
    };
    // A chunk at a time, so that finish() waits for one chunk at most:
    // stats first, then the cache for the whole chunk at once (a file the
    // cache knows is not opened at all), then the misses hashed.
    std::vector<const std::string*> settled;
    std::vector<FileIdentity> ids;
    std::vector<std::optional<std::string>> known;
    for (size_t first = 0; first < paths.size(); first += k_input_chunk) {
        if (closed()) {
            return;
        }
        settled.clear();
        ids.clear();
        for (size_t k = first; k < std::min(paths.size(), first + k_input_chunk); ++k) {
            struct stat st;
            if (stat(paths[k].c_str(), &st) == 0 && S_ISREG(st.st_mode) && identity_settled(identity_of(st))) {
                settled.push_back(&paths[k]);
                ids.push_back(identity_of(st));
            }
        }
        known.assign(ids.size(), std::nullopt);
        if (!ids.empty()) {
            std::lock_guard lock(m_lookup_mutex);
            if (m_lookup) {
                m_lookup(ids, known);
                known.resize(ids.size());
            }
        }
        for (size_t i = 0; i < ids.size(); ++i) {
            if (!known[i] && closed()) {
                return; // a file to hash, which may be large
            }
            take_input(*settled[i], ids[i], std::move(known[i]));
        }
    }
}

void EarlyHasher::take_input(const std::string& path, const FileIdentity& id, std::optional<std::string> known)
{
    const bool from_cache = known.has_value();
    std::optional<FileDigest> digest;
    if (from_cache) {
        digest = FileDigest{std::move(*known), id, false};
    } else {
        // O_NONBLOCK: a FIFO put at the path since must not block the pool.
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            return;
        }
        // The file opened must be the one stat'ed (blake3_fd checks it is
        // unchanged while it reads).
        if (auto hashed = blake3_fd(fd, path); hashed && !hashed->changed_while_hashing && hashed->identity == id) {
            digest = std::move(*hashed);
        }
        close(fd);
    }
    const auto bytes = digest ? digest_bytes(digest->blake3) : std::nullopt;
    if (!bytes) {
        return;
    }
    std::lock_guard lock(m_mutex);
    if (!m_discarded) {
        m_inputs[key_of(id)] = {*bytes, from_cache};
    }
}

void EarlyHasher::hash(const std::string& path)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_closed) {
            return; // finish() came first: the end-of-job batch hashes it
        }
    }
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) {
        return;
    }
    const std::string self = fmt::format("/proc/self/fd/{}", fd);
    struct stat st;
    char target[PATH_MAX];
    const ssize_t n = readlink(self.c_str(), target, sizeof target);
    const bool own_name = n > 0 && size_t(n) < sizeof target && std::string_view(target, size_t(n)) == path;
    int wd = -1;
    if (own_name && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
        wd = inotify_add_watch(m_inotify, self.c_str(), IN_MODIFY | IN_ATTRIB);
    }
    if (wd < 0) {
        close(fd);
        return;
    }
    auto digest = blake3_fd(fd, path);
    close(fd);
    if (!digest || digest->changed_while_hashing) {
        return;
    }
    std::lock_guard lock(m_mutex);
    if (!m_discarded) {
        m_digests[key_of(digest->identity)] = {*digest, wd};
    }
}

void EarlyHasher::discard(const std::string& reason)
{
    std::lock_guard lock(m_mutex);
    if (m_reason.empty()) {
        m_reason = reason;
    }
    m_closed = true;
    m_discarded = true;
    m_digests.clear();
    m_inputs.clear();
}

void EarlyHasher::forbid(uint64_t device, uint64_t inode)
{
    std::lock_guard lock(m_mutex);
    m_forbidden.emplace(device, inode);
}

void EarlyHasher::finish()
{
    std::unique_lock lock(m_mutex);
    m_closed = true;
    m_idle.wait(lock, [this] { return m_queued == 0; });
    if (m_inotify < 0) {
        return;
    }
    // Every change to a watched inode made so far is queued: the job is over.
    alignas(inotify_event) char buf[64 * 1024];
    for (;;) {
        const ssize_t n = read(m_inotify, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            if (ev->mask & IN_Q_OVERFLOW) {
                if (m_reason.empty()) {
                    m_reason = "too many file changes were reported to tell which files changed";
                }
                m_digests.clear(); // inputs are not watched: an overflow says nothing of them
            } else if (ev->mask & (IN_MODIFY | IN_ATTRIB)) {
                m_changed.insert(ev->wd);
            }
            off += ssize_t(sizeof(inotify_event) + ev->len);
        }
    }
    std::erase_if(m_digests, [this](const auto& kv) { return m_changed.count(kv.second.second) != 0; });
}

std::optional<FileDigest> EarlyHasher::digest_for(const FileIdentity& id, bool* from_cache) const
{
    std::lock_guard lock(m_mutex);
    if (!m_closed || m_queued != 0 || m_forbidden.count({id.device, id.inode})) {
        return std::nullopt;
    }
    if (auto it = m_digests.find(key_of(id)); it != m_digests.end()) {
        if (from_cache) {
            *from_cache = false;
        }
        return it->second.first;
    }
    if (auto it = m_inputs.find(key_of(id)); it != m_inputs.end()) {
        if (from_cache) {
            *from_cache = it->second.second;
        }
        return FileDigest{blake3::to_hex(it->second.first), id, false};
    }
    return std::nullopt;
}

std::string EarlyHasher::reason() const
{
    std::lock_guard lock(m_mutex);
    return m_reason;
}

size_t EarlyHasher::size() const
{
    std::lock_guard lock(m_mutex);
    return m_digests.size() + m_inputs.size();
}

} // namespace roar::collector

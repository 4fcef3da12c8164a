// The hash cache (see Store::digest_file): (device, inode, size,
// mtime_ns, ctime_ns) -> BLAKE3, looked up in (device, inode) order inside one read
// transaction, with new entries kept in memory until a writer's next
// transaction. A reader only looks up. A shared (PostgreSQL) store keeps
// the cache in a local SQLite file (Store::cache_engine).
#include "roar/collector/store/store.hpp"

#include "bulk_insert.hpp"

#include "roar/collector/store/sqlite_engine.hpp"

#include <algorithm>
#include <chrono>

namespace roar::collector {

namespace {

constexpr const char* k_cache_lookup = "SELECT digest FROM hash_cache WHERE device = ?1 AND inode = ?2 AND "
                                       "algorithm = 'blake3' AND size = ?3 AND mtime_ns = ?4 AND ctime_ns = ?5";
// Past this many lookups in one call, their pages are not kept cached.
constexpr size_t k_lookups_kept = 1024;
// A batch of at least this many files is stat'ed on the hashing threads too.
constexpr size_t k_parallel_stats = 64;
// The cache is always an SQLite database (the store's, or the local file).
constexpr const char* k_cache_store_head =
    "INSERT OR REPLACE INTO hash_cache (device, inode, size, mtime_ns, ctime_ns, algorithm, digest)";

std::tuple<uint64_t, uint64_t, uint64_t, int64_t, int64_t> cache_key(const FileIdentity& id)
{
    return {id.device, id.inode, id.size, id.mtime_ns, id.ctime_ns};
}

// Binds `id` to k_cache_lookup's parameters.
void bind_lookup(SqlStatement& lookup, const FileIdentity& id)
{
    lookup.bind(1, id.device).bind(2, id.inode).bind(3, id.size).bind(4, id.mtime_ns).bind(5, id.ctime_ns);
}

} // namespace

void Store::write_pending_cache()
{
    // In (device, inode) order, a thousand rows a statement.
    std::vector<const std::pair<const CacheKey, CachedDigest>*> entries;
    entries.reserve(m_pending_cache.size());
    for (const auto& entry : m_pending_cache) {
        entries.push_back(&entry);
    }
    store_detail::RowInserter add(*cache_engine(), k_cache_store_head, "", 7);
    add.insert(entries.size(), [&](SqlStatement& q, size_t i, int p) {
        const auto& [key, digest] = *entries[i];
        q.bind(p, std::get<0>(key)).bind(p + 1, std::get<1>(key));
        q.bind(p + 2, std::get<2>(key)).bind(p + 3, std::get<3>(key)).bind(p + 4, std::get<4>(key));
        q.bind(p + 5, "blake3").bind(p + 6, std::string_view(digest.data(), digest.size()));
    });
    m_pending_cache.clear();
}

void Store::flush_hash_cache()
{
    StoreEngine* cache = m_engine ? cache_engine() : nullptr;
    if (m_pending_cache.empty() || !cache || cache->access() != Access::write) {
        return;
    }
    // The cache is an optimisation: never wait long for another job's lock.
    cache->set_lock_wait(std::chrono::milliseconds(200));
    try {
        cache->begin_write();
        write_pending_cache();
        cache->commit();
    } catch (const FatalError&) {
        cache->rollback();
        m_pending_cache.clear();
    }
    cache->set_lock_wait(k_store_lock_wait);
    // While a job of many files is recorded, these writes would otherwise
    // keep a full page cache (64 MiB) alive next to the job's record.
    cache->release_memory();
}

Result<FileDigest> Store::digest_file(const std::string& path)
{
    auto identity = identify_file(path);
    if (!identity) {
        return tl::unexpected(identity.error());
    }
    if (identity->is_regular && cache_engine()) {
        if (auto pending = m_pending_cache.find(cache_key(*identity)); pending != m_pending_cache.end()) {
            return FileDigest{std::string(pending->second.data(), pending->second.size()), *identity, false};
        }
        SqlStatement& lookup = cache_prepared(k_cache_lookup);
        bind_lookup(lookup, *identity);
        if (lookup.step()) {
            FileDigest hit{lookup.column_text(0), *identity, false};
            lookup.reset();
            return hit;
        }
        lookup.reset();
    }
    auto digest = blake3_file(path);
    if (digest) {
        remember_digest(*digest);
    }
    return digest;
}

std::vector<Result<FileDigest>> Store::digest_files(const std::vector<std::string>& paths, HashPool& pool,
                                                    const EarlyHasher* early)
{
    std::vector<Result<FileDigest>> out(paths.size());
    // Each file's stat, on every core when there are many: after a job that
    // read thousands of files, their stats were most of this (row 2a in
    // docs/benchmarks.md).
    std::vector<Result<FileIdentity>> identities(paths.size());
    const auto identify = [&](size_t i) { identities[i] = identify_file(paths[i]); };
    if (paths.size() >= k_parallel_stats) {
        pool.for_each(paths.size(), identify);
    } else {
        for (size_t i = 0; i < paths.size(); ++i) {
            identify(i);
        }
    }
    std::vector<FileIdentity> ids(paths.size());
    std::vector<size_t> regular;
    regular.reserve(paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
        auto& identity = identities[i];
        if (!identity) {
            out[i] = tl::unexpected(identity.error());
        } else if (!identity->is_regular) {
            // Not opened at all: opening a FIFO for reading would block.
            out[i] = fail("{} is not a regular file", paths[i]);
        } else if (bool from_cache = false;
                   auto hashed = early ? early->digest_for(*identity, &from_cache) : std::nullopt) {
            out[i] = std::move(*hashed);
            if (!from_cache) {
                remember_digest(*out[i]);
            }
        } else {
            ids[i] = *identity;
            regular.push_back(i);
        }
    }
    // In (device, inode) order the lookups walk the cache's b-tree forwards.
    std::sort(regular.begin(), regular.end(), [&](size_t a, size_t b) {
        return std::tie(ids[a].device, ids[a].inode) < std::tie(ids[b].device, ids[b].inode);
    });
    std::vector<size_t> misses;
    StoreEngine* cache = cache_engine();
    if (!cache) { // a reader of a shared store without a local cache
        misses = regular;
        regular.clear();
    }
    // One read transaction for all lookups, not one (with its file locks) each.
    const bool own_transaction = cache && !cache->in_transaction();
    if (own_transaction) {
        cache->begin_read();
    }
    try {
        for (size_t i : regular) {
            SqlStatement& lookup = cache_prepared(k_cache_lookup);
            const FileIdentity& id = ids[i];
            if (auto pending = m_pending_cache.find(cache_key(id)); pending != m_pending_cache.end()) {
                out[i] = FileDigest{std::string(pending->second.data(), pending->second.size()), id, false};
                continue;
            }
            bind_lookup(lookup, id);
            if (lookup.step()) {
                out[i] = FileDigest{lookup.column_text(0), id, false};
            } else {
                misses.push_back(i);
            }
            lookup.reset();
        }
    } catch (const FatalError&) {
        if (own_transaction) {
            cache->rollback();
        }
        throw;
    }
    if (own_transaction) {
        cache->commit();
        // The lookups of a job's many files walk the cache's b-tree forwards,
        // batch after batch, and would keep a full page cache (64 MiB) next
        // to the job's record; a batch after this one re-reads the few
        // pages it shares with it.
        if (regular.size() >= k_lookups_kept) {
            cache->release_memory();
        }
    }
    std::vector<std::string> to_hash;
    to_hash.reserve(misses.size());
    for (size_t i : misses) {
        to_hash.push_back(paths[i]);
    }
    auto hashed = pool.hash_all(to_hash);
    for (size_t k = 0; k < misses.size(); ++k) {
        if (hashed[k]) {
            remember_digest(*hashed[k]);
        }
        out[misses[k]] = std::move(hashed[k]);
    }
    // Kept for the job's own transaction, the new entries of a job with a
    // million inputs would hold about 130 MB until the job is stored: past
    // this many they are written now, in a transaction of their own.
    if (m_pending_cache.size() >= m_pending_cache_limit && cache && !cache->in_transaction()) {
        flush_hash_cache();
    }
    return out;
}

namespace {

// The hash cache read for another thread (the tracer's, the early inputs'
// pool) on a read-only connection of its own, opened by the first lookup
// on the thread that asks: most jobs never ask, and opening it cost every
// job 0.8 ms. It never waits for a lock: a busy or unreadable cache is a
// miss, and the file is hashed instead.
class ThreadCacheReader {
public:
    explicit ThreadCacheReader(std::filesystem::path file) : m_file(std::move(file)) { }

    std::optional<std::string> find(const FileIdentity& id)
    {
        if (!ready()) {
            return std::nullopt;
        }
        try {
            return find_one(id);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    // One read transaction for the batch: a lookup on its own takes the
    // WAL's read lock and checks the file (fcntl, fstat, fcntl) every time.
    void find_all(std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out)
    {
        out.assign(ids.size(), std::nullopt);
        if (!ready()) {
            return;
        }
        try {
            m_engine->begin_read();
            for (size_t i = 0; i < ids.size(); ++i) {
                out[i] = find_one(ids[i]);
            }
            m_engine->commit();
        } catch (const std::exception&) {
            m_engine->rollback(); // what was found stands; the rest are misses
        }
    }

private:
    bool ready()
    {
        if (!m_tried) {
            open();
        }
        return m_lookup != nullptr;
    }

    void open()
    {
        m_tried = true;
        auto opened = SqliteEngine::open(m_file, Access::read);
        if (!opened || (*opened)->schema_version() < k_schema_version) {
            return;
        }
        (*opened)->set_lock_wait(std::chrono::milliseconds(0));
        try {
            m_lookup = (*opened)->prepare(k_cache_lookup);
            m_engine = std::move(*opened);
        } catch (const std::exception&) {
            m_lookup.reset();
        }
    }

    std::optional<std::string> find_one(const FileIdentity& id)
    {
        SqlStatement& q = *m_lookup;
        q.reset();
        bind_lookup(q, id);
        std::optional<std::string> hit;
        if (q.step()) {
            hit = q.column_text(0);
        }
        q.reset();
        return hit;
    }

    std::filesystem::path m_file;
    bool m_tried = false;
    std::unique_ptr<SqliteEngine> m_engine;
    std::unique_ptr<SqlStatement> m_lookup;
};

} // namespace

std::filesystem::path Store::thread_cache_file() const
{
    const StoreEngine* cache = m_engine ? cache_engine() : nullptr;
    if (!cache) {
        return {};
    }
    return m_where.shared() ? m_where.local_cache : m_where.sqlite_file;
}

std::function<std::optional<std::string>(const FileIdentity&)> Store::cache_lookup_for_thread() const
{
    std::filesystem::path file = thread_cache_file();
    if (file.empty()) {
        return {};
    }
    auto reader = std::make_shared<ThreadCacheReader>(std::move(file));
    return [reader](const FileIdentity& id) { return reader->find(id); };
}

Store::CacheBatchLookup Store::cache_batch_lookup_for_thread() const
{
    std::filesystem::path file = thread_cache_file();
    if (file.empty()) {
        return {};
    }
    auto reader = std::make_shared<ThreadCacheReader>(std::move(file));
    return [reader](std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out) {
        reader->find_all(ids, out);
    };
}

void Store::remember_digests(const std::vector<FileDigest>& digests)
{
    for (const FileDigest& digest : digests) {
        remember_digest(digest);
    }
}

void Store::remember_digest(const FileDigest& digest)
{
    // A file modified within the last two seconds may change again without
    // its mtime moving (coarse timestamps): don't trust it to the cache.
    const StoreEngine* cache = cache_engine();
    if (cache && cache->access() == Access::write && !digest.changed_while_hashing
        && identity_settled(digest.identity)) {
        const FileIdentity& id = digest.identity;
        CachedDigest hex;
        if (digest.blake3.size() == hex.size()) {
            std::copy(digest.blake3.begin(), digest.blake3.end(), hex.begin());
            m_pending_cache[cache_key(id)] = hex;
        }
    }
}

} // namespace roar::collector

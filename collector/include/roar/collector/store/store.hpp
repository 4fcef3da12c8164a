// The lineage store: the one owner of roar's data. It opens the database
// through an engine (engine.hpp; SQLite in sqlite_engine.hpp), and holds
// every statement roar runs: writing a job with its steps, sessions and
// artifacts, the hash cache, and the typed questions show, log, dag,
// status, `roar run @N`, the stale report and `roar reset` ask. Callers get
// structs (records.hpp), never a connection or SQL.
//
// A store opened for reading never writes: no migration, no journal-mode
// switch, no hash-cache entries. Only a store opened for writing records.
#pragma once

#include "roar/collector/early_hasher.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/hash_pool.hpp"
#include "roar/collector/job_record.hpp"
#include "roar/collector/result.hpp"
#include "roar/collector/store/engine.hpp"
#include "roar/collector/store/records.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace roar::collector {

// Where a project's lineage lives: the SQLite file .roar/roar.db, or,
// when `url` is set (postgresql://USER@HOST:PORT/DB), project `project` on
// that PostgreSQL server, with this machine's hash cache in the SQLite
// file `local_cache` (the cache is keyed by device and inode, which mean
// nothing on another machine).
struct StoreLocation {
    std::filesystem::path sqlite_file;
    std::string url;
    std::string project;
    std::filesystem::path local_cache;
    // A pgpass file for libpq to read (the project's own, when `roar init
    // --store` was given a password); empty for PGPASSFILE or ~/.pgpass.
    std::filesystem::path passfile;
    bool shared() const { return !url.empty(); }
};

// One use of a scan: the path's id (path_names() gives its text) and the
// artifact (0 when unknown).
struct ScannedUse {
    int64_t path_id = 0;
    int64_t artifact = 0;
    friend auto operator<=>(const ScannedUse&, const ScannedUse&) = default;
};
// Receives a scan's uses a job at a time: the job's row id and all its
// uses of the direction being scanned, by path id.
using UseSink = std::function<void(int64_t job_row, std::span<const ScannedUse> rows)>;

class Store {
public:
    // Creates a new store at `where` with the current schema (the file must
    // not exist; a PostgreSQL project is created, or joined when it exists).
    static Result<Store> create(const StoreLocation& where);

    // Opens the existing store at `where` for `access`. A reader that finds
    // an older schema upgrades it when this user can write the database
    // (writers always do), and otherwise fails with one line saying what to
    // do; errors never touch the file.
    static Result<Store> open(const StoreLocation& where, Access access);

    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    virtual ~Store();

    Access access() const;
    // The database as messages name it (a path, or a URL without password).
    std::string describe() const;

    // --- Recording (stores opened for writing) ---

    // Stores `job` (and its processes, artifacts and uses) in one
    // transaction, assigning it to the active session and a step: step
    // number `step_number` of that session when given (`roar run @N`),
    // else the step with the same command shape and input/output paths
    // (see step_matching.hpp). Pending hash-cache entries are written in
    // the same transaction. Returns the job's row id.
    Result<int64_t> store_job(const JobRecord& job, std::optional<int64_t> step_number = std::nullopt);

    // Names job `row`'s step `name` (`roar run -n NAME`): its step takes the
    // name when it has none; when it has another, the job moves to a new
    // step of that name. Throws FatalError when another step has the name.
    void name_job_step(int64_t row, const std::string& name);

    // Removes job `row` from the record (`roar pop`): its uses and
    // processes, and its step when no other job is left in it. Artifacts
    // stay (other jobs may name them); no file is touched.
    void delete_job(int64_t row);

    // Ends the active session and starts a new, empty one; returns its id.
    int64_t start_new_session();

    // Whether a job with uid `uid` is recorded.
    bool has_job(std::string_view uid);

    // "" while the store is still the one at its location; otherwise what
    // happened to it since it was opened (the file deleted or replaced).
    std::string moved() const;

    // Reopens the store at its location for writing (creating it, and its
    // directory, when `create_if_missing` and it is gone); pending
    // hash-cache entries are kept.
    Result<void> reopen(bool create_if_missing);

    // --- The hash cache: (device, inode, size, mtime_ns, ctime_ns) -> BLAKE3 ---

    // BLAKE3 of `path`, through the cache. A writer keeps new entries in
    // memory until the next store_job (inside its transaction) or
    // flush_hash_cache(); a reader only looks up.
    Result<FileDigest> digest_file(const std::string& path);

    // digest_file of each of `paths`, results in the same order, for many
    // files at once: every path is stat()ed, files `early` (when given,
    // finished) hashed during the job and that are unchanged take that
    // digest, cached digests are looked up in one read transaction, and the
    // rest are hashed on `pool`'s threads. When that leaves the pending
    // limit's number of new entries or more (65,536 unless
    // set_pending_cache_limit says otherwise), they are written at once
    // (flush_hash_cache), so a job of many inputs does not hold them all.
    std::vector<Result<FileDigest>> digest_files(const std::vector<std::string>& paths, HashPool& pool,
                                                 const EarlyHasher* early = nullptr);

    void set_pending_cache_limit(size_t entries) { m_pending_cache_limit = entries; }

    // Writes pending hash-cache entries now, in one transaction; skips them
    // (they are only an optimisation) if another job holds the write lock.
    // Does nothing for a reader.
    void flush_hash_cache();

    // A look-up of the hash cache for another thread (the tracer's, during
    // a job), on a read-only connection of its own (opened by the first look-up,
    // on the thread that calls it) that never waits for a
    // lock (a busy cache is a miss): the BLAKE3 (hex) the cache holds for
    // an identity. Null when this store has no cache to read.
    std::function<std::optional<std::string>(const FileIdentity&)> cache_lookup_for_thread() const;

    // The same for many files at once (the early inputs of a job, a batch
    // at a time): `out` gets one entry per identity, in order. One read
    // transaction a call, so one set of file locks for the batch instead
    // of one per file.
    using CacheBatchLookup =
        std::function<void(std::span<const FileIdentity> ids, std::vector<std::optional<std::string>>& out)>;
    CacheBatchLookup cache_batch_lookup_for_thread() const;

    // Keeps each of `digests` (hashed elsewhere, as by the tracer) for the
    // hash cache, as digest_file keeps its own.
    void remember_digests(const std::vector<FileDigest>& digests);

    // --- Reading ---

    // One read transaction for as long as it lives: every query of a
    // command then sees the same snapshot (a job finishing meanwhile does
    // not show up half-way), and SQLite takes its shared lock once instead
    // of once per statement. Does nothing inside another transaction.
    class Snapshot {
    public:
        explicit Snapshot(Store& store);
        ~Snapshot();
        Snapshot(const Snapshot&) = delete;
        Snapshot& operator=(const Snapshot&) = delete;

    private:
        StoreEngine* m_engine;
    };
    Snapshot snapshot() { return Snapshot(*this); }

    // The active session's id, if a job or `roar reset` made one.
    std::optional<int64_t> active_session();
    // The number of jobs in the active session.
    int64_t active_session_job_count();
    bool session_exists(int64_t id);
    // When session `id` was created (unix seconds), if it exists.
    std::optional<double> session_created_at(int64_t id);

    // The newest job of step `number` of the active session.
    std::optional<StepJob> latest_job_of_step(int64_t number);
    // The artifact recorded at `path`: what a job last wrote there, else last read.
    std::optional<int64_t> artifact_at_path(const std::string& path);
    // Jobs whose uid and artifacts whose digest start with `lower_hex`.
    PrefixMatches match_prefix(const std::string& lower_hex);

    std::optional<JobDetail> job(int64_t row);
    std::optional<ArtifactDetail> artifact(int64_t id);
    // Every job that (transitively) produced what led to artifact `id`,
    // each with its inputs and the job that produced each of them.
    Upstream upstream(int64_t id);
    // One summary per job matching `filter`, oldest first.
    std::vector<JobSummary> job_summaries(const JobFilter& filter);

    // The number of the active session's step named `name`, if any.
    std::optional<int64_t> step_number_named(const std::string& name);
    // The number of job `row`'s step, if it has one.
    std::optional<int64_t> step_number_of_job(int64_t row);
    // Whether another job of job `row`'s session read a path job `row` wrote.
    bool outputs_read_in_session(int64_t row);

    // A session's steps by number, and its jobs by start time.
    std::vector<SessionStep> session_steps(int64_t session);
    std::vector<SessionJob> session_jobs(int64_t session);
    // Every output of the jobs `jobs` lists (session_jobs(session)) to
    // `outputs`, a job per call in the list's order, then every input to
    // `inputs`. `expect`, when given, is told the number of uses to come
    // before the first (for the receiver to make room once instead of
    // growing).
    void scan_session_uses(int64_t session, const std::vector<SessionJob>& jobs, const UseSink& outputs,
                           const UseSink& inputs, const std::function<void(size_t rows)>& expect = {});
    // The stored path of each of `ids` (the path ids a scan gave), in the
    // same order; "" for an id with no path.
    std::vector<std::string> path_names(const std::vector<int64_t>& ids);
    // The identifying digest and size of each artifact of `ids`.
    std::unordered_map<int64_t, ArtifactDigest> artifact_digests(std::vector<int64_t> ids);
    // The artifact with BLAKE3 `digest` for each of `digests` (nullopt when none).
    std::vector<std::optional<int64_t>> artifacts_by_blake3(const std::vector<std::string>& digests);

protected:
    explicit Store(std::unique_ptr<StoreEngine> engine, StoreLocation where,
                   std::unique_ptr<StoreEngine> local_cache = nullptr);
    StoreEngine& engine() const { return *m_engine; }

private:
    // create()/open() of a shared (PostgreSQL) store and its local cache.
    static Result<Store> open_shared(const StoreLocation& where, Access access, bool create);
    // The statement for `sql`, prepared once per connection and reset for
    // reuse; `sql` must be a string literal (its address is the key).
    SqlStatement& prepared(const char* sql);
    SqlStatement& prepared(const DialectSql& sql) { return prepared(sql.text(m_engine->dialect())); }
    // The engine holding the hash cache: the store's own, or (for a shared
    // store) the local SQLite file; null when a reader has no local file.
    StoreEngine* cache_engine() const;
    // prepared(), on cache_engine().
    SqlStatement& cache_prepared(const char* sql);
    // The SQLite file another thread reads the hash cache from (empty when
    // this store has no cache to read).
    std::filesystem::path thread_cache_file() const;
    // Writes a job's uses, and the artifacts and digests they name, with
    // multi-row statements (job_writer.cpp).
    void write_uses_in_bulk(int64_t job_id, const JobRecord& job);
    // Writes `job`'s processes under row `job_id`, a thousand a statement
    // (job_writer.cpp).
    void write_processes_in_bulk(int64_t job_id, const JobRecord& job);
    void require_writer(const char* what) const;
    int64_t active_session_for_writing();
    int64_t step_for(int64_t session, const JobRecord& job, std::optional<int64_t> step_number);
    void write_pending_cache();
    // Keeps `digest` for the hash cache unless the file may still change
    // unseen (modified in the last two seconds, or while it was hashed).
    void remember_digest(const FileDigest& digest);
    std::vector<UseDetail> uses_of(int64_t job, const char* direction);
    std::vector<ArtifactUseByJob> jobs_touching(int64_t artifact, const char* direction);

    std::unique_ptr<StoreEngine> m_engine;
    StoreLocation m_where;
    std::unordered_map<const char*, std::unique_ptr<SqlStatement>> m_statements;
    std::unique_ptr<StoreEngine> m_local_cache; // shared stores only
    std::unordered_map<const char*, std::unique_ptr<SqlStatement>> m_cache_statements;
    // Hash-cache entries not yet written, by (device, inode, size, mtime_ns,
    // ctime_ns). The digest is kept as its 64 hex characters inline (a first
    // run of a job with a million inputs keeps a million of these).
    using CacheKey = std::tuple<uint64_t, uint64_t, uint64_t, int64_t, int64_t>;
    using CachedDigest = std::array<char, 64>;
    std::map<CacheKey, CachedDigest> m_pending_cache;
    size_t m_pending_cache_limit = 65536; // about 8 MB of entries
};

} // namespace roar::collector

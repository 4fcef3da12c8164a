// The project's lineage store, .roar/roar.db (SQLite, WAL mode): schema
// with a version number and forward migrations, the hash cache, and
// storing one job in one transaction. Read-side queries use Statement.
#pragma once

#include "roar/collector/early_hasher.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/hash_pool.hpp"
#include "roar/collector/job_record.hpp"
#include "roar/collector/result.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>

namespace roar::collector {

// The schema version this build writes; older databases are migrated
// forward on open, newer ones are refused.
inline constexpr int k_schema_version = 2;

// A prepared statement with positional binds (1-based) and typed columns
// (0-based). Throws FatalError on SQL errors: those are bugs or a broken
// database, not conditions a caller can handle.
class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& bind(int index, int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, std::nullopt_t);
    Statement& bind(int index, const std::optional<int64_t>& value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, int value) { return bind(index, int64_t(value)); }
    Statement& bind(int index, uint64_t value) { return bind(index, int64_t(value)); }

    bool step(); // true while a row is available
    void run();  // steps to completion
    void reset();

    int64_t column_int(int index) const;
    double column_double(int index) const;
    std::string column_text(int index) const;
    // The text of a column without copying; valid until the next step().
    std::string_view column_view(int index) const;
    bool column_is_null(int index) const;
    std::optional<int64_t> column_opt_int(int index) const;

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

class Database {
public:
    // Creates a new database at `path` (which must not exist) with the
    // current schema.
    static Result<Database> create(const std::filesystem::path& path);

    // Opens an existing database, migrating it forward. Never creates or
    // overwrites a file: a missing, unreadable or corrupt file is an error
    // that says so and leaves it untouched.
    static Result<Database> open(const std::filesystem::path& path);

    Database(Database&&) noexcept;
    Database& operator=(Database&&) noexcept;
    ~Database();

    sqlite3* handle() const { return m_db; }

    // Runs `sql` (no results), throwing FatalError on failure.
    void exec(std::string_view sql);

    // BLAKE3 of `path`, through the (device, inode, size, mtime_ns) cache.
    // New cache entries are kept in memory and written by the next
    // store_job (inside its transaction) or flush_hash_cache().
    Result<FileDigest> digest_file(const std::string& path);

    // digest_file of each of `paths`, results in the same order, for many
    // files at once: every path is stat()ed, files `early` (when given,
    // finished) hashed during the job and that are unchanged take that
    // digest, cached digests are looked up in one read transaction, and the
    // rest are hashed on `pool`'s threads.
    std::vector<Result<FileDigest>> digest_files(const std::vector<std::string>& paths, HashPool& pool,
                                                 const EarlyHasher* early = nullptr);

    // Writes pending hash-cache entries now, in one transaction; skips them
    // (they are only an optimisation) if another job holds the write lock.
    void flush_hash_cache();

    // Stores `job` (and its processes, artifacts and uses) in one
    // transaction, assigning it to the active session and a step: step
    // number `step_number` of that session when given (`roar run @N`),
    // else the step with the same command shape and input/output paths
    // (see step_signature and step_io_compatible). Returns the job's row id.
    Result<int64_t> store_job(const JobRecord& job, std::optional<int64_t> step_number = std::nullopt);

    // Ends the active session and starts a new, empty one; returns its id.
    int64_t start_new_session();

private:
    explicit Database(sqlite3* db) : m_db(db) { }
    Result<void> migrate(const std::filesystem::path& path);
    int64_t active_session();
    int64_t step_for(int64_t session, const JobRecord& job, std::optional<int64_t> step_number);
    int64_t artifact_for(const ArtifactUse& use, double when);
    void write_pending_cache();
    // Keeps `digest` for the hash cache unless the file may still change
    // unseen (modified in the last two seconds, or while it was hashed).
    void remember_digest(const FileDigest& digest);

    // The statement for `sql`, prepared once per connection and reset for
    // reuse; `sql` must be a string literal (its address is the key).
    Statement& prepared(const char* sql);

    sqlite3* m_db = nullptr;
    std::unordered_map<const char*, std::unique_ptr<Statement>> m_statements;
    // Hash-cache entries not yet written, by (device, inode, size, mtime_ns).
    std::map<std::tuple<uint64_t, uint64_t, uint64_t, int64_t>, std::string> m_pending_cache;
};

// The step signature of a command: the argv with run-number-like digit
// runs replaced by '#', so `train.py --seed 3` and `--seed 4` differ only
// in a digit and are one step.
std::string step_signature(const std::vector<std::string>& argv, std::string_view cwd);

// `text` with every run of decimal digits replaced by '#': the
// normalisation that makes run numbers, seeds and dates not matter.
std::string normalise_digits(std::string_view text);

// The input paths (exact) and output paths (digit-normalised) of a job, or
// their union over a step's executions; sorted, without duplicates.
struct StepPaths {
    std::vector<std::string> inputs, outputs;
};
StepPaths step_paths(const JobRecord& job);

// Whether a job with paths `job` can be another execution of a step whose
// executions used `step`: for inputs and for outputs, one set contains the
// other. Equal sets match; so does a failed run that stopped before
// writing (a subset) and its retry (a superset); variants writing
// different outputs do not.
bool step_io_compatible(const StepPaths& job, const StepPaths& step);

// `argv` quoted for a shell where needed and joined with spaces.
std::string join_command(const std::vector<std::string>& argv);

} // namespace roar::collector

// The SQLite lineage store (see database.hpp). Schema history lives in
// k_migrations: entry N upgrades a version-N database to N+1, and
// PRAGMA user_version records where a file stands.
#include "roar/collector/database.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <chrono>
#include <sys/stat.h>
#include <thread>

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

const char* const k_migrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    created_at  REAL NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    number      INTEGER NOT NULL,
    signature   TEXT NOT NULL,
    command     TEXT NOT NULL,
    UNIQUE (session_id, number),
    UNIQUE (session_id, signature)
);
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    uid             TEXT NOT NULL UNIQUE,
    session_id      INTEGER REFERENCES sessions(id),
    step_id         INTEGER REFERENCES steps(id),
    command         TEXT NOT NULL,
    argv            TEXT NOT NULL,
    cwd             TEXT NOT NULL,
    started_at      REAL NOT NULL,
    ended_at        REAL NOT NULL,
    exit_code       INTEGER NOT NULL,
    signal          INTEGER,
    hostname        TEXT,
    user            TEXT,
    git_commit      TEXT,
    git_branch      TEXT,
    git_remote      TEXT,
    git_dirty       INTEGER,
    git_dirty_files TEXT,
    env             TEXT NOT NULL DEFAULT '{}',
    dropped_events  INTEGER NOT NULL DEFAULT 0,
    notes           TEXT NOT NULL DEFAULT '[]',
    roar_version    TEXT
);
CREATE INDEX jobs_by_step ON jobs(step_id);
CREATE TABLE processes (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    pid         INTEGER NOT NULL,
    ppid        INTEGER,
    parent_seq  INTEGER,
    exe         TEXT,
    argv        TEXT NOT NULL,
    cwd         TEXT,
    started_at  REAL,
    exit_code   INTEGER,
    signal      INTEGER,
    observed    INTEGER NOT NULL,
    notes       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX processes_by_job ON processes(job_id);
CREATE TABLE artifacts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    size        INTEGER,
    first_seen  REAL NOT NULL
);
CREATE TABLE artifact_hashes (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (algorithm, digest)
);
CREATE INDEX artifact_hashes_by_artifact ON artifact_hashes(artifact_id);
CREATE TABLE job_io (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out', 'deleted')),
    path        TEXT NOT NULL,
    artifact_id INTEGER REFERENCES artifacts(id),
    size        INTEGER,
    notes       TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (job_id, direction, path)
);
CREATE INDEX job_io_by_artifact ON job_io(artifact_id);
CREATE INDEX job_io_by_path ON job_io(path);
CREATE TABLE hash_cache (
    device      INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (device, inode, algorithm)
) WITHOUT ROWID;
)sql",
    // 1 -> 2: steps remember the (digit-normalised) paths their executions
    // used, so one command shape can be several steps (variants writing
    // different outputs); indexes for session-wide and digest-prefix reads.
    R"sql(
ALTER TABLE steps ADD COLUMN io_paths TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_session ON jobs(session_id, started_at);
CREATE INDEX artifact_hashes_by_digest ON artifact_hashes(digest);
)sql",
};
static_assert(sizeof k_migrations / sizeof k_migrations[0] == k_schema_version);

constexpr int k_busy_timeout_ms = 60000;

constexpr const char* k_cache_lookup = "SELECT digest FROM hash_cache WHERE device = ?1 AND inode = ?2 AND "
                                       "algorithm = 'blake3' AND size = ?3 AND mtime_ns = ?4";

std::string sqlite_message(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

double now_seconds()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

Result<sqlite3*> open_handle(const fs::path& path, int flags)
{
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = sqlite_message(db);
        sqlite3_close(db);
        return fail("cannot open {}: {}", path.string(), msg);
    }
    sqlite3_busy_timeout(db, k_busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    return db;
}

} // namespace

// ---------------------------------------------------------------- Statement

Statement::Statement(sqlite3* db, std::string_view sql) : m_db(db)
{
    if (sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &m_stmt, nullptr) != SQLITE_OK) {
        throw FatalError(fmt::format("database error: {} (in: {})", sqlite_message(db), sql.substr(0, 80)));
    }
}

Statement::~Statement() { sqlite3_finalize(m_stmt); }

Statement& Statement::bind(int index, int64_t value)
{
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
}
Statement& Statement::bind(int index, double value)
{
    sqlite3_bind_double(m_stmt, index, value);
    return *this;
}
Statement& Statement::bind(int index, std::string_view value)
{
    sqlite3_bind_text(m_stmt, index, value.data(), int(value.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind(int index, std::nullopt_t)
{
    sqlite3_bind_null(m_stmt, index);
    return *this;
}
Statement& Statement::bind(int index, const std::optional<int64_t>& value)
{
    return value ? bind(index, *value) : bind(index, std::nullopt);
}

bool Statement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    throw FatalError(fmt::format("database error: {}", sqlite_message(m_db)));
}

void Statement::run()
{
    while (step()) {
    }
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

int64_t Statement::column_int(int index) const { return sqlite3_column_int64(m_stmt, index); }
double Statement::column_double(int index) const { return sqlite3_column_double(m_stmt, index); }
std::string Statement::column_text(int index) const
{
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, index));
    return text ? std::string(text, size_t(sqlite3_column_bytes(m_stmt, index))) : std::string();
}
std::string_view Statement::column_view(int index) const
{
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, index));
    return text ? std::string_view(text, size_t(sqlite3_column_bytes(m_stmt, index))) : std::string_view();
}
bool Statement::column_is_null(int index) const { return sqlite3_column_type(m_stmt, index) == SQLITE_NULL; }
std::optional<int64_t> Statement::column_opt_int(int index) const
{
    if (column_is_null(index)) {
        return std::nullopt;
    }
    return column_int(index);
}

// ----------------------------------------------------------------- Database

Database::Database(Database&& other) noexcept
    : m_db(other.m_db), m_statements(std::move(other.m_statements)), m_pending_cache(std::move(other.m_pending_cache))
{
    other.m_db = nullptr;
}
Database& Database::operator=(Database&& other) noexcept
{
    std::swap(m_db, other.m_db);
    std::swap(m_statements, other.m_statements);
    std::swap(m_pending_cache, other.m_pending_cache);
    return *this;
}
Database::~Database()
{
    if (m_db) {
        flush_hash_cache();
        m_statements.clear();
        sqlite3_close_v2(m_db);
    }
}

Statement& Database::prepared(const char* sql)
{
    auto& slot = m_statements[sql];
    if (!slot) {
        slot = std::make_unique<Statement>(m_db, sql);
    }
    slot->reset();
    return *slot;
}

void Database::write_pending_cache()
{
    Statement& store = prepared("INSERT OR REPLACE INTO hash_cache (device, inode, size, mtime_ns, algorithm, digest) "
                                "VALUES (?1, ?2, ?3, ?4, 'blake3', ?5)");
    for (const auto& [key, digest] : m_pending_cache) {
        store.reset();
        store.bind(1, std::get<0>(key)).bind(2, std::get<1>(key)).bind(3, std::get<2>(key));
        store.bind(4, std::get<3>(key)).bind(5, digest);
        store.run();
    }
    m_pending_cache.clear();
}

void Database::flush_hash_cache()
{
    if (m_pending_cache.empty() || !m_db) {
        return;
    }
    // The cache is an optimisation: never wait long for another job's lock.
    sqlite3_busy_timeout(m_db, 200);
    try {
        exec("BEGIN IMMEDIATE");
        write_pending_cache();
        exec("COMMIT");
    } catch (const FatalError&) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        m_pending_cache.clear();
    }
    sqlite3_busy_timeout(m_db, k_busy_timeout_ms);
}

void Database::exec(std::string_view sql)
{
    char* err = nullptr;
    if (sqlite3_exec(m_db, std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite_message(m_db);
        sqlite3_free(err);
        throw FatalError(fmt::format("database error: {}", msg));
    }
}

Result<Database> Database::create(const fs::path& path)
{
    std::error_code ec;
    if (fs::exists(path, ec)) {
        return fail("{} already exists; refusing to overwrite it", path.string());
    }
    auto handle = open_handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!handle) {
        return tl::unexpected(handle.error());
    }
    Database db(*handle);
    if (auto migrated = db.migrate(path); !migrated) {
        return tl::unexpected(migrated.error());
    }
    return db;
}

Result<Database> Database::open(const fs::path& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return fail("{} is missing (run 'roar init' to create a project here)", path.string());
    }
    auto handle = open_handle(path, SQLITE_OPEN_READWRITE);
    if (!handle) {
        return fail("cannot open {}: {} (check its permissions; it was left untouched)", path.string(),
                    handle.error().message);
    }
    Database db(*handle);
    if (auto migrated = db.migrate(path); !migrated) {
        return tl::unexpected(migrated.error());
    }
    return db;
}

Result<void> Database::migrate(const fs::path& path)
{
    // The first read tells a corrupt or foreign file apart from a database.
    sqlite3_stmt* probe = nullptr;
    int rc = sqlite3_prepare_v2(m_db, "PRAGMA user_version", -1, &probe, nullptr);
    int version = -1;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(probe);
        if (rc == SQLITE_ROW) {
            version = sqlite3_column_int(probe, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(probe);
    if (rc != SQLITE_OK || version < 0) {
        return fail("{} is not a readable roar database ({}); it was left untouched: restore it from a backup, "
                    "or move it away and run 'roar init'",
                    path.string(), sqlite_message(m_db));
    }
    if (version > k_schema_version) {
        return fail("{} has schema version {}, newer than this roar understands ({}); upgrade roar", path.string(),
                    version, k_schema_version);
    }
    if (version == 0) {
        // Version 0 is a brand-new file, or something that is not ours.
        Statement tables(m_db, "SELECT count(*) FROM sqlite_master");
        tables.step();
        if (tables.column_int(0) != 0) {
            return fail("{} is a SQLite file but not a roar database; it was left untouched", path.string());
        }
    }
    try {
        char* err = nullptr;
        if (sqlite3_exec(m_db, "PRAGMA journal_mode=WAL", nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "";
            sqlite3_free(err);
            return fail("cannot use {}: {} (it was left untouched)", path.string(), msg);
        }
        // Statement journals (INSERT OR REPLACE, foreign keys) stay in memory:
        // once one spills to a temp file, every later statement of the job's
        // transaction writes its pages there too. A 64 MiB page cache keeps
        // a job with 100,000 inputs from spilling pages to the WAL twice.
        exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536");
        for (int v = version; v < k_schema_version; ++v) {
            exec("BEGIN IMMEDIATE");
            Statement again(m_db, "PRAGMA user_version");
            again.step();
            if (again.column_int(0) != v) { // another process migrated meanwhile
                exec("ROLLBACK");
                continue;
            }
            exec(k_migrations[v]);
            exec(fmt::format("PRAGMA user_version = {}", v + 1));
            exec("COMMIT");
        }
    } catch (const FatalError& e) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        return fail("cannot use {}: {}", path.string(), e.what());
    }
    return {};
}

Result<FileDigest> Database::digest_file(const std::string& path)
{
    auto identity = identify_file(path);
    if (!identity) {
        return tl::unexpected(identity.error());
    }
    const auto key = std::make_tuple(identity->device, identity->inode, identity->size, identity->mtime_ns);
    if (identity->is_regular) {
        if (auto pending = m_pending_cache.find(key); pending != m_pending_cache.end()) {
            return FileDigest{pending->second, *identity, false};
        }
        Statement& lookup = prepared(k_cache_lookup);
        lookup.bind(1, identity->device).bind(2, identity->inode).bind(3, identity->size).bind(4, identity->mtime_ns);
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

std::vector<Result<FileDigest>> Database::digest_files(const std::vector<std::string>& paths, HashPool& pool,
                                                       const EarlyHasher* early)
{
    std::vector<Result<FileDigest>> out(paths.size());
    std::vector<FileIdentity> ids(paths.size());
    std::vector<size_t> regular;
    regular.reserve(paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
        auto identity = identify_file(paths[i]);
        if (!identity) {
            out[i] = tl::unexpected(identity.error());
        } else if (!identity->is_regular) {
            // Not opened at all: opening a FIFO for reading would block.
            out[i] = fail("{} is not a regular file", paths[i]);
        } else if (auto hashed = early ? early->digest_for(*identity) : std::nullopt) {
            out[i] = std::move(*hashed);
            remember_digest(*out[i]);
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
    // One read transaction for all lookups, not one (with its file locks) each.
    const bool own_transaction = sqlite3_get_autocommit(m_db) != 0;
    if (own_transaction) {
        exec("BEGIN");
    }
    try {
        Statement& lookup = prepared(k_cache_lookup);
        for (size_t i : regular) {
            const FileIdentity& id = ids[i];
            if (auto pending = m_pending_cache.find(std::make_tuple(id.device, id.inode, id.size, id.mtime_ns));
                pending != m_pending_cache.end()) {
                out[i] = FileDigest{pending->second, id, false};
                continue;
            }
            lookup.reset();
            lookup.bind(1, id.device).bind(2, id.inode).bind(3, id.size).bind(4, id.mtime_ns);
            if (lookup.step()) {
                out[i] = FileDigest{lookup.column_text(0), id, false};
            } else {
                misses.push_back(i);
            }
        }
        lookup.reset();
    } catch (const FatalError&) {
        if (own_transaction) {
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        throw;
    }
    if (own_transaction) {
        exec("COMMIT");
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
    return out;
}

void Database::remember_digest(const FileDigest& digest)
{
    // A file modified within the last two seconds may change again without
    // its mtime moving (coarse timestamps): don't trust it to the cache.
    const double mtime = double(digest.identity.mtime_ns) / 1e9;
    if (!digest.changed_while_hashing && mtime < now_seconds() - 2.0) {
        const FileIdentity& id = digest.identity;
        m_pending_cache[std::make_tuple(id.device, id.inode, id.size, id.mtime_ns)] = digest.blake3;
    }
}

int64_t Database::active_session()
{
    Statement find(m_db, "SELECT id FROM sessions WHERE active = 1 ORDER BY id DESC LIMIT 1");
    if (find.step()) {
        return find.column_int(0);
    }
    Statement create(m_db, "INSERT INTO sessions (created_at, active) VALUES (?1, 1)");
    create.bind(1, now_seconds()).run();
    return sqlite3_last_insert_rowid(m_db);
}

int64_t Database::start_new_session()
{
    exec("BEGIN IMMEDIATE");
    try {
        exec("UPDATE sessions SET active = 0 WHERE active = 1");
        Statement create(m_db, "INSERT INTO sessions (created_at, active) VALUES (?1, 1)");
        create.bind(1, now_seconds()).run();
        const int64_t id = sqlite3_last_insert_rowid(m_db);
        exec("COMMIT");
        return id;
    } catch (const FatalError&) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

namespace {

nlohmann::json paths_json(const StepPaths& paths) { return {{"in", paths.inputs}, {"out", paths.outputs}}; }

// A step's recorded paths; nullopt for steps from schema v1, which match
// on the command shape alone.
std::optional<StepPaths> parse_paths(const std::string& text)
{
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    StepPaths paths;
    paths.inputs = j.value("in", std::vector<std::string>{});
    paths.outputs = j.value("out", std::vector<std::string>{});
    return paths;
}

std::vector<std::string> merged(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    std::vector<std::string> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

} // namespace

int64_t Database::step_for(int64_t session, const JobRecord& job, std::optional<int64_t> step_number)
{
    const StepPaths paths = step_paths(job);
    auto remember = [&](int64_t step, const std::optional<StepPaths>& known) {
        StepPaths all = paths;
        if (known) {
            all.inputs = merged(known->inputs, paths.inputs);
            all.outputs = merged(known->outputs, paths.outputs);
        }
        Statement update(m_db, "UPDATE steps SET io_paths = ?2 WHERE id = ?1");
        update.bind(1, step).bind(2, paths_json(all).dump()).run();
        return step;
    };
    if (step_number) {
        Statement find(m_db, "SELECT id, io_paths FROM steps WHERE session_id = ?1 AND number = ?2");
        find.bind(1, session).bind(2, *step_number);
        if (!find.step()) {
            throw FatalError(fmt::format("no step @{} in the active session", *step_number));
        }
        return remember(find.column_int(0), parse_paths(find.column_text(1)));
    }

    // Candidates: steps with this command shape. Signatures are the shape,
    // then '\x1e' and what tells its steps apart (v1 steps: the shape alone).
    const std::string shape = step_signature(job.argv, job.cwd);
    Statement find(m_db, "SELECT id, io_paths FROM steps WHERE session_id = ?1 AND (signature = ?2 OR "
                         "(signature >= ?3 AND signature < ?4)) ORDER BY number");
    find.bind(1, session).bind(2, shape).bind(3, shape + '\x1e').bind(4, shape + '\x1f');
    std::optional<std::pair<int64_t, std::optional<StepPaths>>> compatible;
    while (find.step()) {
        auto known = parse_paths(find.column_text(1));
        if (known && known->inputs == paths.inputs && known->outputs == paths.outputs) {
            return find.column_int(0); // the usual re-run: nothing new to remember
        }
        if (!compatible && (!known || step_io_compatible(paths, *known))) {
            compatible.emplace(find.column_int(0), known);
        }
    }
    if (compatible) {
        return remember(compatible->first, compatible->second);
    }

    std::string signature = shape + '\x1e' + paths_json(paths).dump();
    for (int suffix = 2;; ++suffix) { // only reachable by odd histories: keep signatures unique
        Statement taken(m_db, "SELECT 1 FROM steps WHERE session_id = ?1 AND signature = ?2");
        taken.bind(1, session).bind(2, signature);
        if (!taken.step()) {
            break;
        }
        signature = fmt::format("{}\x1e{}#{}", shape, paths_json(paths).dump(), suffix);
    }
    Statement create(m_db, "INSERT INTO steps (session_id, number, signature, command, io_paths) VALUES (?1, "
                           "(SELECT coalesce(max(number), 0) + 1 FROM steps WHERE session_id = ?1), ?2, ?3, ?4)");
    create.bind(1, session).bind(2, signature).bind(3, job.command).bind(4, paths_json(paths).dump()).run();
    return sqlite3_last_insert_rowid(m_db);
}

int64_t Database::artifact_for(const ArtifactUse& use, double when)
{
    // An artifact is identified by its strongest digest: BLAKE3 when known
    // (files, and S3 bodies the proxy saw whole), else the S3 ETag.
    Statement& add = prepared("INSERT OR IGNORE INTO artifact_hashes (artifact_id, algorithm, digest) "
                              "VALUES (?1, ?2, ?3)");
    auto add_hashes = [&](int64_t id, std::string_view known) {
        for (const auto& [alg, digest] : use.hashes) {
            if (alg == known) {
                continue; // how the artifact was just found: already there
            }
            add.reset();
            add.bind(1, id).bind(2, alg).bind(3, digest).run();
        }
    };
    for (const char* algorithm : {"blake3", "etag"}) {
        auto it = use.hashes.find(algorithm);
        if (it == use.hashes.end()) {
            continue;
        }
        Statement& find = prepared("SELECT artifact_id FROM artifact_hashes WHERE algorithm = ?1 AND digest = ?2");
        find.bind(1, algorithm).bind(2, it->second);
        if (find.step()) {
            const int64_t id = find.column_int(0);
            find.reset();
            add_hashes(id, algorithm);
            return id;
        }
        find.reset();
    }
    if (use.hashes.empty()) {
        return 0;
    }
    Statement& create = prepared("INSERT INTO artifacts (kind, size, first_seen) VALUES (?1, ?2, ?3)");
    create.bind(1, use.kind).bind(2, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
    create.bind(3, when).run();
    const int64_t id = sqlite3_last_insert_rowid(m_db);
    add_hashes(id, {});
    return id;
}

Result<int64_t> Database::store_job(const JobRecord& job, std::optional<int64_t> step_number)
{
    try {
        exec("BEGIN IMMEDIATE");
        const int64_t session = active_session();
        const int64_t step = step_for(session, job, step_number);
        Statement insert(m_db, R"sql(
INSERT INTO jobs (uid, session_id, step_id, command, argv, cwd, started_at, ended_at, exit_code, signal,
                  hostname, user, git_commit, git_branch, git_remote, git_dirty, git_dirty_files, env,
                  dropped_events, notes, roar_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21))sql");
        insert.bind(1, job.uid).bind(2, session).bind(3, step).bind(4, job.command);
        insert.bind(5, nlohmann::json(job.argv).dump()).bind(6, job.cwd).bind(7, job.started_at);
        insert.bind(8, job.ended_at).bind(9, job.exit_code);
        insert.bind(10, job.signal ? std::optional<int64_t>(*job.signal) : std::nullopt);
        insert.bind(11, job.hostname).bind(12, job.user);
        if (job.git) {
            insert.bind(13, job.git->commit).bind(14, job.git->branch).bind(15, job.git->remote);
            insert.bind(16, int64_t(job.git->dirty)).bind(17, nlohmann::json(job.git->dirty_files).dump());
        } else {
            for (int i = 13; i <= 17; ++i) {
                insert.bind(i, std::nullopt);
            }
        }
        insert.bind(18, job.env.dump()).bind(19, job.ring.dropped);
        insert.bind(20, nlohmann::json(job.notes).dump()).bind(21, ROAR_VERSION_STRING);
        insert.run();
        const int64_t job_id = sqlite3_last_insert_rowid(m_db);

        Statement proc(m_db, R"sql(
INSERT INTO processes (job_id, seq, pid, ppid, parent_seq, exe, argv, cwd, started_at, exit_code, signal, observed, notes)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13))sql");
        for (size_t i = 0; i < job.processes.size(); ++i) {
            const ProcessRecord& p = job.processes[i];
            proc.reset();
            proc.bind(1, job_id).bind(2, int64_t(i)).bind(3, int64_t(p.pid)).bind(4, int64_t(p.ppid));
            proc.bind(5, p.parent >= 0 ? std::optional<int64_t>(p.parent) : std::nullopt);
            proc.bind(6, p.exe).bind(7, nlohmann::json(p.argv).dump()).bind(8, p.cwd).bind(9, p.started_at);
            proc.bind(10, p.exit_code ? std::optional<int64_t>(*p.exit_code) : std::nullopt);
            proc.bind(11, p.signal ? std::optional<int64_t>(*p.signal) : std::nullopt);
            proc.bind(12, int64_t(p.observed)).bind(13, nlohmann::json(p.notes).dump());
            proc.run();
        }

        // Artifacts are resolved in digest order, so that creating many
        // walks the digest indexes forwards instead of hitting random pages;
        // the uses are then written in path order. (direction, path) is
        // unique within a job, so no use replaces another: INSERT OR IGNORE
        // needs no statement journal, INSERT OR REPLACE would.
        struct Row {
            const ArtifactUse* use;
            const char* direction;
            std::string_view digest; // the identifying one: BLAKE3, else the ETag
            int64_t artifact = 0;
        };
        auto identity_digest = [](const ArtifactUse& use) -> std::string_view {
            for (const char* algorithm : {"blake3", "etag"}) {
                if (auto it = use.hashes.find(algorithm); it != use.hashes.end()) {
                    return it->second;
                }
            }
            return {};
        };
        std::vector<Row> rows;
        rows.reserve(job.inputs.size() + job.outputs.size() + job.deleted.size());
        for (const auto* uses : {&job.inputs, &job.outputs, &job.deleted}) {
            const char* direction = uses == &job.inputs ? "in" : uses == &job.outputs ? "out" : "deleted";
            for (const auto& use : *uses) {
                rows.push_back({&use, direction, identity_digest(use)});
            }
        }
        std::vector<Row*> by_digest;
        by_digest.reserve(rows.size());
        for (auto& row : rows) {
            by_digest.push_back(&row);
        }
        std::sort(by_digest.begin(), by_digest.end(), [](const Row* a, const Row* b) { return a->digest < b->digest; });
        for (Row* row : by_digest) {
            row->artifact = artifact_for(*row->use, job.ended_at);
        }
        Statement& use_stmt = prepared("INSERT OR IGNORE INTO job_io (job_id, direction, path, artifact_id, size, "
                                       "notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        for (const Row& row : rows) {
            const ArtifactUse& use = *row.use;
            use_stmt.reset();
            use_stmt.bind(1, job_id).bind(2, row.direction).bind(3, use.path);
            use_stmt.bind(4, row.artifact ? std::optional<int64_t>(row.artifact) : std::nullopt);
            use_stmt.bind(5, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
            use_stmt.bind(6, use.notes.empty() ? std::string("[]") : nlohmann::json(use.notes).dump());
            use_stmt.run();
        }
        use_stmt.reset();
        write_pending_cache(); // the digests taken for this job, in the same transaction
        exec("COMMIT");
        return job_id;
    } catch (const FatalError& e) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        return fail("could not store job {}: {}", job.uid, e.what());
    }
}

std::string normalise_digits(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    bool in_digits = false;
    for (char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (!in_digits) {
                out += '#';
            }
            in_digits = true;
        } else {
            out += c;
            in_digits = false;
        }
    }
    return out;
}

std::string step_signature(const std::vector<std::string>& argv, std::string_view cwd)
{
    std::string sig(cwd);
    for (const auto& arg : argv) {
        sig += '\x1f';
        sig += normalise_digits(arg);
    }
    return sig;
}

StepPaths step_paths(const JobRecord& job)
{
    // Inputs are compared exactly: step_1.py and step_2.py are different
    // code, output_1.txt and output_2.txt different data. Outputs are
    // compared up to digit runs: run_7/metrics.json and run_8/metrics.json
    // are one step run twice.
    auto normalised = [](const std::vector<ArtifactUse>& uses, bool digits) {
        std::vector<std::string> out;
        for (const auto& use : uses) {
            out.push_back(digits ? normalise_digits(use.path) : use.path);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    };
    return {normalised(job.inputs, false), normalised(job.outputs, true)};
}

bool step_io_compatible(const StepPaths& job, const StepPaths& step)
{
    auto nested = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        return std::includes(a.begin(), a.end(), b.begin(), b.end())
               || std::includes(b.begin(), b.end(), a.begin(), a.end());
    };
    return nested(job.inputs, step.inputs) && nested(job.outputs, step.outputs);
}

std::string join_command(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& arg : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`;&|<>()*?[]{}!#~") == std::string::npos;
        if (plain) {
            out += arg;
        } else {
            out += '\'';
            for (char c : arg) {
                if (c == '\'') {
                    out += "'\\''";
                } else {
                    out += c;
                }
            }
            out += '\'';
        }
    }
    return out;
}

} // namespace roar::collector

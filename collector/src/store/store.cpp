// Opening and closing the store, its statement cache and sessions (see
// store.hpp). Writing a job is in job_writer.cpp, the hash cache in
// hash_cache.cpp, the read queries in read_queries.cpp and
// session_reads.cpp.
#include "roar/collector/store/store.hpp"

#include "roar/collector/store/postgres_engine.hpp"
#include "roar/collector/store/sqlite_engine.hpp"

#include <fmt/format.h>

#include <chrono>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

// The one place the active session is asked for.
constexpr const char* k_active_session = "SELECT id FROM sessions WHERE active = 1 ORDER BY id DESC LIMIT 1";

double now_seconds()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

bool writable_by_us(const fs::path& file)
{
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    return ::access(file.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK | X_OK) == 0;
}

// This machine's hash cache for a shared store: an SQLite file of roar's
// schema of which only the hash_cache table is used. A writer creates it
// when missing; a reader without one hashes every file.
Result<std::unique_ptr<StoreEngine>> open_local_cache(const fs::path& file, Access access)
{
    std::error_code ec;
    if (file.empty() || (access == Access::read && !fs::exists(file, ec))) {
        return std::unique_ptr<StoreEngine>();
    }
    Result<std::unique_ptr<SqliteEngine>> cache =
        fs::exists(file, ec) ? SqliteEngine::open(file, access) : SqliteEngine::create(file);
    if (!cache) {
        return tl::unexpected(cache.error());
    }
    if (access == Access::read && (*cache)->schema_version() < k_schema_version) {
        return std::unique_ptr<StoreEngine>(); // only a writer upgrades it
    }
    return std::unique_ptr<StoreEngine>(std::move(*cache));
}

} // namespace

Result<Store> Store::open_shared(const StoreLocation& where, Access access, bool create)
{
    auto engine = PostgresEngine::open(where.url, where.project, access, create, where.passfile.string());
    if (!engine) {
        return tl::unexpected(engine.error());
    }
    auto cache = open_local_cache(where.local_cache, access);
    if (!cache) {
        return tl::unexpected(cache.error());
    }
    return Store(std::move(*engine), where, std::move(*cache));
}

Store::Store(std::unique_ptr<StoreEngine> engine, StoreLocation where, std::unique_ptr<StoreEngine> local_cache)
    : m_engine(std::move(engine)), m_where(std::move(where)), m_local_cache(std::move(local_cache))
{ }

Store::Store(Store&& other) noexcept = default;
Store& Store::operator=(Store&& other) noexcept
{
    if (this != &other) {
        m_statements.clear(); // before the connection they belong to
        m_cache_statements.clear();
        m_engine = std::move(other.m_engine);
        m_where = std::move(other.m_where);
        m_statements = std::move(other.m_statements);
        m_local_cache = std::move(other.m_local_cache);
        m_cache_statements = std::move(other.m_cache_statements);
        m_pending_cache = std::move(other.m_pending_cache);
    }
    return *this;
}

Store::~Store()
{
    if (m_engine) {
        flush_hash_cache();
        m_statements.clear();
        m_cache_statements.clear();
    }
}

Result<Store> Store::create(const StoreLocation& where)
{
    if (where.shared()) {
        return open_shared(where, Access::write, true);
    }
    auto engine = SqliteEngine::create(where.sqlite_file);
    if (!engine) {
        return tl::unexpected(engine.error());
    }
    return Store(std::move(*engine), where);
}

Result<Store> Store::open(const StoreLocation& where, Access access)
{
    if (where.shared()) {
        return open_shared(where, access, false);
    }
    const fs::path& file = where.sqlite_file;
    auto engine = SqliteEngine::open(file, access);
    if (!engine) {
        return tl::unexpected(engine.error());
    }
    if ((*engine)->schema_version() < k_schema_version) {
        // The one write a reader may cause: an older file is upgraded, by a
        // writer's connection, when this user can write it.
        const int version = (*engine)->schema_version();
        engine->reset();
        if (!writable_by_us(file)) {
            return fail("{} has schema version {} and this roar reads version {}: upgrading it needs write access, "
                        "so run any roar command once as a user who can write to {}",
                        file.string(), version, k_schema_version, file.parent_path().string());
        }
        if (auto writer = SqliteEngine::open(file, Access::write); !writer) {
            return tl::unexpected(writer.error());
        }
        engine = SqliteEngine::open(file, access);
        if (!engine) {
            return tl::unexpected(engine.error());
        }
    }
    return Store(std::move(*engine), where);
}

Access Store::access() const { return m_engine ? m_engine->access() : Access::read; }

std::string Store::describe() const
{
    if (m_where.shared()) {
        return m_engine ? m_engine->describe() : redact_store_url(m_where.url);
    }
    return m_where.sqlite_file.string();
}

void Store::require_writer(const char* what) const
{
    if (!m_engine || m_engine->access() != Access::write) {
        throw FatalError(fmt::format("internal error: {} needs a store opened for writing", what));
    }
}

SqlStatement& Store::prepared(const char* sql)
{
    auto& slot = m_statements[sql];
    if (!slot) {
        slot = m_engine->prepare(sql);
    }
    slot->reset();
    return *slot;
}

StoreEngine* Store::cache_engine() const
{
    if (m_where.shared()) {
        return m_local_cache.get();
    }
    return m_engine.get();
}

SqlStatement& Store::cache_prepared(const char* sql)
{
    auto& slot = m_cache_statements[sql];
    if (!slot) {
        slot = cache_engine()->prepare(sql);
    }
    slot->reset();
    return *slot;
}

std::string Store::moved() const { return m_engine ? m_engine->moved() : std::string(); }

Result<void> Store::reopen(bool create_if_missing)
{
    if (m_where.shared()) {
        return {}; // a server's database does not move under a connection
    }
    // The old connection goes first: closing it checkpoints and removes its
    // WAL, which must never be replayed into a new file at the same path.
    m_statements.clear();
    m_cache_statements.clear();
    m_engine.reset();
    const fs::path& file = m_where.sqlite_file;
    std::error_code ec;
    Result<std::unique_ptr<SqliteEngine>> engine = tl::unexpected(Error{});
    if (create_if_missing && !fs::exists(file, ec)) {
        fs::create_directories(file.parent_path(), ec);
        engine = SqliteEngine::create(file);
    } else {
        engine = SqliteEngine::open(file, Access::write);
    }
    if (!engine) {
        return tl::unexpected(engine.error());
    }
    m_engine = std::move(*engine);
    return {};
}

// ------------------------------------------------------------------ Snapshot

Store::Snapshot::Snapshot(Store& store) : m_engine(store.m_engine.get())
{
    // Deferred: the snapshot starts at the first read, and nothing is locked
    // for writers (WAL readers never block them).
    if (!m_engine || m_engine->in_transaction()) {
        m_engine = nullptr; // queries simply run in the transaction already open
        return;
    }
    m_engine->begin_read();
}

Store::Snapshot::~Snapshot()
{
    if (m_engine) {
        try {
            m_engine->commit();
        } catch (const FatalError&) {
            m_engine->rollback();
        }
    }
}

// ------------------------------------------------------------------ Sessions

std::optional<int64_t> Store::active_session()
{
    SqlStatement& q = prepared(k_active_session);
    if (!q.step()) {
        return std::nullopt;
    }
    const int64_t id = q.column_int(0);
    q.reset();
    return id;
}

int64_t Store::active_session_for_writing()
{
    if (auto id = active_session()) {
        return *id;
    }
    SqlStatement& create = prepared("INSERT INTO sessions (created_at, active) VALUES (?1, 1)");
    create.bind(1, now_seconds()).run();
    return m_engine->last_insert_id();
}

int64_t Store::start_new_session()
{
    require_writer("starting a session");
    m_engine->begin_write();
    try {
        m_engine->exec("UPDATE sessions SET active = 0 WHERE active = 1");
        SqlStatement& create = prepared("INSERT INTO sessions (created_at, active) VALUES (?1, 1)");
        create.bind(1, now_seconds()).run();
        const int64_t id = m_engine->last_insert_id();
        m_engine->commit();
        return id;
    } catch (const FatalError&) {
        m_engine->rollback();
        throw;
    }
}

int64_t Store::active_session_job_count()
{
    const auto session = active_session();
    if (!session) {
        return 0;
    }
    auto q = m_engine->prepare("SELECT count(*) FROM jobs WHERE session_id = ?1");
    q->bind(1, *session);
    q->step();
    return q->column_int(0);
}

bool Store::session_exists(int64_t id)
{
    auto q = m_engine->prepare("SELECT 1 FROM sessions WHERE id = ?1");
    q->bind(1, id);
    return q->step();
}

std::optional<double> Store::session_created_at(int64_t id)
{
    auto& q = prepared("SELECT created_at FROM sessions WHERE id = ?1");
    q.bind(1, id);
    if (!q.step()) {
        return std::nullopt;
    }
    return q.column_double(0);
}

bool Store::has_job(std::string_view uid)
{
    auto q = m_engine->prepare("SELECT 1 FROM jobs WHERE uid = ?1");
    q->bind(1, uid);
    return q->step();
}

} // namespace roar::collector

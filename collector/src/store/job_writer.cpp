// Writing a job (see Store::store_job): the job row, its processes, its
// step (step_matching.hpp decides which), its artifacts found or created
// by digest, and its uses, in one transaction with the hash-cache entries
// its digests produced.
#include "roar/collector/store/store.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/store/step_matching.hpp"
#include "bulk_insert.hpp"
#include "use_lists.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <unordered_map>

namespace roar::collector {

using store_detail::k_rows_per_statement;
using store_detail::KeyLookup;
using store_detail::RowInserter;

namespace {

// Gives paths their ids in the `paths` table, a batch at a time: one
// query per k_rows_per_statement paths finds the stored ones (this
// transaction's earlier batches included), and the rest are written with
// ids drawn under the store's write lock, so no row can conflict (on
// PostgreSQL they stream). Paths are kept as the store keeps any text
// (a server engine encodes what is not UTF-8), so equal bytes, equal id.
class PathInterner {
public:
    explicit PathInterner(StoreEngine& engine)
        : m_engine(engine),
          m_lookup(engine, "SELECT id, path FROM paths WHERE path IN (",
                   "SELECT id, path FROM paths WHERE path = ANY(?1::text[])"),
          m_add(engine, "INSERT INTO paths (id, path)", "", 2, k_rows_per_statement,
                store_detail::Conflicts::impossible)
    { }

    // The id of each of `paths`, in order, in `ids`; `paths` must outlive
    // the call.
    void intern(const std::vector<std::string_view>& paths, std::vector<int64_t>& ids)
    {
        m_distinct.assign(paths.begin(), paths.end());
        std::sort(m_distinct.begin(), m_distinct.end());
        m_distinct.erase(std::unique(m_distinct.begin(), m_distinct.end()), m_distinct.end());
        m_known.clear();
        m_known.reserve(m_distinct.size());
        m_lookup.run(m_distinct, [&](SqlStatement& q) {
            // The stored bytes are one of the batch's: find that view.
            if (const std::string_view* path = store_detail::batch_view(m_distinct, q.column_view(1))) {
                m_known.emplace(*path, q.column_int(0));
            }
        });
        m_new.clear();
        for (const auto path : m_distinct) {
            if (!m_known.count(path)) {
                m_new.push_back(path);
            }
        }
        if (!m_new.empty()) {
            int64_t id = draw_ids(int64_t(m_new.size()));
            for (const auto path : m_new) {
                m_known.emplace(path, ++id);
            }
            m_add.insert(m_new.size(), [&](SqlStatement& q, size_t i, int p) {
                q.bind(p, m_known.at(m_new[i])).bind(p + 1, m_new[i]);
            });
        }
        ids.clear();
        ids.reserve(paths.size());
        for (const auto path : paths) {
            ids.push_back(m_known.at(path));
        }
    }

private:
    // Reserves `count` new ids; returns the one before the first.
    int64_t draw_ids(int64_t count)
    {
        if (m_engine.dialect() == Dialect::postgresql) {
            // One range: nextval, then the sequence moved past its end.
            auto q = m_engine.prepare("SELECT setval(pg_get_serial_sequence('paths', 'id'), "
                                      "nextval(pg_get_serial_sequence('paths', 'id')) + ?1 - 1)");
            q->bind(1, count);
            if (!q->step()) {
                throw FatalError("database error: no path ids");
            }
            return q->column_int(0) - count;
        }
        // SQLite: the ids one INSERT at a time would get (max + 1).
        if (!m_last_id) {
            auto q = m_engine.prepare("SELECT coalesce(max(id), 0) FROM paths");
            q->step();
            m_last_id = q->column_int(0);
        }
        const int64_t before = *m_last_id;
        *m_last_id += count;
        return before;
    }

    StoreEngine& m_engine;
    KeyLookup m_lookup;
    RowInserter m_add;
    std::optional<int64_t> m_last_id;
    std::vector<std::string_view> m_distinct, m_new;
    std::unordered_map<std::string_view, int64_t> m_known;
};

nlohmann::json paths_json(const StepPaths& paths) { return {{"in", paths.inputs}, {"out", paths.outputs}}; }

// What a step remembers of its executions' paths: since schema v4, the
// outputs (exact) under "v": 3; before, the inputs and digit-normalised
// outputs (StepPaths), or nothing (schema v1).
struct KnownPaths {
    bool v3 = false;
    std::vector<std::string> outputs; // v3
    std::optional<StepPaths> legacy;  // before v4; nullopt for v1 (matches on the command shape alone)
};

KnownPaths parse_paths(const std::string& text)
{
    KnownPaths known;
    auto j = parse_stored_json(text, nullptr);
    if (!j.is_object()) {
        return known;
    }
    if (j.value("v", 0) >= 3) {
        known.v3 = true;
        known.outputs = j.value("out", std::vector<std::string>{});
        return known;
    }
    StepPaths paths;
    paths.inputs = j.value("in", std::vector<std::string>{});
    paths.outputs = j.value("out", std::vector<std::string>{});
    known.legacy = std::move(paths);
    return known;
}

std::vector<std::string> merged(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    std::vector<std::string> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

nlohmann::json v3_json(const std::vector<std::string>& outputs) { return {{"out", outputs}, {"v", 3}}; }

} // namespace

int64_t Store::step_for(int64_t session, const JobRecord& job, std::optional<int64_t> step_number)
{
    const std::vector<std::string> outputs = output_paths(job);
    // Adds this job's paths to what step `step` remembers.
    auto remember = [&](int64_t step, const KnownPaths& known) {
        std::string text;
        if (known.v3) {
            const auto all = merged(known.outputs, outputs);
            if (all == known.outputs) {
                return step;
            }
            text = stored_json(v3_json(all));
        } else {
            StepPaths all = step_paths(job);
            if (known.legacy) {
                all.inputs = merged(known.legacy->inputs, all.inputs);
                all.outputs = merged(known.legacy->outputs, all.outputs);
            }
            text = stored_json(paths_json(all));
        }
        SqlStatement& update = prepared("UPDATE steps SET io_paths = ?2 WHERE id = ?1");
        update.bind(1, step).bind(2, text).run();
        return step;
    };
    if (step_number) {
        SqlStatement& find = prepared("SELECT id, io_paths FROM steps WHERE session_id = ?1 AND number = ?2");
        find.bind(1, session).bind(2, *step_number);
        if (!find.step()) {
            throw FatalError(fmt::format("no step @{} in the active session", *step_number));
        }
        const int64_t step = find.column_int(0);
        const auto known = parse_paths(find.column_text(1));
        find.reset(); // no statement stays open past this transaction
        return remember(step, known);
    }

    // Steps of this program: the one with the same outputs, else one whose
    // outputs contain or are contained in this job's (the same command
    // preferred: a failed run and its retry).
    const std::string key = "p\x1f" + step_program(job.argv, job.cwd, job.inputs) + '\x1e';
    {
        SqlStatement& find = prepared("SELECT id, io_paths, command FROM steps WHERE session_id = ?1 AND "
                                      "signature >= ?2 AND signature < ?3 ORDER BY number");
        find.bind(1, session).bind(2, key).bind(3, key.substr(0, key.size() - 1) + '\x1f');
        std::optional<std::pair<int64_t, KnownPaths>> nested;
        bool nested_same_command = false;
        while (find.step()) {
            auto known = parse_paths(find.column_text(1));
            if (known.v3 && known.outputs == outputs) {
                const int64_t step = find.column_int(0);
                find.reset();
                return step;
            }
            if (known.v3 && nested_paths(known.outputs, outputs)) {
                const bool same_command = find.column_text(2) == job.command;
                if (!nested || (same_command && !nested_same_command)) {
                    nested.emplace(find.column_int(0), std::move(known));
                    nested_same_command = same_command;
                }
            }
        }
        if (nested) {
            return remember(nested->first, nested->second);
        }
    }

    // Steps recorded before schema v4, by their command shape: a re-run
    // joins them as it did then.
    {
        // The job's paths, copied and sorted only when an older step needs
        // comparing with them (a job of a million inputs: 80 MB).
        std::optional<StepPaths> paths;
        const std::string shape = step_signature(job.argv, job.cwd);
        SqlStatement& find = prepared("SELECT id, io_paths FROM steps WHERE session_id = ?1 AND (signature = ?2 OR "
                                      "(signature >= ?3 AND signature < ?4)) ORDER BY number");
        find.bind(1, session).bind(2, shape).bind(3, shape + '\x1e').bind(4, shape + '\x1f');
        std::optional<std::pair<int64_t, KnownPaths>> compatible;
        while (find.step()) {
            auto known = parse_paths(find.column_text(1));
            if (known.v3) {
                continue;
            }
            if (!compatible && known.legacy && !paths) {
                paths = step_paths(job);
            }
            if (!compatible && (!known.legacy || step_io_compatible(*paths, *known.legacy))) {
                compatible.emplace(find.column_int(0), std::move(known));
            }
        }
        if (compatible) {
            return remember(compatible->first, compatible->second);
        }
    }

    std::string signature = key + stored_json(v3_json(outputs));
    for (int suffix = 2;; ++suffix) { // only reachable by odd histories: keep signatures unique
        SqlStatement& taken = prepared("SELECT 1 FROM steps WHERE session_id = ?1 AND signature = ?2");
        taken.bind(1, session).bind(2, signature);
        if (!taken.step()) {
            break;
        }
        taken.reset();
        signature = fmt::format("{}{}#{}", key, stored_json(v3_json(outputs)), suffix);
    }
    SqlStatement& create =
        prepared("INSERT INTO steps (session_id, number, signature, command, io_paths) VALUES (?1, "
                 "(SELECT coalesce(max(number), 0) + 1 FROM steps WHERE session_id = ?1), ?2, ?3, ?4)");
    create.bind(1, session).bind(2, signature).bind(3, job.command).bind(4, stored_json(v3_json(outputs))).run();
    return m_engine->last_insert_id();
}

void Store::name_job_step(int64_t row, const std::string& name)
{
    require_writer("naming a step");
    m_engine->begin_write();
    try {
        SqlStatement& find = prepared("SELECT st.id, coalesce(st.name, ''), st.session_id, j.command FROM jobs j "
                                      "JOIN steps st ON st.id = j.step_id WHERE j.id = ?1");
        find.bind(1, row);
        if (!find.step()) {
            throw FatalError(fmt::format("job {} has no step to name", row));
        }
        const int64_t step = find.column_int(0);
        const std::string current = find.column_text(1);
        const int64_t session = find.column_int(2);
        const std::string command = find.column_text(3);
        find.reset();
        SqlStatement& taken = prepared("SELECT id FROM steps WHERE session_id = ?1 AND name = ?2");
        taken.bind(1, session).bind(2, name);
        const bool exists = taken.step();
        const int64_t holder = exists ? taken.column_int(0) : 0;
        taken.reset();
        if (exists && holder != step) {
            throw FatalError(fmt::format("another step is already named '{}'", name));
        }
        if (current.empty()) {
            SqlStatement& set = prepared("UPDATE steps SET name = ?2 WHERE id = ?1");
            set.bind(1, step).bind(2, name).run();
        } else if (current != name) {
            SqlStatement& create =
                prepared("INSERT INTO steps (session_id, number, signature, command, io_paths, name) VALUES (?1, "
                         "(SELECT coalesce(max(number), 0) + 1 FROM steps WHERE session_id = ?1), ?2, ?3, ?4, ?5)");
            create.bind(1, session).bind(2, "n\x1f" + name).bind(3, command).bind(4, v3_json({}).dump());
            create.bind(5, name).run();
            const int64_t named = m_engine->last_insert_id();
            SqlStatement& move = prepared("UPDATE jobs SET step_id = ?2 WHERE id = ?1");
            move.bind(1, row).bind(2, named).run();
        }
        m_engine->commit();
    } catch (const FatalError&) {
        m_engine->rollback();
        throw;
    }
}

void Store::delete_job(int64_t row)
{
    require_writer("removing a job");
    m_engine->begin_write();
    try {
        SqlStatement& step = prepared("SELECT step_id FROM jobs WHERE id = ?1");
        step.bind(1, row);
        int64_t step_id = 0; // 0: none
        if (step.step()) {
            step_id = step.column_int(0);
        }
        step.reset();
        SqlStatement& uses = prepared("DELETE FROM job_io WHERE job_id = ?1");
        uses.bind(1, row).run();
        SqlStatement& lists = prepared("DELETE FROM job_uses WHERE job_id = ?1");
        lists.bind(1, row).run();
        SqlStatement& processes = prepared("DELETE FROM processes WHERE job_id = ?1");
        processes.bind(1, row).run();
        SqlStatement& job = prepared("DELETE FROM jobs WHERE id = ?1");
        job.bind(1, row).run();
        if (step_id != 0) {
            SqlStatement& empty =
                prepared("DELETE FROM steps WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM jobs WHERE step_id = ?1)");
            empty.bind(1, step_id).run();
        }
        m_engine->commit();
    } catch (const FatalError&) {
        m_engine->rollback();
        throw;
    }
}

void Store::write_uses_in_bulk(int64_t job_id, const JobRecord& job)
{
    // An artifact is identified by its strongest digest: BLAKE3 when known
    // (files, and S3 bodies the proxy saw whole), else the S3 ETag; the
    // other digests a use knows are added to it. The uses go ten thousand
    // at a time: a lookup (on SQLite one a thousand digests) finds the
    // stored artifacts their digests name (this transaction's own earlier
    // batches included, so later uses of the same bytes find them), then
    // new artifacts, digests and uses are written with multi-row
    // statements (or streamed). Memory stays bounded by the batch, whatever
    // the number of uses.
    struct Row {
        const ArtifactUse* use;
        const char* direction;
    };
    // The uses in order (inputs, outputs, deleted), a batch at a time: a
    // list of all of them would cost 16 MB for a job of a million.
    struct Cursor {
        const JobRecord& job;
        int list = 0;
        size_t at = 0;

        // Fills `rows` with up to `most` next uses; false when none is left.
        bool next(std::vector<Row>& rows, size_t most)
        {
            static constexpr const char* k_directions[] = {"in", "out", "deleted"};
            const std::vector<ArtifactUse>* lists[] = {&job.inputs, &job.outputs, &job.deleted};
            rows.clear();
            while (list < 3 && rows.size() < most) {
                if (at == lists[list]->size()) {
                    ++list;
                    at = 0;
                    continue;
                }
                rows.push_back({&(*lists[list])[at++], k_directions[list]});
            }
            return !rows.empty();
        }
    };
    // The batch's digests, looked up together (on PostgreSQL as one array
    // parameter when they are printable ASCII: blake3, sha256 and ETags are).
    KeyLookup digest_lookup(
        *m_engine, "SELECT algorithm, digest, artifact_id FROM artifact_hashes WHERE digest IN (",
        "SELECT algorithm, digest, artifact_id FROM artifact_hashes WHERE digest = ANY(?1::text[])");
    int64_t next_id = 0; // SQLite: the last artifact id given out
    if (m_engine->dialect() == Dialect::sqlite) {
        // The ids SQLite would give one INSERT at a time (max + 1), taken
        // under this transaction's write lock.
        SqlStatement& last = prepared("SELECT coalesce(max(id), 0) FROM artifacts");
        last.step();
        next_id = last.column_int(0);
        last.reset();
    }

    struct NewArtifact {
        const ArtifactUse* use;
        int64_t id = 0;
    };
    struct Hash {
        int64_t artifact;
        const std::string* algorithm;
        const std::string* digest;
    };
    struct Entry {
        std::string algorithm, digest;
    };
    std::vector<Entry> entries;      // the batch's digests, row by row
    std::vector<size_t> first_entry; // per row of the batch: its first in entries, and the end
    std::vector<std::string_view> digests;
    // (algorithm, digest) -> artifact, this batch, keyed by views of the
    // batch's own entries: a stored digest the lookup finds is kept under
    // the entry that names it (one a batch entry does not name is of no
    // use to the batch).
    struct DigestKey {
        std::string_view algorithm, digest;
        bool operator==(const DigestKey&) const = default;
    };
    struct DigestKeyHash {
        size_t operator()(const DigestKey& key) const
        {
            const std::hash<std::string_view> hash;
            return hash(key.digest) ^ (hash(key.algorithm) * 0x9e3779b97f4a7c15ULL);
        }
    };
    std::unordered_map<DigestKey, int64_t, DigestKeyHash> known;
    std::vector<std::string_view> algorithms; // the batch's, each once
    std::vector<int64_t> artifact_of;
    std::vector<NewArtifact> created;
    std::vector<Hash> hashes;
    // Under the write lock no other writer adds rows, and a batch writes
    // only digests it found neither stored nor earlier in the batch, and
    // each (direction, path) of the job once: nothing can conflict, so on
    // PostgreSQL the rows stream (COPY) instead of going as statements.
    // A batch is ten statements' worth: on PostgreSQL each batch costs
    // round trips, and on SQLite its digests, inserted in order, land on
    // neighbouring index pages (storing 100,000 inputs: the digests' inserts
    // took 0.65 s instead of 0.95 s in 1,000-row batches, under load 8).
    using store_detail::Conflicts;
    const size_t batch = 10 * k_rows_per_statement;
    RowInserter add_artifacts(*m_engine, "INSERT INTO artifacts (id, kind, size, first_seen)", "", 4,
                              k_rows_per_statement, Conflicts::impossible);
    RowInserter add_hashes(*m_engine, "INSERT INTO artifact_hashes (artifact_id, algorithm, digest)",
                           " ON CONFLICT DO NOTHING", 3, k_rows_per_statement, Conflicts::impossible);
    RowInserter add_uses(*m_engine, "INSERT INTO job_io (job_id, direction, path_id, artifact_id, size, notes, pid)",
                         " ON CONFLICT DO NOTHING", 7, k_rows_per_statement, Conflicts::impossible);
    PathInterner interner(*m_engine);
    // The job's inputs and outputs again as two use lists (use_lists.hpp),
    // written once the last batch is in; a job of more uses has none.
    const bool listed = job.inputs.size() + job.outputs.size() <= store_detail::k_max_listed_uses;
    std::vector<ScannedUse> lists[2]; // outputs, inputs
    std::vector<std::string_view> batch_paths;
    std::vector<int64_t> path_of;
    Cursor cursor{job};
    std::vector<Row> rows;
    while (cursor.next(rows, batch)) {
        const size_t count = rows.size();
        batch_paths.clear();
        for (size_t r = 0; r < count; ++r) {
            batch_paths.push_back(rows[r].use->path);
        }
        interner.intern(batch_paths, path_of);
        // The batch's digests as text, held for the batch: a use keeps a
        // BLAKE3 digest as bytes (digests.hpp).
        entries.clear();
        first_entry.resize(count + 1);
        for (size_t r = 0; r < count; ++r) {
            first_entry[r] = entries.size();
            for (const auto& [alg, digest] : rows[r].use->hashes) {
                entries.push_back({alg, digest});
            }
        }
        first_entry[count] = entries.size();
        // From here on `entries` stays as it is: the views below are of its strings.
        digests.clear();
        algorithms.clear();
        for (const auto& entry : entries) {
            digests.push_back(entry.digest);
            if (std::find(algorithms.begin(), algorithms.end(), entry.algorithm) == algorithms.end()) {
                algorithms.push_back(entry.algorithm);
            }
        }
        std::sort(digests.begin(), digests.end());
        digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
        known.clear();
        known.reserve(entries.size());
        digest_lookup.run(digests, [&](SqlStatement& q) {
            const std::string_view* digest = store_detail::batch_view(digests, q.column_view(1));
            const auto named = std::find(algorithms.begin(), algorithms.end(), q.column_view(0));
            if (digest && named != algorithms.end()) {
                known[{*named, *digest}] = q.column_int(2);
            }
        });

        artifact_of.assign(count, 0);
        created.clear();
        hashes.clear();
        for (size_t r = 0; r < count; ++r) {
            const Entry* use_first = entries.data() + first_entry[r];
            const Entry* use_end = entries.data() + first_entry[r + 1];
            if (use_first == use_end) {
                continue;
            }
            int64_t& artifact = artifact_of[r];
            for (const char* algorithm : {"blake3", "etag"}) {
                auto it = std::find_if(use_first, use_end, [&](const Entry& e) { return e.algorithm == algorithm; });
                if (it != use_end) {
                    if (auto found = known.find(DigestKey{it->algorithm, it->digest}); found != known.end()) {
                        artifact = found->second;
                        break;
                    }
                }
            }
            if (artifact == 0) { // new: ids are drawn below; -k marks the k-th
                created.push_back({rows[r].use});
                artifact = -int64_t(created.size());
            }
            for (const Entry* e = use_first; e != use_end; ++e) {
                // A digest already stored, or met earlier in this batch, is
                // not written again.
                if (known.emplace(DigestKey{e->algorithm, e->digest}, artifact).second) {
                    hashes.push_back({artifact, &e->algorithm, &e->digest});
                }
            }
        }
        if (!created.empty()) {
            if (m_engine->dialect() == Dialect::postgresql) {
                // One range of ids: nextval, then the sequence moved past
                // the range's end. Only writers holding this project's
                // write lock draw artifact ids, so no one draws in between.
                SqlStatement& ids = prepared("SELECT setval(pg_get_serial_sequence('artifacts', 'id'), "
                                             "nextval(pg_get_serial_sequence('artifacts', 'id')) + ?1 - 1)");
                ids.bind(1, int64_t(created.size()));
                if (!ids.step()) {
                    throw FatalError("database error: no artifact ids");
                }
                int64_t id = ids.column_int(0) - int64_t(created.size());
                ids.reset();
                for (auto& artifact : created) {
                    artifact.id = ++id;
                }
            } else {
                for (auto& artifact : created) {
                    artifact.id = ++next_id;
                }
            }
            add_artifacts.insert(created.size(), [&](SqlStatement& q, size_t i, int p) {
                const ArtifactUse& use = *created[i].use;
                q.bind(p, created[i].id).bind(p + 1, use.kind.view());
                q.bind(p + 2, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
                q.bind(p + 3, job.ended_at);
            });
        }
        auto real_id = [&](int64_t artifact) { return artifact < 0 ? created[size_t(-artifact - 1)].id : artifact; };
        // In key order, (digest, algorithm), the inserts walk the key's
        // B-tree forwards instead of hitting random pages.
        std::sort(hashes.begin(), hashes.end(), [](const Hash& a, const Hash& b) {
            return std::tie(*a.digest, *a.algorithm) < std::tie(*b.digest, *b.algorithm);
        });
        add_hashes.insert(hashes.size(), [&](SqlStatement& q, size_t i, int p) {
            q.bind(p, real_id(hashes[i].artifact)).bind(p + 1, *hashes[i].algorithm);
            q.bind(p + 2, *hashes[i].digest);
        });
        for (size_t r = 0; listed && r < count; ++r) {
            const bool output = rows[r].direction[0] == 'o', input = rows[r].direction[0] == 'i';
            if (output || input) {
                lists[input ? 1 : 0].push_back({path_of[r], artifact_of[r] ? real_id(artifact_of[r]) : 0});
            }
        }
        // (direction, path) is unique within a job: nothing is ignored here.
        add_uses.insert(count, [&](SqlStatement& q, size_t i, int p) {
            const ArtifactUse& use = *rows[i].use;
            q.bind(p, job_id).bind(p + 1, rows[i].direction).bind(p + 2, path_of[i]);
            q.bind(p + 3, artifact_of[i] ? std::optional<int64_t>(real_id(artifact_of[i])) : std::nullopt);
            q.bind(p + 4, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
            q.bind(p + 5, use.notes.empty() ? std::string("[]") : stored_json(use.notes));
            q.bind(p + 6, use.pid ? std::optional<int64_t>(int64_t(*use.pid)) : std::nullopt);
        });
    }
    if (!listed) {
        return;
    }
    std::string texts[2];
    for (int i = 0; i < 2; ++i) {
        // A path used twice in one direction keeps its first use, as job_io does.
        auto& list = lists[i];
        std::stable_sort(list.begin(), list.end(),
                         [](const ScannedUse& a, const ScannedUse& b) { return a.path_id < b.path_id; });
        list.erase(std::unique(list.begin(), list.end(),
                               [](const ScannedUse& a, const ScannedUse& b) { return a.path_id == b.path_id; }),
                   list.end());
        texts[i] = store_detail::use_list_text(list);
        list = {};
    }
    SqlStatement& together = prepared("INSERT INTO job_uses (job_id, outputs, inputs) VALUES (?1, ?2, ?3)");
    together.bind(1, job_id).bind(2, texts[0]).bind(3, texts[1]).run();
}

void Store::write_processes_in_bulk(int64_t job_id, const JobRecord& job)
{
    // A process names its parent by seq (its index in job.processes), never
    // by row id, so the rows can go many a statement in any id order: on
    // PostgreSQL a make -j job's thousands of processes cost a few round
    // trips, not one each. On SQLite, where a statement costs no round trip,
    // 50 rows a statement (store_job of 5,000 processes: 0.027 s, as one a
    // statement; 0.30 s at 1,000 a statement, measured when placeholders
    // were numbered, which made a 1,000-row statement slow to prepare).
    const size_t rows = m_engine->dialect() == Dialect::sqlite ? 50 : k_rows_per_statement;
    // The job's row is new, so its processes conflict with nothing: on
    // PostgreSQL they stream.
    RowInserter add_processes(*m_engine,
                              "INSERT INTO processes (job_id, seq, pid, ppid, parent_seq, exe, argv, cwd, started_at, "
                              "exit_code, signal, observed, notes, tracer)",
                              "", 14, rows, store_detail::Conflicts::impossible);
    add_processes.insert(job.processes.size(), [&](SqlStatement& q, size_t i, int c) {
        const ProcessRecord& p = job.processes[i];
        q.bind(c, job_id).bind(c + 1, int64_t(i)).bind(c + 2, int64_t(p.pid)).bind(c + 3, int64_t(p.ppid));
        q.bind(c + 4, p.parent >= 0 ? std::optional<int64_t>(p.parent) : std::nullopt);
        q.bind(c + 5, p.exe).bind(c + 6, stored_json(p.argv)).bind(c + 7, p.cwd).bind(c + 8, p.started_at);
        q.bind(c + 9, p.exit_code ? std::optional<int64_t>(*p.exit_code) : std::nullopt);
        q.bind(c + 10, p.signal ? std::optional<int64_t>(*p.signal) : std::nullopt);
        q.bind(c + 11, int64_t(p.observed)).bind(c + 12, stored_json(p.notes));
        if (p.tracer.empty()) {
            q.bind(c + 13, std::nullopt);
        } else {
            q.bind(c + 13, std::string_view(p.tracer));
        }
    });
}

Result<int64_t> Store::store_job(const JobRecord& job, std::optional<int64_t> step_number)
{
    if (!m_engine || m_engine->access() != Access::write) {
        return fail("could not store job {}: {} is not open for writing", job.uid, describe());
    }
    try {
        m_engine->prepare_write(job.inputs.size() + job.outputs.size() + job.deleted.size());
        // Every id the job's rows name is found or made below, under this
        // transaction's write lock.
        m_engine->begin_write_of_own_references();
        const int64_t session = active_session_for_writing();
        const int64_t step = step_for(session, job, step_number);
        SqlStatement& insert = prepared(R"sql(
INSERT INTO jobs (uid, session_id, step_id, command, argv, cwd, started_at, ended_at, exit_code, signal,
                  hostname, "user", git_commit, git_branch, git_remote, git_dirty, git_dirty_files, env,
                  dropped_events, notes, roar_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21))sql");
        insert.bind(1, job.uid).bind(2, session).bind(3, step).bind(4, job.command);
        insert.bind(5, stored_json(job.argv)).bind(6, job.cwd).bind(7, job.started_at);
        insert.bind(8, job.ended_at).bind(9, job.exit_code);
        insert.bind(10, job.signal ? std::optional<int64_t>(*job.signal) : std::nullopt);
        insert.bind(11, job.hostname).bind(12, job.user);
        if (job.git) {
            insert.bind(13, job.git->commit).bind(14, job.git->branch).bind(15, job.git->remote);
            insert.bind(16, int64_t(job.git->dirty)).bind(17, stored_json(job.git->dirty_files));
        } else {
            for (int i = 13; i <= 17; ++i) {
                insert.bind(i, std::nullopt);
            }
        }
        insert.bind(18, stored_json(job.env)).bind(19, job.ring.dropped);
        insert.bind(20, stored_json(job.notes)).bind(21, ROAR_VERSION_STRING);
        insert.run();
        const int64_t job_id = m_engine->last_insert_id();
        if (!job.environment.is_null()) {
            SqlStatement& environment = prepared("INSERT INTO job_environments (job_id, record) VALUES (?1, ?2)");
            // A path in it that is not UTF-8 (an odd site directory) must not cost the job.
            environment.bind(1, job_id);
            environment.bind(2, stored_json(job.environment)); // exact bytes of every path in it
            environment.run();
        }

        write_processes_in_bulk(job_id, job);
        write_uses_in_bulk(job_id, job);
        if (m_engine->dialect() == Dialect::postgresql) {
            m_engine->commit();
            flush_hash_cache(); // this machine's cache, in its own file
            return job_id;
        }
        write_pending_cache(); // the digests taken for this job, in the same transaction
        m_engine->commit();
        return job_id;
    } catch (const std::exception& e) { // FatalError from the engine, or anything else: never half a job
        m_engine->rollback();
        return fail("could not store job {}: {}", job.uid, e.what());
    }
}

} // namespace roar::collector

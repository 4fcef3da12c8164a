// Interprets a job's raw events: follows every process's image, working
// directory and fd table, turns file operations into per-path facts (read
// before written, written, removed), takes input digests at sync points
// before the job overwrites what it read, and finally builds a JobRecord.
#pragma once

#include "roar/collector/dataset.hpp"
#include "roar/collector/environment/job_footprint.hpp"
#include "roar/collector/event_ring.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/job_launcher.hpp"
#include "roar/collector/job_record.hpp"
#include "roar/collector/path_filter.hpp"
#include "roar/collector/path_resolver.hpp"
#include "roar/collector/text_arena.hpp"

#include <ctime>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace roar::collector {

class EarlyHasher;
class ProgressLine;

// Returns the BLAKE3 digest of a file (through the hash cache when there
// is one).
using DigestFunction = std::function<Result<FileDigest>(const std::string& path)>;

// Returns the digests of many files at once, in the order of `paths`.
using BatchDigestFunction = std::function<std::vector<Result<FileDigest>>(const std::vector<std::string>& paths)>;

class JobTracker {
public:
    // `cwd`: where the job was started; `filter`: which paths are recorded;
    // `digest`: how files are hashed; `digest_many`: how the files left to
    // hash at the end are (by default `digest` on each, one after another).
    JobTracker(std::string cwd, PathFilter filter, DigestFunction digest, BatchDigestFunction digest_many = {});

    // The ring sink: interprets one event.
    void on_event(const RawEvent& event);

    // Declares the root command's pid, argv and what probing its
    // executable found (ROAR_EXEC_* flags): known to the launcher even if
    // the shim never starts in it.
    void set_root(uint32_t pid, const std::vector<std::string>& argv, int exec_flags = 0);

    // Everything the launcher reaped (exit statuses of the root and of
    // orphans adopted by the launcher).
    void add_reaped(const std::vector<Reaped>& reaped);

    // Hash files the job has finished writing on `early` while the job
    // runs (see early_hasher.hpp); finish() ends it, telling it first
    // whether anything could have changed a file unseen. Must outlive this.
    void hash_early(EarlyHasher* early) { m_early = early; }

    // Hands the files closed since the last call to the early hasher,
    // under the names they have now (a temp file is often renamed right
    // after it is closed): call after each batch of events.
    void start_early_hashes();

    // Resolves the final state of every path, hashes inputs and outputs,
    // and fills `job`'s inputs, outputs, deleted, processes and notes.
    // `job.ring` must already hold the ring's counters: when events were
    // lost, a file the job read with no write seen is checked against the
    // job's start (see settle_lost_writes), so a file the job created is
    // never recorded as its input.
    void finish(JobRecord& job);

    // finish() in its two steps: the processes (`job`'s processes and their
    // notes; footprint() can be taken after it), then the paths (inputs,
    // outputs, deleted: hashing). A job of many files keeps the footprint
    // and the record's uses from being held at once this way. After
    // finish_paths the tracker takes no more events and footprint() no
    // longer answers: its paths are freed while the record's uses are made.
    void finish_processes(JobRecord& job);
    void finish_paths(JobRecord& job);

    // Counts the paths finish() records on `progress` (a line on the
    // terminal while a job's many files are hashed). Must outlive this.
    void show_progress(ProgressLine* progress) { m_progress = progress; }

    // When the job started (by default: when this tracker was made), as
    // the file system's coarse clock and the precise clock read then.
    void set_start(const timespec& coarse, const timespec& precise)
    {
        m_start_coarse = coarse;
        m_start_precise = precise;
    }
    // What the job did that tells which environment it ran in
    // (environment/job_footprint.hpp): `job`'s processes, as
    // finish_processes() left them, each with the paths it opened for
    // reading, those the path filter keeps out of the inputs included.
    // Taken before finish_paths (afterwards: the processes alone).
    JobFootprint footprint(const JobRecord& job);

private:
    struct FdEntry {
        std::string path;
        int flags = 0;
    };
    struct ProcState {
        int record = -1; // index into m_processes of the current image
        std::string cwd;
        std::unordered_map<int, FdEntry> fds;
        bool exec_pending = false;
        bool placeholder = false; // made for an event that came before any PROC_START of this pid
        int exec_flags = 0;
        std::string exec_path;
        std::vector<std::string> exec_argv;
    };
    // Every distinct path the job touched, interned once: its text is
    // stored once (in large blocks), an ordered index finds it (renames and
    // unlinks of directories walk prefixes; the record lists paths in
    // order), and the rest of the tracker names it by a small integer id.
    // A job with a million inputs keeps a million of these.
    using PathId = uint32_t;
    // Values by PathId, in a deque (references stay valid as ids are
    // added) that finish_paths frees from the front as its walk passes:
    // after release_before(id), only ids from `id` on answer.
    template <typename T> class ById {
    public:
        T& operator[](PathId id) { return m_values[id - m_first]; }
        const T& operator[](PathId id) const { return m_values[id - m_first]; }
        size_t size() const { return m_first + m_values.size(); } // one past the last id
        void push_back(T value) { m_values.push_back(std::move(value)); }
        // The value of the first id not released (there must be one).
        const T& first_held() const { return m_values.front(); }
        bool all_released() const { return m_values.empty(); }
        void release_before(PathId id)
        {
            for (; m_first < id && !m_values.empty(); ++m_first) {
                m_values.pop_front();
            }
        }

    private:
        std::deque<T> m_values;
        PathId m_first = 0; // ids before it are released
    };
    class PathTable {
    public:
        PathId intern(std::string_view path); // the path's id, new or existing
        std::optional<PathId> find(std::string_view path) const;
        std::string_view name(PathId id) const { return m_names[id]; }
        size_t size() const { return m_names.size(); }
        // Ids in path order, from the first path not before `from`.
        using Index = std::map<std::string_view, PathId, std::less<>>;
        Index::const_iterator lower_bound(std::string_view from) const { return m_index.lower_bound(from); }
        // Calls f(name, id) for `dir` (when interned) and every path below
        // it, in path order. Not a walk from lower_bound(dir) while
        // path_is_within: "dir.log" and "dir-2" sort between "dir" and
        // "dir/..." and would end it early.
        template <typename F> void for_each_within(std::string_view dir, F&& f) const
        {
            std::string below(dir);
            if (below != "/") {
                if (auto it = m_index.find(dir); it != m_index.end()) {
                    f(it->first, it->second);
                }
                below += '/';
            }
            for (auto it = m_index.lower_bound(below); it != m_index.end() && it->first.starts_with(below); ++it) {
                f(it->first, it->second);
            }
        }
        Index::const_iterator begin() const { return m_index.begin(); }
        Index::const_iterator end() const { return m_index.end(); }
        // Frees the index (a third of the table's memory); name() and
        // size() still answer, look-ups by name no longer do.
        void drop_index() { Index().swap(m_index); }
        // After drop_index: frees the names of the ids before `first_kept`
        // (name() no longer answers for them), as a walk in id order passes.
        void release_before(PathId first_kept);

    private:
        TextArena m_text;
        ById<std::string_view> m_names;
        Index m_index;
    };
    enum class PathKind : uint8_t { file, s3 };
    // What the job did to one path: a few bytes. The rare parts (a digest
    // taken before the job changed the file, notes, what the proxy said of
    // an S3 object) live in m_extras.
    struct PathState {
        PathKind kind = PathKind::file;
        bool read_first = false;  // read before the job wrote it: an input
        bool written = false;     // the job put content there
        bool removed = false;     // unlinked or renamed away at the end
        bool created = false;     // did not exist before the job wrote it
        bool existed = false;     // known to have existed before the job touched it
        bool has_digest = false;  // m_extras holds input_digest
        bool input_lost = false;  // read, then replaced before it could be hashed (learnt_replacement)
        uint8_t early_hashes = 0; // times submitted for early hashing
        bool opened_rw = false;   // opened read-write (mappable): no early digest is used for it
        bool early_input = false; // submitted for early hashing as an input
        // The path filter's verdict, asked once per path (recorded()): 0
        // not asked yet, 1 recorded, 2 excluded.
        uint8_t filter_verdict = 0;
        // Attribution (0: unknown). `reader`: the process whose event made
        // the path an input (the first read, in ring order). `changer`: while
        // written, the process that first wrote its present content; once
        // removed, the process that removed it.
        uint32_t reader = 0;
        uint32_t changer = 0;
    };
    struct PathExtra {
        std::optional<FileDigest> input_digest;
        std::vector<std::string> notes;
        // S3 objects: what the proxy reported.
        std::optional<uint64_t> s3_in_size, s3_out_size;
        std::map<std::string, std::string> s3_in_hashes, s3_out_hashes;
        std::vector<std::string> s3_out_notes; // the proxy's, e.g. why a multipart object has no BLAKE3
    };

    ProcState& proc(uint32_t pid);
    int new_record(uint32_t pid, uint32_t ppid, double when);
    int start_record(uint32_t pid, uint32_t ppid, double when);
    std::string resolve(uint32_t pid, int dirfd, std::string_view path);
    void move_held_paths(const std::string& from, const std::string& to, bool exchange);
    PathId path_id(std::string_view path) { return m_path_ids.intern(path); }
    PathState& state(PathId id);
    // Whether the path filter records path `id` (named `name`): the filter
    // is asked the first time only (a job of 100,000 inputs asked it three
    // times a path: at the input's close, for the footprint, and when the
    // paths are recorded).
    bool recorded(PathId id, std::string_view name);
    PathExtra& extra(PathId id) { return m_extras[id]; }
    const PathExtra* find_extra(PathId id) const;
    void mark_read(PathId id, uint32_t pid);
    void mark_written(PathId id, uint32_t pid);
    void take_input_digest(PathId id, bool late);
    // The input digest of `id` from a learnt read-only OPEN (`blake3`, `size`:
    // its s2 and s3), when it has none yet and the job has not written it.
    void take_learnt_digest(PathId id, std::string_view blake3, std::string_view size);
    bool learnt_replacement(PathId id);
    void rename_path(const std::string& from, const std::string& to, uint32_t pid);
    // renameat2(RENAME_EXCHANGE) of `a` and `b` by `pid` (see job_tracker.cpp).
    void exchange_paths(const std::string& a, const std::string& b, uint32_t pid);
    // One pair of exchange_paths: `a` and `b` swap contents; `a_there` and
    // `b_there` tell whether each held a file before.
    void exchange_pair(const std::string& a, const std::string& b, bool a_there, bool b_there, uint32_t pid);
    uint32_t known_pid(uint32_t pid) const;
    void on_s3(const RawEvent& event);
    // Marks the source named in a CopyObject event's `extras` read by
    // process `caller`, with the identity the event gives it.
    void on_s3_copy_source(const std::map<std::string, std::string>& extras, uint32_t caller);
    // What the job read of the S3 object `id` with UploadPartCopy (`event`,
    // `extras`), made by process `caller`; several parts of one object make
    // one input, settled by settle_part_copies.
    void on_s3_part_copy(PathId id, const RawEvent& event, const std::map<std::string, std::string>& extras,
                         uint32_t caller);
    // Gives each object copied in parts its input's ETag, size and notes.
    void settle_part_copies();
    void closing(const FdEntry& fd);
    void opened_read_write(const std::string& path, bool has_path);
    void set_status(uint32_t pid, int status);
    void settle_lost_writes(JobRecord& job);
    void note_opened_for_reading(int record, PathId id);
    void record_path(JobRecord& job, PathId id, Result<FileDigest>* digest);

    std::string m_cwd;
    PathResolver m_resolver; // what the job's ".." after a symbolic link names
    PathFilter m_filter;
    DigestFunction m_digest;
    BatchDigestFunction m_digest_many;
    std::unordered_map<uint32_t, ProcState> m_procs;
    std::unordered_map<uint32_t, ProcState> m_fork_snapshots;
    std::vector<ProcessRecord> m_processes;
    PathTable m_path_ids;
    ById<PathState> m_states;
    std::unordered_map<PathId, PathExtra> m_extras;
    std::vector<std::string> m_notes;
    // Paths the job used that were not there to hash because their
    // directory is gone: the first few, and how many.
    std::vector<std::string> m_unseen_moved;
    size_t m_unseen_moves = 0;
    // Files the job wrote that were gone at the end, their directory still
    // there, with no unlink or rename of them seen: the first few, and how
    // many.
    std::vector<std::string> m_unseen_removed;
    size_t m_unseen_removals = 0;
    EarlyHasher* m_early = nullptr;
    ProgressLine* m_progress = nullptr;
    std::vector<std::string> m_early_pending;        // closed, not yet handed to m_early
    std::vector<std::string> m_early_inputs_pending; // read and closed, not yet handed to m_early
    size_t m_early_inputs = 0;                       // inputs handed to m_early
    std::map<uint32_t, ProcessRecord> m_spawned;     // pid -> what SPAWN said, until the child shows up
    uint32_t m_root = 0;
    std::vector<std::string> m_root_argv;
    int m_root_flags = 0;
    timespec m_start_coarse{};
    timespec m_start_precise{};
    // Per process record, the ids of the paths it opened for reading (for
    // footprint()).
    std::vector<std::vector<PathId>> m_record_reads;
    // Directories the job opened as directories (listed), among the paths
    // the filter keeps: candidates for datasets (dataset.hpp).
    std::unordered_set<std::string> m_listed;
    std::map<std::string, S3Listing> m_s3_listings; // by "s3://bucket/prefix"
    // The last HeadObject of an S3 object: what a managed copy learns of
    // its source before copying it in parts.
    struct S3Head {
        uint32_t pid = 0; // as the event gave it (the proxy's own pid when it could not tell)
        std::string etag;
        std::string version_id;
        std::optional<uint64_t> size;
    };
    // The latest k_kept_heads objects HEADed, oldest first in
    // m_s3_head_order: a managed copy HEADs its source just before its
    // part copies, and a job HEADing millions of objects (a sync checking
    // what exists) must not keep them all. A part copy whose HEAD has
    // left the window gets the "version read is unknown" note.
    static constexpr size_t k_kept_heads = 65536;
    std::unordered_map<PathId, S3Head> m_s3_heads;
    std::deque<PathId> m_s3_head_order;
    // An S3 object the job copied from in parts (UploadPartCopy).
    struct PartCopySource {
        std::string etag;              // x-amz-copy-source-if-match's, else the HEAD's; empty: unknown
        bool etag_from_head = false;   // the HEAD's, which an if-match of a later part replaces
        std::optional<uint64_t> size;  // the object's, from that HEAD
        bool whole = false;            // a part copied the whole object (no range)
        bool unreadable_range = false; // a range that is not "bytes=first-last"
        // Per upload id, the byte ranges [first, last] its parts copied.
        std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> ranges;
    };
    std::unordered_map<PathId, PartCopySource> m_part_copies;
    void add_datasets(JobRecord& job) const;
    void on_s3_listing(const RawEvent& event);
};

} // namespace roar::collector

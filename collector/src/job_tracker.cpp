// Event interpretation (see job_tracker.hpp). The rules that decide what
// is an input or an output live here, in one place:
//  - an input is a regular file first *read* by the job (before any write
//    by the job); its digest is of the bytes before the job's first write,
//    taken at the shim's PRE_MODIFY sync point or at the end if untouched;
//  - an output is a path the job wrote (O_WRONLY/O_TRUNC open, a write on
//    the fd, a transfer into it, a truncate, a rename or link onto it,
//    either name of a renameat2(RENAME_EXCHANGE)) that still exists at the
//    end; a file created and deleted inside the job is neither;
//  - deleted lists files that existed before the job and are gone after;
//  - an S3 object is an input when the job read it (GetObject) or copied
//    from it (CopyObject, UploadPartCopy: several parts one input), unless
//    the job wrote it first; an output when it put, completed or copied it.
// Each use is attributed to one process, by the order in which the
// collector takes events from the ring (ring order, which is the order the
// producers committed them, so the order in time for events of different
// processes up to the moment of commit):
//  - an input to the process whose read made it one (the first read of
//    the path before any write by the job);
//  - an output to the process that first wrote its present content: the
//    first write since the path was last removed (a later write by
//    another process to the same content does not change it); a rename
//    carries the writer of the source along, or names the renaming process
//    when the job had not written the source;
//  - a deleted path to the process whose removal left it gone (the last);
//  - an S3 object to the process that made the call, as the proxy reports
//    it (the PROXY v2 header of a routed connection); on the proxy's
//    re-signing path the event carries the proxy's own pid, which is not
//    a process of the job, and the use stays unattributed.
// When events were lost and a file the job read turns out to have been
// created by it (settle_lost_writes), its writer is unknown. An open the
// ptrace tracer learnt after the fact (ROAR_OPEN_LEARNT) that created or
// replaced a file happened at an unknown moment before its event: the file
// system's birth time settles what that leaves open (learnt_replacement);
// a file the job read before such a replacement keeps the digest the
// tracer took when it learnt the read (take_learnt_digest).
#include "roar/collector/job_tracker.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/dataset.hpp"
#include "roar/collector/early_hasher.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/huge_pages.hpp"
#include "roar/collector/path_resolver.hpp"
#include "roar/collector/progress.hpp"
#include "roar/collector/syscall_filter.h"

#include <cerrno>
#include <charconv>
#include <algorithm>
#include <array>
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <malloc.h>
#include <cstdlib>
#include <memory>
#include <set>
#include <tuple>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace roar::collector {

namespace {

double seconds(uint64_t ns) { return double(ns) / 1e9; }

// How many paths a note names before "and N more".
constexpr size_t k_named_paths = 10;

// Who published a PROC_START with `flags` (ProcessRecord::tracer).
const char* tracer_of(int flags)
{
    if (flags & ROAR_START_TRACED) {
        return "ptrace";
    }
    return (flags & ROAR_START_FS_TRACED) ? "shim+ptrace" : "shim";
}

std::map<std::string, std::string> parse_extras(std::string_view s)
{
    std::map<std::string, std::string> out;
    while (!s.empty()) {
        const size_t nl = s.find('\n');
        const std::string_view line = s.substr(0, nl);
        const size_t eq = line.find('=');
        if (eq != std::string_view::npos) {
            out.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
        }
        if (nl == std::string_view::npos) {
            break;
        }
        s.remove_prefix(nl + 1);
    }
    return out;
}

// The `size=` of an S3 event's `extras`; nullopt when absent or not a
// size (the ring is writable by any process of the job).
std::optional<uint64_t> extra_size(const std::map<std::string, std::string>& extras)
{
    const auto size = extras.find("size");
    if (size == extras.end()) {
        return std::nullopt;
    }
    uint64_t n = 0;
    const char* end = size->second.data() + size->second.size();
    const auto [ptr, ec] = std::from_chars(size->second.data(), end, n);
    return ec == std::errc() && ptr == end && ptr != size->second.data() ? std::optional<uint64_t>(n) : std::nullopt;
}

// The bytes [first, last] an x-amz-copy-source-range `range`
// ("bytes=first-last") names; nullopt when it is not one.
std::optional<std::pair<uint64_t, uint64_t>> copy_range(std::string_view range)
{
    if (!range.starts_with("bytes=")) {
        return std::nullopt;
    }
    range.remove_prefix(6);
    const auto dash = range.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    const auto number = [](std::string_view text) -> std::optional<uint64_t> {
        uint64_t n = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
            return std::nullopt;
        }
        return n;
    };
    const auto first = number(range.substr(0, dash));
    const auto last = number(range.substr(dash + 1));
    if (!first || !last || *last < *first) {
        return std::nullopt;
    }
    return std::pair{*first, *last};
}

// Whether the byte ranges `ranges` ([first, last], any order) cover an
// object of `size` bytes.
bool covers(std::vector<std::pair<uint64_t, uint64_t>> ranges, uint64_t size)
{
    std::sort(ranges.begin(), ranges.end());
    uint64_t next = 0; // the first byte not covered yet
    for (const auto& [first, last] : ranges) {
        if (first > next) {
            return false;
        }
        next = std::max(next, last + 1);
    }
    return next >= size;
}

// Adds `note` to `notes` unless it is there already.
void add_note(std::vector<std::string>& notes, std::string note)
{
    if (std::find(notes.begin(), notes.end(), note) == notes.end()) {
        notes.push_back(std::move(note));
    }
}

std::string exec_flags_note(int flags)
{
    if (flags & ROAR_EXEC_32BIT) {
        return "32-bit executable: neither the shim nor the tracer can observe it; its file I/O was not observed";
    }
    if (flags & ROAR_EXEC_GO) {
        return "Go executable: it makes system calls itself, bypassing the shim; its file I/O was not observed";
    }
    if (flags & ROAR_EXEC_STATIC) {
        return "statically linked: the shim cannot load, its file I/O was not observed";
    }
    if (flags & ROAR_EXEC_SETID) {
        return "setuid/setgid executable: the loader ignores LD_PRELOAD, its file I/O was not observed";
    }
    if (flags & ROAR_EXEC_FILECAPS) {
        return "executable with file capabilities: the loader ignores LD_PRELOAD, its file I/O was not observed";
    }
    return "the shim never started in this process: its file I/O was not observed";
}

} // namespace

JobTracker::JobTracker(std::string cwd, PathFilter filter, DigestFunction digest, BatchDigestFunction digest_many)
    : m_cwd(std::move(cwd)),
      m_filter(std::move(filter)),
      m_digest(std::move(digest)),
      m_digest_many(std::move(digest_many))
{
    clock_gettime(CLOCK_REALTIME_COARSE, &m_start_coarse);
    clock_gettime(CLOCK_REALTIME, &m_start_precise);
    if (!m_digest_many) {
        m_digest_many = [this](const std::vector<std::string>& paths) {
            std::vector<Result<FileDigest>> out;
            out.reserve(paths.size());
            for (const auto& path : paths) {
                out.push_back(m_digest(path));
            }
            return out;
        };
    }
}

void JobTracker::set_root(uint32_t pid, const std::vector<std::string>& argv, int exec_flags)
{
    m_root = pid;
    m_root_argv = argv;
    m_root_flags = exec_flags;
}

JobTracker::ProcState& JobTracker::proc(uint32_t pid)
{
    auto it = m_procs.find(pid);
    if (it != m_procs.end()) {
        return it->second;
    }
    // An event from a process we have not seen start (its PROC_START was
    // dropped): track it anyway so its I/O still counts.
    ProcState& st = m_procs[pid];
    st.cwd = m_cwd;
    st.record = new_record(pid, 0, 0);
    st.placeholder = true;
    return st;
}

int JobTracker::start_record(uint32_t pid, uint32_t ppid, double when)
{
    // Events can precede a process's PROC_START (the tracer reports the
    // loader's opens before the shim in that image starts): the record made
    // for them is this process's, not an earlier image's.
    auto it = m_procs.find(pid);
    if (it == m_procs.end() || !it->second.placeholder || it->second.record < 0) {
        return new_record(pid, ppid, when);
    }
    ProcessRecord& rec = m_processes[size_t(it->second.record)];
    rec.ppid = ppid;
    rec.started_at = when;
    if (auto parent = m_procs.find(ppid); parent != m_procs.end() && parent->first != pid) {
        rec.parent = parent->second.record;
    }
    return it->second.record;
}

int JobTracker::new_record(uint32_t pid, uint32_t ppid, double when)
{
    ProcessRecord rec;
    rec.pid = pid;
    rec.ppid = ppid;
    rec.started_at = when;
    if (auto parent = m_procs.find(ppid); parent != m_procs.end()) {
        rec.parent = parent->second.record;
    }
    m_processes.push_back(std::move(rec));
    return int(m_processes.size()) - 1;
}

std::string JobTracker::resolve(uint32_t pid, int dirfd, std::string_view path)
{
    ProcState& st = proc(pid);
    if (!path.empty() && path.front() == '/') {
        return m_resolver.resolve("/", path);
    }
    if (dirfd == ROAR_AT_FDCWD) {
        return m_resolver.resolve(st.cwd, path);
    }
    auto it = st.fds.find(dirfd);
    if (it != st.fds.end()) {
        return m_resolver.resolve(it->second.path, path);
    }
    // Unknown dirfd (inherited without a path): best effort.
    return m_resolver.resolve(st.cwd, path);
}

// A directory renamed from `from` to `to` (both resolved) takes the
// working directories and open fds below it along: the kernel's hold on
// them is the directory, not its name. `exchange`: the two swapped places
// (RENAME_EXCHANGE), so what was below `to` is below `from` now. Renames
// of files are the common case and cost an lstat here; only a directory's
// walks every process's fd table.
void JobTracker::move_held_paths(const std::string& from, const std::string& to, bool exchange)
{
    const auto file = [](const std::string& path) {
        struct stat sb { };
        return lstat(path.c_str(), &sb) == 0 && !S_ISDIR(sb.st_mode);
    };
    if (file(to) && (!exchange || file(from))) {
        return; // a file: nothing is held below it (gone again already: it may have been a directory)
    }
    const auto moved = [&](std::string& path) {
        if (path_is_within(path, from)) {
            path = to + path.substr(from.size());
        } else if (exchange && path_is_within(path, to)) {
            path = from + path.substr(to.size());
        }
    };
    for (auto* procs : {&m_procs, &m_fork_snapshots}) {
        for (auto& [pid, st] : *procs) {
            moved(st.cwd);
            for (auto& [fd, entry] : st.fds) {
                moved(entry.path);
            }
        }
    }
}

JobTracker::PathId JobTracker::PathTable::intern(std::string_view path)
{
    if (auto it = m_index.find(path); it != m_index.end()) {
        return it->second;
    }
    const std::string_view stored = m_text.keep(path);
    const auto id = PathId(m_names.size());
    m_names.push_back(stored);
    m_index.emplace(stored, id);
    return id;
}

std::optional<JobTracker::PathId> JobTracker::PathTable::find(std::string_view path) const
{
    auto it = m_index.find(path);
    return it == m_index.end() ? std::nullopt : std::optional<PathId>(it->second);
}

void JobTracker::PathTable::release_before(PathId first_kept)
{
    m_names.release_before(first_kept);
    if (!m_names.all_released()) {
        m_text.release_before(m_names.first_held());
    }
}

JobTracker::PathState& JobTracker::state(PathId id)
{
    while (m_states.size() <= id) {
        m_states.push_back({});
    }
    return m_states[id];
}

bool JobTracker::recorded(PathId id, std::string_view name)
{
    PathState& st = state(id);
    if (st.filter_verdict == 0) {
        st.filter_verdict = m_filter.accepts(name) ? 1 : 2;
    }
    return st.filter_verdict == 1;
}

const JobTracker::PathExtra* JobTracker::find_extra(PathId id) const
{
    auto it = m_extras.find(id);
    return it == m_extras.end() ? nullptr : &it->second;
}

void JobTracker::take_input_digest(PathId id, bool late)
{
    PathState& st = state(id);
    const std::string path(m_path_ids.name(id));
    if (st.has_digest || st.kind != PathKind::file || !recorded(id, path)) {
        return;
    }
    auto digest = m_digest(path);
    if (!digest) {
        return;
    }
    st.existed = true;
    st.has_digest = true;
    PathExtra& ex = extra(id);
    ex.input_digest = *digest;
    if (late) {
        ex.notes.push_back("input digest taken after the job began modifying the file; it may not be the bytes read");
    }
}

// The tracer hashed the file when it learnt the read-only fd, having seen
// its inode unchanged since before the job (ctime) before and after: the
// bytes the job found there, so the bytes read, whatever replaces them later.
void JobTracker::take_learnt_digest(PathId id, std::string_view blake3, std::string_view size)
{
    PathState& st = state(id);
    if (st.has_digest || st.written || st.kind != PathKind::file || !recorded(id, m_path_ids.name(id))) {
        return;
    }
    uint64_t bytes = 0;
    const auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), bytes);
    const bool hex = blake3.size() == 64
                     && std::all_of(blake3.begin(), blake3.end(), [](char c) { return hex_digit_value(c) >= 0; });
    if (ec != std::errc() || end != size.data() + size.size() || !hex) {
        return;
    }
    FileDigest digest;
    digest.blake3 = std::string(blake3);
    digest.identity.size = bytes;
    digest.identity.is_regular = true;
    st.existed = true;
    st.has_digest = true;
    extra(id).input_digest = std::move(digest);
}

void JobTracker::mark_read(PathId id, uint32_t pid)
{
    PathState& st = state(id);
    if (!st.written && !st.created) {
        if (!st.read_first) {
            st.reader = pid;
        }
        st.read_first = true;
    }
}

void JobTracker::mark_written(PathId id, uint32_t pid)
{
    PathState& st = state(id);
    if (st.read_first && !st.written && !st.has_digest && !st.input_lost) {
        // The sync point before this write was missed (timeout, or an fd
        // inherited from outside the job): hash what is there now.
        take_input_digest(id, true);
    }
    if (!st.written && !st.read_first && !st.existed) {
        st.created = true; // best knowledge: first thing the job did was write
    }
    if (!st.written) {
        st.changer = pid;
    }
    st.written = true;
    st.removed = false;
}

void JobTracker::rename_path(const std::string& from, const std::string& to, uint32_t pid)
{
    // Files (and, for directories, everything below) move from `from` to
    // `to`. The content now at `to` was placed there by the job.
    std::vector<std::pair<std::string, std::string>> moves;
    m_path_ids.for_each_within(from, [&](std::string_view path, PathId) {
        moves.emplace_back(std::string(path), to + std::string(path.substr(from.size())));
    });
    if (moves.empty()) {
        moves.emplace_back(from, to);
    }
    for (const auto& [old_path, new_path] : moves) {
        const PathId src_id = path_id(old_path);
        const PathId dst_id = path_id(new_path);
        PathState& src = state(src_id);
        PathState& dst = state(dst_id);
        if (src.read_first && !src.has_digest && !src.written) {
            // The bytes read at old_path now live at new_path, unchanged.
            auto digest = m_digest(new_path);
            if (digest) {
                src.has_digest = true;
                extra(src_id).input_digest = *digest;
            }
        }
        for (auto& pending : m_early_pending) {
            if (pending == old_path) {
                pending = new_path;
            }
        }
        dst.early_hashes = src.early_hashes;
        src.early_hashes = 0; // the next file at old_path is a new one (a temp file, rewritten each epoch)
        dst.opened_rw = src.opened_rw;
        src.opened_rw = false;
        dst.changer = src.written && src.changer != 0 ? src.changer : pid;
        dst.written = true;
        dst.removed = false;
        if (src.created || !dst.existed) {
            dst.created = dst.created || !dst.read_first;
        }
        dst.existed = true;
        src.removed = true;
        src.changer = pid;
        src.written = false;
        src.existed = false;
    }
}

// renameat2(RENAME_EXCHANGE): both names stay, their contents swap. What
// the job did to a name (read it first: an input, with the bytes it read;
// found it there before the job; created it) stays with the name; what it
// did to the content (wrote it, and which process did) goes with the
// content. Each name then holds content the job put there, so both are
// outputs: the atomic-swap pattern (write new.tmp, exchange it with
// model.bin) leaves model.bin with the new bytes and new.tmp with the old
// ones, which the job placed at new.tmp as a rename would have: a later
// job that reads new.tmp depends on this one. Two directories exchanged
// swap everything below them alike; a path below one with none known at
// the same place below the other moves as in a rename.
void JobTracker::exchange_paths(const std::string& a, const std::string& b, uint32_t pid)
{
    std::set<std::string> below; // relative to a and b ("" for a and b themselves)
    for (const std::string* dir : {&a, &b}) {
        m_path_ids.for_each_within(*dir,
                                   [&](std::string_view path, PathId) { below.emplace(path.substr(dir->size())); });
    }
    below.emplace();
    const auto there = [&](const std::string& path) {
        const auto id = m_path_ids.find(path);
        return id && !state(*id).removed;
    };
    for (const std::string& rest : below) {
        const std::string at_a = a + rest, at_b = b + rest;
        // The exchange itself found both; below them, what the job left there.
        exchange_pair(at_a, at_b, rest.empty() || there(at_a), rest.empty() || there(at_b), pid);
    }
}

void JobTracker::exchange_pair(const std::string& a, const std::string& b, bool a_there, bool b_there, uint32_t pid)
{
    if (!a_there && !b_there) {
        return;
    }
    const PathId a_id = path_id(a);
    const PathId b_id = path_id(b);
    // The bytes read at a name and not yet hashed are now at the other one, unchanged.
    for (const auto& [read, now_at, was_there] : {std::tuple(a_id, &b, a_there), std::tuple(b_id, &a, b_there)}) {
        const PathState& st = state(read);
        if (was_there && st.read_first && !st.has_digest && !st.written && recorded(read, m_path_ids.name(read))) {
            if (auto digest = m_digest(*now_at)) {
                state(read).has_digest = true;
                state(read).existed = true;
                extra(read).input_digest = *digest;
            }
        }
    }
    const PathState old_a = state(a_id), old_b = state(b_id);
    // `to` takes the content `from` held (`from_there`), as in rename_path.
    const auto take = [&](PathState& to, const PathState& from, bool from_there) {
        if (!from_there) {
            to.removed = true;
            to.written = false;
            to.changer = pid;
            to.existed = false;
            to.early_hashes = 0;
            to.opened_rw = false;
            return;
        }
        to.changer = from.written && from.changer != 0 ? from.changer : pid;
        to.written = true;
        to.removed = false;
        if (from.created || !to.existed) {
            to.created = to.created || !to.read_first;
        }
        to.existed = true;
        to.early_hashes = from.early_hashes;
        to.opened_rw = from.opened_rw;
    };
    take(state(a_id), old_b, b_there);
    take(state(b_id), old_a, a_there);
    for (auto& pending : m_early_pending) {
        if (pending == a) {
            pending = b;
        } else if (pending == b) {
            pending = a;
        }
    }
}

void JobTracker::closing(const FdEntry& fd)
{
    // A file the job wrote and has now closed is likely finished: hash it
    // while the job goes on. Twice at most per file, so a file reopened and
    // appended to again and again is hashed once, at the end. A rename or
    // unlink ends the file at a name: a checkpoint written to a temp name
    // and renamed every epoch is a new file each time, hashed each time.
    constexpr int k_max_early_hashes = 2;
    if (!m_early || (fd.flags & O_DIRECTORY)) {
        return;
    }
    const auto id = m_path_ids.find(fd.path);
    if (!id) {
        return;
    }
    PathState& st = state(*id);
    if ((fd.flags & O_ACCMODE) == O_RDONLY) {
        // A file the job has read: its digest is taken now (from the hash
        // cache, else hashed) rather than after the job, once per path, for
        // the first EarlyHasher::k_max_inputs inputs.
        if (st.read_first && !st.written && !st.removed && !st.has_digest && !st.opened_rw && !st.early_input
            && st.kind == PathKind::file && m_early_inputs < EarlyHasher::k_max_inputs && recorded(*id, fd.path)) {
            st.early_input = true;
            ++m_early_inputs;
            m_early_inputs_pending.push_back(fd.path);
        }
        return;
    }
    if (!st.written || st.removed || st.kind != PathKind::file || st.early_hashes >= k_max_early_hashes
        || !recorded(*id, fd.path)) {
        return;
    }
    ++st.early_hashes;
    m_early_pending.push_back(fd.path);
}

void JobTracker::start_early_hashes()
{
    for (const auto& path : m_early_pending) {
        m_early->submit(path);
    }
    m_early_pending.clear();
    if (!m_early_inputs_pending.empty()) {
        m_early->submit_inputs(std::move(m_early_inputs_pending));
        m_early_inputs_pending.clear();
    }
}

void JobTracker::opened_read_write(const std::string& path, bool has_path)
{
    // A read-write fd can back a shared writable mapping, whose stores
    // change that file without any event roar or the kernel reports: its
    // early digest is never used. The file is the one at `path` now (this
    // event is read after the open) and, should `path` have been renamed
    // since, the one the rename moves this mark to (finish_paths forbids
    // each marked path's file as the job left it). When neither can be
    // told (no path, gone, or a symbolic link on the way that could have
    // pointed elsewhere), no early digest is used at all. Devices (a
    // terminal, /dev/null) cannot be outputs.
    if (!m_early) {
        return;
    }
    struct stat sb;
    const bool found = has_path && stat(path.c_str(), &sb) == 0;
    if (found && (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) || S_ISDIR(sb.st_mode))) {
        return;
    }
    if (found && S_ISREG(sb.st_mode)) {
        std::unique_ptr<char, decltype(&std::free)> real(realpath(path.c_str(), nullptr), &std::free);
        if (real && path == real.get()) {
            m_early->forbid(uint64_t(sb.st_dev), uint64_t(sb.st_ino));
            state(path_id(path)).opened_rw = true;
            return;
        }
    }
    m_early->discard(fmt::format("{} was opened read-write", has_path ? path : "a file"));
}

void JobTracker::set_status(uint32_t pid, int status)
{
    auto it = m_procs.find(pid);
    ProcessRecord* rec = nullptr;
    if (it != m_procs.end() && it->second.record >= 0) {
        rec = &m_processes[size_t(it->second.record)];
    } else if (auto sp = m_spawned.find(pid); sp != m_spawned.end()) {
        rec = &sp->second;
    }
    if (!rec) {
        return;
    }
    rec->exit_code = exit_code_of(status);
    if (WIFSIGNALED(status)) {
        rec->signal = WTERMSIG(status);
    }
}

void JobTracker::on_event(const RawEvent& event)
{
    const roar_event& h = event.header;
    const uint32_t pid = h.pid;
    if (h.op >= ROAR_OP_S3_GET) {
        on_s3(event);
        return;
    }
    switch (h.op) {
    case ROAR_OP_PROC_START: {
        const uint32_t ppid = uint32_t(h.fd);
        if (h.flags & ROAR_START_FORKED) {
            auto snap = m_fork_snapshots.find(ppid);
            ProcState child;
            if (snap != m_fork_snapshots.end()) {
                child = snap->second;
            } else if (auto parent = m_procs.find(ppid); parent != m_procs.end()) {
                child = parent->second;
            } else {
                child.cwd = m_cwd;
            }
            child.exec_pending = false;
            const int parent_record = child.record;
            child.record = start_record(pid, ppid, seconds(h.time_ns));
            m_processes[size_t(child.record)].tracer = tracer_of(h.flags);
            if (parent_record >= 0) {
                ProcessRecord& rec = m_processes[size_t(child.record)];
                rec.exe = m_processes[size_t(parent_record)].exe;
                rec.argv = m_processes[size_t(parent_record)].argv;
                rec.cwd = child.cwd;
                rec.parent = parent_record;
            }
            m_procs[pid] = std::move(child);
            break;
        }
        auto existing = m_procs.find(pid);
        int previous = -1;
        if (existing != m_procs.end() && !existing->second.placeholder) {
            previous = existing->second.record; // this image replaced it by exec
        }
        ProcState st;
        st.cwd = event.has_s2 && !event.s2.empty() ? std::string(event.s2) : m_cwd;
        st.record = start_record(pid, ppid, seconds(h.time_ns));
        ProcessRecord& rec = m_processes[size_t(st.record)];
        rec.exe = std::string(event.s1);
        rec.argv = split_argv(event.s3);
        rec.cwd = st.cwd;
        rec.tracer = tracer_of(h.flags);
        if (previous >= 0) {
            m_processes[size_t(previous)].replaced_by_exec = true;
            rec.parent = m_processes[size_t(previous)].parent;
            rec.ppid = m_processes[size_t(previous)].ppid;
        }
        if (auto sp = m_spawned.find(pid); sp != m_spawned.end()) {
            m_spawned.erase(sp);
        }
        m_procs[pid] = std::move(st);
        break;
    }
    case ROAR_OP_PROC_EXIT: {
        ProcState& st = proc(pid);
        ProcessRecord& rec = m_processes[size_t(st.record)];
        if (!(h.flags & ROAR_EXIT_STATUS_UNKNOWN) && !rec.exit_code) {
            rec.exit_code = int(h.result & 0xff);
        }
        break;
    }
    case ROAR_OP_EXEC: {
        ProcState& st = proc(pid);
        st.exec_pending = true;
        st.exec_flags = h.flags;
        st.exec_path = std::string(event.s1);
        st.exec_argv = split_argv(event.s3);
        break;
    }
    case ROAR_OP_EXEC_FAILED: proc(pid).exec_pending = false; break;
    case ROAR_OP_SPAWN: {
        if (h.result <= 0) {
            break;
        }
        const uint32_t child = uint32_t(h.result);
        if (m_procs.count(child)) {
            break; // its shim already reported in
        }
        ProcessRecord rec;
        rec.pid = child;
        rec.ppid = pid;
        rec.parent = proc(pid).record;
        rec.exe = std::string(event.s1);
        rec.argv = split_argv(event.s3);
        rec.started_at = seconds(h.time_ns);
        rec.observed = false;
        rec.notes.push_back(exec_flags_note(h.flags));
        m_spawned[child] = std::move(rec);
        break;
    }
    case ROAR_OP_FORK: m_fork_snapshots[pid] = proc(pid); break;
    case ROAR_OP_WAIT: set_status(uint32_t(h.fd), int(h.result)); break;
    case ROAR_OP_NOTE:
        m_processes[size_t(proc(pid).record)].notes.emplace_back(event.s1);
        if (h.flags & ROAR_NOTE_NETWORK) {
            // S3 traffic not observed: the job's record says so once.
            if (std::find(m_notes.begin(), m_notes.end(), event.s1) == m_notes.end()) {
                m_notes.emplace_back(event.s1);
            }
        } else if (m_early) {
            m_early->discard(std::string(event.s1)); // io_uring: I/O roar does not see
        }
        break;
    case ROAR_OP_OPEN: {
        if (h.result >= 0 && (h.flags & O_ACCMODE) == O_RDWR) {
            opened_read_write(event.has_s1 ? resolve(pid, h.fd, event.s1) : std::string(), event.has_s1);
        }
        if (h.result < 0 || !event.has_s1) {
            break;
        }
        ProcState& st = proc(pid);
        const std::string path = resolve(pid, h.fd, event.s1);
        st.fds[int(h.result)] = FdEntry{path, h.flags};
        if (h.flags & O_DIRECTORY) {
            if (m_filter.accepts(path)) {
                m_listed.insert(path);
            }
            break;
        }
        const int acc = h.flags & O_ACCMODE;
        const PathId id = path_id(path);
        if (acc != O_WRONLY) {
            note_opened_for_reading(st.record, id);
        }
        PathState& ps = state(id);
        if ((acc == O_RDONLY || acc == O_RDWR) && !(h.flags & O_TRUNC)) {
            // O_RDWR|O_CREAT of a file that did not exist reads nothing: the
            // shim's PRE_MODIFY (sent only for existing files) tells us.
            if (!(acc == O_RDWR && (h.flags & O_CREAT) && !ps.existed)) {
                mark_read(id, pid);
            }
        }
        if (acc == O_RDONLY && (h.mode & ROAR_OPEN_LEARNT) && event.has_s2) {
            take_learnt_digest(id, event.s2, event.s3);
        }
        // Opening for writing changes content only when it truncates or
        // creates the file (the shim's PRE_MODIFY, sent just before opens of
        // existing files, tells creation apart). Otherwise the first write,
        // truncate or transfer through the fd does: `sort -o f f` opens f
        // for writing, then reads it, and only then truncates it.
        const bool truncates = acc != O_RDONLY && (h.flags & O_TRUNC);
        const bool creates = acc != O_RDONLY && (h.flags & O_CREAT) && !ps.existed;
        if (truncates || creates) {
            if (!(h.mode & ROAR_OPEN_LEARNT) || learnt_replacement(id)) {
                mark_written(id, pid);
            }
        }
        break;
    }
    case ROAR_OP_FD_INHERITED: {
        if (!event.has_s1 || event.s1.empty() || event.s1.front() != '/') {
            break;
        }
        std::string path = resolve_path("/", event.s1);
        if (path.size() > 10 && path.substr(path.size() - 10) == " (deleted)") {
            break;
        }
        ProcState& st = proc(pid);
        st.fds[h.fd] = FdEntry{path, h.flags};
        if ((h.flags & O_ACCMODE) == O_RDWR) {
            opened_read_write(path, true);
        }
        // Redirections set up outside the job (`roar run cmd < in`) only
        // show up here: a read-only regular file handed to the root is read.
        const ProcessRecord& rec = m_processes[size_t(st.record)];
        if (rec.ppid != 0 && !m_procs.count(rec.ppid) && (h.flags & O_ACCMODE) == O_RDONLY) {
            struct stat sb;
            if (stat(path.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
                mark_read(path_id(path), pid);
            }
        }
        break;
    }
    case ROAR_OP_CLOSE: {
        ProcState& st = proc(pid);
        const int last = h.fd2 >= h.fd ? h.fd2 : h.fd;
        if (last - h.fd > 4096) {
            std::erase_if(st.fds, [&](const auto& kv) {
                if (kv.first >= h.fd && kv.first <= last) {
                    closing(kv.second);
                    return true;
                }
                return false;
            });
        } else {
            for (int fd = h.fd; fd <= last; ++fd) {
                if (auto it = st.fds.find(fd); it != st.fds.end()) {
                    closing(it->second);
                    st.fds.erase(it);
                }
            }
        }
        break;
    }
    case ROAR_OP_DUP: {
        if (h.result < 0) {
            break;
        }
        ProcState& st = proc(pid);
        auto it = st.fds.find(h.fd);
        if (it != st.fds.end()) {
            st.fds[int(h.result)] = it->second;
        } else {
            st.fds.erase(int(h.result));
        }
        break;
    }
    case ROAR_OP_CHDIR: {
        if (h.result < 0) {
            break;
        }
        ProcState& st = proc(pid);
        if (event.has_s1 && !event.s1.empty()) {
            st.cwd = resolve(pid, ROAR_AT_FDCWD, event.s1);
        } else if (auto it = st.fds.find(h.fd); it != st.fds.end()) {
            st.cwd = it->second.path;
        }
        break;
    }
    case ROAR_OP_PRE_MODIFY: {
        std::string path;
        if (event.has_s1 && !event.s1.empty()) {
            path = resolve(pid, h.fd, event.s1);
        } else if (auto it = proc(pid).fds.find(h.fd); it != proc(pid).fds.end()) {
            path = it->second.path;
        } else {
            break;
        }
        const PathId id = path_id(path);
        PathState& ps = state(id);
        ps.existed = true;
        const int acc = h.flags & O_ACCMODE;
        const bool will_read = acc == O_RDWR && !(h.flags & O_TRUNC);
        if (!ps.written && (ps.read_first || will_read)) {
            take_input_digest(id, false);
        }
        break;
    }
    case ROAR_OP_WRITE_FD:
    case ROAR_OP_TRUNCATE: {
        if (h.result < 0) {
            break;
        }
        ProcState& st = proc(pid);
        if (h.op == ROAR_OP_TRUNCATE && event.has_s1 && !event.s1.empty()) {
            mark_written(path_id(resolve(pid, h.fd, event.s1)), pid);
        } else if (auto it = st.fds.find(h.fd); it != st.fds.end()) {
            mark_written(path_id(it->second.path), pid);
        }
        break;
    }
    case ROAR_OP_READ_FD: {
        ProcState& st = proc(pid);
        if (auto it = st.fds.find(h.fd); it != st.fds.end()) {
            mark_read(path_id(it->second.path), pid);
        }
        break;
    }
    case ROAR_OP_TRANSFER: {
        if (h.result < 0) {
            break;
        }
        ProcState& st = proc(pid);
        if (auto in = st.fds.find(h.fd); in != st.fds.end()) {
            mark_read(path_id(in->second.path), pid);
        }
        if (auto out = st.fds.find(h.fd2); out != st.fds.end()) {
            mark_written(path_id(out->second.path), pid);
        }
        break;
    }
    case ROAR_OP_RENAME:
        if (h.result == 0 && event.has_s1 && event.has_s2) {
            const std::string from = resolve(pid, h.fd, event.s1);
            const std::string to = resolve(pid, h.fd2, event.s2);
            m_resolver.forget();
            if (h.flags & RENAME_EXCHANGE) {
                exchange_paths(from, to, pid);
                move_held_paths(from, to, true);
            } else { // RENAME_NOREPLACE is a rename; RENAME_WHITEOUT's whiteout at `from` is not a file
                rename_path(from, to, pid);
                move_held_paths(from, to, false);
            }
        }
        break;
    case ROAR_OP_SYMLINK:
        if (h.result == 0) {
            m_resolver.forget(); // a link where a directory's ".." was looked up
        }
        break;
    case ROAR_OP_LINK:
        if (h.result == 0 && event.has_s2) {
            mark_written(path_id(resolve(pid, h.fd2, event.s2)), pid);
        }
        break;
    case ROAR_OP_UNLINK:
        if (h.result == 0 && event.has_s1) {
            const std::string path = resolve(pid, h.fd, event.s1);
            m_resolver.forget();
            m_path_ids.for_each_within(path, [&](std::string_view, PathId id) {
                PathState& below = state(id);
                if (!below.removed) {
                    below.changer = pid;
                }
                below.removed = true;
                below.written = false;
                below.early_hashes = 0;
            });
            PathState& gone = state(path_id(path));
            gone.changer = pid;
            gone.removed = true;
            gone.written = false; // `existed` stays: a file from before the job, now gone, is deleted
            gone.early_hashes = 0;
        }
        break;
    default: break; // MKDIR and future ops carry nothing we record yet
    }
}

void JobTracker::on_s3(const RawEvent& event)
{
    const roar_event& h = event.header;
    if (!event.has_s1) {
        return;
    }
    if (h.op == ROAR_OP_S3_LIST_PAGE || h.op == ROAR_OP_S3_LISTED) {
        on_s3_listing(event);
        return;
    }
    const std::string path(event.s1);
    auto extras = parse_extras(event.s3);
    std::map<std::string, std::string> hashes;
    if (event.has_s2 && !event.s2.empty()) {
        hashes["etag"] = std::string(event.s2);
    }
    if (auto b3 = extras.find("blake3"); b3 != extras.end()) {
        hashes["blake3"] = b3->second;
    }
    const PathId id = path_id(path);
    PathState& ps = state(id);
    PathExtra& ex = extra(id);
    ps.kind = PathKind::s3;
    const uint32_t caller = known_pid(h.pid);
    switch (h.op) {
    case ROAR_OP_S3_GET:
        if (!ps.written) {
            if (!ps.read_first) {
                ps.reader = caller;
            }
            ps.read_first = true;
            const auto range = extras.find("range");
            const bool cut = extras.count("cut") > 0;
            // The first read's identity; a later whole read of the same
            // object adds the BLAKE3 a partial one could not have.
            const auto etag_of = [](const std::map<std::string, std::string>& of) {
                const auto it = of.find("etag");
                return it == of.end() ? std::string() : it->second;
            };
            const bool completes = hashes.count("blake3") && !ex.s3_in_hashes.count("blake3")
                                   && etag_of(hashes) == etag_of(ex.s3_in_hashes);
            if (ex.s3_in_hashes.empty() || completes) {
                ex.s3_in_hashes = hashes;
                ex.s3_in_size = extra_size(extras);
                if (!ex.s3_in_size && range == extras.end() && !cut) {
                    ex.s3_in_size = uint64_t(h.result);
                }
            }
            if (range != extras.end()) {
                add_note(ex.notes, "read partially (" + range->second + ")");
            }
            if (cut) {
                add_note(ex.notes, "read partially (the transfer stopped before the end of the object)");
            }
        }
        break;
    case ROAR_OP_S3_PUT:
    case ROAR_OP_S3_MULTIPART_COMPLETE:
    case ROAR_OP_S3_COPY:
        if (!ps.written) {
            ps.changer = caller;
        }
        ps.written = true;
        ps.removed = false;
        ex.s3_out_hashes = hashes;
        ex.s3_out_notes.clear();
        if (auto note = extras.find("note"); note != extras.end()) {
            ex.s3_out_notes.push_back(note->second);
        }
        ex.s3_out_size = h.op == ROAR_OP_S3_PUT ? std::optional<uint64_t>(uint64_t(h.result)) : std::nullopt;
        if (extras.count("size")) {
            // A value that is not a size leaves the size unknown.
            ex.s3_out_size = extra_size(extras);
        }
        if (h.op == ROAR_OP_S3_COPY) {
            on_s3_copy_source(extras, caller);
        }
        break;
    case ROAR_OP_S3_HEAD: {
        const auto [at, fresh] = m_s3_heads.try_emplace(id);
        S3Head& head = at->second;
        if (fresh) {
            m_s3_head_order.push_back(id);
            if (m_s3_head_order.size() > k_kept_heads) {
                m_s3_heads.erase(m_s3_head_order.front());
                m_s3_head_order.pop_front();
            }
        }
        head.pid = h.pid;
        head.etag = event.has_s2 ? std::string(event.s2) : std::string();
        head.version_id = extras["version_id"];
        head.size = h.result >= 0 ? std::optional<uint64_t>(uint64_t(h.result)) : std::nullopt;
        break;
    }
    case ROAR_OP_S3_PART_COPY: on_s3_part_copy(id, event, extras, caller); break;
    case ROAR_OP_S3_DELETE:
        ps.changer = caller;
        ps.removed = true;
        ps.written = false;
        break;
    default: break;
    }
}

void JobTracker::on_s3_copy_source(const std::map<std::string, std::string>& extras, uint32_t caller)
{
    const auto src = extras.find("source");
    if (src == extras.end()) {
        return;
    }
    const PathId id = path_id(src->second);
    PathState& s = state(id);
    s.kind = PathKind::s3;
    if (s.written) {
        return; // the job's own output: not an input
    }
    if (!s.read_first) {
        s.reader = caller;
    }
    s.read_first = true;
    PathExtra& ex = extra(id);
    if (!ex.s3_in_hashes.empty()) {
        return; // what the job's own read of it saw stands
    }
    if (const auto etag = extras.find("source_etag"); etag != extras.end() && !etag->second.empty()) {
        ex.s3_in_hashes["etag"] = etag->second;
        if (extras.count("source_etag_inferred")) {
            // The copy's own ETag: the MD5 of the bytes, which is the
            // source's ETag only if the source was stored in one piece.
            add_note(ex.notes, "copied: its ETag is the copy's (the MD5 of its bytes), the source's own only if it "
                               "was uploaded in one piece");
        }
        return;
    }
    const auto note = extras.find("source_note");
    add_note(ex.notes, note != extras.end() ? note->second : "copied without a digest: the source's is unknown");
}

void JobTracker::on_s3_part_copy(PathId id, const RawEvent& event, const std::map<std::string, std::string>& extras,
                                 uint32_t caller)
{
    PathState& s = state(id);
    if (s.written) {
        return; // the job's own output: not an input
    }
    if (!s.read_first) {
        s.reader = caller;
    }
    s.read_first = true;
    PartCopySource& src = m_part_copies[id];
    // The source's ETag: the client's x-amz-copy-source-if-match (S3
    // copies only a source that matches it), else the ETag of the HEAD the
    // same process made of the same version before (a managed copy's).
    const auto version = extras.find("version_id");
    if (event.has_s2 && !event.s2.empty() && (src.etag.empty() || src.etag_from_head)) {
        src.etag = std::string(event.s2);
        src.etag_from_head = false;
    }
    if (const auto head = m_s3_heads.find(id);
        head != m_s3_heads.end() && head->second.pid == event.header.pid
        && (version == extras.end() || head->second.version_id.empty() || head->second.version_id == version->second)) {
        if (src.etag.empty() && !head->second.etag.empty()) {
            src.etag = head->second.etag;
            src.etag_from_head = true;
        }
        if (!src.size) {
            src.size = head->second.size;
        }
    }
    const auto range = extras.find("range");
    if (range == extras.end()) {
        src.whole = true;
    } else if (const auto bytes = copy_range(range->second)) {
        const auto upload = extras.find("upload_id");
        src.ranges[upload == extras.end() ? std::string() : upload->second].push_back(*bytes);
    } else {
        src.unreadable_range = true;
    }
}

void JobTracker::settle_part_copies()
{
    for (const auto& [id, src] : m_part_copies) {
        PathExtra& ex = extra(id);
        const std::optional<uint64_t> size = src.size ? src.size : ex.s3_in_size;
        if (ex.s3_in_hashes.empty()) { // else what the job's own read of it saw stands
            if (!src.etag.empty()) {
                ex.s3_in_hashes["etag"] = src.etag;
            } else {
                add_note(ex.notes, "copied in parts without a digest: the version read is unknown (no "
                                   "x-amz-copy-source-if-match, and no HEAD of it by the same process before)");
            }
            ex.s3_in_size = size;
        }
        // One upload whose parts cover the object read it all, as does a
        // whole GetObject of it (which gave it a BLAKE3).
        bool whole = src.whole || ex.s3_in_hashes.count("blake3") > 0;
        for (const auto& [upload, ranges] : src.ranges) {
            whole = whole || (size && covers(ranges, *size));
        }
        if (whole) {
            continue;
        }
        if (!size || src.unreadable_range) {
            add_note(ex.notes, "copied in parts: whether they cover the whole object is unknown");
        } else {
            add_note(ex.notes, "read partially (copied in parts that do not cover the whole object)");
        }
    }
    m_part_copies.clear();
    m_s3_heads.clear();
    m_s3_head_order.clear();
}

// Notes a page of a ListObjects(V2) answer, or one of its entries, under
// the listing's "s3://bucket/prefix".
void JobTracker::on_s3_listing(const RawEvent& event)
{
    const roar_event& h = event.header;
    const std::string_view uri = event.s1;
    const size_t slash = uri.find('/', 5);
    if (!uri.starts_with("s3://") || slash == std::string_view::npos) {
        return;
    }
    auto extras = parse_extras(event.s3);
    if (h.op == ROAR_OP_S3_LIST_PAGE) {
        S3Listing& listing = m_s3_listings[std::string(uri)];
        listing.saw_first = listing.saw_first || extras["first"] == "1";
        listing.saw_last = listing.saw_last || extras["truncated"] == "0";
        return;
    }
    S3Listing& listing = m_s3_listings[std::string(uri.substr(0, slash + 1)) + extras["prefix"]];
    if (extras["common_prefix"] == "1") {
        listing.common_prefixes.emplace_back(uri);
    } else if (h.result >= 0) {
        listing.objects.push_back(S3Listing::Object{std::string(uri), uint64_t(h.result)});
    }
}

uint32_t JobTracker::known_pid(uint32_t pid) const
{
    // The proxy names itself when it cannot tell the caller: only a
    // process of this job is an attribution.
    return m_procs.count(pid) || m_spawned.count(pid) ? pid : 0;
}

void JobTracker::note_opened_for_reading(int record, PathId id)
{
    if (record < 0) {
        return;
    }
    if (m_record_reads.size() <= size_t(record)) {
        m_record_reads.resize(size_t(record) + 1);
    }
    auto& reads = m_record_reads[size_t(record)];
    if (reads.empty() || reads.back() != id) { // a file reopened in a loop costs one entry
        reads.push_back(id);
    }
}

JobFootprint JobTracker::footprint(const JobRecord& job)
{
    JobFootprint out;
    for (size_t i = 0; i < job.processes.size(); ++i) {
        const ProcessRecord& rec = job.processes[i];
        const size_t n = out.add_process(rec.pid, rec.exe, rec.argv, rec.cwd);
        if (i >= m_record_reads.size()) {
            continue;
        }
        for (const uint32_t r : m_record_reads[i]) {
            const std::string_view path = m_path_ids.name(r);
            out.add_read(n, path, !recorded(r, path));
        }
    }
    return out;
}

void JobTracker::add_reaped(const std::vector<Reaped>& reaped)
{
    for (const auto& r : reaped) {
        set_status(uint32_t(r.pid), r.status);
    }
}

namespace {

bool before(const statx_timestamp& t, const timespec& ref)
{
    return t.tv_sec < ref.tv_sec || (t.tv_sec == ref.tv_sec && int64_t(t.tv_nsec) < int64_t(ref.tv_nsec));
}

bool after(const statx_timestamp& t, const timespec& ref)
{
    return t.tv_sec > ref.tv_sec || (t.tv_sec == ref.tv_sec && int64_t(t.tv_nsec) > int64_t(ref.tv_nsec));
}

// The first k_named_paths of `paths`, and how many more of `total` (by
// default, as many as `paths` holds) there are.
std::string path_list(const std::vector<std::string>& paths, size_t total = 0)
{
    total = std::max(total, paths.size());
    std::string out;
    for (size_t i = 0; i < paths.size() && i < k_named_paths; ++i) {
        out += (i ? ", " : "") + paths[i];
    }
    const size_t named = std::min(paths.size(), k_named_paths);
    if (total > named) {
        out += fmt::format(" and {} more", total - named);
    }
    return out;
}

} // namespace

// An open the tracer learnt only after the fact created or replaced `id`
// (its filter lets such opens run without a stop, so no PRE_MODIFY came
// first), at some moment between the process's previous stop and now.
// Events of other processes in between may be out of order with it. The
// file system's times (coarse clock, as in settle_lost_writes) settle what
// they can: a file whose inode has not changed since before the job was
// neither created nor truncated by it (the fd came from elsewhere, such as
// SCM_RIGHTS): false, not written. A file born during the job: its reads
// by anyone were of the job's own bytes, never an input. A file born
// before: replaced, not created, and if the job read it, the bytes it read
// are gone unless the tracer hashed them (take_learnt_digest). Returns
// whether the open wrote the file.
bool JobTracker::learnt_replacement(PathId id)
{
    PathState& st = state(id);
    if (st.written || st.kind != PathKind::file) {
        return true; // the content there was already the job's
    }
    const std::string path(m_path_ids.name(id));
    struct statx sx { };
    const bool known = statx(AT_FDCWD, path.c_str(), AT_STATX_SYNC_AS_STAT, STATX_BTIME | STATX_CTIME, &sx) == 0;
    if (known && (sx.stx_mask & STATX_CTIME) && before(sx.stx_ctime, m_start_coarse)) {
        return false;
    }
    const bool born_known = known && (sx.stx_mask & STATX_BTIME);
    if (born_known && after(sx.stx_btime, m_start_precise)) {
        st.read_first = false;
        st.reader = 0;
        return true;
    }
    if (born_known && before(sx.stx_btime, m_start_coarse)) {
        st.existed = true;
    }
    if (st.read_first && !st.has_digest) {
        st.input_lost = true;
        extra(id).notes.push_back("replaced by an open the tracer learnt only later (its filter does not stop such "
                                  "opens): the bytes read were not hashed");
    }
    return true;
}

// Events were lost (a full ring, a killed producer): a file the job read
// with no write seen may have been created by the job, its open(O_CREAT)
// among the lost events. The file system says when: a file born after the
// job started is the job's output, never its input; one unchanged since
// before the start is an input; for the rest the record says it cannot
// tell. File times come from the kernel's coarse clock, so "after" means
// after the precise start and "before" before the coarse one; a birth in
// between, or a file system without birth times, is undecidable.
void JobTracker::settle_lost_writes(JobRecord& job)
{
    std::vector<std::string> created, undecidable;
    for (const auto& [name, id] : m_path_ids) {
        PathState& st = state(id);
        if (st.kind != PathKind::file || !st.read_first || st.written || st.has_digest || !recorded(id, name)) {
            continue;
        }
        const std::string path(name);
        struct statx sx { };
        if (statx(AT_FDCWD, path.c_str(), AT_STATX_SYNC_AS_STAT, STATX_BTIME | STATX_MTIME, &sx) != 0) {
            continue; // gone: what finish() does with a vanished input
        }
        if (before(sx.stx_mtime, m_start_coarse)) {
            continue; // its content predates the job: an input
        }
        if ((sx.stx_mask & STATX_BTIME) && before(sx.stx_btime, m_start_coarse)) {
            // It existed before the job and changed while it ran.
            extra(id).notes.push_back("changed while the job ran and events were lost: whether the job read it before "
                                      "changing it is undecidable, and this digest may not be of the version it read");
            continue;
        }
        st.read_first = false;
        st.reader = 0;
        if ((sx.stx_mask & STATX_BTIME) && after(sx.stx_btime, m_start_precise)) {
            // Born while the job ran: its creation, and who made it, were
            // among the lost events.
            st.written = true;
            st.changer = 0;
            st.created = true;
            created.push_back(path);
        } else {
            undecidable.push_back(path); // neither an input nor an output
        }
    }
    if (!created.empty()) {
        job.notes.push_back(fmt::format("{} file{} the job read {} created while it ran (the events of the "
                                        "creation were lost): recorded as output{}, not input{}: {}",
                                        created.size(), created.size() == 1 ? "" : "s",
                                        created.size() == 1 ? "was" : "were", created.size() == 1 ? "" : "s",
                                        created.size() == 1 ? "" : "s", path_list(created)));
    }
    if (!undecidable.empty()) {
        job.notes.push_back(fmt::format("undecidable: events were lost, so whether the job created {} or read "
                                        "an earlier version cannot be told; recorded as neither input nor output: {}",
                                        undecidable.size() == 1 ? "this file" : "these files", path_list(undecidable)));
    }
}

void JobTracker::finish(JobRecord& job)
{
    finish_processes(job);
    finish_paths(job);
}

void JobTracker::finish_processes(JobRecord& job)
{
    // Processes: images whose exec was seen but whose shim never started.
    for (auto& [pid, st] : m_procs) {
        if (st.exec_pending) {
            ProcessRecord rec;
            rec.pid = pid;
            rec.ppid = m_processes[size_t(st.record)].ppid;
            rec.parent = m_processes[size_t(st.record)].parent;
            rec.exe = st.exec_path;
            rec.argv = st.exec_argv;
            rec.observed = false;
            rec.notes.push_back(exec_flags_note(st.exec_flags));
            const ProcessRecord& old = m_processes[size_t(st.record)];
            rec.exit_code = old.exit_code;
            rec.signal = old.signal;
            m_processes[size_t(st.record)].replaced_by_exec = true;
            m_processes[size_t(st.record)].exit_code.reset();
            m_processes[size_t(st.record)].signal.reset();
            m_processes.push_back(std::move(rec));
        }
    }
    for (auto& [pid, rec] : m_spawned) {
        m_processes.push_back(std::move(rec));
    }
    m_spawned.clear();
    bool root_seen = false;
    for (const auto& rec : m_processes) {
        root_seen = root_seen || rec.pid == m_root;
    }
    if (m_root != 0 && !root_seen) {
        ProcessRecord rec;
        rec.pid = m_root;
        rec.argv = m_root_argv;
        rec.exe = m_root_argv.empty() ? "" : m_root_argv.front();
        rec.observed = false;
        rec.notes.push_back(exec_flags_note(m_root_flags));
        m_processes.push_back(std::move(rec));
    }
    for (auto& rec : m_processes) {
        if (rec.replaced_by_exec) {
            rec.notes.push_back("replaced by exec");
        } else if (rec.signal) {
            rec.notes.push_back(fmt::format("killed by signal {} ({})", *rec.signal, strsignal(*rec.signal)));
        } else if (!rec.exit_code && rec.observed) {
            rec.notes.push_back("exit status not observed");
        }
        if (!rec.observed) {
            job.notes.push_back(fmt::format("process {} ({}) was not observed: {}", rec.pid,
                                            rec.argv.empty() ? rec.exe : rec.argv.front(),
                                            rec.notes.empty() ? "" : rec.notes.front()));
        }
    }
    job.notes.insert(job.notes.end(), m_notes.begin(), m_notes.end());
    // Fix up the root's exit code from the launcher's view.
    job.processes = std::move(m_processes);
}

namespace {

// Puts the uses finish_paths adds to a record in path order, when they
// were added in another: told the place of each path as its uses are
// added, it moves each list's new uses into their places at the end.
class RecordOrder {
public:
    explicit RecordOrder(JobRecord& job)
        : m_lists{List{&job.inputs, job.inputs.size(), {}}, List{&job.outputs, job.outputs.size(), {}},
                  List{&job.deleted, job.deleted.size(), {}}}
    { }

    // The uses added since the last call are of the path at `place`.
    void placed(uint32_t place)
    {
        for (List& list : m_lists) {
            while (list.first + list.places.size() < list.uses->size()) {
                list.places.push_back(place);
            }
        }
    }

    // Orders each list's added uses by place, `places` being one more than
    // the last place.
    void sort(size_t places)
    {
        constexpr uint32_t k_none = uint32_t(-1);
        std::vector<uint32_t> at(places, k_none); // by place: which added use has it
        std::vector<uint32_t> from;               // by position: which added use goes there
        for (List& list : m_lists) {
            std::fill(at.begin(), at.end(), k_none);
            for (size_t i = 0; i < list.places.size(); ++i) {
                at[list.places[i]] = uint32_t(i);
            }
            from.clear();
            for (const uint32_t use : at) {
                if (use != k_none) {
                    from.push_back(use);
                }
            }
            std::vector<uint32_t>().swap(list.places);
            // Each cycle of the permutation in turn, one use held aside.
            ArtifactUse* uses = list.uses->data() + list.first;
            for (uint32_t start = 0; start < from.size(); ++start) {
                if (from[start] == start) {
                    continue;
                }
                ArtifactUse held = std::move(uses[start]);
                uint32_t pos = start;
                while (from[pos] != start) {
                    const uint32_t next = from[pos];
                    uses[pos] = std::move(uses[next]);
                    from[pos] = pos;
                    pos = next;
                }
                uses[pos] = std::move(held);
                from[pos] = pos;
            }
        }
    }

private:
    struct List {
        std::vector<ArtifactUse>* uses;
        size_t first;                 // uses before it were there before: they keep their places
        std::vector<uint32_t> places; // per added use
    };
    std::array<List, 3> m_lists;
};

} // namespace

void JobTracker::finish_paths(JobRecord& job)
{
    if (m_early) {
        // A lost event may have been a read-write open, an unobserved
        // process may have mapped a file: early digests are then not trusted.
        if (job.ring.dropped > 0 || job.ring.skipped > 0) {
            m_early->discard("events were lost");
        }
        for (const auto& rec : job.processes) {
            if (!rec.observed) {
                m_early->discard("a process was not observed");
            }
        }
        m_early->finish();
    }

    if (job.ring.dropped > 0 || job.ring.skipped > 0) {
        settle_lost_writes(job);
    }
    settle_part_copies();

    // Which recorded files still need a digest: an input nobody modified
    // (hashed now, as it was read) or an output (hashed as it was left).
    // They are hashed a batch at a time, so the hash cache is asked once a
    // batch and uncached files are hashed in parallel, while the digests
    // waiting to become the record's uses stay few.
    //
    // The paths are walked in the order they were first seen (by id), so
    // that what the tracker holds of each (its name, its state) is freed as
    // the walk passes it: for a job of a million files the tracker's paths
    // and the record's uses are then never all held at once. The record
    // lists paths in path order: each use is put in its place at the end.
    constexpr size_t k_batch = 4096;
    constexpr size_t k_none = size_t(-1);
    constexpr uint32_t k_not_recorded = uint32_t(-1);
    std::vector<uint32_t> rank(m_path_ids.size(), k_not_recorded); // by id: place in path order
    size_t accepted = 0, read = 0, written = 0;
    for (const auto& [name, id] : m_path_ids) {
        if (recorded(id, name)) {
            rank[id] = uint32_t(accepted++);
            read += state(id).read_first ? 1 : 0;
            written += state(id).written ? 1 : 0;
        }
    }
    // Nothing looks a path up by name from here on: the index's memory
    // goes before the record's uses are made, and so do the paths each
    // process read (footprint() was taken before this).
    m_path_ids.drop_index();
    std::vector<std::vector<PathId>>().swap(m_record_reads);
    // At most this many: the record's vectors never grow by doubling (a
    // million uses would briefly need room for a million and a half).
    job.inputs.reserve(job.inputs.size() + read);
    job.outputs.reserve(job.outputs.size() + written);
    // Filled a use at a time from here on: in 2 MiB pages, a fault each
    // (a job of 100,000 inputs took 3,400 faults filling its inputs).
    prefer_huge_pages_for(job.inputs);
    prefer_huge_pages_for(job.outputs);
    if (m_progress) {
        m_progress->set_total(accepted);
    }
    RecordOrder order(job);
    constexpr size_t k_trim_paths = 100000;
    constexpr size_t k_batches_per_trim = 16;
    size_t batches = 0;
    std::vector<PathId> batch;
    std::vector<std::string> to_hash;
    std::vector<size_t> hash_slot; // per path of the batch: index into to_hash, or k_none
    for (PathId next = 0; next < rank.size();) {
        batch.clear();
        for (; next < rank.size() && batch.size() < k_batch; ++next) {
            if (rank[next] != k_not_recorded) {
                batch.push_back(next);
            }
        }
        to_hash.clear();
        hash_slot.clear();
        for (const PathId id : batch) {
            const PathState& st = state(id);
            size_t slot = k_none;
            if (st.kind == PathKind::file) {
                const bool needs_input = st.read_first && !st.has_digest && !st.written;
                const bool needs_output = st.written && !st.removed;
                if (needs_input || needs_output) {
                    slot = to_hash.size();
                    to_hash.emplace_back(m_path_ids.name(id));
                    if (st.opened_rw && m_early) {
                        // The file opened read-write may be here now, under a name it was renamed to.
                        if (const auto now = identify_file(to_hash.back())) {
                            m_early->forbid(now->device, now->inode);
                        }
                    }
                }
            }
            hash_slot.push_back(slot);
        }
        std::vector<Result<FileDigest>> digests = m_digest_many(to_hash);
        uint64_t bytes = 0;
        for (size_t r = 0; r < batch.size(); ++r) {
            Result<FileDigest>* digest = hash_slot[r] == k_none ? nullptr : &digests[hash_slot[r]];
            if (digest && *digest) {
                bytes += (*digest)->identity.size;
            }
            record_path(job, batch[r], digest);
            order.placed(rank[batch[r]]);
        }
        if (m_progress) {
            m_progress->add(batch.size(), bytes);
        }
        // Done with every path before `next`.
        m_path_ids.release_before(next);
        m_states.release_before(next);
        if (accepted >= k_trim_paths && ++batches % k_batches_per_trim == 0) {
            // What was just freed lies in holes between what is still held:
            // given back, so that the record's uses, which grow in one
            // mapping of their own, do not count it twice (row 1d in
            // docs/benchmarks.md: 37 MiB less at the peak of a job with a
            // million inputs).
            malloc_trim(0);
        }
    }
    std::vector<uint32_t>().swap(rank);
    order.sort(accepted);
    if (m_unseen_moves > 0) {
        job.notes.push_back(fmt::format(
            "{} file{} the job used {} not recorded: {} directory no longer exists (renamed or removed where roar "
            "could not see it): {}",
            m_unseen_moves, m_unseen_moves == 1 ? "" : "s", m_unseen_moves == 1 ? "is" : "are",
            m_unseen_moves == 1 ? "its" : "their", path_list(m_unseen_moved, m_unseen_moves)));
    }
    if (m_unseen_removals > 0) {
        job.notes.push_back(fmt::format("{} file{} the job wrote {} gone at the end, removed by something roar did "
                                        "not observe: {}",
                                        m_unseen_removals, m_unseen_removals == 1 ? "" : "s",
                                        m_unseen_removals == 1 ? "was" : "were",
                                        path_list(m_unseen_removed, m_unseen_removals)));
    }
    if (!m_listed.empty() || !m_s3_listings.empty()) {
        add_datasets(job);
    }
}

// Adds to `job`'s inputs, after its files, the directories it read as a
// whole (find_datasets' rule), each one artifact of kind "dataset".
void JobTracker::add_datasets(JobRecord& job) const
{
    std::vector<ReadFile> reads, s3_reads;
    std::deque<std::string> digests; // as text, for the ReadFiles' views (a use keeps bytes)
    for (const auto& use : job.inputs) {
        auto b3 = use.hashes.find("blake3");
        if ((use.kind == "file" || use.kind == "s3") && use.size && b3 != use.hashes.end()) {
            digests.push_back(b3->second);
            (use.kind == "s3" ? s3_reads : reads).push_back(ReadFile{use.path, *use.size, digests.back()});
        }
    }
    const auto by_path = [](const ReadFile& a, const ReadFile& b) { return a.path < b.path; };
    std::sort(reads.begin(), reads.end(), by_path);
    std::sort(s3_reads.begin(), s3_reads.end(), by_path);
    std::vector<std::string_view> changed;
    for (const auto* uses : {&job.outputs, &job.deleted}) {
        for (const auto& use : *uses) {
            changed.push_back(use.path);
        }
    }
    std::sort(changed.begin(), changed.end());
    const std::vector<std::string> listed(m_listed.begin(), m_listed.end());
    auto found = listed.empty() ? std::vector<FoundDataset>() : find_datasets(listed, reads, changed);
    if (!m_s3_listings.empty()) {
        auto in_s3 = find_s3_datasets(m_s3_listings, s3_reads, changed);
        std::move(in_s3.begin(), in_s3.end(), std::back_inserter(found));
    }
    for (auto& d : found) {
        job.inputs.push_back(
            ArtifactUse{std::move(d.path), "dataset", d.bytes, {{"blake3", std::move(d.digest)}}, {}, std::nullopt});
    }
}

// Adds what the job did to path `id` to `job` (its inputs, outputs or
// deleted), `digest` being the path's digest now when it was taken.
void JobTracker::record_path(JobRecord& job, PathId id, Result<FileDigest>* digest)
{
    const std::string path(m_path_ids.name(id));
    PathState& st = state(id);
    static const PathExtra k_no_extra;
    const PathExtra* found = find_extra(id);
    const PathExtra& ex = found ? *found : k_no_extra;
    const auto reader = st.reader ? std::optional<uint32_t>(st.reader) : std::nullopt;
    const auto changer = st.changer ? std::optional<uint32_t>(st.changer) : std::nullopt;
    if (st.kind == PathKind::s3) {
        if (st.read_first) {
            job.inputs.push_back(ArtifactUse{path, "s3", ex.s3_in_size, ex.s3_in_hashes, ex.notes, reader});
        }
        if (st.written && !st.removed) {
            job.outputs.push_back(ArtifactUse{path, "s3", ex.s3_out_size, ex.s3_out_hashes, ex.s3_out_notes, changer});
        } else if (st.removed && !st.created) {
            job.deleted.push_back(ArtifactUse{path, "s3", {}, {}, {}, changer});
        }
        return;
    }
    if (st.read_first) {
        const FileDigest* input = st.has_digest && ex.input_digest ? &*ex.input_digest : nullptr;
        if (!input && !st.written && digest && *digest) {
            st.existed = true;
            input = &**digest;
        }
        if (input && input->identity.is_regular) {
            ArtifactUse use{path, "file", input->identity.size, {{"blake3", input->blake3}}, ex.notes, reader};
            if (input->changed_while_hashing) {
                use.notes.push_back("the file changed while it was being hashed");
            }
            job.inputs.push_back(std::move(use));
        } else if (!input && st.input_lost) {
            job.inputs.push_back(ArtifactUse{path, "file", std::nullopt, {}, ex.notes, reader});
        } else if (!input) {
            struct stat sb;
            const bool exists = stat(path.c_str(), &sb) == 0;
            if (!exists && st.removed) {
                ArtifactUse use{path, "file", std::nullopt, {}, ex.notes, reader};
                use.notes.push_back("read, then deleted before it could be hashed");
                job.inputs.push_back(std::move(use));
            }
        }
    }
    if (digest && !*digest && !st.removed) {
        // Not there to hash: when its directory is gone, the job's own
        // names for it went wrong somewhere (a directory renamed outside
        // the job, or by a process roar did not observe), and it says so.
        // When the directory is there and only the file the job wrote is
        // gone, with no unlink or rename of it seen, something roar did
        // not observe removed it (a process outside the job, a setuid
        // helper, another machine on a shared file system): said too.
        struct stat sb;
        const std::string dir = path.substr(0, path.rfind('/'));
        if (!dir.empty() && stat(dir.c_str(), &sb) != 0) {
            if (m_unseen_moved.size() < k_named_paths) {
                m_unseen_moved.push_back(path);
            }
            ++m_unseen_moves;
        } else if (st.written && lstat(path.c_str(), &sb) != 0 && errno == ENOENT) {
            if (m_unseen_removed.size() < k_named_paths) {
                m_unseen_removed.push_back(path);
            }
            ++m_unseen_removals;
        }
    }
    if (st.written && !st.removed) {
        if (digest && *digest && (*digest)->identity.is_regular) {
            ArtifactUse use{path, "file", (*digest)->identity.size, {{"blake3", (*digest)->blake3}}, {}, changer};
            if ((*digest)->changed_while_hashing) {
                use.notes.push_back("the file changed while it was being hashed");
            }
            job.outputs.push_back(std::move(use));
        }
    } else if (st.removed && !st.created && (st.existed || st.read_first)) {
        struct stat sb;
        if (stat(path.c_str(), &sb) != 0) {
            job.deleted.push_back(ArtifactUse{path, "file", std::nullopt, {}, {}, changer});
        }
    }
}

} // namespace roar::collector

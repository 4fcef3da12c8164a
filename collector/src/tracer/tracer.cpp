// The tracing thread (see tracer.hpp for what it is for, and
// docs/ARCHITECTURE.md, "The ptrace tracer", for the design). Everything
// below State::run() happens on that thread; the public methods are called
// on roar run's main thread and talk to it through a request queue, a
// futex word and a signal that interrupts its waitpid.
//
// A tracee is resumed with PTRACE_SYSCALL only when the event it stopped
// for needs the call's result (an OPEN's fd); otherwise with PTRACE_CONT,
// so most filter stops cost one round trip. Read-only opens, and opens that
// create or replace a whole file, do not stop at all: the fds they made are
// reported (OPEN, from /proc) at the process's first stop that needs them
// ("unknown fds", below). A call that may destroy an
// existing file's bytes is announced with PRE_MODIFY and the tracee stays
// stopped (parked) until the collector has taken that record, as the shim
// waits at its sync point; the thread meanwhile serves every other tracee.
// A read-only fd learnt late is hashed at that stop when it is small and
// provably unchanged since before the job (read_digest): an unstopped open
// that later replaces the file leaves no sync point to hash it at.
#include "roar/collector/tracer.hpp"

#include "availability.hpp"
#include "connect_route.hpp"
#include "proc_files.hpp"
#include "tracee_memory.hpp"

#include "roar/collector/event_ring.h"
#include "roar/collector/exec_probe.h"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/syscall_decoder.hpp"
#include "roar/collector/syscall_filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <map>
#include <mutex>
#include <optional>
#include <sched.h>
#include <set>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace roar::collector {

using namespace tracer;

namespace {

constexpr int k_kick_signal = SIGURG;
constexpr size_t k_announced_max = 4096;
constexpr size_t k_redirects_max = 4096;
// Largest file read_digest hashes while its reader is stopped (about
// 0.3 ms of BLAKE3 from the page cache), and how many digests it keeps.
constexpr off_t k_read_digest_max_bytes = off_t(1) << 20;
constexpr size_t k_read_digests_max = 4096;
// How many of its digests the tracer keeps for the hash cache.
constexpr size_t k_hashed_max = 100000;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

void on_kick(int) { }

long futex(uint32_t* word, int op, uint32_t value, const timespec* timeout)
{
    return syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

uint64_t monotonic_ns() { return roar_clock_ns(CLOCK_MONOTONIC); }

bool is_pseudo_fs(const std::string& path)
{
    return path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0 || path.rfind("/sys/", 0) == 0;
}

// Something the main thread asks of the tracing thread.
struct Request {
    enum class Kind { seize, stop } kind = Kind::seize;
    pid_t tid = 0;
    uint32_t done = 0; // futex word: 1 once answered
    int error = 0;
};

// A syscall stopped at its entry, with what was read from the tracee then.
struct PendingCall {
    SyscallCall call;
    std::string path, path2;
};

// One traced thread.
struct Task {
    pid_t tid = 0;
    pid_t pid = 0;              // its thread group
    bool awaiting_exit = false; // resumed with PTRACE_SYSCALL: the exit stop publishes `pending`
    PendingCall pending;
    bool parked = false; // stopped until the collector takes the record at park_index
    uint64_t park_index = 0;
    uint64_t parked_at_ns = 0;
    int64_t clone_flags = 0; // of the clone/clone3 it is in
};

// A write-capable fd whose writes the tracer does not stop on (inherited by
// an owned image, or opened without O_TRUNC): the file as it was, to
// tell at close, exit or exec whether anything was written through it.
struct WatchedFd {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t pos = -1; // the fd's offset then, for write-only fds (-1: not used)
    std::string path; // to look again once the process is gone
};

// What the tracer knows of one fd table.
struct FdTable {
    // Fds the collector knows what to make of: an OPEN, FD_INHERITED or
    // DUP was published for them, or they name no path. Any other open fd
    // came from an open the filter let through unstopped (read-only, or
    // creating or replacing a whole file), or from a call the tracer does
    // not follow: learn_fd reports it first.
    std::unordered_set<int> known;
    // Fds whose close was published and let run: until a call names the
    // number again, the kernel may not have closed it yet (the closing
    // thread resumed, another thread's stop came first), or may have given
    // the number to a new file opened unstopped. A scan of the table by
    // another thread's stop publishes such an fd (once per name it shows)
    // without making it known, so the file the number holds next is learnt
    // at its own call. Value: the name last published that way.
    std::unordered_map<int, std::string> closing;
};

// One traced process (its current image).
struct Proc {
    bool owned = false;         // no shim in this image: the tracer publishes its process events too
    bool reports_files = false; // the tracer publishes its file syscalls (an image started under tracing)
    bool filtered = false;      // a filter stop came from it: the filter is in place
    uint32_t cwd_generation = 0;
    std::unordered_set<std::string> announced;  // PRE_MODIFY already published for these
    std::unordered_set<int> written_fds;        // WRITE_FD or TRUNCATE published since the fd's open
    std::unordered_map<int, WatchedFd> watched; // write-capable fds to check for writes
    // What the tracer knows of the fd table, shared by the processes
    // sharing it (CLONE_FILES); see FdTable.
    std::shared_ptr<FdTable> fds = std::make_shared<FdTable>();
    bool io_uring_noted = false;
    bool exit_learnt = false; // its fds were learnt as it ended (exit_group, PTRACE_EVENT_EXIT)
    // S3 routing: redirected sockets (by inode) and the original
    // destination getpeername answers for them; notes already published.
    std::unordered_map<uint64_t, std::vector<unsigned char>> redirects;
    std::unordered_set<std::string> route_noted;
};

int64_t mtime_ns(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

int64_t ctime_ns(const struct stat& st) { return int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec; }

// What names one version of a file's bytes: (device, inode, size, mtime, ctime).
using FileVersion = std::tuple<uint64_t, uint64_t, int64_t, int64_t, int64_t>;

FileVersion version_of(const struct stat& st)
{
    return {uint64_t(st.st_dev), uint64_t(st.st_ino), int64_t(st.st_size), mtime_ns(st), ctime_ns(st)};
}

// A file's digest as a learnt OPEN carries it (s2, s3; syscall_filter.h).
struct ReadDigest {
    std::string blake3;
    std::string size;
};

bool stat_fd(pid_t tid, int fd, struct stat& st)
{
    return stat(("/proc/" + std::to_string(tid) + "/fd/" + std::to_string(fd)).c_str(), &st) == 0;
}

// A duplicate of fd `fd` of thread `tid` (of process `pid`) in the tracer:
// the same open file description (pidfd_getfd). -1 when it cannot be had.
int tracee_fd(pid_t pid, pid_t tid, int fd)
{
    // The thread's own fd table (PIDFD_THREAD, Linux 6.9), else the process's.
    long pidfd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    if (pidfd < 0) {
        pidfd = syscall(SYS_pidfd_open, pid, 0);
    }
    if (pidfd < 0) {
        return -1;
    }
    const long dup = syscall(SYS_pidfd_getfd, int(pidfd), fd, 0);
    const int err = errno;
    close(int(pidfd));
    errno = err;
    return int(dup);
}

// The domain (AF_INET or AF_INET6) of `sock` when it is a TCP socket over
// IP, else 0 (UDP, Unix sockets).
int tcp_over_ip(int sock)
{
    int type = 0;
    int domain = 0;
    socklen_t len = sizeof type;
    if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
        return 0;
    }
    len = sizeof domain;
    if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || (domain != AF_INET && domain != AF_INET6)) {
        return 0;
    }
    return domain;
}

// Whether processes `a` and `b` share one fd table (kcmp); `fallback` when
// the kernel cannot tell.
bool shares_fd_table(pid_t a, pid_t b, bool fallback)
{
    const long r = syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0);
    return r < 0 ? fallback : r == 0;
}

// Makes the syscall the tracee is stopped at (a seccomp stop) return
// `result` without running it.
void skip_syscall(pid_t tid, int64_t result)
{
    user_regs_struct regs{};
    if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
        return;
    }
    regs.orig_rax = uint64_t(-1);
    regs.rax = uint64_t(result);
    ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
}

} // namespace

struct Tracer::State {
    TracerOptions options;
    void* map = MAP_FAILED;
    size_t map_size = 0;
    roar_ring ring{};
    sock_filter filter[ROAR_FILTER_MAX];
    unsigned filter_len = 0;
    RouteConfig routing;  // the job's S3 routing (read-only once created)
    int64_t start_ns = 0; // CLOCK_REALTIME_COARSE when created, before the job: file times below it predate the job

    // Main thread only.
    bool started = false;
    bool stopped = false;
    bool needed = false; // something asked to be traced
    struct sigaction saved_kick { };
    std::thread worker;

    // Shared with the tracing thread.
    std::mutex mutex;
    std::deque<std::shared_ptr<Request>> requests;
    std::vector<Reaped> reaped;
    std::vector<std::string> notes;
    std::set<std::string> noted;
    std::string unavailable;
    uint32_t kick = 0;  // futex word: bumped for every request
    uint32_t ready = 0; // futex word: 1 once the availability check is done
    std::atomic<bool> available{false};
    std::atomic<bool> waiting{false}; // the thread waits for every child
    std::atomic<bool> none_left{false};
    std::atomic<pid_t> thread_tid{0};
    std::atomic<uint64_t> consumed{0}; // records below this index have been taken by the collector
    std::atomic<int> parked_count{0};
    std::atomic<uint64_t> stat_processes{0}, stat_stops{0}, stat_syscalls{0};

    // Tracing thread only (then take_hashed, after stop()).
    std::unordered_map<pid_t, Task> tasks;
    std::vector<FileDigest> hashed; // read_digest's own hashing, for the hash cache
    std::unordered_map<pid_t, Proc> procs;
    std::vector<pid_t> parked;
    std::map<FileVersion, ReadDigest> read_digests; // read_digest's results

    ~State()
    {
        if (map != MAP_FAILED) {
            munmap(map, map_size);
        }
    }

    // ---- main thread ----------------------------------------------------

    void note(const std::string& text)
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (noted.insert(text).second) {
            notes.push_back(text);
        }
    }

    bool ensure_running();
    int submit(Request::Kind kind, pid_t target);
    void kick_thread();

    // ---- tracing thread -------------------------------------------------

    void run();
    bool serve_requests();
    void seize(Request& request);
    void release_parked();
    void wait_for_kick(uint32_t seen, long timeout_ns);
    void on_status(pid_t tid, int status);
    void on_gone(pid_t tid, int status);
    void resume(Task& t, int sig = 0);
    void park(Task& t, int64_t index);
    Task& adopt(pid_t tid);
    // A new traced thread or process `child` of process `parent_pid`;
    // `shares_files`: it was cloned with CLONE_FILES (kcmp decides when it can).
    Task& add_child(pid_t parent_pid, pid_t child, bool thread, bool shares_files);
    void on_new_child(Task& t, int event);
    void on_exec(Task& t);
    void on_syscall_entry(Task& t);
    void on_syscall_exit(Task& t);
    void file_entry(Task& t, Proc& p, const SyscallCall& call);
    // Learns the unknown fds `call` depends on before its event is published.
    void learn_fds_for(const Task& t, Proc& p, const SyscallCall& call);
    bool should_announce(const Task& t, Proc& p, int dirfd, const std::string& path, bool follow);
    void publish_result(Task& t, Proc& p, const PendingCall& pc, int64_t result);
    void publish_start(Task& t, Proc& p);
    void route_connect(const Task& t, Proc& p, const SyscallCall& call);
    void route_getpeername(const Task& t, Proc& p, const SyscallCall& call);
    void route_note_once(const Task& t, Proc& p, const std::string& text);
    // Notes a traced program's TCP connect to `dest` (on its `fd`) that no
    // routing rule matched.
    void note_unidentified(const Task& t, Proc& p, int fd, const Destination& dest);
    void watch_fd(const Task& t, Proc& p, int fd, const std::string& path, bool write_only);
    // watch_fd for each write-capable fd of `fds` (the fds a new image
    // inherited; read from /proc when not given).
    void watch_inherited(const Task& t, Proc& p, const std::vector<OpenFd>& fds);
    void watch_inherited(const Task& t, Proc& p) { watch_inherited(t, p, read_path_fds(t.pid)); }
    // Publishes OPEN for fd `fd` of the stopped `t` if it is open, names a
    // path and is not known yet (p.fds->known); then it is known. A
    // write-capable one came from an open that created or replaced the
    // file: its OPEN says so (O_CREAT | O_TRUNC, ROAR_OPEN_LEARNT).
    // `named_by_call`: the stopped call names `fd`, so the number holds
    // the file it names now even if a close of it was published
    // (FdTable::closing); else (a scan of the table) such an fd is
    // published without becoming known.
    void learn_fd(const Task& t, Proc& p, int fd, bool named_by_call = false);
    // learn_fd for every open fd of `t` in [first, last].
    void learn_fds(const Task& t, Proc& p, int first = 0, int last = INT_MAX, bool named_by_call = false);
    // Fd `fd` was published by the call that made it: known, not closing.
    static void know_fd(Proc& p, int fd)
    {
        p.fds->known.insert(fd);
        p.fds->closing.erase(fd);
    }
    // The digest of the file open on read-only fd `fd` of the stopped `t`
    // (named `path`, `st` its stat) when the record may take it for the bytes the job
    // read there: a regular file options.digest_filter accepts, at most
    // k_read_digest_max_bytes, whose inode last changed before the job
    // started, before and after hashing (or, unread, the digest
    // options.cached_digest holds for it). Else none.
    std::optional<ReadDigest> read_digest(const Task& t, int fd, const std::string& path, const struct stat& st);
    // Keeps `digest` for read_digest's next look at the same file version.
    void remember_read_digest(const FileVersion& version, const ReadDigest& digest);
    // The fds open in `t` now, all taken as known (a new image, a new tracee).
    void know_open_fds(const Task& t, Proc& p);
    void check_watched(const Task& t, Proc& p, int first, int last, bool gone);
    int64_t publish(const Task& t, uint16_t op, int fd, int fd2, int flags, uint32_t mode, int64_t result,
                    const std::string* s1 = nullptr, const std::string* s2 = nullptr, const std::string* s3 = nullptr);
};

Result<TracerMode> parse_tracer_mode(const std::string& text)
{
    if (text == "off") {
        return TracerMode::off;
    }
    if (text == "auto") {
        return TracerMode::automatic;
    }
    if (text == "complete") {
        return TracerMode::complete;
    }
    return fail("run.tracer must be \"auto\", \"complete\" or \"off\", not \"{}\"", text);
}

Tracer::Tracer(std::unique_ptr<State> state) : m_state(std::move(state)) { }

Tracer::~Tracer() { stop(); }

Result<std::unique_ptr<Tracer>> Tracer::create(const TracerOptions& options)
{
    auto state = std::make_unique<State>();
    state->options = options;
    state->start_ns = int64_t(roar_clock_ns(CLOCK_REALTIME_COARSE));
    const int fd = shm_open(options.ring_name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        return fail("cannot open the event ring {} for the tracer: {}", options.ring_name, std::strerror(errno));
    }
    struct stat st { };
    if (fstat(fd, &st) == 0) {
        state->map_size = size_t(st.st_size);
        state->map = mmap(nullptr, state->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    close(fd);
    if (state->map == MAP_FAILED || roar_ring_view(&state->ring, state->map, state->map_size) != 0) {
        return fail("cannot map the event ring {} for the tracer", options.ring_name);
    }
    if (auto routing = parse_route_config(options.s3_proxy, options.s3_secret, options.s3_hosts, options.s3_tls)) {
        state->routing = std::move(*routing);
        if (state->routing.on && !options.hosts_file.empty()) {
            std::ifstream in(options.hosts_file);
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            learn_hosts_file(state->routing, text);
        }
    } else {
        state->note(fmt::format("S3 connections of traced programs are not routed: {}", routing.error().message));
    }
    // connect and getpeername stop only when the job routes S3.
    state->filter_len = roar_filter_build(state->filter, ROAR_FILTER_MAX, state->routing.on ? ROAR_FILTER_CONNECT : 0);
    const uint32_t mode = options.mode == TracerMode::off        ? ROAR_TRACER_OFF
                          : options.mode == TracerMode::complete ? ROAR_TRACER_COMPLETE
                                                                 : ROAR_TRACER_AUTO;
    __atomic_store_n(&state->ring.hdr->tracer_mode, mode, __ATOMIC_RELEASE);
    return std::unique_ptr<Tracer>(new Tracer(std::move(state)));
}

bool Tracer::wants_root(int exec_flags)
{
    const TracerMode mode = m_state->options.mode;
    if (mode == TracerMode::off || (exec_flags & (ROAR_EXEC_SETID | ROAR_EXEC_FILECAPS | ROAR_EXEC_32BIT))) {
        return false;
    }
    if (mode == TracerMode::automatic && !(exec_flags & (ROAR_EXEC_STATIC | ROAR_EXEC_GO))) {
        return false;
    }
    return m_state->ensure_running();
}

bool Tracer::attach_root(pid_t child) { return m_state->submit(Request::Kind::seize, child) == 0; }

int Tracer::install_filter() const noexcept { return roar_filter_install(m_state->filter, m_state->filter_len); }

bool Tracer::waits_for_children() const { return m_state->waiting.load(std::memory_order_acquire); }

void Tracer::take_reaped(std::vector<Reaped>& out, bool& none_left)
{
    // Read before taking: an exit reaped after this read is taken next time.
    none_left = m_state->none_left.load(std::memory_order_acquire);
    std::lock_guard<std::mutex> lock(m_state->mutex);
    out.insert(out.end(), m_state->reaped.begin(), m_state->reaped.end());
    m_state->reaped.clear();
}

void Tracer::on_event(const RawEvent& event)
{
    State& s = *m_state;
    const roar_event& h = event.header;
    s.consumed.store(event.index + 1, std::memory_order_release);
    if (h.op == ROAR_OP_EXEC && (h.flags & ROAR_EXEC_TRACE_REQUEST)) {
        // The shim waits at this record: seize the thread before it is
        // consumed, so it finds itself traced when it wakes up.
        const pid_t thread = pid_t(h.mode != 0 ? h.mode : h.tid);
        if (s.options.mode == TracerMode::off || !s.ensure_running()) {
            return;
        }
        if (const int err = s.submit(Request::Kind::seize, thread)) {
            s.note(fmt::format("process {} could not be traced ({}); it was not observed", h.pid, std::strerror(err)));
        }
    } else if (h.op == ROAR_OP_PRE_MODIFY && s.parked_count.load(std::memory_order_acquire) > 0) {
        __atomic_fetch_add(&s.kick, 1, __ATOMIC_RELEASE);
        futex(&s.kick, FUTEX_WAKE, INT_MAX, nullptr);
    }
}

void Tracer::stop()
{
    State& s = *m_state;
    if (s.worker.joinable()) {
        s.submit(Request::Kind::stop, 0);
        s.worker.join();
        s.waiting.store(false, std::memory_order_release);
        __atomic_store_n(&s.ring.hdr->tracer_tid, 0u, __ATOMIC_RELEASE);
    }
    if (s.started && !s.stopped) {
        sigaction(k_kick_signal, &s.saved_kick, nullptr);
    }
    s.stopped = true;
}

std::vector<std::string> Tracer::notes() const
{
    State& s = *m_state;
    std::lock_guard<std::mutex> lock(s.mutex);
    std::vector<std::string> out;
    if (s.needed && !s.unavailable.empty()) {
        out.push_back(fmt::format("programs the shim cannot enter (static, Go) were not traced: {}", s.unavailable));
    }
    out.insert(out.end(), s.notes.begin(), s.notes.end());
    return out;
}

TracerStats Tracer::stats() const
{
    return TracerStats{m_state->stat_processes.load(), m_state->stat_stops.load(), m_state->stat_syscalls.load()};
}

std::vector<FileDigest> Tracer::take_hashed() { return std::exchange(m_state->hashed, {}); }

// ---- main thread side ---------------------------------------------------

bool Tracer::State::ensure_running()
{
    if (stopped) {
        return false; // the job is over
    }
    needed = true;
    if (started) {
        return available.load(std::memory_order_acquire);
    }
    started = true;
    struct sigaction sa { };
    sa.sa_handler = on_kick; // no SA_RESTART: interrupts the thread's waitpid
    sigemptyset(&sa.sa_mask);
    sigaction(k_kick_signal, &sa, &saved_kick);
    worker = std::thread([this] { run(); });
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        futex(&ready, FUTEX_WAIT, 0, nullptr);
    }
    if (!available.load(std::memory_order_acquire)) {
        worker.join();
        __atomic_store_n(&ring.hdr->tracer_mode, ROAR_TRACER_OFF, __ATOMIC_RELEASE); // shims stop asking
        return false;
    }
    // From now on the thread waits for every child; it is woken by the
    // wait itself, so SIGCHLD needs no handler (one would wake the main
    // loop on every ptrace stop). It rings the ring's doorbell on exits.
    struct sigaction dfl { };
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, nullptr);
    waiting.store(true, std::memory_order_release);
    return true;
}

void Tracer::State::kick_thread()
{
    __atomic_fetch_add(&kick, 1, __ATOMIC_RELEASE);
    futex(&kick, FUTEX_WAKE, INT_MAX, nullptr);
    if (const pid_t t = thread_tid.load(std::memory_order_acquire)) {
        syscall(SYS_tgkill, getpid(), t, k_kick_signal);
    }
}

int Tracer::State::submit(Request::Kind kind, pid_t target)
{
    if (!worker.joinable()) {
        return ESRCH;
    }
    auto request = std::make_shared<Request>();
    request->kind = kind;
    request->tid = target;
    {
        std::lock_guard<std::mutex> lock(mutex);
        requests.push_back(request);
    }
    // The signal may land just before the thread enters waitpid and be
    // lost; kicking again every millisecond bounds that.
    for (int i = 0; i < 10000 && !__atomic_load_n(&request->done, __ATOMIC_ACQUIRE); ++i) {
        kick_thread();
        const timespec ms{0, 1000000};
        futex(&request->done, FUTEX_WAIT, 0, &ms);
    }
    return __atomic_load_n(&request->done, __ATOMIC_ACQUIRE) ? request->error : ETIMEDOUT;
}

// ---- the tracing thread ---------------------------------------------------

void Tracer::State::run()
{
    // Signals for roar run (SIGTERM to forward) go to the main thread;
    // this one takes its kick and SIGCHLD. Every ptrace stop sends
    // SIGCHLD to this thread, the tracees' parent: were it blocked here,
    // the kernel could not discard it (a blocked signal is never ignored)
    // and would wake the main thread with it, once per stop.
    sigset_t mask;
    sigfillset(&mask);
    sigdelset(&mask, k_kick_signal);
    sigdelset(&mask, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    thread_tid.store(pid_t(syscall(SYS_gettid)), std::memory_order_release);

    const std::string reason = check_tracing_permitted(filter, filter_len);
    {
        std::lock_guard<std::mutex> lock(mutex);
        unavailable = reason;
    }
    available.store(reason.empty(), std::memory_order_release);
    __atomic_store_n(&ready, 1u, __ATOMIC_RELEASE);
    futex(&ready, FUTEX_WAKE, INT_MAX, nullptr);
    if (!reason.empty()) {
        return;
    }
    __atomic_store_n(&ring.hdr->tracer_tid, uint32_t(thread_tid.load()), __ATOMIC_RELEASE);

    for (;;) {
        const uint32_t seen = __atomic_load_n(&kick, __ATOMIC_ACQUIRE);
        if (!serve_requests()) {
            break;
        }
        release_parked();
        int status = 0;
        pid_t pid;
        if (!parked.empty()) {
            pid = waitpid(-1, &status, __WALL | WNOHANG);
            if (pid == 0) {
                wait_for_kick(seen, 1000000);
                continue;
            }
        } else {
            pid = waitpid(-1, &status, __WALL);
        }
        if (pid < 0) {
            if (errno == ECHILD) {
                none_left.store(true, std::memory_order_release);
                roar_ring_ring_doorbell(&ring);
                wait_for_kick(seen, 20000000);
            }
            continue; // EINTR: a kick
        }
        none_left.store(false, std::memory_order_release);
        stat_stops.fetch_add(1, std::memory_order_relaxed);
        on_status(pid, status);
    }
    // Answer whatever is still queued.
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& request : requests) {
        request->error = ESRCH;
        __atomic_store_n(&request->done, 1u, __ATOMIC_RELEASE);
        futex(&request->done, FUTEX_WAKE, INT_MAX, nullptr);
    }
    requests.clear();
}

void Tracer::State::wait_for_kick(uint32_t seen, long timeout_ns)
{
    const timespec ts{0, timeout_ns};
    futex(&kick, FUTEX_WAIT, seen, &ts);
}

bool Tracer::State::serve_requests()
{
    for (;;) {
        std::shared_ptr<Request> request;
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (requests.empty()) {
                return true;
            }
            request = requests.front();
            requests.pop_front();
        }
        const bool stopping = request->kind == Request::Kind::stop;
        if (!stopping) {
            seize(*request);
        }
        __atomic_store_n(&request->done, 1u, __ATOMIC_RELEASE);
        futex(&request->done, FUTEX_WAKE, INT_MAX, nullptr);
        if (stopping) {
            return false;
        }
    }
}

void Tracer::State::seize(Request& request)
{
    if (ptrace(PTRACE_SEIZE, request.tid, nullptr, reinterpret_cast<void*>(tracee_options())) != 0) {
        request.error = errno;
        return;
    }
    pid_t tgid = 0;
    pid_t ppid = 0;
    read_ids(request.tid, tgid, ppid);
    Task& t = tasks[request.tid];
    t = Task{};
    t.tid = request.tid;
    t.pid = tgid > 0 ? tgid : request.tid;
    // The image it runs now has the shim (a hand-off) or is roar's own
    // fork (the root): the tracer publishes its process events only after
    // the exec, when the new image has no shim.
    procs[t.pid] = Proc{};
}

void Tracer::State::release_parked()
{
    if (parked.empty()) {
        return;
    }
    const uint64_t taken = consumed.load(std::memory_order_acquire);
    const uint64_t timeout_ns = uint64_t(ring.hdr->sync_timeout_ms) * 1000000ull;
    const uint64_t now = monotonic_ns();
    std::erase_if(parked, [&](pid_t tid) {
        auto it = tasks.find(tid);
        if (it == tasks.end() || !it->second.parked) {
            return true;
        }
        Task& t = it->second;
        const bool timed_out = now - t.parked_at_ns >= timeout_ns;
        if (taken <= t.park_index && !timed_out) {
            return false;
        }
        if (taken <= t.park_index) {
            __atomic_fetch_add(&ring.hdr->sync_timeouts, 1, __ATOMIC_RELAXED);
        }
        t.parked = false;
        parked_count.fetch_sub(1, std::memory_order_release);
        resume(t);
        return true;
    });
}

void Tracer::State::park(Task& t, int64_t index)
{
    t.parked = true;
    t.park_index = uint64_t(index);
    t.parked_at_ns = monotonic_ns();
    parked.push_back(t.tid);
    parked_count.fetch_add(1, std::memory_order_release);
    roar_ring_ring_doorbell(&ring); // the collector takes it now, not at its next poll
}

void Tracer::State::resume(Task& t, int sig)
{
    ptrace(t.awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, t.tid, nullptr, reinterpret_cast<void*>(long(sig)));
}

void Tracer::State::on_status(pid_t tid, int status)
{
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        on_gone(tid, status);
        return;
    }
    if (!WIFSTOPPED(status)) {
        return;
    }
    auto it = tasks.find(tid);
    Task& t = it != tasks.end() ? it->second : adopt(tid);
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    switch (event) {
    case PTRACE_EVENT_SECCOMP: on_syscall_entry(t); return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
        on_new_child(t, event);
        resume(t);
        return;
    case PTRACE_EVENT_EXEC: on_exec(t); return;
    case PTRACE_EVENT_EXIT: {
        // A thread ending; its files are still open. exit_group learnt them
        // already; a death by signal (or a last thread's exit) has not.
        // (A SIGKILL may end the task without this stop: on_gone notes
        // that such reads may be lost.) The leader's stop is the process's
        // end; another thread's may be its own exit alone.
        auto proc = procs.find(t.pid);
        if (proc != procs.end() && proc->second.reports_files) {
            learn_fds(t, proc->second);
            proc->second.exit_learnt = proc->second.exit_learnt || t.tid == t.pid;
        }
        resume(t);
        return;
    }
    case PTRACE_EVENT_STOP:
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
            ptrace(PTRACE_LISTEN, tid, nullptr, nullptr); // a group stop: stay stopped until SIGCONT
        } else {
            resume(t); // the stop a new tracee starts with
        }
        return;
    case 0:
        if (sig == (SIGTRAP | 0x80)) {
            on_syscall_exit(t);
        } else {
            resume(t, sig); // a signal for the tracee: deliver it
        }
        return;
    default: resume(t); return;
    }
}

void Tracer::State::on_gone(pid_t tid, int status)
{
    bool process = true;
    auto it = tasks.find(tid);
    if (it != tasks.end()) {
        const pid_t pid = it->second.pid;
        if (it->second.parked) {
            parked_count.fetch_sub(1, std::memory_order_release);
        }
        const Task dead = it->second;
        tasks.erase(it);
        if (pid == tid) {
            if (auto p = procs.find(pid); p != procs.end()) {
                check_watched(dead, p->second, 0, INT_MAX, true); // killed before it closed them
                if (WIFSIGNALED(status) && p->second.reports_files && !p->second.exit_learnt) {
                    // SIGKILL ends a task without its exit stop: the fds it
                    // never closed were not learnt, and /proc has no more.
                    const std::string text = fmt::format(
                        "killed by signal {} before the tracer could learn the files it still had open: reads "
                        "through them, and files it created or replaced and had not closed, may be missing",
                        WTERMSIG(status));
                    publish(dead, ROAR_OP_NOTE, -1, -1, 0, 0, 0, &text);
                }
                procs.erase(p);
            }
        } else {
            process = false; // a thread
        }
    }
    if (process) {
        // A child of ours (the root, an adopted orphan) or a tracee whose
        // parent will also wait for it: the launcher records its status.
        {
            std::lock_guard<std::mutex> lock(mutex);
            reaped.push_back({tid, status});
        }
        roar_ring_ring_doorbell(&ring);
    }
}

Task& Tracer::State::adopt(pid_t tid)
{
    // A new tracee whose creator's fork/clone event has not come in yet.
    pid_t tgid = 0;
    pid_t ppid = 0;
    read_ids(tid, tgid, ppid);
    if (tgid > 0 && tgid != tid && procs.count(tgid)) {
        return add_child(tgid, tid, true, true);
    }
    if (procs.count(tid)) {
        // A leader we know only through another thread: the one that was
        // seized and then exec'd, taking the leader's id.
        Task& t = tasks[tid];
        t.tid = tid;
        t.pid = tid;
        return t;
    }
    if (!procs.count(ppid)) {
        Proc& p = procs[tid];
        p.filtered = true; // it was auto-attached: its creator runs under the filter
        p.reports_files = true;
        Task& t = tasks[tid];
        t.tid = tid;
        t.pid = tid;
        know_open_fds(t, p); // as before: what it inherited from outside is not reported
        return t;
    }
    return add_child(ppid, tid, false, false);
}

Task& Tracer::State::add_child(pid_t parent_pid, pid_t child, bool thread, bool shares_files)
{
    if (auto it = tasks.find(child); it != tasks.end()) {
        return it->second; // its own first stop came first
    }
    Task& t = tasks[child];
    t.tid = child;
    t.pid = thread ? parent_pid : child;
    if (!thread) {
        const Proc parent = procs[parent_pid];
        Proc& p = procs[child];
        p.owned = parent.owned;
        p.reports_files = parent.reports_files;
        p.filtered = parent.filtered;
        p.cwd_generation = parent.cwd_generation;
        p.written_fds = parent.written_fds;
        p.watched = parent.watched;
        // A copy of its table, learnt at the fork's entry, or the same table
        // (CLONE_FILES): then an fd one opens and the other closes is known.
        if (shares_fd_table(parent_pid, child, shares_files)) {
            p.fds = parent.fds;
        } else {
            p.fds = std::make_shared<FdTable>(*parent.fds);
        }
        p.redirects = parent.redirects; // inherited sockets
        if (p.owned) {
            publish(t, ROAR_OP_PROC_START, parent_pid, -1, ROAR_START_FORKED | ROAR_START_TRACED, 0, 0);
        }
    }
    return t;
}

void Tracer::State::on_new_child(Task& t, int event)
{
    unsigned long msg = 0;
    if (ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &msg) != 0 || msg == 0) {
        return;
    }
    const bool thread = event == PTRACE_EVENT_CLONE && (t.clone_flags & CLONE_THREAD);
    add_child(t.pid, pid_t(msg), thread, event == PTRACE_EVENT_CLONE && (t.clone_flags & CLONE_FILES));
}

void Tracer::State::on_exec(Task& leader)
{
    unsigned long former = 0;
    ptrace(PTRACE_GETEVENTMSG, leader.tid, nullptr, &former);
    const pid_t tid = leader.tid;
    if (pid_t(former) != tid && former != 0) {
        // A thread other than the leader exec'd: it now has the leader's id.
        if (auto it = tasks.find(pid_t(former)); it != tasks.end()) {
            Task moved = it->second;
            moved.tid = tid;
            tasks.erase(it);
            if (leader.parked) {
                parked_count.fetch_sub(1, std::memory_order_release); // the old leader died in the exec
            }
            leader = moved;
        }
    }
    Task& t = tasks.at(tid);
    t.awaiting_exit = false;
    t.pending = PendingCall{};
    Proc& p = procs[t.pid];
    if (!p.filtered) {
        // The filter did not go in (the installer failed): nothing would
        // ever stop here, and without a filter there is nothing to keep
        // the tracer for. Its EXEC's note reports it unobserved.
        const pid_t pid = t.pid;
        note(fmt::format("process {} could not install the tracer's seccomp filter; it was not observed", pid));
        ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        tasks.erase(tid);
        procs.erase(pid);
        return;
    }
    const std::string exe = "/proc/" + std::to_string(t.pid) + "/exe";
    const int probe = roar_exec_probe_at(AT_FDCWD, exe.c_str());
    if (probe & ROAR_EXEC_32BIT) {
        p.owned = false; // its syscalls pass the filter unstopped; its EXEC says why it is unobserved
    } else if (probe & (ROAR_EXEC_STATIC | ROAR_EXEC_GO)) {
        p.owned = true;
    } else {
        p.owned = !environment_has_shim(t.pid, options.preload_path, options.ring_name);
    }
    check_watched(t, p, 0, INT_MAX, true); // what the old image wrote (by path: exec closed the CLOEXEC ones)
    p.announced.clear();
    p.written_fds.clear();
    p.io_uring_noted = false;
    p.reports_files = true; // a shim in this image finds itself traced and leaves them to us
    know_open_fds(t, p);    // the old image's were learnt at the exec's entry; these are FD_INHERITED
    ++p.cwd_generation;
    if (p.owned) {
        publish_start(t, p);
    } else if (!(probe & ROAR_EXEC_32BIT)) {
        // The shim's image: it reports the inherited fds and its libc
        // writes, but a raw write(2) into one of them only changes the file.
        watch_inherited(t, p);
    }
    resume(t);
}

void Tracer::State::watch_fd(const Task& t, Proc& p, int fd, const std::string& path, bool write_only)
{
    struct stat st { };
    if (!stat_fd(t.tid, fd, st) || !S_ISREG(st.st_mode)) {
        return; // a terminal, /dev/null, a pipe: never an output
    }
    WatchedFd w;
    w.dev = st.st_dev;
    w.ino = st.st_ino;
    w.size = st.st_size;
    w.mtime_ns = mtime_ns(st);
    // Through a write-only fd only writes (or seeks) move the offset: that
    // catches a same-size overwrite within one mtime tick.
    w.pos = write_only ? read_fd_pos(t.tid, fd) : -1;
    // A relative name is read from /proc, for when the process is gone.
    std::string abs = path;
    if (abs.empty() || abs.front() != '/') {
        char buf[ROAR_MAX_PATH_BYTES];
        const std::string link = "/proc/" + std::to_string(t.tid) + "/fd/" + std::to_string(fd);
        const ssize_t n = readlink(link.c_str(), buf, sizeof buf);
        abs = n > 0 ? std::string(buf, size_t(n)) : std::string();
    }
    w.path = std::move(abs);
    p.watched[fd] = std::move(w);
}

void Tracer::State::check_watched(const Task& t, Proc& p, int first, int last, bool gone)
{
    // WRITE_FD for every watched fd in [first, last] whose file changed
    // (size or mtime) since it was watched; then they are forgotten.
    for (auto it = p.watched.begin(); it != p.watched.end();) {
        if (it->first < first || it->first > last) {
            ++it;
            continue;
        }
        const WatchedFd& w = it->second;
        struct stat now { };
        const bool ok = gone ? (!w.path.empty() && stat(w.path.c_str(), &now) == 0) : stat_fd(t.tid, it->first, now);
        const bool moved = !gone && w.pos >= 0 && read_fd_pos(t.tid, it->first) != w.pos;
        const bool changed = now.st_size != w.size || mtime_ns(now) != w.mtime_ns || moved;
        if (ok && now.st_dev == w.dev && now.st_ino == w.ino && changed && !p.written_fds.count(it->first)) {
            publish(t, ROAR_OP_WRITE_FD, it->first, -1, 0, 0, 0);
        }
        it = p.watched.erase(it);
    }
}

void Tracer::State::learn_fd(const Task& t, Proc& p, int fd, bool named_by_call)
{
    if (fd < 0 || p.fds->known.count(fd)) {
        return;
    }
    bool is_open = false;
    const std::optional<OpenFd> named = read_path_fd(t.tid, fd, is_open);
    const auto closing = p.fds->closing.find(fd);
    if (!is_open) {
        if (closing != p.fds->closing.end()) {
            p.fds->closing.erase(closing); // closed now
        }
        return; // the call fails with EBADF; a later open may take the number
    }
    if (closing != p.fds->closing.end() && !named_by_call) {
        // Closed by a call of this table not known to be done: the same
        // file still, or a new one. Reported, not known (FdTable::closing).
        std::string shown = named ? named->target : std::string();
        if (closing->second == shown) {
            return;
        }
        closing->second = std::move(shown);
    } else {
        if (closing != p.fds->closing.end()) {
            p.fds->closing.erase(closing);
        }
        p.fds->known.insert(fd);
    }
    if (!named) {
        return;
    }
    // As the shim's OPEN, with the path the kernel resolved (absolute,
    // through any symlinks) and the fd's access mode. The kernel keeps
    // neither O_CREAT nor O_TRUNC; the filter lets a write open run
    // unstopped only when it creates or replaces the whole file, so a
    // write-capable fd learnt here did: its content is the job's, and
    // there is nothing left to watch.
    int flags = named->flags;
    if (open_can_write(flags)) {
        flags |= O_CREAT | O_TRUNC;
        p.written_fds.insert(fd);
        p.watched.erase(fd);
    } else {
        struct stat st { };
        if (!is_pseudo_fs(named->target) && stat_fd(t.tid, fd, st) && S_ISREG(st.st_mode)) {
            // The open ran unstopped, so an open replacing this file will
            // too: no PRE_MODIFY would hash the bytes read before they are gone.
            if (const auto digest = read_digest(t, fd, named->target, st)) {
                publish(t, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, flags, ROAR_OPEN_LEARNT, fd, &named->target,
                        &digest->blake3, &digest->size);
                return;
            }
        } else if (const int all = read_fd_flags(t.tid, fd); all >= 0) {
            flags = all; // a directory's O_DIRECTORY: listed, not read
        }
    }
    publish(t, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, flags, ROAR_OPEN_LEARNT, fd, &named->target);
}

std::optional<ReadDigest> Tracer::State::read_digest(const Task& t, int fd, const std::string& path,
                                                     const struct stat& st)
{
    if (!options.digest_filter || path.empty() || path.front() != '/' || is_pseudo_fs(path)
        || !options.digest_filter->accepts(path)) {
        return std::nullopt;
    }
    // A change by the job sets ctime at or after start_ns (a coarse clock
    // read before the job, and file times are never behind it): a ctime
    // below it proves these are the bytes the job found, and read.
    if (!S_ISREG(st.st_mode) || st.st_size > k_read_digest_max_bytes || ctime_ns(st) >= start_ns) {
        return std::nullopt;
    }
    const FileVersion version = version_of(st);
    if (const auto known = read_digests.find(version); known != read_digests.end()) {
        return known->second;
    }
    // The cache holds what its identity's bytes hash to (as for every
    // input roar hashes after a job); the ctime check says they are the
    // bytes read. A hit saves reading the file (rclone has just dropped it
    // from the page cache) while its reader waits.
    const FileIdentity identity = identity_of(st);
    if (options.cached_digest) {
        if (auto cached = options.cached_digest(identity)) {
            ReadDigest out{std::move(*cached), std::to_string(st.st_size)};
            remember_read_digest(version, out);
            return out;
        }
    }
    // A description of our own: the tracee's offset and read-ahead stay as they are.
    const std::string link = "/proc/" + std::to_string(t.tid) + "/fd/" + std::to_string(fd);
    const int own = open(link.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (own < 0) {
        return std::nullopt;
    }
    auto digest = blake3_fd(own, path);
    struct stat after { };
    const bool unchanged = fstat(own, &after) == 0 && version_of(after) == version;
    close(own);
    if (!digest || digest->changed_while_hashing || !unchanged) {
        return std::nullopt;
    }
    if (options.cached_digest && hashed.size() < k_hashed_max) {
        hashed.push_back(FileDigest{digest->blake3, identity, false});
    }
    ReadDigest out{std::move(digest->blake3), std::to_string(st.st_size)};
    remember_read_digest(version, out);
    return out;
}

void Tracer::State::remember_read_digest(const FileVersion& version, const ReadDigest& digest)
{
    if (read_digests.size() >= k_read_digests_max) {
        read_digests.clear();
    }
    read_digests.emplace(version, digest);
}

void Tracer::State::learn_fds(const Task& t, Proc& p, int first, int last, bool named_by_call)
{
    for (const int fd : read_fd_numbers(t.tid)) {
        if (fd >= first && fd <= last) {
            learn_fd(t, p, fd, named_by_call);
        }
    }
}

void Tracer::State::know_open_fds(const Task& t, Proc& p)
{
    // A new table: exec gives a process sharing its table (CLONE_FILES) its own.
    p.fds = std::make_shared<FdTable>();
    for (const int fd : read_fd_numbers(t.tid)) {
        p.fds->known.insert(fd);
    }
}

void Tracer::State::publish_start(Task& t, Proc& p)
{
    const ProcessImage img = read_image(t.pid);
    const int flags = ROAR_START_TRACED | (img.argv_truncated ? ROAR_START_ARGV_TRUNCATED : 0);
    publish(t, ROAR_OP_PROC_START, img.ppid, -1, flags, 0, 0, &img.exe, &img.cwd, &img.argv);
    const std::vector<OpenFd> fds = read_path_fds(t.pid);
    for (const OpenFd& fd : fds) {
        publish(t, ROAR_OP_FD_INHERITED, fd.fd, -1, fd.flags, 0, 0, &fd.target);
    }
    watch_inherited(t, p, fds);
    stat_processes.fetch_add(1, std::memory_order_relaxed);
}

void Tracer::State::watch_inherited(const Task& t, Proc& p, const std::vector<OpenFd>& fds)
{
    for (const OpenFd& fd : fds) {
        if (open_can_write(fd.flags)) {
            watch_fd(t, p, fd.fd, fd.target, (fd.flags & O_ACCMODE) == O_WRONLY); // `> log`: written if it changes
        }
    }
}

void Tracer::State::on_syscall_entry(Task& t)
{
    __ptrace_syscall_info info{};
    if (ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, reinterpret_cast<void*>(sizeof info), &info) <= 0
        || info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
        resume(t);
        return;
    }
    stat_syscalls.fetch_add(1, std::memory_order_relaxed);
    Proc& p = procs[t.pid];
    p.filtered = true;
    if (info.arch != AUDIT_ARCH_X86_64) {
        resume(t);
        return;
    }
    uint64_t args[6];
    for (int i = 0; i < 6; ++i) {
        args[i] = info.seccomp.args[i];
    }
    const SyscallCall call = decode_syscall(long(info.seccomp.nr), args);
    switch (call.kind) {
    case SyscallKind::none: break;
    case SyscallKind::exit_group:
        if (p.reports_files) {
            learn_fds(t, p); // before the kernel closes them
            p.exit_learnt = true;
            check_watched(t, p, 0, INT_MAX, false);
        }
        if (p.owned) {
            publish(t, ROAR_OP_PROC_EXIT, -1, -1, 0, 0, call.flags);
        }
        break;
    case SyscallKind::fork: {
        int64_t flags = call.flags;
        if (call.flags_in_memory) {
            uint64_t in_memory = 0;
            if (read_bytes(t.tid, call.argv, &in_memory, sizeof in_memory)) {
                flags = int64_t(in_memory);
                if (in_memory & CLONE_UNTRACED) { // a child we could not follow would meet the filter alone
                    in_memory &= ~uint64_t(CLONE_UNTRACED);
                    write_bytes(t.tid, call.argv, &in_memory, sizeof in_memory);
                }
            }
        } else if (flags & CLONE_UNTRACED) {
            user_regs_struct regs{};
            if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) == 0) {
                regs.rdi &= ~uint64_t(CLONE_UNTRACED);
                ptrace(PTRACE_SETREGS, t.tid, nullptr, &regs);
            }
        }
        t.clone_flags = flags;
        if (!(flags & CLONE_THREAD) && p.reports_files) {
            learn_fds(t, p); // the child's table is a copy: both start from what is known
        }
        if (!(flags & CLONE_THREAD) && p.owned) {
            publish(t, ROAR_OP_FORK, -1, -1, 0, 0, 0);
        }
        break;
    }
    case SyscallKind::exec: {
        if (p.reports_files) {
            learn_fds(t, p); // the old image's reads, before close-on-exec drops them
        }
        if (!p.owned) {
            break; // the shim published this process's EXEC
        }
        PendingCall pc;
        pc.call = call;
        bool cut = false;
        read_string(t.tid, call.path, ROAR_MAX_PATH_BYTES - 1, pc.path, cut);
        std::string target = path_from_here(t.tid, call.dirfd, pc.path);
        if (pc.path.empty() && (call.flags & AT_EMPTY_PATH)) {
            target = "/proc/" + std::to_string(t.tid) + "/fd/" + std::to_string(call.dirfd);
        }
        const int probe = target.empty() ? 0 : roar_exec_probe_at(AT_FDCWD, target.c_str());
        std::string argv; // NUL-separated, as the shim's
        bool first = true;
        for (const auto& arg : read_argv(t.tid, call.argv, ROAR_MAX_ARGV_BYTES - 1, cut)) {
            if (!first) {
                argv.push_back('\0');
            }
            argv += arg;
            first = false;
        }
        publish(t, ROAR_OP_EXEC, call.dirfd, -1, probe, 0, 0, &pc.path, nullptr, &argv);
        t.pending = std::move(pc);
        t.awaiting_exit = true; // EXEC_FAILED if it returns
        break;
    }
    case SyscallKind::io_uring:
        if (p.owned && !p.io_uring_noted) {
            p.io_uring_noted = true;
            const std::string text = "io_uring in use: its file I/O is not observed";
            publish(t, ROAR_OP_NOTE, -1, -1, 0, 0, 0, &text);
        }
        break;
    case SyscallKind::connect: route_connect(t, p, call); break;
    case SyscallKind::getpeername: route_getpeername(t, p, call); break;
    default:
        if (p.reports_files) {
            file_entry(t, p, call);
            return;
        }
        break; // an image from before the seize (the root's fork, a hand-off): the shim, if any, reports it
    }
    resume(t);
}

void Tracer::State::file_entry(Task& t, Proc& p, const SyscallCall& decoded)
{
    PendingCall pc;
    pc.call = decoded;
    SyscallCall& call = pc.call;
    bool cut = false;
    if (call.path) {
        read_string(t.tid, call.path, ROAR_MAX_PATH_BYTES - 1, pc.path, cut);
    }
    if (call.path2) {
        read_string(t.tid, call.path2, ROAR_MAX_PATH_BYTES - 1, pc.path2, cut);
    }
    if (call.open_how) {
        uint64_t how[2] = {0, 0}; // struct open_how: flags, mode, resolve
        if (read_bytes(t.tid, call.open_how, how, sizeof how)) {
            apply_open_flags(call, int64_t(how[0]), uint32_t(how[1]));
        }
    }
    learn_fds_for(t, p, call);
    if (call.kind == SyscallKind::close) {
        // Published before the fds are released, as the shim does.
        check_watched(t, p, call.fd, call.fd2, false);
        publish(t, ROAR_OP_CLOSE, call.fd, call.fd2, 0, 0, 0);
        // The fds the collector knew are closing, not closed, until a call
        // names them again (FdTable::closing).
        auto close_known = [&p](int fd) {
            if (p.fds->known.erase(fd)) {
                p.fds->closing[fd].clear();
            }
        };
        if (call.fd2 - call.fd < 4096) {
            for (int fd = call.fd; fd <= call.fd2 && fd >= 0; ++fd) {
                p.written_fds.erase(fd);
                close_known(fd);
            }
        } else {
            std::erase_if(p.written_fds, [&](int fd) { return fd >= call.fd && fd <= call.fd2; });
            std::vector<int> closed;
            for (const int fd : p.fds->known) {
                if (fd >= call.fd && fd <= call.fd2) {
                    closed.push_back(fd);
                }
            }
            for (const int fd : closed) {
                close_known(fd);
            }
        }
        resume(t);
        return;
    }
    int64_t index = -1;
    switch (call.pre_modify) {
    case PreModify::none: break;
    case PreModify::path:
        if (should_announce(t, p, call.dirfd, pc.path, call.follows_symlinks)) {
            index = publish(t, ROAR_OP_PRE_MODIFY, call.dirfd, -1, call.pre_modify_flags, 0, 0, &pc.path);
        }
        break;
    case PreModify::both_paths:
        if (should_announce(t, p, call.dirfd, pc.path, false)) {
            index = publish(t, ROAR_OP_PRE_MODIFY, call.dirfd, -1, 0, 0, 0, &pc.path);
        }
        [[fallthrough]];
    case PreModify::path2:
        if (should_announce(t, p, call.dirfd2, pc.path2, false)) {
            index = std::max(index, publish(t, ROAR_OP_PRE_MODIFY, call.dirfd2, -1, 0, 0, 0, &pc.path2));
        }
        break;
    case PreModify::fd:
        if (!p.written_fds.count(call.fd)) {
            index = publish(t, ROAR_OP_PRE_MODIFY, call.fd, -1, 0, 0, 0);
        }
        break;
    }
    t.awaiting_exit = call.needs_result;
    t.pending = std::move(pc);
    if (index >= 0) {
        park(t, index);
        return;
    }
    resume(t);
}

void Tracer::State::learn_fds_for(const Task& t, Proc& p, const SyscallCall& call)
{
    switch (call.kind) {
    case SyscallKind::close:
        if (call.fd == call.fd2) {
            learn_fd(t, p, call.fd, true);
        } else {
            learn_fds(t, p, call.fd, call.fd2, true);
        }
        return;
    case SyscallKind::dup:
        learn_fd(t, p, call.fd, true);
        learn_fd(t, p, call.fd2, true); // dup2/dup3 close it first
        return;
    default: break;
    }
    if (call.pre_modify != PreModify::none || call.kind == SyscallKind::rename || call.kind == SyscallKind::unlink
        || call.kind == SyscallKind::link) {
        // The call may change a file this process is reading, or the path
        // an fd names: report its reads first, as they were.
        learn_fds(t, p);
        return;
    }
    learn_fd(t, p, call.dirfd, true);
    learn_fd(t, p, call.dirfd2, true);
    learn_fd(t, p, call.fd, true);
}

bool Tracer::State::should_announce(const Task& t, Proc& p, int dirfd, const std::string& path, bool follow)
{
    if (path.empty() || (path.front() == '/' && is_pseudo_fs(path))) {
        return false;
    }
    // A dirfd may be reused for another directory: only paths that do not
    // depend on one are remembered.
    std::string key;
    if (path.front() == '/') {
        key = path;
    } else if (dirfd == ROAR_AT_FDCWD) {
        key = std::to_string(p.cwd_generation) + '\n' + path;
    }
    if (!key.empty() && p.announced.count(key)) {
        return false;
    }
    if (!path_exists(t.tid, dirfd, path, follow)) {
        return false; // nothing to lose
    }
    if (!key.empty()) {
        if (p.announced.size() >= k_announced_max) {
            p.announced.clear();
        }
        p.announced.insert(std::move(key));
    }
    return true;
}

void Tracer::State::on_syscall_exit(Task& t)
{
    if (!t.awaiting_exit) {
        resume(t);
        return;
    }
    t.awaiting_exit = false;
    __ptrace_syscall_info info{};
    if (ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, reinterpret_cast<void*>(sizeof info), &info) <= 0
        || info.op != PTRACE_SYSCALL_INFO_EXIT) {
        resume(t);
        return;
    }
    const int64_t result = info.exit.rval;
    if (result <= -512 && result >= -516) {
        resume(t); // ERESTART*: the call runs again and stops at its entry again
        return;
    }
    auto proc = procs.find(t.pid);
    if (proc != procs.end()) {
        publish_result(t, proc->second, t.pending, result);
    }
    t.pending = PendingCall{};
    resume(t);
}

void Tracer::State::publish_result(Task& t, Proc& p, const PendingCall& pc, int64_t result)
{
    const SyscallCall& c = pc.call;
    const std::string* s1 = c.path && !c.anonymous ? &pc.path : nullptr;
    const std::string* s2 = c.path2 ? &pc.path2 : nullptr;
    const int flags = int(c.flags);
    switch (c.kind) {
    case SyscallKind::open:
        publish(t, ROAR_OP_OPEN, c.dirfd, -1, flags, c.mode, result, s1);
        if (result >= 0) {
            know_fd(p, int(result));
            p.written_fds.erase(int(result));
            p.watched.erase(int(result));
            // Writes are not stopped on: a write-capable fd that did not
            // truncate (which counts as writing) is checked for changes. In
            // a shim image too: its hooks see libc's writes and copies, not
            // raw ones (complete mode).
            if (open_can_write(c.flags) && !(c.flags & (O_TRUNC | O_DIRECTORY)) && s1) {
                watch_fd(t, p, int(result), pc.path, (c.flags & O_ACCMODE) == O_WRONLY && !(c.flags & O_APPEND));
            }
        }
        break;
    case SyscallKind::dup:
        publish(t, ROAR_OP_DUP, c.fd, -1, 0, 0, result);
        if (result >= 0) {
            know_fd(p, int(result)); // its source was learnt at the entry
            if (p.written_fds.count(c.fd)) {
                p.written_fds.insert(int(result));
            } else {
                p.written_fds.erase(int(result));
            }
            if (auto w = p.watched.find(c.fd); w != p.watched.end()) {
                WatchedFd copy = w->second;
                p.watched[int(result)] = std::move(copy);
            } else {
                p.watched.erase(int(result));
            }
        }
        break;
    case SyscallKind::chdir:
        publish(t, ROAR_OP_CHDIR, c.path ? ROAR_AT_FDCWD : c.fd, -1, 0, 0, result, s1);
        if (result == 0) {
            ++p.cwd_generation;
        }
        break;
    case SyscallKind::rename:
    case SyscallKind::link: publish(t, c.op, c.dirfd, c.dirfd2, flags, 0, result, s1, s2); break;
    case SyscallKind::symlink: publish(t, ROAR_OP_SYMLINK, -1, c.dirfd2, 0, 0, result, s1, s2); break;
    case SyscallKind::unlink: publish(t, ROAR_OP_UNLINK, c.dirfd, -1, flags, 0, result, s1); break;
    case SyscallKind::mkdir: publish(t, ROAR_OP_MKDIR, c.dirfd, -1, 0, c.mode, result, s1); break;
    case SyscallKind::truncate:
        publish(t, ROAR_OP_TRUNCATE, c.path ? c.dirfd : c.fd, -1, 0, 0, result, s1);
        if (!c.path) {
            p.written_fds.insert(c.fd);
        }
        break;
    case SyscallKind::exec:
        if (result < 0) {
            publish(t, ROAR_OP_EXEC_FAILED, c.dirfd, -1, 0, 0, result);
        }
        break;
    default: break;
    }
}

void Tracer::State::route_note_once(const Task& t, Proc& p, const std::string& text)
{
    if (p.route_noted.size() < k_announced_max && p.route_noted.insert(text).second) {
        publish(t, ROAR_OP_NOTE, -1, -1, ROAR_NOTE_NETWORK, 0, 0, &text);
    }
}

void Tracer::State::note_unidentified(const Task& t, Proc& p, int fd, const Destination& dest)
{
    // A traced program resolves host names itself (Go's resolver, a static
    // libc's), so an S3 endpoint it reached by a name the tracer never saw
    // matches no rule: say so once per destination instead of missing its
    // traffic silently. DNS (port 53), the job's own proxy and sockets that
    // are not TCP over IP are left out.
    if (dest.port == 53
        || (dest.port == routing.proxy.port
            && (routing.proxy.kind == ROAR_S3_IP4 ? dest.addr_len == 4 : dest.addr_len == 16)
            && std::memcmp(dest.addr, routing.proxy.addr, dest.addr_len) == 0)) {
        return;
    }
    const int sock = tracee_fd(t.pid, t.tid, fd);
    if (sock < 0) {
        return;
    }
    const int domain = tcp_over_ip(sock);
    close(sock);
    if (domain == 0) {
        return;
    }
    char ip[INET6_ADDRSTRLEN] = "";
    inet_ntop(dest.addr_len == 4 ? AF_INET : AF_INET6, dest.addr, ip, sizeof ip);
    const std::string where =
        dest.addr_len == 4 ? fmt::format("{}:{}", ip, dest.port) : fmt::format("[{}]:{}", ip, dest.port);
    route_note_once(t, p,
                    fmt::format("TCP connection to {} not identified as S3 (the program resolves host names "
                                "itself): if it is an S3 endpoint, list it in proxy.s3_hosts",
                                where));
}

void Tracer::State::route_connect(const Task& t, Proc& p, const SyscallCall& call)
{
    // A shim image routes its own connects (its hook runs before the
    // syscall): only the images the tracer owns are routed here.
    if (!routing.on || !p.owned || call.fd < 0 || call.mode == 0) {
        return;
    }
    unsigned char sa[sizeof(sockaddr_storage)];
    const size_t len = std::min<size_t>(call.mode, sizeof sa);
    if (!read_bytes(t.tid, call.path, sa, len)) {
        return; // the kernel answers EFAULT
    }
    const auto dest = destination_of(sa, len);
    if (!dest) {
        return;
    }
    const RouteDecision decision = decide_route(routing, *dest);
    if (decision.verdict == ROAR_S3_NO_MATCH) {
        note_unidentified(t, p, call.fd, *dest);
        return;
    }
    if (decision.verdict == ROAR_S3_TLS && !routing.tls) {
        route_note_once(t, p,
                        route_note(*dest, decision, "S3 over TLS to ", " not observed: enable proxy.intercept_tls"));
        return;
    }
    const int sock = tracee_fd(t.pid, t.tid, call.fd);
    if (sock < 0) {
        if (errno != EBADF) {
            route_note_once(t, p,
                            route_note(*dest, decision, "S3 connection to ",
                                       fmt::format(" not observed: the tracer cannot reach the socket ({})",
                                                   std::strerror(errno))));
        }
        return; // a bad fd: the kernel answers EBADF
    }
    const int domain = tcp_over_ip(sock);
    if (domain == 0) {
        close(sock);
        return; // UDP, or a sockaddr that does not fit the socket: untouched
    }
    const RedirectResult r = redirect_socket(sock, domain, routing, *dest, decision, uint32_t(t.pid));
    struct stat st { };
    const bool known = fstat(sock, &st) == 0;
    close(sock);
    if (r.outcome == RedirectOutcome::unreachable) {
        route_note_once(
            t, p, route_note(*dest, decision, "S3 connection to ", " not observed: the job's proxy did not accept it"));
        return; // the tracee's connect goes where it asked
    }
    if (r.outcome == RedirectOutcome::redirected && known) {
        if (p.redirects.size() >= k_redirects_max) {
            p.redirects.clear();
        }
        p.redirects[uint64_t(st.st_ino)] = std::vector<unsigned char>(sa, sa + len);
    }
    skip_syscall(t.tid, r.result);
}

void Tracer::State::route_getpeername(const Task& t, Proc& p, const SyscallCall& call)
{
    // A redirected socket's peer is the proxy: answer the original
    // destination instead, as the shim's getpeername does.
    if (p.redirects.empty() || call.fd < 0 || call.path == 0 || call.argv == 0) {
        return;
    }
    struct stat st { };
    if (!stat_fd(t.tid, call.fd, st) || !S_ISSOCK(st.st_mode)) {
        return;
    }
    const auto it = p.redirects.find(uint64_t(st.st_ino));
    if (it == p.redirects.end()) {
        return;
    }
    int32_t cap = 0;
    if (!read_bytes(t.tid, call.argv, &cap, sizeof cap) || cap < 0) {
        return; // the kernel answers EFAULT or EINVAL
    }
    const std::vector<unsigned char>& orig = it->second;
    const int32_t full = int32_t(orig.size());
    const size_t n = std::min<size_t>(size_t(cap), orig.size());
    if ((n > 0 && !write_bytes(t.tid, call.path, orig.data(), n))
        || !write_bytes(t.tid, call.argv, &full, sizeof full)) {
        return;
    }
    skip_syscall(t.tid, 0);
}

int64_t Tracer::State::publish(const Task& t, uint16_t op, int fd, int fd2, int flags, uint32_t mode, int64_t result,
                               const std::string* s1, const std::string* s2, const std::string* s3)
{
    roar_event ev{};
    ev.op = op;
    ev.pid = uint32_t(t.pid);
    ev.tid = uint32_t(t.tid);
    ev.fd = fd;
    ev.fd2 = fd2;
    ev.flags = flags;
    ev.mode = mode;
    ev.result = result;
    ev.time_ns = roar_clock_ns(CLOCK_REALTIME);
    auto str = [](const std::string* s) {
        return s ? roar_str{s->c_str(), uint32_t(std::min<size_t>(s->size(), UINT32_MAX - 1))} : roar_str{nullptr, 0};
    };
    return roar_ring_publish(&ring, &ev, str(s1), str(s2), str(s3));
}

} // namespace roar::collector

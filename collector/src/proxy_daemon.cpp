// The standalone proxy daemon's recorder (see proxy_daemon.hpp): client
// jobs kept as journals while open, replayed through a JobTracker when
// closed, and the daemon's loop around the ring and its roar-proxy.
//
// A journal is "roar-proxy-journal 1\n", a 4-byte length and the job's
// opening record as JSON (recovery.hpp's form: uid, argv, cwd, host,
// user), then the events as they came: each one its 64-byte roar_event
// header followed by its strings, NUL-terminated, as the header's lengths
// say. A record cut short by a kill ends the journal.
#include "roar/collector/proxy_daemon.hpp"

#include "roar/collector/job_session.hpp"
#include "roar/collector/job_tracker.hpp"
#include "roar/collector/store/records.hpp"
#include "roar/collector/store/recovery.hpp"
#include "roar/collector/store/step_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

constexpr std::string_view k_journal_magic = "roar-proxy-journal 1\n";
// How long after a client has exited its job stays open: the proxy
// publishes a call's event once the exchange is over, which can be just
// after the client got its answer and exited.
constexpr auto k_exit_grace = std::chrono::seconds(1);

volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int number) { g_stop_signal = number; }

bool is_s3_event(std::uint16_t op) { return op >= ROAR_OP_S3_GET && op <= ROAR_OP_S3_PART_COPY; }

std::string read_small_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string read_link(const std::string& path)
{
    char buf[4096];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The start time (field 22 of /proc/PID/stat) and parent of `pid`; a zero
// start time when the process is gone or unreadable.
std::pair<std::uint64_t, std::uint32_t> process_start(std::uint32_t pid)
{
    const std::string stat = read_small_file(fmt::format("/proc/{}/stat", pid));
    const std::size_t paren = stat.rfind(')'); // the command name may hold spaces and parentheses
    if (paren == std::string::npos) {
        return {0, 0};
    }
    // After ") ": state, ppid (field 4), ..., starttime (field 22).
    std::string_view rest = std::string_view(stat).substr(paren + 1);
    std::uint64_t fields[20] = {};
    for (int field = 3; field <= 22; ++field) {
        while (!rest.empty() && rest.front() == ' ') {
            rest.remove_prefix(1);
        }
        const std::size_t end = std::min(rest.find(' '), rest.size());
        if (field >= 4) {
            std::from_chars(rest.data(), rest.data() + end, fields[field - 3]);
        }
        rest.remove_prefix(end);
    }
    return {fields[19], static_cast<std::uint32_t>(fields[1])};
}

bool process_gone(std::uint32_t pid, std::uint64_t start_ticks)
{
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        return true;
    }
    return start_ticks != 0 && process_start(pid).first != start_ticks;
}

void append_string(std::string& out, std::string_view s, bool present, std::uint32_t& len)
{
    len = present ? static_cast<std::uint32_t>(s.size() + 1) : 0;
    if (present) {
        out.append(s);
        out.push_back('\0');
    }
}

// `event` as a journal record.
std::string journal_record(const RawEvent& event)
{
    roar_event header = event.header;
    std::string strings;
    append_string(strings, event.s1, event.has_s1, header.len1);
    append_string(strings, event.s2, event.has_s2, header.len2);
    append_string(strings, event.s3, event.has_s3, header.len3);
    std::string out(reinterpret_cast<const char*>(&header), sizeof header);
    return out + strings;
}

bool write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// The PROC_START a journal opens with: the client process as /proc shows
// it now (exe, cwd, argv), so the replayed job has it as its process.
std::string client_process_record(std::uint32_t pid, std::uint32_t ppid, const std::string& exe, const std::string& cwd,
                                  const std::vector<std::string>& argv)
{
    std::string packed;
    for (const auto& arg : argv) {
        packed += arg;
        packed.push_back('\0');
    }
    if (!packed.empty()) {
        packed.pop_back();
    }
    RawEvent start{};
    start.header.op = ROAR_OP_PROC_START;
    start.header.pid = pid;
    start.header.tid = pid;
    start.header.fd = static_cast<std::int32_t>(ppid);
    start.header.time_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    start.s1 = exe;
    start.s2 = cwd;
    start.s3 = packed;
    start.has_s1 = start.has_s2 = start.has_s3 = true;
    return journal_record(start);
}

} // namespace

ClientJobs::ClientJobs(ClientJobOptions options, StoreClientJob store)
    : m_options(std::move(options)), m_store(std::move(store))
{
    std::error_code ec;
    fs::create_directories(m_options.journal_dir, ec);
}

ClientJobs::~ClientJobs()
{
    for (auto& [pid, job] : m_open) {
        ::close(job.fd); // the journal stays: the next start or stop stores it
    }
}

void ClientJobs::open_job(std::uint32_t pid, std::uint64_t start_ticks)
{
    const std::string base = fmt::format("/proc/{}", pid);
    std::vector<std::string> argv;
    const std::string cmdline = pid == m_proxy_pid ? std::string() : read_small_file(base + "/cmdline");
    if (!cmdline.empty()) {
        argv = split_argv(std::string_view(cmdline).substr(0, cmdline.size() - (cmdline.back() == '\0' ? 1 : 0)));
    }
    std::string exe = pid == m_proxy_pid ? std::string() : read_link(base + "/exe");
    std::string cwd = pid == m_proxy_pid ? std::string() : read_link(base + "/cwd");
    if (argv.empty()) {
        argv = {pid == m_proxy_pid ? std::string("S3 client (process unknown)") : fmt::format("S3 client pid {}", pid)};
    }
    if (exe.empty()) {
        exe = argv.front();
    }
    if (cwd.empty()) {
        cwd = "/";
    }
    JobRecord opening = new_job_record(argv, cwd);
    OpenJob job;
    job.journal = m_options.journal_dir / (opening.uid + ".journal");
    job.start_ticks = start_ticks;
    job.last_event = std::chrono::steady_clock::now();
    job.fd = ::open(job.journal.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (job.fd < 0) {
        std::cerr << fmt::format("roar: cannot create the journal {}: {}; the S3 calls of pid {} are not recorded\n",
                                 job.journal.string(), std::strerror(errno), pid);
        return;
    }
    const std::string meta = job_record_json(opening).dump();
    const auto meta_size = static_cast<std::uint32_t>(meta.size());
    std::string head(k_journal_magic);
    head.append(reinterpret_cast<const char*>(&meta_size), sizeof meta_size);
    head += meta;
    head += client_process_record(pid, process_start(pid).second, exe, cwd, argv);
    write_all(job.fd, head);
    m_open[pid] = std::move(job);
}

void ClientJobs::on_event(const RawEvent& event)
{
    if (!is_s3_event(event.header.op)) {
        return;
    }
    const std::uint32_t pid = event.header.pid;
    auto it = m_open.find(pid);
    if (it != m_open.end() && it->second.start_ticks != 0) {
        const auto now_ticks = process_start(pid).first;
        if (now_ticks != 0 && now_ticks != it->second.start_ticks) {
            close_job(pid); // the pid was reused: another client
            it = m_open.end();
        }
    }
    if (it == m_open.end()) {
        open_job(pid, process_start(pid).first);
        it = m_open.find(pid);
        if (it == m_open.end()) {
            return;
        }
    }
    it->second.last_event = std::chrono::steady_clock::now();
    if (!write_all(it->second.fd, journal_record(event))) {
        std::cerr << fmt::format("roar: cannot append to {}: {}\n", it->second.journal.string(), std::strerror(errno));
    }
}

bool ClientJobs::close_job(std::uint32_t pid)
{
    auto it = m_open.find(pid);
    if (it == m_open.end()) {
        return false;
    }
    OpenJob job = std::move(it->second);
    m_open.erase(it);
    ::close(job.fd);
    auto record = client_job_from_journal(job.journal);
    if (!record) {
        std::cerr << "roar: " << record.error().message << "\n";
        return false;
    }
    if (!m_store(*record)) {
        return false; // the journal stays for the next start or stop
    }
    std::error_code ec;
    fs::remove(job.journal, ec);
    return true;
}

std::size_t ClientJobs::close_finished(std::chrono::steady_clock::time_point now)
{
    std::vector<std::uint32_t> done;
    for (auto& [pid, job] : m_open) {
        if (now - job.last_event >= m_options.idle) {
            done.push_back(pid);
        } else if (!job.exited_at) {
            if (process_gone(pid, job.start_ticks)) {
                job.exited_at = now;
            }
        } else if (now - *job.exited_at >= k_exit_grace) {
            done.push_back(pid);
        }
    }
    std::size_t stored = 0;
    for (const auto pid : done) {
        stored += close_job(pid) ? 1 : 0;
    }
    return stored;
}

std::size_t ClientJobs::close_all()
{
    std::size_t stored = 0;
    while (!m_open.empty()) {
        stored += close_job(m_open.begin()->first) ? 1 : 0;
    }
    return stored;
}

Result<JobRecord> client_job_from_journal(const fs::path& journal)
{
    const std::string bytes = read_small_file(journal.string());
    std::string_view rest(bytes);
    std::uint32_t meta_size = 0;
    if (!rest.starts_with(k_journal_magic) || rest.size() < k_journal_magic.size() + sizeof meta_size) {
        return fail("{} is not a proxy daemon journal", journal.string());
    }
    rest.remove_prefix(k_journal_magic.size());
    std::memcpy(&meta_size, rest.data(), sizeof meta_size);
    rest.remove_prefix(sizeof meta_size);
    if (rest.size() < meta_size) {
        return fail("{} is cut short before its job's record", journal.string());
    }
    const auto meta = nlohmann::json::parse(rest.substr(0, meta_size), nullptr, false);
    rest.remove_prefix(meta_size);
    if (meta.is_discarded()) {
        return fail("{}: its job's record is not JSON", journal.string());
    }
    auto opened = job_record_from_json(meta);
    if (!opened) {
        return tl::unexpected(opened.error());
    }
    JobRecord job = std::move(*opened);
    JobTracker tracker(job.cwd, PathFilter({}, {}), [](const std::string& path) -> Result<FileDigest> {
        return fail("{} is not hashed: the proxy daemon records S3 calls only", path);
    });
    std::uint64_t first_ns = 0, last_ns = 0;
    while (rest.size() >= sizeof(roar_event)) {
        RawEvent event{};
        std::memcpy(&event.header, rest.data(), sizeof(roar_event));
        const roar_event& h = event.header;
        const std::uint64_t strings = std::uint64_t(h.len1) + h.len2 + h.len3;
        if (rest.size() - sizeof(roar_event) < strings) {
            break; // the daemon was killed while writing this record
        }
        std::string_view s = rest.substr(sizeof(roar_event), strings);
        auto take = [&s](std::uint32_t len, std::string_view& out, bool& has) {
            if (len > 0) {
                out = s.substr(0, len - 1);
                has = true;
                s.remove_prefix(len);
            }
        };
        take(h.len1, event.s1, event.has_s1);
        take(h.len2, event.s2, event.has_s2);
        take(h.len3, event.s3, event.has_s3);
        rest.remove_prefix(sizeof(roar_event) + strings);
        if (is_s3_event(h.op)) {
            first_ns = first_ns == 0 ? h.time_ns : first_ns;
            last_ns = h.time_ns;
        }
        tracker.on_event(event);
    }
    tracker.finish(job);
    for (auto& process : job.processes) {
        process.tracer = k_job_kind_proxy; // what tells readers the job's kind (records.hpp)
        process.notes = {"its S3 calls through the proxy daemon are recorded; its files and exit status are not"};
    }
    if (first_ns != 0) {
        job.started_at = double(first_ns) / 1e9;
        job.ended_at = double(last_ns) / 1e9;
    } else {
        job.ended_at = job.started_at;
    }
    job.notes.push_back("recorded by the standalone proxy daemon ('roar proxy start'): this process's S3 calls "
                        "through it, not its files");
    return job;
}

std::size_t store_left_client_jobs(const fs::path& journal_dir, const StoreClientJob& store)
{
    std::vector<fs::path> journals;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(journal_dir, ec)) {
        if (entry.path().extension() == ".journal") {
            journals.push_back(entry.path());
        }
    }
    std::sort(journals.begin(), journals.end());
    std::size_t stored = 0;
    for (const auto& journal : journals) {
        auto job = client_job_from_journal(journal);
        if (!job) {
            std::cerr << "roar: " << job.error().message << "\n";
            continue;
        }
        if (store(*job)) {
            fs::remove(journal, ec);
            ++stored;
        }
    }
    return stored;
}

int run_proxy_daemon(const ProxyDaemonOptions& options, const StoreClientJob& store,
                     const std::function<void(const proxy_control::ProxyProcess&)>& ready)
{
    auto ring = EventRing::create(ring_name_for_job(new_job_record({}, "").uid), options.ring_bytes, 10000);
    if (!ring) {
        std::cerr << "roar: " << ring.error().message << "\n";
        return 1;
    }
    struct sigaction action { };
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    for (const int number : {SIGTERM, SIGINT, SIGHUP}) {
        ::sigaction(number, &action, nullptr);
    }
    proxy_control::StartOptions proxy_options = options.proxy;
    proxy_options.ring = ring->name();
    proxy_options.peer_pids = true;
    auto started = proxy_control::ProxyChild::start(proxy_options);
    if (auto* err = std::get_if<std::string>(&started)) {
        std::cerr << "roar: " << *err << "\n";
        return 1;
    }
    auto& proxy = std::get<proxy_control::ProxyChild>(started);
    ready(proxy_control::ProxyProcess{proxy.pid(), proxy.port()});

    ClientJobs jobs(options.jobs, store);
    jobs.set_proxy_pid(static_cast<std::uint32_t>(proxy.pid()));
    const auto sink = [&jobs](const RawEvent& event) { jobs.on_event(event); };
    bool proxy_ended = false;
    while (g_stop_signal == 0) {
        ring->drain(sink);
        jobs.close_finished(std::chrono::steady_clock::now());
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(proxy.pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0
            && info.si_pid != 0) {
            std::cerr << "roar: roar-proxy (pid " << proxy.pid() << ") ended; the daemon stops\n";
            proxy_ended = true;
            break;
        }
        ring->wait(options.jobs.exit_check);
    }
    proxy.stop(std::chrono::seconds(10)); // it publishes its last events before it exits
    ring->drain(sink, true);
    jobs.close_all();
    return proxy_ended ? 1 : 0;
}

std::variant<proxy_control::ProxyProcess, std::string> start_proxy_daemon(const std::string& roar_dir,
                                                                          const ProxyDaemonOptions& options,
                                                                          const StoreClientJob& store)
{
    if (const auto st = proxy_control::daemon_status(roar_dir); st.running) {
        return fmt::format("a proxy daemon is already running (pid={}, port={}); stop it first with 'roar proxy stop'",
                           st.pid, st.port);
    }
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
        return fmt::format("cannot create a pipe for the proxy daemon: {}", std::strerror(errno));
    }
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(ready[0]);
        ::close(ready[1]);
        return fmt::format("cannot fork the proxy daemon: {}", std::strerror(errno));
    }
    if (pid == 0) {
        ::close(ready[0]);
        ::setsid();
        ::prctl(PR_SET_NAME, "roar-proxyd");
        const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int log = ::open(options.proxy.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        ::dup2(devnull, 0);
        ::dup2(log >= 0 ? log : devnull, 1);
        ::dup2(log >= 0 ? log : devnull, 2);
        const std::string pid_file = roar_dir + "/proxy.pid";
        const std::string port_file = roar_dir + "/proxy.port";
        const std::string own_pid = std::to_string(::getpid());
        int code = 1;
        try {
            code = run_proxy_daemon(options, store, [&](const proxy_control::ProxyProcess& proxy) {
                std::ofstream(pid_file) << own_pid << "\n";
                std::ofstream(port_file) << proxy.port << "\n";
                const std::string line = std::to_string(proxy.port) + "\n";
                write_all(ready[1], line);
                ::close(ready[1]);
            });
        } catch (const std::exception& e) {
            // Never back into the command that forked us.
            std::cerr << "roar: the proxy daemon failed: " << e.what() << "\n";
        }
        std::string in_file;
        std::ifstream(pid_file) >> in_file;
        if (in_file == own_pid) {
            ::unlink(pid_file.c_str());
            ::unlink(port_file.c_str());
        }
        std::cout.flush();
        std::cerr.flush();
        std::_Exit(code);
    }
    ::close(ready[1]);
    // The daemon's proxy has its own ready timeout; creating the ring comes first.
    const auto port = proxy_control::read_ready_port(ready[0], options.proxy.ready_timeout + std::chrono::seconds(5));
    ::close(ready[0]);
    if (!port) {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
        return fmt::format("the proxy daemon did not start; see {}", options.proxy.log_file);
    }
    return proxy_control::ProxyProcess{pid, *port};
}

} // namespace roar::collector

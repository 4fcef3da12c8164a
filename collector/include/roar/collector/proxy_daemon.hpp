// The standalone proxy daemon's recorder (`roar proxy start`): it owns
// the daemon's event ring and its roar-proxy child, drains the ring, and
// makes one job per client process (the pid the proxy found holding the
// client's socket) out of that process's S3 calls. A client's job is
// closed and stored when the process has exited or has been idle for a
// while, and every open job is stored when the daemon stops (SIGTERM,
// SIGINT, or its proxy exiting). Until then each open job lives in a
// journal file, appended as its events are drained, so a daemon killed
// with SIGKILL loses only what was still in the ring: the next
// `roar proxy start` or `roar proxy stop` stores what the journals hold.
#pragma once

#include "roar/collector/event_ring.hpp"
#include "roar/collector/job_record.hpp"
#include "roar/collector/proxy_control.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace roar::collector {

// Stores one finished client job; true once it is stored or saved where
// it will be (a recovery file), so its journal can go.
using StoreClientJob = std::function<bool(const JobRecord& job)>;

struct ClientJobOptions {
    std::filesystem::path journal_dir;         // open jobs' journals (.roar/proxy-daemon)
    std::chrono::seconds idle{60};             // a client quiet this long has its job closed
    std::chrono::milliseconds exit_check{250}; // how often clients are checked for having exited
};

// The daemon's open jobs, one per client process.
class ClientJobs {
public:
    // Journals in `options.journal_dir` (created when missing); finished
    // jobs go to `store`.
    ClientJobs(ClientJobOptions options, StoreClientJob store);
    ~ClientJobs();
    ClientJobs(const ClientJobs&) = delete;
    ClientJobs& operator=(const ClientJobs&) = delete;

    // The ring sink: appends S3 event `event` to its client's journal,
    // opening a job for a client not seen before (or whose pid now names
    // another process). Other events are ignored.
    void on_event(const RawEvent& event);

    // Closes and stores the jobs whose process has exited or that have
    // been idle for `options.idle` at `now`; returns how many were stored.
    std::size_t close_finished(std::chrono::steady_clock::time_point now);

    // Closes and stores every open job; returns how many were stored.
    std::size_t close_all();

    std::size_t open_jobs() const { return m_open.size(); }

    // The pid the proxy gives a call whose client it could not tell (its
    // own): such calls go to a job named "S3 client (process unknown)".
    void set_proxy_pid(std::uint32_t pid) { m_proxy_pid = pid; }

private:
    struct OpenJob {
        std::filesystem::path journal;
        int fd = -1;
        std::uint64_t start_ticks = 0; // /proc/PID/stat's start time: a reused pid is another client
        std::chrono::steady_clock::time_point last_event;
        std::optional<std::chrono::steady_clock::time_point> exited_at;
    };
    void open_job(std::uint32_t pid, std::uint64_t start_ticks);
    bool close_job(std::uint32_t pid);

    ClientJobOptions m_options;
    StoreClientJob m_store;
    std::map<std::uint32_t, OpenJob> m_open;
    std::uint32_t m_proxy_pid = 0;
};

// Replays the journal `journal` into the job it records (the client's
// process, its S3 inputs and outputs with their pid, its times); an error
// when the file is not a journal.
Result<JobRecord> client_job_from_journal(const std::filesystem::path& journal);

// Stores the jobs whose journals a killed daemon left in `journal_dir`
// through `store`, removing each journal once stored; returns how many
// were stored.
std::size_t store_left_client_jobs(const std::filesystem::path& journal_dir, const StoreClientJob& store);

struct ProxyDaemonOptions {
    proxy_control::StartOptions proxy; // binary, port, upstream, log file (ring and peer pids are the daemon's)
    ClientJobOptions jobs;
    std::uint64_t ring_bytes = 16ull << 20;
};

// Runs the daemon: creates its ring, starts roar-proxy on it, calls
// `ready` with the proxy's pid and port once it listens, then records
// client jobs through `store` until SIGTERM, SIGINT or SIGHUP arrives or
// the proxy exits; stops the proxy (which publishes its last events),
// drains the ring and stores every open job. Returns 0 after a stop by
// signal, 1 when the proxy ended by itself or could not start (`ready` is
// then not called and the message is on stderr).
int run_proxy_daemon(const ProxyDaemonOptions& options, const StoreClientJob& store,
                     const std::function<void(const proxy_control::ProxyProcess&)>& ready);

// Starts run_proxy_daemon() as the project's daemon in the background: a
// forked copy of this process (named roar-proxyd, in its own session,
// stdout and stderr appended to `options.proxy.log_file`) that writes its
// own pid to `roar_dir`/proxy.pid and the port to proxy.port once the
// proxy listens, and removes them when it ends. Returns the daemon's pid
// and port, or why it did not start (one is running already, or the proxy
// did not come up). Call it with no other thread running.
std::variant<proxy_control::ProxyProcess, std::string> start_proxy_daemon(const std::string& roar_dir,
                                                                          const ProxyDaemonOptions& options,
                                                                          const StoreClientJob& store);

} // namespace roar::collector

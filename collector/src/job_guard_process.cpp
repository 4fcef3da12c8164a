// The job guard's own process (job_guard_process.hpp): from its start to
// _exit it calls only async-signal-safe functions and raw system calls (no
// heap, no stdio, no locks), since it may run in a child forked from a
// process that has threads. It finds the job's processes by their initial
// environment (/proc/PID/environ), which every process of the job inherits
// from its root and the shim keeps across exec.
#include "job_guard_process.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <initializer_list>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace roar::collector {

namespace {

// Matches one entry of a NUL-separated block fed in pieces.
struct EntryMatcher {
    const char* marker;
    size_t length;
    size_t matched = 0;
    bool alive = true; // the current entry still equals the marker's prefix

    // True once a whole entry equal to the marker has been seen.
    bool feed(const char* data, size_t size)
    {
        for (size_t i = 0; i < size; ++i) {
            const char c = data[i];
            if (c == '\0') {
                if (alive && matched == length) {
                    return true;
                }
                matched = 0;
                alive = true;
            } else if (alive) {
                if (matched < length && marker[matched] == c) {
                    ++matched;
                } else {
                    alive = false;
                }
            }
        }
        return false;
    }

    // A block may end without a final NUL.
    bool finish() const { return alive && matched == length; }
};

// Writes the decimal form of `n` after `prefix` and `suffix` into `out`.
void proc_path(char* out, long n, const char* suffix)
{
    char digits[24];
    int d = 0;
    do {
        digits[d++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n > 0);
    const char prefix[] = "/proc/";
    size_t at = 0;
    for (const char* p = prefix; *p != '\0'; ++p) {
        out[at++] = *p;
    }
    while (d > 0) {
        out[at++] = digits[--d];
    }
    for (const char* p = suffix; *p != '\0'; ++p) {
        out[at++] = *p;
    }
    out[at] = '\0';
}

bool process_carries(long pid, const char* marker, size_t length)
{
    char path[64];
    proc_path(path, pid, "/environ");
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false; // gone, or not ours to read
    }
    EntryMatcher matcher{marker, length};
    char buf[4096];
    bool found = false;
    for (;;) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            found = n == 0 && matcher.finish();
            break;
        }
        if (matcher.feed(buf, static_cast<size_t>(n))) {
            found = true;
            break;
        }
    }
    close(fd);
    return found;
}

struct LinuxDirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

// Sends `sig` to every live process carrying the marker; how many.
int signal_job(int sig, const char* marker, size_t length)
{
    const int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        return 0;
    }
    const long self = getpid();
    int sent = 0;
    alignas(8) char buf[16384];
    for (;;) {
        const long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        for (long at = 0; at < n;) {
            const auto* entry = reinterpret_cast<const LinuxDirent64*>(buf + at);
            at += entry->d_reclen;
            long pid = 0;
            const char* p = entry->d_name;
            for (; *p >= '0' && *p <= '9' && pid < (1L << 40); ++p) {
                pid = pid * 10 + (*p - '0');
            }
            if (*p != '\0' || pid <= 1 || pid == self) {
                continue;
            }
            if (process_carries(pid, marker, length) && kill(static_cast<pid_t>(pid), sig) == 0) {
                ++sent;
            }
        }
    }
    close(dir);
    return sent;
}

void pause_ms(long ms)
{
    timespec t{ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

// SIGTERM first; whatever is left after 2 s (or forks meanwhile) gets
// SIGKILL until a scan finds no process of the job, for at most 10 s more.
[[noreturn]] void end_job(const char* marker, size_t length)
{
    if (signal_job(SIGTERM, marker, length) == 0) {
        _exit(0);
    }
    for (int i = 0; i < 40; ++i) {
        pause_ms(50);
        if (signal_job(0, marker, length) == 0) {
            _exit(0);
        }
    }
    for (int i = 0; i < 200; ++i) {
        if (signal_job(SIGKILL, marker, length) == 0) {
            _exit(0);
        }
        pause_ms(50);
    }
    _exit(1);
}

} // namespace

[[noreturn]] void run_job_guard(int fd, const char* marker, size_t length)
{
    // Terminal signals go to the job (and roar run); a SIGTERM meant for
    // the process group must not take the guard with it.
    struct sigaction ignore { };
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    for (const int sig : {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) {
        sigaction(sig, &ignore, nullptr);
    }
    struct sigaction dfl { };
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    prctl(PR_SET_NAME, "roar-guard", 0, 0, 0);
    // Hold nothing of roar run's: not its terminal, pipes or database.
    if (fd != 3) {
        dup2(fd, 3);
    }
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
        for (int i = 4; i < 1024; ++i) {
            close(i);
        }
    }
    [[maybe_unused]] const int at_root = chdir("/");
    char word = 0;
    ssize_t n;
    do {
        n = read(3, &word, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1 && word == 'q') {
        _exit(0); // the job ended and roar run is recording it
    }
    end_job(marker, length); // EOF: roar run is gone
}

bool block_holds(const char* block, size_t size, const char* marker, size_t length)
{
    EntryMatcher matcher{marker, length};
    return matcher.feed(block, size) || matcher.finish();
}

} // namespace roar::collector

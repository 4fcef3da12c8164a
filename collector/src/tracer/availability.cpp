// The availability check (see availability.hpp).
#include "availability.hpp"

#include "roar/collector/syscall_filter.h"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

namespace roar::collector::tracer {

long tracee_options()
{
    // EXITKILL: if roar run dies, its tracees die with it instead of
    // running on under a filter whose stops nobody answers (ENOSYS).
    // TRACEEXIT: a process killed by a signal stops once more before the
    // kernel closes its files, so the reads it never closed are learnt.
    return PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK
           | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
}

std::string check_tracing_permitted(const sock_filter* prog, unsigned len)
{
    if (len == 0) {
        return "the ptrace tracer supports x86_64 only";
    }
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0) {
        return fmt::format("cannot check whether ptrace is permitted: {}", std::strerror(errno));
    }
    const pid_t child = fork();
    if (child < 0) {
        const int err = errno;
        close(gate[0]);
        close(gate[1]);
        return fmt::format("cannot check whether ptrace is permitted: {}", std::strerror(err));
    }
    if (child == 0) {
        close(gate[1]);
        char go = 0;
        while (read(gate[0], &go, 1) < 0 && errno == EINTR) {
        }
        if (go != 1) {
            _exit(0);
        }
        const int r = roar_filter_install(prog, len);
        if (r < 0) {
            _exit(-r);
        }
        syscall(SYS_close, -1); // stops at the tracer
        _exit(0);
    }
    close(gate[0]);
    std::string reason;
    char go = 1;
    if (ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(tracee_options())) != 0) {
        reason = fmt::format("ptrace is not permitted here ({})", std::strerror(errno));
        go = 0;
    }
    [[maybe_unused]] ssize_t sent = write(gate[1], &go, 1);
    close(gate[1]);
    bool stopped_on_filter = false;
    for (;;) {
        int status = 0;
        const pid_t got = waitpid(child, &status, __WALL);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            break;
        }
        if (WIFSTOPPED(status)) {
            if ((status >> 16) == PTRACE_EVENT_SECCOMP) {
                stopped_on_filter = true;
            }
            const int sig = WSTOPSIG(status);
            const bool forward = (status >> 16) == 0 && sig != (SIGTRAP | 0x80);
            ptrace(PTRACE_CONT, child, nullptr, reinterpret_cast<void*>(long(forward ? sig : 0)));
            continue;
        }
        if (go == 1 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
            reason = fmt::format("seccomp filters are not permitted here ({})", std::strerror(WEXITSTATUS(status)));
        } else if (go == 1 && !stopped_on_filter && reason.empty()) {
            reason = "the kernel did not stop the test process on the tracer's seccomp filter";
        }
        break;
    }
    return reason;
}

} // namespace roar::collector::tracer

// run_child (see child_process.hpp): fork, chdir, exec; the output read
// through a pipe until the child closes it.
#include "child_process.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace roar::cli {

namespace {

// Forks and execs `argv` (in `cwd` when given) with its stdout on `out_fd`
// and its stderr on `err_fd` (-1: roar's own); the child's pid, or -1.
pid_t start_child(const std::vector<std::string>& argv, const std::string& cwd, int out_fd, int err_fd)
{
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    if (out_fd >= 0) {
        dup2(out_fd, 1);
    }
    if (err_fd >= 0) {
        dup2(err_fd, 2);
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
        _exit(127);
    }
    execvp(args[0], args.data());
    _exit(127);
}

} // namespace

ChildResult run_child(const std::vector<std::string>& argv, const std::string& cwd, bool capture, bool stdout_to_stderr)
{
    ChildResult result;
    if (argv.empty()) {
        return result;
    }
    int pipe_fds[2] = {-1, -1};
    if (capture && pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return result;
    }
    const pid_t pid = capture ? start_child(argv, cwd, pipe_fds[1], pipe_fds[1])
                              : start_child(argv, cwd, stdout_to_stderr ? 2 : -1, -1);
    if (pid < 0) {
        if (capture) {
            close(pipe_fds[0]);
            close(pipe_fds[1]);
        }
        return result;
    }
    if (capture) {
        close(pipe_fds[1]);
        std::array<char, 8192> buf;
        for (;;) {
            const ssize_t n = read(pipe_fds[0], buf.data(), buf.size());
            if (n > 0) {
                result.out.append(buf.data(), size_t(n));
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
        close(pipe_fds[0]);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return result;
        }
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

ChildResult run_child_keeping_stderr(const std::vector<std::string>& argv, const std::string& cwd,
                                     bool stdout_to_stderr)
{
    constexpr size_t k_kept = 4096;
    ChildResult result;
    int pipe_fds[2] = {-1, -1};
    if (argv.empty() || pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return result;
    }
    const pid_t pid = start_child(argv, cwd, stdout_to_stderr ? pipe_fds[1] : -1, pipe_fds[1]);
    if (pid < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return result;
    }
    close(pipe_fds[1]);
    // Passes on what is in the pipe now (waiting up to `wait_ms` for some);
    // false at its end.
    const auto pass_on = [&](int wait_ms) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0) {
            return true;
        }
        std::array<char, 8192> buf;
        const ssize_t n = read(pipe_fds[0], buf.data(), buf.size());
        if (n <= 0) {
            return n < 0 && errno == EINTR;
        }
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = write(2, buf.data() + done, size_t(n - done));
            if (w <= 0 && errno != EINTR) {
                break;
            }
            done += w > 0 ? w : 0;
        }
        result.out.append(buf.data(), size_t(n));
        if (result.out.size() > k_kept) {
            result.out.erase(0, result.out.size() - k_kept);
        }
        return true;
    };
    int status = 0;
    bool open = true;
    bool reaped = false;
    for (;;) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        reaped = done == pid;
        if (reaped || (done < 0 && errno != EINTR)) {
            break;
        }
        if (open) {
            open = pass_on(100);
        } else {
            poll(nullptr, 0, 50);
        }
    }
    while (open && pass_on(0)) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (poll(&p, 1, 0) <= 0) {
            break; // what is left belongs to processes the child left behind
        }
    }
    close(pipe_fds[0]);
    if (reaped) {
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return result;
}

} // namespace roar::cli

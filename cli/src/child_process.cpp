// run_child (see child_process.hpp): fork, chdir, exec; the output read
// through a pipe until the child closes it.
#include "child_process.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace roar::cli {

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
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        if (capture) {
            close(pipe_fds[0]);
            close(pipe_fds[1]);
        }
        return result;
    }
    if (pid == 0) {
        if (capture) {
            dup2(pipe_fds[1], 1);
            dup2(pipe_fds[1], 2);
        } else if (stdout_to_stderr) {
            dup2(2, 1);
        }
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
            _exit(127);
        }
        execvp(args[0], args.data());
        _exit(127);
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

} // namespace roar::cli

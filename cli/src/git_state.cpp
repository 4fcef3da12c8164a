// git state through the git command itself (porcelain output), so every
// repository layout git understands works.
#include "git_state.hpp"

#include <array>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace roar::cli {

namespace {

// Output of `git -C dir ARGS...`, or nullopt if it failed.
std::optional<std::string> git(const std::string& dir, std::vector<std::string> args)
{
    args.insert(args.begin(), {"git", "-C", dir});
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        return std::nullopt;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    const int rc = posix_spawnp(&pid, "git", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return std::nullopt;
    }
    std::string text;
    std::array<char, 4096> buf;
    ssize_t n;
    while ((n = read(out[0], buf.data(), buf.size())) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            text.append(buf.data(), size_t(n));
        }
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return std::nullopt;
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

} // namespace

std::optional<collector::GitState> read_git_state(const std::string& dir)
{
    auto inside = git(dir, {"rev-parse", "--is-inside-work-tree"});
    if (!inside || *inside != "true") {
        return std::nullopt;
    }
    collector::GitState state;
    state.commit = git(dir, {"rev-parse", "HEAD"}).value_or("");
    state.branch = git(dir, {"rev-parse", "--abbrev-ref", "HEAD"}).value_or("");
    state.remote = git(dir, {"config", "--get", "remote.origin.url"}).value_or("");
    if (auto status = git(dir, {"status", "--porcelain=v1", "-z", "--untracked-files=no"})) {
        size_t pos = 0;
        while (pos < status->size()) {
            size_t end = status->find('\0', pos);
            if (end == std::string::npos) {
                end = status->size();
            }
            const std::string entry = status->substr(pos, end - pos);
            if (entry.size() > 3) {
                state.dirty_files.push_back(entry.substr(3));
                if (entry[0] == 'R' || entry[0] == 'C') {
                    end = status->find('\0', end + 1); // skip the rename source
                    if (end == std::string::npos) {
                        end = status->size();
                    }
                }
            }
            pos = end + 1;
        }
    }
    state.dirty = !state.dirty_files.empty();
    return state;
}

} // namespace roar::cli

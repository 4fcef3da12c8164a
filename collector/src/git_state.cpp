// git state through the git command itself, so every repository layout
// git understands works. Two commands run concurrently before the job
// starts (a few milliseconds): `git status --porcelain=v2 --branch` gives
// the commit, the branch and the modified tracked files; `git config`
// gives the remote. They must finish before the job starts because the
// job's supervisor reaps every child of this process. A directory with no
// `.git` above it (and no GIT_DIR or GIT_WORK_TREE naming one) is outside
// any work tree: git is then not started at all, which saves `roar run`
// two process starts before the job. Only when the tree is dirty does a
// third command, `git diff --binary HEAD`, record the uncommitted changes
// (bounded by k_max_recorded_diff) so `roar reproduce` can re-apply them.
#include "roar/collector/git_state.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <cstdlib>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace roar::collector {

namespace {

struct GitCall {
    pid_t pid = -1;
    int out = -1;
};

// Starts `git -C dir ARGS...` with its stdout on a pipe.
GitCall start_git(const std::string& dir, std::vector<std::string> args)
{
    args.insert(args.begin(), {"git", "-C", dir});
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        return {};
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
        return {};
    }
    return {pid, out[0]};
}

// Collects the output of a started call (at most `limit` bytes of it are
// kept; `total`, when given, receives the whole size); nullopt if it failed.
std::optional<std::string> finish_git(GitCall call, uint64_t limit = UINT64_MAX, uint64_t* total = nullptr,
                                      bool trim = true)
{
    if (call.pid < 0) {
        return std::nullopt;
    }
    std::string text;
    uint64_t seen = 0;
    std::array<char, 8192> buf;
    for (;;) {
        const ssize_t n = read(call.out, buf.data(), buf.size());
        if (n > 0) {
            seen += uint64_t(n);
            if (seen <= limit) {
                text.append(buf.data(), size_t(n));
            }
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    if (total != nullptr) {
        *total = seen;
    }
    close(call.out);
    int status = 0;
    while (waitpid(call.pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return std::nullopt;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return std::nullopt;
    }
    while (trim && !text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

// Records the uncommitted changes of the dirty tree at `dir` into `state`.
void read_git_diff(const std::string& dir, GitState& state)
{
    // No external diff drivers or text conversions: the patch must apply.
    GitCall call = start_git(dir, {"diff", "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD"});
    uint64_t total = 0;
    auto patch = finish_git(call, k_max_recorded_diff, &total, false);
    if (!patch) {
        state.diff_failed = true;
        return;
    }
    state.diff_bytes = total;
    if (total > k_max_recorded_diff) {
        state.diff_too_large = true;
    } else {
        state.diff = std::move(*patch);
    }
}

// Whether git could find a work tree from `dir`: a `.git` (directory, or
// file of a linked work tree or submodule) in `dir` or above, or the
// environment naming the repository. False only when git would say "not a
// git repository" (or the directory is gone). `root` receives the
// directory holding the `.git` found ("" when none was looked for).
bool may_be_in_work_tree(const std::string& dir, std::string& root)
{
    for (const char* name : {"GIT_DIR", "GIT_WORK_TREE"}) {
        if (const char* set = std::getenv(name); set != nullptr && *set != '\0') {
            return true;
        }
    }
    if (dir.empty() || dir.front() != '/') {
        return true; // relative: let git resolve it
    }
    std::string at = dir;
    while (true) {
        while (at.size() > 1 && at.back() == '/') {
            at.pop_back();
        }
        struct stat st;
        if (lstat((at == "/" ? std::string("/.git") : at + "/.git").c_str(), &st) == 0) {
            root = at;
            return true;
        }
        if (at == "/") {
            return false;
        }
        const size_t slash = at.rfind('/');
        at = slash == 0 ? std::string("/") : at.substr(0, slash);
    }
}

} // namespace

std::optional<GitState> read_git_state(const std::string& dir)
{
    std::string root;
    if (!may_be_in_work_tree(dir, root)) {
        return std::nullopt;
    }
    GitCall status_call = start_git(dir, {"status", "--porcelain=v2", "--branch", "-z", "--untracked-files=no"});
    GitCall remote_call = start_git(dir, {"config", "--get", "remote.origin.url"});
    auto status = finish_git(status_call);
    auto remote = finish_git(remote_call);
    if (!status) {
        return std::nullopt; // not a work tree, or no git
    }
    GitState state;
    state.root = root;
    state.remote = remote.value_or("");
    // Entries are NUL-separated; a rename ("2 ...") is followed by its source path.
    size_t pos = 0;
    bool skip_next = false;
    while (pos < status->size()) {
        size_t end = status->find('\0', pos);
        if (end == std::string::npos) {
            end = status->size();
        }
        const std::string entry = status->substr(pos, end - pos);
        pos = end + 1;
        if (skip_next) {
            skip_next = false;
            continue;
        }
        if (entry.rfind("# branch.oid ", 0) == 0) {
            state.commit = entry.substr(13);
            if (state.commit == "(initial)") {
                state.commit.clear();
            }
        } else if (entry.rfind("# branch.head ", 0) == 0) {
            state.branch = entry.substr(14);
        } else if (entry.size() > 2 && (entry[0] == '1' || entry[0] == '2' || entry[0] == 'u')) {
            // "1 XY sub mH mI mW hH hI path": the path is after 8 fields
            // (9 for "2", 10 for "u").
            const int fields = entry[0] == '1' ? 8 : entry[0] == '2' ? 9 : 10;
            size_t p = 0;
            for (int i = 0; i < fields && p != std::string::npos; ++i) {
                p = entry.find(' ', p);
                if (p != std::string::npos) {
                    ++p;
                }
            }
            if (p != std::string::npos) {
                state.dirty_files.push_back(entry.substr(p));
            }
            skip_next = entry[0] == '2';
        }
    }
    state.dirty = !state.dirty_files.empty();
    if (state.dirty && !state.commit.empty()) {
        read_git_diff(dir, state);
    }
    return state;
}

} // namespace roar::collector

// git state through the git command itself, so every repository layout
// git understands works. `git status --porcelain=v2 --branch` gives the
// commit, the branch and the modified tracked files; the remote comes from
// the repository's config file when that file states it plainly (see
// plain_origin_url), else from `git config`, run beside the status. git
// starts when the reader is made and runs while `roar run` prepares the
// job; it must have finished before the job starts because the job's
// supervisor reaps every child of this process. A directory with no
// `.git` above it (and no GIT_DIR or GIT_WORK_TREE naming one) is outside
// any work tree: git is then not started at all. Only when the tree is
// dirty does a further command, `git diff --binary HEAD`, record the
// uncommitted changes (bounded by k_max_recorded_diff) so `roar reproduce`
// can re-apply them.
#include "roar/collector/git_state.hpp"

#include "environment/text_files.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace roar::collector {

namespace {

using GitCall = GitStateReader::Call;

// Starts `git --no-optional-locks -C dir ARGS...` with its stdout on a
// pipe. Without optional locks `git status` does not write the refreshed
// index back: it never holds `index.lock`, so a git command the user runs
// at the same moment does not fail for roar's sake.
GitCall start_git(const std::string& dir, std::vector<std::string> args)
{
    args.insert(args.begin(), {"git", "--no-optional-locks", "-C", dir});
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

// Whether git reads configuration from more than the repository's files:
// `git -c` (GIT_CONFIG_PARAMETERS), GIT_CONFIG_COUNT/KEY/VALUE, another
// global or system file, or another repository directory.
bool config_from_environment()
{
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        if (entry.starts_with("GIT_CONFIG") || entry.starts_with("GIT_COMMON_DIR=")) {
            return true;
        }
    }
    return false;
}

// remote.origin.url from `root`/.git/config when that file settles it
// (plain_origin_url), read without starting git; nullopt: ask git.
std::optional<std::string> remote_from_config_file(const std::string& root)
{
    if (root.empty() || config_from_environment()) {
        return std::nullopt;
    }
    const std::string git_dir = (root == "/" ? std::string() : root) + "/.git";
    struct stat st;
    // A linked work tree or submodule (`.git` is a file) has its config
    // elsewhere; a per-worktree config (extensions.worktreeConfig) is read
    // after this one.
    if (lstat(git_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return std::nullopt;
    }
    if (lstat((git_dir + "/config.worktree").c_str(), &st) == 0 || errno != ENOENT) {
        return std::nullopt;
    }
    constexpr size_t k_limit = 1 << 20; // larger than any hand-kept config
    const auto text = text::read_file(git_dir + "/config", k_limit + 1);
    if (!text || text->size() > k_limit) {
        return std::nullopt;
    }
    return plain_origin_url(*text);
}

} // namespace

GitStateReader::GitStateReader(const std::string& dir) : m_dir(dir)
{
    if (!may_be_in_work_tree(dir, m_root)) {
        return;
    }
    m_started = true;
    m_status = start_git(dir, {"status", "--porcelain=v2", "--branch", "-z", "--untracked-files=no"});
    m_remote = remote_from_config_file(m_root);
    if (!m_remote) {
        m_remote_call = start_git(dir, {"config", "--get", "remote.origin.url"});
    }
}

GitStateReader::~GitStateReader()
{
    for (Call* call : {&m_status, &m_remote_call}) {
        if (call->pid >= 0) {
            close(call->out);
            while (waitpid(call->pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    }
}

std::optional<GitState> GitStateReader::finish()
{
    m_finished = true;
    if (!m_started) {
        return std::nullopt;
    }
    m_started = false;
    auto status = finish_git(std::exchange(m_status, {}));
    std::optional<std::string> remote = m_remote;
    if (!remote) {
        remote = finish_git(std::exchange(m_remote_call, {}));
    }
    if (!status) {
        return std::nullopt; // not a work tree, or no git
    }
    GitState state;
    state.root = m_root;
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
        read_git_diff(m_dir, state);
    }
    return state;
}

std::optional<GitState> read_git_state(const std::string& dir) { return GitStateReader(dir).finish(); }

namespace {

bool config_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim_config_space(std::string_view text)
{
    while (!text.empty() && config_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && config_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::string lower_ascii(std::string_view text)
{
    std::string out(text);
    for (char& c : out) {
        c = char(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// What a config line's section header names.
enum class Section { other, origin, unsure };

// `[name]` or `[name "subsection"]` at the start of `line`; `rest`
// receives what follows the `]`.
Section parse_section_header(std::string_view line, std::string_view& rest)
{
    size_t i = 1; // after '['
    const size_t name_start = i;
    while (i < line.size()
           && (std::isalnum(static_cast<unsigned char>(line[i])) != 0 || line[i] == '-' || line[i] == '.')) {
        ++i;
    }
    const std::string name = lower_ascii(line.substr(name_start, i - name_start));
    if (name.empty()) {
        return Section::unsure;
    }
    // An include may set the url; `[remote.origin]` is the old spelling.
    if (name == "include" || name == "includeif" || name.starts_with("remote.")) {
        return Section::unsure;
    }
    std::string_view subsection;
    bool has_subsection = false;
    if (i < line.size() && config_space(line[i])) {
        while (i < line.size() && config_space(line[i])) {
            ++i;
        }
        if (i >= line.size() || line[i] != '"') {
            return Section::unsure;
        }
        const size_t close = line.find('"', i + 1);
        if (close == std::string_view::npos) {
            return Section::unsure;
        }
        subsection = line.substr(i + 1, close - i - 1);
        if (subsection.find('\\') != std::string_view::npos) {
            return Section::unsure; // escapes in the name: let git read it
        }
        has_subsection = true;
        i = close + 1;
    }
    if (i >= line.size() || line[i] != ']') {
        return Section::unsure;
    }
    rest = line.substr(i + 1);
    return name == "remote" && has_subsection && subsection == "origin" ? Section::origin : Section::other;
}

} // namespace

std::optional<std::string> plain_origin_url(std::string_view config_text)
{
    if (config_text.starts_with("\xEF\xBB\xBF")) {
        return std::nullopt; // a byte-order mark: unusual enough to ask git
    }
    std::optional<std::string> url;
    bool in_origin = false;
    while (!config_text.empty()) {
        const size_t end = config_text.find('\n');
        std::string_view raw = config_text.substr(0, end);
        config_text.remove_prefix(end == std::string_view::npos ? config_text.size() : end + 1);
        if (!raw.empty() && raw.back() == '\r') {
            raw.remove_suffix(1);
        }
        // A backslash before the newline continues the value on the next
        // line, which then is no line of its own.
        if (!raw.empty() && raw.back() == '\\') {
            return std::nullopt;
        }
        std::string_view line = trim_config_space(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
            continue;
        }
        if (line.front() == '[') {
            std::string_view rest;
            const Section section = parse_section_header(line, rest);
            if (section == Section::unsure) {
                return std::nullopt;
            }
            rest = trim_config_space(rest);
            if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
                return std::nullopt; // a key on the header's line
            }
            in_origin = section == Section::origin;
            continue;
        }
        if (!in_origin) {
            continue;
        }
        size_t i = 0;
        while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) != 0 || line[i] == '-')) {
            ++i;
        }
        if (i == 0 || std::isalpha(static_cast<unsigned char>(line[0])) == 0) {
            return std::nullopt;
        }
        const std::string key = lower_ascii(line.substr(0, i));
        std::string_view after = trim_config_space(line.substr(i));
        if (key != "url") {
            continue;
        }
        if (after.empty() || after.front() != '=') {
            return std::nullopt; // `url` without a value
        }
        std::string_view value = after.substr(1);
        if (value.find_first_of("\"\\") != std::string_view::npos) {
            return std::nullopt; // quotes or escapes: git's own reading
        }
        value = trim_config_space(value.substr(0, value.find_first_of("#;")));
        for (const char c : value) {
            if (config_space(c)) {
                return std::nullopt; // inner spaces: git's own reading
            }
        }
        url = std::string(value);
    }
    return url;
}

} // namespace roar::collector

// The git state of the directory a job runs in: commit, branch, remote,
// and whether tracked files were modified (with their names).
#pragma once

#include "roar/collector/job_record.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace roar::collector {

// Reads the git state of `dir` in two halves, so that git runs while the
// caller prepares the job: the constructor starts git (nothing outside a
// work tree), finish() waits for it. finish() must come before anything
// reaps every child of this process (the job's launcher and tracer do);
// the destructor waits for a git that finish() was not called for.
class GitStateReader {
public:
    explicit GitStateReader(const std::string& dir);
    ~GitStateReader();
    GitStateReader(const GitStateReader&) = delete;
    GitStateReader& operator=(const GitStateReader&) = delete;

    // The state; nullopt outside a work tree, without git, or when called
    // a second time.
    std::optional<GitState> finish();
    // The directory it was made for, and whether finish() is still to come.
    const std::string& dir() const { return m_dir; }
    bool pending() const { return !m_finished; }

    struct Call {
        pid_t pid = -1;
        int out = -1;
    };

private:
    std::string m_dir;
    std::string m_root;
    bool m_started = false;
    bool m_finished = false;
    Call m_status;
    // The remote read from the repository's own config file, when that
    // file says it plainly; else `git config` was started (m_remote_call).
    std::optional<std::string> m_remote;
    Call m_remote_call;
};

// Runs git (if installed) in `dir`; nullopt outside a work tree.
std::optional<GitState> read_git_state(const std::string& dir);

// remote.origin.url as `git config --get` gives it, read from the
// repository config file `config_text` (`.git/config`) when the answer is
// certain from that file alone; nullopt when git must be asked: no url
// there (another config file may set one), an include, the old
// `[remote.origin]` form, or a value with quotes, escapes or spaces.
std::optional<std::string> plain_origin_url(std::string_view config_text);

} // namespace roar::collector

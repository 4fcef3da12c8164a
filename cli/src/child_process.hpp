// Running another program to completion from the CLI (git, and `roar run`
// for `roar reproduce --run`): in a given directory, with its output
// captured or passed through (or both, for stderr).
#pragma once

#include <string>
#include <vector>

namespace roar::cli {

struct ChildResult {
    int exit_code = -1; // 128 + signal when killed; -1 when it could not start
    std::string out;    // stdout (and stderr) when captured
};

// Runs `argv` (argv[0] looked up on PATH) in directory `cwd` ("" : here)
// and waits for it. With `capture`, its stdout and stderr are returned in
// `out`; otherwise they are this process's (stdout goes to stderr when
// `stdout_to_stderr`, so a JSON report on stdout stays clean).
ChildResult run_child(const std::vector<std::string>& argv, const std::string& cwd, bool capture,
                      bool stdout_to_stderr = false);

// run_child without capture, its stderr (and its stdout when
// `stdout_to_stderr`) passed on to this process's stderr as it comes, the
// last 4 KiB of it kept in `out` (to name why the child failed). Stops
// reading when the child has exited, even if a process it left behind
// still holds the pipe.
ChildResult run_child_keeping_stderr(const std::vector<std::string>& argv, const std::string& cwd,
                                     bool stdout_to_stderr);

} // namespace roar::cli

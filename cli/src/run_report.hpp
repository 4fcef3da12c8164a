// What `roar run` says after a job about what roar could not observe in
// it: processes the shim and tracer never entered (static, setuid, Go ...),
// events dropped and waits on a full ring, S3 traffic not routed or over
// TLS, files whose digest could not be taken or may not be of the bytes
// read. The notes come from the job's record (the same ones `roar show`
// prints); this groups them into one line per kind of gap.
#pragma once

#include "roar/collector/job_record.hpp"

#include <functional>
#include <string>
#include <vector>

namespace roar::cli {

// One line per gap in `job`'s record, grouped: unobserved processes by
// reason (with their programs and pids), file notes by note (with the
// paths, shown through `shown_path`), every other job note once. Empty
// when roar observed everything.
std::vector<std::string> unobserved_lines(const collector::JobRecord& job,
                                          const std::function<std::string(const std::string&)>& shown_path);

// "pid N PROGRAM" for the process `pid` of `processes`, naming the
// programs it ran when it called exec ("pid N sh>python3", exec_chain());
// "pid N" alone when the pid is not among them.
std::string process_label(const std::vector<collector::ProcessRecord>& processes, uint32_t pid);

} // namespace roar::cli

// Whether ptrace and seccomp filters work here at all, found out once per
// job by trying them on a throw-away child (a container without
// CAP_SYS_PTRACE, Yama's ptrace_scope 3, a seccomp policy forbidding
// ptrace or seccomp(2) itself): the answer decides between tracing and
// today's "not observed" notes, and its reason goes into the run report.
#pragma once

#include <linux/filter.h>

#include <string>

namespace roar::collector::tracer {

// The PTRACE_O_* options every tracee gets.
long tracee_options();

// Forks a child, seizes it with tracee_options(), lets it install the
// `len` instructions at `prog` and make one syscall the filter stops on.
// Must run on the thread that will trace (ptrace ties a tracee to a
// thread). Returns "" when the filter stop arrived, else why not, as a
// sentence for the run report.
std::string check_tracing_permitted(const sock_filter* prog, unsigned len);

} // namespace roar::collector::tracer

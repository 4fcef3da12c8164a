// The seam for S3 routing of traced programs (/work/wt/S3-ROUTING.md,
// issue 17): when a job's proxy is enabled, a traced process's connect to
// an S3 destination is to reach the job's roar-proxy instead, with a PROXY
// protocol v2 header (original destination, the job's secret, the pid)
// written on the socket before the tracee's first byte.
//
// Design (to implement once s3_route.h and proxy_header.h are on main):
//  - The filter stops on connect only when ROAR_S3_PROXY is set for the
//    job (roar_filter_build(..., ROAR_FILTER_CONNECT)): jobs without the
//    proxy pay nothing.
//  - At the connect entry stop, read the sockaddr (call.path, call.mode
//    bytes) and the socket's type (SO_TYPE through pidfd_getfd of the
//    tracee's fd); only SOCK_STREAM AF_INET/AF_INET6 to a destination
//    s3_route.h matches is routed (a traced Go program resolves names
//    itself, so only literal IP:port entries and names the tracee looked up
//    through a traced resolver can match; the proxy re-checks).
//  - Rewrite the sockaddr in the tracee's memory (or a scratch area below
//    its stack pointer, restored after) to the proxy's address, let the
//    connect complete (syscall-exit stop), then write the PROXY v2 header
//    on a duplicate of the socket obtained with pidfd_getfd before resuming:
//    the tracee's first write follows the header. A non-blocking connect
//    returns EINPROGRESS as it would have; the header is written once the
//    duplicate is writable (the tracer keeps the tracee stopped until then,
//    bounded).
//  - getpeername keeps the proxy's address (documented difference from the
//    shim, which can fake it).
// Until then connect is not stopped on and route_connect is not called.
#pragma once

#include "roar/collector/syscall_decoder.hpp"

#include <sys/types.h>

namespace roar::collector::tracer {

// What the tracer does with a connect `call` from thread `tid` of `pid`:
// true when the call was rewritten and the tracee must be stopped again at
// the syscall exit (to write the PROXY header). Currently never.
inline bool route_connect(pid_t pid, pid_t tid, const SyscallCall& call)
{
    (void)pid;
    (void)tid;
    (void)call;
    return false;
}

} // namespace roar::collector::tracer

// The tracer's seccomp-BPF program: which system calls stop a traced
// process and which run at full speed. Checked twice: by running the
// program on seccomp_data records (a small classic-BPF interpreter for the
// instructions it uses), and by installing it for real in a child with no
// tracer attached, where a stopping call fails with ENOSYS.
#include "roar/collector/syscall_filter.h"

#include <catch2/catch.hpp>

#include <cstring>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Runs `prog` on `data` and returns the filter's verdict.
uint32_t run_filter(const std::vector<sock_filter>& prog, const seccomp_data& data)
{
    const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
    uint32_t acc = 0;
    for (size_t pc = 0; pc < prog.size(); ++pc) {
        const sock_filter& ins = prog[pc];
        switch (ins.code) {
        case BPF_LD | BPF_W | BPF_ABS:
            REQUIRE(ins.k + 4 <= sizeof data);
            std::memcpy(&acc, bytes + ins.k, 4);
            break;
        case BPF_JMP | BPF_JEQ | BPF_K: pc += acc == ins.k ? ins.jt : ins.jf; break;
        case BPF_JMP | BPF_JGE | BPF_K: pc += acc >= ins.k ? ins.jt : ins.jf; break;
        case BPF_JMP | BPF_JSET | BPF_K: pc += (acc & ins.k) ? ins.jt : ins.jf; break;
        case BPF_JMP | BPF_JA: pc += ins.k; break;
        case BPF_RET | BPF_K: return ins.k;
        default: FAIL("instruction the interpreter does not know: " << ins.code);
        }
    }
    FAIL("the program ran off its end");
    return 0;
}

std::vector<sock_filter> build(unsigned flags = 0)
{
    std::vector<sock_filter> prog(ROAR_FILTER_MAX);
    const unsigned n = roar_filter_build(prog.data(), unsigned(prog.size()), flags);
    REQUIRE(n > 0);
    prog.resize(n);
    return prog;
}

seccomp_data call(int nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint32_t arch = AUDIT_ARCH_X86_64)
{
    seccomp_data d{};
    d.nr = nr;
    d.arch = arch;
    d.args[0] = a0;
    d.args[1] = a1;
    d.args[2] = a2;
    return d;
}

} // namespace

TEST_CASE("the filter stops on every file and process syscall the tracer reports", "[collector][tracer][filter]")
{
    const auto prog = build();
    for (int nr : roar_filter_syscalls) {
        INFO("syscall " << nr);
        CHECK(run_filter(prog, call(nr)) == SECCOMP_RET_TRACE);
    }
    CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, O_WRONLY)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(prog, call(SYS_open, 0, O_RDWR)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(prog, call(SYS_fcntl, 3, F_DUPFD)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(prog, call(SYS_fcntl, 3, F_DUPFD_CLOEXEC)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(prog, call(SYS_close, 3)) == SECCOMP_RET_TRACE);
}

TEST_CASE("everything else runs at full speed", "[collector][tracer][filter]")
{
    const auto prog = build();
    for (int nr :
         {SYS_read,   SYS_write,      SYS_pread64,    SYS_pwrite64,  SYS_mmap,         SYS_futex,     SYS_getpid,
          SYS_fstat,  SYS_newfstatat, SYS_epoll_wait, SYS_nanosleep, SYS_rt_sigaction, SYS_lseek,     SYS_getdents64,
          SYS_socket, SYS_connect,    SYS_sendto,     SYS_wait4,     SYS_exit,         SYS_readlinkat}) {
        INFO("syscall " << nr);
        CHECK(run_filter(prog, call(nr)) == SECCOMP_RET_ALLOW);
    }
    // In-kernel copies: their files are known through their opens, their
    // writes as write(2)'s are.
    CHECK(run_filter(prog, call(SYS_sendfile, 4, 3)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(SYS_copy_file_range, 3, 0, 4)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(SYS_splice, 3, 0, 4)) == SECCOMP_RET_ALLOW);
    // fcntl only stops when it duplicates an fd.
    CHECK(run_filter(prog, call(SYS_fcntl, 3, F_GETFL)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(SYS_fcntl, 3, F_SETFD, FD_CLOEXEC)) == SECCOMP_RET_ALLOW);
}

TEST_CASE("read-only opens run unstopped and opens that may change a file stop", "[collector][tracer][filter]")
{
    const auto prog = build();
    for (int flags : {O_RDONLY, O_RDONLY | O_CLOEXEC, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, O_PATH}) {
        INFO("flags " << flags);
        CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, uint64_t(flags))) == SECCOMP_RET_ALLOW);
        CHECK(run_filter(prog, call(SYS_open, 0, uint64_t(flags))) == SECCOMP_RET_ALLOW);
    }
    for (int flags : {O_WRONLY, O_RDWR, O_RDONLY | O_CREAT, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND, O_TMPFILE | O_RDWR,
                      O_ACCMODE}) {
        INFO("flags " << flags);
        CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, uint64_t(flags))) == SECCOMP_RET_TRACE);
        CHECK(run_filter(prog, call(SYS_open, 0, uint64_t(flags))) == SECCOMP_RET_TRACE);
    }
    // openat2's flags are in memory: it always stops.
    CHECK(run_filter(prog, call(SYS_openat2, AT_FDCWD, 0, 0)) == SECCOMP_RET_TRACE);
    // The decision reads each call's own flag argument, not the other's.
    CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, O_WRONLY, O_RDONLY)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(SYS_open, 0, O_RDONLY, O_WRONLY)) == SECCOMP_RET_ALLOW);
}

TEST_CASE("opens that create or replace a whole file run unstopped and other write opens stop",
          "[collector][tracer][filter]")
{
    const auto prog = build();
    for (int flags : {O_WRONLY | O_CREAT | O_TRUNC, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, O_WRONLY | O_CREAT | O_EXCL,
                      O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND}) {
        INFO("flags " << flags);
        CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, uint64_t(flags))) == SECCOMP_RET_ALLOW);
        CHECK(run_filter(prog, call(SYS_open, 0, uint64_t(flags))) == SECCOMP_RET_ALLOW);
    }
    // No O_CREAT (the file is expected to exist: its bytes may be the
    // job's input), no write access, or O_CREAT alone: a PRE_MODIFY stop.
    for (int flags : {O_WRONLY | O_TRUNC, O_RDWR | O_TRUNC, O_WRONLY | O_CREAT, O_RDWR | O_CREAT, O_WRONLY | O_EXCL,
                      O_RDONLY | O_CREAT | O_TRUNC, O_RDONLY | O_CREAT | O_EXCL, O_WRONLY | O_CREAT | O_APPEND}) {
        INFO("flags " << flags);
        CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, uint64_t(flags))) == SECCOMP_RET_TRACE);
        CHECK(run_filter(prog, call(SYS_open, 0, uint64_t(flags))) == SECCOMP_RET_TRACE);
    }
    // creat(2) is O_WRONLY | O_CREAT | O_TRUNC.
    CHECK(run_filter(prog, call(SYS_creat, 0, 0644)) == SECCOMP_RET_ALLOW);
    // roar's own bit does not change the other checks' outcome.
    CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, O_WRONLY | O_CREAT | O_TRUNC | ROAR_OPEN_OWN))
          == SECCOMP_RET_ALLOW);
}

TEST_CASE("roar's own opens inside a traced process pass unstopped", "[collector][tracer][filter]")
{
    const auto prog = build();
    CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, O_RDWR | O_CLOEXEC | ROAR_OPEN_OWN)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(SYS_openat, AT_FDCWD, 0, O_RDWR | O_CLOEXEC)) == SECCOMP_RET_TRACE);
    // The bit means nothing to open(2), whose flags are args[1]: it still stops.
    CHECK(run_filter(prog, call(SYS_open, 0, O_RDWR | ROAR_OPEN_OWN)) == SECCOMP_RET_TRACE);
    // Their closes carry ROAR_CLOSE_OWN above the 32-bit fd; every other close stops.
    CHECK(run_filter(prog, call(SYS_close, 7 | ROAR_CLOSE_OWN)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(SYS_close, 7)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(prog, call(SYS_close, 0xffffffffULL)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(prog, call(SYS_close, uint64_t(-1))) == SECCOMP_RET_TRACE); // close(-1), sign-extended
}

TEST_CASE("other syscall ABIs are never stopped on", "[collector][tracer][filter]")
{
    const auto prog = build();
    // i386 numbers: 5 is open, 11 execve there.
    CHECK(run_filter(prog, call(5, 0, 0, 0, AUDIT_ARCH_I386)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(11, 0, 0, 0, AUDIT_ARCH_I386)) == SECCOMP_RET_ALLOW);
    // x32 calls are x86_64 numbers with __X32_SYSCALL_BIT.
    CHECK(run_filter(prog, call(int(__X32_SYSCALL_BIT | SYS_openat))) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(prog, call(int(__X32_SYSCALL_BIT | 257))) == SECCOMP_RET_ALLOW);
}

TEST_CASE("connect and getpeername stop only when S3 routing asks for it", "[collector][tracer][filter]")
{
    CHECK(run_filter(build(), call(SYS_connect)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(build(), call(SYS_getpeername)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_connect)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_getpeername)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_getsockname)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_read)) == SECCOMP_RET_ALLOW);
    // The rest of the program is unchanged by the flag.
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_openat, AT_FDCWD, 0, O_WRONLY)) == SECCOMP_RET_TRACE);
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_openat, AT_FDCWD, 0, O_RDONLY)) == SECCOMP_RET_ALLOW);
    CHECK(run_filter(build(ROAR_FILTER_CONNECT), call(SYS_fcntl, 0, F_DUPFD)) == SECCOMP_RET_TRACE);
}

TEST_CASE("a buffer too small for the program gets nothing", "[collector][tracer][filter]")
{
    sock_filter prog[8];
    CHECK(roar_filter_build(prog, 8, 0) == 0);
    CHECK(roar_filter_install(prog, 0) == -ENOSYS);
}

TEST_CASE("installed for real, the filter stops exactly those calls (ENOSYS without a tracer)",
          "[collector][tracer][filter]")
{
    const auto prog = build();
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (roar_filter_install(prog.data(), unsigned(prog.size())) != 0) {
            _exit(10);
        }
        // Runs at full speed: works as usual.
        if (syscall(SYS_getpid) != getpid() || syscall(SYS_fcntl, 1, F_GETFL) < 0) {
            _exit(11);
        }
        const long read_only = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
        if (read_only < 0) {
            _exit(15);
        }
        // Would stop: with no tracer attached the kernel fails it with ENOSYS
        // (not EISDIR, which "/" opened for writing gives).
        errno = 0;
        if (syscall(SYS_openat, AT_FDCWD, "/", O_WRONLY) != -1 || errno != ENOSYS) {
            _exit(12);
        }
        errno = 0;
        if (syscall(SYS_dup, 1) != -1 || errno != ENOSYS) {
            _exit(13);
        }
        // Creating or replacing a whole file passes: "/" gives EISDIR.
        errno = 0;
        if (syscall(SYS_openat, AT_FDCWD, "/", O_WRONLY | O_CREAT | O_TRUNC, 0644) != -1 || errno != EISDIR) {
            _exit(18);
        }
        // roar's own open passes.
        errno = 0;
        if (syscall(SYS_close, read_only) != -1 || errno != ENOSYS) {
            _exit(16);
        }
        // roar's own close passes, and the kernel closes the fd it names.
        if (syscall(SYS_close, (unsigned long long)read_only | ROAR_CLOSE_OWN) != 0
            || fcntl((int)read_only, F_GETFD) != -1) {
            _exit(17);
        }
        errno = 0;
        const long fd = syscall(SYS_openat, AT_FDCWD, "/", O_WRONLY | ROAR_OPEN_OWN);
        _exit(fd == -1 && errno == EISDIR ? 0 : 14);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

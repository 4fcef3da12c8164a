// The shim's side of the ptrace tracer: when it asks the tracer to take a
// process (an exec of a static or Go program), how the request is marked,
// and what a shim that finds itself traced leaves to the tracer.
#include "fake_libc.hpp"

#include "roar/preload/trace_handoff.h"

#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

using namespace roar::preload::test;

namespace {

// A file the exec probe takes for a static x86_64 executable.
std::string static_elf()
{
    char templ[] = "/tmp/roar-handoff-XXXXXX";
    const int fd = mkstemp(templ);
    std::vector<unsigned char> out(512, 0);
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(out.data());
    std::memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 1;
    reinterpret_cast<Elf64_Phdr*>(out.data() + eh->e_phoff)->p_type = PT_LOAD;
    REQUIRE(write(fd, out.data(), out.size()) == ssize_t(out.size()));
    close(fd);
    return templ;
}

} // namespace

TEST_CASE("a static or Go target is handed over only when the job's tracer mode allows", "[preload][handoff]")
{
    ShimFixture f;
    f.header()->tracer_mode = ROAR_TRACER_OFF;
    CHECK_FALSE(roar_handoff_wanted(f.S, ROAR_EXEC_STATIC));
    f.header()->tracer_mode = ROAR_TRACER_AUTO;
    CHECK(roar_handoff_wanted(f.S, ROAR_EXEC_STATIC));
    CHECK(roar_handoff_wanted(f.S, ROAR_EXEC_GO));
    CHECK_FALSE(roar_handoff_wanted(f.S, 0));
    CHECK_FALSE(roar_handoff_wanted(f.S, ROAR_EXEC_NOT_ELF));
    // ptrace cannot follow a setuid program, and the filter does not decode 32-bit calls.
    CHECK_FALSE(roar_handoff_wanted(f.S, ROAR_EXEC_STATIC | ROAR_EXEC_SETID));
    CHECK_FALSE(roar_handoff_wanted(f.S, ROAR_EXEC_STATIC | ROAR_EXEC_FILECAPS));
    CHECK_FALSE(roar_handoff_wanted(f.S, ROAR_EXEC_STATIC | ROAR_EXEC_32BIT));
    // Already traced: nothing to ask.
    f.S->fs_by_tracer = 1;
    CHECK_FALSE(roar_handoff_wanted(f.S, ROAR_EXEC_STATIC));
}

TEST_CASE("the exec of a static program asks for the tracer on its EXEC, naming the thread", "[preload][handoff]")
{
    ShimFixture f;
    f.header()->tracer_mode = ROAR_TRACER_AUTO;
    f.header()->heartbeat_ns = 0; // no consumer: the sync point does not wait
    const std::string target = static_elf();
    char* argv[] = {(char*)"tool", nullptr};
    char* envp[] = {nullptr};
    roar_core_exec(&f.L, f.S, ROAR_K_EXECVE, ROAR_AT_FDCWD, target.c_str(), argv, envp, 0);
    unlink(target.c_str());
    auto ev = f.events_of(ROAR_OP_EXEC);
    REQUIRE(ev.size() == 1);
    CHECK((ev[0].h.flags & ROAR_EXEC_STATIC) != 0);
    CHECK((ev[0].h.flags & ROAR_EXEC_TRACE_REQUEST) != 0);
    CHECK(ev[0].h.mode == uint32_t(syscall(SYS_gettid)));

    f.header()->tracer_mode = ROAR_TRACER_OFF;
    roar_core_exec(&f.L, f.S, ROAR_K_EXECVE, ROAR_AT_FDCWD, "/bin/true", argv, envp, 0);
    ev = f.events_of(ROAR_OP_EXEC);
    REQUIRE(ev.size() == 2);
    CHECK((ev[1].h.flags & ROAR_EXEC_TRACE_REQUEST) == 0);
    CHECK(ev[1].h.mode == 0);
}

TEST_CASE("without the tracer attached, no filter goes in (its stops would fail with ENOSYS)", "[preload][handoff]")
{
    ShimFixture f;
    f.header()->heartbeat_ns = 0;
    f.header()->tracer_tid = 1; // some thread that is not our tracer
    CHECK_FALSE(roar_traced_by_roar(&f.S->ring));
    roar_handoff_complete(f.S, 0);
    // Still unfiltered: an open works.
    const long fd = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
    CHECK(fd >= 0);
    close(int(fd));
    f.header()->tracer_tid = 0;
    CHECK_FALSE(roar_traced_by_roar(&f.S->ring));
}

TEST_CASE("a shim the tracer follows leaves file syscalls to it and keeps the rest", "[preload][handoff]")
{
    ShimFixture f;
    f.S->fs_by_tracer = 1;
    CHECK(roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "data.csv", O_RDONLY, 0) == 7);
    CHECK(f.events_of(ROAR_OP_OPEN).empty());
    CHECK(roar_emit(f.S, ROAR_OP_RENAME, ROAR_AT_FDCWD, ROAR_AT_FDCWD, 0, 0, 0, "a", "b") == -1);
    CHECK(roar_emit(f.S, ROAR_OP_PRE_MODIFY, ROAR_AT_FDCWD, -1, 0, 0, 0, "a", nullptr) == -1);
    // Writes, in-kernel copies and process events are the shim's: the tracer
    // stops neither on write(2) nor on copy_file_range, sendfile or splice.
    CHECK(roar_emit(f.S, ROAR_OP_WRITE_FD, 7, -1, 0, 0, 0, nullptr, nullptr) >= 0);
    CHECK(roar_emit(f.S, ROAR_OP_TRANSFER, 7, 8, 0, 0, 100, nullptr, nullptr) >= 0);
    CHECK(roar_emit(f.S, ROAR_OP_PROC_EXIT, -1, -1, 0, 0, 0, nullptr, nullptr) >= 0);
    CHECK(roar_emit(f.S, ROAR_OP_FD_INHERITED, 1, -1, O_WRONLY, 0, 0, "/tmp/log", nullptr) >= 0);
    CHECK(f.header()->dropped == 0); // left out, not dropped
    for (uint16_t op : {ROAR_OP_OPEN, ROAR_OP_CLOSE, ROAR_OP_DUP, ROAR_OP_CHDIR, ROAR_OP_RENAME, ROAR_OP_LINK,
                        ROAR_OP_SYMLINK, ROAR_OP_UNLINK, ROAR_OP_TRUNCATE, ROAR_OP_MKDIR, ROAR_OP_PRE_MODIFY}) {
        CHECK(roar_op_from_tracer(op));
    }
    for (uint16_t op : {ROAR_OP_PROC_START, ROAR_OP_EXEC, ROAR_OP_SPAWN, ROAR_OP_FORK, ROAR_OP_WAIT, ROAR_OP_NOTE,
                        ROAR_OP_WRITE_FD, ROAR_OP_TRANSFER, ROAR_OP_FD_INHERITED, ROAR_OP_PROC_EXIT}) {
        CHECK_FALSE(roar_op_from_tracer(op));
    }
}

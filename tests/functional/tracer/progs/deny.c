/* Runs a command where the kernel refuses ptrace or seccomp, the way a
 * locked-down container does: `deny ptrace|seccomp CMD ARGS...` installs a
 * seccomp filter making ptrace(2) (or seccomp(2)) fail with EPERM, then
 * execs CMD. Everything else is allowed. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc < 3) {
        return 2;
    }
    const unsigned nr = strcmp(argv[1], "ptrace") == 0 ? SYS_ptrace : SYS_seccomp;
    struct sock_filter prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog fp = {sizeof prog / sizeof prog[0], prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) != 0) {
        return 3;
    }
    execvp(argv[2], argv + 2);
    return 127;
}

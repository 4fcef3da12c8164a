/* `clone_vm FILE`: starts a child with clone(CLONE_VM) (memory shared, not
 * a vfork) that creates FILE and returns; the parent waits for it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_stack[256 * 1024] __attribute__((aligned(16)));

static int child(void* arg)
{
    const int fd = open((const char*)arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return fd >= 0 && write(fd, "child\n", 6) == 6 && close(fd) == 0 ? 0 : 1;
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        return 2;
    }
    const pid_t pid = clone(child, g_stack + sizeof g_stack, CLONE_VM | SIGCHLD, argv[1]);
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && status == 0 ? 0 : 1;
}

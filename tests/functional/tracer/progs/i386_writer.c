/* A 32-bit program without libc (gcc -m32 -nostdlib -static): writes "x\n"
 * to the file named by its first argument with int 0x80 system calls,
 * which roar's tracer neither stops on nor decodes. */
static int sys3(int nr, int a, int b, int c)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

void start_c(int* sp)
{
    char** argv = (char**)(sp + 1);
    const int fd = sys3(5 /* open */, (int)argv[1], 01 | 0100 | 01000 /* O_WRONLY|O_CREAT|O_TRUNC */, 0644);
    const int n = sys3(4 /* write */, fd, (int)"x\n", 2);
    sys3(1 /* exit */, fd < 0 || n != 2, 0, 0);
}

__asm__(".globl _start\n_start:\n push %esp\n call start_c\n");

/* Benchmark harness: creates a job ring in /dev/shm, runs a command under
 * the shim while a thread drains the ring without looking at the records,
 * and prints the ring's counters. Measures the shim's own cost without a
 * collector's processing competing for the CPU.
 *
 *   ring_harness SHIM.so RING_MIB CMD ARGS... */
#include "roar/collector/event_ring.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int g_done;

/* Advances tail past committed records, like a collector that discards
 * everything; an uncommitted record is waited for. */
static void* drain(void* arg)
{
    struct roar_ring* r = arg;
    struct roar_ring_header* h = r->hdr;
    for (;;) {
        const uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
        uint64_t tail = h->tail;
        while (tail < head) {
            struct roar_event* ev = (struct roar_event*)(r->slots + (tail & (r->nslots - 1)) * ROAR_SLOT_SIZE);
            if (__atomic_load_n(&ev->stamp, __ATOMIC_ACQUIRE) != ROAR_STAMP(tail)) {
                break;
            }
            tail += ev->nslots;
            __atomic_store_n(&h->tail, tail, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&h->heartbeat_ns, roar_clock_ns(CLOCK_MONOTONIC), __ATOMIC_RELEASE);
        if (g_done && tail >= head) {
            return NULL;
        }
        usleep(1000);
    }
}

int main(int argc, char** argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ring_harness SHIM.so RING_MIB CMD ARGS...\n");
        return 2;
    }
    char name[64];
    snprintf(name, sizeof name, "/roar-harness-%d", (int)getpid());
    uint64_t nslots = 1024;
    while (nslots * ROAR_SLOT_SIZE < (uint64_t)atol(argv[2]) << 20) {
        nslots <<= 1;
    }
    const uint64_t bytes = roar_ring_bytes(nslots);
    char path[128];
    snprintf(path, sizeof path, "/dev/shm%s", name);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0) {
        perror("ring");
        return 2;
    }
    struct roar_ring_header* h = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    memset(h, 0, bytes); /* fault the pages in: a collector-drained ring is reused, not fresh */
    h->version = ROAR_RING_VERSION;
    h->slot_size = ROAR_SLOT_SIZE;
    h->nslots = nslots;
    h->sync_timeout_ms = 100;
    h->magic = ROAR_RING_MAGIC;
    struct roar_ring ring;
    roar_ring_view(&ring, h, bytes);
    pthread_t consumer;
    pthread_create(&consumer, NULL, drain, &ring);
    setenv("LD_PRELOAD", argv[1], 1);
    setenv(ROAR_ENV_RING, name, 1);
    setenv(ROAR_ENV_PRELOAD, argv[1], 1);
    setenv(ROAR_ENV_JOB, "harness", 1);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    g_done = 1;
    pthread_join(consumer, NULL);
    fprintf(stderr, "ring_harness: %llu slots used, %llu dropped, %llu truncated\n", (unsigned long long)h->head,
            (unsigned long long)h->dropped, (unsigned long long)h->truncated);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* thread_files N DIR: N threads at once, each creating, writing and
 * closing DIR/tN.txt (O_CREAT|O_TRUNC: opens the tracer does not stop on),
 * so that a thread's close and another thread's exit reach the tracer in
 * either order and an fd number is given to the next file at once. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* write_one(void* arg)
{
    const char* path = arg;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, path, strlen(path)) < 0 || close(fd) != 0) {
        perror(path);
        exit(1);
    }
    return NULL;
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: thread_files N DIR\n");
        return 2;
    }
    int n = atoi(argv[1]);
    if (n < 1 || n > 64) {
        return 2;
    }
    pthread_t threads[64];
    char names[64][4096];
    for (int i = 0; i < n; ++i) {
        snprintf(names[i], sizeof names[i], "%s/t%d.txt", argv[2], i);
        if (pthread_create(&threads[i], NULL, write_one, names[i]) != 0) {
            return 1;
        }
    }
    for (int i = 0; i < n; ++i) {
        pthread_join(threads[i], NULL);
    }
    return 0;
}

# Real-program matrix, process shapes: a multi-threaded writer (8 threads,
# 8 files), a fork-without-exec child, and a double-forked daemon-style
# grandchild that outlives its parent (the launcher is a subreaper).
. "$(dirname "$0")/preload_lib.bash"
need b3sum
new_project
cat >threads.c <<'C'
#include <pthread.h>
#include <stdio.h>
static void *work(void *arg) {
  char name[32];
  snprintf(name, sizeof name, "t%ld.out", (long)arg);
  FILE *f = fopen(name, "w");
  for (int i = 0; i < 1000; ++i) fprintf(f, "%ld %d\n", (long)arg, i);
  fclose(f);
  return NULL;
}
int main(void) {
  pthread_t t[8];
  for (long i = 0; i < 8; ++i) pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < 8; ++i) pthread_join(t[i], NULL);
  return 0;
}
C
gcc -O1 -pthread -o threads threads.c
job ./threads
for i in 0 1 2 3 4 5 6 7; do
  assert_io outputs t$i.out
done

cat >forker.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE *f = fopen("from-child.txt", "w");
    fputs("child\n", f);
    fclose(f);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  return 0;
}
C
gcc -O1 -o forker forker.c
job ./forker
assert_io outputs from-child.txt
assert_eq "$(jq '.processes | length' <<<"$JOB")" 2 "parent and fork child recorded"

cat >daemon.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void) {
  if (fork() != 0) return 0;      /* parent exits at once */
  setsid();
  if (fork() != 0) _exit(0);      /* the child exits too */
  sleep(1);                       /* the grandchild outlives both */
  FILE *f = fopen("from-daemon.txt", "w");
  fputs("daemon\n", f);
  fclose(f);
  return 0;
}
C
gcc -O1 -o daemon daemon.c
job ./daemon
assert_io outputs from-daemon.txt
echo ok

# Eight threads writing eight files at once: all opens, writes and closes
# are recorded, each under its own tid (the ring is multi-producer).
. "$(dirname "$0")/preload_lib.bash"
cat >threads.c <<'C'
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *work(void *arg) {
  char name[32];
  snprintf(name, sizeof name, "t%ld.out", (long)arg);
  for (int round = 0; round < 50; ++round) {
    int fd = open(name, O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (int i = 0; i < 20; ++i) write(fd, "0123456789\n", 11);
    close(fd);
  }
  return NULL;
}
int main(void) {
  pthread_t t[8];
  for (long i = 0; i < 8; ++i) pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < 8; ++i) pthread_join(t[i], NULL);
  return 0;
}
C
gcc -O1 -pthread -o "$TEST_TMP/threads" threads.c
trace "$TEST_TMP/threads"
assert_eq "$TRACE_RC" 0 "exit status"
assert_clean_ring
for i in 0 1 2 3 4 5 6 7; do
  assert_eq "$(wc -c <t$i.out)" 11000 "t$i.out size"
  assert_count ".op == \"open\" and .s1 == \"t$i.out\" and .result >= 0" 50 "opens of t$i.out"
done
assert_eq "$(qr '[.[] | select(.op == "open" and (.s1 | endswith(".out"))) | .tid] | unique | length')" 8 "eight writer tids"
assert_eq "$(qr '[.[] | select(.op == "write_fd")] | length')" 400 "one WRITE_FD per open"
echo ok

/* futex(2) directly: WAIT/WAKE, timeouts, bitsets, REQUEUE, CMP_REQUEUE, WAKE_OP,
 * shared futexes across fork, and interruption by signals. */
#define _GNU_SOURCE
#include "check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static long futex(uint32_t *a, int op, uint32_t val, const struct timespec *ts, uint32_t *a2, uint32_t val3) {
  return syscall(SYS_futex, a, op, val, ts, a2, val3);
}

static uint32_t fa, fb;
static atomic_int woke_a, woke_b, started;

struct wargs {
  uint32_t *addr;
  uint32_t bitset;
  atomic_int *count;
};

static void *waiter(void *p) {
  struct wargs *w = p;
  atomic_fetch_add(&started, 1);
  long r = futex(w->addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, w->bitset);
  if (r == 0) atomic_fetch_add(w->count, 1);
  return (void *)r;
}

/* Waits until n threads are parked on the futex (by trying to wake nobody is not
 * possible, so give them time after they announced themselves). */
static void settle(int n) {
  while (atomic_load(&started) < n) usleep(1000);
  usleep(200000);
}

static volatile int got_alarm;
static void on_alarm(int s) { (void)s; got_alarm = 1; }

int main(void) {
  alarm(60);
  uint32_t v = 1;
  CHECK("wait-value-mismatch-eagain", futex(&v, FUTEX_WAIT, 2, NULL, NULL, 0) == -1 && errno == EAGAIN, "no EAGAIN");
  struct timespec t20 = {0, 20 * 1000 * 1000};
  CHECK("wait-timeout", futex(&v, FUTEX_WAIT, 1, &t20, NULL, 0) == -1 && errno == ETIMEDOUT, "no ETIMEDOUT");
  CHECK("wake-nobody", futex(&v, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "not 0");
  CHECK("wait-misaligned-einval", futex((uint32_t *)((char *)&v + 1), FUTEX_WAIT, 1, NULL, NULL, 0) == -1 && errno == EINVAL, "no EINVAL");
  CHECK("wait-bad-timeout", futex(&v, FUTEX_WAIT, 1, &(struct timespec){0, -1}, NULL, 0) == -1 && errno == EINVAL, "no EINVAL");
  CHECK("bad-op-enosys", futex(&v, 99, 1, NULL, NULL, 0) == -1 && errno == ENOSYS, "no ENOSYS");
  CHECK("wait-bitset-zero-einval", futex(&v, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0) == -1 && errno == EINVAL, "no EINVAL");
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  now.tv_nsec += 20 * 1000 * 1000;
  if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
  CHECK("wait-bitset-absolute-timeout", futex(&v, FUTEX_WAIT_BITSET, 1, &now, NULL, FUTEX_BITSET_MATCH_ANY) == -1 && errno == ETIMEDOUT, "no ETIMEDOUT");
  struct timespec past = {1, 0};
  CHECK("wait-bitset-past-deadline", futex(&v, FUTEX_WAIT_BITSET, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY) == -1 && errno == ETIMEDOUT, "no ETIMEDOUT");

  pthread_t th[4];
  struct wargs wa = {&fa, FUTEX_BITSET_MATCH_ANY, &woke_a};
  for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, waiter, &wa);
  settle(3);
  CHECK("wake-one-of-three", futex(&fa, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) == 1, "not 1");
  CHECK("wake-rest", futex(&fa, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 0) == 2, "not 2");
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  CHECK("three-woken", atomic_load(&woke_a) == 3, "woken=%d", atomic_load(&woke_a));

  atomic_store(&started, 0);
  atomic_store(&woke_a, 0);
  struct wargs wb = {&fa, 1, &woke_a};
  pthread_create(&th[0], NULL, waiter, &wb);
  settle(1);
  CHECK("wake-bitset-no-match", futex(&fa, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 2) == 0, "woke");
  CHECK("wake-bitset-match", futex(&fa, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 1) == 1, "not woken");
  pthread_join(th[0], NULL);

  /* REQUEUE: wake one, move two to fb. */
  atomic_store(&started, 0);
  atomic_store(&woke_a, 0);
  for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, waiter, &wa);
  settle(3);
  CHECK("requeue-count", futex(&fa, FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)2L, &fb, 0) == 3, "not 3");
  usleep(10000);
  CHECK("requeue-moved-off-source", futex(&fa, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 0) == 0, "still on fa");
  CHECK("requeue-wake-target", futex(&fb, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 0) == 2, "not 2 on fb");
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  CHECK("requeued-all-woken", atomic_load(&woke_a) == 3, "woken=%d", atomic_load(&woke_a));

  fa = 5;
  CHECK("cmp-requeue-mismatch", futex(&fa, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1L, &fb, 4) == -1 && errno == EAGAIN, "no EAGAIN");
  CHECK("cmp-requeue-match-empty", futex(&fa, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1L, &fb, 5) == 0, "not 0");
  fa = 0;

  /* WAKE_OP: fb += 3; wake fa; wake fb if old fb == 0. */
  atomic_store(&started, 0);
  atomic_store(&woke_a, 0);
  atomic_store(&woke_b, 0);
  fb = 0;
  struct wargs wfb = {&fb, FUTEX_BITSET_MATCH_ANY, &woke_b};
  pthread_create(&th[0], NULL, waiter, &wa);
  pthread_create(&th[1], NULL, waiter, &wfb);
  settle(2);
  long r = futex(&fa, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1L, &fb, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 0));
  CHECK("wake-op-wakes-both", r == 2, "r=%ld", r);
  CHECK("wake-op-applies-op", fb == 3, "fb=%u", fb);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  r = futex(&fa, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1L, &fb, FUTEX_OP(FUTEX_OP_OR, 4, FUTEX_OP_CMP_GT, 100));
  CHECK("wake-op-or-no-cmp", r == 0 && fb == 7, "r=%ld fb=%u", r, fb);

  /* Shared futex between processes. */
  uint32_t *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  *sh = 0;
  pid_t p = fork();
  if (p == 0) {
    long w = syscall(SYS_futex, sh, FUTEX_WAIT, 0, NULL, NULL, 0);
    _exit(w == 0 || (w == -1 && errno == EAGAIN) ? 0 : 1);
  }
  usleep(30000);
  *sh = 1;
  long nw = syscall(SYS_futex, sh, FUTEX_WAKE, 1, NULL, NULL, 0);
  int st;
  waitpid(p, &st, 0);
  CHECK("shared-futex-across-fork", nw == 1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "woken=%ld status=%x", nw, st);

  /* Signals interrupt a wait: EINTR without SA_RESTART. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  ualarm(20000, 0);
  v = 1;
  r = futex(&v, FUTEX_WAIT, 1, NULL, NULL, 0);
  CHECK("wait-eintr", r == -1 && errno == EINTR && got_alarm, "r=%ld", r);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  got_alarm = 0;
  ualarm(20000, 0);
  struct timespec t200 = {0, 200 * 1000 * 1000};
  r = futex(&v, FUTEX_WAIT, 1, &t200, NULL, 0);
  CHECK("timed-wait-eintr-despite-sa-restart", r == -1 && errno == EINTR && got_alarm, "r=%ld", r);
  alarm(60);
  return 0;
}
